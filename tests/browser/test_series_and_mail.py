"""A series made with the form (words, month rows, the preview, then saved), an invitation and a session
reminder read on the development mail page, in a real browser against `make run`'s server.

The series is new and its title the test's own; the invited address is the test's own, so no other
test meets either.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .demo import europe_fair
from .language import set_language

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"


def test_organiser_makes_a_series_with_the_form_and_previews_its_dates(page_as, screenshot):
    page = page_as(ORGANISER)
    page.goto("/series/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("New series")

    page.get_by_label("Title in English").fill("Browser series: Europe and North America")
    page.get_by_label("How often").select_option("1")
    page.get_by_label("a weekday of the month").check()
    page.get_by_label("Which one").select_option("2")
    page.get_by_label("Weekday", exact=True).select_option("TH")
    page.get_by_label("Start time (24-hour clock)").fill("15:00")
    page.get_by_label("Host time zone").select_option("Asia/Shanghai")
    page.get_by_label("First date (empty: today)").fill("2027-01-01")

    # Each month's theme in Chinese and English side by side; one language is enough.
    first = page.locator("fieldset.series-month").nth(0)
    first.get_by_label("Theme in Chinese").fill("欧洲：新材料")
    first.get_by_label("Theme in English").fill("Europe: new materials")
    first.get_by_label("Focus countries").select_option(["DE"])
    first.get_by_label("New materials").check()
    second = page.locator("fieldset.series-month").nth(1)
    second.get_by_label("Theme in Chinese").fill("北美：健康")
    second.get_by_label("Focus countries").select_option(["US"])

    url = page.url
    page.get_by_role("button", name="Add another month").click()  # the script adds the row in the page
    expect(page.locator("fieldset.series-month")).to_have_count(4)
    assert page.url == url
    expect(page.locator("fieldset.series-month").nth(3).locator(":scope > legend")).to_have_text("Month 4")
    added = page.locator("fieldset.series-month").nth(3)
    expect(added.get_by_label("Theme in Chinese")).to_have_value("")
    expect(added.get_by_label("Theme in English")).to_have_value("")
    added.get_by_label("Theme in English").fill("Canada: clean energy")  # the added row's fields are its own
    expect(page.locator("fieldset.series-month").nth(2).get_by_label("Theme in English")).to_have_value("")

    # The preview follows the form as it is filled (the server renders it; no page load) …
    preview = page.get_by_role("region", name=re.compile("^The next 6 dates"))
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("every month, on the second Thursday")
    expect(page.locator("#series-preview-status")).to_have_text(re.compile("^The next 6 dates"))  # said once, briefly
    assert page.url == url
    # … and says what is missing while the form is incomplete
    page.get_by_label("Start time (24-hour clock)").fill("25:00")
    expect(page.get_by_role("region", name="No preview yet")).to_contain_text("Give the local start time as HH:MM.")
    page.get_by_label("Start time (24-hour clock)").fill("15:00")

    page.get_by_role("button", name="Preview the dates").click()
    expect(preview).to_be_visible()
    assert page.url == url
    expect(preview.locator("tbody tr")).to_have_count(6)
    # The English reader sees the English theme, and the Chinese-only one marked as Chinese
    expect(preview.locator("tbody tr").nth(0).locator("td").nth(1)).to_have_text("Europe: new materials")
    expect(preview.locator("tbody tr").nth(1).locator("td").nth(1)).to_have_text("北美：健康 (in Chinese)")
    expect(preview.locator("tbody tr").nth(2).locator("td").nth(1)).to_have_text("Canada: clean energy")
    expect(preview.get_by_text("daylight saving").first).to_be_visible()
    preview.scroll_into_view_if_needed()
    screenshot(page, "series-form-preview")

    page.get_by_role("button", name="Create series").click()
    expect(page).to_have_url(re.compile(r"/series/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Browser series: Europe and North America")
    expect(page.get_by_role("heading", name="Coming dates")).to_be_visible()
    dates = page.locator("table.agenda tbody tr")
    expect(dates.first).to_contain_text("Europe: new materials")
    set_language(page, "zh")  # the footer's switch: the same months in Chinese
    expect(dates.nth(0).locator("td").nth(1)).to_have_text("欧洲：新材料")
    expect(dates.nth(1).locator("td").nth(1)).to_have_text("北美：健康")
    expect(dates.nth(2).locator("td").nth(1)).to_have_text("Canada: clean energy （英文）")


def test_an_invitation_is_read_on_the_development_mail_page(page_as, live_server):
    page = page_as(ORGANISER)
    page.goto("/people/invitations")
    form = page.locator("form.narrow-form")
    form.get_by_label("Name", exact=True).fill("Jonas Berg")
    form.get_by_label("E-mail").fill("jonas.berg@devmail.example")
    form.get_by_label("Organisation").fill("Nordic Invest Partners")
    form.locator('[type="submit"]').click()
    expect(page.get_by_text("is queued", exact=False).first).to_be_visible()
    row = page.locator("tr").filter(has_text="jonas.berg@devmail.example")
    expect(row.locator("td.mail-status")).to_have_text("queued")

    live_server.deliver_mail()
    page.reload()
    expect(row.locator("td.mail-status")).to_have_text(re.compile(r"^sent "))

    page.get_by_role("link", name="development mail page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Development mail")
    line = page.locator("#outbox tr").filter(has_text="jonas.berg@devmail.example")
    expect(line).to_contain_text("sent")
    line.get_by_role("link").click()
    expect(page.locator("pre.mail-text").first).to_contain_text("/invitations/")
    frame = page.frame_locator("iframe.mail-html")
    expect(frame.locator("body")).to_contain_text("Jonas Berg")


def test_a_session_added_inside_the_24_hour_window_gets_its_reminder_on_the_development_mail_page(
        page_as, live_server, screenshot):
    """The organiser adds a session less than 24 hours ahead and publishes its fair; the scheduler's
    next tick (run here once) sends its presenter the "Coming up" reminder at once instead of dropping it,
    and the development mail page shows that mail's text."""
    tag = uuid.uuid4().hex[:6]
    zone = ZoneInfo("Asia/Shanghai")
    hour = datetime.now(timezone.utc).astimezone(zone).replace(minute=0, second=0, microsecond=0)

    def local(moment: datetime) -> str:  # a datetime-local value in the fair's zone
        return moment.strftime("%Y-%m-%dT%H:%M")

    europe = europe_fair(live_server)
    weber = next(p for s in europe["sessions"] for p in s["presenters"] if p["name"] == "Klaus Weber")
    page = page_as(ORGANISER)

    page.goto("/fairs/new")
    title = f"Short-notice water day {tag}"
    page.get_by_label("Title in English").fill(title)
    page.get_by_label("Theme in English").fill("Water reuse")
    page.get_by_label("Time zone (IANA)").fill("Asia/Shanghai")
    page.get_by_label("Starts (fair's time zone)").fill(local(hour + timedelta(hours=2)))
    page.get_by_label("Ends (fair's time zone)").fill(local(hour + timedelta(hours=8)))
    page.get_by_label("Focus countries").select_option(["DE"])
    page.get_by_role("button", name="Save fair").click()
    expect(page.get_by_role("status")).to_have_text("The fair was created as a draft.")

    session = f"Membranes at short notice {tag}"
    page.get_by_role("link", name="Add session").click()
    page.get_by_label("Title in English").fill(session)
    page.get_by_label("Kind").select_option("pitch")
    page.get_by_label("Starts (fair's time zone)").fill(local(hour + timedelta(hours=3)))
    page.get_by_label("Ends (fair's time zone)").fill(local(hour + timedelta(hours=3, minutes=45)))
    page.get_by_label("Presenters", exact=True).select_option(str(weber["id"]))
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("status")).to_have_text("The session was added.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("published")

    # Its 24-hour reminder fell due before the session existed: sent at the next tick, not dropped.
    counts = live_server.run_job("session_reminders")
    assert counts["sent"] >= 1

    page.goto("/dev/mail")
    expect(page.get_by_role("heading", level=1)).to_have_text("Development mail")
    line = page.locator("#outbox tr").filter(has_text=session)
    expect(line).to_have_count(1)
    expect(line.locator("td").nth(3)).to_contain_text("queued")
    line.get_by_role("link").click()
    text = page.locator("pre.mail-text").first
    expect(text).to_contain_text(f"{session} ({title}) starts at")
    expect(text).to_contain_text("Join: ")
    screenshot(page, "dev-mail-reminder")
