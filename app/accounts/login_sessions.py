"""Browser sign-ins kept on the server, so that they can end there.

Flask's session cookie is signed, not stored: without a row behind it, a copied cookie would keep
working after its owner logged out. Each sign-in (`LoginSession`) has a random key; the session
cookie and the remember-me cookie carry "<user id>:<password version>:<key>", and a request is
signed in only while that key's row is neither revoked nor expired. Logging out revokes the row;
setting a password revokes all of the person's rows (and bumps the password version).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..extensions import db
from ..types import utcnow
from .models import LoginSession, User


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def lifetime() -> timedelta:
    return timedelta(days=current_app.config["REMEMBER_DAYS"])


def start(user: User, *, remember: bool = False) -> str:
    """A new sign-in for `user`; returns its key (for the cookie, never stored) and commits.
    The person's dead sign-ins (revoked or expired) are cleared on the way."""
    now = utcnow()
    db.session.execute(delete(LoginSession).where(
        LoginSession.user_id == user.id, or_(LoginSession.revoked_at.is_not(None), LoginSession.expires_at <= now)))
    key = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, key_hash=_hash(key), remember=remember, created_at=now,
                                expires_at=now + lifetime()))
    db.session.commit()
    user.login_key = key
    return key


def is_live(user_id: int, key: str) -> bool:
    if not key or len(key) > 100:
        return False
    return db.session.scalar(select(LoginSession.id).where(
        LoginSession.key_hash == _hash(key), LoginSession.user_id == user_id,
        LoginSession.revoked_at.is_(None), LoginSession.expires_at > utcnow())) is not None


def revoke(key: str | None) -> None:
    """End one sign-in (logging out); commits."""
    if key:
        db.session.execute(update(LoginSession).where(LoginSession.key_hash == _hash(key),
                                                      LoginSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
        db.session.commit()


def revoke_all(user: User) -> None:
    """End every sign-in of the person, in the caller's transaction (a password change)."""
    db.session.execute(update(LoginSession).where(LoginSession.user_id == user.id,
                                                  LoginSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def load(cookie_id: str) -> User | None:
    """Flask-Login's loader: the person behind "<id>:<version>:<key>" while that sign-in is live and
    the password unchanged; cookies from before sign-ins were stored ("<id>:<version>") sign in nobody."""
    try:
        user_part, version_part, key = cookie_id.split(":", 2)
        user_id, version = int(user_part), int(version_part)
    except (ValueError, AttributeError):
        return None
    if not (0 < user_id < 2**31):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active or not is_live(user_id, key):
        return None
    user.login_key = key
    return user
