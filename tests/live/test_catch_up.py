"""Catching up from the event log: `GET /sessions/<id>/events?since_seq=`, Socket.IO `catch_up`, and
`join` with `since_seq` return exactly the events after a number, one per number (a `skip` for each
staff-only event an attendee may not see), so a client fills any gap; an event stored by a process
that died before sending it is found this way."""

from __future__ import annotations

from app.live import broadcast, services
from tests.conftest import held_sends, send_held
from tests.factories import make_user
from tests.live.test_events import NS, _emit, _events, room  # noqa: F401  (fixtures)


def _interest(client, room, client_id, level="meeting"):
    ack = _emit(client, "express_interest", {"session_id": room["session"].id, "project_id": room["project"].id,
                                             "level": level, "note": "", "client_id": client_id})
    assert ack["ok"] is True, ack
    return ack


def _ask(client, room, text, client_id):
    ack = _emit(client, "ask", {"session_id": room["session"].id, "text": text, "client_id": client_id})
    assert ack["ok"] is True, ack
    return ack["question"]


def _numbers(body) -> list[tuple[str, int]]:
    return [(e["event"], e["data"]["seq"]) for e in body["events"]]


def test_the_http_twin_returns_exactly_the_events_after_a_number(client, auth, room, connect):
    sid = room["session"].id
    sjz, ts = connect(room["sjz"]), connect(room["ts"])
    _ask(sjz, room, "First", "q-catch-00001")          # 1
    _interest(ts, room, "i-catch-00001")              # 2 interest (staff), 3 interest_count
    _ask(sjz, room, "Second", "q-catch-00002")         # 4

    attendee = client.get(f"/api/v1/sessions/{sid}/events?since_seq=1", headers=auth(room["sjz"]))
    assert attendee.status_code == 200, attendee.text
    body = attendee.json
    assert body["seq"] == 4 and body["reset"] is False and body["session_id"] == sid
    # The staff-only detail is a bare number for an attendee: no gap, nothing to read.
    assert _numbers(body) == [("skip", 2), ("interest_count", 3), ("question", 4)]
    assert body["events"][0]["data"] == {"session_id": sid, "seq": 2}
    assert body["events"][2]["data"]["text"] == "Second" and body["events"][2]["data"]["mine"] is True

    staff = client.get(f"/api/v1/sessions/{sid}/events?since_seq=1", headers=auth(room["organiser"])).json
    assert _numbers(staff) == [("interest", 2), ("interest_count", 3), ("question", 4)]
    assert staff["events"][0]["data"]["organisation"] == "Tangshan Commerce Bureau"

    assert client.get(f"/api/v1/sessions/{sid}/events?since_seq=4", headers=auth(room["sjz"])).json["events"] == []


def test_join_with_since_seq_and_the_socket_twin_say_the_same(client, auth, room, connect):
    sid = room["session"].id
    sjz, ts = connect(room["sjz"]), connect(room["ts"])
    _ask(sjz, room, "First", "q-twin-000001")
    _interest(ts, room, "i-twin-000001")
    over_http = client.get(f"/api/v1/sessions/{sid}/events?since_seq=0", headers=auth(room["ts"])).json
    joined = _emit(ts, "join", {"session_id": sid, "since_seq": 0})
    caught = _emit(ts, "catch_up", {"session_id": sid, "since_seq": 0})
    assert caught["ok"] is True
    assert joined["events"] == over_http["events"] == caught["events"]
    assert _numbers(over_http) == [("question", 1), ("skip", 2), ("interest_count", 3)]


def test_an_event_stored_but_never_sent_is_found_by_the_next_catch_up(client, auth, room, connect, monkeypatch):
    """A process killed between its commit and its broadcast: the listener hears the next event,
    sees the gap in the numbers, and the catch-up brings the lost one."""
    sid = room["session"].id
    sjz, ts = connect(room["sjz"]), connect(room["ts"])
    _emit(ts, "join", {"session_id": sid})
    ts.get_received(NS)
    real_send = broadcast.send
    monkeypatch.setattr(broadcast, "send", lambda events: None)
    lost = _ask(sjz, room, "Stored, never sent", "q-lost-000001")
    monkeypatch.setattr(broadcast, "send", real_send)
    _ask(sjz, room, "Sent", "q-lost-000002")
    heard = [data["seq"] for name, data in _events(ts, "question")]
    assert heard == [2]  # a gap at 1
    body = client.get(f"/api/v1/sessions/{sid}/events?since_seq=0", headers=auth(room["ts"])).json
    assert [(e["data"]["seq"], e["data"].get("text")) for e in body["events"]] == [
        (1, "Stored, never sent"), (2, "Sent")]
    assert body["events"][0]["data"]["id"] == lost["id"]


def test_a_staff_only_event_reaches_the_room_as_a_skip(room, connect):
    sid = room["session"].id
    ts, agent = connect(room["ts"]), connect(room["agent"])
    _emit(ts, "join", {"session_id": sid})
    _emit(agent, "join", {"session_id": sid})
    ts.get_received(NS)
    agent.get_received(NS)
    _interest(ts, room, "i-skip-000001")
    room_heard = {name: data for name, data in _events(ts) if name in ("skip", "interest")}
    assert room_heard == {"skip": {"session_id": sid, "seq": 1, "seqs": [1]}}
    assert [data["seq"] for name, data in _events(agent, "interest")] == [1]


def _people_interested(room, connect, names, prefix):
    for n, name in enumerate(names):
        _interest(connect(make_user("attendee", organisation=name)), room, f"{prefix}-{n:06d}")


def test_a_burst_of_staff_only_numbers_reaches_the_room_as_one_skip(app, room, connect, monkeypatch):
    """The first number at once; those within LIVE_SKIP_MS after it folded into one `skip` carrying
    each (a room of 1,000 hears a burst of interests as a few messages, not one per interest)."""
    app.config.update(LIVE_SKIP_MS=60_000, LIVE_COUNT_INTERVAL=60)  # the counts' own fold stays out of the way
    held = held_sends(monkeypatch, "skip")
    sid = room["session"].id
    listener = connect(room["ts"])
    _emit(listener, "join", {"session_id": sid})
    listener.get_received(NS)
    _people_interested(room, connect, ["Park A", "Park B", "Park C", "Park D"], "i-fold")
    heard = [(name, data) for name, data in _events(listener) if name in ("skip", "interest", "interest_count")]
    # 1 interest (skip at once), 2 its count (at once), 3-5 interests: folded, not yet sent
    assert heard == [("skip", {"session_id": sid, "seq": 1, "seqs": [1]}),
                     ("interest_count", {"session_id": sid, "seq": 2, "project_id": room["project"].id, "count": 1})]

    assert len(held) == 1  # one send scheduled for the rest of the interval
    send_held(held)
    heard.extend((name, data) for name, data in _events(listener) if name == "skip")
    assert [data for name, data in heard if name == "skip"][1:] == [{"session_id": sid, "seq": 5, "seqs": [3, 4, 5]}]


def test_a_room_event_brings_the_numbers_pending_before_it(app, room, connect, monkeypatch):
    """A question after a folded-but-unsent number: the room hears the skip first, then the question,
    and the scheduled send finds nothing left (no number twice)."""
    app.config.update(LIVE_SKIP_MS=60_000, LIVE_COUNT_INTERVAL=60)
    held = held_sends(monkeypatch, "skip")
    sid = room["session"].id
    listener, asker = connect(room["ts"]), connect(room["sjz"])
    _emit(listener, "join", {"session_id": sid})
    listener.get_received(NS)
    _people_interested(room, connect, ["Park A", "Park B"], "i-pend")  # 1 (skip), 2 (count), 3 (pending)
    _ask(asker, room, "After the interests", "q-pend-00001")  # 4
    assert len(held) == 1
    send_held(held)  # the scheduled send, had anything been left, would send it now
    heard = [(name, data["seq"], data.get("seqs")) for name, data in _events(listener)
             if name in ("skip", "interest_count", "question")]
    assert heard == [("skip", 1, [1]), ("interest_count", 2, None), ("skip", 3, [3]), ("question", 4, None)]


def test_too_far_behind_or_ahead_is_a_reset(client, auth, room, connect, monkeypatch):
    sid = room["session"].id
    sjz = connect(room["sjz"])
    for n in range(3):
        _ask(sjz, room, f"Question {n}", f"q-reset-{n:05d}")
    headers = auth(room["sjz"])
    ahead = client.get(f"/api/v1/sessions/{sid}/events?since_seq=9", headers=headers).json
    assert ahead == {"session_id": sid, "seq": 3, "reset": True, "events": []}
    monkeypatch.setattr(services, "REPLAY_LIMIT", 2)
    assert client.get(f"/api/v1/sessions/{sid}/events?since_seq=0", headers=headers).json["reset"] is True
    assert client.get(f"/api/v1/sessions/{sid}/events?since_seq=1", headers=headers).json["reset"] is False


def test_the_catch_up_needs_a_number_and_a_session_one_may_see(client, auth, room, connect):
    sid = room["session"].id
    headers = auth(room["sjz"])
    assert client.get(f"/api/v1/sessions/{sid}/events", headers=headers).status_code == 422
    assert client.get(f"/api/v1/sessions/{sid}/events?since_seq=-1", headers=headers).status_code == 422
    assert client.get(f"/api/v1/sessions/{sid}/events?since_seq=0").status_code == 401
    assert client.get("/api/v1/sessions/99999/events?since_seq=0", headers=headers).status_code == 404
    bad = _emit(connect(room["sjz"]), "catch_up", {"session_id": sid, "since_seq": "x"})
    assert bad["ok"] is False and bad["error"]["code"] == "validation_failed"


def test_the_page_knows_where_to_catch_up_and_how_long_to_wait(client, login, room):
    login(room["sjz"])
    page = client.get(f"/sessions/{room['session'].id}/live")
    assert page.status_code == 200
    assert f'"events_url": "/api/v1/sessions/{room["session"].id}/events"' in page.text
    assert '"reorder_ms": 300' in page.text and '"head_poll_seconds": 15' in page.text
