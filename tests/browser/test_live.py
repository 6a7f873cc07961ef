"""The live room in Chromium against the real server (`flask run`, Socket.IO in threading mode).

Several people in separate browser contexts: questions reach the others without a reload, question text
stays text, interest reaches the staff's feed and the room's counts and becomes a lead on the board, the
outbox survives a reload while the connection is down and sends once, the keyboard alone asks and expresses
interest with its focus in sight, a phone needs no sideways scrolling and a projector uses its width.
Every journey writes text of its own (a random tag), so the tests pass in any order on the shared server.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import MEMBRANE_PROJECT, MEMBRANE_SESSION
from .language import HTML_LANG

pytestmark = pytest.mark.browser

ORGANISER = "organiser@cloudfair.example"
PRESENTER = "a.peeters@cloudfair.example"
SJZ = "sjz@cloudfair.example"
TS = "ts@cloudfair.example"
XT = "xt@cloudfair.example"  # Xingtai: expresses interest only in the interest journey
CFD = "cfd@cloudfair.example"  # Caofeidian: only in the offline journey
CHENGDE = "cd@cloudfair.example"  # He Ping: only in the journey from the room to the leads board
JICHUANG = "jichuang@cloudfair.example"  # Ma Lin: only in the keyboard journey
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}


def tag() -> str:
    return uuid.uuid4().hex[:8]


def enter(page, membrane, which: str = "live"):
    page.goto(f"/sessions/{membrane['id']}/{which}")
    expect(page.locator("#live-conn")).to_have_attribute("data-state", "connected")
    expect(page.locator("#live-conn")).to_have_text(re.compile("connected"))
    return page


def ask(page, text: str):
    page.get_by_label("Your question", exact=True).fill(text)
    page.get_by_role("button", name="Ask", exact=True).click()


def question(page, text: str):
    return page.locator("#questions .question").filter(has_text=text)


def interest_form(page, membrane):
    return page.locator(f'.interest-form[data-project-id="{membrane["project_id"]}"]')


def test_a_question_reaches_another_attendee_without_a_reload(page_as, membrane, screenshot):
    asker, listener = enter(page_as(SJZ), membrane), enter(page_as(TS), membrane)
    listener.evaluate("window.__loaded = true")  # gone if the page reloads
    text = f"When could a pilot plant start in Luancheng? ({tag()})"

    ask(asker, text)

    expect(question(listener, text)).to_be_visible()
    expect(question(asker, text)).to_contain_text("sent")
    assert listener.evaluate("window.__loaded") is True
    expect(listener.locator("#live-presence")).not_to_have_text("0")
    expect(listener.locator("#qa-announce")).to_contain_text(text)
    screenshot(asker, "live-room-en")


def test_question_html_shows_as_text_and_never_runs(page_as, membrane):
    asker, listener = enter(page_as(SJZ), membrane), enter(page_as(TS), membrane)
    text = f'<img src=x onerror="window.__xss=1"> <b>{tag()}</b>'

    ask(asker, text)

    expect(question(listener, text).locator(".q-text")).to_have_text(text)
    assert listener.locator("#questions img").count() == 0
    listener.reload()  # drawn by the server this time
    expect(question(listener, text).locator(".q-text")).to_have_text(text)
    for page in (asker, listener):
        assert page.evaluate("typeof window.__xss") == "undefined"


@pytest.mark.parametrize("staff", [PRESENTER, ORGANISER])
def test_interest_reaches_the_staff_feed_and_the_rooms_count(page_as, membrane, staff, screenshot):
    desk = enter(page_as(staff), membrane, "moderate")
    watcher = enter(page_as(TS), membrane)
    attendee = enter(page_as(XT), membrane)
    count = watcher.locator(f'[data-count-for="{membrane["project_id"]}"]')
    before = int(count.inner_text())
    note = f"Xingtai has serviced land by the river ({tag()})"

    form = interest_form(attendee, membrane)
    form.get_by_label("How interested?").select_option(label="Wants a site visit")
    form.get_by_label("Note (optional)").fill(note)
    form.get_by_role("button", name="I'm interested").click()

    sent = form.locator(".my-interests li").filter(has_text=note)
    expect(sent.locator(".item-state")).to_have_text("sent")
    client_id = sent.get_attribute("data-outbox-id")
    entry = desk.locator(f'#interest-feed [data-client-id="{client_id}"]')
    expect(entry).to_contain_text("Xingtai Commerce Bureau")
    expect(entry).to_contain_text("(Xingtai)")
    expect(entry).to_contain_text("Wants a site visit")
    expect(entry).to_contain_text(note)
    if before == 0:  # Xingtai's first interest in the project: one more organisation
        expect(count).to_have_text("1")
    else:
        expect(count).to_have_text(re.compile(rf"^{before}$|^{before + 1}$"))
    if staff == ORGANISER:
        screenshot(desk, "moderation-en")


def test_interest_sent_while_offline_waits_in_the_outbox_through_a_reload_and_is_sent_once(
        page_as, membrane):
    page = enter(page_as(CFD), membrane)
    note = f"Caofeidian port land ({tag()})"

    page.route("**/socket.io/**", lambda route: route.abort())  # no new connection gets through
    page.context.set_offline(True)
    expect(page.locator("#live-conn")).not_to_have_attribute("data-state", "connected")
    form = interest_form(page, membrane)
    form.get_by_label("How interested?").select_option("meeting")
    form.get_by_label("Note (optional)").fill(note)
    form.get_by_role("button", name="I'm interested").click()

    item = form.locator(".my-interests li").filter(has_text=note)
    expect(item.locator(".item-state")).to_have_text("queued")
    expect(page.locator("#live-conn")).to_have_text(re.compile("offline — 1 queued"))
    client_id = item.get_attribute("data-outbox-id")

    # The page itself can only reload with the network back; the live connection stays blocked.
    page.context.set_offline(False)
    page.reload()
    item = interest_form(page, membrane).locator(f'[data-outbox-id="{client_id}"]')
    expect(item.locator(".item-state")).to_have_text("queued")
    expect(page.locator("#live-conn")).to_have_text(re.compile("offline — 1 queued"))
    stored = page.evaluate("JSON.stringify(Object.keys(localStorage).map(k => localStorage.getItem(k)))")
    assert client_id in stored

    page.unroute("**/socket.io/**")
    expect(item.locator(".item-state")).to_have_text("sent", timeout=30_000)
    expect(page.locator("#live-conn")).to_have_text("connected")
    assert "outbox" not in page.evaluate(
        "Object.keys(localStorage).filter(k => k.endsWith('.outbox') && localStorage.getItem(k) !== '[]').join()")

    desk = enter(page_as(ORGANISER), membrane, "moderate")
    expect(desk.locator(f'#interest-feed [data-client-id="{client_id}"]')).to_have_count(1)
    expect(desk.locator("#interest-feed .interest").filter(has_text=note)).to_have_count(1)


def test_interest_from_the_room_is_found_as_a_lead_on_the_board(page_as, membrane):
    page = enter(page_as(CHENGDE), membrane)
    note = f"Chengde's Shuangluan park can take a pilot line ({tag()})"
    form = interest_form(page, membrane)
    form.get_by_label("How interested?").select_option(label="Wants a meeting")
    form.get_by_label("Note (optional)").fill(note)
    form.get_by_role("button", name="I'm interested").click()
    expect(form.locator(".my-interests li").filter(has_text=note).locator(".item-state")).to_have_text("sent")

    # From the room to the lead by links only: the main navigation, then the card's title.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads", exact=True).click()
    expect(page).to_have_url(re.compile(r"/leads$"))
    card = page.locator(".lead-card").filter(has=page.get_by_role("link", name=MEMBRANE_PROJECT, exact=True))
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Chengde Shuangluan District Investment Bureau")
    expect(page.locator('[data-column="partner_identified"] .lead-card')).to_contain_text([MEMBRANE_PROJECT])
    card.get_by_role("link", name=MEMBRANE_PROJECT, exact=True).click()

    expect(page).to_have_url(re.compile(r"/leads/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(MEMBRANE_PROJECT)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chengde Shuangluan District Investment Bureau")
    interest = page.locator(".tl-interest").filter(has_text=note)
    expect(interest).to_have_count(1)
    expect(interest).to_contain_text("Interest: Wants a meeting")
    expect(interest).to_contain_text(MEMBRANE_SESSION)
    expect(page.locator(".tl-history").first).to_contain_text("lead opened at Partner identified")


def focus_ring(page) -> dict:
    """The focused element's id and how its focus shows (`:focus-visible` and the computed outline)."""
    return page.evaluate("""() => {
        const e = document.activeElement, s = getComputedStyle(e);
        return {id: e.id, tag: e.tagName.toLowerCase(), visible: e.matches(":focus-visible"),
                style: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, color: s.outlineColor};
    }""")


def tab_to(page, element_id: str, limit: int = 120) -> dict:
    """Press Tab until the element with this id has focus; fail naming the last element reached."""
    ring: dict = {}
    for _ in range(limit):
        page.keyboard.press("Tab")
        ring = focus_ring(page)
        if ring["id"] == element_id:
            return ring
    pytest.fail(f"Tab never reached #{element_id}; last focused: {ring}")


def assert_focus_shows(ring: dict) -> None:
    assert ring["visible"], f"{ring['tag']}#{ring['id']} has focus but does not match :focus-visible"
    assert ring["style"] != "none" and ring["width"] >= 2, f"no visible focus outline: {ring}"


def test_asking_and_interest_work_with_the_keyboard_alone(page_as, membrane):
    page = enter(page_as(JICHUANG), membrane)
    project = membrane["project_id"]
    text = f"Asked without a mouse ({tag()})"

    assert_focus_shows(tab_to(page, "ask-text"))
    page.keyboard.type(text)
    expect(page.locator("#ask-count")).to_have_text(f"{len(text)} / 1,000 characters")
    page.keyboard.press("Tab")
    ring = focus_ring(page)
    assert ring["id"] == "ask-button"
    assert_focus_shows(ring)
    page.keyboard.press("Enter")
    expect(question(page, text)).to_be_visible()

    second = f"And a second one, sent with the space bar ({tag()})"
    page.keyboard.press("Shift+Tab")
    assert focus_ring(page)["id"] == "ask-text"
    page.keyboard.type(second)
    page.keyboard.press("Tab")
    page.keyboard.press(" ")
    expect(question(page, second)).to_be_visible()

    # On past the questions and the project's links to its interest form; an arrow key picks the level.
    assert_focus_shows(tab_to(page, f"level-{project}"))
    level = page.locator(f"#level-{project}")
    expect(level).to_have_value("info")
    page.keyboard.press("ArrowDown")
    expect(level).to_have_value("meeting")
    page.keyboard.press("Tab")
    assert focus_ring(page)["id"] == f"note-{project}"
    note = f"Jichuang could assemble the modules ({tag()})"
    page.keyboard.type(note)
    page.keyboard.press("Tab")
    form = interest_form(page, membrane)
    expect(form.get_by_role("button", name="I'm interested")).to_be_focused()
    assert_focus_shows(focus_ring(page))
    page.keyboard.press("Enter")

    sent = form.locator(".my-interests li").filter(has_text=note)
    expect(sent.locator(".item-state")).to_have_text("sent")
    expect(sent).to_contain_text("Wants a meeting")
    assert page.evaluate("document.activeElement.closest('.interest-form') !== null"), "focus left the form"


@pytest.mark.parametrize(("device", "language"), [("phone", "en"), ("phone", "zh"), ("projector", "en")])
def test_agenda_and_live_room_fit_a_phone_and_a_projector(page_as, membrane, screenshot, device, language):
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if device == "phone" else {"viewport": PROJECTOR}
    width = options["viewport"]["width"]
    suffix = "" if language == "en" else f"-{language}"
    page = page_as(SJZ, language=language, **options)
    page.goto(f"/fairs/{membrane['fair_id']}")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    expect(page.locator("#agenda-h")).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the agenda is {scroll_width}px wide on a {width}px {device}"
    page.locator("#agenda-h").evaluate("e => e.scrollIntoView({block: 'start'})")
    screenshot(page, f"{device}-agenda{suffix}")

    page.locator(f'.row-actions a[href="/sessions/{membrane["id"]}/live"]').click()
    expect(page.locator("#live-conn")).to_have_attribute("data-state", "connected")
    expect(page.locator("#live-presence")).not_to_have_text("0")  # counted in the room
    questions, projects = page.locator("section.qa"), page.locator("section.pitched")
    expect(projects).to_be_visible()

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the live room is {scroll_width}px wide on a {width}px {device}"
    side_by_side = questions.bounding_box()["y"] == projects.bounding_box()["y"]
    assert side_by_side == (device == "projector"), "questions beside the projects on a projector, above them on a phone"
    screenshot(page, f"{device}-live-room{suffix}")


def test_projector_shows_a_question_voted_up_by_itself(page_as, membrane, screenshot):
    projector = page_as(PRESENTER, viewport=PROJECTOR)
    enter(projector, membrane, "projector")
    asker, voter = enter(page_as(TS), membrane), enter(page_as(SJZ), membrane)
    text = f"Which Hebei parks already treat textile wastewater? ({tag()})"

    # The projector shows the top questions (pinned, then most votes): a vote lifts this one above the
    # unvoted questions the other journeys leave in the session.
    ask(asker, text)
    question(voter, text).get_by_role("button", name=f"Vote for: {text}").click()

    shown = projector.locator("#questions .question").filter(has_text=text)
    expect(shown).to_be_visible()
    expect(shown.locator(".q-votes")).to_have_text("1 vote")
    assert projector.evaluate("document.documentElement.scrollWidth") <= PROJECTOR["width"]
    screenshot(projector, "projector")


def test_agenda_rows_link_to_the_live_room(page_as, membrane):
    page = page_as(SJZ)
    page.goto(f"/fairs/{membrane['fair_id']}")

    page.get_by_role("link", name=f"Live room: {MEMBRANE_SESSION}").click()

    expect(page).to_have_url(re.compile(rf"/sessions/{membrane['id']}/live$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(MEMBRANE_SESSION)


ZJK_PARK = "zjk-park@cloudfair.example"  # Sun Hao: only in the journey on two browsers


def test_the_same_person_on_a_second_browser_sees_their_own_questions_and_interest(page_as, membrane):
    laptop = enter(page_as(ZJK_PARK), membrane)
    text = f"Does the membrane line need a clean room? ({tag()})"
    ask(laptop, text)
    expect(question(laptop, text)).to_contain_text("your question · sent")
    note = f"The high-tech zone has a vacant plant ({tag()})"
    form = interest_form(laptop, membrane)
    form.get_by_label("How interested?").select_option("meeting")
    form.get_by_label("Note (optional)").fill(note)
    form.get_by_role("button", name="I'm interested").click()
    expect(form.locator(".my-interests li").filter(has_text=note).locator(".item-state")).to_have_text("sent")
    expect(laptop.locator(f'[data-my-interest-for="{membrane["project_id"]}"]')).to_contain_text(note)

    # Another browser of the same person (its own storage, nothing of the first one's): the server says what is theirs.
    phone = enter(page_as(ZJK_PARK, viewport=PHONE), membrane)
    own = question(phone, text)
    expect(own).to_contain_text("your question · sent")
    expect(own.get_by_role("button")).to_have_count(0)  # no vote button on one's own question
    others = phone.locator("#questions .question").filter(has_not_text="your question")
    if others.count():
        expect(others.first.get_by_role("button", name=re.compile(r"^(Vote|You voted)"))).to_have_count(1)
    mine = phone.locator(f'[data-my-interest-for="{membrane["project_id"]}"]')
    expect(mine).to_be_visible()
    expect(mine).to_contain_text("Your organisation's interest:")
    expect(mine).to_contain_text(note)

    # Live, without a reload: a question asked on the laptop is the phone's own too.
    later = f"And the water supply? ({tag()})"
    ask(laptop, later)
    expect(question(phone, later)).to_contain_text("your question · sent")
    expect(question(phone, later).get_by_role("button")).to_have_count(0)

    # A vote on the laptop is the phone's vote too: voted, and never offered again.
    someone = enter(page_as(TS), membrane)
    theirs = f"Who maintains the membranes? ({tag()})"
    ask(someone, theirs)
    expect(question(laptop, theirs)).to_be_visible()
    question(laptop, theirs).get_by_role("button", name=re.compile("^Vote for")).click()
    voted = question(phone, theirs).get_by_role("button", name=re.compile("^You voted for"))
    expect(voted).to_be_disabled()
    expect(voted).to_have_attribute("aria-pressed", "true")
    # … and a phone opened afresh (a reload) says so from the server alone.
    phone.reload()
    expect(phone.locator("#live-conn")).to_have_attribute("data-state", "connected")
    expect(question(phone, theirs).get_by_role("button", name=re.compile("^You voted for"))).to_be_disabled()

    # The phone's form starts at the organisation's level and raises it, with a note; the laptop shows it live.
    phone_form = interest_form(phone, membrane)
    expect(phone_form).to_contain_text("Raise the level or add a note")
    expect(phone_form.get_by_label("How interested?")).to_have_value(re.compile("^(meeting|site_visit|intent)$"))
    more = f"The board approved a budget ({tag()})"
    phone_form.get_by_label("How interested?").select_option("intent")
    phone_form.get_by_label("Note (optional)").fill(more)
    phone_form.get_by_role("button", name="I'm interested").click()
    box = laptop.locator(f'[data-my-interest-for="{membrane["project_id"]}"]')
    expect(box).to_contain_text(more)
    expect(box.locator(".my-level")).to_have_text("Ready to negotiate (intent)")
    expect(interest_form(laptop, membrane).get_by_label("How interested?")).to_have_value("intent")


def test_during_the_pitch_staff_see_the_best_sites_and_a_city_its_own_plots(page_as, membrane):
    """The membrane project needs 100 mu, 1,500 kVA and 600 t of water a day (the demo's site needs):
    the organiser sees the top parks for it beside the pitch, and Xingtai's bureau its own fitting plot."""
    staff = enter(page_as(ORGANISER), membrane)
    best = staff.locator(f'[data-sites-for="{membrane["project_id"]}"]')
    expect(best.get_by_role("heading")).to_have_text("Best sites for this project")
    expect(best.locator(".site").first).to_be_visible()
    assert 1 <= best.locator(".site").count() <= 3
    expect(best.locator(".site a").first).to_have_attribute("href", re.compile(r"^/parks/\d+$"))
    expect(best.locator(".sites-empty")).to_be_hidden()

    city = enter(page_as(XT), membrane)
    own = city.locator(f'[data-sites-for="{membrane["project_id"]}"]')
    expect(own.get_by_role("heading")).to_have_text("Your matching plots")
    expect(own.locator(".site")).to_have_count(1)
    expect(own.locator(".site")).to_contain_text("Xingtai Economic Development Zone · plot XT-E12 · 110 mu")
    # Beside the button that expresses interest in the same project.
    expect(interest_form(city, membrane)).to_be_visible()

    # Shijiazhuang's bureau manages no park in the demo: its list says so.
    no_park = enter(page_as(SJZ), membrane).locator(f'[data-sites-for="{membrane["project_id"]}"]')
    expect(no_park.locator(".site")).to_have_count(0)
    expect(no_park.locator(".sites-empty")).to_have_text("No plot fits this project yet.")
