"""Demo meetings: a confirmed one, one waiting for the presenter, one held last month."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..leads import services as lead_services
from ..leads.models import Lead
from ..types import utcnow
from . import services
from .models import Meeting


def seed_meetings(users: dict, projects: dict) -> None:
    """Book meetings through the services on the demo's leads (mails and notifications included)."""
    leads = list(db.session.scalars(select(Lead).where(Lead.stage.in_(["partner_identified", "follow_up"]))
                                    .order_by(Lead.id)))
    booked = 0
    for lead in leads:
        attendee = lead.owner
        if attendee is None or attendee.role != "attendee" or lead.project.owner is None:
            continue
        try:
            slots = services.meeting_slots(attendee, lead.project_id, starts_from=utcnow() + timedelta(days=2))
        except Exception:  # a project no longer on a published agenda: nothing to book
            continue
        if not slots:
            continue
        meeting, _ = services.book(attendee, {
            "project_id": lead.project_id, "starts_at": slots[booked * 3]["starts_at"] if len(slots) > booked * 3 else slots[0]["starts_at"],
            "note": "想进一步了解项目落地条件和用地需求。 / We would like to discuss site needs.",
            "client_id": f"demo-meeting-{lead.id:04d}"})
        if booked == 0:
            services.accept(lead.project.owner, meeting.id)
        booked += 1
        if booked == 2:
            break
    # One held last month, on the first lead that has an owner.
    lead = next((lead for lead in leads if lead.owner is not None and lead.project.owner is not None), None)
    if lead is not None:
        start = (utcnow() - timedelta(days=30)).replace(hour=7, minute=0, second=0, microsecond=0)
        held = Meeting(
            client_id=f"demo-meeting-held-{lead.id}", project_id=lead.project_id, presenter_id=lead.project.owner_id,
            attendee_id=lead.owner_id, organisation_id=lead.organisation_id, lead_id=lead.id, starts_at=start,
            ends_at=start + timedelta(minutes=30), minutes=30, status="held", sequence=1,
            note="初次会谈 / First call", meeting_url="https://meet.jit.si/CloudFair-demo-held")
        db.session.add(held)
        db.session.flush()
        lead_services.record_meeting(lead.id, user_id=None, note=f"Meeting {held.id} held.", held=True)
        db.session.commit()
