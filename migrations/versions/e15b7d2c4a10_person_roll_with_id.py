"""person roll index with the id (issue 15): on PostgreSQL ix_person_roll also carries the person's id, so the
count of an ILP registered list (whose pregnancy tests need the id) is read from the index alone; SQLite's indexes
carry the rowid (the id) already

Revision ID: e15b7d2c4a10
Revises: a7c4e2b9d051
Create Date: 2026-12-03 12:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e15b7d2c4a10'
down_revision = 'a7c4e2b9d051'
branch_labels = None
depends_on = None

COLUMNS = ['posyandu_id', 'birth_date', 'left_on', 'deleted_at', 'sex', 'has_kia_book']


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index('ix_person_roll', table_name='person')
    op.create_index('ix_person_roll', 'person', COLUMNS, unique=False, postgresql_include=['id'])


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index('ix_person_roll', table_name='person')
    op.create_index('ix_person_roll', 'person', COLUMNS, unique=False)
