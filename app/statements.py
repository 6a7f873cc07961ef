"""Upserts written once and compiled once.

SQLAlchemy 2.0 does not cache the compiled form of a dialect's `insert().on_conflict_do_*()`
(its ON CONFLICT clause has no cache key), so each upsert on a hot path was compiled again on every
call: about a millisecond of CPU each, three per interest. The statements here are `text()` with
typed bind parameters, which SQLAlchemy compiles once per process and dialect; their SQL is the same
on PostgreSQL and SQLite (3.35 or newer: `ON CONFLICT ... DO UPDATE/NOTHING` and `RETURNING`).
"""

from __future__ import annotations

import re

from sqlalchemy import Table, bindparam, func, text
from sqlalchemy.sql.elements import TextClause


def upsert(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], *, update: str | None = None,
           returning: tuple[str, ...] = (), where: str | None = None) -> TextClause:
    """`INSERT INTO table (columns) VALUES (:column, ...) ON CONFLICT (conflict) DO NOTHING`, or
    `DO UPDATE SET <update>` (SQL that may use `excluded.<column>`, the table's own columns and
    further bind parameters), `RETURNING <returning>`.

    With `where` (`FROM … WHERE …`, SQL that may use further bind parameters) the row is written only
    where that finds a row: `INSERT INTO table (columns) SELECT :column, ... FROM … WHERE … ON CONFLICT …`
    (the WHERE is needed: SQLite would read a bare `FROM t ON CONFLICT` as a join's `ON`).

    Each column's bind parameter has the column's type (so an aware datetime is stored as the model
    stores it); the returned columns are typed the same way. Callers keep each statement as a module
    constant, so it is built once and compiled once."""
    names = ", ".join(columns)
    values = ", ".join(f":{column}" for column in columns)
    values = f"SELECT {values} {where}" if where else f"VALUES ({values})"
    sql = f"INSERT INTO {table.name} ({names}) {values} ON CONFLICT ({', '.join(conflict)}) "
    sql += f"DO UPDATE SET {update}" if update else "DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(returning)
    statement = text(sql).bindparams(*(bindparam(column, type_=table.c[column].type) for column in columns))
    if returning:
        statement = statement.columns(*(table.c[column] for column in returning))
    return statement


def for_psycopg(sql: str) -> str:
    """`sql` with its `:name` parameters in psycopg's own style (`%(name)s`), for statements a batch
    sends on the driver's connection in pipeline mode (`leads.services.write_interests`, the live room's
    batch tail). A `%` of the SQL itself is doubled; a `::` cast is left alone."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


def compiled_for_psycopg(statement) -> str:
    """A Core statement's SQL for PostgreSQL in psycopg's own parameter style (`%(name)s`), compiled once,
    for a batch that sends it on the driver's connection in pipeline mode; its rows come back as psycopg
    gives them (no SQLAlchemy result processing). A list goes as one array parameter (`= any(:ids)`),
    not an expanding `IN`."""
    from sqlalchemy.dialects.postgresql import psycopg

    return str(statement.compile(dialect=psycopg.dialect()))


def in_list(column, name: str):
    """`column` is one of the list parameter `name`, expanded into `IN (…)` (any database)."""
    return column.in_(bindparam(name, expanding=True))


def in_array(column, name: str):
    """`column` is one of the list parameter `name`, sent as one PostgreSQL array (`= any(…)`): the form
    for `compiled_for_psycopg`. A statement built by a function of `one_of` takes either."""
    return column == func.any(bindparam(name))
