"""A meeting as an iCalendar event: in the people's private feeds (METHOD:PUBLISH) and as the
invitation mailed to both (RFC 5546: METHOD:REQUEST, and METHOD:CANCEL once declined or cancelled).

The UID (`meeting-<id>@<CALENDAR_UID_DOMAIN>`) never changes; SEQUENCE is the meeting's `sequence`,
which rises with each answer, so a calendar replaces the tentative invitation with the confirmed one
and removes it on the cancellation. Times are written in UTC: each calendar shows them in its own zone.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext
from icalendar import Calendar, Event, vCalAddress, vText

from ..bilingual import plain
from ..mail import site_link
from .enums import MeetingStatus
from .models import Meeting

PRODID = "-//CloudFair//Online investment fairs//EN"
_STATUS = {
    MeetingStatus.REQUESTED: "TENTATIVE",
    MeetingStatus.ACCEPTED: "CONFIRMED",
    MeetingStatus.HELD: "CONFIRMED",
    MeetingStatus.DECLINED: "CANCELLED",
    MeetingStatus.CANCELLED: "CANCELLED",
}


def uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}@{current_app.config['CALENDAR_UID_DOMAIN']}"


def _address(user, role: str, partstat: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["cn"] = vText(user.name)
    address.params["role"] = vText(role)
    address.params["partstat"] = vText(partstat)
    return address


def meeting_event(meeting: Meeting, reader) -> Event:
    """The meeting as the reader's calendar shows it (the other person named in the summary)."""
    event = Event()
    event.add("uid", uid(meeting))
    other = plain(meeting.organisation, "name") if reader.id == meeting.presenter_id else meeting.presenter.name
    event.add("summary", gettext("Meeting with %(other)s: %(project)s", other=other,
                                 project=plain(meeting.project, "title")))
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("dtstamp", meeting.updated_at or meeting.created_at)
    event.add("last-modified", meeting.updated_at or meeting.created_at)
    event.add("sequence", meeting.sequence)
    event.add("status", _STATUS[MeetingStatus(meeting.status)])
    event.add("location", meeting.meeting_url)
    link = site_link(f"/meetings/{meeting.id}")
    event.add("url", link)
    lines = [gettext("Project: %(title)s", title=plain(meeting.project, "title")),
             gettext("Join: %(url)s", url=meeting.meeting_url)]
    if meeting.note:
        lines.append(gettext("Note: %(note)s", note=meeting.note))
    lines.append(link)
    event.add("description", "\n".join(lines))
    accepted = meeting.status in (MeetingStatus.ACCEPTED, MeetingStatus.HELD)
    event.add("organizer", _address(meeting.presenter, "CHAIR", "ACCEPTED"), encode=0)
    event.add("attendee", _address(meeting.presenter, "CHAIR", "ACCEPTED" if accepted else "NEEDS-ACTION"), encode=0)
    event.add("attendee", _address(meeting.attendee, "REQ-PARTICIPANT", "ACCEPTED"), encode=0)
    return event


def invitation(meeting: Meeting, reader, event: str) -> str | None:
    """The .ics to attach to a mail about `event` (none for a reminder)."""
    if event == "reminder":
        return None
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if meeting.status in (MeetingStatus.DECLINED, MeetingStatus.CANCELLED) else "REQUEST")
    cal.add_component(meeting_event(meeting, reader))
    return cal.to_ical().decode("utf-8")
