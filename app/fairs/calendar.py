"""iCalendar (RFC 5545) feeds: a fair, a session, and a person's private feed (the fair's and the
session's entries are built in `ics.py`).

UIDs are stable (`session-<id>@<CALENDAR_UID_DOMAIN>`), SEQUENCE rises with
every change, cancelled sessions stay in the feed as STATUS:CANCELLED, and
times are written in the fair's own zone with a VTIMEZONE that every calendar program
reads alike (`timezones.vtimezone`: yearly RRULEs, only the feed's years). An event whose
start or end falls in the repeated hour of a clock change is written in UTC instead
(`DTSTART:20271031T003000Z`): a local time there names two instants. Descriptions are written in
the current language (the request's, or the person's for a private feed or a mail).

A person's private feed also carries the next action of each open lead they own: an all-day
event on `next_action_on` (UID `lead-<id>-next-action@…`), gone once the date is cleared or
the lead is dropped or operating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import timedelta

from flask_babel import gettext
from icalendar import Event
from sqlalchemy import select

from ..bilingual import plain
from ..extensions import db
from ..leads.enums import LeadStage, stage_label
from ..leads.models import Lead
from .ics import fair_event, finish, new_calendar, session_event, uid
from .models import Fair, FairSession

#: Lead stages whose next action no longer belongs in a calendar.
CLOSED_LEAD_STAGES = frozenset({LeadStage.DROPPED.value, LeadStage.OPERATING.value})


def lead_event(lead: Lead, link: Callable[[Lead], str]) -> Event:
    """A lead's next action: all day on `next_action_on`, naming the project, organisation and stage."""
    event = Event()
    event.add("uid", uid("lead", lead.id).replace("@", "-next-action@", 1))
    stage = stage_label(lead.stage)
    event.add("summary", gettext("Next action: %(project)s · %(organisation)s", project=plain(lead.project, "title"),
                                 organisation=plain(lead.organisation, "name")))
    event.add("dtstart", lead.next_action_on)
    event.add("dtend", lead.next_action_on + timedelta(days=1))
    changed = lead.updated_at or lead.created_at
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("transp", "TRANSPARENT")
    event.add("status", "CONFIRMED")
    event.add("categories", [stage])
    event.add("url", link(lead))
    event.add("description", "\n".join([
        gettext("Project: %(title)s", title=plain(lead.project, "title")),
        gettext("Organisation: %(name)s", name=plain(lead.organisation, "name")),
        gettext("Stage: %(stage)s", stage=stage),
        link(lead),
    ]))
    return event


def next_action_leads(user) -> list[Lead]:
    """The open leads the person owns that have a next action date, soonest first."""
    return list(db.session.scalars(
        select(Lead)
        .where(Lead.owner_id == user.id, Lead.next_action_on.is_not(None), Lead.stage.not_in(CLOSED_LEAD_STAGES))
        .order_by(Lead.next_action_on, Lead.id)
    ))


def personal_calendar(
    name: str, fairs: Iterable[Fair], sessions: Iterable[FairSession], link: Callable[[Fair], str],
    leads: Iterable[Lead] = (), lead_link: Callable[[Lead], str] | None = None, events: Iterable[Event] = (),
) -> bytes:
    """A person's feed: the fairs they registered for, the sessions they present, their leads' next
    actions, and other events made elsewhere (their meetings)."""
    cal = new_calendar(name)
    # RFC 7986 requires VALUE=DURATION; icalendar wants a timedelta, not the text "PT1H".
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for fair in fairs:
        cal.add_component(fair_event(fair, link))
    for session in sessions:
        cal.add_component(session_event(session, link))
    for lead in leads:
        cal.add_component(lead_event(lead, lead_link))
    for event in events:
        cal.add_component(event)
    return finish(cal)


def feed_etag(fair_id: int, revision: int, locale: str = "en") -> str:
    """A fair feed's cheap validator: changes whenever the fair or one of its sessions changes (its
    revision) and with the language; from the id and revision alone, so a 304 loads no fair."""
    return f'"fair-{fair_id}-r{revision}-{locale}"'


def content_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
