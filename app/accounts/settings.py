"""A person's own settings (name, language, zone, password), signing in with the audit trail, and
reading the audit log."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import distinct, or_, select
from sqlalchemy.orm import aliased
from werkzeug.security import check_password_hash

from ..errors import Unauthorized, ValidationFailed
from ..extensions import db
from ..pagination import paginate
from ..reference.services import timezone_names
from . import audit, services
from .access import require_role
from .enums import Locale, Role
from .models import AuditEvent, Organisation, User


def typed_address(email: object) -> str:
    """The address as typed, trimmed and lower-cased: the key of the per-address lock-out and what failures record."""
    return email.strip().lower()[:254] if isinstance(email, str) else ""


def _known_user(address: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == address)) if address else None


def sign_in(email: str, password: str, *, via: str) -> User:
    """Check the credentials and record the attempt ("sign_in" or "sign_in_failed"); `via` is "page" or "token".

    Raises Unauthorized with the same message whether or not the address exists.
    """
    try:
        user = services.authenticate(email, password)
    except Unauthorized:
        address = typed_address(email)
        audit.record("sign_in_failed", subject=_known_user(address), email=address, via=via)
        db.session.commit()
        raise Unauthorized(gettext("The e-mail address or password is wrong."), code="invalid_credentials") from None
    audit.record("sign_in", actor=user, subject=user, email=user.email, via=via)
    db.session.commit()
    return user


def record_lock_out(email: str, *, via: str, retry_after: int) -> None:
    """Record that an address met the failed sign-in limit and was refused."""
    address = typed_address(email)
    audit.record("locked_out", subject=_known_user(address), email=address, via=via, retry_after=retry_after)
    db.session.commit()


def update_own_settings(actor: User, changes: dict) -> User:
    """Change one's own name, language (`locale`) and time zone; nothing is written when a field is bad."""
    unknown = set(changes) - {"name", "locale", "timezone"}
    if unknown:
        raise ValidationFailed({field: gettext("This cannot be changed here.") for field in sorted(unknown)})
    errors: dict[str, str] = {}
    if "name" in changes and not " ".join(str(changes["name"] or "").split()):
        errors["name"] = gettext("A name is required.")
    elif "name" in changes and len(changes["name"].strip()) > 200:
        errors["name"] = gettext("At most %(n)d characters.", n=200)
    if "locale" in changes and changes["locale"] not in {loc.value for loc in Locale}:
        errors["locale"] = gettext("Choose 中文 (zh) or English (en).")
    if "timezone" in changes and changes["timezone"] not in timezone_names():
        errors["timezone"] = gettext(
            "%(zone)s is not a known time zone. Pick one from the list, e.g. Europe/Berlin or Asia/Shanghai.",
            zone=repr(changes["timezone"]),
        )
    if errors:
        raise ValidationFailed(errors)
    if "name" in changes:
        changes = {**changes, "name": " ".join(changes["name"].split())}
    return services.update_user(actor, actor, changes)


def change_password(user: User, *, current: str, new: str, repeat: str) -> None:
    """Replace one's password after checking the current one; ends the person's other sessions and API tokens.

    Raises ValidationFailed naming `current_password`, `new_password` or `repeat_password`.
    """
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        raise ValidationFailed({"current_password": gettext("This is not your current password.")})
    errors: dict[str, str] = {}
    if not isinstance(new, str) or len(new) < services.MIN_PASSWORD_LENGTH:
        errors["new_password"] = gettext("Use at least %(n)d characters.", n=services.MIN_PASSWORD_LENGTH)
    elif new != repeat:
        errors["repeat_password"] = gettext("The two new passwords differ.")
    elif check_password_hash(user.password_hash, new):
        errors["new_password"] = gettext("Choose a password different from the current one.")
    if errors:
        raise ValidationFailed(errors)
    audit.record("password_changed", actor=user, subject=user)
    services.set_password(user, new)  # commits the audit row with the new password


# ---------------------------------------------------------------- the audit log


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
