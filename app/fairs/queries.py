"""Reads of fairs: those other packages ask for through `app.signals` (a merge's plan counts the
registrations that move with the duplicate's people; projects asks which projects a published fair
shows) and the sessions a project's or a presenter's page lists."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from .. import signals
from ..accounts.enums import Role
from ..accounts.models import User
from ..extensions import db
from ..types import utcnow
from .enums import SessionStatus
from .models import Fair, FairSession, Registration, Track, session_presenters, session_projects


@signals.receiver(signals.organisation_merge_planned)
def plan_organisation_merge(survivor, *, source, plan) -> None:
    """Fairs' part of a merge's plan: the duplicate's people's registrations (they move with them)."""
    user_ids = select(User.id).where(User.organisation_id == source.id)
    plan.counts["registrations"] = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.user_id.in_(user_ids))) or 0


@signals.receiver(signals.public_projects)
def pitched_projects(_sender=None, **kwargs):
    """The projects on the agenda of a published fair, in a session not cancelled (a select of ids)."""
    return (
        select(session_projects.c.project_id)
        .join(FairSession, FairSession.id == session_projects.c.session_id)
        .join(Fair, Fair.id == FairSession.fair_id)
        .where(Fair.published_at.is_not(None), FairSession.status != SessionStatus.CANCELLED)
    )


def project_sessions(actor, project) -> list[FairSession]:
    """The sessions a project is pitched in, that the viewer may see (organisers: drafts too)."""
    query = (
        select(FairSession)
        .join(session_projects, session_projects.c.session_id == FairSession.id)
        .join(Fair, Fair.id == FairSession.fair_id)
        .where(session_projects.c.project_id == project.id)
        .order_by(FairSession.starts_at)
    )
    if actor is None or actor.role != Role.ORGANISER:
        query = query.where(Fair.published_at.is_not(None))
    return list(db.session.scalars(query))


def presenter_sessions(presenter: User, *, upcoming_only: bool = True) -> list[FairSession]:
    """The presenter's sessions on published fairs' agendas (public)."""
    query = (
        select(FairSession)
        .join(session_presenters, session_presenters.c.session_id == FairSession.id)
        .join(Fair, Fair.id == FairSession.fair_id)
        .where(
            session_presenters.c.user_id == presenter.id,
            Fair.published_at.is_not(None),
            FairSession.status != SessionStatus.CANCELLED,
        )
        .order_by(FairSession.starts_at)
    )
    if upcoming_only:
        query = query.where(FairSession.ends_at >= utcnow())
    return list(db.session.scalars(query))


def holding_places(fair_id: int, user_ids: list[int] | None = None) -> set[int]:
    """The people (of `user_ids`, else all) who hold a place at a fair or wait for one (not withdrawn)."""
    query = select(Registration.user_id).where(
        Registration.fair_id == fair_id, Registration.status.in_(("registered", "walk_in", "waitlisted")),
        Registration.withdrawn_at.is_(None))
    if user_ids is not None:
        if not user_ids:
            return set()
        query = query.where(Registration.user_id.in_(user_ids))
    return set(db.session.scalars(query))


def find_track(fair: Fair, name: str | None) -> Track | None:
    """The fair's track a name means: its original name first, else its Chinese or English name."""
    if not name:
        return None
    name = name.strip()
    return (next((t for t in fair.tracks if t.name == name), None)
            or next((t for t in fair.tracks if name in (t.name_zh, t.name_en)), None))


#: A fair's revision, status and publication with each session's id and status (built once).
_VERSION = (select(Fair.published_at, Fair.revision, Fair.status, FairSession.id, FairSession.status)
            .outerjoin(FairSession, FairSession.fair_id == Fair.id)
            .where(Fair.id == bindparam("fair_id")).order_by(FairSession.id))


def fair_version(fair_id: int) -> tuple | None:
    """What the fair's public answer depends on, in one query: (published_at, revision, status, each
    session's (id, status)); None if there is no such fair. The sessions' statuses change an agenda
    without moving the revision (the scheduler's flips to live and ended)."""
    rows = db.session.execute(_VERSION, {"fair_id": fair_id}).all()
    if not rows:
        return None
    published_at, revision, status = rows[0][:3]
    return published_at, revision, status, tuple((row[3], row[4]) for row in rows if row[3] is not None)
