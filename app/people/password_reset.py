"""Forgotten passwords: a mailed one-time link (`/password-reset/<token>`) to set a new one.

Asking gives the same answer whether the address belongs to anyone or not. A known, active person
with a password gets a reset link (valid `PASSWORD_RESET_MINUTES`, once); a known, active person who
never set a password gets their invitation again instead (a reset link would do the same, but the
invitation mail tells them what CloudFair is); anyone else gets nothing. Every request is audited
with the typed address.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from .. import mail
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..types import utcnow
from ..accounts import audit, services, tokens
from . import invitations
from ..accounts.models import AccountToken, User


def lifetime() -> timedelta:
    return timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])


def request_reset(email: str) -> None:
    """Mail a reset link (or the invitation) to the person with this address, if there is one; always commits.

    Raises ValidationFailed naming `email` only when the text is not an e-mail address at all.
    """
    typed = (email or "").strip()[:254] if isinstance(email, str) else ""
    try:
        address = services.normalise_email(email)
    except ValidationFailed:
        raise ValidationFailed({"email": gettext("Enter a valid e-mail address.")}) from None
    user = db.session.scalar(select(User).where(User.email == address))
    audit.record("password_reset_requested", subject=user, email=typed)
    if user is not None and user.active and not user.password_hash:
        invitations.invite(user, None)
    elif user is not None and user.active:
        plain, token = tokens.issue(user, tokens.PASSWORD_RESET, lifetime())
        _reset_mail(user, plain, token.expires_at, queue=True)
    else:
        _same_work_for_nobody(address)
    db.session.commit()


def _reset_mail(person, plain: str, expires_at, *, queue: bool) -> None:
    context = dict(person=person, expires_at=expires_at, minutes=current_app.config["PASSWORD_RESET_MINUTES"],
                   link=invitations.absolute_url("people.reset_password", token=plain))
    if queue:
        mail.queue(person.email, "password_reset", person.locale, **context)
    else:
        mail.render("password_reset", person.locale, **context)


def _same_work_for_nobody(address: str) -> None:
    """An address that gets no mail costs the same work as one that does, so that the answer's timing
    does not tell which addresses have accounts: the token is made and hashed, the live tokens are
    looked up and the mail is rendered, for a stand-in person; nothing is stored or sent."""
    plain = secrets.token_urlsafe(32)
    tokens.hash_token(plain)
    tokens.live_tokens(0, tokens.PASSWORD_RESET)
    stand_in = SimpleNamespace(name=address.partition("@")[0], email=address, locale="en",
                               timezone=current_app.config["HOST_TIMEZONE"])
    _reset_mail(stand_in, plain, utcnow() + lifetime(), queue=False)


def dead_link_error() -> NotFound:
    return NotFound(
        gettext("This password reset link no longer works: it was used already, replaced by a newer one, "
                "or it has expired. Ask for a new one."),
        code="reset_link_invalid",
    )


def lookup(plain: str) -> AccountToken | None:
    """The live reset token behind a link, or None when the link is dead (reads only)."""
    return invitations.live_link(plain, tokens.PASSWORD_RESET)


def reset_password(plain: str, password: str) -> User:
    """Set a new password with a reset link; ends the person's other sessions and API tokens.

    Raises NotFound (code "reset_link_invalid") for an unknown, used, replaced or expired link, and
    ValidationFailed naming `password` for a too short one (the link then still works).
    """
    return invitations.set_password_by_link(lookup(plain), password, dead_link_error, "password_changed",
                                            via="password_reset")
