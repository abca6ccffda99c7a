"""month figures: the small sections of an approved month's snapshot (report figures, trend, kader), kept apart so
a report over a whole district reads them without parsing every snapshot's lists and e-PPGBM rows

Revision ID: d3a9f0c1b2e4
Revises: 5e0c8d1f7a42
Create Date: 2026-12-02 16:08:00

"""
import json

from alembic import op
import sqlalchemy as sa

FIGURES = ("report", "trend", "kader")  # services.month_snapshot.FIGURES when this was written


# revision identifiers, used by Alembic.
revision = 'd3a9f0c1b2e4'
down_revision = '5e0c8d1f7a42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posyandu_month', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures', sa.JSON(), nullable=True))
    # Months approved before: their figures from their snapshots (a section the older format lacks stays absent,
    # and its readers count that Posyandu live).
    conn = op.get_bind()
    for row_id, snapshot in conn.execute(sa.text("SELECT id, snapshot FROM posyandu_month "
                                                 "WHERE snapshot IS NOT NULL")).all():
        data = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
        figures = {k: data[k] for k in FIGURES if k in data}
        conn.execute(sa.text("UPDATE posyandu_month SET figures = :f WHERE id = :i"),
                     {"f": json.dumps(figures), "i": row_id})


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of posyandu_month breaks the month-lock triggers of the
    # session tables, which name it.
    op.drop_column('posyandu_month', 'figures')
