"""Every kind of notification (`NotificationKind`) is stored in both languages when it happens, by
the code that sends it: a person who switches language reads all of theirs in the new language."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.fairs import services as fairs
from app.leads import services as leads
from app.leads.models import Lead
from app.meetings import services as meetings
from app.notifications import reminders
from app.notifications.enums import NotificationKind
from app.notifications.models import Notification
from app.notifications.services import notify
from app.parks import proposals
from app.parks.staleness import nudge_stale_parks
from app.people import signups
from app.projects import services as projects
from tests.projects import samples
from tests.conftest import mails_to, token_in
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.parks.helpers import make_city, make_park, make_plot

UTC = timezone.utc


def _people():
    organiser = make_organiser(locale="zh")
    presenter = make_presenter(locale="en")
    project = make_project(presenter, title="Mobile ice-rink blanket")
    project.title_zh = "移动冰场保温毯"
    fair = make_fair(organiser, title=None, title_i18n={"zh": "2027年1月云招商", "en": "Jan 2027 cloud fair"},
                     capacity=1)
    session = make_session(fair, organiser, title=None, title_i18n={"zh": "冬季推介", "en": "Winter pitch"},
                           presenter_ids=[presenter.id], project_ids=[project.id])
    city = make_user("attendee", organisation="Zhangjiakou Commerce Bureau", locale="zh")
    db.session.commit()
    return organiser, presenter, project, fair, session, city


def _meetings(presenter, project, city):
    def book(client_id, n=0):
        slot = meetings.meeting_slots(city, project.id)[n]
        return meetings.book(city, {"project_id": project.id, "starts_at": slot["starts_at"], "client_id": client_id})[0]

    meeting = book("every-kind-0001")                                      # requested
    meetings.accept(presenter, meeting.id)                                 # accepted
    meetings.due_work(meeting.starts_at - timedelta(minutes=10))           # meeting_15m
    later = meetings.meeting_slots(city, project.id)[2]["starts_at"]
    meetings.reschedule(city, meeting.id, later)                           # rescheduled
    meetings.cancel(city, meeting.id)                                      # cancelled
    meetings.decline(presenter, book("every-kind-0002").id, "Travelling")  # declined


def _materials(organiser, presenter, project):
    for n, decision in enumerate(("approve", "reject")):
        material = projects.upload_material(presenter, project.id, io.BytesIO(samples.pdf_bytes(f"v{n}")), f"deck{n}.pdf")
        projects.review_material(organiser, material.id, decision, "Please add the site plan" if n else None)


def _reminders(fair, session, city):
    fairs.register(city, fair.id)
    reminders.session_reminders(session.starts_at - timedelta(hours=23, minutes=59))
    reminders.session_reminders(session.starts_at - timedelta(minutes=14))
    lead = db.session.scalar(select(Lead).where(Lead.organisation_id == city.organisation_id))
    lead.owner_id, lead.next_action_on = city.id, datetime(2027, 1, 5).date()
    db.session.commit()
    reminders.lead_reminders(datetime(2027, 2, 1, 2, 0, tzinfo=UTC))
    reminders.report_requests(datetime(2027, 2, 1, 2, 0, tzinfo=UTC))  # Monday 1 February, Beijing


def _waiting_list(fair, city):
    waiting = make_user("attendee", locale="en")
    fairs.register(waiting, fair.id)  # the city holds the only place
    fairs.withdraw(city, fair.id)


def _signup(client):
    assert client.post("/api/v1/signup", json={
        "name": "王芳", "email": "wang.fang@example.cn", "organisation": "保定市新材料产业园", "kind": "park",
        "division": "130600", "locale": "zh"}).status_code == 202
    token = token_in(mails_to("wang.fang@example.cn")[-1], "signup/confirm")
    signups.confirm(token)


def _park(app, project):
    app.config["PARK_STALE_DAYS"] = 1
    person = make_city("Chengde Commerce Bureau", locale="en")
    park = make_park(person)
    plot = make_plot(person, park)
    lead = Lead(project_id=project.id, organisation_id=person.organisation_id, owner_id=person.id,
                stage="partner_identified")
    db.session.add(lead)
    db.session.commit()
    proposals.propose(person, lead.id, {"plot_ids": [plot.id]})  # site_proposal
    park.confirmed_at = park.confirmed_at - timedelta(days=30)
    db.session.commit()
    nudge_stale_parks()


def test_every_kind_of_notification_is_stored_in_both_languages(app, client):
    organiser, presenter, project, fair, session, city = _people()
    leads.record_interest(city, session, {"project_id": project.id, "level": "meeting", "client_id": "every-kind-i1"})
    db.session.commit()
    _meetings(presenter, project, city)
    _materials(organiser, presenter, project)
    _reminders(fair, session, city)
    _waiting_list(fair, city)
    _signup(client)
    _park(app, project)

    rows = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    assert {r.kind for r in rows} == {k.value for k in NotificationKind}  # every kind, and no other
    for row in rows:
        assert row.title_zh and row.title_en and row.title_zh != row.title_en, (row.kind, row.title_zh)
        assert row.title in (row.title_zh, row.title_en), row.kind
        assert bool(row.body_zh) == bool(row.body_en), (row.kind, row.body_zh, row.body_en)
    # Each row's `title` is its reader's language at the time.
    for row in rows:
        reader = db.session.get(type(city), row.user_id)
        assert row.title == (row.title_zh if reader.locale == "zh" else row.title_en), row.kind


def test_a_notification_of_an_unknown_kind_or_in_one_language_is_refused(app):
    person = make_user("attendee")
    with pytest.raises(ValueError):
        notify(person.id, kind="note", texts={"zh": ("通知", ""), "en": ("A note", "")})
    with pytest.raises(ValueError):
        notify(person.id, kind="report_request", texts={"zh": ("", ""), "en": ("A note", "")})
