"""Organisation names in the reader's language wherever they are shown: the organisation form (both
languages side by side), organisation pages, the leads board, a lead's page, the leads CSV, the live
room's questions and interests, invitation mails and flash messages; the demo names each organisation
in both languages."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app import bilingual
from app.accounts.models import Organisation
from app.extensions import db
from app.leads.services import record_interest
from app.live import services as live
from tests.conftest import csrf_from
from tests.factories import make_organiser, make_user, make_winter_pitch
from tests.i18n import zh

EXPIRES = datetime(2026, 12, 20, 8, 0, tzinfo=timezone.utc)
MARK_ZH = ('<span lang="zh-Hans">张家口市商务局</span> <small class="fallback-mark" '
           'title="Not available in your language">(in Chinese)</small>')


@pytest.fixture
def world():
    organiser = make_organiser(locale="en")
    pitch = make_winter_pitch(organiser)
    [rink], session = pitch["projects"], pitch["session"]
    # Zhangjiakou has only its Chinese name; Baoding has both.
    zjk = make_user("attendee", name="刘洋", organisation="张家口市商务局", city="张家口", locale="zh")
    bd = make_user("attendee", name="Gao Fei", organisation="Baoding Commerce Bureau", city="保定", locale="en")
    bd.organisation.name_zh, bd.organisation.name_en = "保定市商务局", "Baoding Commerce Bureau"
    db.session.commit()
    leads = {}
    for person, client_id in ((zjk, "org-i18n-0001"), (bd, "org-i18n-0002")):
        interest, _ = record_interest(person, session, {"project_id": rink.id, "level": "meeting",
                                                        "client_id": client_id})
        db.session.commit()
        leads[person.id] = interest.lead
    return {"organiser": organiser, "zjk": zjk, "bd": bd, "session": session, "leads": leads}


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_organisation_form_takes_the_name_in_both_languages_side_by_side(login_as):
    client = login_as(make_organiser(locale="en"))

    page = client.get("/organisations/new").text
    response = client.post("/organisations/new", data={
        "csrf_token": csrf_from(page), "name": "Langfang Commerce Bureau", "name_zh": "廊坊市商务局",
        "name_en": "Langfang Commerce Bureau", "kind": "city_bureau", "country": "CN", "city": "Langfang"})

    assert 'name="name_zh"' in page and 'name="name_en"' in page and 'lang="zh-Hans"' in page
    assert response.status_code == 302, response.text
    org = db.session.scalars(select(Organisation).where(Organisation.name == "Langfang Commerce Bureau")).one()
    assert (org.name_zh, org.name_en) == ("廊坊市商务局", "Langfang Commerce Bureau")
    edit = client.get(f"/organisations/{org.id}/edit").text
    assert 'value="廊坊市商务局"' in edit
    assert f"<h1>Langfang Commerce Bureau</h1>" in client.get(f"/organisations/{org.id}").text


def test_organisation_form_refuses_an_overlong_name_in_one_language_and_writes_nothing(login_as):
    client = login_as(make_organiser(locale="en"))

    page = client.get("/organisations/new").text
    response = client.post("/organisations/new", data={
        "csrf_token": csrf_from(page), "name": "Overlong Bureau", "name_zh": "长" * 201, "kind": "city_bureau",
        "country": "CN"})

    assert response.status_code == 422
    assert db.session.scalars(select(Organisation).where(Organisation.name == "Overlong Bureau")).first() is None


def test_organisation_pages_show_the_readers_language_and_mark_a_fallback(login_as, world):
    client = login_as(world["organiser"])
    zjk_org = world["zjk"].organisation

    listing = client.get("/organisations").text
    page = client.get(f"/organisations/{zjk_org.id}").text
    baoding = client.get(f"/organisations/{world['bd'].organisation.id}", headers={"Accept-Language": "zh"}).text

    assert MARK_ZH in listing and "Baoding Commerce Bureau</a>" in listing
    assert f"<h1>{MARK_ZH}</h1>" in page
    assert "<h1>Baoding Commerce Bureau</h1>" in baoding  # the organiser reads English (their setting)


def test_leads_board_and_lead_page_name_the_organisation_in_the_readers_language(login_as, world):
    organiser = login_as(world["organiser"])
    zjk_lead = world["leads"][world["zjk"].id]
    bd_lead = world["leads"][world["bd"].id]

    board = organiser.get("/leads").text
    lead_page = organiser.get(f"/leads/{zjk_lead.id}").text
    chinese_board = login_as(world["zjk"]).get("/leads").text

    assert MARK_ZH in board and "Baoding Commerce Bureau" in board
    assert MARK_ZH in lead_page
    assert "张家口市商务局" in chinese_board and "(in Chinese)" not in chinese_board
    assert f"/leads/{bd_lead.id}" not in chinese_board  # another organisation's lead stays out of sight


def test_leads_api_gives_organisation_i18n_and_another_organisation_sees_nothing_new(client, auth, world):
    bd_lead = world["leads"][world["bd"].id]

    own = client.get(f"/api/v1/leads/{bd_lead.id}", headers=auth(world["bd"]))
    other = client.get(f"/api/v1/leads/{bd_lead.id}", headers=auth(world["zjk"]))
    listed = client.get("/api/v1/leads", headers=auth(world["zjk"])).json

    assert own.status_code == 200, own.text
    assert own.json["organisation_i18n"] == {"zh": "保定市商务局", "en": "Baoding Commerce Bureau"}
    assert other.status_code in (403, 404)
    assert "保定市商务局" not in str(listed) and "Baoding" not in str(listed)


def test_leads_csv_names_organisations_in_the_readers_language(client, auth, world):
    english = _csv(client.get("/api/v1/leads.csv", headers={**auth(world["organiser"]), "Accept-Language": "en"}))
    chinese = _csv(client.get("/api/v1/leads.csv", headers={**auth(make_organiser(locale="zh")),
                                                            "Accept-Language": "zh"}))
    own = _csv(client.get("/api/v1/leads.csv", headers=auth(world["zjk"])))

    column = english[0].index("Organisation")
    assert sorted(row[column] for row in english[1:]) == ["Baoding Commerce Bureau", "张家口市商务局 (in Chinese)"]
    zh_column = chinese[0].index(zh("Organisation"))
    assert sorted(row[zh_column] for row in chinese[1:]) == sorted(["保定市商务局", "张家口市商务局"])
    assert [row[own[0].index(zh("Organisation"))] for row in own[1:]] == ["张家口市商务局"]  # not Baoding's


def test_live_questions_and_interests_carry_the_organisation_in_both_languages(world):
    session = world["session"]
    session.status = "live"
    db.session.commit()

    result = live.ask(world["bd"], session.id, "When can we visit?", "org-i18n-q-001")
    question = next(iter(live.list_questions(world["organiser"], session)))

    assert question["organisation_i18n"] == {"zh": "保定市商务局", "en": "Baoding Commerce Bureau"}
    assert question["organisation"] == "Baoding Commerce Bureau"
    assert result is not None


def test_invitation_mail_names_the_organisation_in_the_recipients_language(client, auth):
    from app.mail import render

    person = make_user("attendee", organisation="Baoding Commerce Bureau", locale="zh")
    person.organisation.name_zh, person.organisation.name_en = "保定市商务局", "Baoding Commerce Bureau"
    db.session.commit()

    _, zh_text, zh_html = render("invitation", "zh", person=person, inviter=None, link="https://x.example/i", expires_at=EXPIRES)
    _, en_text, _ = render("invitation", "en", person=person, inviter=None, link="https://x.example/i", expires_at=EXPIRES)
    foreign = make_user("attendee", organisation="Weber Consulting GmbH")
    _, foreign_zh, _ = render("invitation", "zh", person=foreign, inviter=None, link="https://x.example/i", expires_at=EXPIRES)

    assert "保定市商务局" in zh_text and "Baoding" not in zh_text and "保定市商务局" in zh_html
    assert "Baoding Commerce Bureau" in en_text and "保定" not in en_text
    assert "Weber Consulting GmbH " + zh("(in English)") in foreign_zh


def test_every_demo_organisation_has_both_names(app):
    from app import demo

    demo.seed("demo-password")

    names = [(o.name, o.name_zh, o.name_en) for o in db.session.scalars(select(Organisation))]
    assert names and all(zh_name and en_name for _, zh_name, en_name in names), names
    assert bilingual.pair(db.session.scalars(select(Organisation).where(
        Organisation.name == "Weber Consulting GmbH")).one(), "name") == {"zh": "韦伯咨询有限公司",
                                                                          "en": "Weber Consulting GmbH"}


def test_people_and_registrations_in_the_api_carry_the_organisation_in_both_languages(client, auth, world):
    from app.fairs import services as fairs

    bd, organiser, session = world["bd"], world["organiser"], world["session"]
    fairs.register(bd, session.fair_id)
    both = {"zh": "保定市商务局", "en": "Baoding Commerce Bureau"}
    [person] = [p for p in client.get(f"/api/v1/users?per_page=100", headers=auth(organiser)).get_json()["items"]
                if p["id"] == bd.id]
    assert (person["organisation"], person["organisation_i18n"]) == ("Baoding Commerce Bureau", both)
    [registration] = client.get(f"/api/v1/fairs/{session.fair_id}/registrations", headers=auth(organiser)).get_json()["items"]
    assert registration["organisation_i18n"] == both
    [presenter] = client.get(f"/api/v1/fairs/{session.fair_id}").get_json()["sessions"][0]["presenters"]
    assert set(presenter["organisation_i18n"]) == {"zh", "en"}
    # Another attendee does not get the organiser's list of registrations.
    assert client.get(f"/api/v1/fairs/{session.fair_id}/registrations", headers=auth(world["zjk"])).status_code in (403, 404)
