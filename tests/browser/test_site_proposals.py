"""A site proposal in the browser: the Zhangjiakou high-tech zone proposes one of its plots on its lead
for the ice-rink blanket from the lead's page; the presenter, Petr Novák, sees it on the lead and opens
the PDF; the city's page then says when he first opened it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CITY = "zjk-park@cloudfair.example"
PRESENTER = "p.novak@cloudfair.example"


def _lead_id(page) -> int:
    leads = page.request.get("/api/v1/leads?per_page=100").json()["items"]
    return next(lead["id"] for lead in leads if "ice-rink" in lead["project"].lower())


def test_a_city_sends_a_proposal_and_the_presenter_opens_it(page_as, live_server):
    city = page_as(CITY)
    lead_id = _lead_id(city)
    city.goto(f"/leads/{lead_id}")
    form = city.locator("#proposals form.card")
    expect(form.get_by_role("heading", name="Propose a site")).to_be_visible()
    form.locator('input[name="plot_ids"]').first.check()
    form.locator('textarea[name="proposal_note"]').fill("Ready for a visit in spring.")
    form.locator('[type="submit"]').click()
    expect(city.locator(".flash-success")).to_contain_text("The site proposal is sent")
    sent = city.locator("#proposals li").first
    expect(sent).to_contain_text("Not opened by the presenter yet.")
    pdf_url = sent.get_by_role("link").first.get_attribute("href")

    presenter = page_as(PRESENTER)
    presenter.goto(f"/leads/{lead_id}")
    expect(presenter.locator("#proposals li").first).to_contain_text("Proposal of")
    expect(presenter.locator("#proposals form")).to_have_count(0)  # presenters read, they do not propose
    opened = presenter.request.get(pdf_url)
    assert opened.status == 200 and opened.headers["content-type"] == "application/pdf"
    assert opened.body().startswith(b"%PDF")

    city.reload()
    expect(city.locator("#proposals li").first).to_contain_text("First opened by the presenter")
