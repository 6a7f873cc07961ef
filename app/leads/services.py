"""Interests and leads. An interest is recorded once per client id; the first interest of an
organisation in a project makes the lead, later ones attach to it (and may move it forward)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..accounts.enums import Role
from ..accounts.models import User
from ..errors import Conflict, Forbidden, ValidationFailed
from ..extensions import db
from ..fairs.enums import SessionStatus
from ..fairs.models import FairSession
from ..notifications.services import notify
from ..types import utcnow
from .enums import InterestLevel, LeadStage, level_label, stage_for_level, stage_rank
from .models import Interest, Lead, LeadEvent

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


def check_client_id(value) -> str:
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise ValidationFailed({"client_id": gettext(
            "Give a client id of 8 to 64 letters, digits, '-', '_', '.' or ':' (a UUID).")})
    return value


def _check_interest(session: FairSession, data: dict) -> dict:
    errors: dict[str, str] = {}
    project_id = data.get("project_id")
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        errors["project_id"] = gettext("Give the id of a project pitched in this session.")
    elif project_id not in {p.id for p in session.projects}:
        errors["project_id"] = gettext("This project is not pitched in this session.")
    level = data.get("level")
    if level not in {lv.value for lv in InterestLevel}:
        errors["level"] = gettext("The level is one of %(levels)s.", levels=", ".join(lv.value for lv in InterestLevel))
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000:
        errors["note"] = gettext("The note is text of at most 2,000 characters.")
    try:
        check_client_id(data.get("client_id"))
    except ValidationFailed as exc:
        errors.update({k: " ".join(v) for k, v in exc.fields.items()})
    if errors:
        raise ValidationFailed(errors)
    return {"project_id": project_id, "level": level, "note": note.strip(), "client_id": data["client_id"]}


def _pitch_second(session: FairSession, at: datetime | None) -> int | None:
    """Seconds into the pitch while it runs (from the client's moment when plausible, else now).

    Before the session's start or after its end there is no pitch minute: None ("before the pitch",
    "after the pitch" on the lead's timeline), never a made-up minute 0.
    """
    now = utcnow()
    moment = at if at is not None and session.starts_at - timedelta(minutes=5) <= at <= now else now
    if moment < session.starts_at or moment > session.ends_at:
        return None
    return int(moment.timestamp() - session.starts_at.timestamp())


def check_replay(existing: Interest, session: FairSession, data: dict) -> None:
    """A client id sent again must carry the same interest (a resend); anything else is 409."""
    note = data.get("note") or ""
    if (existing.session_id != session.id or existing.project_id != data.get("project_id")
            or existing.level != data.get("level") or existing.note != (note.strip() if isinstance(note, str) else note)):
        raise Conflict(gettext("This client id was already used for another interest."), code="client_id_reused")


def find_interest(actor, client_id: str) -> Interest | None:
    return db.session.scalar(select(Interest).where(Interest.user_id == actor.id, Interest.client_id == client_id))


def _lead_for(project_id: int, organisation_id: int, actor: User, level: str,
              session: FairSession | None = None) -> tuple[Lead, bool]:
    """The organisation's lead on the project, made if missing (a race makes one row, not two)."""
    lead = db.session.scalar(select(Lead).where(Lead.project_id == project_id, Lead.organisation_id == organisation_id))
    if lead is not None:
        return lead, False
    stage = stage_for_level(level)
    try:
        with db.session.begin_nested():
            lead = Lead(project_id=project_id, organisation_id=organisation_id, owner_id=actor.id, stage=stage,
                        fair_id=session.fair_id if session else None, session_id=session.id if session else None)
            db.session.add(lead)
            db.session.flush()
    except IntegrityError:
        lead = db.session.scalar(
            select(Lead).where(Lead.project_id == project_id, Lead.organisation_id == organisation_id)
        )
        return lead, False
    db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=None, to_stage=stage,
                             note="Interest expressed in a live session.", source="interest"))
    return lead, True


def record_interest(actor, session: FairSession, data: dict, *, at: datetime | None = None,
                    attachment: tuple[str, str, str] | None = None) -> tuple[Interest, bool]:
    """Store an interest and make or move its lead; flushes, the caller commits.

    Returns (interest, duplicate). A replayed client id returns the stored interest.
    """
    if actor is None or actor.role != Role.ATTENDEE:
        raise Forbidden(gettext("Only attendees express interest."))
    values = _check_interest(session, data)
    existing = find_interest(actor, values["client_id"])
    if existing is not None:
        check_replay(existing, session, values)
        return existing, True
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(gettext("This session is cancelled."), code="session_cancelled")
    lead, created = _lead_for(values["project_id"], actor.organisation_id, actor, values["level"], session)
    if not created and lead.stage != LeadStage.DROPPED and stage_rank(stage_for_level(values["level"])) > stage_rank(lead.stage):
        db.session.add(LeadEvent(lead_id=lead.id, user_id=actor.id, from_stage=lead.stage,
                                 to_stage=stage_for_level(values["level"]), note="Interest raised to intent.",
                                 source="interest"))
        lead.stage = stage_for_level(values["level"])
        lead.stage_changed_at = utcnow()
    lead.last_progress_at = utcnow()
    interest = Interest(
        client_id=values["client_id"], session_id=session.id, project_id=values["project_id"],
        organisation_id=actor.organisation_id, user_id=actor.id, lead_id=lead.id, level=values["level"],
        note=values["note"], pitch_second=_pitch_second(session, at),
    )
    if attachment is not None:
        interest.attachment_sha256, interest.attachment_mime, interest.attachment_name = attachment
    db.session.add(interest)
    db.session.flush()
    project = lead.project
    recipients = db.session.execute(select(User.id, User.locale).where(
        or_(User.id == project.owner_id, User.role == Role.ORGANISER), User.id != actor.id))
    for user_id, locale in recipients:
        with force_locale(locale if locale in ("zh", "en") else "en"):  # each reads the title in their language
            title = gettext("%(organisation)s is interested in “%(project)s” (%(level)s)",
                            organisation=actor.organisation.name, project=project.title,
                            level=level_label(values["level"]))
        notify(user_id, kind="interest", title=title, body=values["note"], link=f"/projects/{project.id}")
    return interest, False


def interest_count(session_id: int, project_id: int) -> int:
    """Organisations that expressed interest in the project in this session."""
    return db.session.scalar(
        select(func.count(func.distinct(Interest.organisation_id))).where(
            Interest.session_id == session_id, Interest.project_id == project_id
        )
    ) or 0


def interest_counts(session_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(Interest.project_id, func.count(func.distinct(Interest.organisation_id)))
        .where(Interest.session_id == session_id)
        .group_by(Interest.project_id)
    )
    return {project_id: count for project_id, count in rows}


def session_interests(session_id: int) -> list[Interest]:
    """Interests expressed in a session, oldest first (the caller decides who may see them)."""
    return list(db.session.scalars(
        select(Interest).where(Interest.session_id == session_id).order_by(Interest.created_at, Interest.id)
    ))


def lead_dict(lead: Lead) -> dict:
    return {
        "id": lead.id,
        "project_id": lead.project_id,
        "organisation_id": lead.organisation_id,
        "organisation": lead.organisation.name,
        "owner_id": lead.owner_id,
        "stage": lead.stage,
        "expected_amount": None if lead.expected_amount is None else f"{lead.expected_amount:.2f}",
        "currency": lead.currency,
        "next_action_on": lead.next_action_on.isoformat() if lead.next_action_on else None,
        "created_at": lead.created_at.isoformat(),
    }


def interest_dict(interest: Interest) -> dict:
    return {
        "id": interest.id,
        "client_id": interest.client_id,
        "session_id": interest.session_id,
        "project_id": interest.project_id,
        "organisation_id": interest.organisation_id,
        "user_id": interest.user_id,
        "lead_id": interest.lead_id,
        "level": interest.level,
        "note": interest.note,
        "pitch_second": interest.pitch_second,
        "attachment": (
            {"name": interest.attachment_name, "mime": interest.attachment_mime,
             "download_url": f"/api/v1/interests/{interest.id}/attachment"}
            if interest.attachment_sha256 else None
        ),
        "created_at": interest.created_at.isoformat(),
    }


def record_meeting(lead_id: int, *, user_id: int | None, note: str, held: bool = False) -> Lead:
    """Write a meeting on a lead's history; a held meeting moves a lead at `partner_identified` to
    `follow_up`. Flushes; the caller commits."""
    lead = db.session.get(Lead, lead_id)
    from_stage = to_stage = lead.stage
    if held and lead.stage == LeadStage.PARTNER_IDENTIFIED:
        to_stage = LeadStage.FOLLOW_UP.value
        lead.stage = to_stage
        lead.stage_changed_at = utcnow()
    lead.last_progress_at = utcnow()
    db.session.add(LeadEvent(lead_id=lead.id, user_id=user_id, from_stage=from_stage, to_stage=to_stage,
                             note=note[:4000], source="meeting"))
    db.session.flush()
    return lead
