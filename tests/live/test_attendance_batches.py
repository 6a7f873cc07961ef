"""Attendance from a join storm, written in batches (app/live/attendance.py): no commit on the join
path, every person's attendance at the moment they joined once the batch is written, the same rules
as one at a time (a registered person stays registered, a withdrawn one or someone without a place
becomes a walk-in, a waiting one stays waiting), and a failed write loses nobody."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.fairs import services as fairs
from app.fairs.models import Registration
from app.live import attendance
from app.live import services as live
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.live.test_interest_ingest import Statements


@pytest.fixture
def storm(app):
    app.config["LIVE_ATTENDANCE_BATCH_SECONDS"] = 3600  # the writer never runs by itself here: the test writes
    organiser = make_organiser()
    agent = make_presenter()
    project = make_project(agent, title="Hydrogen fuel cells")
    session = make_session(make_fair(organiser, capacity=2, waitlist=True), organiser, presenter_ids=[agent.id],
                           project_ids=[project.id])
    return {"app": app, "session": session, "sid": session.id, "fair_id": session.fair_id, "starts": session.starts_at}


def _registrations(fair_id) -> dict[int, Registration]:
    db.session.expire_all()
    return {r.user_id: r for r in db.session.scalars(select(Registration).where(Registration.fair_id == fair_id))}


def test_joins_commit_nothing_and_one_write_records_everyone_at_their_join_time(storm):
    registered = make_user("attendee", organisation="Shijiazhuang Commerce Bureau")
    withdrawn = make_user("attendee", organisation="Tangshan Commerce Bureau")
    waiting_ahead = make_user("attendee", organisation="Baoding Commerce Bureau")
    waiting = make_user("attendee", organisation="Langfang Commerce Bureau")
    walk_ins = [make_user("attendee", organisation=f"Hebei enterprise {n}") for n in range(12)]
    fairs.register(registered, storm["fair_id"])
    fairs.register(withdrawn, storm["fair_id"])
    fairs.register(waiting_ahead, storm["fair_id"])
    fairs.withdraw(withdrawn, storm["fair_id"])  # the waiting list's first moves up into the place
    fairs.register(waiting, storm["fair_id"])
    before = _registrations(storm["fair_id"])
    assert before[waiting.id].status == "waitlisted" and before[withdrawn.id].status == "withdrawn"

    joined_at = {}
    people = [registered, withdrawn, waiting, *walk_ins]
    with Statements() as seen:
        for n, person in enumerate(people):
            moment = storm["starts"] + timedelta(minutes=1, seconds=n)
            with time_machine.travel(moment, tick=False):
                live.join(person, storm["sid"])
            joined_at[person.id] = moment
    assert "COMMIT" not in seen.log
    assert all(r.attended_at is None for r in _registrations(storm["fair_id"]).values())

    with Statements() as written:
        assert attendance.write(storm["app"]) == len(people)
    assert written.log.count("COMMIT") == 1

    after = _registrations(storm["fair_id"])
    assert {p.id: after[p.id].attended_at for p in people} == joined_at
    assert after[registered.id].status == "registered"
    assert after[withdrawn.id].status == "walk_in"
    assert after[waiting.id].status == "waitlisted"
    assert all(after[p.id].status == "walk_in" for p in walk_ins)
    assert after[waiting_ahead.id].attended_at is None  # never joined


def test_a_person_written_once_costs_later_joins_no_registration_read(storm):
    person = make_user("attendee", organisation="Cangzhou Commerce Bureau")
    with time_machine.travel(storm["starts"] + timedelta(minutes=2), tick=False):
        live.join(person, storm["sid"])
        attendance.write(storm["app"])
        with Statements() as seen:
            live.join(person, storm["sid"])
    assert not [s for s in seen.log if "FROM registrations" in s], seen.log
    assert attendance.write(storm["app"]) == 0
    assert _registrations(storm["fair_id"])[person.id].attended_at == storm["starts"] + timedelta(minutes=2)


def test_joining_before_the_session_notes_nothing(storm):
    person = make_user("attendee", organisation="Hengshui Commerce Bureau")
    with time_machine.travel(storm["starts"] - timedelta(days=2), tick=False):
        live.join(person, storm["sid"])
    assert attendance.write(storm["app"]) == 0
    assert person.id not in _registrations(storm["fair_id"])


def test_a_failed_write_keeps_its_people_for_the_next(storm, monkeypatch):
    person = make_user("attendee", organisation="Xingtai Commerce Bureau")
    moment = storm["starts"] + timedelta(minutes=3)
    with time_machine.travel(moment, tick=False):
        live.join(person, storm["sid"])
    real = fairs.record_attendances

    def broken(joined):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(fairs, "record_attendances", broken)
    assert attendance.write(storm["app"]) == 0
    monkeypatch.setattr(fairs, "record_attendances", real)
    assert attendance.write(storm["app"]) == 1
    assert _registrations(storm["fair_id"])[person.id].attended_at == moment


def test_the_background_writer_records_the_joins_by_itself(storm):
    from tests.conftest import wait_until

    storm["app"].config["LIVE_ATTENDANCE_BATCH_SECONDS"] = 0.1
    person = make_user("attendee", organisation="Chengde Commerce Bureau")
    with time_machine.travel(storm["starts"] + timedelta(minutes=4), tick=True):
        live.join(person, storm["sid"])
        assert wait_until(lambda: _registrations(storm["fair_id"]).get(person.id) is not None
                          and _registrations(storm["fair_id"])[person.id].attended_at is not None, timeout=10)
