"""What people do in CloudFair, through Chromium against the real server and the demo data.

Expected times are computed from the API with zoneinfo, never written down: the demo fairs move with
today's date. Each journey leaves the demo data as it found it, since the server lives for the session.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
ATTENDEE = "zjk@cloudfair.example"  # Liu Yang: not registered for the Europe fair in the demo


def europe_fair(live_server) -> dict:
    """The published Europe fair with its agenda, as GET /api/v1/fairs/<id> returns it."""
    fairs = live_server.api("/api/v1/fairs?status=published&per_page=50")["items"]
    [summary] = [f for f in fairs if f["title"].startswith("Europe")]
    return live_server.api(f"/api/v1/fairs/{summary['id']}")


def session_titled(fair: dict, title: str) -> dict:
    [session] = [s for s in fair["sessions"] if s["title"] == title]
    return session


def local(iso: str, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime(fmt)


def test_log_in_through_the_form_shows_your_name_and_log_out(page, log_in, screenshot):
    page.goto("/")
    page.get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")

    log_in(page, ORGANISER)

    expect(page.locator(".who")).to_contain_text("Wang Li 王丽")
    expect(page.get_by_role("status")).to_have_text("Welcome, Wang Li 王丽.")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_log_in_with_a_wrong_password_says_so_and_stays_anonymous(page, log_in):
    page.goto("/login")
    page.get_by_label("E-mail").fill(ORGANISER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


@pytest.mark.parametrize("page", [{"timezone_id": "Europe/Berlin"}], indirect=True)
def test_anonymous_agenda_shows_the_viewers_time_beside_the_fairs(page, live_server, screenshot):
    fair = europe_fair(live_server)
    assert fair["timezone"] == "Asia/Shanghai"
    session = session_titled(fair, "Belgian wastewater membrane technology")

    # Arrive on the home page first, as people do: app.js then tells the server the browser's zone.
    page.goto("/")
    page.get_by_role("link", name=fair["title"]).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(fair["title"])
    expect(page.locator("footer")).to_contain_text("Times are shown in Europe/Berlin")
    row = page.get_by_role("row").filter(has_text=session["title"])
    when = row.get_by_role("cell").first
    expect(when).to_contain_text(
        f"{local(session['starts_at'], 'Europe/Berlin')} ({local(session['starts_at'], 'Asia/Shanghai', '%H:%M')} Asia/Shanghai)"
    )
    expect(when).to_contain_text(f"to {local(session['ends_at'], 'Europe/Berlin', '%H:%M')}")
    expect(when.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    screenshot(page, "fair")

    page.evaluate("document.getElementById('agenda-h').scrollIntoView({block: 'start'})")
    screenshot(page, "agenda")


def test_attendee_registers_then_sees_it_and_can_withdraw(page, live_server, log_in):
    fair = europe_fair(live_server)
    page.goto(f"/fairs/{fair['id']}")
    page.get_by_role("link", name="Log in to register").click()
    log_in(page, ATTENDEE)
    expect(page).to_have_url(re.compile(rf"/fairs/{fair['id']}$"))  # back on the fair after logging in

    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("status")).to_have_text("You are registered.")
    expect(page.locator(".actions .ok")).to_have_text("You are registered.")
    expect(page.get_by_role("button", name="Withdraw")).to_be_visible()
    expect(page.get_by_role("button", name="Register")).to_have_count(0)

    page.get_by_role("button", name="Withdraw").click()  # and leave the demo as it was

    expect(page.get_by_role("status")).to_have_text("Your registration is withdrawn.")
    expect(page.get_by_role("button", name="Register")).to_be_visible()


def test_organiser_sees_a_clash_as_a_sentence_naming_the_other_session(page, live_server, log_in, screenshot):
    fair = europe_fair(live_server)
    zone = fair["timezone"]
    other = session_titled(fair, "Dutch container housing")
    [presenter] = other["presenters"]
    log_in(page, ORGANISER)
    page.goto(f"/fairs/{fair['id']}")
    page.get_by_role("link", name="Add session").click()
    expect(page.get_by_role("heading", name="New session")).to_be_visible()

    # Same track, same presenter, starting a quarter of an hour into the other session.
    start = datetime.fromisoformat(other["starts_at"]).astimezone(ZoneInfo(zone))
    page.get_by_label("Title").fill("Modular housing Q&A")
    page.get_by_label("Kind").select_option("pitch")
    page.get_by_label("Track").select_option(other["track"])
    page.get_by_label("Starts (fair's time zone)").fill((start + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends (fair's time zone)").fill(local(other["ends_at"], zone, "%Y-%m-%dT%H:%M"))
    page.get_by_label("Presenters", exact=True).select_option(str(presenter["id"]))
    page.get_by_role("button", name="Save session").click()

    conflict = page.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_have_attribute("role", "alert")
    when = f"({local(other['starts_at'], zone)}–{local(other['ends_at'], zone, '%H:%M')})"
    expect(conflict.get_by_role("listitem")).to_have_text([
        f"Track “{other['track']}” already holds “{other['title']}” {when}.",
        f"{presenter['name']} already presents “{other['title']}” {when}.",
    ])
    expect(page.get_by_label("Title")).to_have_value("Modular housing Q&A")  # nothing typed is lost
    screenshot(page, "session-conflict")
    assert len(live_server.api(f"/api/v1/fairs/{fair['id']}")["sessions"]) == len(fair["sessions"])


@pytest.mark.parametrize("who", [None, ORGANISER, "sjz@cloudfair.example"], ids=["anonymous", "organiser", "attendee"])
def test_fair_page_fits_a_phone_without_sideways_scrolling(new_page, live_server, log_in, who):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    if who:
        log_in(page, who)
    page.goto(f"/fairs/{europe_fair(live_server)['id']}")
    expect(page.get_by_role("heading", name="Agenda")).to_be_visible()

    width = page.evaluate("document.documentElement.scrollWidth")

    assert width <= 390, f"the page is {width}px wide on a 390px phone"
