"""A lead with a next action, made directly (the calendar reads leads; it never changes them)."""

from __future__ import annotations

from datetime import date

from app.extensions import db
from app.leads.models import Lead


def make_lead(owner, project, *, next_action_on: date | None, stage: str = "follow_up") -> Lead:
    lead = Lead(project_id=project.id, organisation_id=owner.organisation_id, owner_id=owner.id, stage=stage,
                next_action_on=next_action_on)
    db.session.add(lead)
    db.session.commit()
    return lead
