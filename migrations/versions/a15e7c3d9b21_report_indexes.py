"""report indexes (issue 15): a covering index of a person's roll figures for the district report and the home
page; vitamin A by kind and date; pregnancies by HPHT; each child's weighings (partial: with a weight) and the
rows marking new stunting, for SQLite's per-child reading of a month

Revision ID: a15e7c3d9b21
Revises: b51c0e7d2a93
Create Date: 2026-12-02 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a15e7c3d9b21'
down_revision = 'b51c0e7d2a93'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_person_roll', 'person',
                    ['posyandu_id', 'birth_date', 'left_on', 'deleted_at', 'sex', 'has_kia_book'], unique=False)
    op.create_index('ix_service_record_kind_date', 'service_record', ['kind', 'given_on'], unique=False)
    op.create_index('ix_pregnancy_hpht', 'pregnancy', ['hpht'], unique=False)
    op.create_index('ix_measurement_weighed', 'measurement', ['person_id', 'measured_on'], unique=False,
                    sqlite_where=sa.text('weight_kg IS NOT NULL'), postgresql_where=sa.text('weight_kg IS NOT NULL'))
    op.create_index('ix_measurement_new_stunting', 'measurement', ['person_id', 'measured_on'], unique=False,
                    sqlite_where=sa.text('weight_kg IS NOT NULL AND new_stunting = 1 AND flagged = 0'),
                    postgresql_where=sa.text('weight_kg IS NOT NULL AND new_stunting AND NOT flagged'))


def downgrade():
    op.drop_index('ix_measurement_new_stunting', table_name='measurement')
    op.drop_index('ix_measurement_weighed', table_name='measurement')
    op.drop_index('ix_pregnancy_hpht', table_name='pregnancy')
    op.drop_index('ix_service_record_kind_date', table_name='service_record')
    op.drop_index('ix_person_roll', table_name='person')
