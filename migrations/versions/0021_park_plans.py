"""A park's master plan and its plots' outlines on it

Revision ID: 0021_park_plans
Revises: 0020_notifications_bilingual
Create Date: 2026-12-03 14:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021_park_plans'
down_revision = '0020_notifications_bilingual'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('parks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('plan_mime', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('plan_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('plan_height', sa.Integer(), nullable=True))
    with op.batch_alter_table('plots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outline', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('plots', schema=None) as batch_op:
        batch_op.drop_column('outline')
    with op.batch_alter_table('parks', schema=None) as batch_op:
        batch_op.drop_column('plan_height')
        batch_op.drop_column('plan_width')
        batch_op.drop_column('plan_mime')
        batch_op.drop_column('plan_sha256')
