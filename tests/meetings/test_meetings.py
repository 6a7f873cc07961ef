"""Meetings: slots across zones and DST, booking (no double booking, also under concurrent requests),
answers, invitations read by a parser, reminders, the lead moving on a held meeting, meeting days."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.leads.models import Lead, LeadEvent
from app.meetings import services
from app.meetings.models import Meeting, MeetingClaim
from app.notifications.models import MailMessage, Notification
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

UTC = timezone.utc


def _world(presenter_zone: str = "Europe/Berlin"):
    organiser = make_organiser()
    presenter = make_presenter(presenter_zone)
    attendee = make_user("attendee", timezone="Asia/Shanghai", organisation="Shijiazhuang Bureau")
    project = make_project(presenter)
    fair = make_fair(organiser)
    make_session(fair, organiser, presenter_ids=[presenter.id], project_ids=[project.id])
    return organiser, presenter, attendee, project


def _starts(slots) -> list[str]:
    return [s["starts_at"].strftime("%a %H:%M") for s in slots]


# ---------------------------------------------------------------- slots


def test_slots_fall_in_both_working_days_and_follow_the_european_clock_change():
    _, presenter, attendee, project = _world()
    # Berlin moves to summer time on Sunday 28 March 2027; Shanghai never moves.
    slots = services.meeting_slots(attendee, project.id, starts_from=datetime(2027, 3, 26, tzinfo=UTC),
                                   to=datetime(2027, 3, 30, tzinfo=UTC), now=datetime(2027, 3, 20, tzinfo=UTC))
    # Friday: 08:00 in Berlin (CET) is 07:00 UTC; Monday (CEST) it is 06:00 UTC. Shanghai's 20:00 is 12:00 UTC.
    friday = [f"Fri {h:02d}:{m:02d}" for h in range(7, 12) for m in (0, 30)]
    monday = [f"Mon {h:02d}:{m:02d}" for h in range(6, 12) for m in (0, 30)]
    assert _starts(slots) == friday + monday
    assert slots[0]["attendee_local"] == "2027-03-26 15:00–15:30 (Asia/Shanghai)"
    assert slots[0]["presenter_local"] == "2027-03-26 08:00–08:30 (Europe/Berlin)"
    assert slots[len(friday)]["presenter_local"] == "2027-03-29 08:00–08:30 (Europe/Berlin)"


def test_slots_leave_out_the_presenters_sessions_and_both_peoples_meetings():
    organiser, presenter, attendee, project = _world()
    fair = make_fair(organiser, starts_at=datetime(2027, 3, 29, 0, 0, tzinfo=UTC), ends_at=datetime(2027, 3, 29, 12, 0, tzinfo=UTC))
    make_session(fair, organiser, starts_at=datetime(2027, 3, 29, 8, 0, tzinfo=UTC),
                 ends_at=datetime(2027, 3, 29, 9, 0, tzinfo=UTC), presenter_ids=[presenter.id])
    other_presenter = make_presenter("America/Toronto")
    other_project = make_project(other_presenter)
    make_session(make_fair(organiser), organiser, project_ids=[other_project.id])
    # The attendee already meets someone else at 10:00 UTC.
    db.session.add(Meeting(client_id="existing-1", project_id=other_project.id, presenter_id=other_presenter.id,
                           attendee_id=attendee.id, organisation_id=attendee.organisation_id, minutes=30,
                           starts_at=datetime(2027, 3, 29, 10, 0, tzinfo=UTC), ends_at=datetime(2027, 3, 29, 10, 30, tzinfo=UTC),
                           status="accepted", meeting_url="https://meet.example/x"))
    db.session.commit()
    slots = services.meeting_slots(attendee, project.id, starts_from=datetime(2027, 3, 29, tzinfo=UTC),
                                   to=datetime(2027, 3, 30, tzinfo=UTC), now=datetime(2027, 3, 20, tzinfo=UTC))
    assert _starts(slots) == ["Mon 06:00", "Mon 06:30", "Mon 07:00", "Mon 07:30", "Mon 09:00", "Mon 09:30",
                              "Mon 10:30", "Mon 11:00", "Mon 11:30"]


def test_published_availability_opens_times_outside_the_presenters_usual_hours():
    organiser, presenter, attendee, project = _world("America/Los_Angeles")
    fair = make_fair(organiser, starts_at=datetime(2027, 1, 12, 0, 0, tzinfo=UTC))
    # 04:00–06:00 UTC on Tuesday 12 January is 12:00–14:00 in Shanghai but 20:00–22:00 on Monday in Los Angeles.
    hours = services.open_hours(organiser, fair, datetime(2027, 1, 12, 0, 0, tzinfo=UTC), datetime(2027, 1, 12, 6, 0, tzinfo=UTC))
    before = services.meeting_slots(attendee, project.id, starts_from=datetime(2027, 1, 12, 4, 0, tzinfo=UTC),
                                    to=datetime(2027, 1, 12, 6, 0, tzinfo=UTC), now=datetime(2027, 1, 1, tzinfo=UTC))
    assert before == []
    services.publish_availability(presenter, hours, datetime(2027, 1, 12, 4, 0, tzinfo=UTC), datetime(2027, 1, 12, 5, 0, tzinfo=UTC))
    after = services.meeting_slots(attendee, project.id, starts_from=datetime(2027, 1, 12, 4, 0, tzinfo=UTC),
                                   to=datetime(2027, 1, 12, 6, 0, tzinfo=UTC), now=datetime(2027, 1, 1, tzinfo=UTC))
    assert _starts(after) == ["Tue 04:00", "Tue 04:30"]
    with pytest.raises(ValidationFailed):
        services.publish_availability(presenter, hours, datetime(2027, 1, 12, 5, 0, tzinfo=UTC), datetime(2027, 1, 12, 7, 0, tzinfo=UTC))
    with pytest.raises(Conflict) as clash:
        services.publish_availability(presenter, hours, datetime(2027, 1, 12, 4, 30, tzinfo=UTC), datetime(2027, 1, 12, 5, 30, tzinfo=UTC))
    assert clash.value.code == "availability_overlap"


# ---------------------------------------------------------------- the API


def _first_slot(client, headers, project_id) -> dict:
    answer = client.get(f"/api/v1/projects/{project_id}/meeting-slots", headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["total"] > 0
    return answer.json["items"][0]


def test_booking_answers_201_then_200_for_the_same_client_id_and_409_for_a_taken_slot(client, auth):
    _, presenter, attendee, project = _world()
    rival = make_user("attendee", timezone="Asia/Shanghai", organisation="Tangshan Bureau")
    slot = _first_slot(client, auth(attendee), project.id)
    body = {"project_id": project.id, "starts_at": slot["starts_at"], "note": "Talk about Zhangjiakou",
            "client_id": "book-0001-aaaa"}
    first = client.post("/api/v1/meetings", json=body, headers=auth(attendee))
    assert first.status_code == 201, first.json
    assert (first.json["status"], first.json["minutes"], first.json["presenter_id"]) == ("requested", 30, presenter.id)
    again = client.post("/api/v1/meetings", json=body, headers=auth(attendee))
    assert (again.status_code, again.json["id"]) == (200, first.json["id"])
    taken = client.post("/api/v1/meetings", json={**body, "client_id": "book-0002-bbbb"}, headers=auth(rival))
    assert taken.status_code == 409
    assert taken.json["error"]["code"] == "slot_taken"
    # The taken slot is no longer offered to anyone.
    assert slot["starts_at"] not in [s["starts_at"] for s in
                                     client.get(f"/api/v1/projects/{project.id}/meeting-slots", headers=auth(rival)).json["items"]]
    assert db.session.scalar(select(func.count(Meeting.id))) == 1


def test_booking_refuses_bad_input_and_writes_nothing(client, auth):
    organiser, presenter, attendee, project = _world()
    slot = _first_slot(client, auth(attendee), project.id)
    base = {"project_id": project.id, "starts_at": slot["starts_at"], "client_id": "book-0003-cccc"}
    saturday_night = datetime(2027, 2, 6, 14, 0, tzinfo=UTC).isoformat()  # 22:00 in Shanghai, a Saturday
    cases = [
        ({**base, "starts_at": saturday_night}, 422, "starts_at"),
        ({**base, "minutes": 25}, 422, "minutes"),
        ({**base, "client_id": "x"}, 422, "client_id"),
        ({**base, "starts_at": "2027-02-08T09:00:00"}, 422, "starts_at"),  # no offset
    ]
    for body, status, field in cases:
        answer = client.post("/api/v1/meetings", json=body, headers=auth(attendee))
        assert answer.status_code == status, (body, answer.json)
        assert field in str(answer.json["error"]["details"]), answer.json
    assert client.post("/api/v1/meetings", json=base, headers=auth(presenter)).status_code == 403
    assert client.post("/api/v1/meetings", json=base, headers=auth(organiser)).status_code == 403
    hidden = make_project(presenter, title="Not on any agenda")
    assert client.post("/api/v1/meetings", json={**base, "project_id": hidden.id}, headers=auth(attendee)).status_code == 404
    assert db.session.scalar(select(func.count(Meeting.id))) == 0


def test_only_the_people_concerned_see_a_meeting(client, auth):
    organiser, presenter, attendee, project = _world()
    colleague = make_user("attendee", organisation="Shijiazhuang Bureau")
    stranger = make_user("attendee", organisation="Cangzhou Bureau")
    other_presenter = make_presenter()
    slot = _first_slot(client, auth(attendee), project.id)
    made = client.post("/api/v1/meetings", json={"project_id": project.id, "starts_at": slot["starts_at"],
                                                 "client_id": "book-0004-dddd"}, headers=auth(attendee)).json
    for person, status in ((attendee, 200), (colleague, 200), (presenter, 200), (organiser, 200),
                           (stranger, 404), (other_presenter, 404)):
        assert client.get(f"/api/v1/meetings/{made['id']}", headers=auth(person)).status_code == status, person.email
    assert client.get("/api/v1/meetings", headers=auth(stranger)).json["total"] == 0
    assert client.get("/api/v1/meetings", headers=auth(presenter)).json["total"] == 1
    assert client.post(f"/api/v1/meetings/{made['id']}/accept", headers=auth(other_presenter)).status_code == 404
    assert client.post(f"/api/v1/meetings/{made['id']}/accept", headers=auth(attendee)).status_code == 403
    assert client.post(f"/api/v1/meetings/{made['id']}/cancel", headers=auth(stranger)).status_code == 404


def test_concurrent_bookings_of_one_slot_exactly_one_wins_on_postgresql(app, auth):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; SQLite in memory serialises everything")
    _, presenter, attendee, project = _world()
    people = [attendee] + [make_user("attendee", organisation=f"City {n}") for n in range(5)]
    headers = [auth(p) for p in people]
    slot = _first_slot(app.test_client(), headers[0], project.id)
    barrier = threading.Barrier(len(people))
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        answer = client.post("/api/v1/meetings", headers=headers[n], json={
            "project_id": project.id, "starts_at": slot["starts_at"], "client_id": f"race-{n:04d}-xxxx"})
        with lock:
            statuses.append((answer.status_code, answer.json.get("error", {}).get("code")))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses, key=str) == sorted([(201, None)] + [(409, "slot_taken")] * 5, key=str)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Meeting.id))) == 1
    assert db.session.scalar(select(func.count()).select_from(MeetingClaim)) == 4  # 2 quarters × 2 people


# ---------------------------------------------------------------- answers, invitations, lead


def _invitations(to: str) -> list[Calendar]:
    rows = db.session.scalars(select(MailMessage).where(MailMessage.to_address == to, MailMessage.ics.is_not(None))
                              .order_by(MailMessage.id))
    return [Calendar.from_ical(r.ics) for r in rows]


def _book(attendee, project, now=None, **extra):
    slot = services.meeting_slots(attendee, project.id)[0]
    meeting, _ = services.book(attendee, {"project_id": project.id, "starts_at": slot["starts_at"],
                                          "client_id": extra.pop("client_id", "svc-0001-aaaa"), **extra})
    return meeting


def test_the_invitation_is_requested_confirmed_then_cancelled_under_one_uid():
    _, presenter, attendee, project = _world()
    meeting = _book(attendee, project)
    services.accept(presenter, meeting.id)
    services.cancel(attendee, meeting.id)
    for person in (presenter, attendee):
        found = _invitations(person.email)
        methods = [str(c["method"]) for c in found]
        events = [c.walk("VEVENT")[0] for c in found]
        assert methods == ["REQUEST", "REQUEST", "CANCEL"]
        assert {str(e["uid"]) for e in events} == {f"meeting-{meeting.id}@cloudfair"}
        assert [int(e["sequence"]) for e in events] == [0, 1, 2]
        assert [str(e["status"]) for e in events] == ["TENTATIVE", "CONFIRMED", "CANCELLED"]
        assert events[1].decoded("dtstart") == meeting.starts_at
        assert str(events[1]["organizer"]) == f"mailto:{presenter.email}"
        assert str(events[1]["location"]) == meeting.meeting_url
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == attendee.id).order_by(Notification.id))
    assert list(kinds) == ["meeting_requested", "meeting_accepted", "meeting_cancelled"]
    assert db.session.scalar(select(func.count()).select_from(MeetingClaim)) == 0  # the time is free again


def test_auto_accept_and_the_presenters_own_meeting_address():
    _, presenter, attendee, project = _world()
    services.save_profile(presenter, {"auto_accept": True, "meeting_url": "https://meet.example.com/weber",
                                      "day_start": "08:00", "day_end": "20:00"})
    meeting = _book(attendee, project)
    assert (meeting.status, meeting.meeting_url) == ("accepted", "https://meet.example.com/weber")
    assert [str(c.walk("VEVENT")[0]["status"]) for c in _invitations(attendee.email)] == ["CONFIRMED"]
    with pytest.raises(ValidationFailed):
        services.save_profile(presenter, {"meeting_url": "javascript:alert(1)"})


def test_declining_frees_the_time_and_a_second_answer_is_refused():
    _, presenter, attendee, project = _world()
    meeting = _book(attendee, project)
    services.decline(presenter, meeting.id, "Travelling that week")
    assert meeting.status == "declined"
    with pytest.raises(Conflict):
        services.accept(presenter, meeting.id)
    again = _book(attendee, project, client_id="svc-0002-bbbb")
    assert again.starts_at == meeting.starts_at


def test_a_held_meeting_moves_the_lead_to_follow_up_and_reminders_go_once():
    organiser, presenter, attendee, project = _world()
    lead = Lead(project_id=project.id, organisation_id=attendee.organisation_id, owner_id=attendee.id,
                stage="partner_identified")
    db.session.add(lead)
    db.session.commit()
    meeting = _book(attendee, project)
    assert meeting.lead_id == lead.id
    services.accept(presenter, meeting.id)
    before = meeting.starts_at - timedelta(minutes=10)
    assert services.due_work(before) == {"reminded": 2, "dropped": 0, "held": 0}
    assert services.due_work(before + timedelta(minutes=1)) == {"reminded": 0, "dropped": 0, "held": 0}
    assert services.due_work(meeting.ends_at + timedelta(minutes=1))["held"] == 1
    db.session.refresh(lead)
    assert (meeting.status, lead.stage) == ("held", "follow_up")
    notes = list(db.session.scalars(select(LeadEvent.note).where(LeadEvent.lead_id == lead.id, LeadEvent.source == "meeting")
                                    .order_by(LeadEvent.id)))
    assert notes == [f"Meeting {meeting.id} booked.", f"Meeting {meeting.id} accepted.", f"Meeting {meeting.id} held."]
    reminders = db.session.scalars(select(MailMessage.subject).where(MailMessage.subject.like("Meeting in 15 minutes%")))
    assert len(list(reminders)) == 2


def test_a_meeting_is_in_both_private_feeds(client):
    _, presenter, attendee, project = _world()
    meeting = _book(attendee, project)
    services.accept(presenter, meeting.id)
    for person in (presenter, attendee):
        feed = Calendar.from_ical(client.get(f"/calendar/{person.calendar_token}.ics").data)
        uids = [str(e["uid"]) for e in feed.walk("VEVENT")]
        assert f"meeting-{meeting.id}@cloudfair" in uids


# ---------------------------------------------------------------- meeting days


def test_meeting_matrix_shows_booked_free_and_away_half_hours(client, auth):
    organiser, presenter, attendee, project = _world()
    fair = make_fair(organiser, starts_at=datetime(2027, 3, 31, 0, 0, tzinfo=UTC))
    opened = client.post(f"/api/v1/fairs/{fair.id}/meeting-hours", headers=auth(organiser),
                         json={"starts_at": "2027-04-01T14:00:00+08:00", "ends_at": "2027-04-01T16:00:00+08:00"})
    assert opened.status_code == 201, opened.json
    hours_id = opened.json["id"]
    assert client.post(f"/api/v1/fairs/{fair.id}/meeting-hours", headers=auth(presenter),
                       json={"starts_at": "2027-04-01T14:00:00+08:00", "ends_at": "2027-04-01T16:00:00+08:00"}).status_code == 403
    published = client.post(f"/api/v1/meeting-hours/{hours_id}/availability", headers=auth(presenter),
                            json={"starts_at": "2027-04-01T06:00:00Z", "ends_at": "2027-04-01T07:00:00Z"})
    assert published.status_code == 201, published.json
    meeting = Meeting(client_id="matrix-1", project_id=project.id, presenter_id=presenter.id, attendee_id=attendee.id,
                      organisation_id=attendee.organisation_id, minutes=30, status="accepted", meeting_url="https://x.example/",
                      starts_at=datetime(2027, 4, 1, 6, 30, tzinfo=UTC), ends_at=datetime(2027, 4, 1, 7, 0, tzinfo=UTC))
    db.session.add(meeting)
    db.session.commit()
    answer = client.get(f"/api/v1/meeting-hours/{hours_id}/matrix", headers=auth(organiser))
    assert answer.status_code == 200
    assert [(c["starts_at"], c["state"]) for c in answer.json["rows"][0]["cells"]] == [
        ("2027-04-01T06:00:00+00:00", "free"), ("2027-04-01T06:30:00+00:00", "booked"),
        ("2027-04-01T07:00:00+00:00", "away"), ("2027-04-01T07:30:00+00:00", "away")]
    assert client.get(f"/api/v1/meeting-hours/{hours_id}/matrix", headers=auth(presenter)).status_code == 403
