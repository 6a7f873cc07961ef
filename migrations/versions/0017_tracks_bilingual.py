"""Track names in two languages: `name_zh` / `name_en` beside `name`, filled from the existing name in
the language it was written in

A name with Han characters goes to `name_zh`, another to `name_en`; a combined "主会场 / Main hall"
is split into both halves. `name` stays as it is (sessions are still placed by it).

Revision ID: 0017_tracks_bilingual
Revises: 0016_signups
Create Date: 2026-12-03 13:50:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_tracks_bilingual'
down_revision = '0016_signups'
branch_labels = None
depends_on = None

# A copy of app/bilingual.py's rules as they are today: a migration must not change with the app.
_HAN = re.compile('[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]')
_COMBINED = re.compile(r'\s+[/|｜—–-]\s+|\s*／\s*|\s*｜\s*')


def split_text(text):
    text = (text or '').strip()
    out = {'zh': None, 'en': None}
    if not text:
        return out
    parts = [p.strip() for p in _COMBINED.split(text, maxsplit=1)]
    if len(parts) == 2 and all(parts) and bool(_HAN.search(parts[0])) != bool(_HAN.search(parts[1])):
        zh, en = (parts[0], parts[1]) if _HAN.search(parts[0]) else (parts[1], parts[0])
        return {'zh': zh, 'en': en}
    out['zh' if _HAN.search(text) else 'en'] = text
    return out


def upgrade():
    with op.batch_alter_table('tracks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_zh', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('name_en', sa.String(length=100), nullable=True))

    connection = op.get_bind()
    for track_id, name in connection.execute(sa.text('SELECT id, name FROM tracks')).all():
        texts = split_text(name)
        connection.execute(sa.text('UPDATE tracks SET name_zh = :zh, name_en = :en WHERE id = :id'),
                           {'id': track_id, 'zh': texts['zh'], 'en': texts['en']})


def downgrade():
    with op.batch_alter_table('tracks', schema=None) as batch_op:
        batch_op.drop_column('name_en')
        batch_op.drop_column('name_zh')
