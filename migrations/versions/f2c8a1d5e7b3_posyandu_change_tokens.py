"""posyandu change tokens (issue 15): a random token per Posyandu, new with every commit that changes one of its
records, so the open month's figures computed from the live tables are kept while the token stays; the home
page's counts use them too, so the updated_at indexes of its former stamp go

Revision ID: f2c8a1d5e7b3
Revises: e15b7d2c4a10
Create Date: 2026-12-03 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2c8a1d5e7b3'
down_revision = 'e15b7d2c4a10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('posyandu_change',
                    sa.Column('posyandu_id', sa.Integer(), nullable=False),
                    sa.Column('token', sa.String(length=32), nullable=False),
                    sa.ForeignKeyConstraint(['posyandu_id'], ['posyandu.id'],
                                            name=op.f('fk_posyandu_change_posyandu_id_posyandu'), ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('posyandu_id', name=op.f('pk_posyandu_change')))
    # every Posyandu already there starts with a token of its own (random, like every later one)
    random = ("md5(random()::text || clock_timestamp()::text || id::text)"
              if op.get_bind().dialect.name == "postgresql" else "lower(hex(randomblob(16)))")
    op.execute(f"INSERT INTO posyandu_change (posyandu_id, token) SELECT id, {random} FROM posyandu")
    op.drop_index('ix_pregnancy_updated_at', table_name='pregnancy')
    op.drop_index('ix_person_updated_at', table_name='person')


def downgrade():
    op.create_index('ix_person_updated_at', 'person', ['updated_at'], unique=False)
    op.create_index('ix_pregnancy_updated_at', 'pregnancy', ['updated_at'], unique=False)
    op.drop_table('posyandu_change')
