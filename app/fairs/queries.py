"""Reads of fairs that other packages ask for through `app.signals` (a merge's plan counts the
registrations that move with the duplicate's people)."""

from __future__ import annotations

from sqlalchemy import func, select

from .. import signals
from ..accounts.models import User
from ..extensions import db
from .models import Registration


@signals.receiver(signals.organisation_merge_planned)
def plan_organisation_merge(survivor, *, source, plan) -> None:
    """Fairs' part of a merge's plan: the duplicate's people's registrations (they move with them)."""
    user_ids = select(User.id).where(User.organisation_id == source.id)
    plan.counts["registrations"] = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.user_id.in_(user_ids))) or 0
