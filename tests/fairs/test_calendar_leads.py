"""A person's private feed carries the next action of each open lead they own, and only theirs."""

from __future__ import annotations

from datetime import date

from icalendar import Calendar

from app.extensions import db
from tests.factories import at, make_fair, make_organiser, make_presenter, make_project, make_session, make_user

from .calendar_helpers import make_lead


def _feed(client, user) -> dict[str, object]:
    response = client.get(f"/calendar/{user.calendar_token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return {str(e["UID"]): e for e in Calendar.from_ical(response.data).walk("VEVENT")}


def _world():
    agent = make_presenter(name="Petr Novak", timezone_name="Europe/Prague", country="CZ")
    project = make_project(agent, title="Ice-rink blanket")
    owner = make_user("attendee", name="Liu Yang", organisation="张家口市商务局")
    lead = make_lead(owner, project, next_action_on=date(2027, 1, 15))
    return agent, project, owner, lead


def test_an_open_leads_next_action_is_an_all_day_event_for_its_owner(client):
    _, project, owner, lead = _world()

    events = _feed(client, owner)
    again = _feed(client, owner)

    uid = f"lead-{lead.id}-next-action@cloudfair"
    assert list(events) == [uid] and list(again) == [uid]  # a stable UID
    event = events[uid]
    assert event.decoded("DTSTART") == date(2027, 1, 15) and event.decoded("DTEND") == date(2027, 1, 16)
    assert event["DTSTART"].params.get("VALUE") == "DATE"
    # The bureau's name exists in Chinese only: the English feed marks the fallback.
    assert str(event["SUMMARY"]) == "Next action: Ice-rink blanket · 张家口市商务局 (in Chinese)"
    description = str(event["DESCRIPTION"])
    assert "Project: Ice-rink blanket" in description and "Organisation: 张家口市商务局" in description
    assert "Stage: Follow-up" in description and "follow_up" not in description  # the label, not the code
    assert str(event["URL"]) == f"http://localhost/leads/{lead.id}" and str(event["URL"]) in description
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_the_stage_is_written_in_the_owners_language(client):
    _, _, owner, lead = _world()
    owner.locale = "zh"
    db.session.commit()

    event = _feed(client, owner)[f"lead-{lead.id}-next-action@cloudfair"]

    assert "阶段：跟进洽谈" in str(event["DESCRIPTION"])
    assert str(event["SUMMARY"]).startswith("下一步行动：Ice-rink blanket")


def test_a_moved_date_moves_the_event_and_a_cleared_date_removes_it(client):
    _, _, owner, lead = _world()
    uid = f"lead-{lead.id}-next-action@cloudfair"

    lead.next_action_on = date(2027, 2, 3)
    db.session.commit()
    assert _feed(client, owner)[uid].decoded("DTSTART") == date(2027, 2, 3)

    lead.next_action_on = None
    db.session.commit()
    assert uid not in _feed(client, owner)


def test_a_dropped_or_operating_lead_leaves_the_feed(client):
    _, _, owner, lead = _world()
    uid = f"lead-{lead.id}-next-action@cloudfair"

    for stage, shown in (("dropped", False), ("negotiating", True), ("operating", False)):
        lead.stage = stage
        db.session.commit()
        assert (uid in _feed(client, owner)) is shown, stage


def test_a_next_action_set_through_the_api_appears_in_the_owners_feed(client, auth):
    _, _, owner, lead = _world()
    lead.next_action_on = None
    db.session.commit()
    assert _feed(client, owner) == {}

    response = client.post(f"/api/v1/leads/{lead.id}/progress", headers=auth(owner),
                           json={"note": "Call the rink maker", "next_action_on": "2027-03-01"})

    assert response.status_code == 201, response.text
    event = _feed(client, owner)[f"lead-{lead.id}-next-action@cloudfair"]
    assert event.decoded("DTSTART") == date(2027, 3, 1)


def test_another_users_token_shows_nothing_of_yours(client):
    agent, project, owner, lead = _world()
    colleague = make_user("attendee", name="Wang Fang", organisation="张家口市商务局")
    organiser = make_organiser()
    fair = make_fair(organiser, title="Prague fair", timezone="Europe/Prague", starts_at=at("2027-01-20T09:00+01:00"))
    session = make_session(fair, organiser, title="Rink pitch", presenter_ids=[agent.id])
    from app.fairs import services

    services.register(owner, fair.id)

    mine = _feed(client, owner)
    theirs = _feed(client, colleague)
    agents = _feed(client, agent)

    assert set(mine) == {f"lead-{lead.id}-next-action@cloudfair", f"fair-{fair.id}@cloudfair"}
    assert theirs == {}  # same organisation, not the owner: no lead, no registration
    assert set(agents) == {f"session-{session.id}@cloudfair"}  # the project's agent does not own the lead
