"""axe-core on every main page, as the person who uses it, in English and for the busiest pages in Chinese.

A serious or critical violation fails the test and names the rule, its help and the failing nodes; milder
findings are printed (run with -s to read them). The pages are only looked at, so these tests change nothing
in the shared demo data, apart from the live room's head count while a page is connected. Pages with `shots`
are also saved to docs/screenshots/ once checked: the Chinese ones and the English ones no journey takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pytest
from playwright.sync_api import expect

from .a11y import check_a11y, run_axe
from .demo import europe_fair, membrane
from .language import BROWSER_LOCALE, HTML_LANG
from .zh import merged, zh

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
ATTENDEE = "zjk-park@cloudfair.example"  # Sun Hao, Zhangjiakou high-tech zone: registered for the Europe fair
PRESENTER = "a.peeters@cloudfair.example"


@dataclass(frozen=True)
class Where:
    """The ids a page address needs, asked of the API once per module."""
    fair: int
    session: int
    project: int
    presenter: int
    series: int
    lead: int


@pytest.fixture(scope="module")
def where(live_server, browser, log_in) -> Where:
    pitch = membrane(live_server)
    context = browser.new_context(base_url=live_server.url)
    try:
        page = log_in(context.new_page(), ORGANISER, language=None)  # the organiser's view of the API
        leads = page.request.get("/api/v1/leads?per_page=100").json()["items"]
        series = page.request.get("/api/v1/series").json()
    finally:
        context.close()
    [lead] = [lead for lead in leads if lead["project_id"] == pitch["project_id"]
              and lead["organisation_i18n"]["en"].startswith("Tangshan")]
    series_items = series["items"] if isinstance(series, dict) else series
    return Where(fair=pitch["fair_id"], session=pitch["id"], project=pitch["project_id"],
                 presenter=pitch["presenters"]["An Peeters"], series=series_items[0]["id"], lead=lead["id"])


def _live(page):
    expect(page.locator("#live-conn")).to_have_attribute("data-state", "connected")


def _charts(page):
    expect(page.locator('svg[data-chart="stage"] rect.bar')).to_have_count(10)


def _previews(page):
    page.wait_for_function("""() => [...document.querySelectorAll("img.preview")]
        .filter(img => img.getBoundingClientRect().top < innerHeight)
        .every(img => img.complete && img.naturalWidth > 0)""")


@dataclass(frozen=True)
class Page:
    name: str
    who: str | None
    path: Callable[[Where], str]
    ready: Callable | None = None
    #: The page's own heading in English (a regular expression), to be sure axe looks at the right page.
    heading: str = ""
    #: Languages to save a screenshot in, as docs/screenshots/<name>-<language>.png.
    shots: tuple[str, ...] = ()
    #: Scroll this element to the top before the screenshot.
    scroll_to: str | None = None


PAGES = [
    Page("fairs", None, lambda w: "/", heading=r"fair", shots=("en", "zh")),
    Page("agenda", None, lambda w: f"/fairs/{w.fair}", heading=r"Europe online investment fair", shots=("zh",),
         scroll_to="#agenda-h"),
    Page("login", None, lambda w: "/login", heading=r"Log in", shots=("zh",)),
    Page("fair-form", ORGANISER, lambda w: "/fairs/new", heading=r"New fair", shots=("en", "zh")),
    Page("session-form", ORGANISER, lambda w: f"/fairs/{w.fair}/sessions/new", heading=r"New session"),
    Page("series-list", ORGANISER, lambda w: "/series", heading=r"series"),
    Page("series-form", ORGANISER, lambda w: "/series/new", heading=r"New series"),
    Page("series", ORGANISER, lambda w: f"/series/{w.series}", heading=r"Hebei cloud investment fair"),
    Page("project", PRESENTER, lambda w: f"/projects/{w.project}", heading=r"Wastewater-treatment membrane"),
    Page("review-queue", ORGANISER, lambda w: "/review", _previews, heading=r"Material to review", shots=("zh",)),
    Page("presenter", ATTENDEE, lambda w: f"/presenters/{w.presenter}", heading=r"An Peeters", shots=("en",)),
    Page("my-profile", PRESENTER, lambda w: "/me/profile"),
    Page("live-room", ATTENDEE, lambda w: f"/sessions/{w.session}/live", _live, heading=r"Belgian wastewater"),
    Page("moderation", ORGANISER, lambda w: f"/sessions/{w.session}/moderate", _live, heading=r"Belgian wastewater",
         shots=("zh",)),
    Page("projector", PRESENTER, lambda w: f"/sessions/{w.session}/projector", _live, heading=r"Belgian wastewater"),
    Page("board", ORGANISER, lambda w: "/leads", heading=r"Leads", shots=("zh",)),
    Page("board-attendee", ATTENDEE, lambda w: "/leads", heading=r"Leads"),
    Page("lead", ORGANISER, lambda w: f"/leads/{w.lead}", heading=r"Wastewater-treatment membrane", shots=("zh",)),
    Page("report", ATTENDEE, lambda w: "/leads/report", heading=r"Monthly progress report", shots=("en", "zh")),
    Page("reports", ORGANISER, lambda w: "/leads/reports"),
    Page("dashboard", ORGANISER, lambda w: "/dashboard", _charts, heading=r"numbers", shots=("zh",)),
    Page("notifications", ATTENDEE, lambda w: "/notifications", heading=r"Notifications", shots=("en", "zh")),
    Page("calendar", ATTENDEE, lambda w: "/me/calendar", heading=r"calendar"),
    Page("demand", ATTENDEE, lambda w: "/me/organisation"),
]
IN_CHINESE = {p.name for p in PAGES if "zh" in p.shots} | {"live-room", "board-attendee", "projector"}
CASES = [pytest.param(p, "en", id=f"{p.name}-en") for p in PAGES] + [
    pytest.param(p, "zh", id=f"{p.name}-zh") for p in PAGES if p.name in IN_CHINESE
]


def _open(spec: Page, language: str, where: Where, page_as, new_page):
    if spec.who is None:  # a visitor's language comes from the browser's Accept-Language
        page = new_page(locale=BROWSER_LOCALE[language])
        page.goto(spec.path(where))
    else:
        page = page_as(spec.who, language=language)
        page.goto(spec.path(where))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    return page


@pytest.mark.parametrize(("spec", "language"), CASES)
def test_page_has_no_serious_accessibility_violations(spec, language, where, page_as, new_page, screenshot):
    page = _open(spec, language, where, page_as, new_page)
    response_status = page.evaluate("() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0")
    assert response_status in (0, 200), f"{spec.name} answered {response_status}"
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    if spec.heading and language == "en":
        expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(spec.heading, re.I))
    if language == "zh" and merged() and page.locator("footer").count():  # the projector has no footer
        expect(page.locator("#language-label")).to_have_text(f"{zh('Language')}:")
    if spec.ready:
        spec.ready(page)

    check_a11y(page, f"{spec.name} ({language})")
    if language in spec.shots:
        if spec.scroll_to:
            page.locator(spec.scroll_to).evaluate("e => e.scrollIntoView({block: 'start'})")
        screenshot(page, f"{spec.name}-{language}")


def test_the_check_fails_on_a_serious_violation(new_page):
    """The guard itself: an image without a text alternative and unlabeled field must be reported."""
    page = new_page()
    page.goto("/")
    page.evaluate("""() => {
        const main = document.querySelector("main");
        main.insertAdjacentHTML("beforeend", '<img src="/static/missing.png"><input type="text" id="no-label">');
    }""")

    violations = {v["id"]: v for v in run_axe(page)["violations"]}

    assert {"image-alt", "label"} <= set(violations)
    assert violations["image-alt"]["impact"] == "critical"
    with pytest.raises(AssertionError, match=r"image-alt"):
        check_a11y(page, "a page broken on purpose")
