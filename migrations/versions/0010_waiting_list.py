"""Waiting list: registrations get a status and a waiting-list order; fairs say whether they keep a list

Existing rows: withdrawn ones (withdrawn_at set) become `withdrawn`, all others `registered`,
including those the old live room made for people who joined without registering (they cannot be
told apart from real registrations afterwards, so they keep their place).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:08:31.034861

"""
from alembic import op
import sqlalchemy as sa

import app.types


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fairs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlist', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), server_default='registered', nullable=False))
        batch_op.add_column(sa.Column('waitlisted_at', app.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_registrations_status'), ['status'], unique=False)

    registrations = sa.table('registrations', sa.column('status', sa.String), sa.column('withdrawn_at'))
    op.execute(registrations.update().where(registrations.c.withdrawn_at.is_not(None)).values(status='withdrawn'))
    op.execute(registrations.update().where(registrations.c.withdrawn_at.is_(None)).values(status='registered'))


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_status'))
        batch_op.drop_column('waitlisted_at')
        batch_op.drop_column('status')

    with op.batch_alter_table('fairs', schema=None) as batch_op:
        batch_op.drop_column('waitlist')
