"""Notifications in two languages: `title_zh`/`title_en` and `body_zh`/`body_en`, filled from the
existing text in the language it is written in

Revision ID: 0020_notifications_bilingual
Revises: 0019_incentive_conditions_i18n
Create Date: 2026-12-03 14:45:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020_notifications_bilingual'
down_revision = '0019_incentive_conditions_i18n'
branch_labels = None
depends_on = None

# A copy of app/bilingual.py's rule as it is today: a migration must not change with the app.
_HAN = re.compile('[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]')


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_zh', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('title_en', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('body_zh', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('body_en', sa.String(length=2000), nullable=True))

    connection = op.get_bind()
    for row_id, title, body in connection.execute(sa.text('SELECT id, title, body FROM notifications')).all():
        values = {'id': row_id, 'title_zh': None, 'title_en': None, 'body_zh': None, 'body_en': None}
        if title:
            values['title_zh' if _HAN.search(title) else 'title_en'] = title
        if body:
            values['body_zh' if _HAN.search(body) else 'body_en'] = body
        connection.execute(sa.text('UPDATE notifications SET title_zh = :title_zh, title_en = :title_en, '
                                   'body_zh = :body_zh, body_en = :body_en WHERE id = :id'), values)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('body_en')
        batch_op.drop_column('body_zh')
        batch_op.drop_column('title_en')
        batch_op.drop_column('title_zh')
