"""The one rule for local times that a clock change skips or repeats, through the page form, the API,
the agenda page and the feeds (Berlin, 2027: 02:00–03:00 is skipped on 28 March and repeated on 31 October)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from icalendar import Calendar
from sqlalchemy import func, select

from app.extensions import db
from app.fairs.models import Fair, FairSession
from tests.conftest import csrf_from
from tests.factories import at, make_fair, make_organiser, make_session

UTC = timezone.utc


def _berlin_fair(organiser):
    return make_fair(organiser, title="Berlin autumn fair", timezone="Europe/Berlin", tracks=["main", "cities", "third"],
                     starts_at=at("2027-03-27T08:00+01:00"), ends_at=at("2027-10-31T20:00+01:00"))


def _session_form(client, fair, **fields) -> dict:
    page = client.get(f"/fairs/{fair.id}/sessions/new")
    data = {"csrf_token": csrf_from(page.text), "title": "Night pitch", "kind": "pitch", "track": "main",
            "starts_at": "2027-10-31T02:30", "ends_at": "2027-10-31T02:45"}
    data.update(fields)
    return data


def _sessions() -> list[FairSession]:
    return list(db.session.scalars(select(FairSession).order_by(FairSession.id)))


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def _feed_lines(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return response.data.decode().replace("\r\n ", "").split("\r\n")


# ---------------------------------------------------------------- the page form


def test_the_form_asks_which_of_the_repeated_hours_two_times_and_saves_nothing_until_told(client, login):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    login(organiser)

    response = client.post(f"/fairs/{fair.id}/sessions/new", data=_session_form(client, fair))

    assert response.status_code == 422
    assert "occurs twice in Europe/Berlin" in _field_error(response.text, "starts_at")
    assert "occurs twice in Europe/Berlin" in _field_error(response.text, "ends_at")
    question = re.search(r'<fieldset class="field fold-question" id="starts_at_fold-question">(.*?)</fieldset>',
                         response.text, re.S)
    assert question, "the page asks which start is meant"
    assert "Which start do you mean?" in question.group(1)
    assert 'type="radio"' in question.group(1) and 'name="starts_at_fold"' in question.group(1)
    assert "UTC+02:00" in question.group(1) and "UTC+01:00" in question.group(1)
    assert "00:30 UTC" in question.group(1) and "01:30 UTC" in question.group(1)
    assert _sessions() == []


def test_each_answer_saves_its_own_instant(client, login):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    login(organiser)

    first = client.post(f"/fairs/{fair.id}/sessions/new", data=_session_form(
        client, fair, title="First 02:30", starts_at_fold="0", ends_at_fold="0"))
    second = client.post(f"/fairs/{fair.id}/sessions/new", data=_session_form(
        client, fair, title="Second 02:30", track="cities", starts_at_fold="1", ends_at_fold="1"))

    assert first.status_code == 302 and second.status_code == 302
    saved = {s.title: (s.starts_at, s.ends_at) for s in _sessions()}
    assert saved == {
        "First 02:30": (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 0, 45, tzinfo=UTC)),
        "Second 02:30": (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), datetime(2027, 10, 31, 1, 45, tzinfo=UTC)),
    }


def test_a_time_in_the_spring_gap_is_refused_with_a_clear_message_in_both_languages(client, login):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    login(organiser)

    english = client.post(f"/fairs/{fair.id}/sessions/new", data=_session_form(
        client, fair, starts_at="2027-03-28T02:30", ends_at="2027-03-28T03:30"))
    assert english.status_code == 422
    message = _field_error(english.text, "starts_at")
    assert "2027-03-28 02:30 does not exist in Europe/Berlin" in message and "03:30" in message
    assert 'id="ends_at-error"' not in english.text  # 03:30 CEST exists once

    organiser.locale = "zh"
    db.session.commit()
    chinese = client.post(f"/fairs/{fair.id}/sessions/new", data=_session_form(
        client, fair, starts_at="2027-03-28T02:30", ends_at="2027-03-28T03:30"))
    assert chinese.status_code == 422
    assert "Europe/Berlin 没有 2027-03-28 02:30 这一时刻" in _field_error(chinese.text, "starts_at")
    assert _sessions() == []


def test_the_fair_form_follows_the_same_rule(client, login):
    organiser = make_organiser()
    login(organiser)
    page = client.get("/fairs/new")
    data = {"csrf_token": csrf_from(page.text), "title": "Night fair", "timezone": "Europe/Berlin", "tracks": "main",
            "starts_at": "2027-03-28T02:15", "ends_at": "2027-10-31T02:30"}

    refused = client.post("/fairs/new", data=data)

    assert refused.status_code == 422
    assert "does not exist" in _field_error(refused.text, "starts_at")
    assert "occurs twice" in _field_error(refused.text, "ends_at")
    assert 'id="ends_at_fold-question"' in refused.text and 'id="starts_at_fold-question"' not in refused.text
    assert db.session.scalar(select(func.count(Fair.id))) == 0

    saved = client.post("/fairs/new", data={**data, "starts_at": "2027-03-28T03:15", "ends_at_fold": "1"})
    assert saved.status_code == 302
    fair = db.session.scalars(select(Fair)).one()
    assert (fair.starts_at, fair.ends_at) == (datetime(2027, 3, 28, 1, 15, tzinfo=UTC),
                                              datetime(2027, 10, 31, 1, 30, tzinfo=UTC))


def test_editing_a_session_in_the_repeated_hour_keeps_its_instant(client, login):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    second = make_session(fair, organiser, title="Second", starts_at=at("2027-10-31T01:30+00:00"),
                          ends_at=at("2027-10-31T01:45+00:00"))
    login(organiser)

    page = client.get(f"/sessions/{second.id}/edit")
    assert page.status_code == 200
    checked = re.search(r'<input checked[^>]*name="starts_at_fold"[^>]*value="(\d)"|'
                        r'<input[^>]*name="starts_at_fold"[^>]*value="(\d)"[^>]*checked', page.text)
    assert checked and "1" in checked.groups()
    data = {"csrf_token": csrf_from(page.text), "title": "Second, renamed", "kind": "pitch", "track": "main",
            "starts_at": "2027-10-31T02:30", "ends_at": "2027-10-31T02:45", "starts_at_fold": "1", "ends_at_fold": "1"}
    assert client.post(f"/sessions/{second.id}/edit", data=data).status_code == 302
    db.session.refresh(second)
    assert (second.title, second.starts_at) == ("Second, renamed", datetime(2027, 10, 31, 1, 30, tzinfo=UTC))


# ---------------------------------------------------------------- the API


def test_the_api_takes_the_offset_as_the_answer_and_refuses_a_time_without_one(client, auth):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    headers = auth(organiser)
    body = {"title": "Night pitch", "kind": "pitch", "track": "main"}

    first = client.post(f"/api/v1/fairs/{fair.id}/sessions", headers=headers, json={
        **body, "starts_at": "2027-10-31T02:30:00+02:00", "ends_at": "2027-10-31T02:45:00+02:00"})
    second = client.post(f"/api/v1/fairs/{fair.id}/sessions", headers=headers, json={
        **body, "track": "cities", "starts_at": "2027-10-31T02:30:00+01:00", "ends_at": "2027-10-31T02:45:00+01:00"})
    floating = client.post(f"/api/v1/fairs/{fair.id}/sessions", headers=headers, json={
        **body, "track": "third", "starts_at": "2027-10-31T02:30:00", "ends_at": "2027-10-31T02:45:00"})

    assert first.status_code == 201 and second.status_code == 201
    assert datetime.fromisoformat(first.json["starts_at"]) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert datetime.fromisoformat(second.json["starts_at"]) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert floating.status_code == 422
    assert set(floating.json["error"]["details"]["fields"]) == {"starts_at", "ends_at"}
    assert len(_sessions()) == 2


# ---------------------------------------------------------------- feeds and pages


def test_feeds_write_repeated_hour_sessions_in_utc_and_the_rest_in_the_fair_zone(client):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    first = make_session(fair, organiser, title="First", starts_at=at("2027-10-31T00:30+00:00"))
    second = make_session(fair, organiser, title="Second", track="cities", starts_at=at("2027-10-31T01:30+00:00"))
    after = make_session(fair, organiser, title="After", starts_at=at("2027-10-31T02:30+00:00"))
    spring = make_session(fair, organiser, title="Spring", starts_at=at("2027-03-28T01:30+00:00"))

    lines = _feed_lines(client, f"/fairs/{fair.id}.ics")
    starts, event = {}, {}
    for line in lines:
        if line == "BEGIN:VEVENT":
            event = {}
        elif line.startswith(("UID:", "DTSTART")):
            event[line.split(":")[0].split(";")[0]] = line
        elif line == "END:VEVENT":
            starts[event["UID"][4:]] = event["DTSTART"]
    assert starts[f"session-{first.id}@cloudfair"] == "DTSTART:20271031T003000Z"
    assert starts[f"session-{second.id}@cloudfair"] == "DTSTART:20271031T013000Z"
    assert starts[f"session-{after.id}@cloudfair"] == "DTSTART;TZID=Europe/Berlin:20271031T033000"
    assert starts[f"session-{spring.id}@cloudfair"] == "DTSTART;TZID=Europe/Berlin:20270328T033000"
    single = _feed_lines(client, f"/sessions/{second.id}.ics")
    assert "DTSTART:20271031T013000Z" in single and "DTEND:20271031T021500Z" in single
    events = {str(e["UID"]): e for e in Calendar.from_ical("\r\n".join(lines).encode()).walk("VEVENT")}
    assert events[f"session-{second.id}@cloudfair"].decoded("DTSTART") == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_the_agenda_page_names_the_offset_of_a_repeated_hour_time(client):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    make_session(fair, organiser, title="First", starts_at=at("2027-10-31T00:30+00:00"))
    make_session(fair, organiser, title="Second", track="cities", starts_at=at("2027-10-31T01:30+00:00"))

    page = client.get(f"/fairs/{fair.id}", headers={"Cookie": "tz=Europe/Berlin"})

    assert page.status_code == 200
    assert "02:30 (UTC+02:00)" in page.text and "02:30 (UTC+01:00)" in page.text


def test_mails_and_page_filters_name_the_offset_only_in_a_repeated_hour(app):
    from app.i18n import format_moment
    from app.notifications.reminders import _local
    from app.templating import in_zone
    from tests.factories import make_presenter

    first, second = at("2027-10-31T00:30+00:00"), at("2027-10-31T01:30+00:00")
    ordinary = at("2027-10-31T02:30+00:00")
    assert format_moment(first, "Europe/Berlin", "time").endswith("02:30 (UTC+02:00)")
    assert format_moment(second, "Europe/Berlin", "time").endswith("02:30 (UTC+01:00)")
    assert "(UTC" not in format_moment(ordinary, "Europe/Berlin") and "(UTC" not in format_moment(second, "Asia/Shanghai")
    assert "(UTC" not in format_moment(second, "Europe/Berlin", "date")
    assert in_zone(second, "Europe/Berlin", "%H:%M") == "02:30 (UTC+01:00)"
    presenter = make_presenter(timezone_name="Europe/Berlin")
    assert _local(second, presenter) == "2027-10-31 02:30 (UTC+01:00) (Europe/Berlin)"
    assert _local(ordinary, presenter) == "2027-10-31 03:30 (Europe/Berlin)"
