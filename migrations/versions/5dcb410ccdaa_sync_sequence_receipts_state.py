"""sync: the server sequence, push receipts, a laptop's per-record sync state

Revision ID: 5dcb410ccdaa
Revises: c15a4e6f8d02
Create Date: 2026-12-02 20:46:53.708929

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5dcb410ccdaa'
down_revision = 'c15a4e6f8d02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_counter'))
    )
    op.bulk_insert(sa.table('sync_counter', sa.column('id', sa.Integer()), sa.column('value', sa.BigInteger())),
                   [{'id': 1, 'value': 0}])
    op.create_table('sync_meta',
    sa.Column('key', sa.String(length=30), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sync_meta'))
    )
    op.create_table('sync_row',
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('posyandu_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('entity', 'uuid', name=op.f('pk_sync_row')),
    sa.UniqueConstraint('seq', name=op.f('uq_sync_row_seq'))
    )
    with op.batch_alter_table('sync_row', schema=None) as batch_op:
        batch_op.create_index('ix_sync_row_posyandu_seq', ['posyandu_id', 'seq'], unique=False)

    op.create_table('sync_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('change_id', sa.String(length=36), nullable=False),
    sa.Column('base_seq', sa.BigInteger(), nullable=False),
    sa.Column('changed', sa.JSON(), nullable=True),
    sa.Column('device_time', sa.DateTime(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=True),
    sa.Column('message', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_state')),
    sa.UniqueConstraint('entity', 'uuid', name='uq_sync_state_entity_uuid')
    )
    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.create_index('ix_sync_state_state', ['state'], unique=False)

    op.create_table('sync_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('record_uuid', sa.String(length=36), nullable=False),
    sa.Column('server_uuid', sa.String(length=36), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('device_time', sa.String(length=32), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_sync_receipt_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_receipt')),
    sa.UniqueConstraint('change_id', name=op.f('uq_sync_receipt_change_id'))
    )
    with op.batch_alter_table('sync_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_receipt_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_receipt_record_uuid'), ['record_uuid'], unique=False)

    # Every record already there gets its number, so a laptop's first pull holds it.
    base = 0
    for entity, table, posyandu, join in (
            ("person", "person", "person.posyandu_id", ""),
            ("pregnancy", "pregnancy", "person.posyandu_id", "JOIN person ON person.id = pregnancy.person_id"),
            ("hari_buka", "hari_buka", "hari_buka.posyandu_id", ""),
            ("duty", "duty", "hari_buka.posyandu_id", "JOIN hari_buka ON hari_buka.id = duty.hari_buka_id"),
            ("visit", "visit", "hari_buka.posyandu_id", "JOIN hari_buka ON hari_buka.id = visit.hari_buka_id"),
            ("measurement", "measurement", "measurement.posyandu_id", ""),
            ("service", "service_record", "person.posyandu_id",
             "JOIN person ON person.id = service_record.person_id"),
            ("screening", "screening_record", "person.posyandu_id",
             "JOIN person ON person.id = screening_record.person_id")):
        op.execute(sa.text(
            f"INSERT INTO sync_row (entity, uuid, seq, posyandu_id) SELECT '{entity}', {table}.uuid, "
            f"{base} + ROW_NUMBER() OVER (ORDER BY {table}.id), {posyandu} FROM {table} {join}"))
        base = op.get_bind().scalar(sa.text("SELECT COALESCE(MAX(seq), 0) FROM sync_row"))
    op.execute(sa.text(f"UPDATE sync_counter SET value = {base} WHERE id = 1"))


def downgrade():
    with op.batch_alter_table('sync_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_receipt_record_uuid'))
        batch_op.drop_index(batch_op.f('ix_sync_receipt_device_id'))

    op.drop_table('sync_receipt')
    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_state_state')

    op.drop_table('sync_state')
    with op.batch_alter_table('sync_row', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_row_posyandu_seq')

    op.drop_table('sync_row')
    op.drop_table('sync_meta')
    op.drop_table('sync_counter')
