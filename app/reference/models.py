from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Sector(db.Model):
    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable code used by the API, e.g. "new_materials".
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en


class Division(db.Model):
    """An administrative division of China (GB/T 2260): a province, a prefecture-level city, or a
    county/district, with its names in both languages and in toneless pinyin for search."""

    __tablename__ = "divisions"

    #: The six-digit GB/T 2260 code, e.g. "130100" (Shijiazhuang), "130102" (Chang'an District).
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    #: "province", "prefecture" or "county" (county-level: counties, districts, county-level cities).
    level: Mapped[str] = mapped_column(String(12))
    #: The enclosing division's code (null for a province).
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"), index=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(120))
    #: Toneless pinyin without spaces, lower case ("shijiazhuang"), for search and matching.
    pinyin: Mapped[str] = mapped_column(String(120), index=True)
    #: Other names people write for it ("石家庄", "Shijiazhuang City", "SJZ").
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en

    @property
    def prefecture_code(self) -> str:
        """The prefecture-level city this division is (or lies in); a province is its own."""
        return self.code if self.level == "province" else self.code[:4] + "00"
