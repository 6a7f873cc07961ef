"""The pipeline rules one by one, scoping as a table, CSV, and numbers that add up."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.fairs import services as fairs
from app.leads import queries, services as lead_services
from app.leads.models import ExchangeRate, Lead, LeadDocument, LeadEvent, ProgressReport
from app.leads.services import record_interest
from app.live import services as live
from app.types import utcnow
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.projects import samples


def _lead(world, who, project, level="info", n=[0]):
    n[0] += 1
    interest, _ = record_interest(world[who], world["session"], {
        "project_id": world[project].id, "level": level, "client_id": f"pipeline-{n[0]:06d}"})
    db.session.commit()
    return interest.lead


def _agreement(lead, actor):
    return lead_services.add_document(actor, lead.id, io.BytesIO(samples.pdf_bytes("agreement")), "合作协议.pdf", "agreement")


def _events(lead) -> int:
    return db.session.scalar(select(func.count(LeadEvent.id)).where(LeadEvent.lead_id == lead.id))


# ---------------------------------------------------------------- the rules


def test_forward_any_number_of_stages_with_a_history_row(world):
    lead = _lead(world, "zjk", "rink")
    before = _events(lead)
    lead_services.progress(world["zjk"], lead.id, {"stage": "intent_reached", "note": "Land agreed in Chongli",
                                             "next_action_on": "2027-01-15"})
    assert lead.stage == "intent_reached" and str(lead.next_action_on) == "2027-01-15"
    event = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id.desc())).first()
    assert (event.from_stage, event.to_stage, event.note, event.user_id) == (
        "partner_identified", "intent_reached", "Land agreed in Chongli", world["zjk"].id)
    assert _events(lead) == before + 1


def test_back_only_by_an_organiser_with_a_reason(world):
    lead = _lead(world, "zjk", "rink")
    lead_services.progress(world["zjk"], lead.id, {"stage": "negotiating", "note": "Term sheet"})
    before = _events(lead)
    with pytest.raises(Forbidden) as refused:
        lead_services.progress(world["zjk"], lead.id, {"stage": "follow_up", "note": "Oops"})
    assert refused.value.code == "organiser_only"
    with pytest.raises(ValidationFailed) as no_reason:
        lead_services.progress(world["organiser"], lead.id, {"stage": "follow_up"})
    assert "note" in no_reason.value.fields
    db.session.rollback()
    assert (db.session.get(Lead, lead.id).stage, _events(lead)) == ("negotiating", before)
    lead_services.progress(world["organiser"], lead.id, {"stage": "follow_up", "note": "Investor paused the talks"})
    assert lead.stage == "follow_up"


def test_dropping_needs_a_reason_and_reviving_needs_an_organiser(world):
    lead = _lead(world, "zjk", "rink")
    with pytest.raises(ValidationFailed):
        lead_services.progress(world["zjk"], lead.id, {"stage": "dropped"})
    lead_services.progress(world["zjk"], lead.id, {"stage": "dropped", "note": "Budget moved elsewhere"})
    with pytest.raises(Forbidden):
        lead_services.progress(world["zjk"], lead.id, {"stage": "follow_up", "note": "Back on"})
    lead_services.progress(world["organiser"], lead.id, {"stage": "follow_up", "note": "New budget in 2027"})
    assert lead.stage == "follow_up"


def test_signing_needs_the_agreement_and_the_amount(world):
    lead = _lead(world, "zjk", "rink", level="intent")
    with pytest.raises(ValidationFailed) as no_amount:
        lead_services.progress(world["zjk"], lead.id, {"stage": "signed", "note": "Signed"})
    assert "amount" in no_amount.value.fields
    with pytest.raises(Conflict) as no_document:
        lead_services.progress(world["zjk"], lead.id, {"stage": "signed", "amount": "11500000", "currency": "EUR"})
    assert no_document.value.code == "agreement_missing"
    db.session.rollback()
    assert db.session.get(Lead, lead.id).stage == "preliminary_intent"
    _agreement(lead, world["zjk"])
    lead_services.progress(world["zjk"], lead.id, {"stage": "signed", "amount": "11500000", "currency": "EUR"})
    assert (lead.stage, lead.expected_amount, lead.currency) == ("signed", Decimal("11500000.00"), "EUR")
    lead_services.progress(world["zjk"], lead.id, {"stage": "construction", "note": "Ground broken"})
    assert lead.stage == "construction"


@pytest.mark.parametrize("data, field", [
    ({"stage": "won"}, "stage"),
    ({"amount": "lots", "currency": "EUR"}, "amount"),
    ({"amount": "100", "currency": "EURO"}, "currency"),
    ({"amount": "100"}, "currency"),
    ({"next_action_on": "next week"}, "next_action_on"),
    ({}, "note"),
])
def test_bad_progress_is_named_and_changes_nothing(world, data, field):
    lead = _lead(world, "zjk", "rink")
    before = (_events(lead), lead.stage)
    with pytest.raises(ValidationFailed) as caught:
        lead_services.progress(world["zjk"], lead.id, data)
    assert field in caught.value.fields
    db.session.rollback()
    assert (_events(lead), db.session.get(Lead, lead.id).stage) == before


def test_owner_is_settable_within_the_organisation(world):
    lead = _lead(world, "zjk", "rink")
    lead_services.set_owner(world["zjk"], lead.id, world["zjk_colleague"].id)
    assert lead.owner_id == world["zjk_colleague"].id
    with pytest.raises(ValidationFailed):
        lead_services.set_owner(world["organiser"], lead.id, world["ts"].id)  # not of the lead's organisation
    with pytest.raises(NotFound):  # another organisation's lead does not exist for them
        lead_services.set_owner(world["ts"], lead.id, world["ts"].id)


def test_stalled_after_the_stage_limit_and_limits_are_settable(world):
    lead = _lead(world, "zjk", "rink")
    assert not queries.is_stalled(lead)
    lead.last_progress_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert queries.is_stalled(lead)
    assert [l.id for l, in db.session.execute(queries.leads_query(world["organiser"], queries.LeadFilters(stalled=True)))] == [lead.id]
    lead_services.set_stall_limit(world["organiser"], "partner_identified", 20)
    assert not queries.is_stalled(lead)
    with pytest.raises(ValidationFailed):
        lead_services.set_stall_limit(world["organiser"], "partner_identified", 0)
    with pytest.raises(Forbidden):
        lead_services.set_stall_limit(world["zjk"], "partner_identified", 5)


def test_contested_projects_are_marked_for_organisers_only(world):
    _lead(world, "zjk", "rink")
    _lead(world, "ts", "rink")
    _lead(world, "ts", "ecmo")
    rows = queries.annotate(world["organiser"], list(db.session.scalars(select(Lead).order_by(Lead.id))))
    assert [(r["project"], r["contested"]) for r in rows] == [
        ("Ice-rink blanket", True), ("Ice-rink blanket", True), ("Portable ECMO", False)]
    own = queries.annotate(world["ts"], list(db.session.scalars(queries.leads_query(world["ts"], queries.LeadFilters()))))
    assert all(not r["contested"] for r in own)


# ---------------------------------------------------------------- scoping, as a table


SCOPE = [
    # (who, whose lead, may read, may change)
    ("zjk", "zjk", True, True),
    ("zjk_colleague", "zjk", True, True),
    ("zjk", "ts", False, False),
    ("agent", "zjk", True, False),  # the rink is the agent's project
    ("other_agent", "zjk", False, False),
    ("organiser", "zjk", True, True),
]


@pytest.mark.parametrize("who, whose, may_read, may_change", SCOPE)
def test_scoping_of_list_detail_change_csv_and_documents(client, auth, world, who, whose, may_read, may_change):
    lead = _lead(world, whose, "rink")
    document = _agreement(lead, world[whose])
    headers = auth(world[who])

    listed = client.get("/api/v1/leads", headers=headers).json
    assert (lead.id in [r["id"] for r in listed["items"]]) is may_read
    detail = client.get(f"/api/v1/leads/{lead.id}", headers=headers)
    assert detail.status_code == (200 if may_read else 404)
    csv_body = client.get("/api/v1/leads.csv", headers=headers).data.decode("utf-8-sig")
    assert (f"\n{lead.id}," in csv_body) is may_read
    download = client.get(f"/api/v1/lead-documents/{document.id}/download", headers=headers)
    assert download.status_code == (200 if may_read else 404)

    before = _events(lead)
    changed = client.post(f"/api/v1/leads/{lead.id}/progress", json={"note": "Called them"}, headers=headers)
    refused = 403 if world[who].role == "presenter" or may_read else 404  # presenters never write leads
    assert changed.status_code == (201 if may_change else refused)
    assert _events(lead) == before + (1 if may_change else 0)


# ---------------------------------------------------------------- the monthly report


def test_monthly_report_is_all_or_nothing_and_organisers_see_who_is_missing(client, auth, world):
    a = _lead(world, "zjk", "rink")
    b = _lead(world, "zjk", "ecmo")
    _lead(world, "ts", "ecmo")
    headers = auth(world["zjk"])
    bad = client.post("/api/v1/reports", json={"updates": [
        {"lead_id": a.id, "stage": "follow_up", "note": "Visit planned"},
        {"lead_id": b.id, "stage": "preliminary_intent", "next_action_on": "soon"},
    ]}, headers=headers)
    assert bad.status_code == 422 and "updates[1].next_action_on" in bad.json["error"]["details"]["fields"]
    assert db.session.scalar(select(func.count(ProgressReport.id))) == 0
    assert db.session.get(Lead, a.id).stage == "partner_identified"

    missing = client.get("/api/v1/reports/missing", headers=auth(world["organiser"])).json
    assert sorted(o["name"] for o in missing["items"]) == ["唐山市商务局", "张家口市商务局"]
    good = client.post("/api/v1/reports", json={"updates": [
        {"lead_id": a.id, "stage": "follow_up", "note": "Visit planned"},
        {"lead_id": b.id, "note": "No answer yet", "next_action_on": "2027-01-10"},
    ]}, headers=headers)
    assert good.status_code == 201
    report_events = db.session.scalars(select(LeadEvent).where(LeadEvent.report_id == good.json["id"])).all()
    assert len(report_events) == 2
    missing = client.get("/api/v1/reports/missing", headers=auth(world["organiser"])).json
    assert [o["name"] for o in missing["items"]] == ["唐山市商务局"]
    other = client.post("/api/v1/reports", json={"updates": [{"lead_id": a.id, "note": "x"}]}, headers=auth(world["ts"]))
    assert other.status_code == 422


# ---------------------------------------------------------------- CSV and numbers


def test_csv_has_a_bom_and_chinese_survives_the_round_trip(client, auth, world):
    _lead(world, "zjk", "rink")
    response = client.get("/api/v1/leads.csv", headers=auth(world["organiser"]))
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0]["Organisation"] == "张家口市商务局 (in Chinese)" and rows[0]["Project"] == "Ice-rink blanket"  # an English reader: the Chinese name, marked
    assert rows[0]["Stage"] == "Partner identified"  # the reader's words; the JSON API keeps the codes


def test_stats_add_up_and_convert_to_cny_exactly(client, auth, world):
    db.session.add_all([ExchangeRate(currency="EUR", cny_per_unit=Decimal("7.8512")),
                        ExchangeRate(currency="USD", cny_per_unit=Decimal("7.1234"))])
    db.session.commit()
    a = _lead(world, "zjk", "rink")          # EUR 12,000,000 (project amount)
    b = _lead(world, "ts", "ecmo", "intent")  # USD 80,000,000
    c = _lead(world, "ts", "rink")
    _agreement(a, world["zjk"])
    lead_services.progress(world["zjk"], a.id, {"stage": "signed", "amount": "11500000.50", "currency": "EUR"})
    lead_services.progress(world["ts"], c.id, {"stage": "dropped", "note": "No site"})

    for group_by in ("stage", "city", "sector", "country", "fair"):
        stats = client.get(f"/api/v1/stats/pipeline?group_by={group_by}", headers=auth(world["organiser"])).json
        assert sum(g["count"] for g in stats["groups"]) == stats["totals"]["count"] == 2
        assert sum(Decimal(g["investment_cny"]) for g in stats["groups"]) == Decimal(stats["totals"]["investment_cny"])
    expected = (Decimal("11500000.50") * Decimal("7.8512") + Decimal("80000000") * Decimal("7.1234")).quantize(Decimal("0.01"))
    assert Decimal(stats["totals"]["investment_cny"]) == expected
    by_stage = {g["key"]: g for g in client.get("/api/v1/stats/pipeline?group_by=stage",
                                                  headers=auth(world["organiser"])).json["groups"]}
    assert by_stage["signed"]["investment"] == {"EUR": "11500000.50"}
    assert by_stage["preliminary_intent"]["investment"] == {"USD": "80000000.00"}
    assert stats["totals"]["foreign_projects"] == 2 and stats["totals"]["dropped"] == 1
    refused = client.get("/api/v1/stats/pipeline?group_by=colour", headers=auth(world["organiser"]))
    assert refused.status_code == 422 and "group_by" in refused.json["error"]["details"]["fields"]
    assert client.get("/api/v1/stats/pipeline", headers=auth(world["zjk"])).status_code == 403


def test_the_funnel_on_a_built_scenario(client, auth, world):
    fair, session = world["fair"], world["session"]
    for who in ("zjk", "zjk_colleague", "ts"):
        fairs.register(world[who], fair.id)
    walk_in = make_user("attendee", organisation="Xingtai Commerce Bureau", city="Xingtai")
    fairs.withdraw(world["zjk_colleague"], fair.id)
    import time_machine  # attendance counts only while the session is live

    with time_machine.travel(session.starts_at, tick=False):
        live.join(world["zjk"], session.id)
        live.join(walk_in, session.id)  # joins without registering: a walk-in
    a = _lead(world, "zjk", "rink")
    _lead(world, "zjk", "ecmo")
    _agreement(a, world["zjk"])
    lead_services.progress(world["zjk"], a.id, {"stage": "signed", "amount": "100", "currency": "EUR"})
    funnel = client.get(f"/api/v1/stats/pipeline?fair_id={fair.id}", headers=auth(world["organiser"])).json["funnel"]
    # Places taken: zjk and ts (the colleague withdrew; a walk-in takes no place); attended: zjk and the walk-in.
    assert funnel == {"registered": 2, "attended": 2, "interested": 1, "leads": 2, "signed": 1}


def test_rates_are_kept_by_organisers_and_checked(client, auth, world):
    headers = auth(world["organiser"])
    assert client.put("/api/v1/rates", json={"currency": "EUR", "cny_per_unit": "7.85"}, headers=headers).status_code == 200
    assert client.put("/api/v1/rates", json={"currency": "XXY", "cny_per_unit": "1"}, headers=headers).status_code == 422
    assert client.put("/api/v1/rates", json={"currency": "USD", "cny_per_unit": "-1"}, headers=headers).status_code == 422
    assert client.put("/api/v1/rates", json={"currency": "USD", "cny_per_unit": "7"}, headers=auth(world["zjk"])).status_code == 403
    items = client.get("/api/v1/rates", headers=headers).json["items"]
    assert {"currency": "EUR", "cny_per_unit": "7.850000"} in items


def test_documents_follow_the_upload_rules(client, auth, world):
    lead = _lead(world, "zjk", "rink")
    headers = auth(world["zjk"])
    bad = client.post(f"/api/v1/leads/{lead.id}/documents", headers=headers, content_type="multipart/form-data",
                      data={"kind": "agreement", "file": (io.BytesIO(samples.html_bytes()), "agreement.pdf")})
    assert bad.status_code == 415
    wrong_kind = client.post(f"/api/v1/leads/{lead.id}/documents", headers=headers, content_type="multipart/form-data",
                             data={"kind": "contract", "file": (io.BytesIO(samples.pdf_bytes()), "a.pdf")})
    assert wrong_kind.status_code == 422
    assert db.session.scalar(select(func.count(LeadDocument.id))) == 0
    good = client.post(f"/api/v1/leads/{lead.id}/documents", headers=headers, content_type="multipart/form-data",
                       data={"kind": "agreement", "file": (io.BytesIO(samples.pdf_bytes()), "合作协议.pdf")})
    assert good.status_code == 201 and good.json["name"] == "合作协议.pdf"
