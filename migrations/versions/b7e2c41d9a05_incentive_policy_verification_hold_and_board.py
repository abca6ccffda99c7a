"""incentive policy: whether an unverified kader record is held or paid, and what board-only roles are paid

Revision ID: b7e2c41d9a05
Revises: 3ac7649b6396
Create Date: 2026-12-01 03:40:00.000000

Existing policies keep paying unverified records (their batches were made that way) and pay board-only roles
nothing, as the issue asks ("not as kader by default"); a district changes either with a new policy.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2c41d9a05'
down_revision = '3ac7649b6396'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incentive_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_unverified', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('board_amount', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('incentive_policy', schema=None) as batch_op:
        batch_op.drop_column('board_amount')
        batch_op.drop_column('hold_unverified')
