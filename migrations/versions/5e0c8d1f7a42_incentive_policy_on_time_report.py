"""incentive policy: "laporan tepat waktu" as a performance condition (issue 13)

Revision ID: 5e0c8d1f7a42
Revises: c5f3e4a6b7d8
Create Date: 2026-12-02 15:50:00.000000

Existing policies do not require it (their batches were made without it); a district adds it with a new policy.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0c8d1f7a42'
down_revision = 'c5f3e4a6b7d8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incentive_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_time_required', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('on_time_cut_kind', sa.String(length=7), server_default='percent',
                                      nullable=False))
        batch_op.add_column(sa.Column('on_time_cut_value', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('on_time_cut_reason', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('incentive_policy', schema=None) as batch_op:
        batch_op.drop_column('on_time_cut_reason')
        batch_op.drop_column('on_time_cut_value')
        batch_op.drop_column('on_time_cut_kind')
        batch_op.drop_column('on_time_required')
