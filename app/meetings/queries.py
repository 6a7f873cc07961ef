"""Reads: whose meetings a person sees, the meetings in a private feed, a lead's meetings."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from ..accounts.enums import Role
from ..extensions import db
from ..pagination import paginate
from ..types import utcnow
from .models import Meeting

#: How far back a private feed keeps meetings (cancelled ones too, so calendars remove them).
FEED_PAST = timedelta(days=90)


def scope(actor, query):
    """Organisers see all meetings, presenters their own, attendees their organisation's."""
    if actor.role == Role.ORGANISER:
        return query
    if actor.role == Role.PRESENTER:
        return query.where(Meeting.presenter_id == actor.id)
    return query.where(Meeting.organisation_id == actor.organisation_id)


def list_meetings(actor, *, status: str | None = None, upcoming: bool = False, page: int = 1, per_page: int = 20):
    query = scope(actor, select(Meeting))
    if status:
        query = query.where(Meeting.status == status)
    if upcoming:
        query = query.where(Meeting.ends_at > utcnow())
    return paginate(query.order_by(Meeting.starts_at, Meeting.id), page, per_page)


def past_meetings(actor, limit: int = 20) -> list[Meeting]:
    """The latest `limit` meetings that have ended, oldest of them first."""
    query = scope(actor, select(Meeting)).where(Meeting.ends_at <= utcnow())
    latest = db.session.scalars(query.order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit))
    return list(reversed(latest.all()))


def feed_meetings(user) -> list[Meeting]:
    """The person's own meetings (as presenter or as the one who booked) for their private feed."""
    return list(db.session.scalars(
        select(Meeting).where(or_(Meeting.presenter_id == user.id, Meeting.attendee_id == user.id),
                              Meeting.ends_at > utcnow() - FEED_PAST)
        .order_by(Meeting.starts_at, Meeting.id)))


def feed_events(user) -> list:
    """The person's meetings as calendar events, in the current language."""
    from .invitations import meeting_event

    return [meeting_event(m, user) for m in feed_meetings(user)]


def lead_meetings(lead_id: int) -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).where(Meeting.lead_id == lead_id).order_by(Meeting.starts_at)))
