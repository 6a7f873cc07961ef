"""Agenda pages offer "add to calendar" (.ics) for the fair and each session, and a person's webcal:// subscription."""

from __future__ import annotations

import re

from app.extensions import db
from tests.factories import make_fair, make_organiser, make_session, make_user


def test_anonymous_visitors_get_the_fair_and_session_ics_and_no_subscription(client):
    organiser = make_organiser()
    fair = make_fair(organiser)
    session = make_session(fair, organiser, title="Membrane pitch")

    page = client.get(f"/fairs/{fair.id}").text

    assert f'href="/fairs/{fair.id}.ics"' in page and f'href="/sessions/{session.id}.ics"' in page
    assert "Add Membrane pitch to calendar (.ics)" in page
    assert "webcal://" not in page
    assert "log in to subscribe" in page
    assert client.get(f"/fairs/{fair.id}.ics").status_code == 200
    assert client.get(f"/sessions/{session.id}.ics").status_code == 200


def test_a_signed_in_person_gets_their_own_webcal_link_explained(client, login):
    organiser = make_organiser()
    fair = make_fair(organiser)
    attendee = make_user("attendee")
    login(attendee)

    page = client.get(f"/fairs/{fair.id}").text

    link = re.search(r'href="(webcal://[^"]+)"', page)
    assert link and link.group(1) == f"webcal://localhost/calendar/{attendee.calendar_token}.ics"
    assert organiser.calendar_token not in page
    assert 'id="calendar-help"' in page and "later changes do not follow" in page
    assert client.get(link.group(1).replace("webcal://localhost", "")).status_code == 200


def test_my_calendar_offers_the_subscription_in_both_languages(client, login):
    person = make_user("attendee", locale="zh")
    login(person)

    chinese = client.get("/me/calendar").text
    assert f'href="webcal://localhost/calendar/{person.calendar_token}.ics"' in chinese
    assert "在我的日历程序中订阅（webcal://）" in chinese and "通过网址添加" in chinese
    assert "下一步行动" in chinese

    person.locale = "en"
    db.session.commit()
    english = client.get("/me/calendar").text
    assert "Subscribe in my calendar program (webcal://)" in english and "From URL" in english
    assert "next actions" in english
