"""Reading the audit log (organisers): rows newest first with filters, the actions it holds so far,
and the names of the organisations its rows mention. Rows are written by `app.accounts.audit`."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import distinct, or_, select
from sqlalchemy.orm import aliased

from ..accounts.access import require_role
from ..accounts.enums import Role
from ..accounts.models import AuditEvent, Organisation, User
from ..errors import ValidationFailed
from ..extensions import db
from ..pagination import paginate


def list_audit(
    actor,
    *,
    page: int,
    per_page: int,
    action: str | None = None,
    actor_id: int | None = None,
    subject_user_id: int | None = None,
    email: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEvent], int]:
    """Audit rows, newest first (organisers). `email` matches, in part, the actor's, the subject's or the
    typed address; `since` is inclusive, `until` exclusive."""
    require_role(actor, Role.ORGANISER)
    if since is not None and until is not None and until <= since:
        raise ValidationFailed({"until": gettext("The end must be after the start.")})
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if subject_user_id:
        query = query.where(AuditEvent.subject_user_id == subject_user_id)
    needle = (email or "").strip().lower()
    if needle:
        acting, subject = aliased(User), aliased(User)
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = (
            query.outerjoin(acting, AuditEvent.actor_id == acting.id)
            .outerjoin(subject, AuditEvent.subject_user_id == subject.id)
            .where(or_(
                AuditEvent.email.like(pattern, escape="\\"),
                acting.email.like(pattern, escape="\\"),
                subject.email.like(pattern, escape="\\"),
            ))
        )
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return paginate(query, page, per_page)


def audit_actions(actor) -> list[str]:
    """The actions the log holds so far (organisers), for the filter."""
    require_role(actor, Role.ORGANISER)
    return sorted(db.session.scalars(select(distinct(AuditEvent.action))))


def organisation_names(events) -> dict[int, str]:
    """The names of the organisations these audit rows mention."""
    ids = {e.organisation_id for e in events if e.organisation_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())
