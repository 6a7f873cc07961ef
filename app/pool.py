"""Pooled database connections: checked for life on checkout only after they lay idle.

SQLAlchemy's `pool_pre_ping` sends a `SELECT 1` on every checkout. A live room checks a connection out
for every batch of joins, connects' tokens and interests, and a burst's batches follow each other within
milliseconds: the ping was a round trip more in each, for a connection given back a moment before.
As HikariCP does (its `aliveBypassWindowMs`, 500 ms), a connection given back less than
`DATABASE_PING_AFTER_SECONDS` ago is handed out as it is; one idle longer (or never given back yet) is
pinged, and one that does not answer is replaced before anyone uses it (`DisconnectionError`: the pool
discards it and checks out another). A connection that died within the window (the server restarted a
moment after it was given back) fails its first statement; SQLAlchemy then takes it as a disconnect and
discards every connection of the pool made before it, so the next checkouts open new ones.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

#: `ConnectionRecord.info` key: `time.monotonic()` when the connection was made or last given back.
_RESTED_SINCE = "cloudfair.rested_since"


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """Check `engine`'s pooled connections for life on checkout when idle `seconds` or more (0: every
    checkout, as `pool_pre_ping`)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _made(dbapi_connection, record) -> None:
        record.info[_RESTED_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _given_back(dbapi_connection, record) -> None:
        record.info[_RESTED_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, proxy) -> None:
        since = record.info.get(_RESTED_SINCE)
        if since is not None and time.monotonic() - since < seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("The pooled connection did not answer its ping.") from error
            raise
