"""sync: the Posyandu of the person a record belongs to, when it is not the record's own (a visit made at another
Posyandu, the history of a person who moved in): that Posyandu's laptops pull it too

Revision ID: a7c9e2b4d6f8
Revises: d15b7a9c3e14
Create Date: 2026-12-03 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e2b4d6f8'
down_revision = 'd15b7a9c3e14'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('also_posyandu_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_sync_row_also_posyandu_seq', ['also_posyandu_id', 'seq'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_row', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_row_also_posyandu_seq')
        batch_op.drop_column('also_posyandu_id')
