"""The live room knows a person from the server, not from one browser: their own questions, votes and
their organisation's interests on any device; the pitch minute only while the pitch runs; the
projector's current or last pinned question. Real Socket.IO test clients (Flask-SocketIO's)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.leads.models import Interest, Lead, LeadEvent
from app.live import services
from tests.conftest import sql_seen
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

NS = "/live"


def _emit(client, name, data):
    return client.emit(name, data, namespace=NS, callback=True)


def _heard(client, name):
    return [m["args"][0] for m in client.get_received(NS) if m["name"] == name]


def _ask(client, sid, text, client_id):
    ack = _emit(client, "ask", {"session_id": sid, "text": text, "client_id": client_id})
    assert ack["ok"] is True, ack
    return ack["question"]


def test_a_second_device_knows_own_questions_votes_and_interest(room, connect):
    sid, project = room["session"].id, room["project"]
    laptop, other = connect(room["sjz"]), connect(room["ts"])
    for client in (laptop, other):
        assert _emit(client, "join", {"session_id": sid})["ok"] is True
    own = _ask(laptop, sid, "When does the plant start?", "q-laptop-0001")
    theirs = _ask(other, sid, "Which membranes?", "q-other-0001")
    untouched = _ask(other, sid, "Any subsidies?", "q-other-0002")
    assert _emit(laptop, "vote", {"question_id": theirs["id"]})["question"]["voted"] is True
    interest = _emit(laptop, "express_interest", {"session_id": sid, "project_id": project.id, "level": "meeting",
                                                  "note": "Land in Luancheng", "client_id": "i-laptop-0001"})
    assert interest["ok"] is True

    phone = connect(room["sjz"])  # the same person, another device, nothing in its storage
    ack = _emit(phone, "join", {"session_id": sid})
    assert ack["ok"] is True
    assert ack["mine"] == [own["id"]] and ack["voted"] == [theirs["id"]]
    flags = {q["id"]: (q["mine"], q["voted"]) for q in ack["questions"]}
    assert flags == {own["id"]: (True, False), theirs["id"]: (False, True), untouched["id"]: (False, False)}
    mine = ack["my_interests"][str(project.id)]
    assert mine["level"] == "meeting"
    assert [(i["level"], i["note"], i["user"]) for i in mine["items"]] == [("meeting", "Land in Luancheng", "Zhao Min")]

    # Another person sees none of it as theirs.
    stranger = _emit(connect(room["ts"]), "join", {"session_id": sid})
    assert stranger["mine"] == [theirs["id"], untouched["id"]] and stranger["voted"] == []
    assert stranger["my_interests"] == {}

    # Voting for one's own question stays refused on any device (the page never offers it).
    refused = _emit(phone, "vote", {"question_id": own["id"]})
    assert refused["ok"] is False and refused["error"]["code"] == "own_question"


def test_the_http_api_tells_a_reader_what_is_theirs(room, connect, client, auth):
    """The same person over HTTP (another device, no Socket.IO): the question list marks their own
    questions and votes, and /me says the same and carries their organisation's interests."""
    sid, project = room["session"].id, room["project"]
    laptop, other = connect(room["sjz"]), connect(room["ts"])
    own = _ask(laptop, sid, "Is there a site near the port?", "q-http-0001")
    theirs = _ask(other, sid, "What about the permits?", "q-http-0002")
    _emit(laptop, "vote", {"question_id": theirs["id"]})
    assert _emit(laptop, "express_interest", {"session_id": sid, "project_id": project.id, "level": "info",
                                              "client_id": "i-http-0001"})["ok"] is True
    # Raised over HTTP from "the phone": the organisation's level goes up, both interests are listed.
    raised = client.post(f"/api/v1/sessions/{sid}/interests", headers=auth(room["sjz"]), json={
        "project_id": project.id, "level": "site_visit", "note": "Visit in March", "client_id": "i-http-0002"})
    assert raised.status_code == 201, raised.json

    listed = client.get(f"/api/v1/sessions/{sid}/questions", headers=auth(room["sjz"]))
    assert listed.status_code == 200
    assert {q["id"]: (q["mine"], q["voted"]) for q in listed.json["items"]} == {
        own["id"]: (True, False), theirs["id"]: (False, True)}

    me = client.get(f"/api/v1/sessions/{sid}/me", headers=auth(room["sjz"]))
    assert me.status_code == 200
    assert me.json["session_id"] == sid and me.json["mine"] == [own["id"]] and me.json["voted"] == [theirs["id"]]
    entry = me.json["my_interests"][str(project.id)]
    assert entry["level"] == "site_visit"
    assert [(i["level"], i["note"], i["user"]) for i in entry["items"]] == [
        ("info", "", "Zhao Min"), ("site_visit", "Visit in March", "Zhao Min")]

    # Someone else: nothing of it is theirs; their own question is.
    stranger = client.get(f"/api/v1/sessions/{sid}/me", headers=auth(room["ts"])).json
    assert (stranger["mine"], stranger["voted"], stranger["my_interests"]) == ([theirs["id"]], [], {})
    staff = client.get(f"/api/v1/sessions/{sid}/me", headers=auth(room["organiser"])).json
    assert (staff["mine"], staff["voted"], staff["my_interests"]) == ([], [], {})
    assert client.get(f"/api/v1/sessions/{sid}/me").status_code == 401


def test_a_rejoin_with_since_seq_marks_the_missed_questions(room, connect):
    sid = room["session"].id
    laptop, phone = connect(room["sjz"]), connect(room["sjz"])
    first = _emit(phone, "join", {"session_id": sid})
    phone.disconnect(namespace=NS)
    own = _ask(laptop, sid, "A question from the laptop", "q-laptop-0002")
    phone = connect(room["sjz"])
    again = _emit(phone, "join", {"session_id": sid, "since_seq": first["seq"]})
    replayed = [e["data"] for e in again["events"] if e["event"] == "question"]
    assert [(q["id"], q["mine"], q["voted"]) for q in replayed] == [(own["id"], True, False)]


def test_the_persons_other_devices_hear_their_own_question_vote_and_interest(room, connect):
    sid, project = room["session"].id, room["project"]
    laptop, phone, other = connect(room["sjz"]), connect(room["sjz"]), connect(room["ts"])
    for client in (laptop, phone, other):
        _emit(client, "join", {"session_id": sid})
        client.get_received(NS)
    own = _ask(laptop, sid, "Mine", "q-laptop-0003")
    theirs = _ask(other, sid, "Theirs", "q-other-0003")
    _emit(laptop, "vote", {"question_id": theirs["id"]})
    _emit(laptop, "express_interest", {"session_id": sid, "project_id": project.id, "level": "info",
                                       "client_id": "i-laptop-0003"})
    received = phone.get_received(NS)
    names = [(m["name"], m["args"][0]) for m in received]
    assert ("own_question", {"session_id": sid, "question_id": own["id"]}) in names
    assert ("own_vote", {"session_id": sid, "question_id": theirs["id"]}) in names
    interests = [data for name, data in names if name == "own_interest"]
    assert [(i["project_id"], i["level"]) for i in interests] == [(project.id, "info")]
    # The room's copies of the question say nothing about whose it is.
    assert all("mine" not in data for name, data in names if name == "question")
    # The other person hears only of their own question.
    assert [(m["name"], m["args"][0]["question_id"]) for m in other.get_received(NS)
            if m["name"].startswith("own_")] == [("own_question", theirs["id"])]


def test_raising_the_level_and_adding_a_note(room, connect, login):
    sid, project = room["session"].id, room["project"]
    laptop = connect(room["sjz"])
    first = _emit(laptop, "express_interest", {"session_id": sid, "project_id": project.id, "level": "info",
                                               "client_id": "i-raise-0001"})
    raised = _emit(connect(room["sjz"]), "express_interest", {
        "session_id": sid, "project_id": project.id, "level": "intent", "note": "Board approved",
        "client_id": "i-raise-0002"})
    assert raised["ok"] is True and raised["lead"]["id"] == first["lead"]["id"]
    assert raised["lead"]["stage"] == "preliminary_intent"  # the existing lead rule: intent moves the lead
    replay = _emit(laptop, "express_interest", {"session_id": sid, "project_id": project.id, "level": "intent",
                                                "note": "Board approved", "client_id": "i-raise-0002"})
    assert replay["ok"] is True and replay["duplicate"] is True  # client_id idempotency kept
    assert db.session.scalar(select(Lead.stage)) == "preliminary_intent"
    assert len(db.session.scalars(select(Interest)).all()) == 2
    assert [e.to_stage for e in db.session.scalars(select(LeadEvent).order_by(LeadEvent.id))] == [
        "partner_identified", "preliminary_intent"]

    state = _emit(connect(room["sjz"]), "join", {"session_id": sid})["my_interests"][str(project.id)]
    assert state["level"] == "intent"
    assert [(i["level"], i["note"]) for i in state["items"]] == [("info", ""), ("intent", "Board approved")]

    # A colleague of the same organisation sees the organisation's interest on the page.
    colleague = make_user("attendee", name="Li Hua", organisation="Shijiazhuang Commerce Bureau")
    page = login(colleague).get(f"/sessions/{sid}/live").text
    box = re.search(r'data-my-interest-for="%d">(.*?)</div>' % project.id, page, re.S).group(1)
    assert "Ready to negotiate (intent)" in box and "Board approved" in box
    selected = re.findall(r'<option value="(\w+)" selected', re.search(r'id="level-%d".*?</select>' % project.id,
                                                                         page, re.S).group(0))
    assert selected == ["intent"]  # the form starts at the organisation's level: raise it or add a note
    assert "Raise the level or add a note" in page


def test_the_join_reads_the_persons_marks_in_one_query(app, room, connect):
    sid = room["session"].id
    others = [connect(make_user("attendee", organisation=f"Park {n}")) for n in range(3)]
    me = connect(room["sjz"])
    for n, client in enumerate(others):
        question = _ask(client, sid, f"Question {n}", f"q-many-{n:04d}")
        _emit(me, "vote", {"question_id": question["id"]})
    with sql_seen() as seen:  # through the session or on the driver's own connection
        ack = _emit(me, "join", {"session_id": sid})
    assert len(ack["voted"]) == 3
    statements = [statement for statement in seen if "question_votes" in statement]
    assert len(statements) == 1  # one query for the person's questions and votes, not one per question


# ---------------------------------------------------------------- the pitch minute


@pytest.mark.parametrize("offset, expected", [
    (timedelta(minutes=-10), None),  # before the start: no minute 0
    (timedelta(minutes=12, seconds=30), 750),
    (timedelta(minutes=50), None),  # after the end (a 45-minute session)
])
def test_the_pitch_minute_is_recorded_only_while_the_pitch_runs(room, connect, offset, expected):
    session = room["session"]
    with time_machine.travel(session.starts_at + offset, tick=False):
        ack = _emit(connect(room["sjz"]), "express_interest", {
            "session_id": session.id, "project_id": room["project"].id, "level": "info", "client_id": "i-minute-001"})
    assert ack["ok"] is True, ack
    assert ack["interest"]["pitch_second"] == expected
    assert db.session.scalar(select(Interest.pitch_second)) == expected


def test_the_lead_page_says_before_the_pitch_not_minute_0(room, connect, login):
    session = room["session"]
    with time_machine.travel(session.starts_at - timedelta(minutes=30), tick=False):
        ack = _emit(connect(room["sjz"]), "express_interest", {
            "session_id": session.id, "project_id": room["project"].id, "level": "info", "client_id": "i-before-01"})
    with time_machine.travel(session.ends_at + timedelta(minutes=5), tick=False):
        _emit(connect(room["ts"]), "express_interest", {
            "session_id": session.id, "project_id": room["project"].id, "level": "info", "client_id": "i-after-001"})
    organiser = login(room["organiser"])
    page = organiser.get(f"/leads/{ack['lead']['id']}").text
    assert "in “Membrane pitch”, before the pitch" in page
    assert "minute 0" not in page
    after = db.session.scalar(select(Lead.id).where(Lead.id != ack["lead"]["id"]))
    assert "in “Membrane pitch”, after the pitch" in organiser.get(f"/leads/{after}").text


# ---------------------------------------------------------------- the projector


def test_the_projector_shows_the_current_or_else_the_last_pinned_question(room, connect, login):
    sid = room["session"].id
    asker = connect(room["sjz"])
    staff = connect(room["organiser"])
    first = _ask(asker, sid, "First pinned question", "q-proj-0001")
    second = _ask(asker, sid, "Second pinned question", "q-proj-0002")
    _ask(asker, sid, "An open question", "q-proj-0003")
    organiser = login(room["organiser"])

    def shown():
        page = organiser.get(f"/sessions/{sid}/projector").text
        items = re.findall(r'<li class="question([^"]*)" data-id="(\d+)">\s*<p class="q-text">([^<]*)</p>', page)
        return [(int(qid), "answered" if "status-answered" in cls else "open") for cls, qid, _ in items]

    assert _emit(staff, "moderate", {"question_id": first["id"], "action": "pin"})["ok"] is True
    assert shown()[0] == (first["id"], "open")
    _emit(staff, "moderate", {"question_id": first["id"], "action": "answer"})
    assert shown()[0] == (first["id"], "answered")  # kept, marked answered

    with time_machine.travel(db.session.get(services.Question, first["id"]).updated_at + timedelta(seconds=5)):
        _emit(staff, "moderate", {"question_id": second["id"], "action": "pin"})
        _emit(staff, "moderate", {"question_id": second["id"], "action": "answer"})
    listed = shown()
    assert listed[0] == (second["id"], "answered")  # the last pinned one, not the first
    assert first["id"] not in [qid for qid, _ in listed]

    third = _ask(asker, sid, "Third, pinned and open", "q-proj-0004")
    _emit(staff, "moderate", {"question_id": third["id"], "action": "pin"})
    assert shown()[0] == (third["id"], "open")  # a current pinned question wins
    assert second["id"] not in [qid for qid, _ in shown()]


def test_projector_questions_without_any_pin_are_the_open_ones():
    questions = [
        {"id": 1, "status": "answered", "pinned": False, "updated_at": "2026-12-10T07:05:00+00:00"},
        {"id": 2, "status": "open", "pinned": False, "updated_at": "2026-12-10T07:01:00+00:00"},
        {"id": 3, "status": "hidden", "pinned": False, "updated_at": "2026-12-10T07:09:00+00:00"},
    ]
    assert [q["id"] for q in services.projector_questions(questions, 5)] == [2]
    assert services.projector_questions(questions, 0) == []
