"""Events that only read, without a transaction of their own.

With psycopg, a transaction costs two round trips besides its statements: `BEGIN` before the first
and the `ROLLBACK` with which the session ends. A live join or connect reads one to three rows, so
those two were a third of its waiting on the database. In autocommit mode each statement runs in its
own snapshot, which is what PostgreSQL's default isolation (READ COMMITTED, ours) gives the statements
of a transaction anyway: the reads see the same data, without the two round trips.

The mode is taken when the block's first statement runs, not when the block opens: a block that ends
up reading nothing (a page kept in memory, a throttled broadcast) checks no connection out of the
pool at all, and so pays no checkout (nor the ping of a connection that lay idle: `app/pool.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from .extensions import db

#: `Session.info` key: True while a block waits for its first statement, "applied" once it took the mode.
_PENDING = "cloudfair.reads_without_transaction"
_APPLIED = "applied"


def reads_without_transaction() -> bool:
    """Run this context's next statements in autocommit mode on PostgreSQL (elsewhere: nothing changes).

    For code that writes nothing (a write would be committed at once, and a savepoint would fail).
    Only before the context's first statement: a session already in a transaction, holding objects it
    loaded before (the block's end would expire them, to be read again), or inside another such block
    is left as it is. The connection is checked out with the first statement and goes back to the pool
    in its usual mode. Returns whether it applied."""
    session = db.session()  # this context's own session (the scoped proxy lacks `in_transaction`)
    if (session.in_transaction() or session.identity_map or _PENDING in session.info
            or session.get_bind().dialect.name != "postgresql"):
        return False
    session.info[_PENDING] = True
    return True


@event.listens_for(Session, "do_orm_execute")
def _first_statement_in_autocommit(state: ORMExecuteState) -> None:
    """A waiting block's first statement (ORM, Core or a lazy load through the session) checks its
    connection out in autocommit mode; one that finds a transaction begun by other means (a flush)
    leaves it be."""
    _take_mode(state.session)


def connection():
    """The session's connection, for a statement run on it directly (without the ORM's result
    handling, which `Session.execute` adds even to a select of columns): in autocommit mode when a
    block waits for its first statement, as a statement through the session would be."""
    session = db.session()
    _take_mode(session)
    return session.connection()


def _take_mode(session: Session) -> None:
    if session.info.get(_PENDING) is True:
        if session.in_transaction():
            session.info[_PENDING] = "passed"
        else:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            session.info[_PENDING] = _APPLIED


@contextmanager
def reads_only() -> Iterator[None]:
    """`reads_without_transaction` for the block; at its end a session that read lets
    the connection go (nothing to undo, no round trip), so whatever the same session runs next begins a
    transaction as usual; a block that read nothing leaves nothing to let go."""
    applied = reads_without_transaction()
    try:
        yield
    finally:
        if applied:
            session = db.session()
            if session.info.pop(_PENDING, None) == _APPLIED:
                session.rollback()


@contextmanager
def driver_connection() -> Iterator:
    """A pooled PostgreSQL connection's own driver connection (psycopg), in autocommit mode, outside any
    session: for the live room's hottest reads (a connect storm's tokens, a join storm's rooms and marks),
    sent without SQLAlchemy's execution and result handling and without making a session at all. The rows
    come as psycopg gives them. The connection goes back to the pool after (nothing to undo: autocommit);
    one the driver found broken is discarded instead."""
    import psycopg
    from psycopg.pq import TransactionStatus

    pooled = db.engine.raw_connection()
    driver = pooled.driver_connection
    try:
        driver.autocommit = True
        yield driver
    except psycopg.OperationalError:
        pooled.invalidate()  # discarded: the pool opens a new one for the next reader
        raise
    finally:
        if pooled.dbapi_connection is not None:
            if driver.closed or driver.info.transaction_status != TransactionStatus.IDLE:
                pooled.invalidate()  # stopped mid-statement (its greenlet killed): not for the next reader
            else:
                driver.autocommit = False
                pooled.close()
