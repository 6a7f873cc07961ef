from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User  # noqa: F401
from ..extensions import db
from ..types import UTCDateTime, utcnow


class Question(db.Model):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("user_id", "client_id", name="uq_questions_user_id_client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("fair_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: Made by the client; a replay with the same id creates nothing.
    client_id: Mapped[str] = mapped_column(String(64))
    #: Plain text, at most 1,000 characters; escaped wherever it is shown.
    text: Mapped[str] = mapped_column(String(1000))
    #: A `QuestionStatus` code.
    status: Mapped[str] = mapped_column(String(10), default="open")
    pinned: Mapped[bool] = mapped_column(default=False)
    votes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class QuestionVote(db.Model):
    __tablename__ = "question_votes"
    __table_args__ = (UniqueConstraint("question_id", "user_id", name="uq_question_votes_question_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LiveCounter(db.Model):
    """The session's event counter: `seq` rises by one per stored event and survives restarts."""

    __tablename__ = "live_counters"

    session_id: Mapped[int] = mapped_column(ForeignKey("fair_sessions.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)


class LiveEvent(db.Model):
    """A server event as it was sent, kept so a reconnecting client can catch up (`since_seq`)."""

    __tablename__ = "live_events"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_live_events_session_id_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("fair_sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    #: The Socket.IO event name: "question", "interest_count", "interest".
    name: Mapped[str] = mapped_column(String(30))
    #: An `Audience` code.
    audience: Mapped[str] = mapped_column(String(10), default="room")
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


