"""Layout in a real browser: no page is wider than a 390 px phone, the lead board says it has more
stages than fit and lets the keyboard reach each, the organisers' grouped navigation works by keyboard.

The pages are only looked at (the shared demo data is not changed). One browser context per person
and language visits all of that person's pages, so the measure stays cheap.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .language import HTML_LANG
from .test_a11y import ATTENDEE, ORGANISER, PAGES, PRESENTER, where  # noqa: F401 (`where` is a fixture)
from .zh import merged, zh

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}

#: Pages the accessibility check does not visit, by person.
MORE = {
    ORGANISER: ["/organisations", "/people/invitations", "/audit", "/people/import", "/me/settings",
                "/me/calendar", "/notifications", "/", "/projects"],
    ATTENDEE: ["/", "/me/settings", "/projects"],
    PRESENTER: ["/", "/leads", "/projects", "/me/settings"],
}

#: What each element that sticks out past the right edge is, for the failure message.
WIDER = """(limit) => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > limit + 1) {
      let inside = el.parentElement, clipped = false;
      while (inside && inside !== document.body) {  // inside a box that scrolls or clips: fine
        const style = getComputedStyle(inside);
        if (/(auto|scroll|hidden|clip)/.test(style.overflowX)) { clipped = true; break; }
        inside = inside.parentElement;
      }
      if (!clipped) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
        " → " + Math.round(box.right) + "px");
    }
  }
  return out.slice(0, 8);
}"""


def _paths(who, where) -> list[str]:  # noqa: F811 (the fixture's value)
    listed = [p.path(where) for p in PAGES if p.who == who]
    return listed + [p for p in MORE.get(who, []) if p not in listed]


def _measure(page, path: str, language: str) -> str | None:
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE["width"]:
        return None
    return f"{path} ({language}) is {width}px wide: {', '.join(page.evaluate(WIDER, PHONE['width']))}"


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
    wide = [problem for path in paths if (problem := _measure(page, path, language))]
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
