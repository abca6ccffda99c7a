"""Posyandu as an institution: the SPM fields it serves, its verification and validation, a registration target

Revision ID: a3f1c2d4e5b6
Revises: 4a7ba0756bf1
Create Date: 2026-12-02 15:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f1c2d4e5b6'
down_revision = '4a7ba0756bf1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_target', sa.Date(), nullable=True))

    with op.batch_alter_table('posyandu', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spm_fields', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('review_status', sa.String(length=15), server_default='baru', nullable=False))
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('validated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('validated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('returned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('returned_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('return_reason', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('posyandu', schema=None) as batch_op:
        for name in ('return_reason', 'returned_by_id', 'returned_at', 'validated_by_id', 'validated_at',
                     'verified_by_id', 'verified_at', 'review_status', 'spm_fields'):
            batch_op.drop_column(name)

    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_column('registration_target')
