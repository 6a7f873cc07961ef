"""An interest over a live connection is checked against the person the connection last read and the
room this process keeps, with no query before its batch; the batch's writer compares both with the
database first, and whatever changed meanwhile (deactivated, moved to another organisation, the
session ended or given another project) is decided again on fresh reads, never written on stale ones."""

from __future__ import annotations

import re
import time
import pytest
from sqlalchemy import event, func, select

from app.accounts.models import User
from app.extensions import db
from app.fairs.models import Fair, FairSession
from app.leads.models import Interest, Lead
from app.live import services as live
from tests.live.conftest import make_room
from tests.factories import make_user
from tests.live.test_events import _emit


@pytest.fixture
def room(app, monkeypatch):
    monkeypatch.setattr(live, "interest_count_changed", lambda *args: None)  # the throttle's own work
    return make_room(other_project=True)


class Seen:
    """Every statement sent to the database while it is open, whole."""

    def __init__(self):
        self.statements: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._statement)

    def _statement(self, conn, cursor, statement, *args):
        self.statements.append(" ".join(statement.split()))


def _joined(connect, room, person):
    client = connect(person)
    assert _emit(client, "join", {"session_id": room["session"].id})["ok"] is True
    return client


def _interest(client, room, client_id: str, *, project="project", level="info") -> dict:
    return _emit(client, "express_interest", {"session_id": room["session"].id, "project_id": room[project].id,
                                              "level": level, "client_id": client_id})


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Interest))


def _person_read(statement: str) -> bool:  # the handler's `_PERSON`: the whole person by id, organisation joined
    return (statement.startswith("SELECT users.") and "organisations_1" in statement
            and re.search(r"WHERE users\.id = (\?|%\(user_id\)s)", statement) is not None)


def _room_read(statement: str) -> bool:  # `_ROOM`: one session's row with its event number
    return statement.startswith("SELECT fair_sessions.status") and "live_counters" in statement


def test_an_interest_after_the_join_reads_neither_person_nor_room_before_its_batch(room, connect):
    client = _joined(connect, room, room["sjz"])
    assert _interest(client, room, "kept-0000001")["ok"] is True
    with Seen() as seen:
        ack = _interest(client, room, "kept-0000002", project="other_project")
    assert ack["ok"] is True and ack["duplicate"] is False
    assert not any(_person_read(s) or _room_read(s) for s in seen.statements), seen.statements
    # The writer's check instead: the batch's people and sessions, one query each.
    assert sum(s.startswith("SELECT users.id, users.active") for s in seen.statements) == 1, seen.statements
    assert sum(s.startswith("SELECT fair_sessions.id, fair_sessions.status") for s in seen.statements) == 1
    assert _count() == 2


@pytest.mark.parametrize("then", ["kept-0000012", "kept-0000011"], ids=["a new interest", "a replay"])
def test_a_person_deactivated_after_joining_is_refused_and_nothing_is_written(room, connect, then):
    client = _joined(connect, room, room["sjz"])
    assert _interest(client, room, "kept-0000011")["ok"] is True
    db.session.get(User, room["sjz"].id).active = False
    db.session.commit()
    refused = _interest(client, room, then)
    assert refused["ok"] is False and refused["error"]["code"] == "unauthorized"
    assert _count() == 1


def test_a_session_ended_meanwhile_refuses_new_interest_and_still_acknowledges_a_replay(room, connect):
    client = _joined(connect, room, room["sjz"])
    first = _interest(client, room, "kept-0000021")
    assert first["ok"] is True
    # Ended by another process: nothing here is told, the kept room still reads "live".
    db.session.execute(FairSession.__table__.update().where(FairSession.id == room["session"].id).values(status="ended"))
    db.session.commit()
    refused = _interest(client, room, "kept-0000022", project="other_project")
    assert refused["ok"] is False and refused["error"]["code"] == "session_closed"
    replay = _interest(client, room, "kept-0000021")
    assert replay["ok"] is True and replay["duplicate"] is True and replay["interest"]["id"] == first["interest"]["id"]
    assert _count() == 1


def test_a_person_moved_to_another_organisation_meanwhile_is_written_under_the_new_one(room, connect):
    client = _joined(connect, room, room["sjz"])
    assert _interest(client, room, "kept-0000031")["ok"] is True
    moved_to = make_user("attendee", organisation="Xiong'an New Area Administration").organisation
    db.session.get(User, room["sjz"].id).organisation_id = moved_to.id
    db.session.commit()
    ack = _interest(client, room, "kept-0000032", project="other_project")
    assert ack["ok"] is True and ack["lead"]["organisation_id"] == moved_to.id
    stored = db.session.get(Interest, ack["interest"]["id"])
    assert stored.organisation_id == moved_to.id
    assert db.session.get(Lead, stored.lead_id).organisation_id == moved_to.id


def test_a_project_added_to_the_session_meanwhile_is_accepted(room, connect, app):
    only_one = make_room()  # its session pitches one project; the other is added while people are in it
    extra = room["other_project"]
    client = _joined(connect, only_one, room["sjz"])
    assert _interest(client, only_one, "kept-0000041")["ok"] is True
    session = db.session.get(FairSession, only_one["session"].id)
    session.projects.append(extra)
    db.session.get(Fair, session.fair_id).revision += 1  # what the fair's services do on any change
    db.session.commit()
    ack = _emit(client, "express_interest", {"session_id": session.id, "project_id": extra.id, "level": "meeting",
                                             "client_id": "kept-0000042"})
    assert ack["ok"] is True and ack["interest"]["project_id"] == extra.id
    assert _count() == 2


def test_a_project_not_in_the_session_is_still_refused_with_its_own_error(room, connect):
    only_one = make_room()
    client = _joined(connect, only_one, room["sjz"])
    assert _interest(client, only_one, "kept-0000051")["ok"] is True
    refused = _emit(client, "express_interest", {"session_id": only_one["session"].id,
                                                 "project_id": room["other_project"].id, "level": "info",
                                                 "client_id": "kept-0000052"})
    assert refused["ok"] is False and refused["error"]["code"] == "validation_failed"
    assert _count() == 1


def test_a_join_right_after_connecting_uses_the_person_the_token_check_read(room, connect, app):
    client = connect(room["sjz"])
    with Seen() as seen:
        assert _emit(client, "join", {"session_id": room["session"].id})["ok"] is True
    assert not any(_person_read(s) for s in seen.statements), seen.statements
    app.config["LIVE_PERSON_FRESH_SECONDS"] = 0  # a later join reads the person again
    with Seen() as seen:
        assert _emit(client, "join", {"session_id": room["session"].id})["ok"] is True
    assert sum(_person_read(s) for s in seen.statements) == 1, seen.statements


def test_a_person_deactivated_after_connecting_cannot_join_once_the_kept_read_is_old(room, connect, app):
    app.config["LIVE_PERSON_FRESH_SECONDS"] = 0
    client = connect(room["sjz"])
    db.session.get(User, room["sjz"].id).active = False
    db.session.commit()
    refused = _emit(client, "join", {"session_id": room["session"].id})
    assert refused["ok"] is False and refused["error"]["code"] == "unauthorized"


def test_a_vote_uses_a_fresh_kept_person_and_reads_an_old_one_again(room, connect, app):
    """A vote right after connecting (a burst of votes) uses the person the token check read; once that
    read is older than LIVE_PERSON_FRESH_SECONDS the person is read again, and a deactivated one refused."""
    question = live.ask(room["ts"], room["session"].id, "Is there rail freight?", "kept-q-000001").value["id"]
    client = connect(room["sjz"])
    with Seen() as seen:
        assert _emit(client, "vote", {"question_id": question})["ok"] is True
    assert not any(_person_read(s) for s in seen.statements), seen.statements
    app.config["LIVE_PERSON_FRESH_SECONDS"] = 0
    db.session.get(User, room["sjz"].id).active = False
    db.session.commit()
    other = live.ask(room["ts"], room["session"].id, "And the customs office?", "kept-q-000002").value["id"]
    refused = _emit(client, "vote", {"question_id": other})
    assert refused["ok"] is False and refused["error"]["code"] == "unauthorized"


def test_a_kept_room_past_its_time_is_read_again_by_one_caller_while_a_burst_goes_on_with_it(room, connect, app):
    """After `LIVE_ROOM_CACHE_SECONDS` the room is read again, by the first interest that finds it old;
    the interests of the same burst that arrive while that read is under way use the kept row (their
    writer checks it) instead of each reading the room and its facts too."""
    from dataclasses import replace

    client = _joined(connect, room, room["sjz"])
    assert _interest(client, room, "kept-0000051")["ok"] is True
    sid, person = room["session"].id, live.KeptPerson.of(db.session.get(User, room["sjz"].id))
    cache = app.extensions["cloudfair.interest_rooms"]
    cache[sid] = replace(cache[sid], until=0.0)  # past its time
    during: list = []

    def meanwhile(conn, cursor, statement, *args):  # another interest of the burst, while the read is under way
        if _room_read(" ".join(statement.split())) and not during:
            during.append(None)
            during.append(live._room(person, sid, kept=True))  # a statement of its own would be seen below

    event.listen(db.engine, "before_cursor_execute", meanwhile)
    try:
        with Seen() as seen:
            row, kept = live._room(person, sid, kept=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", meanwhile)
    assert sum(_room_read(s) for s in seen.statements) == 1, seen.statements  # the burst's other one read nothing
    other_row, _ = during[1]
    assert other_row.status == row.status
    assert cache[sid] is kept and kept.until > live.time.monotonic() + 1  # read again: a whole period ahead
    assert _interest(client, room, "kept-0000052", project="other_project")["ok"] is True
    assert _count() == 2


def test_a_burst_s_first_interests_in_a_process_read_the_room_once(app, room, monkeypatch):
    """The room is not kept yet (a fair's first burst in this process): the first interest reads it, the
    rest of the burst wait for that read and use it, instead of each reading the row and the facts."""
    from app.leads import services as leads
    from tests.conftest import in_threads

    sid = room["session"].id
    people = [live.KeptPerson.of(make_user("attendee", organisation=f"City {n} Commerce Bureau")) for n in range(6)]
    db.session.commit()
    app.extensions.get("cloudfair.interest_rooms", {}).pop(sid, None)
    reads, read = [], leads.interest_room

    def slow_read(session):  # a read that takes a moment, as on a busy server: the burst arrives meanwhile
        reads.append(session.id)
        time.sleep(0.05)
        return read(session)

    monkeypatch.setattr(leads, "interest_room", slow_read)

    def check(person):
        def call():
            with app.app_context():
                try:
                    facts, key = live.interest_room(person, sid, kept=True)
                    return facts.id, sorted(facts.projects), key
                finally:
                    db.session.remove()
        return call

    results = in_threads([check(person) for person in people])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert reads == [sid]  # read once for the six
    assert len(set((fid, tuple(projects), key) for fid, projects, key in results)) == 1
    assert sorted(results[0][1]) == sorted([room["project"].id, room["other_project"].id])
