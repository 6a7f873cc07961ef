"""A park's photos and its video tour

Revision ID: 0023_park_media
Revises: 0022_notification_folding
Create Date: 2026-12-03 18:45:00

"""
from alembic import op
import sqlalchemy as sa

import app.types


revision = '0023_park_media'
down_revision = '0022_notification_folding'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'park_media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('park_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('mime', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('caption', sa.String(length=200), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_park_media_park_id_parks'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_park_media_uploaded_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_park_media')),
    )
    with op.batch_alter_table('park_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_park_media_park_id'), ['park_id'], unique=False)


def downgrade():
    with op.batch_alter_table('park_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_park_media_park_id'))
    op.drop_table('park_media')
