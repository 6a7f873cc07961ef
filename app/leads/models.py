from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User
from ..extensions import db
from ..projects.models import Project, StoredFile
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
    next_action_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: The fair and session where the first interest came from (null for leads made by hand).
    fair_id: Mapped[int | None] = mapped_column(ForeignKey("fairs.id", ondelete="SET NULL"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("fair_sessions.id", ondelete="SET NULL"))
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The last progress of any kind (stage, note, next action): what "stalled" is measured from.
    last_progress_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
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
    #: What made the change: "interest", "progress", "report", "signing", "owner".
    source: Mapped[str] = mapped_column(String(20), default="progress")
    #: The monthly report this change was filed in, if any.
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_reports.id", ondelete="SET NULL"), index=True)
    next_action_on: Mapped[date | None] = mapped_column(Date)
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


class ProgressReport(db.Model):
    """An organisation's monthly report: one person's update of all their open leads at once."""

    __tablename__ = "progress_reports"
    __table_args__ = (Index("ix_progress_reports_org_month", "organisation_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: The month reported on, as "YYYY-MM" in the host's zone.
    month: Mapped[str] = mapped_column(String(7))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(4000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


class LeadDocument(StoredFile, db.Model):
    """Evidence on a lead (a signed agreement, a brochure), stored like pitch material."""

    __tablename__ = "lead_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    #: A `DocumentKind` code: agreement, brochure, other.
    kind: Mapped[str] = mapped_column(String(20))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User] = relationship()


class SiteProposal(db.Model):
    """Plots a lead's city proposes to the investor: a bilingual PDF kept as one of the lead's documents.

    Made by `parks.proposals` (it knows plots); kept here, beside the lead, so the province's numbers
    (`queries.numbers`) count proposals sent, opened and leading to site visits."""

    __tablename__ = "site_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("lead_documents.id", ondelete="CASCADE"), unique=True)
    #: The proposed plots' ids, in the proposer's order (1 to 3; the PDF keeps their figures as sent).
    plot_ids: Mapped[list[int]] = mapped_column(JSON)
    #: The investor's currency (the project's; CNY when it names none).
    currency: Mapped[str] = mapped_column(String(3))
    #: Per plot, as the PDF states them at the day's rates: {"plot_id", "land_cny", "reductions_cny",
    #: "net_cny", "net"} (decimal strings; null where a price or a rate was missing).
    costs: Mapped[list[dict]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(2000), default="")
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: When the project's presenter first opened the PDF (null: not yet).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The day the investor visited the proposed site, as recorded by the city (null: no visit yet).
    visited_on: Mapped[date | None] = mapped_column(Date)

    lead: Mapped[Lead] = relationship()
    document: Mapped[LeadDocument] = relationship()
    sent_by: Mapped[User] = relationship()


class StageLimit(db.Model):
    """Days a lead may stay in a stage without progress before it counts as stalled (organiser-set)."""

    __tablename__ = "stage_limits"

    stage: Mapped[str] = mapped_column(String(30), primary_key=True)
    days: Mapped[int] = mapped_column()


class ExchangeRate(db.Model):
    """Yuan per unit of a currency, kept by organisers, for totals in CNY."""

    __tablename__ = "exchange_rates"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    cny_per_unit: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Signing(db.Model):
    """An agreement signed on screen in a `signing` session: moves its lead to signed."""

    __tablename__ = "signings"
    __table_args__ = (UniqueConstraint("lead_id", name="uq_signings_lead_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("fair_sessions.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    document_id: Mapped[int] = mapped_column(ForeignKey("lead_documents.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(lazy="joined")
