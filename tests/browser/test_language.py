"""The two interface languages in Chromium: the footer's switch, the browser's preference, the account's setting.

Which words a page uses comes from the catalogue (tests/browser/zh.py reads it), so these tests check the
mechanics by the page's `lang`, the switch's `aria-current` and the addresses; the journey in Chinese
(test_chinese.py) reads the words.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .demo import europe_fair
from .language import HTML_LANG, set_language

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
TANGSHAN = "ts@cloudfair.example"


def shows(page, language: str) -> None:
    """The page is drawn in `language`: <html lang> says so and the switch marks that language as current."""
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    current = page.locator('form.language-switch button[aria-current="true"]')
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("value", language)


def test_a_visitor_switches_to_chinese_and_it_stays_on_the_next_pages(new_page):
    page = new_page()  # an English-speaking browser
    page.goto("/")
    shows(page, "en")

    set_language(page, "zh")

    shows(page, "zh")
    expect(page).to_have_url(re.compile(r"/$"))  # back where the switch was used
    page.locator('nav a[href="/login"]').click()
    shows(page, "zh")
    set_language(page, "en")
    shows(page, "en")
    expect(page).to_have_url(re.compile(r"/login$"))


@pytest.mark.parametrize("page", [{"locale": "zh-CN"}], indirect=True)
def test_a_browser_that_prefers_chinese_gets_chinese_without_choosing(page):
    page.goto("/login")

    shows(page, "zh")


def test_the_choice_is_kept_on_the_account_and_beats_the_browsers(new_page, log_in):
    first = log_in(new_page(), ORGANISER, language="zh")
    shows(first, "zh")
    set_language(first, "en")
    shows(first, "en")

    # Another browser, one that prefers Chinese: the account's English wins once signed in.
    second = new_page(locale="zh-CN")
    second.goto("/login")
    shows(second, "zh")
    log_in(second, ORGANISER, language=None)
    shows(second, "en")

    set_language(second, "zh")
    third = log_in(new_page(), ORGANISER, language=None)  # an English browser this time
    shows(third, "zh")


def test_the_switch_keeps_the_address_and_its_query(page_as):
    page = page_as(TANGSHAN)
    page.goto("/leads?stalled=no")
    expect(page.locator("#f-stalled")).to_have_value("no")

    set_language(page, "zh")

    expect(page).to_have_url(re.compile(r"/leads\?stalled=no$"))
    expect(page.locator("#f-stalled")).to_have_value("no")
    shows(page, "zh")
    set_language(page, "en")


def test_a_visitor_can_switch_language_on_an_agenda_another_visitor_just_saw(new_page, live_server):
    """The anonymous agenda is served from a page cache, so its switch form cannot carry this visitor's CSRF token."""
    fair = europe_fair(live_server)
    earlier = new_page()
    earlier.goto(f"/fairs/{fair['id']}")  # fills the page cache
    shows(earlier, "en")

    page = new_page()
    page.goto(f"/fairs/{fair['id']}")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/language")) as answer:
        page.locator('form.language-switch button[value="zh"]').click()

    assert answer.value.status == 302, f"the switch answered {answer.value.status}"
    shows(page, "zh")
