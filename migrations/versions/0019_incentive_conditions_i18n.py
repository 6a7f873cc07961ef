"""An incentive's conditions in both languages

Revision ID: 0019_incentive_conditions_i18n
Revises: 0018_fair_invitations
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019_incentive_conditions_i18n'
down_revision = '0018_fair_invitations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('park_incentives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conditions_zh', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('conditions_en', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('park_incentives', schema=None) as batch_op:
        batch_op.drop_column('conditions_en')
        batch_op.drop_column('conditions_zh')
