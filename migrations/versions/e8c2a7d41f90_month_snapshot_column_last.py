"""month snapshot column last: SQLite reads a row's columns in order, through the overflow pages of a large value,
so the whole snapshot (lists, e-PPGBM rows) stored before `figures` made every figures read walk it. The snapshot
moves to the end of the row (copied into a new column); PostgreSQL keeps large values out of line anyway

Revision ID: e8c2a7d41f90
Revises: d3a9f0c1b2e4
Create Date: 2026-12-02 16:58:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8c2a7d41f90'
down_revision = 'd3a9f0c1b2e4'
branch_labels = None
depends_on = None


def _move_last(column: str):
    """SQLite's own ALTER TABLE (3.35+: DROP COLUMN), not a batch copy of the table: other tables and the lock's
    triggers refer to posyandu_month."""
    op.execute(f"ALTER TABLE posyandu_month ADD COLUMN {column}_moved JSON")
    op.execute(f"UPDATE posyandu_month SET {column}_moved = {column}")
    op.execute(f"ALTER TABLE posyandu_month DROP COLUMN {column}")
    op.execute(f"ALTER TABLE posyandu_month RENAME COLUMN {column}_moved TO {column}")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _move_last("snapshot")


def downgrade():
    pass  # the order of columns is no part of the schema
