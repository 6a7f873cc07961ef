"""What a join costs the server, counted in statements (not timed): the session from the room cache
(one query, no lazy loads of the fair, presenters or projects), one query per part of the state, the
same count whatever the number of questions, and no write once the person's attendance is recorded."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from app.extensions import db
from app.fairs import services as fairs
from app.live import services as live
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.live.test_interest_ingest import Statements


def _room():
    organiser = make_organiser()
    agent = make_presenter()
    projects = [make_project(agent, title=f"Project {n}") for n in range(3)]
    session = make_session(make_fair(organiser), organiser, presenter_ids=[agent.id],
                           project_ids=[p.id for p in projects])
    return session, projects


def _join_statements(person, session_id, **kwargs) -> tuple[list[str], dict]:
    with Statements() as seen:
        state = live.join(person, session_id, **kwargs)
    return seen.log, state


def test_a_join_is_a_few_statements_whatever_the_number_of_questions(app):
    session, projects = _room()
    sid, starts = session.id, session.starts_at
    person = make_user("attendee", organisation="Shijiazhuang Commerce Bureau")
    askers = [make_user("attendee", organisation=f"City {n}") for n in range(6)]
    with time_machine.travel(starts + timedelta(minutes=5), tick=False):
        live.ask(askers[0], sid, "How large is the plant?", "q-cost-00000")
        live.express_interest(person, sid, {"project_id": projects[0].id, "level": "info", "client_id": "i-cost-0001"})
        first, _ = _join_statements(person, sid)
        assert first.count("COMMIT") == 1  # the attendance, recorded once
        again, state = _join_statements(person, sid)
        for n, asker in enumerate(askers[1:], start=1):
            live.ask(asker, sid, f"Question {n}", f"q-cost-{n:05d}")
        person.organisation  # loaded again after those commits, as the socket handler loads the person
        later, more = _join_statements(person, sid)
    assert len(state["questions"]) == 1 and len(more["questions"]) == 6
    assert "COMMIT" not in again and "COMMIT" not in later
    # room, registration, seq, own marks, own interests, questions, counts
    assert len(again) <= 7, again
    assert len(later) == len(again), later
    lazy = [s for s in later if s.startswith(("SELECT fairs.", "SELECT users.", "SELECT projects."))
            or "session_presenters" in s or "FROM fair_sessions WHERE" in s]
    assert lazy == [], later


def test_the_room_cache_follows_the_fair_revision(app):
    session, projects = _room()
    sid = session.id
    person = make_user("attendee", organisation="Tangshan Commerce Bureau")
    assert set(live.join(person, sid)["interest_counts"]) == {str(p.id) for p in projects}
    added = make_project(make_presenter(), title="Sludge drying")
    fairs.update_session(make_organiser(), db.session.get(type(session), sid),
                         {"project_ids": [p.id for p in projects] + [added.id]})
    assert str(added.id) in live.join(person, sid)["interest_counts"]


def test_a_join_carries_the_first_page_of_questions_and_the_rest_come_page_by_page(app, client, auth, login_as):
    app.config["LIVE_JOIN_QUESTIONS"] = 3
    session, _ = _room()
    sid, starts = session.id, session.starts_at
    askers = [make_user("attendee", organisation=f"Hebei city {n}") for n in range(5)]
    reader = make_user("attendee", organisation="Langfang Commerce Bureau")
    with time_machine.travel(starts + timedelta(minutes=5), tick=False):
        asked = [live.ask(asker, sid, f"Question {n}", f"q-page-{n:05d}").value["id"] for n, asker in enumerate(askers)]
        live.vote(reader, asked[4])  # the last one asked climbs to the top: the room's order, not the asking order
        state = live.join(reader, sid)
    expected = ["Question 4", "Question 0", "Question 1", "Question 2", "Question 3"]
    assert [q["text"] for q in state["questions"]] == expected[:3]
    assert state["questions_more"] is True
    assert state["questions"][0]["voted"] is True

    headers = auth(reader)
    everything = client.get(f"/api/v1/sessions/{sid}/questions", headers=headers).json
    assert [q["text"] for q in everything["items"]] == expected and everything["total"] == 5
    assert "page" not in everything  # without per_page: every question, as before paging
    pages = [client.get(f"/api/v1/sessions/{sid}/questions?per_page=3&page={n}", headers=headers).json for n in (1, 2)]
    assert [q["text"] for page in pages for q in page["items"]] == expected
    assert [(p["page"], p["per_page"], p["total"]) for p in pages] == [(1, 3, 5), (2, 3, 5)]
    for bad in ("per_page=0", "per_page=101", "page=0&per_page=3", "per_page=three"):
        answer = client.get(f"/api/v1/sessions/{sid}/questions?{bad}", headers=headers)
        assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_failed", bad

    page = login_as(reader).get(f"/sessions/{sid}/live").text
    assert "Question 1" in page and "Question 2" not in page
    assert '<p id="questions-more-line">' in page  # the "Show more questions" line, not hidden

    app.config["LIVE_JOIN_QUESTIONS"] = 5
    with time_machine.travel(starts + timedelta(minutes=6), tick=False):
        assert live.join(reader, sid)["questions_more"] is False
        assert '<p id="questions-more-line" hidden>' in login_as(reader).get(f"/sessions/{sid}/live").text


def test_by_default_a_join_carries_twenty_questions(app):
    """The page size a join storm pays for each joiner (README, `LIVE_JOIN_QUESTIONS`): 20 unless set."""
    assert app.config["LIVE_JOIN_QUESTIONS"] == 20  # the tests' configuration keeps the production default
    session, _ = _room()
    sid, starts = session.id, session.starts_at
    reader = make_user("attendee", organisation="Langfang Commerce Bureau")
    with time_machine.travel(starts + timedelta(minutes=5), tick=False):
        for n in range(21):
            live.ask(make_user("attendee", organisation=f"Hebei park {n}"), sid, f"Question {n}", f"q-deflt-{n:05d}")
        state = live.join(reader, sid)
    assert len(state["questions"]) == 20 and state["questions_more"] is True


def test_the_organisation_s_interests_cost_one_query_however_many_colleagues_expressed_them(app):
    session, projects = _room()
    sid, starts = session.id, session.starts_at
    person = make_user("attendee", organisation="Baoding Commerce Bureau")
    with time_machine.travel(starts + timedelta(minutes=5), tick=False):
        live.express_interest(person, sid, {"project_id": projects[0].id, "level": "info", "client_id": "i-org-00000"})
        live.join(person, sid)
        person.organisation
        alone, _ = _join_statements(person, sid)
        colleagues = [make_user("attendee", organisation="Baoding Commerce Bureau", name=f"Colleague {n}") for n in range(4)]
        for n, colleague in enumerate(colleagues):
            live.express_interest(colleague, sid, {"project_id": projects[n % 3].id, "level": "intent",
                                                   "client_id": f"i-org-{n + 1:05d}"})
        db.session.expire_all()  # nobody in the session's memory: a lazy load per interest would show
        person.organisation
        shared, state = _join_statements(person, sid)
    assert len(shared) == len(alone), shared
    items = [item for entry in state["my_interests"].values() for item in entry["items"]]
    assert sorted(item["user"] for item in items) == sorted([person.name] + [f"Colleague {n}" for n in range(4)])
    assert state["my_interests"][str(projects[0].id)]["level"] == "intent"  # the highest of the two
