"""The live room and sign-in with a Redis that goes away and comes back, and one limit per person.

Each test runs against a private `redis-server` on a free port (started here, stopped and started
again by the tests; never the shared one), with the app's REDIS_URL, rate-limit storage and live
state pointing at it. Skips when there is no redis-server binary.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from flask_socketio import ConnectionRefusedError

from app import create_app
from app.extensions import socketio
from app.live import events, presence
from tests.conftest import free_port, fresh_database, make_test_config, wait_until
from tests.factories import PASSWORD, make_fair, make_organiser, make_presenter, make_project, make_session, make_user

NS = "/live"

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # as a crash would: no goodbye to the clients
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def _app(private_redis, **overrides):
    settings = dict(
        REDIS_URL=private_redis.url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=private_redis.url,
        REDIS_TIMEOUT_SECONDS=0.3, LIVE_QUEUE_RETRY_SECONDS=0.2, LIVE_PRESENCE_TTL=3,
        LOGIN_RATE_LIMIT="1000 per minute", LOGIN_ADDRESS_LIMIT="1000 per minute")
    return create_app(make_test_config(**{**settings, **overrides}))


@pytest.fixture
def app(private_redis, request):
    marker = request.node.get_closest_marker("settings")
    app = _app(private_redis, **(marker.kwargs if marker else {}))
    # Flask-SocketIO's test client refuses a message queue: the queue's own behaviour with Redis
    # going away is proven by tests/live/test_faults.py with real processes. Presence, limits,
    # sign-in and /healthz use Redis here.
    import socketio as python_socketio

    manager = python_socketio.Manager()
    manager.set_server(socketio.server)
    socketio.server.manager = manager
    with fresh_database(app):
        yield app


@pytest.fixture
def room(app):
    organiser = make_organiser()
    agent = make_presenter()
    project = make_project(agent, title="Membrane water treatment")
    fair = make_fair(organiser)
    session = make_session(fair, organiser, presenter_ids=[agent.id], project_ids=[project.id])
    sjz = make_user("attendee", organisation="Shijiazhuang Commerce Bureau")
    ts = make_user("attendee", organisation="Tangshan Commerce Bureau")
    return {"session": session, "project": project, "sjz": sjz, "ts": ts, "organiser": organiser}


def _emit(client, event, data):
    return client.emit(event, data, namespace=NS, callback=True)


def _ask(client, session_id, n):
    return _emit(client, "ask", {"session_id": session_id, "text": f"Question {n}", "client_id": f"q-degraded-{n:04d}"})


# ---------------------------------------------------------------- Redis goes away


def test_without_redis_sign_in_joins_and_questions_work_and_healthz_says_degraded(app, client, room, connect,
                                                                                  private_redis):
    assert client.get("/healthz").status_code == 200
    private_redis.stop()

    health = client.get("/healthz")
    assert health.status_code == 207 and health.json["status"] == "degraded"
    assert health.json["message_queue"]["status"] == "error"
    # The rate limiter counts in memory instead of answering 500.
    token = client.post("/api/v1/auth/token", json={"email": room["sjz"].email, "password": PASSWORD})
    assert token.status_code == 201, token.text

    sid = room["session"].id
    asker, listener = connect(room["sjz"]), connect(room["ts"])
    assert asker.is_connected(NS) and listener.is_connected(NS)
    joined = _emit(listener, "join", {"session_id": sid})
    assert joined["ok"] is True and joined["presence"] == 1  # this process's own count
    listener.get_received(NS)
    ack = _ask(asker, sid, 1)
    assert ack["ok"] is True
    heard = [m["args"][0]["id"] for m in listener.get_received(NS) if m["name"] == "question"]
    assert heard == [ack["question"]["id"]]  # this process serves its own room

    private_redis.start()  # back, empty
    assert wait_until(lambda: client.get("/healthz").status_code == 200)  # once the short "Redis is down" pause is over
    _emit(asker, "join", {"session_id": sid})  # the next change writes every share back
    assert presence.count(sid) == 2


def test_redis_back_empty_is_refilled_before_a_count_is_read(app, room, connect, private_redis):
    # The room's count read from a Redis that came back empty, with no change of this process since
    # (the first call after it went down may well fall in the short pause, and be counted from
    # memory): this process's share is written again before the count reads Redis.
    sid = room["session"].id
    listener = connect(room["ts"])
    assert _emit(listener, "join", {"session_id": sid})["presence"] == 1
    private_redis.stop()
    joined = _emit(connect(room["sjz"]), "join", {"session_id": sid})
    assert joined["ok"] is True and joined["presence"] == 2  # this process's memory
    private_redis.start()  # back, empty
    down_until = app.extensions["cloudfair.shared"]["down_until"]
    assert wait_until(lambda: time.monotonic() > down_until)
    assert presence.count(sid) == 2
    import redis

    assert redis.Redis.from_url(private_redis.url).zcard(f"cloudfair:room:{sid}:procs") == 1  # the share is back


def test_the_database_down_is_503_whatever_redis_says(app, client, monkeypatch):
    from app.core import services as core

    monkeypatch.setattr(core, "health", lambda: ({"status": "error"}, False))
    assert client.get("/healthz").status_code == 503


# ---------------------------------------------------------------- presence survives a crash


# The background heartbeat (every TTL/3: 20 s here) stays out of the test: the one below is the only one,
# so the room hears the new count once (two heartbeats at the same moment could each announce it).
@pytest.mark.settings(LIVE_PRESENCE_TTL=60)
def test_a_crashed_processs_share_of_presence_expires(app, room, connect, private_redis):
    import redis

    sid = room["session"].id
    listener = connect(room["ts"])
    assert _emit(listener, "join", {"session_id": sid})["presence"] == 1
    # Another process had 41 people in the room and was killed: its share is left with its expiry.
    r = redis.Redis.from_url(private_redis.url)
    r.hset(f"cloudfair:room:{sid}:procs:dead", mapping={str(1000 + n): 1 for n in range(41)})
    expires = r.time()[0] + 2
    r.zadd(f"cloudfair:room:{sid}:procs", {"dead": expires})
    assert presence.count(sid) == 42
    listener.get_received(NS)
    while r.time()[0] <= expires:  # Redis's clock is past the dead process's expiry (its TTL since its last heartbeat)
        time.sleep(0.05)
    presence.heartbeat()  # the living process's heartbeat (every TTL/3) re-announces a changed count
    counts = [m["args"][0]["count"] for m in listener.get_received(NS) if m["name"] == "presence"]
    assert counts == [1]  # once
    assert presence.count(sid) == 1


def test_the_heartbeat_keeps_a_living_processs_share(app, room, connect):
    sid = room["session"].id
    listener = connect(room["ts"])
    _emit(listener, "join", {"session_id": sid})
    for _ in range(3):
        time.sleep(1.2)
        presence.heartbeat()
    assert presence.count(sid) == 1  # older than the TTL, still counted: its heartbeat refreshed it


# ---------------------------------------------------------------- one limit per person


@pytest.mark.settings(LIVE_QUESTIONS_PER_MINUTE=3)
def test_questions_are_limited_per_person_across_connections_and_http(app, client, auth, room, connect):
    sid = room["session"].id
    first, second = connect(room["sjz"]), connect(room["sjz"])
    assert _ask(first, sid, 1)["ok"] and _ask(second, sid, 2)["ok"]
    first.disconnect(namespace=NS)
    again = connect(room["sjz"])  # reconnecting gives no fresh allowance
    assert _ask(again, sid, 3)["ok"]
    refused = _ask(again, sid, 4)
    assert refused["ok"] is False and refused["error"]["code"] == "rate_limited"
    assert 1 <= refused["error"]["details"]["retry_after"] <= 60
    over_http = client.post(f"/api/v1/sessions/{sid}/questions", json={"text": "Over HTTP", "client_id": "q-degraded-http"},
                            headers=auth(room["sjz"]))
    assert over_http.status_code == 429 and over_http.json["error"]["code"] == "rate_limited"
    assert 1 <= int(over_http.headers["Retry-After"]) <= 60
    # A resend of a stored question is not a new one: it is answered, not limited.
    assert _ask(again, sid, 1)["duplicate"] is True
    # Someone else is not held back by this person.
    assert _ask(connect(room["ts"]), sid, 5)["ok"] is True


@pytest.mark.settings(LIVE_INTERESTS_PER_MINUTE=2)
def test_the_limit_is_shared_by_every_process_through_redis(app, auth, room, connect, private_redis):
    sid, project = room["session"].id, room["project"].id
    body = {"session_id": sid, "project_id": project, "level": "info", "note": ""}
    assert _emit(connect(room["sjz"]), "express_interest", {**body, "client_id": "i-shared-0001"})["ok"]
    # A second process (another app on the same Redis and database) sees the same count.
    other = _app(private_redis, LIVE_INTERESTS_PER_MINUTE=2, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                 SQLALCHEMY_ENGINE_OPTIONS=app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    from app.live.limits import check_person
    from app.errors import RateLimited

    person = room["sjz"].id
    with other.app_context():
        check_person("interest", person)
        with pytest.raises(RateLimited):
            check_person("interest", person)


@pytest.mark.settings(LIVE_QUESTIONS_PER_MINUTE=2)
def test_without_redis_the_limit_holds_in_memory(app, room, connect, private_redis):
    private_redis.stop()
    sid = room["session"].id
    client = connect(room["sjz"])
    assert _ask(client, sid, 1)["ok"] and _ask(client, sid, 2)["ok"]
    assert _ask(connect(room["sjz"]), sid, 3)["error"]["code"] == "rate_limited"


@pytest.mark.settings(LIVE_MAX_CONNECTIONS_PER_USER=2)
def test_simultaneous_connections_per_person_are_capped(app, auth, room, connect):
    first, second = connect(room["sjz"]), connect(room["sjz"])
    assert first.is_connected(NS) and second.is_connected(NS)
    assert not connect(room["sjz"]).is_connected(NS)
    assert connect(room["ts"]).is_connected(NS)  # another person is not affected
    token = auth(room["sjz"])["Authorization"][7:]
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder("/socket.io/").get_environ()
    environ["flask.app"] = app
    with pytest.raises(ConnectionRefusedError) as refused:
        events.on_connect("a-third-tab", environ, {"token": token})
    assert refused.value.error_args["data"]["code"] == "too_many_connections"
    second.disconnect(namespace=NS)
    assert connect(room["sjz"]).is_connected(NS)  # a closed tab frees its place
