"""Places: the seeded divisions, and existing organisations in China mapped to theirs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:20:00

Inserts the divisions of `app/reference/data/divisions.csv` (Hebei's province, cities and counties,
every other provincial-level division), then sets `division_code` of each organisation in China
whose free-text city (or, failing that, name) names one, and prints one line for each it cannot map.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    from app.reference.divisions import DivisionIndex, map_organisation_cities
    from app.reference.services import division_rows

    bind = op.get_bind()
    divisions = sa.table(
        "divisions", sa.column("code", sa.String), sa.column("level", sa.String), sa.column("parent_code", sa.String),
        sa.column("name_zh", sa.String), sa.column("name_en", sa.String), sa.column("pinyin", sa.String),
        sa.column("aliases", sa.JSON))
    existing = set(bind.execute(sa.select(divisions.c.code)).scalars())
    rows = [dict(row) for row in division_rows() if row["code"] not in existing]
    if rows:
        op.bulk_insert(divisions, rows)
    result = map_organisation_cities(bind, DivisionIndex.from_rows(division_rows()))
    for line in result.report_lines():
        print(f"0009 places: {line}")


def downgrade():
    op.execute("UPDATE organisations SET division_code = NULL")
    op.execute("DELETE FROM divisions")
