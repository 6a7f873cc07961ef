from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..reference.models import Division
from ..types import UTCDateTime, utcnow


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The name it was registered under (unique); `name_zh`/`name_en` hold each language (app/bilingual.py).
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: An `OrganisationKind` code.
    kind: Mapped[str] = mapped_column(String(20))
    #: Free text: kept for foreign organisations; for Chinese ones `division_code` is the place.
    city: Mapped[str | None] = mapped_column(String(100))
    #: The GB/T 2260 division (prefecture-level city or county/district) a Chinese organisation is in.
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"), index=True)
    #: ISO 3166-1 alpha-2.
    country: Mapped[str] = mapped_column(String(2))
    #: The demand profile: sector codes and origin countries sought, and a sentence of needs.
    demand_sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    demand_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    demand_note: Mapped[str] = mapped_column(String(1000), default="")
    #: Other spellings this organisation was known by (names of organisations merged into it);
    #: looking an organisation up by name (imports, `user create`) finds these too.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="organisation")
    division: Mapped[Division | None] = relationship(lazy="joined")

    def place(self, locale: str) -> str | None:
        """Where it is, for people: the division's name in `locale`, else the free-text city."""
        return self.division.name(locale) if self.division is not None else self.city


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased; the login key.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: A `Role` code.
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: IANA zone name, e.g. "Europe/Berlin".
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(5), default="zh")
    bio: Mapped[str | None] = mapped_column(String(2000))
    #: Languages spoken, as language codes ("en", "de", "zh").
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The profile photo: content hash of the stored image (see app/projects/storage.py) and its type.
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_mime: Mapped[str | None] = mapped_column(String(100))
    #: The secret in the private calendar feed URL; regenerating it revokes the old link.
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped when the password changes, so older login cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    #: The key of the sign-in (a `LoginSession`) this object was loaded or signed in with; not stored.
    login_key = None

    def get_id(self) -> str:
        """Flask-Login: the session and remember cookies name the user, the password version and the
        sign-in (`LoginSession`), so that logging out or changing the password ends them server-side."""
        return f"{self.id}:{self.session_version}:{self.login_key or ''}"

    @property
    def is_organiser(self) -> bool:
        return self.role == "organiser"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class LoginSession(db.Model):
    """A browser sign-in. The session and remember cookies carry its key; logging out revokes it,
    changing the password revokes all of the person's, so a copied cookie stops working."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the key in the cookie; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Signed in with "Keep me logged in".
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountToken(db.Model):
    """A one-time link mailed to a person: an invitation to set a first password, or a password reset.

    Only the SHA-256 of the token is stored. A token is live while it is neither used, revoked nor
    expired; re-sending an invitation revokes the live one and makes a new one.
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: "invitation" or "password_reset"
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The outbox row of the mail that carried the link: what the invitations page says of it
    #: (queued, sent, failed) is read from there.
    mail_message_id: Mapped[int | None] = mapped_column(ForeignKey("mail_messages.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    mail_message: Mapped["MailMessage | None"] = relationship("MailMessage")  # noqa: F821 (notifications.models)


class AuditEvent(db.Model):
    """Who did what to whom: sign-ins (and failures, lock-outs), invitations, imports, role changes,
    password changes, organisation merges. Organisers read it at /audit and GET /api/v1/audit."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: e.g. "sign_in", "sign_in_failed", "locked_out", "invitation_sent", "invitation_accepted",
    #: "invitation_revoked", "users_imported", "role_changed", "password_reset_requested",
    #: "password_changed", "organisation_merged", "user_created"
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    #: The address typed at a failed sign-in (there may be no such user).
    email: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_user_id], lazy="joined")
