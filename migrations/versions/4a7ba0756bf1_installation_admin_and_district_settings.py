"""installation admin and district settings

Revision ID: 4a7ba0756bf1
Revises: 341f91db46ed
Create Date: 2026-12-02 15:47:41.962794

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a7ba0756bf1'
down_revision = '341f91db46ed'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('government_name', sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column('place_name', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('trained_target_pct', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stratum_rule', sa.Text(), nullable=True))
    # The installation admin belongs to no district.
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('district_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM auth_session WHERE user_id IN (SELECT id FROM user_account WHERE district_id IS NULL)")
    op.execute("DELETE FROM user_account WHERE district_id IS NULL")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('district_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_column('stratum_rule')
        batch_op.drop_column('trained_target_pct')
        batch_op.drop_column('place_name')
        batch_op.drop_column('government_name')
