"""Alembic migrations: one head; `upgrade` from empty works on SQLite and PostgreSQL; the models and
the migrations agree (autogenerate finds nothing to do); `downgrade base` removes everything."""

from __future__ import annotations

import logging.config
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect, make_url, text

from app import create_app
from app.extensions import db
from app.reference.services import DEFAULT_SECTORS
from tests.conftest import make_test_config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
#: The PostgreSQL database these tests own, apart from the main suite's `test` database.
PG_DATABASE = "cf_mig"
#: Serialises the PostgreSQL tests across pytest-xdist workers: they share `cf_mig`.
PG_LOCK_KEY = 7_310_001


@pytest.fixture(autouse=True)
def _app_context():
    """Replace conftest's per-test app and database: these tests build their own."""
    yield


@pytest.fixture(autouse=True)
def _quiet_alembic_logging(monkeypatch):
    # migrations/env.py calls logging.config.fileConfig(), which disables every logger that already
    # exists, for the rest of the test run (other tests' caplog assertions would then see nothing).
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)


# ---------------------------------------------------------------- databases


def _pg_admin_connection(url):
    import psycopg

    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname="postgres",
        autocommit=True,
    )


@contextmanager
def _postgresql_database() -> Iterator[str]:
    """An empty `cf_mig` database (created when missing), held for this test alone."""
    import psycopg
    from psycopg import errors

    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        pytest.skip("set TEST_DATABASE_URL to a PostgreSQL URL to test the migrations on PostgreSQL")
    url = make_url(base).set(database=PG_DATABASE)
    with _pg_admin_connection(url) as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY,))
        try:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone() is None:
                try:
                    admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
                except errors.DuplicateDatabase:
                    pass
            with psycopg.connect(
                host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
                password=url.password, dbname=PG_DATABASE, autocommit=True,
            ) as conn:
                # Whatever an earlier, interrupted run left behind.
                conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
                conn.execute("CREATE SCHEMA public")
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database: a temporary SQLite file, or PostgreSQL's `cf_mig`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        with _postgresql_database() as url:
            yield url


@pytest.fixture
def migration_app(database_url, tmp_path) -> Iterator[Flask]:
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=database_url, UPLOAD_DIR=str(tmp_path / "uploads")))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- helpers


def _upgrade(revision: str = "head") -> None:
    flask_migrate.upgrade(directory=str(MIGRATIONS), revision=revision)


def _downgrade(revision: str = "base") -> None:
    flask_migrate.downgrade(directory=str(MIGRATIONS), revision=revision)


def _differences(app: Flask) -> list:
    """What `flask db check` / autogenerate would find between the database and the models."""
    options = dict(app.extensions["migrate"].configure_args)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={**options, "target_metadata": db.metadata})
        return compare_metadata(context, db.metadata)


def _script() -> ScriptDirectory:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _head() -> str:
    return _script().get_current_head()


def _explain(differences: list) -> str:
    return "the migrations lag behind the models (add one with `flask db migrate`):\n" + "\n".join(
        f"  {d!r}"[:300] for d in differences
    )


def _upgrade_with(before: str, after: str, *inserts: str) -> None:
    """Upgrade to `before`, store the rows the `inserts` add there, then upgrade to `after`."""
    _upgrade(before)
    with db.engine.begin() as connection:
        for statement in inserts:
            connection.execute(text(statement))
    _upgrade(after)


def _rows(query: str) -> list[tuple]:
    """A query's rows, as tuples."""
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query)).all()]


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# ---------------------------------------------------------------- tests


def test_migrations_have_exactly_one_head_and_start_at_0001():
    script = _script()

    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}; merge them"
    assert script.get_bases() == ["0001"]


def test_upgrade_from_empty_creates_every_model_table(migration_app):
    assert _tables() == set()

    _upgrade()

    assert _current_revision() == _head()
    assert _tables() == set(db.metadata.tables) | {"alembic_version"}


def test_models_and_migrations_agree_after_upgrade(migration_app):
    _upgrade()

    differences = _differences(migration_app)
    assert differences == [], _explain(differences)


def test_upgrade_seeds_the_default_sectors(migration_app):
    _upgrade()

    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT code, name_en, name_zh FROM sectors ORDER BY id")).all()

    assert [tuple(row) for row in rows] == DEFAULT_SECTORS
    codes = {row[0] for row in rows}
    assert len(codes) == 7
    assert {"new_materials", "ice_snow"} <= codes


def test_downgrade_to_base_leaves_only_alembic_version(migration_app):
    _upgrade()

    _downgrade("base")

    assert _tables() == {"alembic_version"}
    assert _current_revision() is None


def test_upgrade_works_again_after_downgrade_to_base(migration_app):
    _upgrade()
    _downgrade("base")

    _upgrade()

    assert _current_revision() == _head()
    differences = _differences(migration_app)
    assert differences == [], _explain(differences)


def test_upgrade_seeds_the_divisions_and_maps_existing_cities(migration_app, capsys):
    _upgrade("0008")
    with db.engine.begin() as connection:
        for name, city, country in [("Shijiazhuang Commerce Bureau", "Shijiazhuang", "CN"),
                                    ("保定市商务局", "保定", "CN"), ("Atlantis Investment Office", "Atlantis", "CN"),
                                    ("正定县招商局", None, "CN"), ("Bavaria Invest Partners", "Munich", "DE")]:
            connection.execute(text(
                "INSERT INTO organisations (name, kind, city, country, demand_sectors, demand_countries, demand_note, "
                "aliases, created_at) VALUES (:name, 'city_bureau', :city, :country, '[]', '[]', '', '[]', "
                "CURRENT_TIMESTAMP)"), {"name": name, "city": city, "country": country})

    _upgrade("0009")

    with db.engine.connect() as connection:
        places = dict(connection.execute(text("SELECT name, division_code FROM organisations")).all())
        counts = dict(connection.execute(text("SELECT level, COUNT(*) FROM divisions GROUP BY level")).all())
        city = connection.execute(text("SELECT city FROM organisations WHERE name = '保定市商务局'")).scalar()
    assert places == {"Shijiazhuang Commerce Bureau": "130100", "保定市商务局": "130600",
                      "Atlantis Investment Office": None, "正定县招商局": "130123", "Bavaria Invest Partners": None}
    assert city == "保定"  # the text stays; the division carries the place
    assert counts == {"province": 34, "prefecture": 11, "county": 167}
    report = [line for line in capsys.readouterr().out.splitlines() if line.startswith("0009 places:")]
    assert report == ["0009 places: could not map organisation 3 'Atlantis Investment Office' (city 'Atlantis')",
                      "0009 places: 3 organisation(s) mapped to a division, 1 not mapped"]


#: The columns a fair had before the bilingual titles (0012), for the upgrades that need a fair row.
INSERT_FAIRS = (
    "INSERT INTO fairs (id, title, theme, focus_countries, focus_sectors, starts_at, ends_at, timezone, status, "
    "waitlist, fair_day_start, fair_day_end, presenter_day_start, presenter_day_end, revision, created_at, "
    "updated_at) VALUES ")


def test_upgrade_fills_both_languages_from_the_existing_text(migration_app):
    _upgrade_with(
        "0011", "0012",
        INSERT_FAIRS
        + "(1, '2027年1月云招商 / Jan 2027 cloud fair', '欧洲：新材料', '[]', '[]', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, 'Asia/Shanghai', 'draft', true, '08:00:00', '20:00:00', '08:00:00', '20:00:00', 0, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
        "(2, 'North America: health', '', '[]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'Asia/Shanghai', "
        "'draft', true, '08:00:00', '20:00:00', '08:00:00', '20:00:00', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO organisations (name, kind, city, country, demand_sectors, demand_countries, demand_note, "
        "aliases, created_at) VALUES ('石家庄市商务局', 'city_bureau', NULL, 'CN', '[]', '[]', '', '[]', "
        "CURRENT_TIMESTAMP), ('Bavaria Invest Partners', 'agency', 'Munich', 'DE', '[]', '[]', '', '[]', "
        "CURRENT_TIMESTAMP)")

    assert _rows("SELECT title, title_zh, title_en, theme_zh, theme_en FROM fairs ORDER BY id") == [
        ("2027年1月云招商 / Jan 2027 cloud fair", "2027年1月云招商", "Jan 2027 cloud fair", "欧洲：新材料", None),
        ("North America: health", None, "North America: health", None, None),
    ]
    assert _rows("SELECT name_zh, name_en FROM organisations ORDER BY name") == [
        (None, "Bavaria Invest Partners"), ("石家庄市商务局", None)]


def test_upgrade_keeps_track_names_in_the_language_they_are_written_in(migration_app):
    _upgrade_with(
        "0016_signups", "0017_tracks_bilingual",
        INSERT_FAIRS
        + "(1, 'Fair', '', '[]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'Asia/Shanghai', 'draft', true, "
        "'08:00:00', '20:00:00', '08:00:00', '20:00:00', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO tracks (id, fair_id, name, position) VALUES (1, 1, 'main', 0), (2, 1, '城市推介', 1), "
        "(3, 1, '主会场 / Main hall', 2)")

    assert _rows("SELECT name, name_zh, name_en FROM tracks ORDER BY id") == [
        ("main", None, "main"), ("城市推介", "城市推介", None), ("主会场 / Main hall", "主会场", "Main hall")]


def test_upgrade_keeps_notifications_in_the_language_they_are_written_in(migration_app):
    _upgrade_with(
        "0019_incentive_conditions_i18n", "0020_notifications_bilingual",
        "INSERT INTO organisations (id, name, kind, country, demand_sectors, demand_countries, demand_note, "
        "aliases, created_at) VALUES (1, 'Org', 'agency', 'DE', '[]', '[]', '', '[]', CURRENT_TIMESTAMP)",
        "INSERT INTO users (id, email, name, role, organisation_id, timezone, locale, calendar_token, active, "
        "session_version, created_at) "
        "VALUES "
        "(1, 'a@example.org', 'A', 'attendee', 1, 'UTC', 'en', 'token-1', true, 1, CURRENT_TIMESTAMP)",
        "INSERT INTO notifications (id, user_id, kind, title, body, created_at) VALUES "
        "(1, 1, 'x', '名额已为您保留', '', CURRENT_TIMESTAMP), (2, 1, 'x', 'A place is yours', 'Moved up', "
        "CURRENT_TIMESTAMP)")

    assert _rows("SELECT title_zh, title_en, body_zh, body_en FROM notifications ORDER BY id") == [
        ("名额已为您保留", None, None, None), (None, "A place is yours", None, "Moved up")]
