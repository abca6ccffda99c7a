"""visit month covering (issue 15): a month's ILP visits read from the month's hari buka with the visit's person
and group from the index alone

Revision ID: d15b7a9c3e14
Revises: d3056dce2fcc
Create Date: 2026-12-02 21:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd15b7a9c3e14'
down_revision = 'd3056dce2fcc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_visit_hari_buka_person', 'visit', ['hari_buka_id', 'person_id', 'group'], unique=False)


def downgrade():
    op.drop_index('ix_visit_hari_buka_person', table_name='visit')
