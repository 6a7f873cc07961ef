"""The lead pages through the Flask test client: what each role sees, moves by form, the monthly
report, the dashboard's numbers, signing ceremonies, recommendations, and escaping."""

from __future__ import annotations

import io
from datetime import timedelta
import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.leads import queries, services as lead_services
from app.leads.queries import board, numbers
from app.leads.models import ExchangeRate, Lead, LeadEvent, ProgressReport, Signing
from app.leads.services import record_interest
from app.live import services as live
from tests.conftest import csrf_from
from tests.leads.conftest import make_world
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.projects import samples


@pytest.fixture
def world():
    return make_world(session_title="Winter pitch", rates=True)


@pytest.fixture
def login(login_as):
    """Log a user in through the login form, each in a client of their own."""
    return login_as


def _lead(world, who, project, level="info", note="", n=[0]):
    n[0] += 1
    interest, _ = record_interest(world[who], world["session"], {
        "project_id": world[project].id, "level": level, "note": note, "client_id": f"pages-{n[0]:06d}"})
    db.session.commit()
    return interest.lead


def _events(lead) -> int:
    return db.session.scalar(select(func.count(LeadEvent.id)).where(LeadEvent.lead_id == lead.id))


def _stage(lead) -> str:
    db.session.expire_all()
    return db.session.get(Lead, lead.id).stage


def _flashes(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', html, re.S)]


# ---------------------------------------------------------------- the board, per role


def test_board_shows_only_the_leads_in_scope_for_each_role(login, world):
    _lead(world, "zjk", "rink")
    _lead(world, "ts", "ecmo")

    own = login(world["zjk"]).get("/leads")
    assert own.status_code == 200
    assert "Ice-rink blanket" in own.text and "张家口市商务局" in own.text
    assert "Portable ECMO" not in own.text and "唐山市商务局" not in own.text
    assert "move-next" in own.text  # attendees move their own leads

    presenter = login(world["agent"]).get("/leads")
    assert "<h1>Interest in my projects" in presenter.text
    assert "Ice-rink blanket" in presenter.text and "Portable ECMO" not in presenter.text
    assert "/progress" not in presenter.text and 'draggable="true"' not in presenter.text
    assert "data-board" not in presenter.text

    everything = login(world["organiser"]).get("/leads")
    assert "Ice-rink blanket" in everything.text and "Portable ECMO" in everything.text


def test_board_marks_contested_projects_for_organisers_only_and_filters(login, world):
    _lead(world, "zjk", "rink")
    _lead(world, "ts", "rink")
    _lead(world, "ts", "ecmo")
    organiser = login(world["organiser"])
    assert organiser.get("/leads").text.count("badge-contested") == 2
    tangshan = organiser.get("/leads?city=Tangshan").text
    assert tangshan.count('class="lead-card') == 2 and "张家口市商务局" not in tangshan.split('class="board"')[1]
    sector = organiser.get("/leads?sector=biomedicine_health").text
    assert sector.count('class="lead-card') == 1
    assert "/api/v1/leads.csv?sector=biomedicine_health" in sector
    assert "badge-contested" not in login(world["ts"]).get("/leads").text


def test_board_columns_follow_the_pipeline_order_with_dropped_apart(login, world):
    lead = _lead(world, "zjk", "rink")
    lead_services.progress(world["zjk"], lead.id, {"stage": "dropped", "note": "Budget moved"})
    html = login(world["zjk"]).get("/leads").text
    columns = re.findall(r'data-column="(\w+)"', html)
    assert columns == ["seeking_partner", "partner_identified", "preliminary_intent", "follow_up", "intent_reached",
                       "negotiating", "signed", "performing", "construction", "operating", "dropped"]
    dropped = html.split('data-column="dropped"')[1]
    assert "Ice-rink blanket" in dropped and "<details" in html.split('data-column="dropped"')[0][-200:]


# ---------------------------------------------------------------- moving by form


def test_moving_a_card_by_its_form_moves_the_lead(login, world):
    lead = _lead(world, "zjk", "rink")
    client = login(world["zjk"])
    token = csrf_from(client.get("/leads").text)
    response = client.post(f"/leads/{lead.id}/progress", data={
        "csrf_token": token, "stage": "preliminary_intent", "next": "/leads?city=Zhangjiakou"})
    assert response.status_code == 302 and response.headers["Location"] == "/leads?city=Zhangjiakou"
    assert _stage(lead) == "preliminary_intent"
    page = client.get("/leads?city=Zhangjiakou").text
    assert "“Ice-rink blanket” (张家口市商务局 (in Chinese)) moved to Preliminary intent." in _flashes(page)
    column = page.split('data-column="preliminary_intent"')[1].split("data-column=")[0]
    assert "Ice-rink blanket" in column


def test_a_refused_move_shows_the_message_and_changes_nothing(login, world):
    lead = _lead(world, "zjk", "rink")
    lead_services.progress(world["zjk"], lead.id, {"stage": "negotiating", "note": "Term sheet"})
    before = _events(lead)
    client = login(world["zjk"])
    token = csrf_from(client.get("/leads").text)

    back = client.post(f"/leads/{lead.id}/progress", data={"csrf_token": token, "stage": "follow_up"},
                       follow_redirects=True)
    assert "Only an organiser moves a lead back, with a reason." in _flashes(back.text)
    signed = client.post(f"/leads/{lead.id}/progress", data={"csrf_token": token, "stage": "signed"},
                         follow_redirects=True)
    assert any("contracted amount" in m or "agreement" in m for m in _flashes(signed.text))
    assert (_stage(lead), _events(lead)) == ("negotiating", before)


def test_dropping_from_the_board_asks_for_the_reason_on_the_lead_page(login, world):
    lead = _lead(world, "zjk", "rink")
    client = login(world["zjk"])
    token = csrf_from(client.get("/leads").text)
    response = client.post(f"/leads/{lead.id}/progress", data={"csrf_token": token, "stage": "dropped"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/leads/{lead.id}?stage=dropped#progress"
    page = client.get(response.headers["Location"]).text
    assert '<option selected value="dropped">' in page or '<option value="dropped" selected>' in page
    assert _stage(lead) == "partner_identified"
    done = client.post(f"/leads/{lead.id}/progress", data={
        "csrf_token": token, "from": "lead", "stage": "dropped", "note": "Budget moved to elderly care"})
    assert done.status_code == 302 and done.headers["Location"] == f"/leads/{lead.id}"
    assert _stage(lead) == "dropped"


def test_presenters_and_other_organisations_cannot_move_by_form(login, world):
    lead = _lead(world, "zjk", "rink")
    for who, status in (("agent", 403), ("ts", 404)):
        client = login(world[who])
        token = csrf_from(client.get("/leads").text)
        response = client.post(f"/leads/{lead.id}/progress", data={"csrf_token": token, "stage": "follow_up"})
        assert response.status_code == status
    assert _stage(lead) == "partner_identified"


# ---------------------------------------------------------------- the lead page


def test_lead_page_shows_interests_questions_documents_and_every_history_row(login, world):
    lead = _lead(world, "zjk", "rink", level="meeting", note="For the Chongli towns")
    live.ask(world["zjk_colleague"], world["session"].id, "How long does installing take?", "pages-question-01")
    live.ask(world["ts"], world["session"].id, "Tangshan asks something else", "pages-question-02")
    db.session.commit()
    lead_services.add_document(world["zjk"], lead.id, io.BytesIO(samples.pdf_bytes("mou")), "合作备忘录.pdf", "other")
    lead_services.progress(world["zjk"], lead.id, {"stage": "follow_up", "note": "Site visit planned",
                                             "amount": "11000000", "currency": "EUR"})
    html = login(world["zjk"]).get(f"/leads/{lead.id}").text
    assert "Interest: Wants a meeting" in html and "in “Winter pitch”, before the pitch" in html  # no "minute 0"
    assert "For the Chongli towns" in html
    assert "How long does installing take?" in html and "Tangshan asks something else" not in html
    assert re.search(r'href="/api/v1/lead-documents/\d+/download" download>合作备忘录.pdf<', html)
    history = queries.history(lead)
    assert html.count('class="tl tl-history"') == len(history) == 3
    assert "Partner identified → Follow-up" in html and "Site visit planned" in html and "EUR 11,000,000" in html
    assert 'id="progress"' in html and 'name="owner_id"' in html
    assert "Wang Fang" in html.split('name="owner_id"')[1]  # a colleague may be made responsible


def test_presenter_reads_the_lead_page_without_forms_and_others_get_404(login, world):
    lead = _lead(world, "zjk", "rink")
    presenter = login(world["agent"]).get(f"/leads/{lead.id}")
    assert presenter.status_code == 200 and 'id="progress"' not in presenter.text and "<form method=\"post\" action=\"/leads" not in presenter.text
    assert login(world["other_agent"]).get(f"/leads/{lead.id}").status_code == 404
    assert login(world["ts"]).get(f"/leads/{lead.id}").status_code == 404


def test_lead_page_progress_errors_are_shown_beside_their_fields(login, world):
    lead = _lead(world, "zjk", "rink")
    client = login(world["zjk"])
    token = csrf_from(client.get(f"/leads/{lead.id}").text)
    response = client.post(f"/leads/{lead.id}/progress", data={
        "csrf_token": token, "from": "lead", "stage": "partner_identified", "amount": "lots", "currency": "EUR"})
    assert response.status_code == 422
    amount_field = response.text.split('id="amount"')[1][:600]
    assert 'id="amount-error"' in amount_field
    assert _events(lead) == 1


def test_owner_and_documents_by_form(login, world):
    lead = _lead(world, "zjk", "rink")
    client = login(world["zjk"])
    token = csrf_from(client.get(f"/leads/{lead.id}").text)
    response = client.post(f"/leads/{lead.id}/owner", data={"csrf_token": token, "owner_id": world["zjk_colleague"].id})
    assert response.status_code == 302
    assert db.session.get(Lead, lead.id).owner_id == world["zjk_colleague"].id
    refused = client.post(f"/leads/{lead.id}/owner", data={"csrf_token": token, "owner_id": world["ts"].id})
    assert refused.status_code == 422 and 'id="owner_id-error"' in refused.text
    upload = client.post(f"/leads/{lead.id}/documents", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "agreement", "file": (io.BytesIO(samples.pdf_bytes("deal")), "协议.pdf")},
        follow_redirects=True)
    assert "“协议.pdf” is attached." in _flashes(upload.text)
    bad = client.post(f"/leads/{lead.id}/documents", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "agreement", "file": (io.BytesIO(samples.html_bytes()), "a.pdf")},
        follow_redirects=True)
    assert any(m.startswith("This file is an HTML document") for m in _flashes(bad.text))
    assert len(queries.documents(lead)) == 1


def test_script_in_a_note_is_escaped(login, world):
    evil = "<script>alert('x')</script>"
    lead = _lead(world, "zjk", "rink", note=evil)
    lead_services.progress(world["zjk"], lead.id, {"note": evil})
    for who in ("zjk", "organiser", "agent"):
        html = login(world[who]).get(f"/leads/{lead.id}").text
        assert evil not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


# ---------------------------------------------------------------- the monthly report


def _report_form(html: str) -> dict:
    """The report form's fields as the browser would send them untouched."""
    data = {"csrf_token": csrf_from(html)}
    for name, value in re.findall(r'<input[^>]*name="(rows-\d+-\w+)"[^>]*value="([^"]*)"', html):
        data[name] = unescape(value)
    for name, body in re.findall(r'<select[^>]*name="(rows-\d+-\w+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        data[name] = next(g for g in chosen.groups() if g)
    return data


def _row_of(html: str, lead_id: int) -> int:
    return int(re.search(rf'name="rows-(\d+)-lead_id"[^>]*value="{lead_id}"', html).group(1))


def test_monthly_report_is_all_or_nothing_and_sends_only_changed_leads(login, world):
    a = _lead(world, "zjk", "rink")
    b = _lead(world, "zjk", "ecmo")
    _lead(world, "ts", "ecmo")
    client = login(world["zjk"])
    page = client.get("/leads/report").text
    assert page.count('class="report-row') == 2 and "唐山市商务局" not in page
    data = _report_form(page)
    ra, rb = _row_of(page, a.id), _row_of(page, b.id)
    before = (_events(a), _events(b))

    bad = client.post("/leads/report", data={**data, f"rows-{ra}-stage": "follow_up", f"rows-{ra}-note": "Visit planned",
                                             f"rows-{rb}-amount": "lots", f"rows-{rb}-currency": "EUR"})
    assert bad.status_code == 422
    assert "Nothing was saved" in bad.text
    row_b = bad.text.split(f'value="{b.id}"')[1].split("</fieldset>")[0]
    assert 'id="rows-%d-amount-error"' % rb in row_b
    assert db.session.scalar(select(func.count(ProgressReport.id))) == 0
    assert (_stage(a), _events(a), _events(b)) == ("partner_identified", *before)

    nothing = client.post("/leads/report", data=data)
    assert nothing.status_code == 422 and "Nothing changed" in nothing.text

    good = client.post("/leads/report", data={**data, f"rows-{ra}-stage": "follow_up", f"rows-{ra}-note": "Visit planned"},
                       follow_redirects=True)
    assert good.status_code == 200 and any("1 lead updated" in m for m in _flashes(good.text))
    report = db.session.scalar(select(ProgressReport))
    assert [e.lead_id for e in db.session.scalars(select(LeadEvent).where(LeadEvent.report_id == report.id))] == [a.id]
    assert (_stage(a), _events(b)) == ("follow_up", before[1])

    missing = login(world["organiser"]).get("/leads/reports").text
    assert "唐山市商务局" in missing.split('id="missing-h"')[1].split('id="filed-h"')[0]
    assert "张家口市商务局" in missing.split('id="filed-h"')[1] and "1 lead updated" in missing


# ---------------------------------------------------------------- the dashboard


def test_dashboard_numbers_equal_the_summary_and_pipeline_stats(login, world):
    a = _lead(world, "zjk", "rink")
    _lead(world, "ts", "ecmo", level="intent")
    c = _lead(world, "ts", "rink")
    lead_services.add_document(world["zjk"], a.id, io.BytesIO(samples.pdf_bytes("a")), "a.pdf", "agreement")
    lead_services.progress(world["zjk"], a.id, {"stage": "signed", "amount": "11500000.50", "currency": "EUR"})
    lead_services.progress(world["ts"], c.id, {"stage": "dropped", "note": "No site"})
    stats = queries.pipeline_stats(world["organiser"], "stage")
    summary = numbers.summary(world["organiser"], numbers.preset("year"))

    html = login(world["organiser"]).get("/dashboard").text
    headline = html.split('class="headline"')[1].split("</p>")[0]
    assert 'data-signed-count="1"' in headline and summary["signed"]["count"] == 1
    signed_cny = (Decimal("11500000.50") * Decimal("7.85")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert f'data-signed-cny="{signed_cny}"' in headline and summary["signed"]["amount_cny"] == str(signed_cny)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", headline.split(">", 1)[1])).strip()
    year = numbers.preset("year")
    assert text == (f"{year.first} – {year.last}: 1 signed project, CNY {board.billions(signed_cny)} billion; "
                    f"of which 1 foreign-funded, USD 12.5 million.")
    # The pipeline now: the signed lead at its contract, the open ECMO at the project's amount.
    total = Decimal(stats["totals"]["investment_cny"])
    assert total == (signed_cny + Decimal("80000000") * Decimal("7.20")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    stage_chart = html.split('data-chart="stage"')[1].split("</svg>")[0]
    counts = dict(re.findall(r'data-key="(\w+)">.*?data-count="(\d+)"', stage_chart, re.S))
    assert {k: int(v) for k, v in counts.items() if int(v)} == {g["key"]: g["count"] for g in stats["groups"]}
    for name, value in stats["funnel"].items():
        assert re.search(rf'data-key="{name}">.*?data-count="{value}"', html.split('data-chart="funnel"')[1], re.S)
    assert re.search(r'<rect class="bar"[^>]*width="260"', stage_chart)  # the longest bar is full width
    assert 'href="/api/v1/leads.csv"' in html
    assert f'href="/api/v1/reports/province.xlsx?from={year.first}&amp;to={year.last}"' in html

    fair_only = login(world["organiser"]).get(f"/dashboard?fair_id={world['fair'].id}").text
    assert f'href="/api/v1/leads.csv?fair_id={world["fair"].id}"' in fair_only


def test_dashboard_keeps_rates_and_stall_limits(login, world):
    client = login(world["organiser"])
    token = csrf_from(client.get("/dashboard").text)
    saved = client.post("/dashboard/rates", data={"csrf_token": token, "currency": "cad", "cny_per_unit": "5.25"},
                        follow_redirects=True)
    assert "1 CAD = 5.25 CNY is saved." in _flashes(saved.text)
    assert queries.rates()["CAD"] == Decimal("5.25")
    refused = client.post("/dashboard/rates", data={"csrf_token": token, "currency": "USD", "cny_per_unit": "-1"},
                          follow_redirects=True)
    assert any("positive decimal" in m for m in _flashes(refused.text))
    limit = client.post("/dashboard/stall-limits", data={"csrf_token": token, "stage": "follow_up", "days": "21"},
                        follow_redirects=True)
    assert "Leads in Follow-up stall after 21 days." in _flashes(limit.text)
    assert queries.stall_limits()["follow_up"] == 21
    bad = client.post("/dashboard/stall-limits", data={"csrf_token": token, "stage": "follow_up", "days": "0"},
                      follow_redirects=True)
    assert any("1 to 365" in m for m in _flashes(bad.text)) and queries.stall_limits()["follow_up"] == 21


# ---------------------------------------------------------------- signing ceremonies


def test_signing_form_records_the_agreement_and_the_page_lists_the_total(login, world, request):
    request_finalizers = []
    request.addfinalizer(lambda: [stop() for stop in request_finalizers])
    lead = _lead(world, "ts", "rink", level="intent")
    signed_already = _lead(world, "zjk", "ecmo")
    signing = make_session(world["fair"], world["organiser"], title="Signing ceremony", kind="signing",
                           starts_at=world["fair"].starts_at.replace(hour=12), track="cities")
    organiser = login(world["organiser"])
    early = organiser.get(f"/sessions/{signing.id}/signings").text
    assert "The ceremony has not begun" in early and f'<option value="{lead.id}">' not in early
    traveller = time_machine.travel(signing.starts_at + timedelta(minutes=1), tick=True)
    traveller.start()
    request_finalizers.append(traveller.stop)
    page = organiser.get(f"/sessions/{signing.id}/signings").text
    assert f'<option value="{lead.id}">' in page and f'<option value="{signed_already.id}">' in page
    token = csrf_from(page)
    missing = organiser.post(f"/sessions/{signing.id}/signings", content_type="multipart/form-data", data={
        "csrf_token": token, "lead_id": str(lead.id), "amount": "44000000", "currency": "EUR"})
    assert missing.status_code == 422 and 'id="file-error"' in missing.text
    done = organiser.post(f"/sessions/{signing.id}/signings", content_type="multipart/form-data", data={
        "csrf_token": token, "lead_id": str(lead.id), "amount": "44,000,000", "currency": "eur",
        "file": (io.BytesIO(samples.pdf_bytes("signed")), "协议.pdf")}, follow_redirects=True)
    assert "Signed: “Ice-rink blanket” with 唐山市商务局 (in Chinese), EUR 44,000,000." in _flashes(done.text)
    assert _stage(lead) == "signed" and db.session.scalar(select(func.count(Signing.id))) == 1
    assert f'<option value="{lead.id}">' not in done.text  # signed leads leave the list

    document_id = db.session.scalar(select(Signing.document_id))
    own = login(world["ts"]).get(f"/sessions/{signing.id}/signings").text
    assert "Ice-rink blanket" in own and "EUR 44,000,000" in own and "≈ CNY 345,400,000" in own
    assert f'href="/api/v1/lead-documents/{document_id}/download"' in own
    # Another organisation sees that the ceremony signed it, not the amount, and no link it could not open.
    attendee = login(world["zjk"]).get(f"/sessions/{signing.id}/signings").text
    assert "Ice-rink blanket" in attendee and "唐山市商务局" in attendee
    assert "44,000,000" not in attendee and "345,400,000" not in attendee
    assert "/download" not in attendee and "without 1 agreement of another organisation" in attendee
    assert "Record an agreement" not in attendee
    fair_page = login(world["zjk"]).get(f"/fairs/{world['fair'].id}").text
    assert f'href="/sessions/{signing.id}/signings"' in fair_page


# ---------------------------------------------------------------- recommendations and the demand profile


def test_recommendations_on_the_fair_page_with_reasons_in_words(login, world):
    client = login(world["zjk"])
    token = csrf_from(client.get("/me/organisation").text)
    saved = client.post("/me/organisation", data={"csrf_token": token, "demand_sectors": ["ice_snow"],
                                                  "demand_countries": ["CZ"], "demand_note": "Chongli"})
    assert saved.status_code == 302
    bad = client.post("/me/organisation", data={"csrf_token": token, "demand_countries": ["XX"]})
    assert bad.status_code == 422 and 'id="demand_countries-error"' in bad.text

    html = client.get(f"/fairs/{world['fair'].id}").text
    block = html.split('id="recommended-h"')[1].split("</section>")[0]
    assert "Ice-rink blanket" in block and "Portable ECMO" not in block
    assert "matches your sector: Ice &amp; snow industry" in block
    assert "from a country you seek: Czechia" in block
    assert "Session: <strong>Winter pitch</strong>" in block

    assert 'id="recommended-h"' not in login(world["organiser"]).get(f"/fairs/{world['fair'].id}").text
    invitees = login(world["organiser"]).get(f"/sessions/{world['session'].id}/invitees").text
    assert "张家口市商务局" in invitees and "seeks the sector Ice &amp; snow industry" in invitees
