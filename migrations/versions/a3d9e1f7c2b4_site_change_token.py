"""site change token (issue 15): one random token, new with every commit that changes what pages show besides the
Posyandu's own records, so an everyday page is answered again while neither it nor its Posyandu's tokens changed

Revision ID: a3d9e1f7c2b4
Revises: f2c8a1d5e7b3
Create Date: 2026-12-03 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3d9e1f7c2b4'
down_revision = 'f2c8a1d5e7b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('site_change',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('token', sa.String(length=32), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_change')))
    random = ("md5(random()::text || clock_timestamp()::text)"
              if op.get_bind().dialect.name == "postgresql" else "lower(hex(randomblob(16)))")
    op.execute(f"INSERT INTO site_change (id, token) SELECT 1, {random}")


def downgrade():
    op.drop_table('site_change')
