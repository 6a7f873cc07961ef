"""Parks for tests: a city bureau's person, a park with plots, a project with needs."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.parks import services
from app.parks.models import Incentive, Park, Plot
from tests.factories import make_user


def make_city(organisation: str = "Zhangjiakou Commerce Bureau", **overrides):
    return make_user("attendee", organisation=organisation, kind="city_bureau", **overrides)


def make_park(owner, **overrides) -> Park:
    body = {"name_i18n": {"en": "Ice and Snow Equipment Park", "zh": "冰雪装备产业园"}, "division": "130700",
            "kind": "high_tech_zone", "sectors": ["ice_snow"]}
    body.update(overrides)
    return services.create_park(owner, body)


PLOT = {"name": "A-1", "area_mu": "100", "land_use": "industrial", "price_per_mu": "200000", "currency": "CNY",
        "ready_on": "2027-03-01", "power_kva": 1000, "water_tpd": 500, "status": "available"}


def make_plot(owner, park, **overrides) -> Plot:
    return services.add_plot(owner, park.id, {**PLOT, **overrides})


def make_city_plot():
    """A city bureau's person with a park and one plot in it: (city, park, plot)."""
    city = make_city()
    park = make_park(city)
    return city, park, make_plot(city, park)


def age(record, days: int) -> None:
    """Move a record's confirmation `days` into the past."""
    record.confirmed_at = record.confirmed_at - timedelta(days=days)
    db.session.commit()


__all__ = ["Incentive", "make_city", "make_park", "make_plot", "age", "PLOT"]
