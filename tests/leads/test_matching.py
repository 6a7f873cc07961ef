"""Signing ceremonies and recommendations."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.leads import queries, services as lead_services
from app.leads.models import ExchangeRate, Lead, LeadDocument, Signing
from app.leads.services import record_interest
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.projects import samples
from datetime import timedelta

import time_machine


@pytest.fixture
def world():
    organiser = make_organiser()
    agent = make_presenter(name="An Peeters", timezone_name="Europe/Brussels", country="BE")
    membrane = make_project(agent, title="Membrane", sector="energy_saving_environment", country="BE",
                            investment_amount=Decimal("45000000"), currency="EUR")
    rink = make_project(agent, title="Rink blanket", sector="ice_snow", country="CZ")
    fair = make_fair(organiser)
    pitch = make_session(fair, organiser, title="Membrane pitch", presenter_ids=[agent.id], project_ids=[membrane.id, rink.id])
    signing = make_session(fair, organiser, title="Signing ceremony", kind="signing",
                           starts_at=fair.starts_at + timedelta(hours=3), ends_at=fair.starts_at + timedelta(hours=4),
                           track="main")
    ts = make_user("attendee", organisation="Tangshan Commerce Bureau", city="Tangshan")
    interest, _ = record_interest(ts, pitch, {"project_id": membrane.id, "level": "intent", "client_id": "match-00000001"})
    db.session.add(ExchangeRate(currency="EUR", cny_per_unit=Decimal("7.85")))
    db.session.commit()
    return {"organiser": organiser, "agent": agent, "membrane": membrane, "rink": rink, "fair": fair, "pitch": pitch,
            "signing": signing, "ts": ts, "lead": interest.lead}


@pytest.fixture
def during_the_ceremony(world):
    """Signings are recorded once their ceremony has begun: five minutes into it."""
    with time_machine.travel(world["signing"].starts_at + timedelta(minutes=5), tick=True):
        yield


def test_a_signing_cannot_be_recorded_before_its_ceremony(client, auth, world):
    with time_machine.travel(world["signing"].starts_at - timedelta(days=20), tick=True):
        response = client.post(f"/api/v1/sessions/{world['signing'].id}/signings", headers=auth(world["organiser"]),
                               content_type="multipart/form-data",
                               data={"lead_id": str(world["lead"].id), "amount": "44000000", "currency": "EUR",
                                     "file": (io.BytesIO(samples.pdf_bytes("signed")), "协议.pdf")})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "session_not_started"
    assert response.json["error"]["details"]["starts_at"] == world["signing"].starts_at.isoformat()
    assert db.session.get(Lead, world["lead"].id).stage == "preliminary_intent"
    assert db.session.scalar(select(func.count(Signing.id))) == 0
    assert db.session.scalar(select(func.count(LeadDocument.id))) == 0


def test_a_signing_can_be_recorded_from_the_ceremonys_first_minute(world):
    with time_machine.travel(world["signing"].starts_at, tick=False):
        with pytest.raises(ValidationFailed) as refused:  # refused for the missing agreement, not the time
            lead_services.record_signing(world["organiser"], world["signing"].id,
                                    {"lead_id": world["lead"].id, "amount": "1", "currency": "EUR"})
        assert list(refused.value.fields) == ["file"]
        assert queries.signing_open(world["signing"])
    with time_machine.travel(world["signing"].starts_at - timedelta(seconds=1), tick=False):
        assert not queries.signing_open(world["signing"])


def test_a_signing_moves_the_lead_and_the_session_lists_the_total(client, auth, world, during_the_ceremony):
    headers = auth(world["organiser"])
    response = client.post(f"/api/v1/sessions/{world['signing'].id}/signings", headers=headers,
                           content_type="multipart/form-data",
                           data={"lead_id": str(world["lead"].id), "amount": "44000000", "currency": "EUR",
                                 "file": (io.BytesIO(samples.pdf_bytes("signed")), "协议.pdf")})
    assert response.status_code == 201, response.json
    assert db.session.get(Lead, world["lead"].id).stage == "signed"
    listed = client.get(f"/api/v1/sessions/{world['signing'].id}/signings", headers=auth(world["ts"])).json
    assert listed["total"] == {"count": 1, "hidden": 0, "amounts": {"EUR": "44000000.00"},
                               "amount_cny": "345400000.00", "missing_rates": []}
    again = client.post(f"/api/v1/sessions/{world['signing'].id}/signings", headers=headers, json={
        "lead_id": world["lead"].id, "amount": "1", "currency": "EUR"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_signed"


def _sign(client, auth, world, lead, amount):
    response = client.post(f"/api/v1/sessions/{world['signing'].id}/signings", headers=auth(world["organiser"]),
                           content_type="multipart/form-data",
                           data={"lead_id": str(lead.id), "amount": amount, "currency": "EUR",
                                 "file": (io.BytesIO(samples.pdf_bytes("signed")), "协议.pdf")})
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("who, sees_own, sees_other", [
    ("organiser", True, True),   # organisers see every lead
    ("ts", True, False),         # the attendee's organisation: its own signing only
    ("cz", False, True),         # the other organisation: its own signing only
    ("agent", True, False),      # the presenter: leads on their own projects (the membrane)
    ("stranger", False, False),  # an attendee of a third organisation: the ceremony, nothing more
])
def test_signings_show_each_viewer_only_what_they_may_open(client, auth, world, during_the_ceremony,
                                                           who, sees_own, sees_other):
    other_agent = make_presenter(name="Michael Chen", country="US")
    ecmo = make_project(other_agent, title="Portable ECMO", sector="biomedicine_health", country="US")
    world["pitch"].projects.append(ecmo)
    world["cz"] = make_user("attendee", organisation="Cangzhou Commerce Bureau", city="Cangzhou")
    world["stranger"] = make_user("attendee", organisation="Baoding Commerce Bureau", city="Baoding")
    interest, _ = record_interest(world["cz"], world["pitch"], {"project_id": ecmo.id, "level": "intent",
                                                                "client_id": "match-00000002"})
    db.session.commit()
    own = _sign(client, auth, world, world["lead"], "44000000")
    other = _sign(client, auth, world, interest.lead, "10000000")

    listed = client.get(f"/api/v1/sessions/{world['signing'].id}/signings", headers=auth(world[who]))
    assert listed.status_code == 200
    items = {item["id"]: item for item in listed.json["items"]}
    assert [items[own["id"]]["project"], items[other["id"]]["project"]] == ["Membrane", "Portable ECMO"]
    for signing, lead, amount, visible in ((own, world["lead"], "44000000.00", sees_own),
                                           (other, interest.lead, "10000000.00", sees_other)):
        item = items[signing["id"]]
        assert item["visible"] is visible
        assert item["organisation"] == lead.organisation.name
        if visible:
            assert (item["lead_id"], item["amount"], item["currency"]) == (lead.id, amount, "EUR")
            document = client.get(item["document_url"], headers=auth(world[who]))
            assert document.status_code == 200  # every link given opens
        else:
            assert (item["lead_id"], item["amount"], item["currency"], item["document_url"]) == (None,) * 4
    total = listed.json["total"]
    shown = [a for a, v in (("44000000.00", sees_own), ("10000000.00", sees_other)) if v]
    assert total["count"] == 2 and total["hidden"] == 2 - len(shown)
    assert total["amounts"] == ({"EUR": f"{sum(Decimal(a) for a in shown):.2f}"} if shown else {})


@pytest.mark.parametrize("where, data, status", [
    ("pitch", {"amount": "1", "currency": "EUR"}, 409),      # not a signing session
    ("signing", {"amount": "1", "currency": "EUR"}, 422),    # no agreement attached, none on file
    ("signing", {"currency": "EUR"}, 422),                   # no amount
])
def test_bad_signings_change_nothing(client, auth, world, where, data, status, during_the_ceremony):
    body = {"lead_id": str(world["lead"].id), **data}
    if where == "signing" and "amount" not in data:
        body["file"] = (io.BytesIO(samples.pdf_bytes()), "a.pdf")
    response = client.post(f"/api/v1/sessions/{world[where].id}/signings", headers=auth(world["organiser"]),
                           content_type="multipart/form-data", data=body)
    assert response.status_code == status, response.json
    assert db.session.get(Lead, world["lead"].id).stage == "preliminary_intent"
    assert db.session.scalar(select(func.count(Signing.id))) == 0
    assert db.session.scalar(select(func.count(LeadDocument.id))) == 0  # an uploaded agreement goes with it


def test_only_organisers_record_signings(client, auth, world, during_the_ceremony):
    response = client.post(f"/api/v1/sessions/{world['signing'].id}/signings", headers=auth(world["ts"]),
                           json={"lead_id": world["lead"].id, "amount": "1", "currency": "EUR"})
    assert response.status_code == 403


def test_recommendations_rank_by_demand_with_reasons(client, auth, world):
    zjk = make_user("attendee", organisation="Zhangjiakou Commerce Bureau", city="Zhangjiakou")
    refused = client.patch(f"/api/v1/organisations/{zjk.organisation_id}/demand", headers=auth(world["ts"]),
                           json={"demand_sectors": ["ice_snow"]})
    assert refused.status_code == 403
    bad = client.patch(f"/api/v1/organisations/{zjk.organisation_id}/demand", headers=auth(zjk),
                       json={"demand_sectors": ["skiing"], "demand_countries": ["XX"]})
    assert bad.status_code == 422 and set(bad.json["error"]["details"]["fields"]) == {"demand_sectors", "demand_countries"}
    ok = client.patch(f"/api/v1/organisations/{zjk.organisation_id}/demand", headers=auth(zjk),
                      json={"demand_sectors": ["ice_snow"], "demand_countries": ["CZ"], "demand_note": "Chongli"})
    assert ok.status_code == 200
    recs = client.get("/api/v1/recommendations", headers=auth(zjk)).json
    assert [(p["title"], p["reasons"]) for p in recs["projects"]] == [("Rink blanket", ["sector:ice_snow", "country:CZ"])]
    assert recs["sessions"][0]["session_id"] == world["pitch"].id
    assert client.get("/api/v1/recommendations", headers=auth(world["organiser"])).status_code == 403

    invitees = client.get(f"/api/v1/sessions/{world['pitch'].id}/invitees", headers=auth(world["organiser"])).json
    assert [(i["name"], i["registered"]) for i in invitees["items"]] == [("Zhangjiakou Commerce Bureau", False)]
