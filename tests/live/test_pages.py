"""The live room's pages through the test client: who may open them and what they show."""

from __future__ import annotations

import io
import json
import re

import pytest

from app.leads.enums import InterestLevel
from app.live import services
from app.projects import services as projects
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.projects import samples

XSS = '<script>alert("x")</script> & <img src=x onerror="window.__xss=1">'


@pytest.fixture
def room(app):
    organiser = make_organiser()
    agent = make_presenter(name="An Peeters")
    stranger = make_presenter(name="Other Presenter")
    project = make_project(agent, title="Membrane water treatment")
    fair = make_fair(organiser, stream_url="https://live.example/europe")
    session = make_session(fair, organiser, title="Membrane pitch", presenter_ids=[agent.id], project_ids=[project.id],
                           join_url="https://meet.example/membrane")
    brief = projects.upload_material(agent, project.id, io.BytesIO(samples.pdf_bytes("brief")), "brief.pdf")
    projects.review_material(organiser, brief.id, "approve", None)
    projects.upload_material(agent, project.id, io.BytesIO(samples.pdf_bytes("draft")), "draft-deck.pdf")
    sjz = make_user("attendee", organisation="Shijiazhuang Commerce Bureau", city="Shijiazhuang")
    ts = make_user("attendee", organisation="Tangshan Commerce Bureau", city="Tangshan")
    return {"organiser": organiser, "agent": agent, "stranger": stranger, "project": project, "fair": fair,
            "session": session, "sjz": sjz, "ts": ts}


@pytest.fixture
def browser(login_as):
    """`browser(user)`: a test client logged in through the login form (tests/conftest.py)."""
    return login_as


def _config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="live-config">(.*?)</script>', html, re.S)
    assert match, "page has no live config"
    return json.loads(match.group(1))


@pytest.mark.parametrize("who, room_status, staff_status", [
    ("sjz", 200, 403), ("agent", 200, 200), ("stranger", 200, 404), ("organiser", 200, 200),
])
def test_pages_answer_each_person(room, browser, who, room_status, staff_status):
    client = browser(room[who])
    sid = room["session"].id

    assert client.get(f"/sessions/{sid}/live").status_code == room_status
    assert client.get(f"/sessions/{sid}/moderate").status_code == staff_status
    assert client.get(f"/sessions/{sid}/projector").status_code == staff_status


def test_anonymous_visitors_are_sent_to_log_in(room, client):
    for page in ("live", "moderate", "projector"):
        answer = client.get(f"/sessions/{room['session'].id}/{page}")
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=")


def test_room_shows_the_session_its_links_projects_and_approved_material(room, browser):
    html = browser(room["sjz"]).get(f"/sessions/{room['session'].id}/live").text

    assert "Membrane pitch" in html
    assert 'href="https://meet.example/membrane"' in html and 'href="https://live.example/europe"' in html
    assert f'href="/fairs/{room["fair"].id}"' in html
    assert "brief.pdf" in html and "draft-deck.pdf" not in html  # approved material only
    assert [label in html for label in ("Send more information", "Wants a meeting",
                                        "Wants a site visit", "Ready to negotiate (intent)")] == [True] * 4
    assert [f'value="{level}"' in html for level in InterestLevel] == [True] * 4
    assert 'maxlength="1000"' in html and 'id="live-conn"' in html
    assert "vendor/socket.io.min.js" in html and "js/live.js" in html


def test_only_attendees_get_the_interest_form(room, browser):
    sid = room["session"].id
    assert "interest-form" in browser(room["sjz"]).get(f"/sessions/{sid}/live").text
    assert "interest-form" not in browser(room["organiser"]).get(f"/sessions/{sid}/live").text


def test_hidden_questions_are_not_in_the_attendees_page(room, browser):
    sid = room["session"].id
    kept = services.ask(room["ts"], sid, "What land is available?", "page-q-000001").value
    hidden = services.ask(room["ts"], sid, "Buy cheap watches", "page-q-000002").value
    services.moderate(room["organiser"], hidden["id"], "hide")

    attendee_html = browser(room["sjz"]).get(f"/sessions/{sid}/live").text
    staff_html = browser(room["agent"]).get(f"/sessions/{sid}/moderate").text

    assert "What land is available?" in attendee_html
    assert "Buy cheap watches" not in attendee_html
    assert [q["id"] for q in _config(attendee_html)["questions"]] == [kept["id"]]
    assert "Buy cheap watches" in staff_html
    assert {q["id"] for q in _config(staff_html)["questions"]} == {kept["id"], hidden["id"]}


@pytest.mark.parametrize("page, who", [("live", "sjz"), ("moderate", "organiser"), ("projector", "agent")])
def test_question_text_is_escaped_in_every_page(room, browser, page, who):
    sid = room["session"].id
    services.ask(room["ts"], sid, XSS, "page-xss-00001")

    html = browser(room[who]).get(f"/sessions/{sid}/{page}").text

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=x" in html
    assert _config(html)["questions"][0]["text"] == XSS  # the JSON carries it as data, \u003c-escaped
    assert "\\u003cscript\\u003e" in html


def test_moderation_page_lists_interest_with_organisation_city_level_and_note(room, browser):
    sid = room["session"].id
    services.express_interest(room["sjz"], sid, {"project_id": room["project"].id, "level": "site_visit",
                                                 "note": "Visit in <March>", "client_id": "page-i-000001"})

    html = browser(room["organiser"]).get(f"/sessions/{sid}/moderate").text

    feed = html[html.index('id="interest-feed"'):]
    assert 'data-client-id="page-i-000001"' in feed
    assert "Shijiazhuang Commerce Bureau" in feed and "(Shijiazhuang)" in feed
    assert "Wants a site visit" in feed and "Visit in &lt;March&gt;" in feed


def test_projector_shows_open_questions_pinned_first(room, browser):
    sid = room["session"].id
    first = services.ask(room["ts"], sid, "First question", "page-p-000001").value
    pinned = services.ask(room["sjz"], sid, "Pinned question", "page-p-000002").value
    answered = services.ask(room["sjz"], sid, "Answered question", "page-p-000003").value
    services.moderate(room["organiser"], pinned["id"], "pin")
    services.moderate(room["organiser"], answered["id"], "answer")

    html = browser(room["agent"]).get(f"/sessions/{sid}/projector").text

    assert html.index("Pinned question") < html.index("First question")
    listing = html[html.index('id="questions"'):html.index('id="questions-empty"')]
    assert "Answered question" not in listing
    assert f'data-id="{first["id"]}"' in listing and f'data-id="{pinned["id"]}"' in listing


def test_agenda_links_to_the_live_room_for_logged_in_people(room, browser, client):
    sid = room["session"].id
    assert f'href="/sessions/{sid}/live"' in browser(room["sjz"]).get(f"/fairs/{room['fair'].id}").text
    assert f'href="/sessions/{sid}/live"' not in client.get(f"/fairs/{room['fair'].id}").text
