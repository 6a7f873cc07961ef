"""A fair made in two languages by the organiser, read by a German agent in English and a Chinese bureau in Chinese.

The fair is the test's own (a draft with a tag in its title), published through the page's button, so no
other test depends on it.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .zh import require_merged_catalogue, zh

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
AGENT = "k.weber@cloudfair.example"  # Klaus Weber, an agent in Berlin
BUREAU = "sjz@cloudfair.example"  # Zhao Min, Shijiazhuang Commerce Bureau


def test_a_fair_made_in_both_languages_is_read_in_each_and_a_missing_one_is_marked(page_as, live_server):
    require_merged_catalogue()
    tag = uuid.uuid4().hex[:6]
    day = (date.today() + timedelta(days=150)).isoformat()
    title_zh, title_en = f"中德医疗器械对接会 {tag}", f"China–Germany medical devices day {tag}"
    session_en = f"Wearable patches, live {tag}"

    organiser = page_as(ORGANISER)
    organiser.goto("/fairs/new")
    title = organiser.get_by_role("group", name=re.compile("^Title"))
    expect(title.get_by_label("Title in Chinese")).to_have_attribute("lang", "zh-Hans")
    # Nothing in either language: refused, the message beside the fields, nothing saved.
    organiser.get_by_label("Time zone (IANA)").fill("Asia/Shanghai")
    organiser.get_by_label("Starts (fair's time zone)").fill(f"{day}T15:00")
    organiser.get_by_label("Ends (fair's time zone)").fill(f"{day}T18:00")
    organiser.get_by_role("button", name="Save fair").click()
    expect(organiser.locator("#title_zh-error")).to_have_text("Give the title in Chinese or in English (at least one).")

    organiser.get_by_label("Title in Chinese").fill(title_zh)
    organiser.get_by_label("Title in English").fill(title_en)
    organiser.get_by_label("Theme in Chinese").fill("医疗器械与数字健康")
    organiser.get_by_label("Starts (fair's time zone)").fill(f"{day}T15:00")
    organiser.get_by_label("Ends (fair's time zone)").fill(f"{day}T18:00")
    organiser.get_by_role("button", name="Save fair").click()
    expect(organiser.get_by_role("status")).to_have_text("The fair was created as a draft.")
    fair_id = int(re.search(r"/fairs/(\d+)$", organiser.url).group(1))

    organiser.get_by_role("link", name="Add session").click()
    organiser.get_by_label("Title in English").fill(session_en)  # English only: Chinese readers get it marked
    organiser.get_by_label("Starts (fair's time zone)").fill(f"{day}T15:00")
    organiser.get_by_label("Ends (fair's time zone)").fill(f"{day}T15:45")
    organiser.get_by_role("button", name="Save session").click()
    expect(organiser.get_by_role("status")).to_have_text("The session was added.")
    organiser.get_by_role("button", name="Publish").click()

    # The German agent, in English: the English title; the Chinese-only theme marked.
    agent = page_as(AGENT, "en")
    agent.goto(f"/fairs/{fair_id}")
    expect(agent.get_by_role("heading", level=1)).to_contain_text(title_en)
    expect(agent.get_by_role("heading", level=1)).not_to_contain_text(title_zh)
    theme = agent.locator(".fair-head .lead")
    expect(theme.locator('span[lang="zh-Hans"]')).to_have_text("医疗器械与数字健康")
    expect(theme.locator(".fallback-mark")).to_have_text("(in Chinese)")

    # The Chinese bureau, in a second context: the Chinese title; the English-only session marked.
    bureau = page_as(BUREAU, "zh")
    bureau.goto(f"/fairs/{fair_id}")
    expect(bureau.get_by_role("heading", level=1)).to_contain_text(title_zh)
    expect(bureau.get_by_role("heading", level=1)).not_to_contain_text(title_en)
    row = bureau.get_by_role("row").filter(has_text=session_en)
    expect(row.locator('span[lang="en"]')).to_have_text(session_en)
    expect(row.locator(".fallback-mark")).to_have_text(zh("(in English)"))

    # Search on the fairs page finds it by either language's words.
    bureau.goto("/")
    bureau.get_by_label(zh("Search fairs (Chinese or English)")).fill("China–Germany medical")
    bureau.get_by_role("button", name=zh("Search"), exact=True).click()
    expect(bureau.locator(".fair-list h2")).to_have_text([re.compile(re.escape(title_zh))])

    stored = live_server.api(f"/api/v1/fairs/{fair_id}")
    assert stored["title_i18n"] == {"zh": title_zh, "en": title_en}
