"""The message queue's publisher (`live.queue.ResilientRedisManager`): an emit does not wait for
Redis; what is queued meanwhile goes out in order in one pipeline, and a Redis failure drops only what
was being sent (this process's own clients have it already) and is tried again after the pause.
Needs TEST_REDIS_URL (a real Redis, on a channel of the test's own)."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import redis

from app.live.queue import ResilientRedisManager

URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="needs TEST_REDIS_URL (a real Redis)")


class _Server:
    """The little of a Socket.IO server the publisher uses: background tasks, run when the test says."""

    def __init__(self):
        self.tasks = []

    def start_background_task(self, target, *args):
        self.tasks.append((target, args))

    def run_tasks(self):
        tasks, self.tasks = self.tasks, []
        for target, args in tasks:
            target(*args)


def _manager(url: str, channel: str) -> tuple[ResilientRedisManager, _Server]:
    manager = ResilientRedisManager(url, channel=channel, retry_seconds=0.2, timeout_seconds=0.3)
    server = _Server()
    manager.server = server
    return manager, server


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


def test_emits_queued_meanwhile_go_out_in_their_order_in_one_pipeline(monkeypatch):
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager, server = _manager(URL, channel)
    pubsub = _listen(channel)
    executed = []
    original = redis.client.Pipeline.execute
    monkeypatch.setattr(redis.client.Pipeline, "execute",
                        lambda self, *a, **k: executed.append(len(self.command_stack)) or original(self, *a, **k))

    for n in range(40):
        manager._publish({"method": "emit", "event": "e", "data": [n]})

    assert len(server.tasks) == 1  # one publisher for all of them; nothing sent yet
    server.run_tasks()
    assert executed == [40]
    assert [m["data"] for m in _received(pubsub, 40)] == [[n] for n in range(40)]
    manager._publish({"method": "emit", "event": "e", "data": ["after"]})  # the publisher ended: a new one
    assert len(server.tasks) == 1
    server.run_tasks()
    assert [m["data"] for m in _received(pubsub, 1)] == [["after"]]


def test_a_failed_publish_is_dropped_and_publishing_resumes_after_the_pause(monkeypatch):
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager, server = _manager(URL, channel)
    pubsub = _listen(channel)
    failing = {"on": True}
    original = redis.client.Pipeline.execute

    def execute(self, *args, **kwargs):
        if failing["on"]:
            raise redis.ConnectionError("down")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    manager._publish({"method": "emit", "event": "e", "data": ["lost"]})
    server.run_tasks()  # fails: logged, Redis skipped for retry_seconds
    failing["on"] = False
    manager._publish({"method": "emit", "event": "e", "data": ["skipped"]})  # within the pause: not queued
    assert server.tasks == []
    time.sleep(0.25)
    manager._publish({"method": "emit", "event": "e", "data": ["back"]})
    server.run_tasks()

    assert [m["data"] for m in _received(pubsub, 1)] == [["back"]]
    assert manager._outbox == [] and manager._publishing is False
