"""Invitations to a fair sent from a session's suggested invitees (sent / opened / registered)

Revision ID: 0018_fair_invitations
Revises: 0017_tracks_bilingual
Create Date: 2026-12-03 14:05:00

"""
from alembic import op
import sqlalchemy as sa

import app.types


# revision identifiers, used by Alembic.
revision = '0018_fair_invitations'
down_revision = '0017_tracks_bilingual'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fair_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fair_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('opened_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mail_message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_fair_invitations_fair_id_fairs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['fair_sessions.id'], name=op.f('fk_fair_invitations_session_id_fair_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_fair_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_fair_invitations_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_fair_invitations_sent_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mail_message_id'], ['mail_messages.id'], name=op.f('fk_fair_invitations_mail_message_id_mail_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fair_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_fair_invitations_token_hash'))
    )
    with op.batch_alter_table('fair_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fair_invitations_fair_id'), ['fair_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fair_invitations_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fair_invitations_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('fair_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fair_invitations_user_id'))
        batch_op.drop_index(batch_op.f('ix_fair_invitations_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_fair_invitations_fair_id'))
    op.drop_table('fair_invitations')
