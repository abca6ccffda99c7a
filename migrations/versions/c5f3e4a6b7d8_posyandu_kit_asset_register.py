"""the Posyandu's kit: asset register

Revision ID: c5f3e4a6b7d8
Revises: b4e2d3f5a6c7
Create Date: 2026-12-02 16:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5f3e4a6b7d8'
down_revision = 'b4e2d3f5a6c7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('posyandu_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('condition', sa.String(length=12), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=True),
    sa.Column('check_months', sa.Integer(), nullable=True),
    sa.Column('notes', sa.String(length=300), nullable=True),
    sa.Column('retired_on', sa.Date(), nullable=True),
    sa.Column('retired_reason', sa.String(length=200), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['posyandu_id'], ['posyandu.id'], name=op.f('fk_asset_posyandu_id_posyandu')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset')),
    sa.UniqueConstraint('uuid', name=op.f('uq_asset_uuid'))
    )
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_posyandu_id'), ['posyandu_id'], unique=False)


def downgrade():
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_posyandu_id'))

    op.drop_table('asset')
