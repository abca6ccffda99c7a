"""home count stamps (issue 15): the newest updated_at of person and pregnancy by index, so the home page's
counts are computed again only when one of them changed

Revision ID: b15f2d8e4c63
Revises: a15e7c3d9b21
Create Date: 2026-12-02 21:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b15f2d8e4c63'
down_revision = 'a15e7c3d9b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_person_updated_at', 'person', ['updated_at'], unique=False)
    op.create_index('ix_pregnancy_updated_at', 'pregnancy', ['updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_pregnancy_updated_at', table_name='pregnancy')
    op.drop_index('ix_person_updated_at', table_name='person')
