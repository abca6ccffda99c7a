"""district certificate texts: each district's own wording and signers of its certificates

Revision ID: b51c0e7d2a93
Revises: dd022a26d031
Create Date: 2026-12-02 20:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b51c0e7d2a93'
down_revision = 'dd022a26d031'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER TABLE: a batch copy of district fails under SQLite's foreign keys once rows refer to it.
    op.add_column('district', sa.Column('certificate_texts', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('district', 'certificate_texts')
