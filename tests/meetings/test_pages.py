"""Meeting pages: book from the page, the presenter accepts on theirs; the live room's stream frame."""

from __future__ import annotations

import re

from app.extensions import db
from app.meetings.models import Meeting
from tests.conftest import csrf_from
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user


def _pitched(**attendee):
    """An organiser, a presenter whose project is pitched in a session of a fair, and an attendee."""
    organiser = make_organiser()
    presenter = make_presenter()
    attendee = make_user("attendee", **attendee)
    project = make_project(presenter)
    make_session(make_fair(organiser), organiser, presenter_ids=[presenter.id], project_ids=[project.id])
    return organiser, presenter, attendee, project


def test_an_attendee_books_on_the_page_and_the_presenter_accepts_on_theirs(app, login):
    organiser, presenter, attendee, project = _pitched(organisation="Tangshan Bureau")
    client = login(attendee)
    page = client.get(f"/projects/{project.id}/meetings/new")
    assert page.status_code == 200
    slot = re.search(r'name="slot" value="([^"]+)"', page.text).group(1)
    client_id = re.search(r'name="client_id" value="([^"]+)"', page.text).group(1)
    booked = client.post(f"/projects/{project.id}/meetings/new", data={
        "csrf_token": csrf_from(page.text), "slot": slot, "client_id": client_id, "note": "<b>hello</b>"})
    assert booked.status_code == 302
    meeting = db.session.query(Meeting).one()
    assert booked.headers["Location"].endswith(f"/meetings/{meeting.id}")
    shown = client.get(f"/meetings/{meeting.id}").text
    assert "&lt;b&gt;hello&lt;/b&gt;" in shown and "<b>hello</b>" not in shown
    client.post("/logout", data={"csrf_token": csrf_from(shown)})

    client = login(presenter)
    mine = client.get("/meetings")
    assert f'data-meeting-id="{meeting.id}"' in mine.text
    accepted = client.post(f"/meetings/{meeting.id}/accept", data={"csrf_token": csrf_from(mine.text)})
    assert accepted.status_code == 302
    db.session.refresh(meeting)
    assert meeting.status == "accepted"
    assert 'data-meeting-status="accepted"' in client.get(f"/meetings/{meeting.id}").text


def test_a_stranger_gets_404_for_a_meeting_page(app, login):
    organiser, presenter, attendee, project = _pitched()
    from app.meetings import services

    slot = services.meeting_slots(attendee, project.id)[0]
    meeting, _ = services.book(attendee, {"project_id": project.id, "starts_at": slot["starts_at"], "client_id": "page-0001-aaaa"})
    client = login(make_user("attendee", organisation="Elsewhere"))
    assert client.get(f"/meetings/{meeting.id}").status_code == 404
    assert client.get(f"/meetings/{meeting.id}.ics").status_code == 404


def test_the_live_room_embeds_a_stream_only_from_an_allowed_host(app, login):
    organiser = make_organiser()
    attendee = make_user("attendee")
    embedded = make_fair(organiser, stream_url="https://player.bilibili.com/player.html?bvid=BV1demo")
    elsewhere = make_fair(organiser, stream_url="https://stream.example.com/live")
    first, second = make_session(embedded, organiser), make_session(elsewhere, organiser)
    client = login(attendee)
    room = client.get(f"/sessions/{first.id}/live")
    assert '<iframe class="stream-frame" src="https://player.bilibili.com/player.html?bvid=BV1demo"' in room.text
    assert "frame-src 'self' https://player.bilibili.com " in room.headers["Content-Security-Policy"]
    other = client.get(f"/sessions/{second.id}/live")
    assert "<iframe" not in other.text
    assert 'href="https://stream.example.com/live"' in other.text


def test_meeting_days_page_for_organiser_and_presenter(app, login):
    organiser = make_organiser()
    presenter = make_presenter()
    fair = make_fair(organiser)
    client = login(organiser)
    page = client.get(f"/fairs/{fair.id}/meeting-hours")
    assert page.status_code == 200
    opened = client.post(f"/fairs/{fair.id}/meeting-hours", data={
        "csrf_token": csrf_from(page.text), "day": "2026-12-10", "start": "15:00", "end": "17:00"})
    assert opened.status_code == 302
    from app.meetings.models import MeetingHours

    hours = db.session.query(MeetingHours).one()
    assert (hours.starts_at.hour, hours.ends_at.hour) == (7, 9)  # Beijing 15:00–17:00
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    client = login(presenter)
    page = client.get(f"/fairs/{fair.id}/meeting-hours")
    assert "Publish my availability" in page.text
    published = client.post(f"/meeting-hours/{hours.id}/availability", data={
        "csrf_token": csrf_from(page.text), "day": "2026-12-10", "start": "08:00", "end": "09:00"})  # Berlin
    assert published.status_code == 302
    from app.meetings.models import Availability

    assert [(a.starts_at.hour, a.ends_at.hour) for a in db.session.query(Availability)] == [(7, 8)]


def test_my_meetings_lists_the_latest_ended_meetings_oldest_first(app, login):
    from datetime import timedelta

    from app.meetings import queries, services

    organiser, presenter, attendee, project = _pitched()
    slots = services.meeting_slots(attendee, project.id)
    booked = [services.book(attendee, {"project_id": project.id, "starts_at": slots[i]["starts_at"],
                                       "client_id": f"past-000{i}-aaaa"})[0] for i in (0, 2, 4)]
    for meeting in booked:  # all three are over now
        meeting.starts_at -= timedelta(days=30)
        meeting.ends_at -= timedelta(days=30)
    db.session.commit()

    assert [m.id for m in queries.past_meetings(attendee, limit=2)] == [booked[1].id, booked[2].id]
    assert queries.past_meetings(make_user("attendee", organisation="Elsewhere")) == []
    page = login(attendee).get("/meetings").text
    past = page.split('id="past-h"', 1)[1]
    assert [int(i) for i in re.findall(r'data-meeting-id="(\d+)"', past)] == [m.id for m in booked]
