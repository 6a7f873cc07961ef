"""Notifications that fold a burst into one row: `fold_key` (unique per person) and `fold_count`

Revision ID: 0022_notification_folding
Revises: 0021_park_plans
Create Date: 2026-12-03 18:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022_notification_folding'
down_revision = '0021_park_plans'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fold_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('fold_count', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_notifications_user_fold', ['user_id', 'fold_key'])


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notifications_user_fold', type_='unique')
        batch_op.drop_column('fold_count')
        batch_op.drop_column('fold_key')
