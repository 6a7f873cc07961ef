from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User
from ..extensions import db
from ..projects.models import Project
from ..types import UTCDateTime, utcnow


class Lead(db.Model):
    """One per (project, attendee organisation): made by the first interest, followed to signing."""

    __tablename__ = "leads"
    __table_args__ = (UniqueConstraint("project_id", "organisation_id", name="uq_leads_project_id_organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: The responsible person in the organisation.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: A `LeadStage` code.
    stage: Mapped[str] = mapped_column(String(30), index=True)
    expected_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    next_action_on: Mapped[date | None] = mapped_column(Date)
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship()


class LeadEvent(db.Model):
    """The lead's history: every change of stage, owner or amount, and every progress note."""

    __tablename__ = "lead_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_stage: Mapped[str | None] = mapped_column(String(30))
    to_stage: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(String(4000), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    #: What made the change: "interest", "progress", "signing", …
    source: Mapped[str] = mapped_column(String(20), default="progress")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class Interest(db.Model):
    """An attendee organisation's interest in a project, expressed in a session."""

    __tablename__ = "interests"
    __table_args__ = (UniqueConstraint("user_id", "client_id", name="uq_interests_user_id_client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Made by the client; a replay with the same id creates nothing.
    client_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[int] = mapped_column(ForeignKey("fair_sessions.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    #: An `InterestLevel` code.
    level: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(2000), default="")
    #: Seconds into the session when the interest was expressed (the moment of the pitch).
    pitch_second: Mapped[int | None] = mapped_column(Integer)
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    attachment_mime: Mapped[str | None] = mapped_column(String(100))
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    lead: Mapped[Lead] = relationship()
