"""The live room over Socket.IO with real Socket.IO test clients (Flask-SocketIO's), and over HTTP."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db, socketio
from app.fairs import services as fairs
from app.fairs.models import Registration
from app.leads.models import Interest, Lead, LeadEvent
from app.live import services as live
from app.live.models import LiveEvent, Question
from app.notifications.models import Notification
from tests.conftest import at_once, wait_until
from tests.live.conftest import ask_twice_over_http, make_room
from tests.factories import at, make_fair, make_organiser, make_presenter, make_project, make_session, make_user

NS = "/live"


@pytest.fixture
def room(app):
    return make_room(other_project=True)


def _emit(client, event, data):
    return client.emit(event, data, namespace=NS, callback=True)


def _events(client, name=None):
    received = client.get_received(NS)
    return [(m["name"], m["args"][0]) for m in received if name is None or m["name"] == name]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- connecting


def test_connect_needs_a_valid_token_or_login(room, connect, login):
    assert not connect().is_connected(NS)
    assert not connect(token="forged-token").is_connected(NS)
    assert connect(room["sjz"]).is_connected(NS)
    browser = login(room["ts"])
    assert connect(flask_client=browser).is_connected(NS)


def test_a_token_connects_only_while_it_and_its_person_hold(app, room, connect):
    """The connect reads the token's person in one row (`live.person_for_token`): a revoked or expired
    token, or a deactivated person, is refused as `user_for_token` refuses them."""
    from app.accounts.services import issue_token, revoke_token

    revoked, _ = issue_token(room["sjz"])
    assert connect(token=revoked).is_connected(NS)
    assert revoke_token(revoked) is True
    assert not connect(token=revoked).is_connected(NS)

    expiring, _ = issue_token(room["ts"])
    hours = app.config["TOKEN_TTL_HOURS"]
    with time_machine.travel(live.utcnow() + timedelta(hours=hours, minutes=1)):
        assert not connect(token=expiring).is_connected(NS)
    assert connect(token=expiring).is_connected(NS)
    room["ts"].active = False
    db.session.commit()
    assert not connect(token=expiring).is_connected(NS)

    client = connect(room["organiser"])  # the person as the connect read them: an organiser moderates
    assert _emit(client, "join", {"session_id": room["session"].id})["staff"] is True


def test_other_origins_are_refused(app, room, auth):
    token = auth(room["sjz"])["Authorization"][7:]
    foreign = socketio.test_client(app, namespace=NS, auth={"token": token}, headers={"Origin": "https://evil.example"})
    assert not foreign.is_connected(NS)
    own = socketio.test_client(app, namespace=NS, auth={"token": token}, headers={"Origin": "http://localhost"})
    assert own.is_connected(NS)
    own.disconnect(namespace=NS)


def test_join_needs_a_session_one_may_see(room, connect):
    organiser = room["organiser"]
    draft = make_fair(organiser, publish=False, starts_at=room["fair"].starts_at + timedelta(days=7),
                      ends_at=room["fair"].ends_at + timedelta(days=7))
    hidden = make_session(draft, organiser, starts_at=draft.starts_at, ends_at=draft.starts_at + timedelta(minutes=30))
    client = connect(room["sjz"])
    denied = _emit(client, "join", {"session_id": hidden.id})
    assert denied == {"ok": False, "error": {"code": "not_found", "message": "No such session."}}
    bad = _emit(client, "join", {"session_id": "one"})
    assert bad["ok"] is False and bad["error"]["code"] == "validation_failed"
    ok = _emit(client, "join", {"session_id": room["session"].id})
    assert ok["ok"] is True and ok["seq"] == 0 and ok["questions"] == [] and ok["presence"] == 1
    assert ok["interest_counts"] == {str(room["project"].id): 0, str(room["other_project"].id): 0}


def test_joining_while_the_session_is_live_marks_attendance(room, connect):
    fairs.register(room["sjz"], room["fair"].id)
    with time_machine.travel(room["session"].starts_at + timedelta(minutes=5), tick=False):
        ack = _emit(connect(room["sjz"]), "join", {"session_id": room["session"].id})
    assert ack["ok"] is True
    registration = db.session.scalars(select(Registration).where(Registration.user_id == room["sjz"].id)).one()
    assert registration.attended_at == room["session"].starts_at + timedelta(minutes=5)
    assert registration.status == "registered"


def test_joining_weeks_before_records_nothing_and_registers_nobody(room, connect, login):
    with time_machine.travel(room["session"].starts_at - timedelta(days=21), tick=False):
        ack = _emit(connect(room["sjz"]), "join", {"session_id": room["session"].id})
        assert ack["ok"] is True
        browser = login(room["ts"])
        assert browser.get(f"/sessions/{room['session'].id}/live").status_code == 200  # opening the room page
        assert browser.get(f"/fairs/{room['fair'].id}").status_code == 200
    assert _count(Registration) == 0
    assert fairs.registration_counts(room["fair"].id) == {"registered": 0, "waitlisted": 0, "attended": 0,
                                                          "walk_ins": 0}


def _join_at(person, session, moment):
    with time_machine.travel(moment, tick=False):
        live.join(person, session.id)
    db.session.expire_all()
    return db.session.scalar(select(Registration).where(Registration.user_id == person.id,
                                                        Registration.fair_id == session.fair_id))


@pytest.mark.parametrize("offset, recorded", [
    (-timedelta(minutes=16), False),  # before the grace period
    (-timedelta(minutes=15), True),   # the grace period's first minute
    (timedelta(minutes=20), True),    # during the session
    ("end+15", True),                 # the grace period's last minute after the end
    ("end+16", False),                # after it
])
def test_attendance_counts_only_while_live_or_within_the_grace_period(room, offset, recorded):
    session = room["session"]
    fairs.register(room["sjz"], room["fair"].id)
    if isinstance(offset, str):
        moment = session.ends_at + timedelta(minutes=int(offset[4:]))
    else:
        moment = session.starts_at + offset
    registration = _join_at(room["sjz"], session, moment)
    assert (registration.attended_at is not None) is recorded
    assert registration.status == "registered"


def test_the_grace_period_is_a_setting(app, room):
    app.config["ATTENDANCE_GRACE_MINUTES"] = 0
    fairs.register(room["sjz"], room["fair"].id)
    registration = _join_at(room["sjz"], room["session"], room["session"].starts_at - timedelta(minutes=1))
    assert registration.attended_at is None
    registration = _join_at(room["sjz"], room["session"], room["session"].starts_at)
    assert registration.attended_at is not None


def test_a_session_marked_live_counts_whatever_the_clock_says(room):
    session = room["session"]
    session.status = "live"  # started early by hand
    db.session.commit()
    registration = _join_at(room["ts"], session, session.starts_at - timedelta(hours=2))
    assert registration is not None and registration.attended_at is not None


def test_a_cancelled_session_records_no_attendance(room):
    session = room["session"]
    fairs.cancel_session(room["organiser"], session)
    assert _join_at(room["ts"], session, session.starts_at + timedelta(minutes=5)) is None


def test_a_walk_in_attends_without_taking_a_place(room, login):
    fair, session = room["fair"], room["session"]
    fairs.update_fair(room["organiser"], fair, {"capacity": 1})
    fairs.register(room["sjz"], fair.id)
    walk_in = _join_at(room["ts"], session, session.starts_at + timedelta(minutes=1))
    assert (walk_in.status, walk_in.attended_at is not None) == ("walk_in", True)
    assert fairs.registration_counts(fair.id) == {"registered": 1, "waitlisted": 0, "attended": 1, "walk_ins": 1}
    with time_machine.travel(session.starts_at + timedelta(minutes=2), tick=False):
        page = login(room["ts"]).get(f"/fairs/{fair.id}").text
    assert "1 of 1 places taken." in page and "2 of 1" not in page
    assert "You attended." in page and "Join the waiting list" in page
    # A walk-in may still ask for a place; the attendance stays.
    registration, created = fairs.register(room["ts"], fair.id)
    assert (registration.status, registration.position, created) == ("waitlisted", 1, True)
    assert registration.attended_at is not None


def test_a_waiting_person_who_joins_is_recorded_as_attended_and_keeps_their_number(room):
    fair, session = room["fair"], room["session"]
    fairs.update_fair(room["organiser"], fair, {"capacity": 1})
    fairs.register(room["sjz"], fair.id)
    fairs.register(room["ts"], fair.id)
    registration = _join_at(room["ts"], session, session.starts_at)
    assert (registration.status, registration.attended_at is not None) == ("waitlisted", True)
    assert fairs.waitlist_position(registration) == 1
    assert fairs.registration_counts(fair.id) == {"registered": 1, "waitlisted": 1, "attended": 1, "walk_ins": 0}


def test_someone_who_withdrew_and_joins_anyway_is_a_walk_in(room):
    fairs.register(room["sjz"], room["fair"].id)
    fairs.withdraw(room["sjz"], room["fair"].id)
    registration = _join_at(room["sjz"], room["session"], room["session"].starts_at)
    assert (registration.status, registration.attended_at is not None) == ("walk_in", True)


def test_attendance_in_a_zone_that_changes_to_summer_time_that_morning(room):
    """Europe/Berlin moves to CEST at 02:00 on 28 March 2027: a 09:00 session starts at 07:00 UTC."""
    organiser = room["organiser"]
    fair = make_fair(organiser, timezone="Europe/Berlin", starts_at=at("2027-03-28T08:00+02:00"),
                     ends_at=at("2027-03-28T14:00+02:00"))
    session = make_session(fair, organiser, starts_at=at("2027-03-28T09:00+02:00"),
                           ends_at=at("2027-03-28T10:00+02:00"))
    assert session.starts_at.isoformat() == "2027-03-28T07:00:00+00:00"
    # 08:40 summer time is 20 minutes early; 08:50 is 10 (on winter time's offset the session would
    # start at 08:00 UTC and 08:50 summer time would be 70 minutes early).
    assert _join_at(room["sjz"], session, at("2027-03-28T08:40+02:00")) is None
    registration = _join_at(room["sjz"], session, at("2027-03-28T08:50+02:00"))
    assert registration.status == "walk_in" and registration.attended_at == at("2027-03-28T06:50+00:00")
    assert _join_at(room["ts"], session, at("2027-03-28T10:16+02:00")) is None


def test_joining_again_costs_one_read_and_no_write(room):
    session = room["session"]
    fairs.register(room["sjz"], room["fair"].id)
    _join_at(room["sjz"], session, session.starts_at)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    from sqlalchemy import event
    with time_machine.travel(session.starts_at + timedelta(minutes=3), tick=False):
        session = fairs.get_session(room["sjz"], session.id)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert fairs.record_attendance(room["sjz"], session) is False
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")


# ---------------------------------------------------------------- questions


def test_a_question_reaches_everyone_in_the_room_after_it_is_stored(room, connect):
    asker, listener = connect(room["sjz"]), connect(room["ts"])
    for client in (asker, listener):
        _emit(client, "join", {"session_id": room["session"].id})
    listener.get_received(NS)

    ack = _emit(asker, "ask", {"session_id": room["session"].id, "text": "<script>alert(1)</script> When?",
                               "client_id": "q-0000-0001"})
    assert ack["ok"] is True and ack["duplicate"] is False
    assert ack["question"]["text"] == "<script>alert(1)</script> When?"
    stored = db.session.get(Question, ack["question"]["id"])
    assert stored is not None and stored.client_id == "q-0000-0001"
    heard = _events(listener, "question")
    own = {k: ack["question"].pop(k) for k in ("mine", "voted")}
    assert own == {"mine": True, "voted": False}  # the asker's ack says it is theirs; the room's event does not
    assert heard == [("question", {**ack["question"], "seq": 1})]


def test_a_replayed_question_creates_nothing(room, connect):
    client = connect(room["sjz"])
    payload = {"session_id": room["session"].id, "text": "Subsidies?", "client_id": "q-replay-0001"}
    first = _emit(client, "ask", payload)
    again = _emit(client, "ask", payload)
    assert again["duplicate"] is True and again["question"]["id"] == first["question"]["id"]
    assert _count(Question) == 1 and _count(LiveEvent) == 1


@pytest.mark.parametrize("text, field", [
    ("", "text"), ("x" * 1001, "text"), (None, "text"),
    # Only invisible characters: zero-width space, BOM and word joiner, a combining mark, the Hangul filler.
    ("\u200b", "text"), (" \u200b\ufeff\u2060 ", "text"), ("\u0301", "text"), ("\u3164\u2800", "text"),
])
def test_bad_questions_are_refused_and_nothing_is_written(room, connect, text, field):
    ack = _emit(connect(room["sjz"]), "ask", {"session_id": room["session"].id, "text": text, "client_id": "q-bad-00001"})
    assert ack["ok"] is False and ack["error"]["code"] == "validation_failed"
    assert field in ack["error"]["details"]["fields"]
    assert _count(Question) == 0


def test_a_question_with_invisible_characters_around_words_is_kept(room, connect):
    ack = _emit(connect(room["sjz"]), "ask", {"session_id": room["session"].id, "text": "\u200bSubsidies?",
                                                "client_id": "q-zwsp-00001"})
    assert ack["ok"] is True and _count(Question) == 1


def test_votes_count_once_and_order_the_questions(room, connect):
    sid = room["session"].id
    sjz, ts = connect(room["sjz"]), connect(room["ts"])
    first = _emit(sjz, "ask", {"session_id": sid, "text": "First", "client_id": "q-order-0001"})["question"]
    second = _emit(sjz, "ask", {"session_id": sid, "text": "Second", "client_id": "q-order-0002"})["question"]
    voted = _emit(ts, "vote", {"question_id": second["id"]})
    assert voted["ok"] and voted["question"]["votes"] == 1 and voted["duplicate"] is False
    again = _emit(ts, "vote", {"question_id": second["id"]})
    assert again["duplicate"] is True and again["question"]["votes"] == 1
    own = _emit(sjz, "vote", {"question_id": first["id"]})
    assert own["ok"] is False and own["error"]["code"] == "own_question"
    state = _emit(ts, "join", {"session_id": sid})
    assert [q["text"] for q in state["questions"]] == ["Second", "First"]


def test_votes_reach_the_room_folded_as_the_counts_do(app, room, connect):
    """The first vote in a quiet period at once, the next ones within LIVE_COUNT_INTERVAL as one
    `question` event with the tally then (stored: a catch-up replays it); every voter's own answer
    is immediate and exact."""
    app.config["LIVE_COUNT_INTERVAL"] = 1.5
    sid = room["session"].id
    asked = _emit(connect(room["sjz"]), "ask", {"session_id": sid, "text": "Land prices?", "client_id": "q-fold-00001"})
    listener = connect(room["ts"])
    _emit(listener, "join", {"session_id": sid})
    listener.get_received(NS)
    answers = [_emit(connect(make_user("attendee", organisation=f"Park {n}")), "vote",
                     {"question_id": asked["question"]["id"]}) for n in range(4)]
    assert [a["question"]["votes"] for a in answers] == [1, 2, 3, 4]
    heard = [(data["seq"], data["votes"]) for name, data in _events(listener, "question")]
    assert heard == [(2, 1)]  # the first at once

    def folded() -> list:
        heard.extend((data["seq"], data["votes"]) for name, data in _events(listener, "question"))
        return heard[1:]

    assert wait_until(folded)
    assert heard == [(2, 1), (3, 4)]
    caught = _emit(listener, "catch_up", {"session_id": sid, "since_seq": 1})  # replayed as the question is now
    assert [(e["data"]["seq"], e["data"]["votes"]) for e in caught["events"]] == [(2, 4), (3, 4)]


def test_moderation_is_for_staff_and_hidden_questions_leave_the_room(room, connect):
    sid = room["session"].id
    sjz, agent, ts = connect(room["sjz"]), connect(room["agent"]), connect(room["ts"])
    question = _emit(sjz, "ask", {"session_id": sid, "text": "Off-topic advert", "client_id": "q-mod-00001"})["question"]
    _emit(ts, "join", {"session_id": sid})
    ts.get_received(NS)

    refused = _emit(ts, "moderate", {"question_id": question["id"], "action": "hide"})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    bad = _emit(agent, "moderate", {"question_id": question["id"], "action": "delete"})
    assert bad["ok"] is False and "action" in bad["error"]["details"]["fields"]
    hidden = _emit(agent, "moderate", {"question_id": question["id"], "action": "hide"})
    assert hidden["ok"] and hidden["question"]["status"] == "hidden" and hidden["question"]["text"] == "Off-topic advert"

    heard = _events(ts, "question")
    assert heard[-1][1]["status"] == "hidden" and heard[-1][1]["text"] is None
    assert _emit(ts, "join", {"session_id": sid})["questions"] == []
    staff_view = _emit(agent, "join", {"session_id": sid})
    assert [q["text"] for q in staff_view["questions"]] == ["Off-topic advert"]


def test_pins_come_first(room, connect):
    sid = room["session"].id
    sjz, ts, organiser = connect(room["sjz"]), connect(room["ts"]), connect(room["organiser"])
    a = _emit(sjz, "ask", {"session_id": sid, "text": "Popular", "client_id": "q-pin-000001"})["question"]
    b = _emit(sjz, "ask", {"session_id": sid, "text": "Pinned", "client_id": "q-pin-000002"})["question"]
    _emit(ts, "vote", {"question_id": a["id"]})
    _emit(organiser, "moderate", {"question_id": b["id"], "action": "pin"})
    assert [q["text"] for q in _emit(ts, "join", {"session_id": sid})["questions"]] == ["Pinned", "Popular"]
    _emit(organiser, "moderate", {"question_id": b["id"], "action": "unpin"})
    assert [q["text"] for q in _emit(ts, "join", {"session_id": sid})["questions"]] == ["Popular", "Pinned"]


# ---------------------------------------------------------------- catching up


def test_rejoining_with_since_seq_brings_the_missed_events(room, connect):
    sid = room["session"].id
    sjz, ts = connect(room["sjz"]), connect(room["ts"])
    seen = _emit(ts, "join", {"session_id": sid})["seq"]
    ts.disconnect(namespace=NS)
    _emit(sjz, "ask", {"session_id": sid, "text": "While you were away", "client_id": "q-away-0001"})
    _emit(sjz, "ask", {"session_id": sid, "text": "And this", "client_id": "q-away-0002"})

    back = connect(room["ts"])
    state = _emit(back, "join", {"session_id": sid, "since_seq": seen})
    assert [(e["event"], e["data"]["text"], e["data"]["seq"]) for e in state["events"]] == [
        ("question", "While you were away", 1), ("question", "And this", 2)]
    assert state["seq"] == 2 and "questions" not in state

    too_old = _emit(back, "join", {"session_id": sid, "since_seq": 99})
    assert too_old["reset"] is True and len(too_old["questions"]) == 2


def test_seq_survives_a_restart(app, room, connect):
    sid = room["session"].id
    _emit(connect(room["sjz"]), "ask", {"session_id": sid, "text": "Before", "client_id": "q-restart-01"})
    from app.live import services

    assert services.current_seq(sid) == 1  # read back from the database, not from memory


# ---------------------------------------------------------------- interest


def test_expressing_interest_makes_a_lead_and_tells_staff_the_detail(room, connect):
    sid, project = room["session"].id, room["project"]
    sjz, ts, agent = connect(room["sjz"]), connect(room["ts"]), connect(room["agent"])
    for client in (ts, agent):
        _emit(client, "join", {"session_id": sid})
        client.get_received(NS)

    ack = _emit(sjz, "express_interest", {"session_id": sid, "project_id": project.id, "level": "intent",
                                          "note": "We have land in the Luancheng park", "client_id": "i-0000-0001"})
    assert ack["ok"] is True and ack["duplicate"] is False
    assert ack["lead"]["stage"] == "preliminary_intent" and ack["lead"]["organisation"] == "Shijiazhuang Commerce Bureau"
    assert ack["interest"]["level"] == "intent" and ack["interest"]["lead_id"] == ack["lead"]["id"]

    attendee_heard = _events(ts)
    assert ("interest_count", {"project_id": project.id, "count": 1, "session_id": sid, "seq": 2}) in attendee_heard
    assert not [e for e in attendee_heard if e[0] == "interest"]
    staff_heard = _events(agent, "interest")
    assert staff_heard and staff_heard[0][1]["organisation"] == "Shijiazhuang Commerce Bureau"
    assert staff_heard[0][1]["note"] == "We have land in the Luancheng park"

    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "interest")))
    assert told == {room["agent"].id}  # the presenter of each interest; organisers of the session's burst
    folded = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "interests")))
    assert folded == {room["organiser"].id}
    assert [e.to_stage for e in db.session.scalars(select(LeadEvent))] == ["preliminary_intent"]


def test_later_interests_attach_to_the_same_lead(room, connect):
    sid, project = room["session"].id, room["project"]
    sjz = connect(room["sjz"])
    first = _emit(sjz, "express_interest", {"session_id": sid, "project_id": project.id, "level": "info",
                                            "client_id": "i-attach-001"})
    colleague = make_user("attendee", organisation="Shijiazhuang Commerce Bureau")
    second = _emit(connect(colleague), "express_interest", {"session_id": sid, "project_id": project.id,
                                                            "level": "intent", "client_id": "i-attach-002"})
    assert first["lead"]["stage"] == "partner_identified"
    assert second["lead"]["id"] == first["lead"]["id"] and second["lead"]["stage"] == "preliminary_intent"
    assert _count(Lead) == 1 and _count(Interest) == 2


def test_a_replayed_interest_is_acknowledged_again_and_creates_nothing(room, connect):
    sid = room["session"].id
    payload = {"session_id": sid, "project_id": room["project"].id, "level": "meeting", "client_id": "i-replay-01"}
    sjz = connect(room["sjz"])
    first = _emit(sjz, "express_interest", payload)
    again = _emit(connect(room["sjz"]), "express_interest", payload)
    assert again["duplicate"] is True
    assert again["interest"] == first["interest"] and again["lead"] == first["lead"]
    assert _count(Interest) == 1 and _count(Lead) == 1


@pytest.mark.parametrize("change, field", [
    ({"level": "curious"}, "level"),
    ({"project_id": 99999}, "project_id"),
    ({"client_id": "short"}, "client_id"),
    ({"note": "x" * 2001}, "note"),
])
def test_bad_interest_is_refused_and_nothing_is_written(room, connect, change, field):
    payload = {"session_id": room["session"].id, "project_id": room["project"].id, "level": "info",
               "client_id": "i-bad-000001", **change}
    ack = _emit(connect(room["sjz"]), "express_interest", payload)
    assert ack["ok"] is False and field in ack["error"]["details"]["fields"]
    assert _count(Interest) == 0 and _count(Lead) == 0


def test_only_attendees_express_interest(room, connect):
    ack = _emit(connect(room["agent"]), "express_interest", {
        "session_id": room["session"].id, "project_id": room["project"].id, "level": "info", "client_id": "i-agent-0001"})
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"


def test_interest_counts_are_throttled(app, room, connect):
    # Long enough for the four interests below to land inside it on a loaded machine (at 0.4 s they did not).
    app.config["LIVE_COUNT_INTERVAL"] = 2.0
    sid, project = room["session"].id, room["project"]
    listener = connect(room["organiser"])
    _emit(listener, "join", {"session_id": sid})
    listener.get_received(NS)
    people = [make_user("attendee", organisation=f"Park {n}") for n in range(4)]
    for n, person in enumerate(people):
        _emit(connect(person), "express_interest", {"session_id": sid, "project_id": project.id, "level": "info",
                                                    "client_id": f"i-throttle-{n:03d}"})
    counts = [data["count"] for name, data in _events(listener) if name == "interest_count"]
    assert counts == [1]  # the first at once, the rest folded

    def folded_count_arrived() -> bool:
        counts.extend(data["count"] for name, data in _events(listener) if name == "interest_count")
        return len(counts) > 1

    assert wait_until(folded_count_arrived)  # the interval after the first
    assert counts == [1, 4]


# ---------------------------------------------------------------- limits


def test_a_flooding_connection_is_rate_limited_and_others_are_not(app, room, connect):
    app.config.update(LIVE_RATE_PER_SECOND=1, LIVE_BURST=5)
    sid = room["session"].id
    flooder, calm = connect(room["sjz"]), connect(room["ts"])
    acks = [_emit(flooder, "ask", {"session_id": sid, "text": f"Spam {n}", "client_id": f"q-flood-{n:04d}"})
            for n in range(12)]
    limited = [a for a in acks if not a["ok"]]
    assert len(limited) >= 6 and all(a["error"]["code"] == "rate_limited" for a in limited)
    assert _emit(calm, "ask", {"session_id": sid, "text": "A real question", "client_id": "q-calm-00001"})["ok"]


def test_oversized_messages_are_refused(room, connect):
    ack = _emit(connect(room["sjz"]), "ask", {"session_id": room["session"].id, "text": "hi",
                                              "client_id": "q-big-000001", "padding": "x" * 20000})
    assert ack == {"ok": False, "error": {"code": "too_large", "message": "This message is too large."}}
    assert _count(Question) == 0


# ---------------------------------------------------------------- the HTTP side


def test_http_calls_the_same_services_and_broadcasts(client, auth, room, connect):
    sid = room["session"].id
    listener = connect(room["ts"])
    _emit(listener, "join", {"session_id": sid})
    listener.get_received(NS)
    headers = auth(room["sjz"])
    ask_twice_over_http(client, headers, sid, "Over HTTP", "q-http-00001")
    assert [d["text"] for n, d in _events(listener, "question")] == ["Over HTTP"]

    body = {"project_id": room["project"].id, "level": "site_visit", "note": "Visit in March", "client_id": "i-http-00001"}
    made = client.post(f"/api/v1/sessions/{sid}/interests", json=body, headers=headers)
    assert made.status_code == 201 and made.json["lead"]["stage"] == "partner_identified"
    again = client.post(f"/api/v1/sessions/{sid}/interests", json=body, headers=headers)
    assert again.status_code == 200 and again.json == made.json
    assert ("interest_count", {"project_id": room["project"].id, "count": 1, "session_id": sid, "seq": 3}) in _events(listener)
    listed = client.get(f"/api/v1/sessions/{sid}/questions", headers=headers).json
    assert listed["total"] == 1 and listed["seq"] == 3


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)")
def test_concurrent_replays_make_one_interest(app, room):
    from app.accounts.models import User
    from app.live import services

    sid, project_id, user_id = room["session"].id, room["project"].id, room["sjz"].id
    payload = {"project_id": project_id, "level": "meeting", "client_id": "i-race-000001"}
    results, errors = at_once(app, 6, lambda: services.express_interest(db.session.get(User, user_id), sid, dict(payload)))
    assert errors == []
    assert sorted(r.duplicate for r in results) == [False] + [True] * 5
    assert len({r.value["interest"]["id"] for r in results}) == 1
    assert _count(Interest) == 1 and _count(Lead) == 1
