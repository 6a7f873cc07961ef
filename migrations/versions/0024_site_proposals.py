"""Site proposals: plots a lead's city proposes, as a bilingual PDF on the lead

Revision ID: 0024_site_proposals
Revises: 0023_park_media
Create Date: 2026-12-03 18:45:00

"""
from alembic import op
import sqlalchemy as sa

import app.types


revision = '0024_site_proposals'
down_revision = '0023_park_media'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'site_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('plot_ids', sa.JSON(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('costs', sa.JSON(), nullable=False),
        sa.Column('note', sa.String(length=2000), nullable=False),
        sa.Column('sent_by_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('opened_at', app.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('visited_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['document_id'], ['lead_documents.id'], name=op.f('fk_site_proposals_document_id_lead_documents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_site_proposals_lead_id_leads'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_site_proposals_sent_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_proposals')),
        sa.UniqueConstraint('document_id', name=op.f('uq_site_proposals_document_id')),
    )
    with op.batch_alter_table('site_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_proposals_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_proposals_sent_at'), ['sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('site_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_proposals_sent_at'))
        batch_op.drop_index(batch_op.f('ix_site_proposals_lead_id'))
    op.drop_table('site_proposals')
