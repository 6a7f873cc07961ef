"""The leads tests' world (one builder, so the modules do not copy it)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.leads.models import ExchangeRate
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user


def make_world(*, session_title: str | None = None, rates: bool = False) -> dict:
    """An organiser; Petr Novak's "Ice-rink blanket" (EUR) and Michael Chen's "Portable ECMO" (USD)
    pitched in one session; two people of Zhangjiakou's bureau (zjk, zjk_colleague) and one of
    Tangshan's (ts). `rates`: EUR and USD exchange rates are known."""
    organiser = make_organiser()
    agent = make_presenter(name="Petr Novak", timezone_name="Europe/Prague", country="CZ")
    other_agent = make_presenter(name="Michael Chen", timezone_name="America/Los_Angeles", country="US")
    rink = make_project(agent, title="Ice-rink blanket", sector="ice_snow", country="CZ",
                        investment_amount=Decimal("12000000"), currency="EUR")
    ecmo = make_project(other_agent, title="Portable ECMO", sector="biomedicine_health", country="US",
                        investment_amount=Decimal("80000000"), currency="USD")
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[agent.id, other_agent.id], project_ids=[rink.id, ecmo.id],
                           **({"title": session_title} if session_title else {}))
    zjk = make_user("attendee", name="Liu Yang", organisation="张家口市商务局", city="Zhangjiakou")
    zjk_colleague = make_user("attendee", name="Wang Fang", organisation="张家口市商务局", city="Zhangjiakou")
    ts = make_user("attendee", name="Zhou Qiang", organisation="唐山市商务局", city="Tangshan")
    if rates:
        db.session.add_all([ExchangeRate(currency="EUR", cny_per_unit=Decimal("7.85")),
                            ExchangeRate(currency="USD", cny_per_unit=Decimal("7.20"))])
        db.session.commit()
    return {"organiser": organiser, "agent": agent, "other_agent": other_agent, "rink": rink, "ecmo": ecmo,
            "fair": fair, "session": session, "zjk": zjk, "zjk_colleague": zjk_colleague, "ts": ts}


@pytest.fixture
def world():
    return make_world()
