"""Reads of fairs that other packages ask for through `app.signals` (a merge's plan counts the
registrations that move with the duplicate's people)."""

from __future__ import annotations

from sqlalchemy import func, select

from .. import signals
from ..accounts.models import User
from ..extensions import db
from .models import Fair, Registration, Track


@signals.receiver(signals.organisation_merge_planned)
def plan_organisation_merge(survivor, *, source, plan) -> None:
    """Fairs' part of a merge's plan: the duplicate's people's registrations (they move with them)."""
    user_ids = select(User.id).where(User.organisation_id == source.id)
    plan.counts["registrations"] = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.user_id.in_(user_ids))) or 0


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
