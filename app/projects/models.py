from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..extensions import db
from ..types import UTCDateTime, utcnow


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: A sector code.
    sector: Mapped[str] = mapped_column(String(50), index=True)
    #: Origin country, ISO 3166-1 alpha-2.
    country: Mapped[str] = mapped_column(String(2))
    investment_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    #: ISO 4217.
    currency: Mapped[str | None] = mapped_column(String(3))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship(lazy="joined")
