"""sync: on PostgreSQL the server sequence is a SEQUENCE (owned by sync_row.seq) taken under a shared advisory lock
at commit, instead of one counter row every commit updated (docs/sync.md, "The server sequence")

Revision ID: a7c4e2b9d051
Revises: 45c27b743e8c
Create Date: 2026-12-03 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e2b9d051'
down_revision = '45c27b743e8c'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has one writer at a time: its counter row serialises nothing more
    top = op.get_bind().execute(sa.text(
        "SELECT GREATEST((SELECT COALESCE(MAX(value), 0) FROM sync_counter), "
        "(SELECT COALESCE(MAX(seq), 0) FROM sync_row))")).scalar()
    op.execute(sa.text(f"CREATE SEQUENCE sync_seq AS bigint START WITH {int(top) + 1} OWNED BY sync_row.seq"))


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text("UPDATE sync_counter SET value = (SELECT COALESCE(MAX(seq), 0) FROM sync_row) WHERE id = 1"))
    op.execute(sa.text("DROP SEQUENCE sync_seq"))
