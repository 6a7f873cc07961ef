"""Layout in a real browser: no page is wider than a 390 px phone (each role's pages on purpose here;
conftest.py also measures every page any browser test visits), the lead board says it has more
stages than fit and lets the keyboard reach each, the organisers' grouped navigation works by keyboard.

The pages are only looked at (the shared demo data is not changed). One browser context per person
and language visits all of that person's pages, so the measure stays cheap.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .language import HTML_LANG
from .layout import MEASURED, PHONE, too_wide
from .test_a11y import ATTENDEE, ORGANISER, PAGES, PRESENTER, where  # noqa: F401 (`where` is a fixture)
from .zh import merged, zh

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}

#: Pages the accessibility check does not visit, by person.
MORE = {
    ORGANISER: ["/organisations", "/people/invitations", "/audit", "/people/import", "/me/settings",
                "/me/calendar", "/notifications", "/", "/projects"],
    ATTENDEE: ["/", "/me/settings", "/projects"],
    PRESENTER: ["/", "/leads", "/projects", "/me/settings"],
}

def _paths(who, where) -> list[str]:  # noqa: F811 (the fixture's value)
    listed = [p.path(where) for p in PAGES if p.who == who]
    return listed + [p for p in MORE.get(who, []) if p not in listed]


def _measure(page, path: str, language: str, who: str | None) -> str | None:
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    page.wait_for_load_state("load")
    if who is not None:  # conftest's measure of every visited page need not do it again
        MEASURED.add((who, language, path))
    return too_wide(page, path, language)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("who", [None, ATTENDEE, PRESENTER, ORGANISER], ids=["anonymous", "attendee", "presenter",
                                                                           "organiser"])
def test_no_page_is_wider_than_a_phone(who, language, where, page_as, new_page):  # noqa: F811
    if who is None:
        page = new_page(viewport=PHONE, locale="zh-CN" if language == "zh" else "en-GB")
        paths = [p.path(where) for p in PAGES if p.who is None] + ["/password-reset"]
    else:
        page = page_as(who, language=language, viewport=PHONE)
        paths = _paths(who, where)
    wide = [problem for path in paths if (problem := _measure(page, path, language, who))]
    assert not wide, "\n".join(wide)


def test_the_board_says_it_scrolls_and_every_stage_is_reachable_by_keyboard(page_as):
    page = page_as(ORGANISER, viewport=LAPTOP)
    page.goto("/leads")
    board = page.locator(".board[role=region]")
    hint = page.locator("[data-stage-hint]")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("10 stages")
    assert board.evaluate("b => b.scrollWidth > b.clientWidth")  # more stages than fit …
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]  # … and the page stays put

    index = page.get_by_role("navigation", name=re.compile("stages")).get_by_role("link")
    expect(index).to_have_count(10)
    last = index.last
    name = last.inner_text()
    last.focus()
    page.keyboard.press("Enter")
    column = page.locator(".board .column").last
    expect(column.get_by_role("heading", level=2)).to_contain_text(name)
    page.wait_for_function("""() => {
        const b = document.querySelector('.board[role=region]').getBoundingClientRect();
        const c = document.querySelector('.board .column:last-child').getBoundingClientRect();
        return c.left >= b.left - 1 && c.right <= b.right + 1;
    }""")
    expect(page.locator(".board[role=region]")).to_have_class(re.compile("more-left"))
    # The board itself takes the focus, so arrow keys scroll it.
    assert board.get_attribute("tabindex") == "0"


def test_the_organisers_navigation_is_grouped_and_works_by_keyboard(page_as):
    page = page_as(ORGANISER, viewport=LAPTOP)
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    menus = nav.locator("details[data-nav-menu] > summary")
    expect(menus).to_have_count(3)
    visible_links = nav.locator("a:visible")
    assert visible_links.count() <= 8, [a.inner_text() for a in visible_links.all()]
    expect(nav.get_by_role("link", name="Audit log")).to_be_hidden()  # inside the closed People menu

    people = nav.locator("summary", has_text="People")
    for _ in range(30):  # Tab from the top of the page to the menu
        page.keyboard.press("Tab")
        if people.evaluate("s => s === document.activeElement"):
            break
    else:
        pytest.fail("the People menu is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(nav.get_by_role("link", name="Audit log")).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Organisations")).to_be_focused()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Audit log")).to_be_hidden()
    expect(people).to_be_focused()

    page.keyboard.press("Enter")
    nav.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Audit log")
    expect(nav.locator("summary.current", has_text="People")).to_have_count(1)


def test_the_chinese_menus_read_chinese(page_as):
    if not merged():
        pytest.skip("the Chinese catalogue is not compiled")
    page = page_as(ORGANISER, language="zh", viewport=PHONE)
    page.goto("/")
    nav = page.get_by_role("navigation", name=zh("Main"))
    summaries = [s.strip(" ▾") for s in nav.locator("details[data-nav-menu] > summary").all_inner_texts()]
    assert summaries == [zh("Fairs"), zh("People"), zh("Leads")]


def test_the_favicon_is_served(new_page):
    page = new_page()
    answer = page.request.get("/favicon.ico")
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/")
    page.goto("/")
    icon = page.locator('link[rel="icon"][type="image/svg+xml"]').get_attribute("href")
    assert page.request.get(icon).status == 200


def test_every_visited_page_is_measured_at_a_phones_width(browser, live_server):
    """conftest.py's measure: a page the test visited that is wider than a phone is named, with what
    sticks out; a download and a page that fits are not."""
    from .conftest import _measure_visited
    from .layout import html_page_visited

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    try:
        wide_page = ('<!doctype html><html><head><meta name="viewport" content="width=device-width"></head>'
                     '<body><select id="fairs"><option>' + "A very long fair name " * 12 + '</option></select></body></html>')
        context.route("**/layout-probe/wide*", lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=wide_page))
        context.route("**/layout-probe/narrow", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><p>Fits.</p>"))
        context.route("**/layout-probe/export.csv", lambda route: route.fulfill(
            status=200, content_type="text/csv", body="a,b\n"))
        visited: list[str] = []
        context.on("response", lambda response: (path := html_page_visited(response)) and visited.append(path))
        page = context.new_page()
        page.goto("/layout-probe/wide?tag=1")
        page.goto("/layout-probe/narrow")
        page.request.get("/layout-probe/export.csv")  # not a page visit
        assert visited == ["/layout-probe/wide?tag=1", "/layout-probe/narrow"]
        problems = _measure_visited(context, visited + visited)
        assert len(problems) == 1, problems
        assert problems[0].startswith("/layout-probe/wide?tag=1 (anonymous") and "select#fairs" in problems[0]
        assert _measure_visited(context, visited) == []  # measured once per person, language and page
    finally:
        context.close()
