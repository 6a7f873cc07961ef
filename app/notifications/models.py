from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import UTCDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),
                      UniqueConstraint("user_id", "fold_key", name="uq_notifications_user_fold"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: What happened, e.g. "material_approved", "material_rejected".
    kind: Mapped[str] = mapped_column(String(40))
    #: `title`/`body` in the language the person read when it was written; `_zh`/`_en` hold each
    #: language, written then (the row it tells about may change or vanish later).
    title: Mapped[str] = mapped_column(String(300))
    title_zh: Mapped[str | None] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(2000), default="")
    body_zh: Mapped[str | None] = mapped_column(String(2000))
    body_en: Mapped[str | None] = mapped_column(String(2000))
    #: A path inside CloudFair the notification points to.
    link: Mapped[str | None] = mapped_column(String(500))
    #: When the notification was written, or last folded into.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: While unread, what later events of the same kind fold into this row instead of adding one,
    #: e.g. "interests:12:60:29470381" (a session's interests in one window); cleared when read.
    fold_key: Mapped[str | None] = mapped_column(String(100))
    #: How many events the row tells of (folded rows; null for a row of one).
    fold_count: Mapped[int | None] = mapped_column()


class Reminder(db.Model):
    """One reminder to one person for one occasion. The unique key is the claim: the row is
    inserted in the same transaction that records the notification and queues the mail, so a
    restart, a second run or a second scheduler never sends it twice."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whom, what, which occasion: e.g. "session:12:24h:user:5", "report:2026-12:user:9".
    key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Sent (the notification and the mail were queued) or dropped (overdue beyond the grace period).
    outcome: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailMessage(db.Model):
    """The mail outbox: queued in the transaction that decided to send, delivered after it with
    retries and back-off, so a failed send never blocks the others and a crash loses nothing."""

    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(String(20000))
    html_body: Mapped[str] = mapped_column(String(60000))
    #: An .ics file to attach, when the mail is about a session.
    ics: Mapped[str | None] = mapped_column(String(60000))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set while a sender holds the message, so two senders do not both send it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
