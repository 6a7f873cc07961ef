"""A fair's and a session's calendar entries as iCalendar (RFC 5545): the events and the finished
bytes that the feeds (`calendar.py`) and the session reminder mail (app/notifications/reminders.py)
both carry. See `calendar.py` for how UIDs, SEQUENCE, zones and repeated hours are written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from icalendar import Calendar, Event

from ..bilingual import plain
from .enums import FairStatus, SessionStatus, kind_label
from .models import Fair, FairSession
from .timezones import is_ambiguous, vtimezone

PRODID = "-//CloudFair//Online investment fairs//EN"


def new_calendar(name: str) -> Calendar:
    """An empty published calendar named `name`."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def uid(kind: str, object_id: int) -> str:
    """The stable UID of a fair's, a session's or a lead's entry."""
    return f"{kind}-{object_id}@{current_app.config['CALENDAR_UID_DOMAIN']}"


def add_times(event: Event, starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> None:
    """DTSTART/DTEND in the fair's zone, or both in UTC when either falls in a repeated hour."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if is_ambiguous(start) or is_ambiguous(end):
        start, end = starts_at.astimezone(timezone.utc), ends_at.astimezone(timezone.utc)
    event.add("dtstart", start)
    event.add("dtend", end)


def fair_event(fair: Fair, link: Callable[[Fair], str]) -> Event:
    event = Event()
    zone = fair.zone
    event.add("uid", uid("fair", fair.id))
    event.add("summary", plain(fair, "title"))
    add_times(event, fair.starts_at, fair.ends_at, zone)
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
    event.add("uid", uid("session", session.id))
    event.add("summary", f"{plain(session, 'title')} · {plain(fair, 'title')}")
    add_times(event, session.starts_at, session.ends_at, zone)
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


def finish(cal: Calendar) -> bytes:
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
    cal = new_calendar(plain(fair, "title"))
    cal.add_component(fair_event(fair, link))
    for session in sessions:
        cal.add_component(session_event(session, link))
    return finish(cal)


def session_calendar(session: FairSession, link: Callable[[Fair], str]) -> bytes:
    cal = new_calendar(plain(session, "title"))
    cal.add_component(session_event(session, link))
    return finish(cal)
