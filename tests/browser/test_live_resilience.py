"""The room page holds events by `seq` and fills gaps from the event log, in Chromium against the real server.

A question is stored beside the server, the way a process killed between its commit and its broadcast
leaves one: in the event log, never sent. The page must still show it: when the next event arrives
(it sees the gap in the numbers, waits LIVE_REORDER_MS, fetches what is missing), and when nothing
follows (its periodic look at the log's head, every LIVE_HEAD_POLL_SECONDS).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
from playwright.sync_api import expect

from .conftest import ROOT
from .test_live import SJZ, TS, ask, enter, question, tag  # the membrane fixture is in conftest.py

pytestmark = pytest.mark.browser

#: Stores a question as a process would that dies right after its commit: services.ask with the
#: broadcasts turned off, on the server's own database.
STORE_WITHOUT_SENDING = textwrap.dedent("""
    import sys, uuid
    from sqlalchemy import select
    from wsgi import app
    from app.accounts.models import User
    from app.live import broadcast, services
    broadcast.send = lambda events: None
    broadcast.send_personal = lambda *args, **kwargs: None
    with app.app_context():
        from app.extensions import db
        user = db.session.scalar(select(User).where(User.email == sys.argv[1]))
        services.ask(user, int(sys.argv[2]), sys.argv[3], str(uuid.uuid4()))
""")


def store_without_sending(live_server, email: str, session_id: int, text: str) -> None:
    done = subprocess.run([sys.executable, "-c", STORE_WITHOUT_SENDING, email, str(session_id), text],
                          cwd=ROOT, env=live_server.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_question_stored_but_never_sent_appears_when_the_next_one_arrives(page_as, live_server, membrane):
    listener, asker = enter(page_as(TS), membrane), enter(page_as(SJZ), membrane)
    lost, sent = f"Stored but never sent ({tag()})", f"Sent after it ({tag()})"
    store_without_sending(live_server, SJZ, membrane["id"], lost)
    ask(asker, sent)
    # The listener hears the second question with a number one too far ahead: it fetches the first.
    expect(question(listener, sent)).to_be_visible()
    expect(question(listener, lost)).to_be_visible()
    listener.reload()  # and the page drawn afresh agrees
    expect(question(listener, lost)).to_be_visible()


def test_a_lost_last_event_arrives_by_the_look_at_the_head_of_the_log(page_as, live_server, membrane):
    listener = enter(page_as(TS), membrane)
    lost = f"The last event, never sent ({tag()})"
    store_without_sending(live_server, SJZ, membrane["id"], lost)
    # Nothing follows it: only the periodic look at the log (15 s by default) can bring it.
    expect(question(listener, lost)).to_be_visible(timeout=25_000)
    assert listener.locator("#questions .question").filter(has_text=lost).count() == 1


def test_a_refused_reconnection_asks_the_person_to_log_in_again(page_as, membrane):
    """The refusal's reason arrives as JSON data (`{"code": "unauthorized", ...}`), which the page reads."""
    page = enter(page_as(TS), membrane)
    page.context.clear_cookies()  # signed out elsewhere: the next connection has no sign-in
    page.context.set_offline(True)  # the page drops its connection at once ...
    expect(page.locator("#live-conn")).not_to_have_attribute("data-state", "connected")
    page.context.set_offline(False)  # ... and reconnects, to be refused
    expect(page.locator("#ask-status")).to_have_text("Log in again to take part.", timeout=20_000)


def test_a_folded_skip_passes_over_every_number_it_carries(page_as, membrane):
    """Staff-only numbers reach the room folded (`{"seqs": [...]}`): the page passes over each, so the
    event after them is applied at once. The event log is out of reach here: a page that took only
    the skip's last number would wait for the others forever."""
    page = page_as(TS)
    page.route(re.compile(r"/events\?since_seq="), lambda route: route.abort())
    sockets, upgraded = [], []

    def relay(ws):
        server = ws.connect_to_server()
        ws.on_message(lambda message: (upgraded.append(message == "5"), server.send(message)))
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/socket\.io/"), relay)
    enter(page, membrane)
    for _ in range(100):  # Engine.IO moves from long-polling to the WebSocket ("5": upgrade)
        if any(upgraded):
            break
        page.wait_for_timeout(100)
    assert any(upgraded), "the page never upgraded to a WebSocket"
    seq = page.request.get(f"/api/v1/sessions/{membrane['id']}/events?since_seq=0").json()["seq"]
    sid, ws = membrane["id"], sockets[-1]
    ws.send("42/live," + json.dumps(["skip", {"session_id": sid, "seq": seq + 2, "seqs": [seq + 1, seq + 2]}]))
    ws.send("42/live," + json.dumps(["interest_count", {"session_id": sid, "seq": seq + 3,
                                                        "project_id": membrane["project_id"], "count": 987}]))
    expect(page.locator(f'[data-count-for="{membrane["project_id"]}"]').first).to_contain_text("987")
