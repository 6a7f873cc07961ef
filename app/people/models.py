"""People's own table: requests for an account made by the people themselves (self sign-up)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User
from ..extensions import db
from ..reference.models import Division
from ..types import UTCDateTime, utcnow


class SignupRequest(db.Model):
    """A person of a bureau, park or enterprise asking for an attendee account.

    `unconfirmed` until they open the mailed link, then `pending` in the organisers' queue, then
    `approved` (`user_id` is their new account) or `declined`. The organisation is an existing one
    (`organisation_id`) or proposed (`organisation_name` with its name in each language,
    `organisation_kind`, `division_code`).
    """

    __tablename__ = "signup_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, like users' addresses.
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="zh")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    #: "unconfirmed", "pending", "approved" or "declined".
    status: Mapped[str] = mapped_column(String(20), default="unconfirmed", index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    #: The organisation's registered name: the existing one's, or the proposed one's in the person's
    #: language (else the other); `_zh`/`_en` hold the proposed name in each language as typed.
    organisation_name: Mapped[str] = mapped_column(String(200))
    organisation_name_zh: Mapped[str | None] = mapped_column(String(200))
    organisation_name_en: Mapped[str | None] = mapped_column(String(200))
    organisation_kind: Mapped[str | None] = mapped_column(String(20))
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"))
    #: The fair whose page the person came from; approval registers them for it.
    fair_id: Mapped[int | None] = mapped_column(ForeignKey("fairs.id", ondelete="SET NULL"))
    #: SHA-256 of the address-confirmation link's token (the token is only in the mail).
    confirm_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What registering for `fair_id` gave on approval: "registered", "waitlisted" or why not.
    registration: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    division: Mapped[Division | None] = relationship(lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class FairInvitation(db.Model):
    """A person invited to a fair from a session's suggested invitees: sent (its mail), opened (they
    followed the mail's link) and registered (read from the fair's registrations)."""

    __tablename__ = "fair_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    #: The session whose suggestions it came from.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("fair_sessions.id", ondelete="SET NULL"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: SHA-256 of the token in the mail's link (the link marks the invitation opened).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_message_id: Mapped[int | None] = mapped_column(ForeignKey("mail_messages.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    organisation: Mapped[Organisation] = relationship()
    mail_message: Mapped["MailMessage | None"] = relationship("MailMessage")  # noqa: F821 (notifications.models)
