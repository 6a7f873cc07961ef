"""Due work the scheduler polls for: session reminders, lead reminders, monthly report requests.

Each reminder is claimed by inserting its row with a unique key in the transaction that adds
the in-app notification and queues the mail; the live copy goes out after the commit. A
reminder overdue beyond the grace period is recorded as dropped, and logged, instead, with one
exception: a session that entered the 24-hour window late (created, moved or its fair published after
its 24-hour reminder fell due) gets that reminder at once, worded "coming up", unless its 15-minute
reminder is already due (which then covers it).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import bilingual
from ..accounts.enums import Role
from ..accounts.models import User
from ..extensions import db
from ..fairs.enums import RegistrationStatus, SessionStatus
from ..fairs.models import Fair, FairSession, Registration
from ..i18n import repeated_hour_suffix
from ..mail import queue, site_link
from ..types import utcnow
from .models import Notification, Reminder
from .services import deliver_live, in_both, notify

log = logging.getLogger(__name__)

SESSION_OFFSETS = {"24h": timedelta(hours=24), "15m": timedelta(minutes=15)}

#: In-app titles in both languages (the message catalogues of the pages come with the i18n work).
TITLES = {
    "session_24h": {"en": "Starting in 24 hours: {title}", "zh": "24小时后开始：{title}"},
    "session_15m": {"en": "Starting in 15 minutes: {title}", "zh": "15分钟后开始：{title}"},
    "session_24h_late": {"en": "Coming up: {title}", "zh": "即将开始：{title}"},
    "lead_stalled": {"en": "No progress for a while: {project}", "zh": "项目久无进展：{project}"},
    "lead_next_action": {"en": "Next action was due: {project}", "zh": "下一步行动已到期：{project}"},
    "report_request": {"en": "Please file your monthly progress report for {month}", "zh": "请提交{month}月度进展报告"},
}


def title_for(kind: str, locale: str, **values) -> str:
    return TITLES[kind]["zh" if locale == "zh" else "en"].format(**values)


def grace() -> timedelta:
    """How late a reminder may still go out; a later one is recorded as dropped."""
    return timedelta(minutes=int(current_app.config.get("REMINDER_GRACE_MINUTES", 60)))


def claim(key: str, user_id: int, kind: str, due_at: datetime, outcome: str) -> bool:
    """Insert the reminder's row; False when another run (or process) already has it."""
    try:
        with db.session.begin_nested():
            db.session.add(Reminder(key=key, user_id=user_id, kind=kind, due_at=due_at, outcome=outcome))
        return True
    except IntegrityError:
        return False


def _local(moment: datetime, user: User) -> str:
    local = moment.astimezone(ZoneInfo(user.timezone)).strftime("%Y-%m-%d %H:%M")
    return local + repeated_hour_suffix(moment, user.timezone) + f" ({user.timezone})"


def _recipients(session: FairSession) -> list[User]:
    attendees = list(db.session.scalars(
        select(User).join(Registration, Registration.user_id == User.id)
        .where(Registration.fair_id == session.fair_id, User.active.is_(True),
               Registration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WALK_IN]))
    ))
    people = {u.id: u for u in attendees}
    people.update({p.id: p for p in session.presenters if p.active})
    return list(people.values())


def _entered_window_late(session: FairSession, due: datetime, now: datetime) -> bool:
    """True when the session could not have had its 24-hour reminder on time: it was created, moved
    (any change) or its fair published after the reminder fell due, and its 15-minute reminder is not
    due yet (that one covers a session so close)."""
    entered = max(m for m in (session.created_at, session.updated_at, session.fair.published_at) if m is not None)
    return entered > due and now < session.starts_at - SESSION_OFFSETS["15m"]


def session_reminders(now: datetime | None = None) -> dict[str, int]:
    """24 hours and 15 minutes before each session of a published fair: its registered attendees
    and its presenters, in their language and zone, with the join link and the .ics."""
    from ..fairs.ics import session_calendar

    now = now or utcnow()
    allowed_late = grace()
    counts = {"sent": 0, "dropped": 0}
    sessions = db.session.scalars(
        select(FairSession).join(Fair, Fair.id == FairSession.fair_id)
        .where(Fair.published_at.is_not(None), FairSession.status != SessionStatus.CANCELLED,
               FairSession.starts_at > now - timedelta(days=1), FairSession.starts_at <= now + timedelta(hours=24))
    )
    created: list[Notification] = []
    for session in sessions:
        people = None
        for label, offset in SESSION_OFFSETS.items():
            due = session.starts_at - offset
            if due > now:
                continue
            people = people if people is not None else _recipients(session)
            late = now - due > allowed_late or now >= session.starts_at
            coming_up = label == "24h" and late and _entered_window_late(session, due, now)
            if coming_up:
                late = False
            for person in people:
                key = f"session:{session.id}:{label}:user:{person.id}"
                if late:
                    if claim(key, person.id, f"session_{label}", due, "dropped"):
                        counts["dropped"] += 1
                        log.warning("Dropped reminder %s: due %s, overdue beyond the grace period", key, due.isoformat())
                    continue
                if not claim(key, person.id, f"session_{label}", due, "sent"):
                    continue
                join = session.join_url or site_link(f"/sessions/{session.id}/live")
                texts = in_both(lambda lang: (
                    title_for("session_24h_late" if coming_up else f"session_{label}", lang,
                              title=bilingual.text(session, "title", lang)), _local(session.starts_at, person)))
                created.append(notify(person.id, kind=f"session_{label}", texts=texts, lang=person.locale,
                                      link=f"/sessions/{session.id}/live"))
                with force_locale(person.locale if person.locale in ("zh", "en") else "en"):  # the .ics's words
                    ics = session_calendar(session, lambda fair: site_link(f"/fairs/{fair.id}")).decode("utf-8")
                queue(person.email, "session_reminder", person.locale, person=person, session=session,
                      fair=session.fair, when=_local(session.starts_at, person), join_url=join,
                      ics_url=site_link(f"/sessions/{session.id}.ics"), soon=label == "15m", coming_up=coming_up,
                      ics=ics)
                counts["sent"] += 1
    db.session.commit()
    deliver_live(created)
    return counts


def _host_today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(current_app.config["HOST_TIMEZONE"])).date()


def lead_reminders(now: datetime | None = None) -> dict[str, int]:
    """A lead's responsible person is reminded when it has stalled or its next action date passed."""
    from ..leads import queries as leads
    from ..leads.enums import LeadStage
    from ..leads.models import Lead

    now = now or utcnow()
    today = _host_today(now)
    counts = {"stalled": 0, "next_action": 0}
    created: list[Notification] = []
    open_stages = [s for s in LeadStage if s not in (LeadStage.OPERATING, LeadStage.DROPPED)]
    candidates = db.session.scalars(
        select(Lead).where(Lead.owner_id.is_not(None), Lead.stage.in_(open_stages))
        .where(leads.stalled_condition(now) | (Lead.next_action_on < today))
    )
    limits = leads.stall_limits()
    for lead in candidates:
        owner = lead.owner
        if owner is None or not owner.active:
            continue
        reasons = []
        if leads.is_stalled(lead, limits, now):
            reasons.append(("stalled", f"lead:{lead.id}:stalled:{lead.last_progress_at.date().isoformat()}"))
        if lead.next_action_on is not None and lead.next_action_on < today:
            reasons.append(("next_action", f"lead:{lead.id}:next_action:{lead.next_action_on.isoformat()}"))
        for reason, key in reasons:
            if not claim(key, owner.id, f"lead_{reason}", now, "sent"):
                continue
            texts = in_both(lambda lang: (
                title_for(f"lead_{reason}", lang, project=bilingual.text(lead.project, "title", lang)), ""))
            created.append(notify(owner.id, kind=f"lead_{reason}", texts=texts, lang=owner.locale,
                                  link=f"/leads/{lead.id}"))
            queue(owner.email, "lead_reminder", owner.locale, person=owner, lead=lead, reason=reason,
                  link=site_link(f"/leads/{lead.id}"))
            counts[reason] += 1
    db.session.commit()
    deliver_live(created)
    return counts


def first_working_day(day: date) -> date:
    first = day.replace(day=1)
    while first.weekday() >= 5:
        first += timedelta(days=1)
    return first


def report_requests(now: datetime | None = None) -> dict[str, int]:
    """On the first working day of the month, ask each organisation with open leads for its report."""
    from ..leads.enums import LeadStage
    from ..leads.models import Lead

    now = now or utcnow()
    today = _host_today(now)
    if today != first_working_day(today):
        return {"asked": 0}
    month = today.strftime("%Y-%m")
    organisations = select(Lead.organisation_id).where(Lead.stage.not_in([LeadStage.OPERATING, LeadStage.DROPPED]))
    people = db.session.scalars(select(User).where(User.organisation_id.in_(organisations), User.role == Role.ATTENDEE,
                                                   User.active.is_(True)))
    created: list[Notification] = []
    for person in people:
        if not claim(f"report:{month}:user:{person.id}", person.id, "report_request", now, "sent"):
            continue
        texts = in_both(lambda lang: (title_for("report_request", lang, month=month), ""))
        created.append(notify(person.id, kind="report_request", texts=texts, lang=person.locale, link="/leads/report"))
        queue(person.email, "report_request", person.locale, person=person, month=month, link=site_link("/leads/report"))
    db.session.commit()
    deliver_live(created)
    return {"asked": len(created)}


def flip_statuses(now: datetime | None = None) -> dict[str, int]:
    """Fairs and sessions go live at their start and end at their end."""
    from sqlalchemy import update

    from ..fairs.enums import FairStatus

    now = now or utcnow()
    counts = {}
    counts["fairs_live"] = db.session.execute(update(Fair).where(
        Fair.status == FairStatus.PUBLISHED, Fair.starts_at <= now, Fair.ends_at > now).values(status=FairStatus.LIVE)).rowcount
    counts["fairs_closed"] = db.session.execute(update(Fair).where(
        Fair.status.in_([FairStatus.PUBLISHED, FairStatus.LIVE]), Fair.ends_at <= now).values(status=FairStatus.CLOSED)).rowcount
    went_live = db.session.scalars(update(FairSession).where(
        FairSession.status == SessionStatus.SCHEDULED, FairSession.starts_at <= now, FairSession.ends_at > now,
        FairSession.fair_id.in_(select(Fair.id).where(Fair.published_at.is_not(None)))).values(status=SessionStatus.LIVE)
        .returning(FairSession.id)).all()
    counts["sessions_live"] = len(went_live)
    counts["sessions_ended"] = db.session.execute(update(FairSession).where(
        FairSession.status.in_([SessionStatus.SCHEDULED, SessionStatus.LIVE]), FairSession.ends_at <= now,
        FairSession.fair_id.in_(select(Fair.id).where(Fair.published_at.is_not(None)))).values(status=SessionStatus.ENDED)).rowcount
    db.session.commit()
    from .. import signals

    for session_id in went_live:  # the pitch starts: its staff see the best sites for its projects
        signals.pitch_changed.send(session_id, project_ids=None)
    return counts
