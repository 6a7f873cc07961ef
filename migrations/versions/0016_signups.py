"""Self sign-up: requests for an attendee account, confirmed by mail and decided by organisers

Revision ID: 0016_signups
Revises: 0015_parks
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.types


# revision identifiers, used by Alembic.
revision = '0016_signups'
down_revision = '0015_parks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signup_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('organisation_kind', sa.String(length=20), nullable=True),
    sa.Column('division_code', sa.String(length=6), nullable=True),
    sa.Column('fair_id', sa.Integer(), nullable=True),
    sa.Column('confirm_hash', sa.String(length=64), nullable=True),
    sa.Column('confirm_expires_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.String(length=1000), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('registration', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_signup_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['division_code'], ['divisions.code'], name=op.f('fk_signup_requests_division_code_divisions')),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_signup_requests_fair_id_fairs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_signup_requests_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signup_requests_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signup_requests')),
    sa.UniqueConstraint('confirm_hash', name=op.f('uq_signup_requests_confirm_hash'))
    )
    with op.batch_alter_table('signup_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signup_requests_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_signup_requests_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('signup_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signup_requests_status'))
        batch_op.drop_index(batch_op.f('ix_signup_requests_email'))
    op.drop_table('signup_requests')
