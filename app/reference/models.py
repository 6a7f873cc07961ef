from __future__ import annotations

from sqlalchemy import String
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
