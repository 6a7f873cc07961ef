"""Stale park figures: their organisation's people are nudged, once per stale state.

A park is stale when its own figures, a plot's or an incentive's were last confirmed more than
`PARK_STALE_DAYS` ago. Each active person of the managing organisation gets an in-app notification
linking to the park and a mail in their language linking to its edit page; the claim key names the park, the oldest confirmation date and the person, so a
second run (or a second scheduler) sends nothing more, and confirming the figures ends the state (a
later staleness is a new one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..accounts.models import User
from ..extensions import db
from ..mail import queue, site_link
from ..notifications.reminders import claim
from ..notifications.services import deliver_live, in_both, notify
from ..types import utcnow
from .queries import stale_parks

TITLES = {"en": "Park figures need confirming: {park}", "zh": "园区数据需要核实：{park}"}


def nudge_stale_parks(now: datetime | None = None) -> dict[str, int]:
    """Notify the people of each park with stale figures (the scheduler's `park_staleness` job)."""
    from .. import bilingual

    now = now or utcnow()
    created = []
    for park, oldest in stale_parks(now):
        people = db.session.scalars(select(User).where(User.organisation_id == park.organisation_id,
                                                       User.active.is_(True)).order_by(User.id))
        for person in people:
            key = f"park:{park.id}:stale:{oldest.date().isoformat()}:user:{person.id}"
            if not claim(key, person.id, "park_stale", now, "sent"):
                continue
            lang = "zh" if person.locale == "zh" else "en"
            texts = in_both(lambda code: (TITLES[code].format(park=bilingual.text(park, "name", code)), ""))
            created.append(notify(person.id, kind="park_stale", texts=texts, lang=lang, link=f"/parks/{park.id}"))
            queue(person.email, "park_stale", lang, person=person, park_name=bilingual.text(park, "name", lang),
                  oldest=oldest.date().isoformat(), link=site_link(f"/parks/{park.id}/edit"))
    db.session.commit()
    deliver_live(created)
    return {"nudged": len(created)}
