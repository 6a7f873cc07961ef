"""Counts, tallies and a room's presence folded once for every process (`live.broadcast._send_folded`): with
Redis, the first process whose send falls in a quiet interval sends every process's waiting changes,
and the others' changes wait in Redis for the next send instead of each process sending its own.
Two processes are two callers with their own `flush` here: the fold keeps nothing per process but the
changes it hands to Redis. Needs TEST_REDIS_URL."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
import redis

from app.live import broadcast
from tests.conftest import wait_until

URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="needs TEST_REDIS_URL (a real Redis)")


@pytest.fixture
def shared_app(app):
    prefix = f"cf-test-fold-{uuid.uuid4().hex}"
    app.config.update(REDIS_URL=URL, REDIS_KEY_PREFIX=prefix)
    app.extensions.pop("cloudfair.shared", None)
    yield app
    client = redis.Redis.from_url(URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


class Process:
    """One server process's sends of a kind: what each of its `flush` calls got."""

    def __init__(self):
        self.sent: list[set] = []
        self.lock = threading.Lock()

    def flush(self, items):
        with self.lock:
            self.sent.append(set(items))


def test_changes_of_two_processes_within_an_interval_go_out_once(shared_app):
    a, b = Process(), Process()
    broadcast._send_folded(shared_app, "count", 9, {1}, a.flush, 0.3)
    assert a.sent == [{1}]  # a quiet interval: at once
    broadcast._send_folded(shared_app, "count", 9, {2}, b.flush, 0.3)  # within it: waits in Redis
    broadcast._send_folded(shared_app, "count", 9, {3}, a.flush, 0.3)
    assert b.sent == [] and a.sent == [{1}]
    assert wait_until(lambda: len(a.sent) + len(b.sent) == 2)
    time.sleep(0.7)  # both retried by now: the one that came second found nothing waiting
    later = a.sent[1:] + b.sent
    assert later == [{2, 3}], (a.sent, b.sent)  # one send for both processes' changes


def test_each_kind_and_session_has_its_own_interval(shared_app):
    a = Process()
    broadcast._send_folded(shared_app, "count", 9, {1}, a.flush, 5)
    broadcast._send_folded(shared_app, "votes", 9, {1}, a.flush, 5)
    broadcast._send_folded(shared_app, "count", 10, {1}, a.flush, 5)
    assert a.sent == [{1}, {1}, {1}]


def test_without_redis_or_without_an_interval_each_process_sends_its_own_at_once(shared_app):
    a, b = Process(), Process()
    broadcast._send_folded(shared_app, "count", 9, {1}, a.flush, 0)  # no folding asked for
    broadcast._send_folded(shared_app, "count", 9, {2}, b.flush, 0)
    assert a.sent == [{1}] and b.sent == [{2}]
    assert not list(redis.Redis.from_url(URL).scan_iter(f"{shared_app.config['REDIS_KEY_PREFIX']}:*"))
    shared_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    shared_app.extensions.pop("cloudfair.shared", None)
    broadcast._send_folded(shared_app, "count", 9, {3}, a.flush, 5)
    broadcast._send_folded(shared_app, "count", 9, {4}, b.flush, 5)
    assert a.sent == [{1}, {3}] and b.sent == [{2}, {4}]  # degraded: as before the fold was shared


def test_a_large_room_s_presence_and_skips_are_not_folded_across_processes(shared_app):
    a, b = Process(), Process()
    for name, item in (("presence-own", 9), ("skip", 41)):
        broadcast._send_folded(shared_app, name, 9, {item}, a.flush, 5)
        broadcast._send_folded(shared_app, name, 9, {item}, b.flush, 5)
    assert a.sent == [{9}, {41}] and b.sent == [{9}, {41}]


def _presence_sends(app, monkeypatch, people: int) -> list[bool]:
    """Two processes' presence changes in one room of `people` within an interval; what went out at once
    (each send: whether it stayed with its process's own people)."""
    from app.extensions import socketio
    from app.live import presence

    sent = []
    monkeypatch.setattr(socketio.server, "emit", lambda name, data, **kwargs: sent.append(kwargs["ignore_queue"]))
    monkeypatch.setattr(presence, "count", lambda session_id: people)
    app.config.update(LIVE_COUNT_INTERVAL=0.3, LIVE_PRESENCE_DELIVERIES=2000)
    presence._state()["counted"][93] = people
    presence.changed(93)  # the first process
    app.extensions.pop("cloudfair.presence_throttles", None)  # the second: a throttle of its own
    app.extensions.pop("cloudfair.presence-own_throttles", None)
    presence.changed(93)
    return sent


def test_a_room_s_presence_goes_out_once_for_every_process(shared_app, monkeypatch):
    """A room of ordinary size hears its count through the message queue: once per interval from the
    process that takes it, not once from each process (each person heard it twice on two processes)."""
    sent = _presence_sends(shared_app, monkeypatch, 400)
    assert sent == [False]  # the second process's change waits in Redis for the next interval
    assert wait_until(lambda: len(sent) == 2)  # then goes out, with the count read then
    time.sleep(0.5)
    assert sent == [False, False]


def test_a_large_room_s_presence_stays_with_each_process_s_own_people(shared_app, monkeypatch):
    assert _presence_sends(shared_app, monkeypatch, 6500) == [True, True]
