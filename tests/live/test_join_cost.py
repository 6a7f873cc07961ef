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
