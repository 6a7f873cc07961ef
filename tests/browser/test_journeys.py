"""What people do in CloudFair, through Chromium against the real server and the demo data.

Expected times are computed from the API with zoneinfo, never written down: the demo fairs move with
today's date. Each journey leaves the demo data as it found it, since the server lives for the session,
except the organiser's new fair: a draft with a title of its own that no other test looks for.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .demo import europe_fair, local, session_titled, shown
from .language import set_language

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
ATTENDEE = "zjk@cloudfair.example"  # Liu Yang: not registered for the Europe fair in the demo


def test_log_in_through_the_form_welcomes_you_by_name(page, log_in, screenshot):
    page.goto("/")
    page.get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login-en")

    # The welcome shows on the page the form leads to, in the account's own language (either will do).
    log_in(page, ORGANISER, language=None)

    expect(page.get_by_role("status")).to_contain_text("Wang Li 王丽")
    expect(page.locator(".who")).to_contain_text("Wang Li 王丽")
    set_language(page, "en")
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
        f"{shown(session['starts_at'], 'Europe/Berlin')} ({local(session['starts_at'], 'Asia/Shanghai', '%H:%M')} Asia/Shanghai)"
    )
    expect(when).to_contain_text(f"to {local(session['ends_at'], 'Europe/Berlin', '%H:%M')}")
    expect(when.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    screenshot(page, "fair-en")

    page.evaluate("document.getElementById('agenda-h').scrollIntoView({block: 'start'})")
    screenshot(page, "agenda-en")


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
    page.get_by_label("Title in English").fill("Modular housing Q&A")
    page.get_by_label("Kind").select_option("pitch")
    page.get_by_label("Track").select_option(other["track"])
    page.get_by_label("Starts (fair's time zone)").fill((start + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends (fair's time zone)").fill(local(other["ends_at"], zone, "%Y-%m-%dT%H:%M"))
    page.get_by_label("Presenters", exact=True).select_option(str(presenter["id"]))
    page.get_by_role("button", name="Save session").click()

    conflict = page.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_have_attribute("role", "alert")
    when = f"({shown(other['starts_at'], zone)}–{local(other['ends_at'], zone, '%H:%M')})"
    expect(conflict.get_by_role("listitem")).to_have_text([
        f"Track “{other['track']}” already holds “{other['title']}” {when}.",
        f"{presenter['name']} already presents “{other['title']}” {when}.",
    ])
    expect(page.get_by_label("Title in English")).to_have_value("Modular housing Q&A")  # nothing typed is lost
    screenshot(page, "session-conflict-en")
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


def test_organiser_builds_a_fair_with_the_forms_and_a_clash_is_refused(page, live_server, log_in):
    tag = uuid.uuid4().hex[:6]
    day = date.today() + timedelta(days=120)

    def at(hh_mm: str) -> str:  # a datetime-local value, in the fair's own zone as the form asks
        return f"{day.isoformat()}T{hh_mm}"

    europe = europe_fair(live_server)
    weber = next(p for s in europe["sessions"] for p in s["presenters"] if p["name"] == "Klaus Weber")
    de_vries = next(p for s in europe["sessions"] for p in s["presenters"] if p["name"] == "Jan de Vries")
    log_in(page, ORGANISER)

    page.get_by_role("navigation", name="Main").locator("summary", has_text="Fairs").click()  # the Fairs menu
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New fair").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New fair")
    title = f"Benelux housing and water day {tag}"
    page.get_by_label("Title in English").fill(title)
    page.get_by_label("Theme in English").fill("Modular housing and water reuse")
    page.get_by_label("Time zone (IANA)").fill("Asia/Shanghai")
    page.get_by_label("Starts (fair's time zone)").fill(at("09:00"))
    page.get_by_label("Ends (fair's time zone)").fill(at("17:00"))
    page.get_by_label("Focus countries").select_option(["BE", "NL"])
    page.get_by_label("Tracks in English (comma-separated)").fill("main, cities")
    page.get_by_label("Tracks in Chinese (comma-separated)").fill("主会场，城市推介厅")
    page.get_by_role("button", name="Save fair").click()

    expect(page.get_by_role("status")).to_have_text("The fair was created as a draft.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("draft")
    fair_id = int(re.search(r"/fairs/(\d+)$", page.url).group(1))

    def add_session(name: str, kind: str, track: str, starts: str, ends: str, presenter: dict) -> None:
        page.get_by_role("link", name="Add session").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("New session")
        page.get_by_label("Title in English").fill(name)
        page.get_by_label("Kind").select_option(kind)
        page.get_by_label("Track").select_option(track)
        page.get_by_label("Starts (fair's time zone)").fill(at(starts))
        page.get_by_label("Ends (fair's time zone)").fill(at(ends))
        page.get_by_label("Presenters", exact=True).select_option(str(presenter["id"]))
        page.get_by_role("button", name="Save session").click()

    opening, housing = f"Opening {tag}", f"Modular housing for parks {tag}"
    add_session(opening, "city_promotion", "main", "09:00", "09:45", weber)
    expect(page.get_by_role("status")).to_have_text("The session was added.")
    add_session(housing, "pitch", "cities", "09:30", "10:15", de_vries)
    expect(page.get_by_role("status")).to_have_text("The session was added.")
    agenda = page.locator("table.agenda tbody tr")
    expect(agenda).to_have_count(2)
    expect(agenda.nth(0)).to_contain_text(opening)
    expect(agenda.nth(1)).to_contain_text(housing)

    # The main track is taken at 09:30 by the opening, and Jan de Vries presents in the cities track then.
    clash = f"Housing questions {tag}"
    with page.expect_response(lambda r: r.request.method == "POST" and "/sessions/new" in r.url) as answer:
        add_session(clash, "panel", "main", "09:30", "10:00", de_vries)
    assert answer.value.status == 409
    conflict = page.locator(".conflict")
    expect(conflict).to_have_attribute("role", "alert")
    opening_at, housing_at = (shown(f"{day.isoformat()}T{hh_mm}+08:00", "Asia/Shanghai") for hh_mm in ("09:00", "09:30"))
    expect(conflict.get_by_role("listitem")).to_have_text([
        f"Track “main” already holds “{opening}” ({opening_at}–09:45).",
        f"Jan de Vries already presents “{housing}” ({housing_at}–10:15).",
    ])
    expect(page.get_by_label("Title in English")).to_have_value(clash)

    page.get_by_role("link", name=f"← {title}").click()
    expect(page.locator("table.agenda tbody tr")).to_have_count(2)
    expect(page.locator("table.agenda")).not_to_contain_text(clash)
    stored = page.request.get(f"/api/v1/fairs/{fair_id}").json()
    assert sorted(s["title"] for s in stored["sessions"]) == sorted([opening, housing])
