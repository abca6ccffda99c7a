"""BPJS Ketenagakerjaan for kader: enrolled since, address, district premium rates

Revision ID: b4e2d3f5a6c7
Revises: a3f1c2d4e5b6
Create Date: 2026-12-02 16:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4e2d3f5a6c7'
down_revision = 'a3f1c2d4e5b6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bpjs_income', sa.Integer(), server_default='1000000', nullable=False))
        batch_op.add_column(sa.Column('bpjs_jkk_bp', sa.Integer(), server_default='100', nullable=False))
        batch_op.add_column(sa.Column('bpjs_jkm', sa.Integer(), server_default='6800', nullable=False))

    with op.batch_alter_table('kader', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('bpjs_tk_since', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('kader', schema=None) as batch_op:
        batch_op.drop_column('bpjs_tk_since')
        batch_op.drop_column('address')

    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_column('bpjs_jkm')
        batch_op.drop_column('bpjs_jkk_bp')
        batch_op.drop_column('bpjs_income')
