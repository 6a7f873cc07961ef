"""Sign-up requests keep the proposed organisation's name in each language:
`organisation_name_zh`/`organisation_name_en`, filled from the existing name in the language it is
written in

Revision ID: 0025_signup_org_names_i18n
Revises: 0024_site_proposals
Create Date: 2026-12-03 19:00:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025_signup_org_names_i18n'
down_revision = '0024_site_proposals'
branch_labels = None
depends_on = None

# A copy of app/bilingual.py's rule as it is today: a migration must not change with the app.
_HAN = re.compile('[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]')


def upgrade():
    with op.batch_alter_table('signup_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_name_zh', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('organisation_name_en', sa.String(length=200), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        'SELECT id, organisation_name FROM signup_requests WHERE organisation_id IS NULL')).all()
    for row_id, name in rows:
        if name:
            column = 'organisation_name_zh' if _HAN.search(name) else 'organisation_name_en'
            connection.execute(sa.text(f'UPDATE signup_requests SET {column} = :name WHERE id = :id'),
                               {'id': row_id, 'name': name})


def downgrade():
    with op.batch_alter_table('signup_requests', schema=None) as batch_op:
        batch_op.drop_column('organisation_name_en')
        batch_op.drop_column('organisation_name_zh')
