"""measurement month covering (issue 15): on PostgreSQL the measurement date index also carries the columns a
month's report reads, so a district's month is read from the index alone; SQLite keeps the plain date index (it
reads a month per child, services.reports._weighed_by_probe)

Revision ID: c15a4e6f8d02
Revises: c2f4a9e1d7b6
Create Date: 2026-12-02 21:35:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c15a4e6f8d02'
down_revision = 'c2f4a9e1d7b6'
branch_labels = None
depends_on = None

COLUMNS = ["id", "person_id", "weight_kg", "flagged", "ntob", "bgm", "two_t", "waz", "lhaz", "whz", "new_stunting",
           "age_days"]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index('ix_measurement_measured_on', table_name='measurement')
    op.create_index('ix_measurement_measured_on', 'measurement', ['measured_on'], unique=False,
                    postgresql_include=COLUMNS)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index('ix_measurement_measured_on', table_name='measurement')
    op.create_index('ix_measurement_measured_on', 'measurement', ['measured_on'], unique=False)
