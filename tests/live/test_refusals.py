"""Refusals the page can read: a refused connection's reason as JSON data, a reused `client_id`
with other content as 409 on both transports, and long-polling payloads of a realistic size."""

from __future__ import annotations

import json

import pytest
from flask_socketio import ConnectionRefusedError
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from app.extensions import db
from app.leads.models import Interest
from app.live import events
from app.live.models import Question
from tests.i18n import zh
from tests.live.conftest import ask_twice_over_http
from tests.live.test_events import NS, _emit, room  # noqa: F401  (fixtures)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- the refusal reason


def _handshake(app, **headers) -> dict:
    """The WSGI environ of a Socket.IO handshake, as python-socketio hands it to the connect handler."""
    environ = EnvironBuilder("/socket.io/", headers=headers).get_environ()
    environ["flask.app"] = app
    return environ


def test_a_refused_connection_carries_code_and_message_as_json_data(app):
    with pytest.raises(ConnectionRefusedError) as refused:
        events.on_connect("a-sid", _handshake(app), {"token": "forged-token"})
    message = "Log in or send a valid API token."
    # What the client gets as `connect_error`: error.message, and error.data an object (not a repr).
    assert refused.value.error_args == {"message": message, "data": {"code": "unauthorized", "message": message}}
    json.dumps(refused.value.error_args)


def test_a_foreign_origin_is_refused_with_its_own_code(app):
    with pytest.raises(ConnectionRefusedError) as refused:
        events.on_connect("a-sid", _handshake(app, Origin="https://evil.example"), {"token": "whatever"})
    assert refused.value.error_args["data"]["code"] == "forbidden_origin"


def test_a_refusal_speaks_the_language_the_handshake_asks_for(app):
    """A token connect runs without a request context; its refusal is still worded in the handshake's
    language, as before (the request context is made for the refusal alone)."""
    with pytest.raises(ConnectionRefusedError) as refused:
        events.on_connect("a-sid", _handshake(app, **{"Accept-Language": "zh-CN,zh;q=0.9"}), {"token": "forged-token"})
    message = refused.value.error_args["data"]["message"]
    assert message != "Log in or send a valid API token." and message == zh("Log in or send a valid API token.")


# ---------------------------------------------------------------- client ids


def test_a_reused_client_id_with_another_question_is_409_over_socketio(room, connect):
    client = connect(room["sjz"])
    sid = room["session"].id
    first = _emit(client, "ask", {"session_id": sid, "text": "Subsidies?", "client_id": "q-reuse-00001"})
    same = _emit(client, "ask", {"session_id": sid, "text": "Subsidies?", "client_id": "q-reuse-00001"})
    assert same["ok"] is True and same["duplicate"] is True and same["question"]["id"] == first["question"]["id"]
    other = _emit(client, "ask", {"session_id": sid, "text": "Land prices?", "client_id": "q-reuse-00001"})
    assert other["ok"] is False and other["error"]["code"] == "client_id_reused"
    assert [q.text for q in db.session.scalars(select(Question))] == ["Subsidies?"]


def test_a_reused_client_id_with_another_interest_is_409_over_socketio(room, connect):
    client = connect(room["sjz"])
    body = {"session_id": room["session"].id, "project_id": room["project"].id, "level": "meeting",
            "note": "March", "client_id": "i-reuse-00001"}
    assert _emit(client, "express_interest", body)["duplicate"] is False
    assert _emit(client, "express_interest", body)["duplicate"] is True
    for change in ({"level": "intent"}, {"note": "April"}, {"project_id": room["other_project"].id}):
        refused = _emit(client, "express_interest", {**body, **change})
        assert refused["ok"] is False and refused["error"]["code"] == "client_id_reused", change
    assert _count(Interest) == 1


def test_a_reused_client_id_with_other_content_is_409_over_http(client, auth, room):
    sid = room["session"].id
    headers = auth(room["sjz"])
    ask_twice_over_http(client, headers, sid, "Over HTTP", "q-http-reuse1")
    other = client.post(f"/api/v1/sessions/{sid}/questions", json={"text": "Something else", "client_id": "q-http-reuse1"},
                        headers=headers)
    assert other.status_code == 409 and other.json["error"]["code"] == "client_id_reused"

    body = {"project_id": room["project"].id, "level": "info", "note": "", "client_id": "i-http-reuse1"}
    assert client.post(f"/api/v1/sessions/{sid}/interests", json=body, headers=headers).status_code == 201
    assert client.post(f"/api/v1/sessions/{sid}/interests", json=body, headers=headers).status_code == 200
    changed = client.post(f"/api/v1/sessions/{sid}/interests", json={**body, "level": "intent"}, headers=headers)
    assert changed.status_code == 409 and changed.json["error"]["code"] == "client_id_reused"
    assert _count(Interest) == 1


# ---------------------------------------------------------------- long-polling payloads


def _polling(client, sid=None, data=None):
    url = "/socket.io/?EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    if data is None:
        return client.get(url)
    return client.post(url, data=data.encode(), content_type="text/plain;charset=UTF-8")


def test_forty_queued_actions_in_one_long_polling_request_are_all_acknowledged(app, client, auth, room, monkeypatch):
    """Engine.IO's default refuses a payload of more than 16 packets (HTTP 400): a page coming back
    online with its outbox would lose the burst. LIVE_MAX_PACKETS_PER_PAYLOAD raises it."""
    from app.extensions import socketio

    # Handlers run in the request's own thread, one after the other (the in-memory test database
    # is one connection); the transport's limit is what is tested.
    monkeypatch.setattr(socketio.server, "async_handlers", False)
    app.config["LIVE_BURST"] = 100  # the limits are not what is tested here
    token = auth(room["sjz"])["Authorization"][7:]
    opened = _polling(client)
    assert opened.status_code == 200
    sid = json.loads(opened.text[1:])["sid"]
    assert _polling(client, sid, "40/live," + json.dumps({"token": token})).text == "OK"
    assert '"sid"' in _polling(client, sid).text  # the namespace is connected
    packets = [
        f"42/live,{n}" + json.dumps(["ask", {"session_id": room["session"].id, "text": f"Queued question {n}",
                                             "client_id": f"q-burst-{n:05d}"}])
        for n in range(40)
    ]
    sent = _polling(client, sid, "\x1e".join(packets))
    assert sent.status_code == 200, sent.text
    acks = []
    for _ in range(10):
        acks += [p for p in _polling(client, sid).text.split("\x1e") if p.startswith("43/live,")]
        if len(acks) >= 40:
            break
    assert len(acks) == 40
    assert [json.loads(a[a.index("["):])[0]["ok"] for a in acks] == [True] * 40, acks[:3]
    assert _count(Question) == 40
