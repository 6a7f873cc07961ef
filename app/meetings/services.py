"""One-to-one meetings: free slots in both people's working hours, booking without double booking,
the presenter's answer, invitations (.ics, METHOD:REQUEST/CANCEL), reminders and meeting days.

**Slots.** A meeting starts on the half hour (`SLOT_STEP`) and lasts 15 to 120 minutes in quarters
(default 30). A slot is offered when, for the attendee, it lies on a weekday inside their working
hours (08:00–20:00 in their own zone), and, for the presenter, either the same in their own zone
(their hours from their meeting settings, default 08:00–20:00) or inside availability they published
in a fair's meeting hours; and neither person has a session (presenters) or a requested or accepted
meeting then. Every test is made on the local clock of each zone for each slot, so a daylight-saving
change in one zone moves the common hours as it should.

**No double booking.** A meeting takes each of its quarter-hours for both people in
`meeting_claims`, whose primary key is (person, quarter): of two bookings that overlap for either
person only one can insert its rows; the other gets 409 `slot_taken`. Declining or cancelling frees
the quarters.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.enums import Role
from ..accounts.models import User
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from .. import signals
from ..extensions import db
from ..fairs.enums import FairStatus, SessionStatus
from ..fairs.models import Fair, FairSession, session_presenters
from ..leads import services as leads
from ..leads.models import Lead
from ..notifications.models import Notification
from ..notifications.services import deliver_live, in_both, notify
from ..projects import services as projects
from ..types import utcnow
from . import invitations
from .enums import HOLDING, MeetingStatus
from .models import Availability, Meeting, MeetingClaim, MeetingHours, MeetingProfile

log = logging.getLogger(__name__)

SLOT_STEP = timedelta(minutes=30)
QUARTER = timedelta(minutes=15)
DEFAULT_MINUTES = 30
MAX_MINUTES = 120
#: Working hours when nobody set their own (each person's own zone), Monday to Friday.
DAY_START, DAY_END = time(8, 0), time(20, 0)
#: A meeting is booked at least this long ahead, and at most this far.
LEAD_TIME = timedelta(hours=1)
MAX_AHEAD = timedelta(days=90)
#: The most days one slot query may span.
MAX_SPAN = timedelta(days=31)
REMINDER_BEFORE = timedelta(minutes=15)
MAX_NOTE = 2000


# ---------------------------------------------------------------- settings


def profile_of(user: User) -> MeetingProfile:
    """The presenter's meeting settings (defaults when never saved; not stored by reading)."""
    found = db.session.get(MeetingProfile, user.id)
    return found or MeetingProfile(user_id=user.id, auto_accept=False, meeting_url=None,
                                   day_start=DAY_START, day_end=DAY_END)


def _check_url(value, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 500 or not value.startswith("https://") or any(c.isspace() for c in value):
        raise ValidationFailed({field: gettext("Give an https:// address of at most 500 characters.")})
    return value


def _check_hhmm(value, field: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise ValidationFailed({field: gettext("Give a time as HH:MM.")}) from None


def save_profile(actor, data: dict) -> MeetingProfile:
    """Save one's meeting settings: working hours (attendees and presenters), and for presenters
    auto-accept and their own meeting address (an attendee's stay off)."""
    if actor.role not in (Role.PRESENTER, Role.ATTENDEE):
        raise Forbidden(gettext("Only presenters and attendees have meeting settings."))
    profile = db.session.get(MeetingProfile, actor.id) or MeetingProfile(user_id=actor.id)
    start = _check_hhmm(data.get("day_start", "08:00"), "day_start")
    end = _check_hhmm(data.get("day_end", "20:00"), "day_end")
    if end <= start:
        raise ValidationFailed({"day_end": gettext("The working day must end after it starts.")})
    presenter = actor.role == Role.PRESENTER
    profile.meeting_url = _check_url(data.get("meeting_url"), "meeting_url") if presenter else None
    profile.auto_accept = bool(data.get("auto_accept")) if presenter else False
    profile.day_start, profile.day_end = start, end
    db.session.add(profile)
    db.session.commit()
    return profile


# ---------------------------------------------------------------- slots


def _working(moment_start: datetime, moment_end: datetime, zone: ZoneInfo, day_start: time, day_end: time) -> bool:
    start, end = moment_start.astimezone(zone), moment_end.astimezone(zone)
    return (start.weekday() < 5 and start.date() == end.date()
            and start.time() >= day_start and end.time() <= day_end)


def _overlaps(spans, start: datetime, end: datetime) -> bool:
    return any(a < end and b > start for a, b in spans)


def _busy(user_ids: list[int], start: datetime, end: datetime, presenter_id: int | None,
          exclude_meeting: int | None = None) -> list[tuple[datetime, datetime]]:
    """Times taken in [start, end): the people's requested and accepted meetings and the presenter's sessions."""
    meetings = select(Meeting.starts_at, Meeting.ends_at).where(
        Meeting.status.in_(HOLDING), Meeting.starts_at < end, Meeting.ends_at > start,
        or_(Meeting.presenter_id.in_(user_ids), Meeting.attendee_id.in_(user_ids)))
    if exclude_meeting is not None:
        meetings = meetings.where(Meeting.id != exclude_meeting)
    spans = [tuple(row) for row in db.session.execute(meetings)]
    if presenter_id is not None:
        spans += [tuple(row) for row in db.session.execute(
            select(FairSession.starts_at, FairSession.ends_at)
            .join(session_presenters, session_presenters.c.session_id == FairSession.id)
            .join(Fair, Fair.id == FairSession.fair_id)
            .where(session_presenters.c.user_id == presenter_id, FairSession.status != SessionStatus.CANCELLED,
                   Fair.status != FairStatus.CANCELLED, FairSession.starts_at < end, FairSession.ends_at > start))]
    return spans


def availability_of(presenter_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return [tuple(row) for row in db.session.execute(
        select(Availability.starts_at, Availability.ends_at).where(
            Availability.presenter_id == presenter_id, Availability.starts_at < end, Availability.ends_at > start))]


def _inside(spans, start: datetime, end: datetime) -> bool:
    return any(a <= start and end <= b for a, b in spans)


def local_text(moment: datetime, end: datetime, zone_name: str) -> str:
    """A slot on one person's clock: "2027-03-29 15:00–15:30 (Europe/Berlin)"."""
    from ..i18n import repeated_hour_suffix

    zone = ZoneInfo(zone_name)
    start_local, end_local = moment.astimezone(zone), end.astimezone(zone)
    return f"{start_local:%Y-%m-%d %H:%M}{repeated_hour_suffix(moment, zone_name)}–{end_local:%H:%M} ({zone_name})"


class _Fit:
    """Whether a time suits both people (hours, availability, nothing else booked), for one query."""

    def __init__(self, attendee: User, presenter: User, start: datetime, end: datetime,
                 exclude_meeting: int | None = None):
        self.attendee_zone, self.presenter_zone = ZoneInfo(attendee.timezone), ZoneInfo(presenter.timezone)
        profile, own = profile_of(presenter), profile_of(attendee)
        self.presenter_hours = (profile.day_start, profile.day_end)
        self.attendee_hours = (own.day_start, own.day_end)
        self.busy = _busy([attendee.id, presenter.id], start - timedelta(hours=2), end + timedelta(hours=2),
                          presenter.id, exclude_meeting)
        self.available = availability_of(presenter.id, start - timedelta(days=1), end + timedelta(days=1))

    def in_hours(self, start: datetime, end: datetime) -> bool:
        return _working(start, end, self.attendee_zone, *self.attendee_hours) and (
            _working(start, end, self.presenter_zone, *self.presenter_hours) or _inside(self.available, start, end))

    def free(self, start: datetime, end: datetime) -> bool:
        return not _overlaps(self.busy, start, end)


def _round_up(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)
    remainder = (moment - epoch) % step
    return moment if not remainder else moment + (step - remainder)


def _check_minutes(value) -> int:
    if value is None:
        return DEFAULT_MINUTES
    if not isinstance(value, int) or isinstance(value, bool) or not 15 <= value <= MAX_MINUTES or value % 15:
        raise ValidationFailed({"minutes": gettext("Give a length of 15 to 120 minutes in quarter hours.")})
    return value


def _bookable_project(actor, project_id: int):
    project = projects.get_project(actor, project_id)
    presenter = project.owner
    if presenter is None or not presenter.active:
        raise NotFound(gettext("No such project."))
    return project, presenter


def meeting_slots(actor, project_id: int, *, starts_from: datetime | None = None, to: datetime | None = None,
                  minutes: int | None = None, now: datetime | None = None) -> list[dict]:
    """Free slots with the project's presenter between `starts_from` and `to` (default: the next 14 days)."""
    if actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Only attendees book meetings."))
    project, presenter = _bookable_project(actor, project_id)
    length = timedelta(minutes=_check_minutes(minutes))
    now = now or utcnow()
    start = max(starts_from or now, now + LEAD_TIME)
    end = min(to or start + timedelta(days=14), now + MAX_AHEAD)
    if to is not None and starts_from is not None and to <= starts_from:
        raise ValidationFailed({"to": gettext("The end must come after the start.")})
    if end - start > MAX_SPAN:
        raise ValidationFailed({"to": gettext("Ask for at most 31 days at once.")})
    fit = _Fit(actor, presenter, start, end)
    slots = []
    moment = _round_up(start, SLOT_STEP)
    while moment + length <= end:
        finish = moment + length
        if fit.in_hours(moment, finish) and fit.free(moment, finish):
            slots.append({
                "starts_at": moment, "ends_at": finish, "minutes": int(length.total_seconds() // 60),
                "attendee_local": local_text(moment, finish, actor.timezone),
                "presenter_local": local_text(moment, finish, presenter.timezone),
            })
        moment += SLOT_STEP
    return slots


# ---------------------------------------------------------------- booking


def _claim_rows(meeting: Meeting) -> list[MeetingClaim]:
    rows = []
    moment = meeting.starts_at
    while moment < meeting.ends_at:
        for user_id in (meeting.presenter_id, meeting.attendee_id):
            rows.append(MeetingClaim(user_id=user_id, starts_at=moment, meeting_id=meeting.id))
        moment += QUARTER
    return rows


def _room_url(profile: MeetingProfile) -> str:
    return profile.meeting_url or current_app.config["MEETING_ROOM_BASE"] + secrets.token_urlsafe(12)


def _slot_taken() -> Conflict:
    return Conflict(gettext("This time was just taken. Choose another slot."), code="slot_taken")


def _utc_start(starts_at) -> datetime:
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        raise ValidationFailed({"starts_at": gettext("Give the start as ISO 8601 with an offset.")})
    return starts_at.astimezone(timezone.utc)


def _check_note(note) -> str:
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValidationFailed({"note": gettext("The note is text of at most 2,000 characters.")})
    return note


def _check_time(attendee, presenter, starts_at: datetime, minutes: int, now: datetime, *,
                moving: Meeting | None = None) -> datetime:
    """The end of a meeting of `minutes` from `starts_at`, once the time suits both people: on the
    quarter hour, an hour to 90 days ahead, inside both people's working hours and free (a meeting
    being moved does not hold its own old time, and may not stay where it is). 422 or 409 `slot_taken`."""
    if _round_up(starts_at, QUARTER) != starts_at:
        raise ValidationFailed({"starts_at": gettext("A meeting starts on the quarter hour.")})
    if not now + LEAD_TIME <= starts_at <= now + MAX_AHEAD:
        raise ValidationFailed({"starts_at": gettext("Book at least an hour ahead and at most 90 days ahead.")})
    ends_at = starts_at + timedelta(minutes=minutes)
    if moving is not None and (starts_at, ends_at) == (moving.starts_at, moving.ends_at):
        raise ValidationFailed({"starts_at": gettext("The meeting is at this time already.")})
    fit = _Fit(attendee, presenter, starts_at, ends_at, exclude_meeting=moving.id if moving else None)
    if not fit.in_hours(starts_at, ends_at):
        raise ValidationFailed({"starts_at": gettext("This time is outside working hours for one of you.")})
    if not fit.free(starts_at, ends_at):
        raise _slot_taken()
    return ends_at


def _claim_time(meeting: Meeting, starts_at: datetime, ends_at: datetime, minutes: int) -> None:
    """Give the meeting this time and claim its quarter hours for both people in one savepoint (a new
    meeting is added, a moved one lets its old quarter hours go). IntegrityError when another booking
    won one of them (or the meeting's client id) meanwhile; the caller rolls back."""
    with db.session.begin_nested():
        if meeting.id is None:
            db.session.add(meeting)
        else:
            _release(meeting)
        meeting.starts_at, meeting.ends_at, meeting.minutes = starts_at, ends_at, minutes
        db.session.flush()
        db.session.add_all(_claim_rows(meeting))
        db.session.flush()


def _tell(actor, meeting: Meeting, done: str, event: str) -> Meeting:
    """Note the change on the meeting's lead, announce `event` to both people, commit once, then
    deliver the notices live."""
    if meeting.lead_id:
        leads.record_meeting(meeting.lead_id, user_id=actor.id, note=f"Meeting {meeting.id} {done}.")
    created = _announce(meeting, event)
    db.session.commit()
    deliver_live(created)
    return meeting


def find_by_client_id(actor, client_id: str) -> Meeting | None:
    return db.session.scalar(select(Meeting).where(Meeting.attendee_id == actor.id, Meeting.client_id == client_id))


def book(actor, data: dict, *, now: datetime | None = None) -> tuple[Meeting, bool]:
    """Book a meeting with a project's presenter; returns (meeting, duplicate).

    409 `slot_taken` when either person has the time already (also when another booking wins a race);
    422 when the time is outside both people's working hours or too soon or far.
    """
    if actor is None or actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Only attendees book meetings."))
    client_id = leads.check_client_id(data.get("client_id"))
    existing = find_by_client_id(actor, client_id)
    if existing is not None:
        return existing, True
    project_id = data.get("project_id")
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise ValidationFailed({"project_id": gettext("Give the id of a project.")})
    project, presenter = _bookable_project(actor, project_id)
    minutes = _check_minutes(data.get("minutes"))
    starts_at = _utc_start(data.get("starts_at"))
    note = _check_note(data.get("note") or "")
    ends_at = _check_time(actor, presenter, starts_at, minutes, now or utcnow())
    profile = profile_of(presenter)
    lead = db.session.scalar(select(Lead).where(Lead.project_id == project.id,
                                                Lead.organisation_id == actor.organisation_id))
    meeting = Meeting(
        client_id=client_id, project_id=project.id, presenter_id=presenter.id, attendee_id=actor.id,
        organisation_id=actor.organisation_id, lead_id=lead.id if lead else None, starts_at=starts_at,
        ends_at=ends_at, minutes=minutes, note=note.strip(), meeting_url=_room_url(profile),
        status=MeetingStatus.ACCEPTED.value if profile.auto_accept else MeetingStatus.REQUESTED.value,
    )
    try:
        _claim_time(meeting, starts_at, ends_at, minutes)
    except IntegrityError:
        db.session.rollback()
        replay = find_by_client_id(actor, client_id)
        if replay is not None:
            return replay, True
        raise _slot_taken() from None
    return _tell(actor, meeting, "booked", "accepted" if profile.auto_accept else "requested"), False


# ---------------------------------------------------------------- answers


def can_see(actor, meeting: Meeting) -> bool:
    if actor is None:
        return False
    if actor.role == Role.ORGANISER:
        return True
    if actor.role == Role.PRESENTER:
        return meeting.presenter_id == actor.id
    return meeting.organisation_id == actor.organisation_id


def get_meeting(actor, meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not can_see(actor, meeting):
        raise NotFound(gettext("No such meeting."))
    return meeting


def _locked(actor, meeting_id: int) -> Meeting:
    get_meeting(actor, meeting_id)
    return db.session.scalar(select(Meeting).where(Meeting.id == meeting_id).with_for_update(of=Meeting)
                             .execution_options(populate_existing=True))


def _release(meeting: Meeting) -> None:
    db.session.execute(delete(MeetingClaim).where(MeetingClaim.meeting_id == meeting.id))


def _request_to_answer(actor, meeting_id: int, not_requested: str) -> Meeting:
    """The locked meeting, when the actor answers requests (its presenter or an organiser) and it is
    still requested (else 409 `invalid_state` saying `not_requested`)."""
    meeting = _locked(actor, meeting_id)
    if actor.role not in (Role.PRESENTER, Role.ORGANISER):
        raise Forbidden(gettext("Only the presenter answers a meeting request."))
    if meeting.status != MeetingStatus.REQUESTED:
        raise Conflict(not_requested, code="invalid_state")
    return meeting


def accept(actor, meeting_id: int) -> Meeting:
    """The presenter (or an organiser) accepts a requested meeting; both get the confirmed invitation."""
    meeting = _request_to_answer(actor, meeting_id, gettext("Only a requested meeting can be accepted."))
    meeting.status = MeetingStatus.ACCEPTED.value
    meeting.sequence += 1
    return _tell(actor, meeting, "accepted", "accepted")


def decline(actor, meeting_id: int, note: str = "") -> Meeting:
    """The presenter (or an organiser) declines a requested meeting; the time is free again."""
    meeting = _request_to_answer(actor, meeting_id, gettext("Only a requested meeting can be declined."))
    meeting.status = MeetingStatus.DECLINED.value
    meeting.decline_note = _check_note(note).strip()
    meeting.sequence += 1
    _release(meeting)
    return _tell(actor, meeting, "declined", "declined")


def cancel(actor, meeting_id: int) -> Meeting:
    """Either side (or an organiser) calls a requested or accepted meeting off before it ends."""
    meeting = _locked(actor, meeting_id)
    if meeting.status not in HOLDING:
        raise Conflict(gettext("This meeting is no longer planned."), code="invalid_state")
    if meeting.ends_at <= utcnow():
        raise Conflict(gettext("This meeting is over."), code="invalid_state")
    meeting.status = MeetingStatus.CANCELLED.value
    meeting.sequence += 1
    _release(meeting)
    return _tell(actor, meeting, "cancelled", "cancelled")


def reschedule(actor, meeting_id: int, starts_at, minutes=None, *, now: datetime | None = None) -> Meeting:
    """Move a requested or accepted meeting to another time (either side, or an organiser).

    The UID stays, SEQUENCE rises, both people get the updated invitation (METHOD:REQUEST) and an
    in-app notice. The new time must suit both (working hours, nothing else booked: the meeting's own
    old time does not count); 409 `slot_taken` when it does not, 422 for a bad time, 409
    `invalid_state` for a meeting no longer planned. A presenter who does not accept automatically
    is asked again when the attendee moves it.
    """
    meeting = _locked(actor, meeting_id)
    if meeting.status not in HOLDING:
        raise Conflict(gettext("This meeting is no longer planned."), code="invalid_state")
    starts_at = _utc_start(starts_at)
    minutes = _check_minutes(minutes if minutes is not None else meeting.minutes)
    ends_at = _check_time(meeting.attendee, meeting.presenter, starts_at, minutes, now or utcnow(), moving=meeting)
    try:
        _claim_time(meeting, starts_at, ends_at, minutes)
    except IntegrityError:
        db.session.rollback()
        raise _slot_taken() from None
    if actor.id == meeting.attendee_id and not profile_of(meeting.presenter).auto_accept:
        meeting.status = MeetingStatus.REQUESTED.value
    meeting.sequence += 1
    return _tell(actor, meeting, "moved", "rescheduled")


# ---------------------------------------------------------------- telling people

#: In-app titles, in the reader's language (kept in the catalogue like every other text).
_TITLES = {
    "requested": lambda m: gettext("Meeting request: %(project)s, %(organisation)s",
                                   project=_title(m), organisation=_org(m)),
    "accepted": lambda m: gettext("Meeting confirmed: %(project)s", project=_title(m)),
    "declined": lambda m: gettext("Meeting declined: %(project)s", project=_title(m)),
    "cancelled": lambda m: gettext("Meeting cancelled: %(project)s", project=_title(m)),
    "rescheduled": lambda m: gettext("Meeting moved: %(project)s", project=_title(m)),
    "reminder": lambda m: gettext("Meeting in 15 minutes: %(project)s", project=_title(m)),
}


def _title(meeting: Meeting) -> str:
    from ..bilingual import plain

    return plain(meeting.project, "title")


def _org(meeting: Meeting) -> str:
    from ..bilingual import plain

    return plain(meeting.organisation, "name")


def _announce(meeting: Meeting, event: str) -> list[Notification]:
    """The in-app notification and the mail (with its invitation) to both people, in the transaction.
    The one who acted is told too: their calendar needs the invitation or the cancellation."""
    from ..mail import queue, site_link

    created = []
    for person in (meeting.presenter, meeting.attendee):
        locale = person.locale if person.locale in ("zh", "en") else "en"
        with force_locale(locale):
            ics = invitations.invitation(meeting, person, event)
        texts = in_both(lambda lang: (_TITLES[event](meeting),
                                      local_text(meeting.starts_at, meeting.ends_at, person.timezone)))
        created.append(notify(person.id, kind=f"meeting_{event}", texts=texts, lang=locale,
                              link=f"/meetings/{meeting.id}"))
        queue(person.email, "meeting", locale, person=person, meeting=meeting, event=event,
              when=local_text(meeting.starts_at, meeting.ends_at, person.timezone),
              other_when=local_text(meeting.starts_at, meeting.ends_at,
                                    (meeting.attendee if person.id == meeting.presenter_id else meeting.presenter).timezone),
              link=site_link(f"/meetings/{meeting.id}"), ics=ics)
    return created


# ---------------------------------------------------------------- scheduled work


def due_work(now: datetime | None = None) -> dict[str, int]:
    """Reminders 15 minutes before accepted meetings; accepted meetings that ended become held
    (and move their lead from `partner_identified` to `follow_up`)."""
    from ..notifications.reminders import claim, grace

    now = now or utcnow()
    counts = {"reminded": 0, "dropped": 0, "held": 0}
    created: list[Notification] = []
    soon = db.session.scalars(select(Meeting).where(
        Meeting.status == MeetingStatus.ACCEPTED, Meeting.starts_at > now - timedelta(hours=1),
        Meeting.starts_at <= now + REMINDER_BEFORE))
    for meeting in soon:
        due = meeting.starts_at - REMINDER_BEFORE
        late = now - due > grace() or now >= meeting.starts_at
        for person in (meeting.presenter, meeting.attendee):
            key = f"meeting:{meeting.id}:15m:user:{person.id}"
            if not claim(key, person.id, "meeting_15m", due, "dropped" if late else "sent"):
                continue
            if late:
                counts["dropped"] += 1
                continue
            locale = person.locale if person.locale in ("zh", "en") else "en"
            texts = in_both(lambda lang: (_TITLES["reminder"](meeting),
                                          local_text(meeting.starts_at, meeting.ends_at, person.timezone)))
            created.append(notify(person.id, kind="meeting_15m", texts=texts, lang=locale,
                                  link=f"/meetings/{meeting.id}"))
            from ..mail import queue, site_link

            queue(person.email, "meeting", locale, person=person, meeting=meeting, event="reminder",
                  when=local_text(meeting.starts_at, meeting.ends_at, person.timezone), other_when=None,
                  link=site_link(f"/meetings/{meeting.id}"))
            counts["reminded"] += 1
    for meeting in db.session.scalars(select(Meeting).where(
            Meeting.status == MeetingStatus.ACCEPTED, Meeting.ends_at <= now).with_for_update(of=Meeting)):
        meeting.status = MeetingStatus.HELD.value
        if meeting.lead_id:
            leads.record_meeting(meeting.lead_id, user_id=None, note=f"Meeting {meeting.id} held.", held=True)
        counts["held"] += 1
    db.session.commit()
    deliver_live(created)
    return counts


# ---------------------------------------------------------------- meeting days


def _check_span(starts_at, ends_at) -> tuple[datetime, datetime]:
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValidationFailed({field: gettext("Give the time as ISO 8601 with an offset.")})
    if ends_at <= starts_at:
        raise ValidationFailed({"ends_at": gettext("The end must come after the start.")})
    return starts_at.astimezone(timezone.utc), ends_at.astimezone(timezone.utc)


def open_hours(actor, fair: Fair, starts_at, ends_at) -> MeetingHours:
    """An organiser opens meeting hours for a fair (at most 12 hours at once, after the fair's start)."""
    if actor.role != Role.ORGANISER:
        raise Forbidden(gettext("Only organisers open meeting hours."))
    start, end = _check_span(starts_at, ends_at)
    if end - start > timedelta(hours=12):
        raise ValidationFailed({"ends_at": gettext("Meeting hours last at most 12 hours; open another day separately.")})
    if start < fair.starts_at:
        raise ValidationFailed({"starts_at": gettext("Meeting hours start at the fair's start or later.")})
    hours = MeetingHours(fair_id=fair.id, starts_at=start, ends_at=end, created_by_id=actor.id)
    db.session.add(hours)
    db.session.commit()
    return hours


def fair_hours(fair_id: int) -> list[MeetingHours]:
    return list(db.session.scalars(select(MeetingHours).where(MeetingHours.fair_id == fair_id)
                                   .order_by(MeetingHours.starts_at)))


def get_hours(actor, hours_id: int) -> MeetingHours:
    hours = db.session.get(MeetingHours, hours_id)
    if hours is None or (hours.fair.status == FairStatus.DRAFT and actor.role != Role.ORGANISER):
        raise NotFound(gettext("No such meeting hours."))
    return hours


def publish_availability(actor, hours: MeetingHours, starts_at, ends_at) -> Availability:
    """A presenter says when inside the meeting hours they take meetings."""
    if actor.role != Role.PRESENTER:
        raise Forbidden(gettext("Only presenters publish availability."))
    start, end = _check_span(starts_at, ends_at)
    if start < hours.starts_at or end > hours.ends_at:
        raise ValidationFailed({"starts_at": gettext("Choose a time inside the meeting hours.")})
    if _round_up(start, QUARTER) != start or _round_up(end, QUARTER) != end:
        raise ValidationFailed({"starts_at": gettext("Availability starts and ends on the quarter hour.")})
    if _overlaps(availability_of(actor.id, start, end), start, end):
        raise Conflict(gettext("You already published availability at this time."), code="availability_overlap")
    row = Availability(hours_id=hours.id, presenter_id=actor.id, starts_at=start, ends_at=end)
    db.session.add(row)
    db.session.commit()
    return row


def withdraw_availability(actor, availability_id: int) -> None:
    row = db.session.get(Availability, availability_id)
    if row is None or row.presenter_id != actor.id:
        raise NotFound(gettext("No such availability."))
    db.session.delete(row)
    db.session.commit()


def matrix(actor, hours: MeetingHours) -> dict:
    """Per presenter with availability (or a session in the fair), each half hour of the meeting hours:
    `booked` (a requested or accepted meeting), `free` (available, nothing booked), or `away`."""
    if actor.role != Role.ORGANISER:
        raise Forbidden(gettext("Only organisers see the meeting matrix."))
    times = []
    moment = hours.starts_at
    while moment + SLOT_STEP <= hours.ends_at:
        times.append(moment)
        moment += SLOT_STEP
    presenter_ids = set(db.session.scalars(select(Availability.presenter_id).where(Availability.hours_id == hours.id)))
    presenter_ids |= set(db.session.scalars(
        select(session_presenters.c.user_id).join(FairSession, FairSession.id == session_presenters.c.session_id)
        .where(FairSession.fair_id == hours.fair_id)))
    people = sorted((db.session.get(User, i) for i in presenter_ids), key=lambda u: u.name)
    rows = []
    for person in people:
        available = availability_of(person.id, hours.starts_at, hours.ends_at)
        booked = list(db.session.scalars(select(Meeting).where(
            Meeting.presenter_id == person.id, Meeting.status.in_(HOLDING),
            Meeting.starts_at < hours.ends_at, Meeting.ends_at > hours.starts_at)))
        busy = _busy([], hours.starts_at, hours.ends_at, person.id)
        cells = []
        for start in times:
            end = start + SLOT_STEP
            meeting = next((m for m in booked if m.starts_at < end and m.ends_at > start), None)
            if meeting is not None:
                cells.append({"starts_at": start, "state": "booked", "meeting_id": meeting.id})
            elif _inside(available, start, end) and not _overlaps(busy, start, end):
                cells.append({"starts_at": start, "state": "free", "meeting_id": None})
            else:
                cells.append({"starts_at": start, "state": "away", "meeting_id": None})
        rows.append({"presenter": person, "cells": cells})
    return {"times": times, "rows": rows}


# ---------------------------------------------------------------- organisation merges


@signals.receiver(signals.organisations_merged, moves={("meetings", "organisation_id")})
def move_organisation_meetings(survivor, *, source, actor) -> None:
    """Meetings' part of merging `source` into `survivor`: its meetings move over (inside the
    merge's transaction; flushes)."""
    db.session.execute(update(Meeting).where(Meeting.organisation_id == source.id)
                       .values(organisation_id=survivor.id).execution_options(synchronize_session=False))
    db.session.flush()


@signals.receiver(signals.leads_combined, moves={("meetings", "lead_id")})
def follow_combined_lead(kept, *, gone, actor) -> None:
    """When a merge folds lead `gone` into `kept`, its meetings follow (flushes)."""
    db.session.execute(update(Meeting).where(Meeting.lead_id == gone.id).values(lead_id=kept.id)
                       .execution_options(synchronize_session=False))
    db.session.flush()
