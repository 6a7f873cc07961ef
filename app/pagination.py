"""Page through a select() for the API's `{"items", "total", "page", "per_page"}` lists."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from .extensions import db


def paginate(query: Select, page: int, per_page: int) -> tuple[list, int]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return items, total or 0
