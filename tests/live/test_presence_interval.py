"""A room's presence count is broadcast at most every `LIVE_COUNT_INTERVAL`, and a large room's less
often (`LIVE_PRESENCE_DELIVERIES`): each broadcast is one message per person, so in a join storm the
count's deliveries stay bounded instead of growing with the square of the room."""

from __future__ import annotations

from app.live import presence
from tests.conftest import wait_until
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


def test_joins_into_a_large_room_are_folded_into_one_later_count(app, room, connect):
    app.config.update(LIVE_COUNT_INTERVAL=0.0, LIVE_PRESENCE_DELIVERIES=2.0)  # two people a second: "large"
    sid = room["session"].id
    listener = connect(room["organiser"])
    assert _emit(listener, "join", {"session_id": sid})["presence"] == 1
    for person in (room["sjz"], room["ts"]):
        assert _emit(connect(person), "join", {"session_id": sid})["ok"] is True
    counts = _presence(listener)
    assert counts == [1]  # the first at once; the next two joins wait for the room's interval

    def folded_arrived() -> bool:
        counts.extend(_presence(listener))
        return len(counts) > 1

    assert wait_until(folded_arrived, timeout=5)
    assert counts == [1, 3]


def test_without_a_bound_every_join_is_heard_at_once(app, room, connect):
    app.config.update(LIVE_COUNT_INTERVAL=0.0, LIVE_PRESENCE_DELIVERIES=0)
    sid = room["session"].id
    listener = connect(room["organiser"])
    _emit(listener, "join", {"session_id": sid})
    for person in (room["sjz"], room["ts"]):
        _emit(connect(person), "join", {"session_id": sid})
    assert _presence(listener) == [1, 2, 3]
