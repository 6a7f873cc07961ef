"""A live connection's events leave nothing for the cycle collector: each event's request context (its
request, session and the rate limiter's state) is freed when the event ends, not by a full pass of the
collector, whose pauses grow with everything a storm left behind (`events._no_routing_cycle`)."""

from __future__ import annotations

import gc

from flask import Request
from flask.ctx import AppContext, RequestContext

from tests.live.test_events import NS, room  # noqa: F401  (fixture)


def test_connecting_asking_and_leaving_leave_no_reference_cycles(room, connect):
    sid = room["session"].id
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a pass would free is kept in gc.garbage to be looked at
    try:
        client = connect(room["sjz"])
        asked = client.emit("ask", {"session_id": sid, "text": "Land prices in Langfang?", "client_id": "gc-ask-0000001"},
                            namespace=NS, callback=True)
        client.disconnect(namespace=NS)
        gc.collect()
        cycles = [type(o).__name__ for o in gc.garbage if isinstance(o, (RequestContext, AppContext, Request))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert asked["ok"] is True
    assert cycles == []


def test_a_token_connect_and_its_disconnect_make_no_request_context(app, room, connect, auth, monkeypatch):
    """Connecting with a token and leaving need nothing of a request (Flask-SocketIO's request context
    per event was a tenth of a join storm's worker); a page's connect (cookie) still makes one."""
    made = []
    original = type(app).request_context
    monkeypatch.setattr(type(app), "request_context", lambda self, environ: made.append(environ) or original(self, environ))
    client = connect(token=auth(room["sjz"])["Authorization"][7:])
    assert client.is_connected(NS)
    client.disconnect(namespace=NS)
    assert made == []
