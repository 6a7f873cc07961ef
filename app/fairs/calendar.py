"""iCalendar (RFC 5545) feeds: a fair, a session, and a person's private feed.

UIDs are stable (`session-<id>@<CALENDAR_UID_DOMAIN>`), SEQUENCE rises with
every change, cancelled sessions stay in the feed as STATUS:CANCELLED, and
times are written in the fair's own zone with its VTIMEZONE so calendar
programs convert correctly across daylight-saving changes. Descriptions are written in
the current language (the request's, or the person's for a private feed or a mail).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from icalendar import Calendar, Event

from .enums import FairStatus, SessionStatus, kind_label
from .models import Fair, FairSession

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


def fair_event(fair: Fair, link: Callable[[Fair], str]) -> Event:
    event = Event()
    zone = fair.zone
    event.add("uid", _uid("fair", fair.id))
    event.add("summary", fair.title)
    event.add("dtstart", fair.starts_at.astimezone(zone))
    event.add("dtend", fair.ends_at.astimezone(zone))
    event.add("dtstamp", fair.updated_at)
    event.add("last-modified", fair.updated_at)
    event.add("sequence", fair.revision)
    event.add("status", "CANCELLED" if fair.status == FairStatus.CANCELLED else "CONFIRMED")
    event.add("url", link(fair))
    description = [fair.theme] if fair.theme else []
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
    event.add("summary", f"{session.title} · {fair.title}")
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
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
        lines.append(gettext("Projects: %(titles)s", titles=", ".join(p.title for p in session.projects)))
    if session.join_url:
        lines.append(gettext("Join: %(url)s", url=session.join_url))
    lines.append(link(fair))
    event.add("description", "\n".join(lines))
    event.add("url", link(fair))
    return event


def _finish(cal: Calendar) -> bytes:
    cal.add_missing_timezones()
    return cal.to_ical()


def fair_calendar(fair: Fair, sessions: Iterable[FairSession], link: Callable[[Fair], str]) -> bytes:
    cal = _calendar(fair.title)
    cal.add_component(fair_event(fair, link))
    for session in sessions:
        cal.add_component(session_event(session, link))
    return _finish(cal)


def session_calendar(session: FairSession, link: Callable[[Fair], str]) -> bytes:
    cal = _calendar(session.title)
    cal.add_component(session_event(session, link))
    return _finish(cal)


def personal_calendar(
    name: str, fairs: Iterable[Fair], sessions: Iterable[FairSession], link: Callable[[Fair], str]
) -> bytes:
    """A person's feed: the fairs they registered for and the sessions they present."""
    cal = _calendar(name)
    # RFC 7986 requires VALUE=DURATION; icalendar wants a timedelta, not the text "PT1H".
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for fair in fairs:
        cal.add_component(fair_event(fair, link))
    for session in sessions:
        cal.add_component(session_event(session, link))
    return _finish(cal)


def fair_etag(fair: Fair, locale: str = "en") -> str:
    """Cheap validator: changes whenever the fair or one of its sessions changes (and with the language)."""
    return f'"fair-{fair.id}-r{fair.revision}-{locale}"'


def content_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
