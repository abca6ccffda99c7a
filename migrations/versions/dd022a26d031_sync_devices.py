"""sync: the laptops a district registers (device, enrolment code, credential)

Revision ID: dd022a26d031
Revises: e8c2a7d41f90
Create Date: 2026-12-02 20:39:52.360222

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dd022a26d031'
down_revision = 'e8c2a7d41f90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('posyandu_id', sa.Integer(), nullable=True),
    sa.Column('kelurahan_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', sa.DateTime(), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_device_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_device_district_id_district')),
    sa.ForeignKeyConstraint(['kelurahan_id'], ['kelurahan.id'], name=op.f('fk_device_kelurahan_id_kelurahan')),
    sa.ForeignKeyConstraint(['posyandu_id'], ['posyandu.id'], name=op.f('fk_device_posyandu_id_posyandu')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_device_code_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_device_token_hash')),
    sa.UniqueConstraint('uuid', name=op.f('uq_device_uuid'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_district_id'), ['district_id'], unique=False)



def downgrade():
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_district_id'))

    op.drop_table('device')
