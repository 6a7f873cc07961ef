"""The message queue's publisher (`live.queue.ResilientRedisManager`). Outside a server (the scheduler's
process, CLI commands) emits at once go out in one pipeline and each emit has been sent when it
returns (also from a thread with no event loop); in a server's worker an emit is written at once and
not waited for, and those that come while its reply is awaited go after it as one batch, which the
other processes read one emit at a time. Either way a Redis failure drops only what was being sent (this process's own clients
have it already) and Redis is tried again after the pause.
Needs TEST_REDIS_URL (a real Redis, on a channel of the test's own)."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
import redis

from app.live.queue import _PUBLISHED, ResilientRedisManager
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


@pytest.mark.parametrize("serving", [False, True], ids=["waiting", "in-a-server"])
def test_a_failed_publish_is_dropped_and_publishing_resumes_after_the_pause(monkeypatch, serving):
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _manager(URL, channel, retry_seconds=1.0)  # a pause no stall of a loaded machine outlasts
    if serving:
        _serving(manager)
    pubsub = _listen(channel)
    failing = {"on": True}
    original = redis.connection.AbstractConnection.send_packed_command  # a pipeline's too

    def send_packed_command(self, *args, **kwargs):
        if failing["on"]:
            raise redis.ConnectionError("down")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", send_packed_command)
    manager._publish({"method": "emit", "event": "e", "data": ["lost"]})  # fails: logged, Redis skipped a while
    failing["on"] = False
    manager._publish({"method": "emit", "event": "e", "data": ["skipped"]})  # within the pause: not sent
    time.sleep(1.05)
    manager._publish({"method": "emit", "event": "e", "data": ["back"]})

    assert [m["data"] for m in _received(pubsub, 1)] == [["back"]]
    assert pubsub.get_message(timeout=0.3) is None  # nothing else came: "lost" and "skipped" were dropped
    assert manager._outbox.queued == 0


def _serving(manager: ResilientRedisManager) -> ResilientRedisManager:
    """The manager as in a server's worker (gevent patched there; here its reader is a thread)."""
    manager.publish_later = True
    return manager


def test_a_server_s_emit_is_written_at_once_and_returns_before_redis_answers(monkeypatch):
    """In a server's worker the PUBLISH is on its way when `_publish` returns, but the emit does not
    wait for the reply: the other processes start their fan-out while this one does its own. The
    emits that come while that reply is awaited are held, and go together as one batch when it is
    read, in their order."""
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _serving(_manager(URL, channel))
    pubsub = _listen(channel)
    replies = threading.Event()
    original = redis.connection.AbstractConnection.read_response

    def read_response(self, *args, **kwargs):
        if threading.current_thread() is not threading.main_thread():  # the reader, not the handshake
            assert replies.wait(5), "the test never let the replies be read"
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "read_response", read_response)
    for n in range(5):
        manager._publish({"method": "emit", "event": "e", "data": [n]})  # returns: no reply read yet
    assert manager._unread == 1 and len(manager._held) == 4  # the first sent, the rest held

    assert [m["data"] for m in _received(pubsub, 1)] == [[0]]  # sent before any reply was read
    assert pubsub.get_message(timeout=0.3) is None  # the held ones wait for that reply
    replies.set()
    [batch] = _received(pubsub, 1)
    assert (batch["method"], batch["host_id"]) == ("batch", manager.host_id)
    assert [m["data"][0] for m in batch["messages"]] == [1, 2, 3, 4]  # together, in order
    deadline = time.monotonic() + 5
    while (manager._unread or manager._reading) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (manager._unread, manager._reading, manager._held) == (0, False, [])  # every reply read, the reader stopped
    manager._publish({"method": "emit", "event": "e", "data": ["next"]})  # a quiet moment: sent at once
    assert [m["data"] for m in _received(pubsub, 1)] == [["next"]]


def test_a_server_holds_at_most_a_pipeline_s_worth_before_it_sends_them(monkeypatch):
    """`PUBLISH_MOST` emits held while a reply is awaited go at once, as a batch, without that reply."""
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _serving(_manager(URL, channel))
    monkeypatch.setattr(manager, "PUBLISH_MOST", 3)
    pubsub = _listen(channel)
    replies = threading.Event()
    original = redis.connection.AbstractConnection.read_response

    def read_response(self, *args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            assert replies.wait(5), "the test never let the replies be read"
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "read_response", read_response)
    for n in range(5):
        manager._publish({"method": "emit", "event": "e", "data": [n]})
    first, batch = _received(pubsub, 2)  # no reply read yet: the first, and the three held
    assert first["data"] == [0] and [m["data"][0] for m in batch["messages"]] == [1, 2, 3]
    assert (manager._unread, len(manager._held)) == (2, 1)
    replies.set()
    [last] = _received(pubsub, 1)
    assert last["data"] == [4]  # held alone: sent as itself
    deadline = time.monotonic() + 5
    while manager._reading and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (manager._unread, manager._held) == (0, [])


def _pubsub_messages(*payloads: bytes):
    """What redis-py's `listen()` yields for `payloads` published on the manager's channel."""
    return lambda: iter([{"type": "message", "channel": b"live", "data": payload} for payload in payloads])


def test_the_listener_reads_other_processes_batches_one_emit_at_a_time_and_skips_its_own():
    manager = _manager(URL, "live")
    other = _manager(URL, "live")
    emits = [json.dumps({"method": "emit", "event": "e", "data": [n], "host_id": other.host_id}) for n in range(3)]
    own = json.dumps({"method": "emit", "event": "e", "data": ["mine"], "host_id": manager.host_id})
    lone = json.dumps({"method": "emit", "event": "e", "data": ["alone"], "host_id": other.host_id}).encode()
    manager._redis_listen_with_retries = _pubsub_messages(
        other._batch(emits).encode(), manager._batch([own, own]).encode(), b'{"method":"batch","messages":[{"no',
        b'{"method":"batch","host_id":"x"}', lone,
        other._batch([json.dumps({"method": "emit", "event": "e", "data": ["\ud800 lone"], "host_id": other.host_id}),
                      emits[0]]).encode())
    manager.pubsub = SimpleNamespace(unsubscribe=lambda channel: None)  # what the listener leaves when it ends

    got = list(manager._listen())

    assert got[:3] == [json.loads(emit) for emit in emits]  # the batch's emits, in order, as python-socketio reads them
    assert got[3] == lone  # a single message as it came; this process's own batch and malformed ones skipped
    assert got[4]["data"] == ["\ud800 lone"] and got[5] == json.loads(emits[0])  # what orjson refuses, read as before
    assert len(got) == 6


def test_a_server_s_publish_whose_reply_never_comes_drops_the_connection(monkeypatch):
    """A Redis that takes the PUBLISH but never answers (stopped, a network that drops): the reader
    gives up after the socket timeout, the connection is dropped and Redis skipped for the pause, and
    no emit waited for it meanwhile."""
    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _serving(_manager(URL, channel, retry_seconds=0.5))
    original = redis.connection.AbstractConnection.read_response
    hung = {"on": True}

    def read_response(self, *args, **kwargs):
        if hung["on"] and threading.current_thread() is not threading.main_thread():  # not the handshake
            time.sleep(0.3)
            raise redis.TimeoutError("Timeout reading from socket")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "read_response", read_response)
    started = time.monotonic()
    manager._publish({"method": "emit", "event": "e", "data": ["unanswered"]})
    manager._publish({"method": "emit", "event": "e", "data": ["held"]})  # waits for that reply
    assert time.monotonic() - started < 0.2  # the emits did not wait for the answer
    assert manager._held
    deadline = time.monotonic() + 5
    while manager._connection is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert manager._connection is None and manager._skip_until > time.monotonic() - 0.5
    assert manager._held == []  # dropped with the connection: never sent late
    hung["on"] = False
    pubsub = _listen(channel)
    time.sleep(max(0.0, manager._skip_until - time.monotonic()) + 0.05)
    manager._publish({"method": "emit", "event": "e", "data": ["back"]})
    assert [m["data"] for m in _received(pubsub, 1)] == [["back"]]
    assert pubsub.get_message(timeout=0.3) is None  # alone: what was held before the failure is gone


_IN_A_GEVENT_WORKER = r"""
from gevent import monkey

monkey.patch_all()
import json
import sys

import gevent
import redis

from app.live.queue import ResilientRedisManager

url, channel = sys.argv[1], sys.argv[2]
manager = ResilientRedisManager(url, channel=channel, timeout_seconds=1.0)
listener = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
listener.subscribe(channel)
listener.get_message(timeout=1)
manager._publish({"n": 0})  # the first connects (that may yield)
gevent.sleep(0.1)
ran = []
gevent.spawn(ran.append, "a writer")  # what the fan-out woke: runs at the emitter's next yield
for n in (1, 2, 3):
    manager._publish({"n": n})
yielded = list(ran)
gevent.sleep(0.2)
got = []
while len(got) < 4:
    message = listener.get_message(timeout=1)
    if message is None:
        break
    data = json.loads(message["data"])
    got.extend(m["n"] for m in data["messages"]) if data.get("method") == "batch" else got.append(data["n"])
print(json.dumps({"later": manager.publish_later, "yielded": yielded, "unread": manager._unread,
                  "reading": manager._reading, "got": got}))
"""


def test_in_a_gevent_worker_emits_are_written_without_yielding_to_the_fan_out():
    """The point of `_post`: in a gevent worker the emitting handler does not yield while publishing,
    so this process's writers (the fan-out) run only after the handler returned (its ack queued) and
    after Redis has the message. A real gevent-patched process (the suite itself is not patched)."""
    import subprocess
    import sys
    from pathlib import Path

    channel = f"cf-test-{uuid.uuid4().hex}"
    out = subprocess.run([sys.executable, "-c", _IN_A_GEVENT_WORKER, URL, channel], capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["later"] is True  # a patched process publishes without waiting
    assert result["yielded"] == []  # three emits, and the woken greenlet has not run yet
    assert (result["unread"], result["reading"]) == (0, False)  # every reply read, the reader done
    assert result["got"] == [0, 1, 2, 3]  # all on Redis, in order (2 and 3 held for 1's reply, then together)


@pytest.mark.parametrize("in_a_worker", [True, False])
def test_a_server_s_emit_is_published_before_it_is_delivered_here(monkeypatch, in_a_worker):
    """This process's delivery writes each recipient's frame at once (`wire.direct_send`), milliseconds
    that do not yield: in a server's worker the PUBLISH goes first, so the other processes start their
    fan-out meanwhile. Elsewhere python-socketio's order stays (delivered here, then published and
    waited for). Published once either way, as python-socketio builds it."""
    import socketio.pubsub_manager

    channel = f"cf-test-{uuid.uuid4().hex}"
    manager = _manager(URL, channel)
    manager.publish_later = in_a_worker
    pubsub = _listen(channel)
    steps = []
    monkeypatch.setattr(socketio.pubsub_manager.PubSubManager, "_handle_emit",
                        lambda self, message: steps.append(("delivered", message["data"])))
    post, submit = manager._post, manager._outbox.submit
    monkeypatch.setattr(manager, "_post", lambda message: (steps.append(("published", json.loads(message)["data"])), post(message)))
    monkeypatch.setattr(manager._outbox, "submit",
                        lambda message: (steps.append(("published", json.loads(message)["data"])), submit(message)))

    manager.emit("question", {"id": 1}, room="session:1", namespace="/live")

    order = [("published", [{"id": 1}]), ("delivered", [{"id": 1}])]
    assert steps == (order if in_a_worker else order[::-1])
    received = _received(pubsub, 1)
    assert [(m["event"], m["data"], m["room"]) for m in received] == [("question", [{"id": 1}], "session:1")]
    assert _PUBLISHED not in received[0]  # the mark stays in this process
