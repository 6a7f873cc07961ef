from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String, Table, Text, Time, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..bilingual import BilingualTitle
from ..extensions import db
from ..projects.models import Project
from ..types import UTCDateTime, utcnow

session_presenters = Table(
    "session_presenters",
    db.metadata,
    Column("session_id", ForeignKey("fair_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

session_projects = Table(
    "session_projects",
    db.metadata,
    Column("session_id", ForeignKey("fair_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Series(BilingualTitle, db.Model):
    """A monthly themed series: the scheduler makes each coming fair as a draft, once."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The host's IANA zone: the recurrence and the local start time are in it.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    #: An RFC 5545 RRULE, e.g. "FREQ=MONTHLY;BYDAY=2TH".
    rrule: Mapped[str] = mapped_column(String(500))
    local_start: Mapped[time] = mapped_column(Time)
    minutes: Mapped[int] = mapped_column(Integer)
    #: One {"theme", "focus_countries", "focus_sectors"} per occurrence, in rotation.
    themes: Mapped[list[dict]] = mapped_column(JSON, default=list)
    #: The first day the rule may fall on (local).
    starts_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Fair(BilingualTitle, db.Model):
    __tablename__ = "fairs"
    __table_args__ = (UniqueConstraint("series_id", "series_occurrence", name="uq_fairs_series_id_series_occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(300), default="")
    theme_zh: Mapped[str | None] = mapped_column(String(300))
    theme_en: Mapped[str | None] = mapped_column(String(300))
    #: ISO 3166-1 alpha-2 codes.
    focus_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Sector codes.
    focus_sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The fair's own IANA zone; its agenda is planned in it.
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    #: Set on publication; a fair once published stays public (cancelled ones show as such).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Null means unlimited registrations.
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: A full fair keeps a waiting list (people move up as places free); without one it refuses.
    waitlist: Mapped[bool] = mapped_column(default=True, server_default=true())
    stream_url: Mapped[str | None] = mapped_column(String(500))
    #: Working hours for slot suggestions, local to the fair and to the presenter.
    fair_day_start: Mapped[time] = mapped_column(Time, default=time(8, 0))
    fair_day_end: Mapped[time] = mapped_column(Time, default=time(20, 0))
    presenter_day_start: Mapped[time] = mapped_column(Time, default=time(8, 0))
    presenter_day_end: Mapped[time] = mapped_column(Time, default=time(20, 0))
    #: Rises on every change to the fair or its sessions: the calendar ETag and SEQUENCE.
    revision: Mapped[int] = mapped_column(default=0)
    #: The monthly series that made this fair, and the occurrence's local date ("YYYY-MM-DD").
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"), index=True)
    series_occurrence: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tracks: Mapped[list["Track"]] = relationship(
        back_populates="fair", order_by="Track.position", cascade="all, delete-orphan"
    )
    sessions: Mapped[list["FairSession"]] = relationship(
        back_populates="fair", order_by="FairSession.starts_at", cascade="all, delete-orphan"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Track(db.Model):
    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("fair_id", "name", name="uq_tracks_fair_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    #: The name in its author's language (unique in the fair); `name_zh`/`name_en` hold each language.
    #: A session's `track` may name a track in either language.
    name: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str | None] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)

    fair: Mapped[Fair] = relationship(back_populates="tracks")


class FairSession(BilingualTitle, db.Model):
    __tablename__ = "fair_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), index=True)
    #: A `SessionKind` code.
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Null until the meeting link is known.
    join_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    #: The iCalendar SEQUENCE: rises on every change.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    fair: Mapped[Fair] = relationship(back_populates="sessions")
    track: Mapped[Track] = relationship(lazy="joined")
    presenters: Mapped[list[User]] = relationship(secondary=session_presenters, order_by=User.name)
    projects: Mapped[list[Project]] = relationship(secondary=session_projects, order_by=Project.title)


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("fair_id", "user_id", name="uq_registrations_fair_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: A `RegistrationStatus` code; only `registered` takes a place.
    status: Mapped[str] = mapped_column(String(20), default="registered", server_default="registered", index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the person joined the waiting list: its order (then the id). Kept after moving up.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the person withdraws; registering again clears it.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set the first time the person joins a session of the fair while it is live (or in the grace period).
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: The place on the waiting list (1 = next), filled in by the services when it is shown.
    position = None

    user: Mapped[User] = relationship(lazy="joined")
    fair: Mapped[Fair] = relationship()
