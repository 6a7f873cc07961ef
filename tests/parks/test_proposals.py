"""Site proposals: who may propose on which lead, every validation error, the bilingual PDF's text
and numbers to the cent, the presenter told and their first opening recorded, site visits."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.leads.models import ExchangeRate, Lead, LeadDocument, LeadEvent, SiteProposal
from app.notifications.models import MailMessage, Notification
from app.parks import services
from app.types import utcnow
from tests.factories import make_organiser, make_presenter, make_project, make_user
from tests.parks.helpers import make_city, make_park, make_plot

EUR, USD = Decimal("7.85"), Decimal("7.20")


@pytest.fixture
def deal(app):
    """Petr Novak's ice-rink blanket (EUR), a lead of Zhangjiakou's bureau on it; Zhangjiakou's park with
    two plots and five incentives (two not counted, one expired); Tangshan's bureau with a park of its own."""
    organiser = make_organiser()
    agent = make_presenter(name="Petr Novak", country="CZ")
    project = make_project(agent, title="Ice-rink blanket", currency="EUR")
    city = make_city(name="Liu Yang")
    colleague = make_user("attendee", name="Wang Fang", organisation=city.organisation.name)
    park = make_park(city, contact_name="Ms Zhao", contact_phone="+86 313 555 0100",
                     contact_email="invest@zjk.example")
    a = make_plot(city, park, name="A-1", area_mu="100", price_per_mu="200000")
    b = make_plot(city, park, name="B-7", area_mu="37.5", price_per_mu="186400", land_use="logistics")
    taken = make_plot(city, park, name="C-2", status="taken")
    today = utcnow().date()
    for body in ({"kind": "land_price", "rate": "30", "conditions_i18n": {"en": "Above CNY 100 m", "zh": "投资一亿元以上"}},
                 {"kind": "subsidy", "amount": "500000", "currency": "CNY"},
                 {"kind": "subsidy", "amount": "10000", "currency": "USD"},
                 {"kind": "tax", "rate": "50"},
                 {"kind": "land_price", "rate": "20", "valid_until": (today - timedelta(days=1)).isoformat()}):
        services.add_incentive(city, park.id, body)
    other = make_city(organisation="Tangshan Commerce Bureau", name="Zhou Qiang")
    other_park = make_park(other, name_i18n={"en": "Caofeidian", "zh": "曹妃甸"}, division="130200")
    other_plot = make_plot(other, other_park, name="T-1")
    lead = Lead(project_id=project.id, organisation_id=city.organisation_id, owner_id=city.id,
                stage="partner_identified")
    db.session.add(lead)
    db.session.add_all([ExchangeRate(currency="EUR", cny_per_unit=EUR), ExchangeRate(currency="USD", cny_per_unit=USD)])
    db.session.commit()
    return {"organiser": organiser, "agent": agent, "project": project, "city": city, "colleague": colleague,
            "park": park, "a": a, "b": b, "taken": taken, "other": other, "other_plot": other_plot, "lead": lead}


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (SiteProposal, LeadDocument, Notification, MailMessage))


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    return re.sub(r"\s+", " ", text)


# ---------------------------------------------------------------- the costs, to the cent


# Plot A-1: 100 mu × CNY 200,000 = 20,000,000.00; less 30% (6,000,000.00), CNY 500,000 and USD 10,000
# (× 7.20 = 72,000.00): 13,428,000.00 yuan; ÷ 7.85 = 1,710,573.2484… → EUR 1,710,573.25.
# Plot B-7: 37.5 mu × CNY 186,400 = 6,990,000.00; less 2,097,000.00, 500,000 and 72,000: 4,321,000.00
# yuan; ÷ 7.85 = 550,445.8598… → EUR 550,445.86. The tax rebate is listed, the expired reduction left out.
def test_a_city_proposes_two_plots_and_the_pdf_states_each_in_both_languages_to_the_cent(deal, client, auth):
    answer = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                         json={"plot_ids": [deal["a"].id, deal["b"].id], "note": "Both ready next spring."})

    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["currency"] == "EUR"
    assert [p["name"] for p in body["plots"]] == ["A-1", "B-7"]
    assert body["costs"] == [
        {"plot_id": deal["a"].id, "land_cny": "20000000.00", "reductions_cny": "6572000.00",
         "net_cny": "13428000.00", "net": "1710573.25"},
        {"plot_id": deal["b"].id, "land_cny": "6990000.00", "reductions_cny": "2669000.00",
         "net_cny": "4321000.00", "net": "550445.86"},
    ]
    assert body["opened_at"] is None and body["visited_on"] is None

    pdf = client.get(body["pdf_url"], headers=auth(deal["city"]))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for words in ("选址建议书 Site proposal", "Ice-rink blanket", "冰雪装备产业园 / Ice and Snow Equipment Park",
                  "面积 Area 100.00 亩 mu (6.67 公顷 ha)", "面积 Area 37.50 亩 mu (2.50 公顷 ha)",
                  "用地性质 Land use 工业用地 / Industrial land", "物流仓储用地 / Logistics and warehousing land",
                  "地价（每亩） Price per mu CNY 200,000.00", "供电 Power 1,000 kVA", "供水 Water 500 吨/日 t/day",
                  "交付日期 Ready on 2027-03-01", "投资一亿元以上", "Above CNY 100 m",
                  "100.00 × 200,000.00 = CNY 20,000,000.00", "37.50 × 186,400.00 = CNY 6,990,000.00",
                  "− CNY 6,000,000.00", "− USD 10,000.00",
                  "首年净成本（人民币） Net first-year cost (CNY) CNY 13,428,000.00",
                  "首年净成本 Net first-year cost EUR 1,710,573.25", "首年净成本 Net first-year cost EUR 550,445.86",
                  "1 EUR = 7.850000 CNY", "不计入（取决于企业情况） not counted (depends on the company)",
                  "Ms Zhao · +86 313 555 0100 · invest@zjk.example", "Both ready next spring."):
        assert words in text, words
    assert "20%" not in text  # the expired reduction


def test_the_proposal_is_a_document_of_the_lead_with_a_history_row(deal, client, auth):
    answer = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["colleague"]),
                         json={"plot_ids": [deal["b"].id]})

    assert answer.status_code == 201
    lead = client.get(f"/api/v1/leads/{deal['lead'].id}", headers=auth(deal["city"])).json
    assert [(d["kind"], d["mime"]) for d in lead["documents"]] == [("site_proposal", "application/pdf")]
    assert lead["history"][-1]["note"] == "Site proposal sent: B-7"
    listed = client.get(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["agent"]))
    assert [p["id"] for p in listed.json["items"]] == [answer.json["id"]]


def test_the_presenter_is_told_in_app_and_by_mail_in_their_language(deal, client, auth):
    deal["agent"].locale = "zh"
    db.session.commit()

    client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                json={"plot_ids": [deal["a"].id]})

    note = db.session.scalars(select(Notification).where(Notification.user_id == deal["agent"].id)).one()
    assert note.kind == "site_proposal" and note.link == f"/leads/{deal['lead'].id}#proposals"
    assert note.title_en == "Site proposal for “Ice-rink blanket” from Zhangjiakou Commerce Bureau"
    assert note.title == note.title_zh and note.title_zh.startswith("选址建议书")
    assert note.body_en == "1 plot(s) proposed: A-1. The PDF is on the lead."
    mail = db.session.scalars(select(MailMessage).where(MailMessage.to_address == deal["agent"].email)).one()
    proposal = db.session.scalars(select(SiteProposal)).one()
    assert mail.subject.endswith("发来选址建议书") and f"/site-proposals/{proposal.id}/pdf" in mail.text_body
    assert "/api/v1/" not in mail.text_body  # the mail's links are pages: someone signed out signs in first


def test_the_mailed_pdf_link_signs_in_first_then_opens_the_pdf(deal, client, auth, login_as):
    made = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                       json={"plot_ids": [deal["a"].id]}).json
    address = f"/site-proposals/{made['id']}/pdf"

    signed_out = client.get(address)
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert "next=" in signed_out.headers["Location"]
    other = login_as(deal["other"]).get(address)
    assert other.status_code == 404
    assert db.session.get(SiteProposal, made["id"]).opened_at is None

    opened = login_as(deal["agent"]).get(address)
    assert opened.status_code == 200 and opened.mimetype == "application/pdf"
    assert opened.data.startswith(b"%PDF")
    proposal = db.session.get(SiteProposal, made["id"])
    db.session.refresh(proposal)
    assert proposal.opened_at is not None


def test_the_presenters_first_opening_is_recorded_and_nobody_elses(deal, client, auth):
    made = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                       json={"plot_ids": [deal["a"].id]}).json
    document_url = f"/api/v1/lead-documents/{made['document_id']}/download"

    client.get(made["pdf_url"], headers=auth(deal["city"]))
    client.get(document_url, headers=auth(deal["organiser"]))
    assert db.session.get(SiteProposal, made["id"]).opened_at is None

    first = client.get(document_url, headers=auth(deal["agent"]))
    proposal = db.session.get(SiteProposal, made["id"])
    db.session.refresh(proposal)
    opened = proposal.opened_at
    again = client.get(made["pdf_url"], headers=auth(deal["agent"]))
    db.session.refresh(proposal)

    assert (first.status_code, again.status_code) == (200, 200)
    assert opened is not None and proposal.opened_at == opened
    listed = client.get(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"])).json
    assert listed["items"][0]["opened_at"] == opened.isoformat()


# ---------------------------------------------------------------- who may, what is refused


def test_another_citys_person_gets_404_and_the_presenter_403_and_nothing_is_written(deal, client, auth):
    before = counts()
    body = {"plot_ids": [deal["a"].id]}
    other = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["other"]), json=body)
    other_own = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["other"]),
                            json={"plot_ids": [deal["other_plot"].id]})
    presenter = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["agent"]), json=body)
    listing = client.get(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["other"]))

    assert (other.status_code, other_own.status_code, presenter.status_code, listing.status_code) == (404, 404, 403, 404)
    assert other.json["error"]["code"] == "not_found" and presenter.json["error"]["code"] == "forbidden"
    assert counts() == before


def test_another_citys_person_cannot_open_or_mark_a_proposal(deal, client, auth):
    made = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                       json={"plot_ids": [deal["a"].id]}).json

    pdf = client.get(made["pdf_url"], headers=auth(deal["other"]))
    visit = client.post(f"/api/v1/site-proposals/{made['id']}/visit", headers=auth(deal["other"]),
                        json={"visited_on": utcnow().date().isoformat()})
    presenter_visit = client.post(f"/api/v1/site-proposals/{made['id']}/visit", headers=auth(deal["agent"]),
                                  json={"visited_on": utcnow().date().isoformat()})

    assert (pdf.status_code, visit.status_code, presenter_visit.status_code) == (404, 404, 403)
    assert db.session.get(SiteProposal, made["id"]).visited_on is None


@pytest.mark.parametrize("plots", ["none", "four", "foreign", "taken", "twice", "unknown"])
def test_refused_plot_lists_name_plot_ids_and_write_nothing(deal, client, auth, plots):
    extra = [make_plot(deal["city"], deal["park"], name=f"X-{n}") for n in range(2)]
    choice = {"none": [], "four": [deal["a"].id, deal["b"].id, extra[0].id, extra[1].id],
              "foreign": [deal["a"].id, deal["other_plot"].id], "taken": [deal["taken"].id],
              "twice": [deal["a"].id, deal["a"].id], "unknown": [2_000_000]}[plots]
    before = counts()

    answer = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                         json={"plot_ids": choice})

    assert answer.status_code == 422, answer.json
    assert list(answer.json["error"]["details"]["fields"]) == ["plot_ids"]
    assert counts() == before


def test_the_service_refuses_zero_and_four_plots_in_its_own_words(deal):
    from app.errors import ValidationFailed
    from app.parks import proposals

    extra = [make_plot(deal["city"], deal["park"], name=f"X-{n}") for n in range(2)]
    for plot_ids in ([], [deal["a"].id, deal["b"].id, extra[0].id, extra[1].id]):
        with pytest.raises(ValidationFailed) as refused:
            proposals.propose(deal["city"], deal["lead"].id, {"plot_ids": plot_ids})
        assert refused.value.fields == {"plot_ids": ["Propose one to three plots."]}
    with pytest.raises(ValidationFailed) as refused:
        proposals.propose(deal["city"], deal["lead"].id, {"plot_ids": [deal["other_plot"].id]})
    assert refused.value.fields == {"plot_ids": [
        f"Plot {deal['other_plot'].id} is not one of Zhangjiakou Commerce Bureau's plots."]}


def test_without_the_font_a_proposal_is_refused_with_503_and_nothing_written(deal, client, auth, app, tmp_path):
    app.config["PROPOSAL_FONT"] = str(tmp_path / "missing.ttc")
    before = counts()

    answer = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                         json={"plot_ids": [deal["a"].id]})

    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "font_missing" and "PROPOSAL_FONT" in answer.json["error"]["message"]
    assert counts() == before


def test_a_missing_rate_leaves_the_investors_figure_out_and_says_why(deal, client, auth):
    project = deal["project"]
    project.currency = "GBP"
    db.session.commit()

    answer = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                         json={"plot_ids": [deal["a"].id]})

    assert answer.json["currency"] == "GBP"
    assert answer.json["costs"][0]["net_cny"] == "13428000.00" and answer.json["costs"][0]["net"] is None
    text = pdf_text(client.get(answer.json["pdf_url"], headers=auth(deal["city"])).data)
    assert "无法计算 cannot be given (缺少汇率 no exchange rate for GBP)" in text


def test_an_organiser_proposes_the_leads_organisations_plots_only(deal, client, auth):
    own = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["organiser"]),
                      json={"plot_ids": [deal["a"].id]})
    foreign = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["organiser"]),
                          json={"plot_ids": [deal["other_plot"].id]})
    assert (own.status_code, foreign.status_code) == (201, 422)


# ---------------------------------------------------------------- site visits


def test_a_site_visit_is_recorded_on_or_after_the_proposal_and_not_in_the_future(deal, client, auth):
    made = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                       json={"plot_ids": [deal["a"].id]}).json
    today = utcnow().date()
    url = f"/api/v1/site-proposals/{made['id']}/visit"

    early = client.post(url, headers=auth(deal["city"]), json={"visited_on": (today - timedelta(days=2)).isoformat()})
    future = client.post(url, headers=auth(deal["city"]), json={"visited_on": (today + timedelta(days=2)).isoformat()})
    wrong = client.post(url, headers=auth(deal["city"]), json={"visited_on": "soon"})
    done = client.post(url, headers=auth(deal["city"]), json={"visited_on": today.isoformat()})

    assert [a.status_code for a in (early, future, wrong, done)] == [422, 422, 422, 200]
    assert done.json["visited_on"] == today.isoformat()
    event = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == deal["lead"].id)
                               .order_by(LeadEvent.id.desc())).first()
    assert event.note == f"Site visit on {today.isoformat()} (proposal {made['id']})"


# ---------------------------------------------------------------- the lead's page


def test_the_leads_page_proposes_a_site_and_the_presenter_opens_it(deal, login_as):
    from tests.conftest import csrf_from

    city = login_as(deal["city"])
    page = city.get(f"/leads/{deal['lead'].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Propose a site" in html and f'id="propose-plot-{deal["a"].id}"' in html
    assert f'id="propose-plot-{deal["taken"].id}"' not in html and f'id="propose-plot-{deal["other_plot"].id}"' not in html

    refused = city.post(f"/leads/{deal['lead'].id}/site-proposals",
                        data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    assert "Propose one to three plots." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SiteProposal.id))) == 0

    sent = city.post(f"/leads/{deal['lead'].id}/site-proposals", follow_redirects=True,
                     data={"csrf_token": csrf_from(html), "plot_ids": [str(deal["a"].id), str(deal["b"].id)],
                           "proposal_note": "Spring"})
    shown = sent.get_data(as_text=True)
    assert "The site proposal is sent" in shown and "Proposal of A-1, B-7" in shown
    assert "Not opened by the presenter yet." in shown
    proposal = db.session.scalars(select(SiteProposal)).one()
    assert (proposal.plot_ids, proposal.note) == ([deal["a"].id, deal["b"].id], "Spring")

    presenter = login_as(deal["agent"])
    presenter_page = presenter.get(f"/leads/{deal['lead'].id}").get_data(as_text=True)
    assert "Proposal of A-1, B-7" in presenter_page and "Propose a site" not in presenter_page
    assert f'href="/site-proposals/{proposal.id}/pdf"' in presenter_page
    assert presenter.get(f"/site-proposals/{proposal.id}/pdf").status_code == 200
    assert "First opened by the presenter" in city.get(f"/leads/{deal['lead'].id}").get_data(as_text=True)

    visit = city.post(f"/site-proposals/{proposal.id}/visit", follow_redirects=True,
                      data={"csrf_token": csrf_from(html), "visited_on": utcnow().date().isoformat()})
    assert "The site visit is recorded." in visit.get_data(as_text=True)


def test_another_citys_person_cannot_post_the_page_forms(deal, login_as):
    from tests.conftest import csrf_from

    other = login_as(deal["other"])
    token = csrf_from(other.get("/parks/manage").get_data(as_text=True))
    answer = other.post(f"/leads/{deal['lead'].id}/site-proposals",
                        data={"csrf_token": token, "plot_ids": [str(deal["other_plot"].id)]})
    assert answer.status_code == 404
    assert db.session.scalar(select(func.count(SiteProposal.id))) == 0


def test_the_history_rows_of_a_proposal_read_in_the_readers_language(app):
    from flask_babel import force_locale

    from app.leads.queries.board import history_note

    with app.test_request_context("/"), force_locale("zh"):
        assert history_note("Site proposal sent: A-1, B-7", "proposal") == "已发送选址建议书：A-1, B-7"
        assert history_note("Site visit on 2027-01-25 (proposal 4)", "proposal") == "2027-01-25 实地考察（选址建议书 4）"


def _images(data: bytes) -> list[tuple[int, int]]:
    """The pixel sizes of the images drawn on the PDF's pages."""
    import pypdfium2.raw as pdfium_c

    document = pdfium.PdfDocument(data)
    try:
        return [tuple(o.get_px_size()) for i in range(len(document))
                for o in document[i].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])]
    finally:
        document.close()


def test_a_plot_outlined_on_the_parks_plan_comes_with_its_plan_excerpt(deal, client, auth):
    import io

    from PIL import Image

    plan = io.BytesIO()
    Image.new("RGB", (800, 600), (240, 240, 230)).save(plan, format="PNG")
    plan.seek(0)
    services.set_plan(deal["city"], deal["park"].id, plan, "plan.png")
    services.set_outline(deal["city"], deal["a"].id, [[100, 100], [300, 100], [300, 200], [100, 200]])

    outlined = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                           json={"plot_ids": [deal["a"].id]}).json
    plain = client.post(f"/api/v1/leads/{deal['lead'].id}/site-proposals", headers=auth(deal["city"]),
                        json={"plot_ids": [deal["b"].id]}).json

    outlined_pdf = client.get(outlined["pdf_url"], headers=auth(deal["city"])).data
    # The outline's box (200 × 100) with half its longer side around it, within the image: 400 × 300.
    assert _images(outlined_pdf) == [(400, 300)]
    assert "规划图节选 Plan excerpt" in pdf_text(outlined_pdf)
    assert _images(client.get(plain["pdf_url"], headers=auth(deal["city"])).data) == []
