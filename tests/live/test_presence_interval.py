"""A room's presence count is broadcast at most every `LIVE_COUNT_INTERVAL`, and a large room's less
often (`LIVE_PRESENCE_DELIVERIES`): each broadcast is one message per person, so in a join storm the
count's deliveries stay bounded instead of growing with the square of the room."""

from __future__ import annotations

from app.live import presence
from tests.conftest import held_sends, send_held
from tests.live.test_events import NS, room  # noqa: F401  (fixture)


def _emit(client, name, data):
    return client.emit(name, data, namespace=NS, callback=True)


def _presence(client) -> list[int]:
    return [m["args"][0]["count"] for m in client.get_received(NS) if m["name"] == "presence"]


def test_the_interval_grows_with_the_room(app):
    app.config.update(LIVE_COUNT_INTERVAL=0.5, LIVE_PRESENCE_DELIVERIES=2000)
    counted = presence._state()["counted"]
    for people, seconds in ((0, 0.5), (400, 0.5), (1000, 0.5), (2000, 1.0), (6500, 3.25)):
        counted[77] = people
        assert presence.interval(77) == seconds
    app.config["LIVE_PRESENCE_DELIVERIES"] = 0  # no bound
    assert presence.interval(77) == 0.5


def test_joins_into_a_large_room_are_folded_into_one_later_count(app, room, connect, monkeypatch):
    app.config.update(LIVE_COUNT_INTERVAL=0.0, LIVE_PRESENCE_DELIVERIES=0.05)  # one person: a 20 s interval
    held = held_sends(monkeypatch, "presence-own")  # a large room's: each process to its own people
    sid = room["session"].id
    listener = connect(room["organiser"])
    assert _emit(listener, "join", {"session_id": sid})["presence"] == 1
    for person in (room["sjz"], room["ts"]):
        assert _emit(connect(person), "join", {"session_id": sid})["ok"] is True
    counts = _presence(listener)
    assert counts == [1]  # the first at once; the next two joins wait for the room's interval
    assert len(held) == 1 and held[0][-1] > 10  # one send scheduled, at the end of the large room's interval
    send_held(held)
    assert counts + _presence(listener) == [1, 3]


def test_without_a_bound_every_join_is_heard_at_once(app, room, connect):
    app.config.update(LIVE_COUNT_INTERVAL=0.0, LIVE_PRESENCE_DELIVERIES=0)
    sid = room["session"].id
    listener = connect(room["organiser"])
    _emit(listener, "join", {"session_id": sid})
    for person in (room["sjz"], room["ts"]):
        _emit(connect(person), "join", {"session_id": sid})
    assert _presence(listener) == [1, 2, 3]


def test_a_storm_s_joins_read_the_count_once_per_interval(app, room, connect, monkeypatch):
    """Each count walks the whole room; within a large room's interval a join's reply adds itself to
    the count read last, and the broadcast after the interval carries a fresh count."""
    app.config.update(LIVE_COUNT_INTERVAL=0.0, LIVE_PRESENCE_DELIVERIES=0.1)  # one person: a 10 s interval
    reads = []
    real = presence.count
    monkeypatch.setattr(presence, "count", lambda session_id: reads.append(session_id) or real(session_id))
    sid = room["session"].id
    replies = [_emit(connect(person), "join", {"session_id": sid})["presence"]
               for person in (room["organiser"], room["sjz"], room["ts"])]
    assert replies == [1, 2, 3]
    assert len(reads) == 2  # the first join's reply and the first (immediate) broadcast; the rest kept
    again = connect(room["sjz"])  # the same person on a second device: not a new person
    assert _emit(again, "join", {"session_id": sid})["presence"] == 3
    app.config["LIVE_COUNT_INTERVAL"] = 0.0
    app.config["LIVE_PRESENCE_DELIVERIES"] = 0
    assert _emit(connect(room["agent"]), "join", {"session_id": sid})["presence"] == 4 and len(reads) > 2


def test_a_room_of_ordinary_size_reads_the_count_for_every_join(app, room, connect, monkeypatch):
    app.config.update(LIVE_COUNT_INTERVAL=30.0, LIVE_PRESENCE_DELIVERIES=2000)  # 3 people: the base interval
    reads = []
    real = presence.count
    monkeypatch.setattr(presence, "count", lambda session_id: reads.append(session_id) or real(session_id))
    sid = room["session"].id
    for person in (room["organiser"], room["sjz"], room["ts"]):
        assert _emit(connect(person), "join", {"session_id": sid})["ok"] is True
    assert len(reads) == 4  # each reply, and the first broadcast (the others wait for the interval)


def test_a_large_room_s_count_goes_to_each_process_s_own_people_and_a_small_one_s_through_the_queue(app, monkeypatch):
    """Through the message queue every process's broadcast reached everyone (each person heard the count
    once per process); a large room's count now stays with the process that sends it."""
    from app.extensions import socketio

    sent = []
    monkeypatch.setattr(socketio.server, "emit", lambda name, data, **kwargs: sent.append((name, kwargs["ignore_queue"])))
    monkeypatch.setattr(presence, "count", lambda session_id: 4321)
    app.config.update(LIVE_COUNT_INTERVAL=0.5, LIVE_PRESENCE_DELIVERIES=2000)  # large: above 1,000 people
    counted = presence._state()["counted"]
    counted[91], counted[92] = 6500, 900
    presence.changed(91)
    presence.changed(92)
    assert sent == [("presence", True), ("presence", False)]


def test_without_redis_presence_gathers_nothing_and_counts_in_memory(app, room, connect, monkeypatch):
    """No `REDIS_URL` (one process): connects, joins and counts never wait in the group of Redis calls
    (`presence._together`), whose batch could only fail; the count is this process's own."""
    app.config["REDIS_URL"] = None
    submitted = []
    monkeypatch.setattr(presence._state()["together"], "submit", submitted.append)
    sid = room["session"].id
    first, second = connect(room["organiser"]), connect(room["sjz"])
    assert second.emit("join", {"session_id": sid}, namespace=NS, callback=True)["presence"] == 1
    assert first.emit("join", {"session_id": sid}, namespace=NS, callback=True)["presence"] == 2
    assert presence.count(sid) == 2 and submitted == []
