"""month figures: the small sections of an approved month's snapshot (report figures, trend, kader), kept apart so
a report over a whole district reads them without parsing every snapshot's lists and e-PPGBM rows

Revision ID: d3a9f0c1b2e4
Revises: 341f91db46ed
Create Date: 2026-12-02 16:08:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3a9f0c1b2e4'
down_revision = '341f91db46ed'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posyandu_month', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('posyandu_month', schema=None) as batch_op:
        batch_op.drop_column('figures')
