"""Joins that arrive together are read together (`live.services._read_joins`, through the process's
group read `_joins`): the rooms, the people's own questions and votes and their organisations'
interests in three statements for the batch, with the same answers as each join's reads alone, and
each join's own refusal (a session it may not see, a bad id) its own."""

from __future__ import annotations

import pytest

from app.accounts.models import User
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.fairs.models import Fair
from app.live import services as live
from app.live.group_commit import GroupCommit
from tests.conftest import sql_seen
from tests.factories import make_fair, make_session, make_user
from tests.conftest import in_threads
from tests.live.test_group_commit import _in_app, _one_batch, postgres_only
from tests.live.test_events import NS, room  # noqa: F401  (fixture)


def _emit(client, name, data):
    return client.emit(name, data, namespace=NS, callback=True)


def _alone(person, session_id):
    session = live.live_room(person, session_id)
    return session, live.personal_marks(person, session.id), live.organisation_interests(person, session)


def _populated(room, connect):
    """A room where sjz asked (and ts voted for it), sjz's and a colleague's organisation expressed
    interest, and a third attendee of another city did nothing."""
    sid = room["session"].id
    sjz, ts = connect(room["sjz"]), connect(room["ts"])
    for client in (sjz, ts):
        assert _emit(client, "join", {"session_id": sid})["ok"] is True
    question = _emit(sjz, "ask", {"session_id": sid, "text": "Grid capacity in Xiong'an?", "client_id": "jb-ask-000001"})
    assert _emit(ts, "vote", {"question_id": question["question"]["id"]})["ok"] is True
    for client, project, level, client_id in ((sjz, "project", "info", "jb-int-000001"), (ts, "other_project", "intent", "jb-int-000002")):
        assert _emit(client, "express_interest", {"session_id": sid, "project_id": room[project].id, "level": level,
                                                  "client_id": client_id})["ok"] is True
    colleague = make_user("attendee", name="Li Na", organisation="Shijiazhuang Commerce Bureau", city="Shijiazhuang")
    stranger = make_user("attendee", name="Wang Fang", organisation="Handan Commerce Bureau", city="Handan")
    return colleague, stranger


@pytest.mark.parametrize("rooms", ["kept", "new to the process"])
def test_a_batch_reads_what_each_join_would_read_alone_in_three_statements(app, room, connect, rooms):
    colleague, stranger = _populated(room, connect)
    sid = room["session"].id
    hidden = make_session(make_fair(room["organiser"], publish=False), room["organiser"]).id  # attendees: 404
    people = [room["sjz"], room["ts"], colleague, stranger, room["organiser"], room["agent"]]
    db.session.commit()
    expected = [_alone(person, sid) for person in people]
    _alone(room["organiser"], hidden)  # both rooms kept by the process (a room new to it is loaded once)
    assert expected[0][1][0] and expected[1][1][1] and expected[2][2]  # sjz asked, ts voted, the colleague sees sjz's interest

    batch = [live._PendingJoin(person, sid) for person in people]
    batch += [live._PendingJoin(room["sjz"], hidden), live._PendingJoin(room["organiser"], hidden),
              live._PendingJoin(room["ts"], "2"), live._PendingJoin(room["ts"], 10**6)]
    if rooms != "kept":  # the rooms' projects are read with their rows (on PostgreSQL the interests after)
        app.extensions["cloudfair.interest_rooms"].clear()
    with sql_seen() as seen:
        live._read_joins(batch)
    if rooms == "kept":
        assert len(seen) == 3, seen  # the rooms, own questions and votes, the organisations' interests
    assert all(pending.read for pending in batch)
    for pending, (session, marks, interests) in zip(batch, expected):
        assert pending.error is None
        assert pending.room == session and pending.marks == marks and pending.interests == interests
    assert isinstance(batch[6].error, NotFound) and batch[7].error is None and batch[7].room.id == hidden
    assert isinstance(batch[8].error, ValidationFailed) and isinstance(batch[9].error, NotFound)


def test_a_join_alone_reads_alone_and_answers_the_same(app, room, connect):
    colleague, _ = _populated(room, connect)
    state = _emit(connect(colleague), "join", {"session_id": room["session"].id})
    assert state["ok"] is True and state["mine"] == [] and state["voted"] == []
    assert set(state["my_interests"]) == {str(room["project"].id)}  # the organisation's, not the person's own
    assert live._joins.batches[-1:] == [1]  # nobody else was joining: a batch of one, read by its caller


@postgres_only
def test_joins_at_once_are_answered_from_one_batch(app, room, connect, monkeypatch):
    colleague, stranger = _populated(room, connect)
    sid = room["session"].id
    app.config["LIVE_ATTENDANCE_BATCH_SECONDS"] = 3600
    people = [room["sjz"].id, room["ts"].id, colleague.id, stranger.id]
    expected = {}
    for person_id in people:
        alone = live.join(db.session.get(User, person_id), sid)
        expected[person_id] = (alone["mine"], alone["voted"], alone["my_interests"], alone["seq"])
    db.session.remove()
    commit = _one_batch(app, monkeypatch, live, "_joins", live._read_joins, len(people))

    def joining(person_id):
        state = live.join(db.session.get(User, person_id), sid)
        return state["mine"], state["voted"], state["my_interests"], state["seq"]

    answers = in_threads([_in_app(app, lambda person_id=person_id: joining(person_id)) for person_id in people])
    assert commit.batches == [len(people)]
    assert dict(zip(people, answers)) == expected


def test_a_failed_batch_leaves_each_join_to_read_alone(app, room, connect, monkeypatch):
    _populated(room, connect)
    sid = room["session"].id

    def broken(batch):
        raise RuntimeError("the database went away mid-batch")

    monkeypatch.setattr(live, "_joins", GroupCommit(broken))
    monkeypatch.setattr(live, "_read_joins", broken)
    state = live.join(room["sjz"], sid)
    assert len(state["mine"]) == 1 and set(state["my_interests"]) == {str(room["project"].id)}
    assert db.session.get(Fair, room["fair"].id) is not None
