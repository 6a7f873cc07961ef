"""Parks (a city's or a park organisation's), their plots and incentives; a project's site needs;
the matcher's weights. Every park figure carries when it was last confirmed and by whom."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User
from ..bilingual import BilingualSummary
from ..extensions import db
from ..projects.models import StoredFile
from ..reference.models import Division
from ..types import UTCDateTime, utcnow

#: One mu (亩) is 666.67 m², a fifteenth of a hectare.
MU_PER_HECTARE = Decimal(15)


class Confirmed:
    """Columns of a record whose figures someone vouches for: set on every write, or by confirming."""

    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Park(BilingualSummary, Confirmed, db.Model):
    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The city bureau or park organisation that manages it.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: The text in its author's language; `name_zh`/`name_en` hold each language (app/bilingual.py).
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    #: A `ParkKind` code.
    kind: Mapped[str] = mapped_column(String(40))
    #: Sector codes the park hosts; empty: any sector.
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The highest `EmissionsClass` the park admits.
    emissions_limit: Mapped[str] = mapped_column(String(10), default="medium")
    area_km2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    companies: Mapped[int | None] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    #: The master-plan image (PNG or JPEG, in the upload store by its hash) and its size in pixels.
    plan_sha256: Mapped[str | None] = mapped_column(String(64))
    plan_mime: Mapped[str | None] = mapped_column(String(100))
    plan_width: Mapped[int | None] = mapped_column(Integer)
    plan_height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    division: Mapped[Division] = relationship(lazy="joined")
    confirmed_by: Mapped[User | None] = relationship(foreign_keys="Park.confirmed_by_id")
    plots: Mapped[list["Plot"]] = relationship(back_populates="park", order_by="Plot.id")
    incentives: Mapped[list["Incentive"]] = relationship(back_populates="park", order_by="Incentive.id")


class Plot(Confirmed, db.Model):
    __tablename__ = "plots"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    area_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    #: A `LandUse` code.
    land_use: Mapped[str] = mapped_column(String(20))
    price_per_mu: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    #: ISO 4217 of the price.
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    #: Floor area over land area (容积率).
    plot_ratio: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    ready_on: Mapped[date | None] = mapped_column(Date)
    power_kva: Mapped[int | None] = mapped_column(Integer)
    #: Water supply, tonnes a day.
    water_tpd: Mapped[int | None] = mapped_column(Integer)
    gas: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Wastewater treatment capacity, tonnes a day.
    wastewater_tpd: Mapped[int | None] = mapped_column(Integer)
    rail_km: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    port_km: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    airport_km: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    #: A `PlotStatus` code.
    status: Mapped[str] = mapped_column(String(10), default="available", index=True)
    #: The plot drawn on its park's plan: corners [x, y] in the image's pixels (x right, y down).
    outline: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    park: Mapped[Park] = relationship(back_populates="plots")
    confirmed_by: Mapped[User | None] = relationship(foreign_keys="Plot.confirmed_by_id")

    @property
    def area_ha(self) -> Decimal:
        return (self.area_mu / MU_PER_HECTARE).quantize(Decimal("0.01"))


class Incentive(Confirmed, db.Model):
    __tablename__ = "park_incentives"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    #: An `IncentiveKind` code.
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    #: A percentage (e.g. 50 for half the land price, or of a tax).
    rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    #: In its author's language; `conditions_zh`/`conditions_en` hold each language (app/bilingual.py).
    conditions: Mapped[str] = mapped_column(Text, default="")
    conditions_zh: Mapped[str | None] = mapped_column(Text)
    conditions_en: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    park: Mapped[Park] = relationship(back_populates="incentives")
    confirmed_by: Mapped[User | None] = relationship(foreign_keys="Incentive.confirmed_by_id")


class ParkMedia(StoredFile, db.Model):
    """A photo of a park or its video tour (one tour a park), kept in the upload store by its hash."""

    __tablename__ = "park_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    #: "photo" (PNG or JPEG) or "tour" (MP4).
    kind: Mapped[str] = mapped_column(String(10))
    #: What the photo shows, in its author's words (the image's alternative text).
    caption: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteNeeds(db.Model):
    """What a pitched project needs of a site (one row per project)."""

    __tablename__ = "project_site_needs"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    land_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    power_kva: Mapped[int | None] = mapped_column(Integer)
    water_tpd: Mapped[int | None] = mapped_column(Integer)
    #: An `EmissionsClass` code.
    emissions_class: Mapped[str | None] = mapped_column(String(10))
    jobs: Mapped[int | None] = mapped_column(Integer)
    #: What the investor means to spend on land.
    budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    #: Preferred GB/T 2260 divisions (a province, city or county each); empty: anywhere.
    divisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    ready_by: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MatchWeight(db.Model):
    """An organiser's weight for one matching criterion (absent: the default in enums.py)."""

    __tablename__ = "site_match_weights"

    criterion: Mapped[str] = mapped_column(String(20), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer)
