"""From a pitch to a meeting in both calendars: a city says "we want a meeting" in the live room (in
Chinese), books a slot, the presenter accepts (in English), and both private calendar feeds carry it."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PRESENTER = "a.peeters@cloudfair.example"  # owns the membrane project
ATTENDEE = "zd@cloudfair.example"  # Guo Jun: only in this journey


def _feed_has(page, uid: str) -> bool:
    page.goto("/me/calendar")
    feed = page.locator("#feed-url").input_value()
    return uid in page.request.get(feed).text()


def test_meeting_interest_in_the_room_becomes_a_booked_and_accepted_meeting_in_both_calendars(page_as, membrane):
    city = page_as(ATTENDEE, language="zh")
    city.goto(f"/sessions/{membrane['id']}/live")
    expect(city.locator("#live-conn")).to_have_attribute("data-state", "connected")
    form = city.locator(f'.interest-form[data-project-id="{membrane["project_id"]}"]')
    form.locator('select[name="level"]').select_option("meeting")
    form.locator('textarea[name="note"]').fill(f"希望尽快会谈 {uuid.uuid4().hex[:6]}")
    form.locator('button[type="submit"]').click()
    book = city.locator(f'[data-book-meeting-for="{membrane["project_id"]}"]')
    expect(book).to_be_visible()
    expect(book).to_contain_text("立即预约会谈")
    book.locator("a").click()

    city.locator('input[name="slot"]').first.check()
    city.locator("#meeting-note").fill("讨论用地需求")
    city.locator('form.book-form button[type="submit"]').click()
    expect(city).to_have_url(re.compile(r"/meetings/\d+$"))
    meeting_id = int(city.url.rsplit("/", 1)[1])
    expect(city.locator(".meeting-page")).to_have_attribute("data-meeting-status", "requested")
    expect(city.locator("h1")).to_contain_text("待答复")

    agent = page_as(PRESENTER)
    agent.goto(f"/meetings/{meeting_id}")
    agent.get_by_role("button", name="Accept", exact=True).click()
    expect(agent.locator(".meeting-page")).to_have_attribute("data-meeting-status", "accepted")
    expect(agent.get_by_role("link", name="Join the meeting")).to_be_visible()

    uid = f"meeting-{meeting_id}@"
    assert _feed_has(agent, uid)
    assert _feed_has(city, uid)
    city.goto("/meetings")
    expect(city.locator(f'[data-meeting-id="{meeting_id}"]')).to_contain_text("已接受")
