"""The message queue's publisher (`live.queue.ResilientRedisManager`): emits at once go out in one
pipeline, each emit has been sent when it returns (also from a thread with no event loop, as in the
scheduler's process), and a Redis failure drops only what was being sent (this process's own clients
have it already) and is tried again after the pause.
Needs TEST_REDIS_URL (a real Redis, on a channel of the test's own)."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import redis

from app.live.queue import ResilientRedisManager
from tests.conftest import filling, in_threads

URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="needs TEST_REDIS_URL (a real Redis)")


def _manager(url: str, channel: str, retry_seconds: float = 0.2) -> ResilientRedisManager:
    return ResilientRedisManager(url, channel=channel, retry_seconds=retry_seconds, timeout_seconds=0.3)


def _filled(manager: ResilientRedisManager, size: int) -> None:
    """Make the manager's first batch wait until `size` emits are queued (so the batch is known)."""
    manager._outbox._pause = filling(lambda: manager._outbox, size)


def _listen(channel: str):
    pubsub = redis.Redis.from_url(URL).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    pubsub.get_message(timeout=1)  # the subscription's confirmation
    return pubsub


def _received(pubsub, count: int) -> list[dict]:
    out, deadline = [], time.monotonic() + 5
    while len(out) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message:
            out.append(json.loads(message["data"]))
    return out


def test_emits_at_once_go_out_in_one_pipeline_and_each_returns_once_sent(redis_pipelines):
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _manager(URL, channel)
    pubsub = _listen(channel)
    _filled(manager, 40)

    in_threads([lambda n=n: manager._publish({"method": "emit", "event": "e", "data": [n]}) for n in range(40)])

    assert redis_pipelines == [40]  # one round trip for the forty
    assert sorted(m["data"][0] for m in _received(pubsub, 40)) == list(range(40))


def test_an_emit_outside_a_server_s_loop_is_sent_before_it_returns():
    """The scheduler's process emits from a plain thread, with no event loop to run anything later:
    its message is on Redis when `emit` returns."""
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _manager(URL, channel)
    pubsub = _listen(channel)
    for n in range(3):
        manager._publish({"method": "emit", "event": "e", "data": [n]})
        [message] = _received(pubsub, 1)
        assert message["data"] == [n]


def test_a_failed_publish_is_dropped_and_publishing_resumes_after_the_pause(monkeypatch):
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _manager(URL, channel, retry_seconds=1.0)  # a pause no stall of a loaded machine outlasts
    pubsub = _listen(channel)
    failing = {"on": True}
    original = redis.client.Pipeline.execute

    def execute(self, *args, **kwargs):
        if failing["on"]:
            raise redis.ConnectionError("down")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    manager._publish({"method": "emit", "event": "e", "data": ["lost"]})  # fails: logged, Redis skipped a while
    failing["on"] = False
    manager._publish({"method": "emit", "event": "e", "data": ["skipped"]})  # within the pause: not sent
    time.sleep(1.05)
    manager._publish({"method": "emit", "event": "e", "data": ["back"]})

    assert [m["data"] for m in _received(pubsub, 1)] == [["back"]]
    assert pubsub.get_message(timeout=0.3) is None  # nothing else came: "lost" and "skipped" were dropped
    assert manager._outbox.queued == 0
