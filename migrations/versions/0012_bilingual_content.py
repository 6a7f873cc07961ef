"""Content in two languages: `<field>_zh` / `<field>_en` beside fair, theme, session, project, series
and organisation text, filled from the existing text in the language it was written in

Existing text with Han characters goes to `_zh`, other text to `_en`; a combined "中文 / English" title
is split into both halves. The original columns are left as they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 06:30:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

#: table → [(field, type)]
FIELDS = {
    'series': [('title', sa.String(length=200))],
    'fairs': [('title', sa.String(length=200)), ('theme', sa.String(length=300))],
    'fair_sessions': [('title', sa.String(length=200)), ('description', sa.Text())],
    'projects': [('title', sa.String(length=200)), ('summary', sa.Text())],
    'organisations': [('name', sa.String(length=200))],
}

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
    for table, fields in FIELDS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for field, type_ in fields:
                batch_op.add_column(sa.Column(f'{field}_zh', type_, nullable=True))
                batch_op.add_column(sa.Column(f'{field}_en', type_, nullable=True))

    connection = op.get_bind()
    for table, fields in FIELDS.items():
        names = [field for field, _ in fields]
        rows = connection.execute(sa.text(f"SELECT id, {', '.join(names)} FROM {table}")).all()
        for row in rows:
            values = {'id': row[0]}
            for i, field in enumerate(names, start=1):
                texts = split_text(row[i])
                values[f'{field}_zh'] = texts['zh']
                values[f'{field}_en'] = texts['en']
            assignments = ', '.join(f'{key} = :{key}' for key in values if key != 'id')
            connection.execute(sa.text(f'UPDATE {table} SET {assignments} WHERE id = :id'), values)


def downgrade():
    for table, fields in FIELDS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for field, _ in reversed(fields):
                batch_op.drop_column(f'{field}_en')
                batch_op.drop_column(f'{field}_zh')
