"""Signing in with the audit trail, and changing one's password (the other settings: `services.update_settings`)."""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select
from werkzeug.security import check_password_hash

from ..errors import Unauthorized, ValidationFailed
from ..extensions import db
from . import audit, services
from .models import User


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
