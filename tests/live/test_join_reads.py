"""A live connect and a join's reads run without a transaction of their own on PostgreSQL
(`app/readonly.py`: no BEGIN before them, no ROLLBACK after), the session's next work is in a
transaction as usual, and a join that writes attendance itself (batching off) writes it in one."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select

from app.accounts.models import User
from app.extensions import db
from app.fairs.models import Registration
from app.readonly import reads_only
from tests.conftest import sql_seen
from tests.live.test_events import NS, room  # noqa: F401  (fixture)

postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                   reason="autocommit reads apply on PostgreSQL only (needs TEST_DATABASE_URL)")


def modes():
    """(first word of each statement, whether its connection was in autocommit) while the block runs."""
    return sql_seen(lambda conn, text: (text.split()[0].upper(), bool(conn.connection.driver_connection.autocommit)))


def _emit(client, name, data):
    return client.emit(name, data, namespace=NS, callback=True)


def _idle(*, empty: bool = True):
    """The test's own session shares the handlers' (one app context): let it end its transaction and,
    with `empty`, let go of what it loaded (a handler's own session starts empty)."""
    db.session.commit()
    if empty:
        db.session.close()


@postgres_only
def test_connect_and_join_read_in_autocommit_and_the_next_write_is_in_a_transaction(app, room, connect, auth):
    app.config["LIVE_ATTENDANCE_BATCH_SECONDS"] = 3600  # attendance noted for the writer: the join only reads
    sid = room["session"].id
    token = auth(room["sjz"])["Authorization"][7:]
    _idle()
    with modes() as connecting:
        client = connect(token=token)
    assert connecting and all(autocommit for _, autocommit in connecting), connecting
    with modes() as joining:
        state = _emit(client, "join", {"session_id": sid})
    assert state["ok"] is True and state["session_id"] == sid
    assert [word for word, _ in joining] and all(autocommit for _, autocommit in joining), joining
    with modes() as asking:
        asked = _emit(client, "ask", {"session_id": sid, "text": "Water tariffs in Cangzhou?", "client_id": "ro-ask-000001"})
    assert asked["ok"] is True
    writes = [autocommit for word, autocommit in asking if word in ("INSERT", "UPDATE")]
    assert writes and not any(writes), asking  # the ask's writes in one transaction, as before


@postgres_only
def test_a_join_that_records_attendance_itself_writes_it_in_a_transaction(app, room, connect):
    app.config["LIVE_ATTENDANCE_BATCH_SECONDS"] = 0  # written on the join: a savepoint and a commit
    session = room["session"]
    sid, fair_id, person_id = session.id, session.fair_id, room["ts"].id
    client = connect(room["ts"])
    with time_machine.travel(session.starts_at + timedelta(minutes=5), tick=False):
        _idle()
        with modes() as joining:
            assert _emit(client, "join", {"session_id": sid})["ok"] is True
    writes = [autocommit for word, autocommit in joining if word in ("INSERT", "UPDATE", "SAVEPOINT", "RELEASE")]
    assert writes and not any(writes), joining  # the reads before in autocommit, the attendance in a transaction
    db.session.expire_all()
    registration = db.session.scalar(select(Registration).where(Registration.fair_id == fair_id,
                                                                Registration.user_id == person_id))
    assert registration is not None and registration.attended_at is not None


def test_a_join_reads_the_same_on_every_database(app, room, connect):
    """Whatever the mode, the person's state and the room's come back whole."""
    app.config["LIVE_ATTENDANCE_BATCH_SECONDS"] = 3600
    sid = room["session"].id
    asker = connect(room["sjz"])
    assert _emit(asker, "join", {"session_id": sid})["ok"] is True
    question = _emit(asker, "ask", {"session_id": sid, "text": "Port capacity at Huanghua?",
                                    "client_id": "ro-ask-000002"})["question"]
    _idle(empty=False)
    again = _emit(connect(room["sjz"]), "join", {"session_id": sid})
    assert again["ok"] is True and again["mine"] == [question["id"]]
    assert [q["id"] for q in again["questions"]] == [question["id"]] and again["questions"][0]["mine"] is True


@contextmanager
def checkouts():
    """How many connections the pool hands out while the block runs."""
    seen: list[int] = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(db.engine, "checkout", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "checkout", listener)


@postgres_only
def test_a_read_only_block_checks_a_connection_out_only_when_it_reads(app):
    """The mode is taken at the block's first statement: a block that reads nothing (a kept page, a
    throttled broadcast) costs no checkout and no ping; one that reads takes one connection, in
    autocommit, and the session's next work is in a transaction again."""
    _idle()
    with checkouts() as none:
        with reads_only():
            pass
    assert none == []
    with checkouts() as one, modes() as reading:
        with reads_only():
            assert db.session.scalar(select(func.count()).select_from(User)) >= 0
            assert db.session.scalar(select(func.count()).select_from(Registration)) >= 0
    assert len(one) == 1 and [autocommit for _, autocommit in reading] == [True, True], reading
    with modes() as after:
        db.session.scalar(select(func.count()).select_from(User))
    assert [autocommit for _, autocommit in after] == [False], after
    db.session.rollback()


@postgres_only
def test_blocks_inside_a_block_leave_it_to_the_outer_one(app):
    _idle()
    with modes() as reading:
        with reads_only():
            with reads_only():
                db.session.scalar(select(func.count()).select_from(User))
            db.session.scalar(select(func.count()).select_from(User))  # still the outer block's mode
    assert [autocommit for _, autocommit in reading] == [True, True], reading
    assert not db.session().in_transaction()


@postgres_only
def test_a_batch_of_joins_reads_in_autocommit(app, room):
    """The group read of joins that arrive together (`live.services._read_joins`, its statements run on
    the connection directly) is in autocommit too, and leaves the session's next work in a transaction."""
    from app.live import services as live

    people = [live.KeptPerson.of(person) for person in (room["sjz"], room["ts"], room["organiser"])]  # as a connection keeps them
    batch = [live._PendingJoin(person, room["session"].id) for person in people]
    _idle()
    with modes() as reading:
        live._read_joins(batch)
    assert all(pending.read and pending.error is None for pending in batch)
    assert reading and all(autocommit for _, autocommit in reading), reading
    with modes() as after:
        db.session.execute(select(func.count()).select_from(User))
    assert [autocommit for _, autocommit in after] == [False], after
