"""The audit log: one row per sign-in (and failure, lock-out), invitation, import, role change,
password change and organisation merge. Rows are added in the caller's transaction, so an
action and its record commit (or roll back) together."""

from __future__ import annotations

from flask import has_request_context, request

from ..extensions import db
from .models import AuditEvent


def record(
    action: str,
    *,
    actor=None,
    subject=None,
    organisation=None,
    email: str | None = None,
    **details,
) -> AuditEvent:
    """Add an audit row (no commit): `record("role_changed", actor=me, subject=user, old="attendee", new="organiser")`."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        subject_user_id=getattr(subject, "id", None),
        organisation_id=getattr(organisation, "id", None) or getattr(subject, "organisation_id", None),
        email=email,
        ip=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(event)
    return event
