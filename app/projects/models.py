from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..bilingual import BilingualSummary, BilingualTitle
from ..extensions import db
from ..types import UTCDateTime, utcnow


class Project(BilingualTitle, BilingualSummary, db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A sector code.
    sector: Mapped[str] = mapped_column(String(50), index=True)
    #: Origin country, ISO 3166-1 alpha-2.
    country: Mapped[str] = mapped_column(String(2))
    investment_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    #: ISO 4217.
    currency: Mapped[str | None] = mapped_column(String(3))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(lazy="joined")


class StoredFile:
    """The columns of a file kept in the upload store under its SHA-256 (`projects/storage.py`); the
    uploaded name is kept for display and the download's name only."""

    original_name: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))


class Material(StoredFile, db.Model):
    """One version of a document attached to a project.

    Versions of one document share `document_id` (the id of the first version) and
    count up in `version`. The file lives under UPLOAD_DIR by its SHA-256; the
    uploaded name is kept only as data for the download's Content-Disposition.
    """

    __tablename__ = "materials"
    __table_args__ = (Index("ix_materials_document_version", "document_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: The id of the document's first version (its own id for a first version).
    document_id: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    #: A `sniffing.MATERIAL_KINDS` code, decided from the content.
    kind: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: A `MaterialStatus` code.
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    review_note: Mapped[str | None] = mapped_column(String(2000))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(lazy="joined")
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
