"""One-time account links: invitations (set a first password) and password resets.

The plain token goes only into the mail; the database keeps its SHA-256. A token works once,
until it expires or is revoked; issuing a new one for the same person and purpose revokes the old.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..types import utcnow
from .models import AccountToken

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def issue(user, purpose: str, lifetime: timedelta, *, actor=None) -> tuple[str, AccountToken]:
    """Make a new token (in the caller's transaction), revoking the person's live ones of this purpose."""
    now = utcnow()
    for old in live_tokens(user.id, purpose):
        old.revoked_at = now
    plain = secrets.token_urlsafe(32)
    token = AccountToken(user_id=user.id, purpose=purpose, token_hash=hash_token(plain),
                         created_by_id=getattr(actor, "id", None), created_at=now, expires_at=now + lifetime)
    db.session.add(token)
    return plain, token


def live_tokens(user_id: int, purpose: str) -> list[AccountToken]:
    now = utcnow()
    return list(db.session.scalars(select(AccountToken).where(
        AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None),
        AccountToken.revoked_at.is_(None), AccountToken.expires_at > now,
    )))


def find_live(plain: str, purpose: str) -> AccountToken | None:
    """The live token for this plain text and purpose, else None (unknown, used, revoked or expired)."""
    if not plain or len(plain) > 200:
        return None
    token = db.session.scalar(select(AccountToken).where(
        AccountToken.token_hash == hash_token(plain), AccountToken.purpose == purpose,
    ))
    if token is None or token.used_at is not None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    return token
