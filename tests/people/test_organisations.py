"""Organisations: the organisers' pages and API, validation, search by alias, and merging duplicates
without losing a single row."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app import signals
from app.accounts import services
from app.people import organisations
from app.accounts.models import AuditEvent, Organisation, User
from app.errors import Conflict, NotFound
from app.extensions import db
from app.fairs import services as fairs
from app.fairs.models import Registration
from app.leads import services as lead_services
from app.leads.models import Interest, Lead, LeadDocument, LeadEvent, ProgressReport, Signing, SiteProposal
from app.leads.services import record_interest
from app.live import services as live
from app.live.models import Question
from app.notifications.models import Notification
from tests.conftest import csrf_from
from tests.people.helpers import organisation_count, refused_organisation
from tests.factories import (make_fair, make_notification, make_organiser, make_presenter, make_project,
                             make_session, make_user)
from tests.projects import samples


def _org(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


# ---------------------------------------------------------------- create and edit


def test_organiser_creates_an_organisation_with_its_demand_profile(client, auth):
    organiser = make_organiser()
    response = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Langfang Commerce Bureau", "kind": "city_bureau", "city": "Langfang", "country": "cn",
        "demand_sectors": ["ice_snow", "new_materials", "ice_snow"], "demand_countries": ["de", "CZ"],
        "demand_note": " Ski-resort equipment makers. "})
    assert response.status_code == 201, response.json
    body = response.json
    assert body == {"id": body["id"], "name": "Langfang Commerce Bureau", "kind": "city_bureau", "city": "Langfang",
                    "division": "131000", "country": "CN", "demand_sectors": ["ice_snow", "new_materials"], "demand_countries": ["CZ", "DE"],
                    "demand_note": "Ski-resort equipment makers.", "aliases": [], "people": 0, "leads": 0,
                    "name_i18n": {"zh": "", "en": "Langfang Commerce Bureau"}}
    assert client.get(f"/api/v1/organisations/{body['id']}", headers=auth(organiser)).json == body


@pytest.mark.parametrize("change, fields", [
    ({"country": "XX"}, {"country"}),
    ({"kind": "ministry"}, {"kind"}),
    ({"demand_sectors": ["skiing"]}, {"demand_sectors"}),
    ({"demand_countries": ["DE", "QQ"]}, {"demand_countries"}),
    ({"name": "  "}, {"name"}),
    ({"country": "XX", "kind": "ministry", "demand_sectors": ["skiing"]}, {"country", "kind", "demand_sectors"}),
])
def test_bad_fields_are_named_and_nothing_is_written(client, auth, change, fields):
    organiser = make_organiser()
    body = {"name": "Baoding Park", "kind": "park", "city": "Baoding", "country": "CN", **change}
    assert set(refused_organisation(client, auth(organiser), body)["fields"]) == fields

    existing = organisations.create_organisation(organiser, name="Baoding Park", kind="park", city="Baoding", country="CN")
    patched = client.patch(f"/api/v1/organisations/{existing.id}", headers=auth(organiser), json=change)
    assert patched.status_code == 422
    assert set(patched.json["error"]["details"]["fields"]) == fields
    db.session.expire_all()
    assert (existing.name, existing.kind, existing.country, existing.demand_sectors, existing.demand_countries) == (
        "Baoding Park", "park", "CN", [], [])


def test_patch_changes_only_what_is_given(client, auth):
    organiser = make_organiser()
    org = organisations.create_organisation(organiser, name="Tangshan Bureau", kind="city_bureau", city="Tangshan",
                                       country="CN", demand_sectors=["new_materials"])
    response = client.patch(f"/api/v1/organisations/{org.id}", headers=auth(organiser),
                            json={"name": "Tangshan Commerce Bureau", "demand_countries": ["BE"],
                                  "aliases": ["唐山市商务局", "tangshan commerce bureau", "唐山市商务局"]})
    assert response.status_code == 200, response.json
    assert {k: response.json[k] for k in ("name", "kind", "city", "demand_sectors", "demand_countries", "aliases")} == {
        "name": "Tangshan Commerce Bureau", "kind": "city_bureau", "city": "Tangshan",
        "demand_sectors": ["new_materials"], "demand_countries": ["BE"], "aliases": ["唐山市商务局"]}


def test_a_name_already_taken_or_known_as_an_alias_is_a_conflict(client, auth):
    organiser = make_organiser()
    organisations.create_organisation(organiser, name="Zhangjiakou Commerce Bureau", kind="city_bureau", city=None,
                                 country="CN", aliases=["张家口市商务局"])
    for name in ("zhangjiakou commerce bureau", "张家口市商务局"):
        response = client.post("/api/v1/organisations", headers=auth(organiser),
                               json={"name": name, "kind": "city_bureau", "country": "CN"})
        assert response.status_code == 409 and response.json["error"]["code"] == "already_exists"
    other = organisations.create_organisation(organiser, name="Chongli Park", kind="park", city=None, country="CN")
    clash = client.patch(f"/api/v1/organisations/{other.id}", headers=auth(organiser), json={"aliases": ["张家口市商务局"]})
    assert clash.status_code == 422 and set(clash.json["error"]["details"]["fields"]) == {"aliases"}
    assert organisation_count() == 3


# ---------------------------------------------------------------- permissions


def test_nobody_but_organisers_reads_or_writes_organisations(client, auth, login):
    organiser = make_organiser()
    attendee = make_user("attendee")
    org = organisations.create_organisation(organiser, name="Cangzhou Bureau", kind="city_bureau", city="Cangzhou",
                                       country="CN")
    other = organisations.create_organisation(organiser, name="Cangzhou Bureau (dup)", kind="city_bureau", city=None,
                                         country="CN")
    for role in ("attendee", "presenter"):
        headers = auth(make_user(role))
        calls = [
            client.get("/api/v1/organisations", headers=headers),
            client.post("/api/v1/organisations", headers=headers, json={"name": "X", "kind": "park", "country": "CN"}),
            client.get(f"/api/v1/organisations/{org.id}", headers=headers),
            client.patch(f"/api/v1/organisations/{org.id}", headers=headers, json={"name": "Hijacked"}),
            client.get(f"/api/v1/organisations/{org.id}/users", headers=headers),
            client.post(f"/api/v1/organisations/{org.id}/merge", headers=headers, json={"duplicate_id": other.id}),
        ]
        assert [c.status_code for c in calls] == [403] * 6
        assert all(set(c.json) == {"error"} for c in calls)
    assert client.get("/api/v1/organisations").status_code == 401
    before = organisation_count()

    login(attendee)
    paths = ["/organisations", "/organisations/new", f"/organisations/{org.id}", f"/organisations/{org.id}/edit",
             f"/organisations/{org.id}/merge"]
    assert [client.get(p).status_code for p in paths] == [403] * 5
    db.session.expire_all()
    assert (organisation_count(), org.name) == (before, "Cangzhou Bureau")


def test_pages_refuse_form_posts_from_other_roles(client, login):
    organiser = make_organiser()
    org = organisations.create_organisation(organiser, name="Xingtai Bureau", kind="city_bureau", city=None, country="CN")
    other = organisations.create_organisation(organiser, name="Xingtai Bureau 2", kind="city_bureau", city=None, country="CN")
    login(make_user("presenter"))
    token = csrf_from(client.get("/projects").text)
    before = organisation_count()
    posts = [
        client.post("/organisations/new", data={"csrf_token": token, "name": "New", "kind": "park", "country": "CN"}),
        client.post(f"/organisations/{org.id}/edit", data={"csrf_token": token, "name": "Renamed", "kind": "park",
                                                           "country": "CN"}),
        client.post(f"/organisations/{org.id}/merge", data={"csrf_token": token, "other": str(other.id),
                                                            "direction": "into_this"}),
    ]
    assert [p.status_code for p in posts] == [403] * 3
    db.session.expire_all()
    assert (organisation_count(), org.name, db.session.get(Organisation, other.id) is not None) == (before, "Xingtai Bureau", True)


# ---------------------------------------------------------------- list, search, people


def test_list_searches_names_and_aliases_and_filters_kind_and_city(client, auth):
    organiser = make_organiser()
    ts = organisations.create_organisation(organiser, name="Tangshan Commerce Bureau", kind="city_bureau", city="Tangshan",
                                      country="CN", aliases=["唐山市商务局"])
    park = organisations.create_organisation(organiser, name="Caofeidian Park", kind="park", city="Tangshan", country="CN")
    organisations.create_organisation(organiser, name="Zhangjiakou Commerce Bureau", kind="city_bureau",
                                 city="Zhangjiakou", country="CN")
    make_user("attendee", organisation="Tangshan Commerce Bureau")
    make_user("attendee", organisation="唐山市商务局")  # found by its alias: the same organisation
    headers = auth(organiser)

    def names(**query):
        response = client.get("/api/v1/organisations", headers=headers, query_string=query)
        assert response.status_code == 200, response.json
        return [item["name"] for item in response.json["items"]]

    assert names(q="唐山") == ["Tangshan Commerce Bureau"]
    assert names(q="commerce bureau") == ["Tangshan Commerce Bureau", "Zhangjiakou Commerce Bureau"]
    assert names(city="tangshan") == ["Caofeidian Park", "Tangshan Commerce Bureau"]
    assert names(kind="park") == ["Caofeidian Park"]
    assert names(kind="city_bureau", city="Tangshan") == ["Tangshan Commerce Bureau"]
    bad = client.get("/api/v1/organisations", headers=headers, query_string={"kind": "ministry"})
    assert bad.status_code == 422 and set(bad.json["error"]["details"]["fields"]) == {"kind"}
    listed = client.get("/api/v1/organisations", headers=headers, query_string={"q": "唐山"}).json
    assert (listed["total"], listed["items"][0]["people"], listed["items"][0]["id"]) == (1, 2, ts.id)
    assert park.id != ts.id


def test_list_page_shows_counts_and_finds_an_alias(client, login):
    organiser = make_organiser()
    organisations.create_organisation(organiser, name="Handan Commerce Bureau", kind="city_bureau", city="Handan",
                                 country="CN", aliases=["邯郸市商务局"])
    make_user("attendee", organisation="Handan Commerce Bureau")
    login(organiser)
    page = client.get("/organisations", query_string={"q": "邯郸"})
    assert page.status_code == 200
    assert "Handan Commerce Bureau" in page.text and "邯郸市商务局" in page.text
    assert "Hebei Department of Commerce" not in page.text
    row = page.text.split("Handan Commerce Bureau</a>", 1)[1].split("</tr>", 1)[0]
    assert [cell.strip() for cell in row.split("<td>")[-2:]] == ["1</td>", "0</td>"]


def test_one_organisation_lists_its_people_with_pending_invitations(client, auth, login):
    organiser = make_organiser()
    member = make_user("attendee", name="Liu Yang", organisation="Chengde Commerce Bureau")
    invited = services.create_user(organiser, email="new@example.org", name="Wang Fang", role="attendee",
                                   organisation="Chengde Commerce Bureau", password=None)
    response = client.get(f"/api/v1/organisations/{member.organisation_id}/users", headers=auth(organiser))
    assert response.status_code == 200
    assert [(u["name"], u["invitation_pending"]) for u in response.json["items"]] == [
        ("Liu Yang", False), ("Wang Fang", True)]
    assert client.get("/api/v1/organisations/999999/users", headers=auth(organiser)).status_code == 404
    login(organiser)
    page = client.get(f"/organisations/{member.organisation_id}")
    assert page.status_code == 200
    assert "Wang Fang" in page.text and "invitation pending" in page.text and invited.email in page.text


# ---------------------------------------------------------------- pages: forms


def _form(client, path):
    page = client.get(path)
    assert page.status_code == 200
    return csrf_from(page.text)


def test_page_creates_and_edits_an_organisation(client, login):
    organiser = make_organiser()
    login(organiser)
    token = _form(client, "/organisations/new")
    response = client.post("/organisations/new", data={
        "csrf_token": token, "name": "Qinhuangdao Port Park", "kind": "park", "city": "Qinhuangdao", "country": "CN",
        "demand_sectors": ["modern_logistics", "high_end_equipment"], "demand_countries": ["NL"],
        "demand_note": "Cold-chain logistics", "aliases": "秦皇岛港园区\n\n"})
    assert response.status_code == 302, response.text
    org = _org("Qinhuangdao Port Park")
    assert (org.kind, org.demand_sectors, org.demand_countries, org.aliases) == (
        "park", ["high_end_equipment", "modern_logistics"], ["NL"], ["秦皇岛港园区"])
    edit = client.get(f"/organisations/{org.id}/edit")
    assert "秦皇岛港园区" in edit.text and 'selected value="modern_logistics"' in edit.text
    response = client.post(f"/organisations/{org.id}/edit", data={
        "csrf_token": csrf_from(edit.text), "name": "Qinhuangdao Port Park", "kind": "park", "city": "Qinhuangdao",
        "country": "CN", "demand_sectors": ["modern_logistics"], "demand_note": "", "aliases": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (org.demand_sectors, org.demand_countries, org.aliases) == (["modern_logistics"], [], [])


def test_page_names_a_bad_field_and_writes_nothing(client, login):
    organiser = make_organiser()
    login(organiser)
    before = organisation_count()
    response = client.post("/organisations/new", data={
        "csrf_token": _form(client, "/organisations/new"), "name": "Bad Place", "kind": "park", "country": "XX",
        "demand_sectors": ["skiing"]})
    assert response.status_code == 422
    assert "is not an ISO 3166-1 alpha-2 country code" in response.text and "skiing" in response.text
    assert 'id="country-error"' in response.text and 'id="demand_sectors-error"' in response.text
    assert organisation_count() == before


# ---------------------------------------------------------------- merging


ROW_TABLES = {
    "users": User, "registrations": Registration, "leads": Lead, "lead_events": LeadEvent, "interests": Interest,
    "questions": Question, "progress_reports": ProgressReport, "lead_documents": LeadDocument, "signings": Signing,
    "audit_events": AuditEvent, "notifications": Notification, "site_proposals": SiteProposal,
}


def _ids() -> dict[str, set[int]]:
    return {name: set(db.session.scalars(select(model.id))) for name, model in ROW_TABLES.items()}


@pytest.fixture
def world():
    """Two spellings of one bureau, each with people, leads (one on the same project), interests,
    questions, a registration, a monthly report, documents, a site proposal and a signing."""
    organiser = make_organiser()
    agent = make_presenter(name="Petr Novak", timezone_name="Europe/Prague", country="CZ")
    rink = make_project(agent, title="Ice-rink blanket", investment_amount=Decimal("12000000"), currency="EUR")
    ecmo = make_project(agent, title="Portable ECMO", sector="biomedicine_health", country="US")
    solar = make_project(agent, title="Solar glass", sector="new_materials", country="DE")
    fair = make_fair(organiser)
    pitch = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[rink.id, ecmo.id, solar.id])
    signing = make_session(fair, organiser, title="Signing ceremony", kind="signing",
                           starts_at=fair.starts_at + timedelta(hours=3), ends_at=fair.starts_at + timedelta(hours=4))
    keep = make_user("attendee", name="Zhou Qiang", organisation="Tangshan Commerce Bureau", city="Tangshan")
    dup = make_user("attendee", name="Li Na", organisation="唐山市商务局", city="Tangshan")
    invited = services.create_user(organiser, email="invited@example.org", name="Sun Li", role="attendee",
                                   organisation="唐山市商务局", password=None)
    survivor, duplicate = keep.organisation, dup.organisation
    organisations.update_organisation(organiser, duplicate.id, {"aliases": ["Tangshan Bureau of Commerce"],
                                                  "demand_sectors": ["ice_snow"], "demand_countries": ["CZ"]})
    n = iter(range(1, 100))

    def interest(who, project, level="info"):
        made, _ = record_interest(who, pitch, {"project_id": project.id, "level": level,
                                               "client_id": f"merge-test-{next(n):04d}"})
        db.session.commit()
        return made.lead

    keep_rink = interest(keep, rink)
    interest(keep, rink, "meeting")
    dup_rink = interest(dup, rink, "intent")
    lead_services.progress(dup, dup_rink.id, {"stage": "negotiating", "note": "Term sheet", "amount": "9000000",
                                         "currency": "EUR", "next_action_on": "2027-02-01"})
    draft = lead_services.add_document(dup, dup_rink.id, io.BytesIO(samples.pdf_bytes("draft")), "draft.pdf", "other")
    # A site proposal sent from the duplicate's lead (its PDF stands in as the document).
    db.session.add(SiteProposal(lead_id=dup_rink.id, document_id=draft.id, plot_ids=[], currency="EUR", costs=[],
                                sent_by_id=dup.id))
    dup_ecmo = interest(dup, ecmo, "intent")
    lead_services.add_document(dup, dup_ecmo.id, io.BytesIO(samples.pdf_bytes("agreement")), "协议.pdf", "agreement")
    with time_machine.travel(signing.starts_at + timedelta(minutes=5), tick=True):  # during the ceremony
        lead_services.record_signing(organiser, signing.id, {"lead_id": dup_ecmo.id, "amount": "5000000", "currency": "USD"})
    keep_solar = interest(keep, solar)
    live.ask(dup, pitch.id, "When can we visit the plant?", "merge-question-0001")
    live.ask(keep, pitch.id, "What land do you need?", "merge-question-0002")
    fairs.register(dup, fair.id)
    fairs.register(keep, fair.id)
    lead_services.file_report(dup, [{"lead_id": dup_ecmo.id, "note": "Site visit planned"}], note="March")
    make_notification(dup, "Your lead stalled", kind="lead_stalled", link=f"/leads/{dup_rink.id}")
    db.session.commit()
    return {"organiser": organiser, "survivor": survivor, "duplicate": duplicate, "keep": keep, "dup": dup,
            "invited": invited, "keep_rink": keep_rink, "dup_rink": dup_rink, "dup_ecmo": dup_ecmo,
            "keep_solar": keep_solar, "rink": rink, "signing": signing, "pitch": pitch, "fair": fair}


def test_merge_keeps_every_row_and_folds_the_shared_project_lead(client, auth, world):
    survivor_id, duplicate_id = world["survivor"].id, world["duplicate"].id
    keep_rink_id, dup_rink_id = world["keep_rink"].id, world["dup_rink"].id
    before, orgs_before = _ids(), organisation_count()
    dup_rink_events = set(db.session.scalars(select(LeadEvent.id).where(LeadEvent.lead_id == dup_rink_id)))
    dup_rink_interests = set(db.session.scalars(select(Interest.id).where(Interest.lead_id == dup_rink_id)))
    dup_rink_docs = set(db.session.scalars(select(LeadDocument.id).where(LeadDocument.lead_id == dup_rink_id)))
    assert dup_rink_events and dup_rink_interests and dup_rink_docs

    response = client.post(f"/api/v1/organisations/{survivor_id}/merge", headers=auth(world["organiser"]),
                           json={"duplicate_id": duplicate_id})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["id"], body["name"], body["people"], body["leads"]) == (
        survivor_id, "Tangshan Commerce Bureau", 3, 3)
    assert body["aliases"] == ["唐山市商务局", "Tangshan Bureau of Commerce"]
    assert (body["demand_sectors"], body["demand_countries"]) == (["ice_snow"], ["CZ"])

    db.session.expire_all()
    after = _ids()
    merge_events = after["lead_events"] - before["lead_events"]
    new_audit = after["audit_events"] - before["audit_events"]
    # Every row survives: only the absorbed lead is gone, plus one merge history row and one audit row.
    assert {k: v for k, v in after.items() if k not in ("leads", "lead_events", "audit_events")} == {
        k: v for k, v in before.items() if k not in ("leads", "lead_events", "audit_events")}
    assert after["leads"] == before["leads"] - {dup_rink_id}
    assert after["lead_events"] - merge_events == before["lead_events"] and len(merge_events) == 1
    assert after["audit_events"] - new_audit == before["audit_events"] and len(new_audit) == 1
    # The duplicate is gone and nothing points at it any more.
    assert db.session.get(Organisation, duplicate_id) is None
    for table, column in _pointing_at("organisations.id"):
        assert db.session.scalar(select(func.count()).select_from(db.metadata.tables[table])
                                 .where(db.metadata.tables[table].c[column] == duplicate_id)) == 0, table
    # The absorbed lead's history, interests and documents hang on the kept lead.
    assert set(db.session.scalars(select(LeadEvent.id).where(LeadEvent.lead_id == keep_rink_id))) >= dup_rink_events
    assert set(db.session.scalars(select(Interest.id).where(Interest.lead_id == keep_rink_id))) >= dup_rink_interests
    assert set(db.session.scalars(select(LeadDocument.id).where(LeadDocument.lead_id == keep_rink_id))) == dup_rink_docs
    assert [p.lead_id for p in db.session.scalars(select(SiteProposal))] == [keep_rink_id]
    kept = db.session.get(Lead, keep_rink_id)
    assert (kept.organisation_id, kept.stage, kept.expected_amount, kept.currency, str(kept.next_action_on)) == (
        survivor_id, "negotiating", Decimal("9000000.00"), "EUR", "2027-02-01")
    note = db.session.get(LeadEvent, merge_events.pop())
    assert (note.lead_id, note.from_stage, note.to_stage, note.note, note.source, note.user_id) == (
        keep_rink_id, "partner_identified", "negotiating", "Merged from 唐山市商务局.", "merge", world["organiser"].id)
    signing = db.session.scalar(select(Signing))
    assert signing.lead.organisation_id == survivor_id
    link = db.session.scalar(select(Notification.link).where(Notification.user_id == world["dup"].id))
    assert link == f"/leads/{keep_rink_id}"
    audit = db.session.get(AuditEvent, new_audit.pop())
    assert (audit.action, audit.actor_id, audit.organisation_id, audit.details["merged_name"]) == (
        "organisation_merged", world["organiser"].id, survivor_id, "唐山市商务局")
    assert audit.details["moved"] == {
        "people": 2, "registrations": 1, "leads_moved": 1, "leads_combined": 1, "interests": 2, "questions": 1,
        "progress_reports": 1, "history_rows": audit.details["moved"]["history_rows"], "documents": 2, "signings": 1,
        "audit_events": 0}
    # One organisation now: counts that were per organisation stay right.
    assert live_interest_count(world) == 1
    # The old spellings find the survivor.
    for spelling in ("唐山市商务局", "tangshan bureau of commerce"):
        found = services.find_or_create_organisation(spelling, kind=None, city=None, country=None, role="attendee")
        assert found.id == survivor_id
    assert organisation_count() == orgs_before - 1


def live_interest_count(world) -> int:
    from app.leads.queries import interest_count

    return interest_count(world["pitch"].id, world["rink"].id)


def test_a_new_user_named_by_an_old_spelling_joins_the_survivor(client, auth, world):
    organisations.merge_organisations(world["organiser"], world["survivor"].id, world["duplicate"].id)
    response = client.post("/api/v1/users", headers=auth(world["organiser"]), json={
        "email": "late@example.org", "name": "Late Comer", "role": "attendee", "organisation": "唐山市商务局"})
    assert response.status_code == 201, response.json
    assert response.json["organisation_id"] == world["survivor"].id


def test_merge_into_itself_is_a_conflict_and_unknown_is_not_found(client, auth, world):
    headers = auth(world["organiser"])
    survivor_id, orgs_before = world["survivor"].id, organisation_count()
    same = client.post(f"/api/v1/organisations/{survivor_id}/merge", headers=headers, json={"duplicate_id": survivor_id})
    assert same.status_code == 409 and same.json["error"]["code"] == "same_organisation"
    unknown = client.post(f"/api/v1/organisations/{survivor_id}/merge", headers=headers, json={"duplicate_id": 999999})
    assert unknown.status_code == 404
    missing = client.post("/api/v1/organisations/999999/merge", headers=headers, json={"duplicate_id": survivor_id})
    assert missing.status_code == 404
    no_body = client.post(f"/api/v1/organisations/{survivor_id}/merge", headers=headers, json={})
    assert no_body.status_code == 422 and set(no_body.json["error"]["details"]["fields"]) == {"duplicate_id"}
    assert organisation_count() == orgs_before


def test_merge_is_refused_when_both_leads_of_a_project_are_signed(world):
    organiser, keep = world["organiser"], world["keep"]
    made, _ = record_interest(keep, world["pitch"], {"project_id": world["dup_ecmo"].project_id, "level": "intent",
                                                    "client_id": "merge-test-keep-ecmo"})
    db.session.commit()
    lead_services.add_document(keep, made.lead_id, io.BytesIO(samples.pdf_bytes("ours")), "ours.pdf", "agreement")
    with time_machine.travel(world["signing"].starts_at + timedelta(minutes=5), tick=True):  # during the ceremony
        lead_services.record_signing(organiser, world["signing"].id, {"lead_id": made.lead_id, "amount": "1", "currency": "USD"})
    before = _ids()
    with pytest.raises(Conflict) as refused:
        organisations.merge_organisations(organiser, world["survivor"].id, world["duplicate"].id)
    assert refused.value.code == "merge_blocked"
    db.session.expire_all()
    assert _ids() == before and db.session.get(Organisation, world["duplicate"].id) is not None


def test_a_failure_in_the_middle_rolls_everything_back(world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    before = _ids()
    survivor_id, duplicate_id = world["survivor"].id, world["duplicate"].id
    monkeypatch.setattr(organisations.audit, "record", broken)  # fails after every row was moved
    with pytest.raises(RuntimeError):
        organisations.merge_organisations(world["organiser"], survivor_id, duplicate_id)
    db.session.expire_all()
    assert _ids() == before
    assert db.session.get(Organisation, duplicate_id).aliases == ["Tangshan Bureau of Commerce"]
    assert db.session.get(Lead, world["dup_rink"].id).organisation_id == duplicate_id
    assert db.session.get(User, world["dup"].id).organisation_id == duplicate_id
    assert db.session.get(Organisation, survivor_id).aliases == []


def test_merge_page_previews_then_merges_this_one_into_the_other(client, login, world):
    login(world["organiser"])
    survivor_id, duplicate_id = world["survivor"].id, world["duplicate"].id
    before = _ids()
    chooser = client.get(f"/organisations/{duplicate_id}/merge")
    assert chooser.status_code == 200 and "Tangshan Commerce Bureau" in chooser.text
    preview = client.get(f"/organisations/{duplicate_id}/merge",
                         query_string={"other": survivor_id, "direction": "into_other"})
    assert preview.status_code == 200
    assert "唐山市商务局 will be merged into Tangshan Commerce Bureau and then deleted." in preview.text
    assert "Ice-rink blanket" in preview.text  # the project both pursue
    assert _ids() == before  # a preview writes nothing
    same = client.get(f"/organisations/{survivor_id}/merge", query_string={"other": survivor_id})
    assert same.status_code == 409
    done = client.post(f"/organisations/{duplicate_id}/merge", data={
        "csrf_token": csrf_from(preview.text), "other": str(survivor_id), "direction": "into_other"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/organisations/{survivor_id}")
    assert db.session.get(Organisation, duplicate_id) is None
    page = client.get(f"/organisations/{survivor_id}")
    assert page.status_code == 200 and "Li Na" in page.text and "Sun Li" in page.text


def _pointing_at(target: str) -> set[tuple[str, str]]:
    """Every (table, column) with a foreign key to `target` ("organisations.id")."""
    return {(table.name, fk.parent.name) for table in db.metadata.sorted_tables for fk in table.foreign_keys
            if f"{fk.column.table.name}.{fk.column.name}" == target}


def test_the_merge_knows_every_column_that_points_at_an_organisation_or_a_lead(app):
    """A table added later with a foreign key to organisations or leads must be handled by the merge:
    by the merge itself (identity's tables) or by a receiver its domain connects (when the app is
    created) to `organisations_merged`, or for a lead's rows by leads or a `leads_combined` receiver."""
    assert _pointing_at("organisations.id") == (
        organisations.ORGANISATION_REFERENCES | signals.moved_references(signals.organisations_merged))
    assert _pointing_at("leads.id") == lead_services.LEAD_REFERENCES | signals.moved_references(signals.leads_combined)


def test_people_import_no_domain_models():
    """The merge reaches the domains only through signals: app/people imports no domain's models."""
    import ast
    from pathlib import Path

    people = Path(organisations.__file__).parent
    domains = {"fairs", "leads", "live", "meetings", "notifications", "parks", "projects"}
    found = []
    for path in people.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[-1] == "models" and domains & set(parts):
                    found.append(f"{path.name}: {node.module}")
    assert found == []


def test_the_merge_commits_once_and_its_receivers_only_flush(world):
    commits = []
    listener = lambda session: commits.append(session)  # noqa: E731
    event.listen(Session, "after_commit", listener)
    try:
        organisations.merge_organisations(world["organiser"], world["survivor"].id, world["duplicate"].id)
    finally:
        event.remove(Session, "after_commit", listener)
    assert len(commits) == 1


# ---------------------------------------------------------------- places


def test_api_matches_a_chinese_city_and_answers_in_the_viewers_language(client, auth):
    organiser = make_organiser(locale="zh")
    response = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Baoding Park", "kind": "park", "city": "baoding", "country": "CN"})

    assert response.status_code == 201, response.json
    assert (response.json["division"], response.json["city"]) == ("130600", "保定市")
    english = client.get(f"/api/v1/organisations/{response.json['id']}", headers={
        **auth(make_organiser(organisation="Other Org", locale="en"))}).json
    assert (english["division"], english["city"]) == ("130600", "Baoding")


def test_api_takes_a_division_code_and_it_wins_over_the_city(client, auth):
    organiser = make_organiser()
    response = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Zhengding Park", "kind": "park", "division": "130123", "city": "Tangshan", "country": "CN"})

    assert response.status_code == 201, response.json
    assert (response.json["division"], response.json["city"]) == ("130123", "Zhengding County")
    assert _org("Zhengding Park").division.prefecture_code == "130100"


def test_api_refuses_a_chinese_city_that_matches_nothing_with_suggestions(client, auth):
    organiser = make_organiser()

    details = refused_organisation(client, auth(organiser), {
        "name": "Typo Bureau", "kind": "city_bureau", "city": "Shijazhuang", "country": "CN"})

    assert list(details["fields"]) == ["city"]
    assert details["suggestions"]["city"][0] == {"code": "130100", "name_zh": "石家庄市", "name_en": "Shijiazhuang"}
    assert len(details["suggestions"]["city"]) <= 3


def test_api_ambiguous_city_is_refused_listing_both(client, auth):
    organiser = make_organiser()

    response = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Qiaoxi Office", "kind": "city_bureau", "city": "桥西区", "country": "CN"})

    assert response.status_code == 422
    assert [s["code"] for s in response.json["error"]["details"]["suggestions"]["city"]] == ["130104", "130703"]


def test_api_unknown_division_code_and_a_division_abroad_are_refused(client, auth):
    organiser = make_organiser()
    unknown = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "X", "kind": "park", "division": "999999", "country": "CN"})
    abroad = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Y", "kind": "agency", "division": "130100", "country": "DE"})

    assert unknown.status_code == abroad.status_code == 422
    assert list(unknown.json["error"]["details"]["fields"]) == ["division"]
    assert list(abroad.json["error"]["details"]["fields"]) == ["division"]


def test_foreign_organisations_keep_a_free_city(client, auth):
    organiser = make_organiser()
    response = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Bavaria Agency", "kind": "agency", "city": "München", "country": "DE"})

    assert response.status_code == 201
    assert (response.json["division"], response.json["city"]) == (None, "München")


def test_patch_city_changes_the_division_and_list_filters_by_city(client, auth):
    organiser = make_organiser()
    org_id = client.post("/api/v1/organisations", headers=auth(organiser), json={
        "name": "Moving Park", "kind": "park", "city": "正定", "country": "CN"}).json["id"]

    in_sjz = client.get("/api/v1/organisations?city=Shijiazhuang", headers=auth(organiser)).json
    moved = client.patch(f"/api/v1/organisations/{org_id}", headers=auth(organiser), json={"city": "Handan"})
    in_handan = client.get("/api/v1/organisations?city=邯郸", headers=auth(organiser)).json

    assert [o["id"] for o in in_sjz["items"]] == [org_id]
    assert moved.status_code == 200 and moved.json["division"] == "130400"
    assert [o["id"] for o in in_handan["items"]] == [org_id]


def test_page_picker_lists_hebei_cities_and_counties_and_saves_the_choice(client, login):
    organiser = make_organiser()
    login(organiser)
    page = client.get("/organisations/new")
    assert '<select id="division_code" name="division_code"' in page.text
    assert 'value="130123"' in page.text and 'value="131100"' in page.text

    response = client.post("/organisations/new", data={
        "csrf_token": csrf_from(page.text), "name": "Zhengding Zone", "kind": "park", "division_code": "130123",
        "city": "", "country": "CN"})

    assert response.status_code == 302, response.text
    org = _org("Zhengding Zone")
    assert org.division_code == "130123"
    edit = client.get(f"/organisations/{org.id}/edit")
    assert 'value="130123" selected' in edit.text


def test_page_names_a_city_that_matches_nothing(client, login):
    organiser = make_organiser()
    login(organiser)
    before = organisation_count()

    response = client.post("/organisations/new", data={
        "csrf_token": _form(client, "/organisations/new"), "name": "Atlantis Office", "kind": "park",
        "division_code": "", "city": "Atlantis", "country": "CN"})

    assert response.status_code == 422
    assert 'id="city-error"' in response.text and "Atlantis" in response.text
    assert organisation_count() == before
