"""Invitations point to the outbox row of their mail (queued, sent or failed is read from there)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 19:01:19.837306

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_message_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_account_tokens_mail_message_id_mail_messages'), 'mail_messages', ['mail_message_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_account_tokens_mail_message_id_mail_messages'), type_='foreignkey')
        batch_op.drop_column('mail_message_id')
