"""Calendar feeds (RFC 5545): a fair, a session, and a person's private feed, parsed back with icalendar."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.accounts.services import regenerate_calendar_token
from app.fairs import services
from tests.factories import at, make_fair, make_organiser, make_presenter, make_session, make_user

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------- helpers


def _fetch(client, url: str, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/calendar"
    return response


def _parse(response) -> Calendar:
    return Calendar.from_ical(response.data)


def _events(cal: Calendar) -> dict[str, object]:
    """The feed's VEVENTs by UID."""
    events = {str(event["UID"]): event for event in cal.walk("VEVENT")}
    assert len(events) == len(cal.walk("VEVENT")), "UIDs must be unique in a feed"
    return events


def _timezones(cal: Calendar) -> dict[str, object]:
    return {str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")}


def _berlin_fair(organiser, **overrides):
    """A fair across the night Europe leaves summer time (Sunday 2026-10-25, 03:00 CEST → 02:00 CET)."""
    return make_fair(
        organiser,
        title="Berlin fair",
        starts_at=at("2026-10-24T08:00+02:00"),
        ends_at=at("2026-10-25T20:00+01:00"),
        timezone="Europe/Berlin",
        **overrides,
    )


# ---------------------------------------------------------------- the fair's feed


def test_fair_feed_has_stable_uids_summaries_and_times_in_the_fair_zone(client):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    pitch = make_session(fair, organiser, title="Membrane pitch", starts_at=at("2026-10-24T15:00+02:00"))

    first = _events(_parse(_fetch(client, f"/fairs/{fair.id}.ics")))
    second = _events(_parse(_fetch(client, f"/fairs/{fair.id}.ics")))

    assert sorted(first) == sorted([f"fair-{fair.id}@cloudfair", f"session-{pitch.id}@cloudfair"])
    assert sorted(second) == sorted(first)
    fair_event = first[f"fair-{fair.id}@cloudfair"]
    session_event = first[f"session-{pitch.id}@cloudfair"]
    assert str(fair_event["SUMMARY"]) == "Berlin fair"
    assert str(session_event["SUMMARY"]) == "Membrane pitch · Berlin fair"
    for event in (fair_event, session_event):
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event["DTEND"].params["TZID"] == "Europe/Berlin"
    assert fair_event.decoded("DTSTART") == at("2026-10-24T08:00+02:00")
    assert fair_event.decoded("DTEND") == at("2026-10-25T20:00+01:00")
    assert session_event.decoded("DTSTART") == at("2026-10-24T15:00+02:00")
    assert session_event.decoded("DTEND") == at("2026-10-24T15:45+02:00")
    assert str(session_event["STATUS"]) == "CONFIRMED"
    # DTSTAMP must be UTC (RFC 5545 §3.8.7.2).
    assert session_event.decoded("DTSTAMP").utcoffset() == timedelta(0)


def test_fair_feed_vtimezone_for_berlin_has_standard_and_daylight_components(client):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    make_session(fair, organiser, starts_at=at("2026-10-24T15:00+02:00"))

    cal = _parse(_fetch(client, f"/fairs/{fair.id}.ics"))

    zones = _timezones(cal)
    assert list(zones) == ["Europe/Berlin"]
    berlin = zones["Europe/Berlin"]
    offsets = {(sub.name, sub["TZOFFSETFROM"].td, sub["TZOFFSETTO"].td) for sub in berlin.subcomponents}
    assert ("DAYLIGHT", timedelta(hours=1), timedelta(hours=2)) in offsets
    assert ("STANDARD", timedelta(hours=2), timedelta(hours=1)) in offsets


def test_fair_feed_vtimezone_alone_gives_the_right_offsets_across_the_dst_change(client):
    """Outlook trusts the VTIMEZONE rather than its own zone database: the rules written must be right."""
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    make_session(fair, organiser, starts_at=at("2026-10-24T15:00+02:00"))

    cal = _parse(_fetch(client, f"/fairs/{fair.id}.ics"))
    feed_zone = _timezones(cal)["Europe/Berlin"].to_tz(lookup_tzid=False)

    assert datetime(2026, 10, 24, 15, 0, tzinfo=feed_zone).utcoffset() == timedelta(hours=2)
    assert datetime(2026, 10, 25, 15, 0, tzinfo=feed_zone).utcoffset() == timedelta(hours=1)


def test_fair_feed_converts_correctly_to_beijing_on_both_sides_of_the_dst_change(client):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    # The day before the change: 15:00 CEST = 13:00 UTC = 21:00 Beijing.
    saturday = make_session(fair, organiser, title="Saturday", starts_at=at("2026-10-24T13:00+00:00"))
    # The day Europe leaves summer time: 15:00 CET = 14:00 UTC = 22:00 Beijing.
    sunday = make_session(fair, organiser, title="Sunday", starts_at=at("2026-10-25T14:00+00:00"))

    events = _events(_parse(_fetch(client, f"/fairs/{fair.id}.ics")))

    sat = events[f"session-{saturday.id}@cloudfair"]
    sun = events[f"session-{sunday.id}@cloudfair"]
    assert sat["DTSTART"].to_ical() == b"20261024T150000"
    assert sun["DTSTART"].to_ical() == b"20261025T150000"
    assert sat.decoded("DTSTART").astimezone(SHANGHAI).replace(tzinfo=None) == datetime(2026, 10, 24, 21, 0)
    assert sun.decoded("DTSTART").astimezone(SHANGHAI).replace(tzinfo=None) == datetime(2026, 10, 25, 22, 0)
    assert sat.decoded("DTSTART").astimezone(UTC) == datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
    assert sun.decoded("DTSTART").astimezone(UTC) == datetime(2026, 10, 25, 14, 0, tzinfo=UTC)


def test_sessions_created_through_the_api_with_offsets_round_trip_into_the_feed(client, auth):
    organiser = make_organiser()
    fair = _berlin_fair(organiser)
    headers = auth(organiser)

    created = []
    for title, start, end in [
        ("Saturday", "2026-10-24T15:00:00+02:00", "2026-10-24T15:45:00+02:00"),
        ("Sunday", "2026-10-25T15:00:00+01:00", "2026-10-25T15:45:00+01:00"),
    ]:
        response = client.post(
            f"/api/v1/fairs/{fair.id}/sessions",
            json={"title": title, "kind": "pitch", "starts_at": start, "ends_at": end, "track": "main"},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        created.append(response.json["id"])

    events = _events(_parse(_fetch(client, f"/fairs/{fair.id}.ics")))

    times = {
        str(events[f"session-{sid}@cloudfair"]["SUMMARY"]): (
            events[f"session-{sid}@cloudfair"]["DTSTART"].to_ical().decode(),
            events[f"session-{sid}@cloudfair"]["DTSTART"].params["TZID"],
            events[f"session-{sid}@cloudfair"].decoded("DTSTART").astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        )
        for sid in created
    }
    assert times == {
        "Saturday · Berlin fair": ("20261024T150000", "Europe/Berlin", "2026-10-24 21:00"),
        "Sunday · Berlin fair": ("20261025T150000", "Europe/Berlin", "2026-10-25 22:00"),
    }


def test_draft_fair_feed_is_not_found_for_anonymous_visitors_but_shown_to_organisers(client, login):
    organiser = make_organiser()
    draft = make_fair(organiser, publish=False)
    session = make_session(draft, organiser)

    assert client.get(f"/fairs/{draft.id}.ics").status_code == 404
    assert client.get(f"/sessions/{session.id}.ics").status_code == 404

    login(organiser)
    assert client.get(f"/fairs/{draft.id}.ics").status_code == 200


def test_unknown_fair_and_session_feeds_are_not_found(client):
    assert client.get("/fairs/999999.ics").status_code == 404
    assert client.get("/sessions/999999.ics").status_code == 404


# ---------------------------------------------------------------- changes: SEQUENCE, STATUS, ETag


def test_session_feed_sequence_rises_after_an_update_and_uid_stays(client):
    organiser = make_organiser()
    fair = make_fair(organiser)
    session = make_session(fair, organiser, title="Opening")
    uid = f"session-{session.id}@cloudfair"

    before = _events(_parse(_fetch(client, f"/sessions/{session.id}.ics")))
    services.update_session(organiser, session, {"title": "Opening ceremony"})
    after = _events(_parse(_fetch(client, f"/sessions/{session.id}.ics")))

    assert list(before) == [uid]
    assert list(after) == [uid]
    assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
    assert str(after[uid]["SUMMARY"]) == f"Opening ceremony · {fair.title}"


def test_fair_feed_sequences_rise_after_a_session_update(client):
    organiser = make_organiser()
    fair = make_fair(organiser)
    session = make_session(fair, organiser)
    fair_uid, session_uid = f"fair-{fair.id}@cloudfair", f"session-{session.id}@cloudfair"

    before = _events(_parse(_fetch(client, f"/fairs/{fair.id}.ics")))
    services.update_session(organiser, session, {"starts_at": session.starts_at + timedelta(minutes=15),
                                                 "ends_at": session.ends_at + timedelta(minutes=15)})
    after = _events(_parse(_fetch(client, f"/fairs/{fair.id}.ics")))

    assert int(after[session_uid]["SEQUENCE"]) > int(before[session_uid]["SEQUENCE"])
    assert int(after[fair_uid]["SEQUENCE"]) > int(before[fair_uid]["SEQUENCE"])
    assert after[session_uid].decoded("DTSTART") - before[session_uid].decoded("DTSTART") == timedelta(minutes=15)


def test_cancelled_session_stays_in_feeds_as_cancelled_with_a_higher_sequence(client):
    organiser = make_organiser()
    fair = make_fair(organiser)
    session = make_session(fair, organiser)
    uid = f"session-{session.id}@cloudfair"
    before = _events(_parse(_fetch(client, f"/sessions/{session.id}.ics")))[uid]

    services.cancel_session(organiser, session)

    for url in (f"/sessions/{session.id}.ics", f"/fairs/{fair.id}.ics"):
        event = _events(_parse(_fetch(client, url)))[uid]
        assert str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) > int(before["SEQUENCE"])


def _unchanged_is_304(client, url: str) -> str:
    """The feed's ETag, once a request that sends it back has been answered 304 with no body."""
    etag = _fetch(client, url).headers.get("ETag")
    assert etag
    unchanged = client.get(url, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.data, unchanged.headers["ETag"]) == (304, b"", etag)
    return etag


@pytest.mark.parametrize("feed, change, shown", [
    ("/fairs/{fair}.ics", lambda organiser, session: services.update_session(organiser, session, {"title": "Renamed"}),
     "Renamed"),
    ("/sessions/{session}.ics", lambda organiser, session: services.cancel_session(organiser, session), None),
], ids=["fair", "session"])
def test_feed_answers_if_none_match_with_304_until_something_changes(client, feed, change, shown):
    organiser = make_organiser()
    fair = make_fair(organiser)
    session = make_session(fair, organiser)
    url = feed.format(fair=fair.id, session=session.id)

    etag = _unchanged_is_304(client, url)

    change(organiser, session)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    if shown:
        assert shown in changed.text


def test_fair_feed_etag_changes_when_the_fair_itself_changes(client):
    organiser = make_organiser()
    fair = make_fair(organiser)
    url = f"/fairs/{fair.id}.ics"
    etag = _fetch(client, url).headers["ETag"]

    services.update_fair(organiser, fair, {"title": "Renamed fair"})

    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert str(_events(_parse(changed))[f"fair-{fair.id}@cloudfair"]["SUMMARY"]) == "Renamed fair"


# ---------------------------------------------------------------- the private feed


def test_private_feed_holds_registered_fairs_and_own_sessions_only(client):
    organiser = make_organiser()
    presenter = make_presenter()
    attendee = make_user("attendee")
    registered = make_fair(organiser, title="Registered fair")
    other = make_fair(organiser, title="Other fair", starts_at=at("2026-12-20T07:00+00:00"))
    own = make_session(other, organiser, title="Own pitch", presenter_ids=[presenter.id])
    make_session(other, organiser, title="Someone else's pitch", track="cities")
    services.register(attendee, registered.id)

    attendee_feed = _events(_parse(_fetch(client, f"/calendar/{attendee.calendar_token}.ics")))
    presenter_feed = _events(_parse(_fetch(client, f"/calendar/{presenter.calendar_token}.ics")))

    assert list(attendee_feed) == [f"fair-{registered.id}@cloudfair"]
    assert list(presenter_feed) == [f"session-{own.id}@cloudfair"]
    assert str(presenter_feed[f"session-{own.id}@cloudfair"]["SUMMARY"]) == "Own pitch · Other fair"


def test_private_feed_leaves_out_withdrawn_registrations(client):
    organiser = make_organiser()
    attendee = make_user("attendee")
    fair = make_fair(organiser)
    services.register(attendee, fair.id)
    services.withdraw(attendee, fair.id)

    assert _events(_parse(_fetch(client, f"/calendar/{attendee.calendar_token}.ics"))) == {}


def test_private_feed_shows_cancelled_own_session_as_cancelled(client):
    organiser = make_organiser()
    presenter = make_presenter()
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[presenter.id])
    services.cancel_session(organiser, session)

    events = _events(_parse(_fetch(client, f"/calendar/{presenter.calendar_token}.ics")))

    assert str(events[f"session-{session.id}@cloudfair"]["STATUS"]) == "CANCELLED"


def test_private_feed_writes_a_vtimezone_for_each_fair_zone(client):
    organiser = make_organiser()
    presenter = make_presenter()
    berlin = _berlin_fair(organiser)
    shanghai = make_fair(organiser, starts_at=at("2026-12-10T07:00+00:00"), timezone="Asia/Shanghai")
    make_session(berlin, organiser, presenter_ids=[presenter.id], starts_at=at("2026-10-25T15:00+01:00"))
    make_session(shanghai, organiser, presenter_ids=[presenter.id])

    cal = _parse(_fetch(client, f"/calendar/{presenter.calendar_token}.ics"))

    assert sorted(_timezones(cal)) == ["Asia/Shanghai", "Europe/Berlin"]
    assert sorted(e["DTSTART"].params["TZID"] for e in cal.walk("VEVENT")) == ["Asia/Shanghai", "Europe/Berlin"]


def test_private_feed_answers_if_none_match_with_304(client):
    attendee = make_user("attendee")
    services.register(attendee, make_fair().id)
    url = f"/calendar/{attendee.calendar_token}.ics"

    etag = _fetch(client, url).headers["ETag"]
    unchanged = client.get(url, headers={"If-None-Match": etag})

    assert (unchanged.status_code, unchanged.data) == (304, b"")


def test_private_feed_old_token_stops_working_after_regenerating(client):
    attendee = make_user("attendee")
    services.register(attendee, make_fair().id)
    old = attendee.calendar_token
    assert client.get(f"/calendar/{old}.ics").status_code == 200

    new = regenerate_calendar_token(attendee)

    assert new != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_private_feed_unknown_token_is_not_found(client):
    make_user("attendee")
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404
