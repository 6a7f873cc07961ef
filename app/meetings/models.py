"""One-to-one meetings between an attendee and a project's presenter, and meeting days."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User
from ..extensions import db
from ..fairs.models import Fair
from ..projects.models import Project
from ..types import UTCDateTime, utcnow


class MeetingProfile(db.Model):
    """A presenter's meeting settings: working hours in their own zone, a meeting address, auto-accept."""

    __tablename__ = "meeting_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: Bookings are accepted at once, without the presenter's click.
    auto_accept: Mapped[bool] = mapped_column(default=False)
    #: The presenter's own video meeting address; null: each meeting gets its own room.
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    day_start: Mapped[time] = mapped_column(Time, default=time(8, 0))
    day_end: Mapped[time] = mapped_column(Time, default=time(20, 0))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("attendee_id", "client_id", name="uq_meetings_attendee_id_client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Made by the client; the same id again returns the stored meeting.
    client_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    presenter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The attendee who booked.
    attendee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: The organisation's lead on the project, when it has one.
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(2000), default="")
    #: A `MeetingStatus` code.
    status: Mapped[str] = mapped_column(String(20), index=True)
    decline_note: Mapped[str] = mapped_column(String(2000), default="")
    meeting_url: Mapped[str] = mapped_column(String(500))
    #: The invitation's SEQUENCE: rises with every change the calendars must see.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship(lazy="joined")
    presenter: Mapped[User] = relationship(foreign_keys=[presenter_id], lazy="joined")
    attendee: Mapped[User] = relationship(foreign_keys=[attendee_id], lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class MeetingClaim(db.Model):
    """One person's quarter-hour, taken by a meeting. The primary key is the guard against double
    booking: two bookings that overlap for either person cannot both insert their quarters."""

    __tablename__ = "meeting_claims"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: The quarter-hour's start (UTC, on the quarter).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)


class MeetingHours(db.Model):
    """A fair's meeting hours ("meeting day"), opened by an organiser: presenters publish availability inside."""

    __tablename__ = "meeting_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fair: Mapped[Fair] = relationship()


class Availability(db.Model):
    """A span inside meeting hours in which a presenter takes meetings (outside their usual hours too)."""

    __tablename__ = "meeting_availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    hours_id: Mapped[int] = mapped_column(ForeignKey("meeting_hours.id", ondelete="CASCADE"), index=True)
    presenter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    presenter: Mapped[User] = relationship()
