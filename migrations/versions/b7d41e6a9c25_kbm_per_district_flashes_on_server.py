"""KBM versions belong to a district (NULL: installation-wide, not editable from a district); flash messages
of a logged-in user wait on her server-side session instead of the cookie

Revision ID: b7d41e6a9c25
Revises: b7e2c41d9a05
Create Date: 2026-12-01 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41e6a9c25'
down_revision = 'b7e2c41d9a05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kbm_table', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_kbm_table_district_id'), ['district_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_kbm_table_district_id_district'), 'district', ['district_id'], ['id'])
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flashes', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_column('flashes')
    with op.batch_alter_table('kbm_table', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_kbm_table_district_id_district'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_kbm_table_district_id'))
        batch_op.drop_column('district_id')
