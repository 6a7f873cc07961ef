"""The pipeline in the browser: a city drags a card on its board, a responsible person files the monthly
report, the organiser reads the dashboard's charts.

Runs against the real server with the demo province (`live_server`), whose database lives for the whole
session, so each journey uses an account no other journey moves: Cangzhou (cz) drags its
partner-identified lead, Langfang (lf) reports on its preliminary-intent lead.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from app.leads.queries.board import billions

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
CANGZHOU = "cz@cloudfair.example"  # Chen Tao: "Wearable diagnostic devices", partner identified
LANGFANG = "lf@cloudfair.example"  # Feng Yu: "Digital health scanning equipment", preliminary intent


def column(page, stage: str):
    return page.locator(f'[data-column="{stage}"]')


def card(page, title: str):
    return page.locator(".lead-card").filter(has=page.get_by_role("link", name=title, exact=True))


def test_attendee_drags_a_card_to_the_next_column_and_it_stays_there(page_as):
    title = "Wearable diagnostic devices"
    page = page_as(CANGZHOU)
    page.goto("/leads")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Leads")
    lead = card(page, title)
    expect(lead).to_have_count(1)
    expect(column(page, "partner_identified").locator(".lead-card")).to_contain_text([title])
    expect(page.locator(".lead-card")).to_have_count(1)  # Cangzhou sees its own lead only

    # Back is refused for a city: the server's message shows and the card goes home.
    with page.expect_response(lambda r: r.request.method == "POST" and "/progress" in r.url) as refused:
        lead.drag_to(column(page, "seeking_partner"))
    assert refused.value.status == 403
    status = page.locator(".board-status")
    expect(status).to_have_text("Only an organiser moves a lead back, with a reason.")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(column(page, "partner_identified").locator(".lead-card")).to_have_count(1)
    expect(column(page, "seeking_partner").locator(".lead-card")).to_have_count(0)

    with page.expect_response(lambda r: r.request.method == "POST" and "/progress" in r.url) as moved:
        lead.drag_to(column(page, "preliminary_intent"))
    assert moved.value.status == 201
    expect(status).to_have_text(f"{title} moved to Preliminary intent.")
    expect(column(page, "preliminary_intent").locator(".lead-card")).to_have_count(1)
    expect(column(page, "preliminary_intent").locator(".count")).to_have_text("1")
    expect(lead.locator("button.move-next")).to_have_text("→ Follow-up")

    page.reload()
    expect(column(page, "preliminary_intent").locator(".lead-card")).to_have_count(1)
    expect(column(page, "preliminary_intent")).to_contain_text(title)
    expect(column(page, "partner_identified").locator(".lead-card")).to_have_count(0)
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.locator(".tl-history").last).to_contain_text("Partner identified → Preliminary intent")


def test_responsible_person_files_the_monthly_report(page_as):
    title = "Digital health scanning equipment"
    next_action = (date.today() + timedelta(days=20)).isoformat()
    page = page_as(LANGFANG)
    page.goto("/")
    page.get_by_role("link", name="Monthly report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Monthly progress report")
    row = page.locator("fieldset.report-row").filter(has=page.get_by_role("link", name=title))
    expect(row).to_have_count(1)
    row.get_by_label("Stage").select_option(label="Follow-up")
    row.get_by_label("Next action").fill(next_action)
    row.get_by_label("Progress").fill("Video call with the scanner maker; samples on their way to the Langfang park.")
    page.get_by_role("button", name="File the report").click()
    expect(page.locator(".flash-success")).to_contain_text("is filed: 1 lead updated.")

    page.goto("/leads")
    lead = card(page, title)
    expect(column(page, "follow_up")).to_contain_text(title)
    expect(lead).to_contain_text(f"Next action: {next_action}")

    organiser = page_as(ORGANISER)
    organiser.goto("/leads/reports")
    filed = organiser.locator(".filed-reports")
    expect(filed).to_contain_text("Langfang Commerce Bureau")
    expect(organiser.locator(".missing-reports")).not_to_contain_text("Langfang Commerce Bureau")


def test_organiser_dashboard_draws_its_charts_and_the_headline_matches_the_api(page_as, screenshot):
    page = page_as(ORGANISER)
    page.goto("/leads")
    expect(page.locator(".lead-card").first).to_be_visible()
    expect(page.locator(".badge-contested").first).to_be_visible()  # two cities pursue the rink, the ECMO …
    screenshot(page, "board-en")

    page.locator(".lead-card").filter(has_text="Tangshan Commerce Bureau").get_by_role(
        "link", name="Wastewater-treatment membrane technology").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wastewater-treatment membrane technology")
    expect(page.locator(".tl-interest")).to_contain_text("Ready to negotiate (intent)")
    expect(page.get_by_role("link", name=re.compile(r"agreement\.pdf$"))).to_be_visible()
    screenshot(page, "lead-en")

    page.get_by_role("navigation", name="Main").locator("summary", has_text="Leads").click()  # the Leads menu
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The province's numbers")
    summary = page.request.get("/api/v1/stats/summary").json()  # this year, as the page by default
    signed = summary["signed"]
    headline = page.locator(".headline")
    expect(headline.locator(".headline-signed")).to_have_text(str(signed["count"]))
    expect(headline.locator(".headline-foreign")).to_have_text(str(signed["foreign_count"]))
    expect(headline.locator(".headline-amount")).to_have_text(f"CNY {billions(signed['amount_cny'])} billion")
    by_city = page.locator("table.by-city tbody tr")
    expect(by_city).to_have_count(len(summary["by_city"]))
    stats = page.request.get("/api/v1/stats/pipeline").json()
    stage_bars = page.locator('svg[data-chart="stage"] rect.bar')
    expect(stage_bars).to_have_count(10)
    counts = {g["key"]: g["count"] for g in stats["groups"]}
    for n in range(10):
        bar = stage_bars.nth(n)
        key = bar.locator("xpath=..").get_attribute("data-key")
        assert int(bar.get_attribute("data-count")) == counts.get(key, 0)
        assert (float(bar.get_attribute("width")) > 0) == (counts.get(key, 0) > 0)
    expect(page.locator('svg[data-chart="funnel"] rect.bar')).to_have_count(5)
    expect(page.get_by_role("link", name="Download the leads as CSV (Excel)")).to_have_attribute("href", "/api/v1/leads.csv")
    workbook = page.get_by_role("link", name="Download the workbook (Excel)")
    expect(workbook).to_have_attribute("href", re.compile(r"^/api/v1/reports/province\.xlsx\?from=\d{4}-01&to=\d{4}-12$"))
    screenshot(page, "dashboard-en")


def test_organiser_reads_a_period_in_chinese_and_opens_a_number_to_its_rows(page_as, screenshot):
    """The department's question, "what did we sign these months, and which are they?", in Chinese."""
    page = page_as(ORGANISER, language="zh")
    page.goto("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("全省数据")
    today = date.today()
    first = f"{today.year - 1}-{today.month:02d}"
    last = f"{today.year}-{today.month:02d}"
    page.get_by_label("期间", exact=True).select_option("range")
    page.get_by_label("起始月份").fill(first)
    page.get_by_label("截止月份").fill(last)
    page.get_by_role("button", name="查看").click()
    expect(page.locator(".headline")).to_contain_text(f"{first} 至 {last}")
    summary = page.request.get(f"/api/v1/stats/summary?from={first}&to={last}").json()
    assert summary["signed"]["count"] > 0, "the demo has signings in the last year"
    expect(page.locator(".headline-signed")).to_have_text(str(summary["signed"]["count"]))
    expect(page.locator(".headline")).to_contain_text("亿元")
    expect(page.locator("table.by-month tbody tr")).to_have_count(13)
    screenshot(page, "dashboard-period-zh")

    page.locator(".headline-signed").click()
    expect(page).to_have_url(re.compile(r"/leads\?.*counted=signed"))
    expect(page.locator(".number-filter")).to_contain_text(f"{first} 至 {last} 签约的项目")
    cards = page.locator(".lead-card")
    expect(cards).to_have_count(summary["signed"]["count"])
    rows = page.request.get(f"/api/v1/leads?from={first}&to={last}&counted=signed").json()
    shown = {int(cards.nth(n).get_attribute("data-lead-id")) for n in range(cards.count())}
    assert shown == {row["id"] for row in rows["items"]}
