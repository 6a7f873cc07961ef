"""Reads for pages and the API: staleness, a park's page, a city's own parks."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..types import utcnow
from .models import Incentive, Park, Plot


def stale_before(now: datetime | None = None) -> datetime:
    """Figures confirmed before this moment are stale (`PARK_STALE_DAYS`)."""
    return (now or utcnow()) - timedelta(days=current_app.config["PARK_STALE_DAYS"])


def is_stale(record, now: datetime | None = None) -> bool:
    return record.confirmed_at < stale_before(now)


def stale_parks(now: datetime | None = None) -> list[tuple[Park, datetime]]:
    """Parks with any stale figure (the park's own, a plot's, an incentive's), with the oldest confirmation."""
    cutoff = stale_before(now)
    park_ids = set(db.session.scalars(select(Park.id).where(Park.confirmed_at < cutoff)))
    park_ids |= set(db.session.scalars(select(Plot.park_id).where(Plot.confirmed_at < cutoff)))
    park_ids |= set(db.session.scalars(select(Incentive.park_id).where(Incentive.confirmed_at < cutoff)))
    out = []
    for park in db.session.scalars(select(Park).where(Park.id.in_(park_ids)).order_by(Park.id)).unique():
        oldest = min([park.confirmed_at] + [p.confirmed_at for p in park.plots] + [i.confirmed_at for i in park.incentives])
        out.append((park, oldest))
    return out


def plot_counts(park: Park) -> dict[str, int]:
    counts = {"available": 0, "reserved": 0, "taken": 0}
    for plot in park.plots:
        counts[plot.status] = counts.get(plot.status, 0) + 1
    return counts
