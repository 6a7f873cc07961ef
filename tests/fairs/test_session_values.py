"""A session's fields are checked by one schema (`app/fairs/session_values.py: SessionValuesSchema`)
that create_session and update_session load: every bad field is named at once, a change keeps the
fields it does not give, and nothing is written when one is bad."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.fairs import services
from app.fairs.models import FairSession
from app.fairs.session_values import SessionValuesSchema
from app.schemas import load
from tests.factories import at, make_fair, make_organiser, make_presenter, make_session, make_user


def _fair():
    organiser = make_organiser()
    return organiser, make_fair(organiser, starts_at=at("2026-12-10T07:00:00+00:00"),
                                ends_at=at("2026-12-10T13:00:00+00:00"))


def test_every_bad_field_is_named_at_once_with_its_message():
    organiser, fair = _fair()
    attendee = make_user("attendee")
    before = db.session.scalar(select(func.count(FairSession.id)))

    with pytest.raises(ValidationFailed) as refused:
        services.create_session(organiser, fair, {
            "title": "Pitch", "kind": "party", "ends_at": fair.starts_at, "presenter_ids": [attendee.id],
            "join_url": "javascript:alert(1)", "track": "nowhere"})

    fields = refused.value.fields
    assert set(fields) == {"kind", "starts_at", "presenter_ids", "join_url", "track"}
    assert fields["starts_at"] == ["This field is required."]
    assert fields["presenter_ids"] == ["Every presenter_id must be an existing presenter."]
    assert fields["join_url"] == ["Give an http:// or https:// address."]
    assert db.session.scalar(select(func.count(FairSession.id))) == before


def test_a_change_keeps_what_it_does_not_give():
    organiser, fair = _fair()
    presenter = make_presenter()
    session = make_session(fair, organiser, presenter_ids=[presenter.id])

    values = load(SessionValuesSchema(fair=fair, current=session, actor=organiser),
                  {"ends_at": session.starts_at + timedelta(minutes=45)})

    assert (values["kind"], values["starts_at"], values["presenters"], values["track"]) == (
        session.kind, session.starts_at, [presenter], session.track)
    assert "projects" not in values and "title" not in values


def test_times_are_checked_against_the_fair_in_its_own_zone():
    organiser, fair = _fair()

    with pytest.raises(ValidationFailed) as refused:
        load(SessionValuesSchema(fair=fair, actor=organiser), {
            "title": "Pitch", "starts_at": at("2026-12-10T06:00:00+00:00"), "ends_at": at("2026-12-10T08:00:00+00:00")})

    assert refused.value.fields == {"starts_at": [
        f"The session starts before its fair ({fair.starts_at.astimezone(fair.zone):%Y-%m-%d %H:%M} {fair.timezone})."]}
