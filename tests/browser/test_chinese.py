"""One whole journey in the Chinese interface: a city official of Shijiazhuang, from logging in to the monthly report.

Every heading, label and button is looked up in the Chinese catalogue by its English msgid (tests/browser/zh.py),
so the test follows the translators' wording and fails, naming the msgid, where a page still speaks English.
Project, fair and session titles are the demo's Chinese ones (the demo is written in both languages).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .demo import MEMBRANE_PROJECT_ZH as MEMBRANE_PROJECT, MEMBRANE_SESSION_ZH as MEMBRANE_SESSION, europe_fair, membrane
from .language import BROWSER_LOCALE, set_language
from .zh import require_merged_catalogue, zh

pytestmark = pytest.mark.browser

SJZ = "sjz@cloudfair.example"  # Zhao Min 赵敏, Shijiazhuang Commerce Bureau: registered for the Europe fair


def chinese(page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def nav(page):
    return page.get_by_role("navigation", name=zh("Main"))


def test_a_city_official_goes_from_the_agenda_to_the_monthly_report_in_chinese(new_page, live_server, screenshot):
    require_merged_catalogue()
    tag = uuid.uuid4().hex[:6]
    fair = europe_fair(live_server)
    pitch = membrane(live_server)
    page = new_page(locale=BROWSER_LOCALE["zh"])  # a browser set up for Chinese

    # Logging in: the form speaks Chinese before anyone is known.
    page.goto("/")
    chinese(page)
    nav(page).get_by_role("link", name=zh("Log in")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Log in"))
    page.get_by_label(zh("E-mail")).fill(SJZ)
    page.get_by_label(zh("Password")).fill("demo")
    page.get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("button", name=zh("Log out"))).to_be_visible()
    set_language(page, "zh")  # the account may have been switched to English by another test; this saves Chinese
    chinese(page)

    # The fairs, then the agenda of the Europe fair.
    nav(page).get_by_role("link", name=zh("Fairs"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Upcoming online investment fairs"))
    page.get_by_role("link", name=fair["title_i18n"]["zh"]).click()
    expect(page.get_by_role("heading", level=2, name=zh("Agenda"))).to_be_visible()
    expect(page.locator(".actions .ok")).to_have_text(zh("You are registered."))
    expect(page.get_by_role("button", name=zh("Withdraw"))).to_be_visible()
    row = page.get_by_role("row").filter(has_text=MEMBRANE_SESSION)
    expect(row.get_by_role("link", name=zh("Live room"))).to_be_visible()

    # The live room: ask, then say how interested Shijiazhuang is in the membranes.
    row.get_by_role("link", name=zh("Live room: %(title)s", title=MEMBRANE_SESSION)).click()
    expect(page).to_have_url(re.compile(rf"/sessions/{pitch['id']}/live$"))
    chinese(page)
    expect(page.locator("#live-conn")).to_have_attribute("data-state", "connected")
    expect(page.locator("#live-conn")).to_contain_text(zh("connected"))
    expect(page.get_by_role("heading", level=2, name=zh("Questions"))).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=zh("Projects pitched"))).to_be_visible()
    question = f"膜组件能否在栾城试点？({tag})"
    page.get_by_label(zh("Your question"), exact=True).fill(question)
    page.get_by_role("button", name=zh("Ask"), exact=True).click()
    expect(page.locator("#questions .question").filter(has_text=question)).to_be_visible()

    form = page.locator(f'.interest-form[data-project-id="{pitch["project_id"]}"]')
    expect(form.get_by_role("group", name=zh("I'm interested in “%(title)s”", title=MEMBRANE_PROJECT))).to_be_visible()
    form.get_by_label(zh("How interested?")).select_option(label=zh("Wants a site visit"))
    note = f"石家庄循环化工园区可安排考察 ({tag})"
    form.get_by_label(zh("Note (optional)")).fill(note)
    form.get_by_role("button", name=zh("I'm interested")).click()
    sent = form.locator(".my-interests li").filter(has_text=note)
    expect(sent.locator(".item-state")).to_have_text(zh("sent", context="outbox"))
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "live-room-zh")

    # The lead that interest made, found from the main navigation.
    nav(page).get_by_role("link", name=zh("Leads"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(zh("Leads"))
    column = page.locator('[data-column="partner_identified"]')
    expect(column.get_by_role("heading", level=2)).to_contain_text(zh("Partner identified"))
    card = column.locator(".lead-card").filter(has=page.get_by_role("link", name=MEMBRANE_PROJECT, exact=True))
    expect(card).to_have_count(1)
    card.get_by_role("link", name=MEMBRANE_PROJECT, exact=True).click()
    expect(page.get_by_role("heading", level=2, name=zh("Timeline"))).to_be_visible()
    interest = page.locator(".tl-interest").filter(has_text=note)
    expect(interest).to_contain_text(zh("Interest: %(level)s", level=zh("Wants a site visit")))

    # The monthly report: the new lead moves on, with what happened and what comes next.
    nav(page).get_by_role("link", name=zh("Monthly report"), exact=True).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(zh("Monthly progress report"))
    month = heading.locator(".muted").inner_text()
    assert re.fullmatch(r"\d{4}年\d{1,2}月", month), f"the report's month reads {month!r}"
    report = page.locator("fieldset.report-row").filter(has=page.get_by_role("link", name=MEMBRANE_PROJECT))
    expect(report).to_have_count(1)
    report.get_by_label(zh("Stage")).select_option(label=zh("Preliminary intent"))
    report.get_by_label(zh("Next action"), exact=True).fill((date.today() + timedelta(days=14)).isoformat())
    report.get_by_label(zh("Progress")).fill(f"已与比方视频会谈，准备实地考察 ({tag})")
    page.get_by_role("button", name=zh("File the report")).click()

    expect(page.locator(".flash-success")).to_have_text(
        zh("Your report for %(month)s is filed: %(num)d lead updated.", n=1, month=month))
    chinese(page)
    page.goto("/leads")
    expect(page.locator('[data-column="preliminary_intent"] .lead-card').filter(has_text=MEMBRANE_PROJECT)).to_have_count(1)
