"""sync: the device whose push made a record's version (its own pull skips it)

Revision ID: d3056dce2fcc
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 21:34:46.895883

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3056dce2fcc'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_device_id', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('sync_row', schema=None) as batch_op:
        batch_op.drop_column('origin_device_id')

