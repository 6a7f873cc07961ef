from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import UTCDateTime


class Heartbeat(db.Model):
    """The last sign of life of a background process (the scheduler), shown by /healthz."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
