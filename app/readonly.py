"""Events that only read, without a transaction of their own.

With psycopg, a transaction costs two round trips besides its statements: `BEGIN` before the first
and the `ROLLBACK` with which the session ends. A live join or connect reads one to three rows, so
those two were a third of its waiting on the database. In autocommit mode each statement runs in its
own snapshot, which is what PostgreSQL's default isolation (READ COMMITTED, ours) gives the statements
of a transaction anyway: the reads see the same data, without the two round trips.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .extensions import db


def reads_without_transaction() -> bool:
    """Run this context's statements in autocommit mode on PostgreSQL (elsewhere: nothing changes).

    For code that writes nothing (a write would be committed at once, and a savepoint would fail).
    Only before the context's first statement: a session already in a transaction, or holding objects
    it loaded before (the block's end would expire them, to be read again), is left as it is.
    The connection goes back to the pool in its usual mode. Returns whether it applied."""
    session = db.session()  # this context's own session (the scoped proxy lacks `in_transaction`)
    if session.in_transaction() or session.identity_map or session.get_bind().dialect.name != "postgresql":
        return False
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return True


@contextmanager
def reads_only(applies: bool = True) -> Iterator[None]:
    """`reads_without_transaction` for the block (when `applies`); at its end the session lets the
    connection go (nothing to undo, no round trip), so whatever the same session runs next begins a
    transaction as usual."""
    applied = applies and reads_without_transaction()
    try:
        yield
    finally:
        if applied:
            db.session.rollback()
