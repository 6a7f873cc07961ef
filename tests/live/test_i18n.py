"""The live room for a Chinese-speaking person: the pages, the words live.js is given, and the
Socket.IO acknowledgements, which are in the person's language whatever the handshake asked for."""

from __future__ import annotations

import json
import re

import pytest
from flask_babel import force_locale, get_translations, gettext, pgettext

from app.fairs.enums import kind_label
from app.live import services
from tests.live.conftest import make_room
from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user
from tests.i18n import CJK, zh

NS = "/live"
def zh_plural(singular: str, plural: str, n: int, **values) -> str:
    """Like `zh`, for ngettext; `num` may stand for markup in place of the number, as the pages put it."""
    with force_locale("zh"):
        template = get_translations().ungettext(singular, plural, n)
    assert CJK.search(template), f"no Chinese for {singular!r}"
    return template % {"num": n, **values}


def zh_in(context: str, msgid: str) -> str:
    with force_locale("zh"):
        text = pgettext(context, msgid)
    assert CJK.search(text), f"no Chinese for {msgid!r} ({context})"
    return text


@pytest.fixture
def room(app):
    return make_room(zh=True)


@pytest.fixture
def browser(login_as):
    """`browser(user)`: a test client logged in through the login form (tests/conftest.py)."""
    return login_as


def _json_block(html: str, block_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{block_id}">(.*?)</script>', html, re.S)
    assert match, f"page has no {block_id}"
    return json.loads(match.group(1))


def test_the_room_in_chinese(room, browser):
    sid = room["session"].id
    services.ask(room["ts"], sid, "What land is available?", "i18n-q-0000001")
    services.express_interest(room["ts"], sid, {"project_id": room["project"].id, "level": "meeting",
                                                "client_id": "i18n-i-0000001"})

    html = browser(room["sjz"]).get(f"/sessions/{sid}/live").text

    assert '<html lang="zh-CN">' in html
    for msgid in ("Questions", "Your question", "Ask", "Projects pitched", "How interested?", "Note (optional)",
                  "I'm interested", "No approved material yet.", "connecting…"):
        assert zh(msgid) in html, msgid
    with force_locale("zh"):
        assert f'<span class="kind">{kind_label("pitch")}</span>' in html
    # The project has an English title only: the Chinese room names it with the fallback marker.
    title = "Membrane water treatment " + zh("(in English)")
    assert zh("I'm interested in “%(title)s”", title=title) in html
    assert zh("%(count)s / %(max)s characters", count=0, max="1,000") in html
    assert zh_plural("%(num)s vote", "%(num)s votes", 0) in html
    counted = '<span class="count" data-count-for="%d">1</span>' % room["project"].id
    assert zh_plural("%(num)s organisation interested", "%(num)s organisations interested", 1, num=counted) in html
    assert zh_plural("%(num)s person here", "%(num)s people here", 0, num='<span id="live-presence">0</span>') in html
    assert "What land is available?" in html and "Membrane pitch" in html  # people's words stay as written
    config = _json_block(html, "live-config")
    assert config["levels"]["meeting"] == zh("Wants a meeting")


def test_live_js_gets_its_words_in_chinese(room, browser):
    html = browser(room["sjz"]).get(f"/sessions/{room['session'].id}/live").text

    texts = _json_block(html, "live-i18n")

    assert texts["offline_queued"] == zh("offline — %(count)s queued", count="{count}")
    assert texts["state_queued"] == zh_in("outbox", "queued")
    assert texts["state_sent"] == zh_in("outbox", "sent")
    assert texts["votes_one"] == texts["votes_other"] == zh_plural("%(num)s vote", "%(num)s votes", 1, num="{num}")
    assert texts["new_question_from"] == zh("New question from %(organisation)s: %(text)s",
                                            organisation="{organisation}", text="{text}")
    english = [key for key, value in texts.items() if re.search(r"[A-Za-z]{2,}", re.sub(r"\{\w+\}", "", value))]
    assert english == [], "live.js would show English"
    with force_locale("zh"):
        colon = gettext("%(action)s: %(text)s", action="{action}", text="{text}")
    assert texts["action_on"] == colon != "{action}: {text}"  # punctuation too


def test_the_live_js_words_stay_english_for_english_people(room, browser):
    html = browser(room["ts"]).get(f"/sessions/{room['session'].id}/live").text

    texts = _json_block(html, "live-i18n")

    assert (texts["offline_queued"], texts["votes_one"], texts["votes_other"]) == (
        "offline — {count} queued", "{num} vote", "{num} votes")
    assert (texts["state_queued"], texts["state_failed"]) == ("queued", "not sent")


def test_the_moderation_desk_and_projector_in_chinese(room, browser):
    sid = room["session"].id
    asked = services.ask(room["ts"], sid, "What land is available?", "i18n-q-0000002").value
    services.moderate(room["organiser"], asked["id"], "pin")
    client = browser(room["organiser"])

    desk = client.get(f"/sessions/{sid}/moderate").text
    projector = client.get(f"/sessions/{sid}/projector").text

    assert zh("Moderate: %(title)s", title="Membrane pitch") in desk
    for msgid in ("All questions", "Projector view", "Interest", "(staff only)", "No interest expressed yet."):
        assert zh(msgid) in desk, msgid
    assert f'<span class="badge badge-pinned">{zh_in("question", "pinned")}</span>' in desk
    assert f"<title>{zh('Projector: %(title)s', title='Membrane pitch')} · CloudFair</title>" in projector
    assert zh("Top questions") in projector and zh_in("question", "pinned") in projector
    assert '<html lang="zh-CN">' in projector


def _emit(client, event, data):
    return client.emit(event, data, namespace=NS, callback=True)


def test_socket_errors_are_acknowledged_in_the_persons_language(room, connect):
    sid = room["session"].id
    # The handshake asks for English; the person's setting decides.
    chinese = connect(room["sjz"], headers={"Accept-Language": "en-GB,en;q=0.9"})
    english = connect(room["ts"], headers={"Accept-Language": "zh-CN,zh;q=0.9"})

    empty = _emit(chinese, "ask", {"session_id": sid, "text": "  ", "client_id": "i18n-q-0000003"})
    too_long = _emit(chinese, "ask", {"session_id": sid, "text": "x" * 1001, "client_id": "i18n-q-0000004"})
    english_empty = _emit(english, "ask", {"session_id": sid, "text": "", "client_id": "i18n-q-0000005"})

    assert empty["ok"] is False and empty["error"]["code"] == "validation_failed"  # codes stay as they are
    assert empty["error"]["details"]["fields"] == {"text": [zh("Write a question.")]}
    assert zh("Write a question.") in empty["error"]["message"]
    assert too_long["error"]["details"]["fields"] == {"text": [zh("A question has at most %(max)s characters.",
                                                                  max="1,000")]}
    assert english_empty["error"]["details"]["fields"] == {"text": ["Write a question."]}


def test_socket_refusals_by_the_wrapper_and_by_services_are_in_chinese(room, connect):
    sid = room["session"].id
    organiser = connect(room["organiser"])
    attendee = connect(room["sjz"])

    not_an_object = _emit(attendee, "ask", ["not", "an", "object"])
    forbidden = _emit(organiser, "express_interest", {"session_id": sid, "project_id": room["project"].id,
                                                      "level": "info", "client_id": "i18n-i-0000002"})
    missing = _emit(attendee, "vote", {"question_id": 999999})

    assert not_an_object["error"] == {"code": "bad_request", "message": zh("Send a JSON object.")}
    assert forbidden["error"] == {"code": "forbidden", "message": zh("Only attendees express interest.")}
    assert missing["error"] == {"code": "not_found", "message": zh("No such question.")}


def test_an_interest_s_refusal_is_in_the_person_s_language_whatever_the_handshake_asks(room, connect):
    # `express_interest` runs without Flask's request context (events.live_event `plain`): the
    # connection's person decides the language, as for every other event.
    chinese = connect(room["sjz"], headers={"Accept-Language": "en-GB,en;q=0.9"})
    english = connect(room["ts"], headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    for client, expected in ((chinese, zh("No such session.")), (english, "No such session.")):
        refused = _emit(client, "express_interest", {"session_id": 999999, "project_id": room["project"].id,
                                                     "level": "info", "client_id": "i18n-i-0000009"})
        assert refused["error"] == {"code": "not_found", "message": expected}


def test_a_closed_session_says_so_in_chinese(room, connect, browser):
    from app.fairs.enums import SessionStatus
    from app.extensions import db

    room["session"].status = SessionStatus.ENDED
    db.session.commit()
    attendee = connect(room["sjz"])

    refused = _emit(attendee, "ask", {"session_id": room["session"].id, "text": "Too late?",
                                      "client_id": "i18n-q-0000006"})
    html = browser(room["sjz"]).get(f"/sessions/{room['session'].id}/live").text

    expected = zh("This session has ended; it takes no more questions or interest.")
    assert refused["error"] == {"code": "session_closed", "message": expected}
    assert expected in html


def test_a_language_changed_while_connected_answers_the_next_event_in_it(room, connect, app):
    """The connection keeps the person's language from its last read; an event that reads the person
    again (not a kept one) answers in the language set since, in another tab or device."""
    from app.extensions import db

    app.config["LIVE_PERSON_FRESH_SECONDS"] = 0  # an ask reads the person again (a kept read is not reused)
    client = connect(room["sjz"])
    sid = room["session"].id
    before = _emit(client, "ask", {"session_id": sid, "text": " ", "client_id": "i18n-q-0000010"})
    assert before["error"]["details"]["fields"] == {"text": [zh("Write a question.")]}
    room["sjz"].locale = "en"
    db.session.commit()
    after = _emit(client, "ask", {"session_id": sid, "text": " ", "client_id": "i18n-q-0000011"})
    assert after["error"]["details"]["fields"] == {"text": ["Write a question."]}
    assert after["error"]["message"] and zh("Write a question.") not in after["error"]["message"]
