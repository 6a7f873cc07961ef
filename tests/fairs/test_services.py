"""Scheduling rules, slot suggestions and registrations, through the services and the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.fairs import services
from app.fairs.models import FairSession, Registration
from tests.factories import at, make_fair, make_organiser, make_presenter, make_session, make_user

UTC = timezone.utc


def _session_count() -> int:
    return db.session.scalar(select(func.count(FairSession.id)))


# ---------------------------------------------------------------- scheduling rules


def test_create_session_rejects_presenter_double_booking_across_fairs():
    organiser = make_organiser()
    agent = make_presenter(name="Klaus Weber")
    europe = make_fair(organiser, title="Europe fair")
    other = make_fair(organiser, title="Other fair")
    first = make_session(europe, organiser, title="Membrane pitch", presenter_ids=[agent.id],
                         starts_at=europe.starts_at, ends_at=europe.starts_at + timedelta(minutes=45))
    before = _session_count()

    with pytest.raises(Conflict) as caught:
        make_session(other, organiser, title="Second pitch", presenter_ids=[agent.id],
                     starts_at=europe.starts_at + timedelta(minutes=30), ends_at=europe.starts_at + timedelta(minutes=90))

    assert caught.value.code == "schedule_conflict"
    assert [(c["session_id"], c["reason"], c["presenter_id"]) for c in caught.value.details["conflicts"]] == [
        (first.id, "presenter", agent.id)
    ]
    assert "Klaus Weber already presents “Membrane pitch”" in caught.value.message
    assert _session_count() == before


def test_create_session_rejects_overlap_in_the_same_track_but_not_in_another():
    organiser = make_organiser()
    fair = make_fair(organiser)
    opening = make_session(fair, organiser, title="Opening", track="main")

    with pytest.raises(Conflict) as caught:
        make_session(fair, organiser, title="Clash", track="main", starts_at=fair.starts_at + timedelta(minutes=10))
    assert [(c["session_id"], c["reason"], c["track"]) for c in caught.value.details["conflicts"]] == [
        (opening.id, "track", "main")
    ]

    parallel = make_session(fair, organiser, title="Cities", track="cities", starts_at=fair.starts_at + timedelta(minutes=10))
    assert parallel.track.name == "cities"


def test_back_to_back_sessions_do_not_clash():
    organiser = make_organiser()
    agent = make_presenter()
    fair = make_fair(organiser)
    first = make_session(fair, organiser, presenter_ids=[agent.id])
    second = make_session(fair, organiser, presenter_ids=[agent.id], starts_at=first.ends_at)
    assert second.starts_at == first.ends_at


def test_cancelled_session_frees_its_slot():
    organiser = make_organiser()
    fair = make_fair(organiser)
    first = make_session(fair, organiser)
    services.cancel_session(organiser, first)
    replacement = make_session(fair, organiser, title="Replacement")
    assert replacement.starts_at == first.starts_at


def test_updating_a_session_does_not_clash_with_itself():
    organiser = make_organiser()
    fair = make_fair(organiser)
    session = make_session(fair, organiser)
    updated = services.update_session(organiser, session, {"ends_at": session.ends_at + timedelta(minutes=15)})
    assert (updated.ends_at - updated.starts_at, updated.sequence) == (timedelta(minutes=60), 1)


def test_moving_a_session_onto_another_is_a_conflict_and_changes_nothing():
    organiser = make_organiser()
    fair = make_fair(organiser)
    first = make_session(fair, organiser, title="First")
    second = make_session(fair, organiser, title="Second", starts_at=first.ends_at)
    original = (second.starts_at, second.ends_at, second.sequence)

    with pytest.raises(Conflict):
        services.update_session(organiser, second, {"starts_at": first.starts_at, "ends_at": first.ends_at})

    db.session.expire_all()
    assert (second.starts_at, second.ends_at, second.sequence) == original


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": at("2026-12-10T06:00:00+00:00")}, "starts_at"),  # before the fair
        ({"ends_at": at("2026-12-10T14:00:00+00:00")}, "ends_at"),  # after the fair
        ({"ends_at": at("2026-12-10T07:00:00+00:00")}, "ends_at"),  # ends when it starts
        ({"track": "nowhere"}, "track"),
        ({"kind": "party"}, "kind"),
        ({"title": "  "}, "title"),
        ({"join_url": "javascript:alert(1)"}, "join_url"),
        ({"starts_at": datetime(2026, 12, 10, 8, 0)}, "starts_at"),  # naive
    ],
)
def test_create_session_names_the_bad_field_and_writes_nothing(change, field):
    organiser = make_organiser()
    fair = make_fair(organiser, starts_at=at("2026-12-10T07:00:00+00:00"), ends_at=at("2026-12-10T13:00:00+00:00"))
    data = {"title": "Pitch", "kind": "pitch", "starts_at": fair.starts_at, "ends_at": fair.starts_at + timedelta(hours=1)}
    data.update(change)
    before = _session_count()

    with pytest.raises(ValidationFailed) as caught:
        services.create_session(organiser, fair, data)

    assert field in caught.value.fields
    assert _session_count() == before


def test_presenter_ids_must_name_presenters():
    organiser = make_organiser()
    fair = make_fair(organiser)
    attendee = make_user("attendee")
    with pytest.raises(ValidationFailed) as caught:
        make_session(fair, organiser, presenter_ids=[attendee.id])
    assert list(caught.value.fields) == ["presenter_ids"]


def test_shrinking_a_fair_around_its_sessions_is_refused():
    organiser = make_organiser()
    fair = make_fair(organiser)
    make_session(fair, organiser, starts_at=fair.ends_at - timedelta(hours=1))
    with pytest.raises(ValidationFailed) as caught:
        services.update_fair(organiser, fair, {"ends_at": fair.ends_at - timedelta(hours=2)})
    assert "starts_at" in caught.value.fields
    db.session.expire_all()
    assert fair.ends_at == fair.starts_at + timedelta(hours=6)


def test_api_create_session_conflict_is_409_with_the_clashing_sessions(client, auth):
    organiser = make_organiser()
    agent = make_presenter()
    fair = make_fair(organiser)
    existing = make_session(fair, organiser, presenter_ids=[agent.id])

    response = client.post(
        f"/api/v1/fairs/{fair.id}/sessions",
        headers=auth(organiser),
        json={"title": "Clash", "starts_at": existing.starts_at.isoformat(), "ends_at": existing.ends_at.isoformat(),
              "track": "cities", "presenter_ids": [agent.id]},
    )

    body = response.get_json()
    assert response.status_code == 409
    assert body["error"]["code"] == "schedule_conflict"
    assert [c["session_id"] for c in body["error"]["details"]["conflicts"]] == [existing.id]


def test_api_times_come_back_with_offsets_and_are_stored_in_utc(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser, starts_at=at("2027-03-28T06:00:00+00:00"), timezone="Europe/Berlin")
    response = client.post(
        f"/api/v1/fairs/{fair.id}/sessions",
        headers=auth(organiser),
        json={"title": "DST morning", "starts_at": "2027-03-28T09:00:00+02:00", "ends_at": "2027-03-28T09:30:00+02:00"},
    )
    assert response.status_code == 201, response.get_json()
    session = db.session.get(FairSession, response.get_json()["id"])
    assert session.starts_at == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    assert datetime.fromisoformat(response.get_json()["starts_at"]) == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)


# ---------------------------------------------------------------- slot suggestions


def _slot_starts(slots) -> list[datetime]:
    return [datetime.fromisoformat(s["starts_at"]) for s in slots]


def test_slots_for_a_los_angeles_agent_and_a_beijing_audience_overlap_four_hours():
    organiser = make_organiser()
    agent = make_presenter("America/Los_Angeles")
    # Beijing 08:00-22:00 on 14 January 2027 (LA is on PST, UTC-8).
    fair = make_fair(organiser, starts_at=at("2027-01-14T08:00:00+08:00"), ends_at=at("2027-01-14T22:00:00+08:00"),
                     tracks=["main"])

    slots = services.suggest_slots(organiser, fair, agent.id, 60)

    # Beijing 08:00-20:00 is 00:00-12:00 UTC; LA 08:00-20:00 is 16:00-04:00 UTC: they share 00:00-04:00 UTC.
    expected = [at("2027-01-14T00:00:00+00:00") + timedelta(minutes=15 * i) for i in range(13)]
    assert _slot_starts(slots) == expected
    assert slots[0]["fair_local"] == "2027-01-14 08:00–09:00"
    assert slots[0]["presenter_local"] == "2027-01-13 16:00–17:00"


def test_slots_for_a_berlin_agent_move_with_european_daylight_saving():
    organiser = make_organiser()
    agent = make_presenter("Europe/Berlin")
    before = make_fair(organiser, starts_at=at("2027-03-26T08:00:00+08:00"), ends_at=at("2027-03-26T20:00:00+08:00"))
    after = make_fair(organiser, starts_at=at("2027-03-29T08:00:00+08:00"), ends_at=at("2027-03-29T20:00:00+08:00"))

    first_before = services.suggest_slots(organiser, before, agent.id, 60)[0]
    first_after = services.suggest_slots(organiser, after, agent.id, 60)[0]

    # Berlin 08:00 is 15:00 in Beijing under CET and 14:00 under CEST.
    assert (first_before["fair_local"], first_before["presenter_local"]) == ("2027-03-26 15:00–16:00", "2027-03-26 08:00–09:00")
    assert (first_after["fair_local"], first_after["presenter_local"]) == ("2027-03-29 14:00–15:00", "2027-03-29 08:00–09:00")


def test_slots_avoid_the_presenters_sessions_and_full_tracks():
    organiser = make_organiser()
    agent = make_presenter("America/Los_Angeles")
    fair = make_fair(organiser, starts_at=at("2027-01-14T08:00:00+08:00"), ends_at=at("2027-01-14T12:00:00+08:00"),
                     tracks=["main"])
    other = make_fair(organiser, title="Elsewhere", starts_at=fair.starts_at, ends_at=fair.ends_at, tracks=["main"])
    make_session(other, organiser, presenter_ids=[agent.id],
                 starts_at=at("2027-01-14T08:00:00+08:00"), ends_at=at("2027-01-14T09:00:00+08:00"))
    make_session(fair, organiser, title="Track busy",
                 starts_at=at("2027-01-14T10:00:00+08:00"), ends_at=at("2027-01-14T11:00:00+08:00"))

    starts = _slot_starts(services.suggest_slots(organiser, fair, agent.id, 60))

    assert starts == [at("2027-01-14T09:00:00+08:00"), at("2027-01-14T11:00:00+08:00")]


def test_slot_working_hours_are_settable_per_fair():
    organiser = make_organiser()
    agent = make_presenter("Asia/Shanghai")
    fair = make_fair(organiser, starts_at=at("2027-01-14T08:00:00+08:00"), ends_at=at("2027-01-14T20:00:00+08:00"),
                     fair_day_start="09:00", fair_day_end="11:00", tracks=["main"])
    starts = _slot_starts(services.suggest_slots(organiser, fair, agent.id, 60))
    assert (starts[0], starts[-1]) == (at("2027-01-14T09:00:00+08:00"), at("2027-01-14T10:00:00+08:00"))


def test_slot_suggestions_api_checks_its_input(client, auth):
    organiser = make_organiser()
    attendee = make_user("attendee")
    fair = make_fair(organiser)
    bad_presenter = client.get(f"/api/v1/fairs/{fair.id}/slot-suggestions?presenter_id={attendee.id}&minutes=30",
                               headers=auth(organiser))
    bad_minutes = client.get(f"/api/v1/fairs/{fair.id}/slot-suggestions?presenter_id={attendee.id}&minutes=0",
                             headers=auth(organiser))
    assert (bad_presenter.status_code, list(bad_presenter.get_json()["error"]["details"]["fields"])) == (422, ["presenter_id"])
    assert (bad_minutes.status_code, list(bad_minutes.get_json()["error"]["details"]["fields"])) == (422, ["minutes"])


# ---------------------------------------------------------------- registrations


def test_register_is_idempotent_and_withdraw_frees_the_place(client, auth):
    fair = make_fair(capacity=1, waitlist=False)
    first, second = make_user("attendee"), make_user("attendee")

    assert client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(first)).status_code == 201
    assert client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(first)).status_code == 200
    full = client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(second))
    assert (full.status_code, full.get_json()["error"]["code"]) == (409, "fair_full")

    assert client.delete(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(first)).status_code == 204
    assert client.post(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(second)).status_code == 201
    active = db.session.scalars(
        select(Registration.user_id).where(Registration.fair_id == fair.id, Registration.withdrawn_at.is_(None))
    ).all()
    assert active == [second.id]


def test_registering_for_a_draft_or_closed_fair_is_refused(client, auth):
    organiser = make_organiser()
    attendee = make_user("attendee")
    draft = make_fair(organiser, publish=False)
    cancelled = make_fair(organiser)
    services.cancel_fair(organiser, cancelled)

    assert client.post(f"/api/v1/fairs/{draft.id}/registrations", headers=auth(attendee)).status_code == 404
    closed = client.post(f"/api/v1/fairs/{cancelled.id}/registrations", headers=auth(attendee))
    assert (closed.status_code, closed.get_json()["error"]["code"]) == (409, "registration_closed")
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_organiser_lists_registrations_with_their_state(client, auth):
    organiser = make_organiser()
    fair = make_fair(organiser)
    stays, leaves = make_user("attendee"), make_user("attendee")
    services.register(stays, fair.id)
    services.register(leaves, fair.id)
    services.withdraw(leaves, fair.id)

    body = client.get(f"/api/v1/fairs/{fair.id}/registrations", headers=auth(organiser)).get_json()

    assert [(r["user_id"], r["status"]) for r in body["items"]] == [(stays.id, "registered"), (leaves.id, "withdrawn")]
    assert body["total"] == 2


def test_publish_only_from_draft():
    organiser = make_organiser()
    fair = make_fair(organiser)
    with pytest.raises(Conflict):
        services.publish_fair(organiser, fair)


def test_anonymous_agenda_page_is_cached_until_the_fair_changes(client):
    organiser = make_organiser()
    fair = make_fair(organiser)
    make_session(fair, organiser, title="Membrane pitch")
    first = client.get(f"/fairs/{fair.id}")
    assert "Membrane pitch" in first.text
    assert client.get(f"/fairs/{fair.id}").text == first.text
    session = db.session.scalars(select(FairSession)).one()
    services.update_session(organiser, session, {"title": "Ceramic membrane pitch"})
    assert "Ceramic membrane pitch" in client.get(f"/fairs/{fair.id}").text
    client.set_cookie("tz", "Europe/Berlin")
    assert "Europe/Berlin" in client.get(f"/fairs/{fair.id}").text


def test_a_kept_anonymous_agenda_page_is_two_reads_and_shows_the_scheduler_s_flips_and_places_at_once(client):
    """A kept page costs the fair's version (its sessions' statuses with it) and its places, no fair
    loaded; a session the scheduler flips to live (no new revision), a new registration, or a fair
    unpublished show on the next request."""
    from app.notifications.reminders import flip_statuses
    from tests.live.test_interest_ingest import Statements

    organiser = make_organiser()
    fair = make_fair(organiser, capacity=10)
    session = make_session(fair, organiser, title="Membrane pitch", starts_at=fair.starts_at + timedelta(hours=1))
    flip_statuses(fair.starts_at)  # the fair is live, its session not yet
    fair_id, session_starts = fair.id, session.starts_at
    first = client.get(f"/fairs/{fair_id}")
    assert "0 of 10 places taken." in first.text and first.text.count("badge-live") == 1
    db.session.expunge_all()  # as a request of its own finds it: nothing of the fair in the session
    with Statements() as seen:
        assert client.get(f"/fairs/{fair_id}").text == first.text
    assert len(seen.log) == 2 and seen.log[0].startswith("SELECT fairs.published_at"), seen.log
    assert not any(s.startswith("SELECT fairs.id") for s in seen.log), seen.log  # no fair loaded

    flip_statuses(session_starts)  # the session's flip moves no revision
    assert client.get(f"/fairs/{fair_id}").text.count("badge-live") == 2
    services.register(make_user("attendee"), fair_id)
    assert "1 of 10 places taken." in client.get(f"/fairs/{fair_id}").text
    db.session.get(type(fair), fair_id).published_at = None
    db.session.commit()
    assert client.get(f"/fairs/{fair_id}").status_code == 404
