"""iCalendar (RFC 5545) feeds: a fair, a session, and a person's private feed.

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
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from icalendar import Calendar, Event
from sqlalchemy import select

from ..bilingual import plain
from ..extensions import db
from ..leads.enums import LeadStage, stage_label
from ..leads.models import Lead
from .enums import FairStatus, SessionStatus, kind_label
from .models import Fair, FairSession
from .timezones import is_ambiguous, vtimezone

#: Lead stages whose next action no longer belongs in a calendar.
CLOSED_LEAD_STAGES = frozenset({LeadStage.DROPPED.value, LeadStage.OPERATING.value})

PRODID = "-//CloudFair//Online investment fairs//EN"


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _uid(kind: str, object_id: int) -> str:
    return f"{kind}-{object_id}@{current_app.config['CALENDAR_UID_DOMAIN']}"


def _add_times(event: Event, starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> None:
    """DTSTART/DTEND in the fair's zone, or both in UTC when either falls in a repeated hour."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if is_ambiguous(start) or is_ambiguous(end):
        start, end = starts_at.astimezone(timezone.utc), ends_at.astimezone(timezone.utc)
    event.add("dtstart", start)
    event.add("dtend", end)


def fair_event(fair: Fair, link: Callable[[Fair], str]) -> Event:
    event = Event()
    zone = fair.zone
    event.add("uid", _uid("fair", fair.id))
    event.add("summary", plain(fair, "title"))
    _add_times(event, fair.starts_at, fair.ends_at, zone)
    event.add("dtstamp", fair.updated_at)
    event.add("last-modified", fair.updated_at)
    event.add("sequence", fair.revision)
    event.add("status", "CANCELLED" if fair.status == FairStatus.CANCELLED else "CONFIRMED")
    event.add("url", link(fair))
    description = [plain(fair, "theme")] if fair.theme else []
    if fair.stream_url:
        description.append(gettext("Stream: %(url)s", url=fair.stream_url))
        event.add("location", fair.stream_url)
    description.append(link(fair))
    event.add("description", "\n".join(description))
    return event


def session_event(session: FairSession, link: Callable[[Fair], str]) -> Event:
    fair = session.fair
    zone = fair.zone
    event = Event()
    event.add("uid", _uid("session", session.id))
    event.add("summary", f"{plain(session, 'title')} · {plain(fair, 'title')}")
    _add_times(event, session.starts_at, session.ends_at, zone)
    event.add("dtstamp", session.updated_at)
    event.add("last-modified", session.updated_at)
    event.add("sequence", session.sequence)
    event.add("status", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
    event.add("categories", [kind_label(session.kind)])
    if session.join_url:
        event.add("location", session.join_url)
    lines = []
    if session.presenters:
        lines.append(gettext("Presenters: %(names)s", names=", ".join(p.name for p in session.presenters)))
    if session.projects:
        lines.append(gettext("Projects: %(titles)s", titles=", ".join(plain(p, "title") for p in session.projects)))
    if session.join_url:
        lines.append(gettext("Join: %(url)s", url=session.join_url))
    lines.append(link(fair))
    event.add("description", "\n".join(lines))
    event.add("url", link(fair))
    return event


def lead_event(lead: Lead, link: Callable[[Lead], str]) -> Event:
    """A lead's next action: all day on `next_action_on`, naming the project, organisation and stage."""
    event = Event()
    event.add("uid", _uid("lead", lead.id).replace("@", "-next-action@", 1))
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


def _finish(cal: Calendar) -> bytes:
    """Add one VTIMEZONE per zone the events name, covering only the years they fall in."""
    years: dict[str, list[int]] = {}
    for event in cal.walk("VEVENT"):
        for name in ("DTSTART", "DTEND"):
            if name in event and "TZID" in event[name].params:
                years.setdefault(event[name].params["TZID"], []).append(event.decoded(name).year)
    for tzid, found in sorted(years.items(), reverse=True):
        # VTIMEZONEs go first: some programs read a calendar in one pass.
        cal.subcomponents.insert(0, vtimezone(tzid, min(found), max(found)))
    return cal.to_ical()


def fair_calendar(fair: Fair, sessions: Iterable[FairSession], link: Callable[[Fair], str]) -> bytes:
    cal = _calendar(plain(fair, "title"))
    cal.add_component(fair_event(fair, link))
    for session in sessions:
        cal.add_component(session_event(session, link))
    return _finish(cal)


def session_calendar(session: FairSession, link: Callable[[Fair], str]) -> bytes:
    cal = _calendar(plain(session, "title"))
    cal.add_component(session_event(session, link))
    return _finish(cal)


def personal_calendar(
    name: str, fairs: Iterable[Fair], sessions: Iterable[FairSession], link: Callable[[Fair], str],
    leads: Iterable[Lead] = (), lead_link: Callable[[Lead], str] | None = None, events: Iterable[Event] = (),
) -> bytes:
    """A person's feed: the fairs they registered for, the sessions they present, their leads' next
    actions, and other events made elsewhere (their meetings)."""
    cal = _calendar(name)
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
    return _finish(cal)


def fair_etag(fair: Fair, locale: str = "en") -> str:
    """Cheap validator: changes whenever the fair or one of its sessions changes (and with the language)."""
    return f'"fair-{fair.id}-r{fair.revision}-{locale}"'


def content_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
