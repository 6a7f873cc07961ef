"""Pooled connections are pinged on checkout only after lying idle (`app/pool.py`), and a dead one is
replaced before anyone uses it."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.pool import ping_after_idle

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
postgres_only = pytest.mark.skipif(not POSTGRES_URL.startswith("postgresql"),
                                   reason="a server that ends a backend: set TEST_DATABASE_URL to PostgreSQL")


def _counting_pings(engine, monkeypatch) -> list:
    pings = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(1) or ping(connection))
    return pings


def _use(engine) -> int:
    """One statement on a pooled connection, given back after; the server's process id (0 on SQLite)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        connection.execute(text("SELECT 1"))
        return 0


def test_the_app_pings_a_connection_only_after_it_lay_idle(app, monkeypatch):
    engine = db.engine
    db.session.remove()
    if engine.dialect.name == "postgresql":  # the pool hands out its oldest first: start from one connection
        engine.dispose()
    pings = _counting_pings(engine, monkeypatch)
    _use(engine)  # given back now: the next checkouts within the window are not pinged
    pings.clear()
    for _ in range(5):
        _use(engine)
    assert pings == []
    time.sleep(app.config["DATABASE_PING_AFTER_SECONDS"] + 0.1)
    _use(engine)
    assert pings == [1]


def test_a_window_of_zero_pings_every_checkout(monkeypatch):
    engine = create_engine("sqlite://")
    ping_after_idle(engine, 0)
    pings = _counting_pings(engine, monkeypatch)
    for _ in range(3):
        _use(engine)
    assert pings == [1, 1, 1]


@contextmanager
def _killed_after_use(window: float):
    """A PostgreSQL pool checked after `window` seconds idle, and the server process of the connection
    it last gave back, ended (the pool does not know)."""
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    ping_after_idle(engine, window)
    try:
        first = _use(engine)
        _terminate(engine, first)
        yield engine, first
    finally:
        engine.dispose()


@postgres_only
def test_a_connection_that_died_while_idle_is_replaced_before_use():
    with _killed_after_use(0.2) as (engine, first):
        time.sleep(0.3)
        assert _use(engine) != first  # the ping found it dead: a new connection, and the statement ran


@postgres_only
def test_within_the_window_a_dead_connection_fails_once_and_the_pool_starts_afresh():
    with _killed_after_use(60) as (engine, first):
        with pytest.raises(DBAPIError) as failed:  # handed out unpinged: its first statement finds it dead
            _use(engine)
        assert failed.value.connection_invalidated
        assert _use(engine) != first  # the pool let go of it: the next checkout opens a new one


def _terminate(engine, pid: int) -> None:
    """End a server process from a connection of its own (outside the pool)."""
    import psycopg

    with psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(50):  # gone from the server's list once it has ended
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                return
            time.sleep(0.02)


@postgres_only
def test_a_driver_connection_found_broken_is_discarded_not_given_back(app):
    """`readonly.driver_connection` (the live room's reads outside a session): a connection whose server
    process ended fails its statement, and the pool opens a new one for the next reader."""
    import psycopg

    from app.readonly import driver_connection

    db.session.remove()
    db.engine.dispose()  # one connection in the pool: the one the reader gets
    with driver_connection() as connection:
        first = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
    _terminate(db.engine, first)
    with pytest.raises(psycopg.OperationalError):
        with driver_connection() as connection:
            connection.execute("SELECT 1")
    with driver_connection() as connection:
        assert connection.autocommit is True
        assert connection.execute("SELECT pg_backend_pid()").fetchone()[0] != first
    with db.engine.connect() as given_back:  # the same connection, as the session would take it: not in autocommit
        assert given_back.connection.driver_connection.autocommit is False


@postgres_only
def test_a_driver_connection_left_mid_statement_is_not_handed_to_the_next_reader(app):
    """A reader stopped while its statement still runs (its greenlet killed, say) leaves a connection
    that is busy: the pool discards it instead of giving the next reader a connection mid-query."""
    from app.readonly import driver_connection

    db.session.remove()
    db.engine.dispose()
    with pytest.raises(RuntimeError):
        with driver_connection() as connection:
            busy = connection.info.backend_pid
            connection.pgconn.send_query(b"SELECT pg_sleep(0.2)")  # sent, its answer never read
            raise RuntimeError("stopped")
    with driver_connection() as connection:
        assert connection.info.backend_pid != busy
        assert connection.execute("SELECT 1").fetchone() == (1,)
