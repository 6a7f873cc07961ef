"""Moving a meeting (same UID, higher SEQUENCE, both told), withdrawing availability over the API,
and an attendee's own working hours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar

from app.extensions import db
from app.meetings import services
from app.meetings.models import Availability, Meeting, MeetingClaim
from tests.conftest import count, mails_to
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

UTC = timezone.utc


def _world():
    organiser = make_organiser()
    presenter = make_presenter("Europe/Berlin", locale="en")
    attendee = make_user("attendee", timezone="Asia/Shanghai", organisation="Shijiazhuang Bureau", locale="zh")
    project = make_project(presenter)
    fair = make_fair(organiser)
    make_session(fair, organiser, presenter_ids=[presenter.id], project_ids=[project.id])
    return organiser, presenter, attendee, project, fair


def _booked(attendee, project):
    slots = services.meeting_slots(attendee, project.id)
    meeting, _ = services.book(attendee, {"project_id": project.id, "starts_at": slots[0]["starts_at"],
                                          "client_id": "move-me-0001"})
    later = next(s["starts_at"] for s in slots if s["starts_at"] >= meeting.ends_at + timedelta(hours=1))
    return meeting, later


def _events(address):
    return [next(c for c in Calendar.from_ical(m.ics).walk("VEVENT")) for m in mails_to(address) if m.ics]


def test_rescheduling_keeps_the_uid_raises_the_sequence_and_tells_both_in_their_language(client, auth):
    organiser, presenter, attendee, project, fair = _world()
    meeting, later = _booked(attendee, project)

    response = client.post(f"/api/v1/meetings/{meeting.id}/reschedule", json={"starts_at": later.isoformat()},
                           headers=auth(presenter))

    assert response.status_code == 200, response.text
    assert response.get_json()["starts_at"].startswith(later.strftime("%Y-%m-%dT%H:%M"))
    for address in (attendee.email, presenter.email):
        events = _events(address)
        assert len({str(e["uid"]) for e in events}) == 1
        assert int(events[-1]["sequence"]) > int(events[0]["sequence"])
        assert events[-1].decoded("dtstart") == later
    assert mails_to(attendee.email)[-1].subject.startswith("会谈时间已变更")
    assert mails_to(presenter.email)[-1].subject.startswith("Meeting moved")
    db.session.expire_all()
    claims = sorted(c.starts_at for c in db.session.query(MeetingClaim).filter_by(meeting_id=meeting.id))
    assert claims[0] == later  # the old quarters are free again, the new ones taken


def test_rescheduling_onto_a_taken_time_or_outside_hours_changes_nothing(client, auth):
    organiser, presenter, attendee, project, fair = _world()
    meeting, later = _booked(attendee, project)
    other = make_user("attendee", organisation="Tangshan Bureau")
    taken, _ = services.book(other, {"project_id": project.id, "starts_at": later, "client_id": "take-it-0001"})
    before = (meeting.starts_at, meeting.sequence)
    night = (later.astimezone(UTC).replace(hour=23, minute=0))

    busy = client.post(f"/api/v1/meetings/{meeting.id}/reschedule", json={"starts_at": later.isoformat()},
                       headers=auth(attendee))
    outside = client.post(f"/api/v1/meetings/{meeting.id}/reschedule", json={"starts_at": night.isoformat()},
                          headers=auth(attendee))
    garbage = client.post(f"/api/v1/meetings/{meeting.id}/reschedule", json={"starts_at": "tomorrow"},
                          headers=auth(attendee))

    assert busy.status_code == 409 and busy.get_json()["error"]["code"] == "slot_taken"
    assert outside.status_code == 422 and "starts_at" in outside.get_json()["error"]["details"]["fields"]
    assert garbage.status_code == 422
    db.session.expire_all()
    assert (db.session.get(Meeting, meeting.id).starts_at, db.session.get(Meeting, meeting.id).sequence) == before


def test_another_organisation_cannot_move_the_meeting(client, auth):
    organiser, presenter, attendee, project, fair = _world()
    meeting, later = _booked(attendee, project)
    stranger = make_user("attendee", organisation="Cangzhou Bureau")

    response = client.post(f"/api/v1/meetings/{meeting.id}/reschedule", json={"starts_at": later.isoformat()},
                           headers=auth(stranger))

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).sequence == meeting.sequence


def test_withdrawing_availability_over_the_api(client, auth):
    organiser, presenter, attendee, project, fair = _world()
    day = (datetime.now(UTC) + timedelta(days=20)).replace(hour=1, minute=0, second=0, microsecond=0)
    hours = services.open_hours(organiser, fair, day, day + timedelta(hours=8))
    row = services.publish_availability(presenter, hours, day + timedelta(hours=1), day + timedelta(hours=2))
    other_presenter = make_presenter()

    refused = client.delete(f"/api/v1/availability/{row.id}", headers=auth(other_presenter))
    done = client.delete(f"/api/v1/availability/{row.id}", headers=auth(presenter))
    again = client.delete(f"/api/v1/availability/{row.id}", headers=auth(presenter))

    assert refused.status_code == 404 and done.status_code == 204 and again.status_code == 404
    assert count(Availability) == 0


def test_an_attendees_own_working_hours_shape_the_slots(client, auth):
    organiser, presenter, attendee, project, fair = _world()
    start = datetime(2027, 3, 22, tzinfo=UTC)  # a Monday; Shanghai +8, Berlin +1
    before = services.meeting_slots(attendee, project.id, starts_from=start, to=start + timedelta(days=1),
                                     now=datetime(2027, 3, 20, tzinfo=UTC))

    saved = client.put("/api/v1/me/meeting-settings", json={"day_start": "17:00", "day_end": "19:00"},
                       headers=auth(attendee))
    after = services.meeting_slots(attendee, project.id, starts_from=start, to=start + timedelta(days=1),
                                   now=datetime(2027, 3, 20, tzinfo=UTC))

    assert saved.status_code == 200 and saved.get_json()["day_start"] == "17:00"
    assert saved.get_json()["auto_accept"] is False and saved.get_json()["meeting_url"] is None
    assert len(after) < len(before)
    assert [s["attendee_local"][11:16] for s in after] == ["17:00", "17:30", "18:00", "18:30"]


def test_bad_working_hours_are_refused_and_nothing_saved(client, auth):
    organiser, presenter, attendee, project, fair = _world()

    response = client.put("/api/v1/me/meeting-settings", json={"day_start": "19:00", "day_end": "09:00"},
                          headers=auth(attendee))

    assert response.status_code == 422
    assert client.get("/api/v1/me/meeting-settings", headers=auth(attendee)).get_json()["day_start"] == "08:00"


def test_working_hours_need_a_body_and_an_unknown_project_is_a_404(client, auth):
    organiser, presenter, attendee, project, fair = _world()
    client.put("/api/v1/me/meeting-settings", json={"day_start": "09:00", "day_end": "17:00"}, headers=auth(attendee))

    empty = client.put("/api/v1/me/meeting-settings", headers=auth(attendee))

    assert empty.status_code == 422 and list(empty.get_json()["error"]["details"]["fields"]) == ["body"]
    assert client.get("/api/v1/me/meeting-settings", headers=auth(attendee)).get_json()["day_start"] == "09:00"
    unknown = client.post("/api/v1/meetings", json={"project_id": 2147483646, "starts_at": "2027-03-22T09:00:00Z",
                                                    "minutes": 15, "note": "", "client_id": "m-unknown-0001"},
                          headers=auth(attendee))
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"


def test_a_json_true_or_false_is_the_only_boolean_a_body_takes(client, auth):
    organiser, presenter, attendee, project, fair = _world()
    for value in (0, 1, "yes", "on"):
        answer = client.put("/api/v1/me/meeting-settings", json={"auto_accept": value}, headers=auth(presenter))
        assert answer.status_code == 422 and "auto_accept" in answer.get_json()["error"]["details"]["fields"], value
        refused = client.patch(f"/api/v1/fairs/{fair.id}", json={"waitlist": value}, headers=auth(organiser))
        assert refused.status_code == 422, value
    assert client.put("/api/v1/me/meeting-settings", json={"auto_accept": True},
                      headers=auth(presenter)).get_json()["auto_accept"] is True
