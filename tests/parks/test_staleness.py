"""Stale park figures nudge their organisation's people through the scheduler, once per stale state."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.jobs import run_due
from app.mail import MailMessage
from app.notifications.models import Notification
from app.parks import services
from tests.factories import at
from tests.parks.helpers import make_city, make_park, make_plot


def _titles():
    return sorted(db.session.scalars(select(Notification.title).where(Notification.kind == "park_stale")))


def test_stale_figures_nudge_the_parks_people_once_and_confirming_ends_it(app):
    app.config["PARK_STALE_DAYS"] = 180
    with time_machine.travel(at("2026-01-10T02:00+00:00"), tick=False):
        city = make_city(locale="en")
        colleague = make_city(city.organisation.name, locale="zh")
        other_city = make_city("Xingtai Commerce Bureau")
        park = make_park(city)
        plot = make_plot(city, park)
        make_park(other_city, name="Fresh park", name_i18n=None, division="130500")
    with time_machine.travel(at("2026-07-01T02:00+00:00"), tick=False):  # 172 days: not stale yet
        assert run_due(app)["park_staleness"] == {"nudged": 0}
        services.update_park(city, park.id, {})  # the park itself confirmed; its plot is not
        services.update_park(other_city, park.id + 1, {})

    with time_machine.travel(at("2026-07-12T02:00+00:00"), tick=False):  # the plot is 183 days old
        first = run_due(app)["park_staleness"]
        again = run_due(app)["park_staleness"]

    assert (first, again) == ({"nudged": 2}, {"nudged": 0})
    assert _titles() == ["Park figures need confirming: Ice and Snow Equipment Park", "园区数据需要核实：冰雪装备产业园"]
    people = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "park_stale")))
    assert people == {city.id, colleague.id}
    mails = {m.to_address: m for m in db.session.scalars(select(MailMessage))}
    assert set(mails) == {city.email, colleague.email}
    assert mails[city.email].subject == "Park figures need confirming: Ice and Snow Equipment Park"
    assert "last confirmed on 2026-01-10" in mails[city.email].text_body
    assert f"/parks/{park.id}/edit" in mails[city.email].text_body
    assert mails[colleague.email].subject == "园区数据需要核实：冰雪装备产业园"

    with time_machine.travel(at("2026-07-13T02:00+00:00"), tick=False):
        services.update_plot(colleague, plot.id, {})
        assert run_due(app)["park_staleness"] == {"nudged": 0}
    with time_machine.travel(at("2027-01-20T02:00+00:00"), tick=False):  # stale again: a new state, a new nudge
        assert run_due(app)["park_staleness"] == {"nudged": 3}  # and the other city, whose park aged too
