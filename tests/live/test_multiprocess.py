"""Two real production servers sharing live rooms through Redis (SPEC, Live: "With REDIS_URL set,
several server processes share rooms through Redis").

Each test talks to two `gunicorn --config gunicorn.conf.py wsgi:app` processes (one gevent worker
each, production settings) over real Socket.IO connections (python-socketio's `Client`) and HTTP.
The servers use their own PostgreSQL database, `cf_multi` next to TEST_DATABASE_URL's (made if
missing, emptied at the start; `cf_multi_gw0` and so on under pytest-xdist, whose workers may each
run some of these tests with their own pair of servers), filled by `flask db upgrade` and
`flask demo seed`, and the Redis at TEST_REDIS_URL. Needs both variables; skips with the reason
otherwise.

Redis pub/sub channels ignore the database number: these servers use a channel and key prefix of their
own (`LIVE_QUEUE_CHANNEL`, `REDIS_KEY_PREFIX`), so another run's servers on the same Redis (another
xdist worker's pair, with the same demo people) are not heard. The demo's fair sessions also get ids
from a random offset.
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
NS = "/live"
DB_NAME = "cf_multi" + (f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else "")
DEMO_PASSWORD = "demo"
ATTENDEE_A, ATTENDEE_B, ORGANISER = "sjz@cloudfair.example", "ts@cloudfair.example", "organiser@cloudfair.example"
TIMEOUT = 10  # seconds for any one thing to happen; locally everything takes milliseconds

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
#: This run's servers' Redis keys and channel (`REDIS_KEY_PREFIX`, `LIVE_QUEUE_CHANNEL`).
KEY_PREFIX = "cftest-" + uuid.uuid4().hex[:12]


def _why_skip() -> str | None:
    if not TEST_DATABASE_URL.startswith("postgresql"):
        return "needs TEST_DATABASE_URL pointing at PostgreSQL (the servers get their own database next to it)"
    if not TEST_REDIS_URL:
        return "needs TEST_REDIS_URL (the servers share rooms through Redis)"
    return None


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(_why_skip() is not None, reason=_why_skip() or ""),
    # tests/conftest.py builds a per-test app (and resets TEST_DATABASE_URL's database) for every
    # test that does not use `app`: these tests run their own servers, so `app` is nothing here.
    pytest.mark.usefixtures("app"),
]


@pytest.fixture
def app():
    return None


# ---------------------------------------------------------------- the servers


@dataclass
class Server:
    name: str
    url: str
    log: Path
    process: subprocess.Popen

    def tail(self, lines: int = 150) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    servers: list[Server]
    database_url: str

    def print_logs(self) -> None:
        for server in self.servers:
            print(f"\n===== {server.name} ({server.url}), exit code {server.process.poll()} =====\n{server.tail()}")


def _prepare_database() -> str:
    """Make the servers' database if missing, empty its schema; return its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg", database=DB_NAME)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    own = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(own, autocommit=True, connect_timeout=10) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url.render_as_string(hide_password=False)


def _psycopg_url(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def _run(step: list[str], env: dict) -> None:
    done = subprocess.run(step, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(step)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _wait_until_live(server: Server, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.tail()}")
        try:
            if requests.get(server.url + "/livez", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer /livez within {timeout}s:\n{server.tail()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # gunicorn's master: graceful shutdown of its worker
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("multiprocess")
    database_url = _prepare_database()
    env = {k: v for k, v in os.environ.items() if k not in ("CLOUDFAIR_ENV", "FLASK_DEBUG", "SOCKETIO_ASYNC_MODE")}
    env.update({
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        # Another run's servers on the same Redis (another xdist worker's pair) have the same people:
        # their personal rooms, connection caps and limits must not be these servers'.
        "REDIS_KEY_PREFIX": KEY_PREFIX, "LIVE_QUEUE_CHANNEL": KEY_PREFIX + "-socketio",
        "SECRET_KEY": "multiprocess-test-" + uuid.uuid4().hex,
        "UPLOAD_DIR": str(workdir / "uploads"),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "RUN_SCHEDULER_IN_PROCESS": "0",
        "SMTP_HOST": "",
        "WEB_CONCURRENCY": "1",
        "LOGIN_RATE_LIMIT": "1000 per minute",  # the limiter counts in the shared Redis, across runs
        # The flood below measures the server, not the per-connection token bucket.
        "LIVE_RATE_PER_SECOND": "1000",
        "LIVE_BURST": "1000",
        "LIVE_QUESTIONS_PER_MINUTE": "10000", "LIVE_INTERESTS_PER_MINUTE": "10000", "LIVE_VOTES_PER_MINUTE": "10000",
        "PYTHONUNBUFFERED": "1",
    })
    _run(_flask("db", "upgrade"), env)
    import psycopg

    with psycopg.connect(_psycopg_url(database_url), autocommit=True) as conn:
        conn.execute("SELECT setval(pg_get_serial_sequence('fair_sessions', 'id'), %s)",
                     (random.randrange(10**6, 10**9),))
    _run(_flask("demo", "seed"), {**env, "CLOUDFAIR_ENV": "development"})

    servers: list[Server] = []
    try:
        for n in (1, 2):
            port = free_port()
            log = workdir / f"server{n}.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
                    cwd=ROOT, env={**env, "PORT": str(port)}, stdout=out, stderr=subprocess.STDOUT,
                )
            # gunicorn.conf.py binds 0.0.0.0:PORT; the tests talk to 127.0.0.1.
            servers.append(Server(f"server {n}", f"http://127.0.0.1:{port}", log, process))
        for server in servers:
            _wait_until_live(server)
        yield Cluster(servers, database_url)
    finally:
        for server in servers:
            _stop(server.process)


def _print_logs_on_failure(test):
    """Show both servers' logs when the test fails."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except BaseException:
            kwargs["cluster"].print_logs()
            raise

    return run


# ---------------------------------------------------------------- the people and the room


@dataclass
class Room:
    session_id: int
    project_id: int
    other_session_id: int
    tokens: dict[str, str]


def _token(url: str, email: str) -> str:
    import requests

    response = requests.post(url + "/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD}, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.fixture(scope="module")
def room(cluster) -> Room:
    import requests

    url = cluster.servers[0].url
    tokens = {email: _token(url, email) for email in (ATTENDEE_A, ATTENDEE_B, ORGANISER)}
    headers = {"Authorization": f"Bearer {tokens[ATTENDEE_A]}"}
    fairs = requests.get(url + "/api/v1/fairs", headers=headers, timeout=TIMEOUT)
    assert fairs.status_code == 200, fairs.text
    europe = [f for f in fairs.json()["items"]  # titles come in the reader's language; the English one is in title_i18n
              if (f.get("title_i18n") or {}).get("en", f["title"]).startswith("Europe") and f["status"] == "published"]
    assert europe, fairs.json()
    sessions = requests.get(f"{url}/api/v1/fairs/{europe[0]['id']}/sessions", headers=headers, timeout=TIMEOUT)
    assert sessions.status_code == 200, sessions.text
    items = sessions.json()["items"]
    pitched = [s for s in items if s["projects"]]
    quiet = [s for s in items if s["id"] != pitched[0]["id"]]
    assert pitched and quiet, items
    return Room(session_id=pitched[0]["id"], project_id=pitched[0]["projects"][0]["id"],
                other_session_id=quiet[0]["id"], tokens=tokens)


@dataclass
class Listener:
    """A Socket.IO client that records every server event of /live, with the time it arrived."""

    name: str
    client: object
    events: list[tuple[str, dict, float]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, event, data=None):
        with self.changed:
            self.events.append((event, data, time.monotonic()))
            self.changed.notify_all()

    def call(self, event: str, data: dict, timeout: float = TIMEOUT) -> dict:
        return self.client.call(event, data, namespace=NS, timeout=timeout)

    def received(self, name: str | None = None) -> list[dict]:
        with self.changed:
            return [data for event, data, _ in self.events if name is None or event == name]

    def mark(self) -> int:
        """Where the events received so far end: `wait_for(..., after=mark)` looks only later."""
        with self.changed:
            return len(self.events)

    def wait_for(self, name: str, match=lambda data: True, timeout: float = TIMEOUT, after: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for event, data, _ in self.events[after:]:
                    if event == name and match(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name} got no matching {name!r} within {timeout}s; got {self.events!r}")
                self.changed.wait(left)


def _presence(room_id: int) -> int:
    """People in the room by the servers' live shares in Redis (app/live/presence.py)."""
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    people = set()
    for process in client.zrangebyscore(f"{KEY_PREFIX}:room:{room_id}:procs", client.time()[0], "+inf"):
        people |= set(client.hkeys(f"{KEY_PREFIX}:room:{room_id}:procs:{process.decode()}"))
    return len(people)


@pytest.fixture
def connect(cluster, room):
    """`connect(server_index, email)`: a connected Listener; all are disconnected after the test, and
    the test waits (briefly) until the servers have counted them out of the room."""
    import socketio

    listeners: list[Listener] = []

    def open_listener(server: int, email: str) -> Listener:
        client = socketio.Client(reconnection=False)
        listener = Listener(f"{email.split('@')[0]}@server{server + 1}", client)
        client.on("*", listener.record, namespace=NS)
        client.connect(cluster.servers[server].url, namespaces=[NS], auth={"token": room.tokens[email]},
                       wait_timeout=TIMEOUT)
        listeners.append(listener)
        return listener

    yield open_listener
    for listener in listeners:
        try:
            listener.client.disconnect()
        except Exception:  # already gone
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (_presence(room.session_id) or _presence(room.other_session_id)):
        time.sleep(0.05)


def _ok(ack: dict) -> dict:
    assert isinstance(ack, dict) and ack.get("ok") is True, ack
    return ack


def _client_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------- across servers


@_print_logs_on_failure
def test_presence_counts_people_on_both_servers(cluster, room, connect):
    a = connect(0, ATTENDEE_A)
    joined_a = _ok(a.call("join", {"session_id": room.session_id}))
    assert joined_a["presence"] == 1
    b = connect(1, ATTENDEE_B)
    mark = a.mark()
    joined_b = _ok(b.call("join", {"session_id": room.session_id}))
    assert joined_b["presence"] == 2
    # B joined on server 2; A, on server 1, hears it through Redis.
    assert a.wait_for("presence", lambda d: d["count"] == 2, after=mark)["session_id"] == room.session_id

    # The same person in a second tab on the other server is still one person.
    a_again = connect(1, ATTENDEE_A)
    assert _ok(a_again.call("join", {"session_id": room.session_id}))["presence"] == 2

    mark = a.mark()
    b.client.disconnect()
    assert a.wait_for("presence", lambda d: d["count"] == 1, after=mark)["session_id"] == room.session_id
    assert _presence(room.session_id) == 1


@_print_logs_on_failure
def test_a_question_asked_on_one_server_reaches_clients_of_the_other(cluster, room, connect):
    a, b = connect(0, ATTENDEE_A), connect(1, ATTENDEE_B)
    for listener in (a, b):
        _ok(listener.call("join", {"session_id": room.session_id}))

    started = time.monotonic()
    ack = _ok(a.call("ask", {"session_id": room.session_id, "text": "Who runs the plant in Antwerp?",
                             "client_id": _client_id()}))
    question = ack["question"]
    heard = b.wait_for("question", lambda d: d["id"] == question["id"], timeout=5)
    assert time.monotonic() - started < 5
    assert heard["seq"] == a.wait_for("question", lambda d: d["id"] == question["id"])["seq"]
    assert heard["text"] == "Who runs the plant in Antwerp?" and heard["session_id"] == room.session_id


@_print_logs_on_failure
def test_a_question_asked_over_http_on_one_server_reaches_clients_of_the_other(cluster, room, connect):
    import requests

    a = connect(0, ATTENDEE_A)
    _ok(a.call("join", {"session_id": room.session_id}))
    response = requests.post(
        f"{cluster.servers[1].url}/api/v1/sessions/{room.session_id}/questions",
        json={"text": "What reuse rate do the steel plants reach?", "client_id": _client_id()},
        headers={"Authorization": f"Bearer {room.tokens[ATTENDEE_B]}"}, timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    heard = a.wait_for("question", lambda d: d["id"] == response.json()["id"], timeout=5)
    assert heard["text"] == "What reuse rate do the steel plants reach?"


@_print_logs_on_failure
def test_interest_on_one_server_reaches_the_room_and_the_staff_on_the_other(cluster, room, connect):
    a, b, staff = connect(0, ATTENDEE_A), connect(1, ATTENDEE_B), connect(1, ORGANISER)
    _ok(a.call("join", {"session_id": room.session_id}))
    before = _ok(b.call("join", {"session_id": room.session_id}))["interest_counts"][str(room.project_id)]
    assert _ok(staff.call("join", {"session_id": room.session_id}))["staff"] is True

    ack = _ok(a.call("express_interest", {"session_id": room.session_id, "project_id": room.project_id,
                                          "level": "meeting", "note": "We have a site.", "client_id": _client_id()}))
    assert ack["duplicate"] is False
    count = b.wait_for("interest_count", lambda d: d["project_id"] == room.project_id, timeout=5)
    assert count["count"] == before + 1 and count["session_id"] == room.session_id
    detail = staff.wait_for("interest", lambda d: d["id"] == ack["interest"]["id"], timeout=5)
    assert detail["organisation"].startswith("Shijiazhuang Commerce Bureau")
    # Staff-only detail stays with the staff.
    time.sleep(0.3)
    assert b.received("interest") == [] and a.received("interest") == []


@_print_logs_on_failure
def test_a_burst_of_interests_on_one_server_reaches_the_staff_on_the_other_whole_and_in_order(cluster, room, connect):
    """The emits of a burst go to Redis as a few batches (`live.queue`), not one message each; the
    other server reads each batch one emit at a time: its staff hear every interest, in order."""
    import redis

    a, staff = connect(0, ATTENDEE_A), connect(1, ORGANISER)
    _ok(a.call("join", {"session_id": room.session_id}))
    _ok(staff.call("join", {"session_id": room.session_id}))
    channel = redis.Redis.from_url(TEST_REDIS_URL).pubsub(ignore_subscribe_messages=True)
    channel.subscribe(KEY_PREFIX + "-socketio")
    channel.get_message(timeout=1)
    acks: list[dict] = []
    done = threading.Event()
    burst = 30

    def acknowledged(ack):
        acks.append(ack)
        if len(acks) == burst:
            done.set()

    for n in range(burst):  # all sent before the first is answered
        a.client.emit("express_interest", {"session_id": room.session_id, "project_id": room.project_id,
                                           "level": "intent", "note": f"Burst {n}", "client_id": _client_id()},
                      namespace=NS, callback=acknowledged)
    assert done.wait(TIMEOUT), acks
    ids = {_ok(ack)["interest"]["id"] for ack in acks}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not ids <= {d["id"] for d in staff.received("interest")}:
        time.sleep(0.05)
    heard = [d for d in staff.received("interest") if d["id"] in ids]
    assert {d["id"] for d in heard} == ids and len(heard) == burst  # every one, once
    assert [d["seq"] for d in heard] == sorted(d["seq"] for d in heard)  # in the order they were numbered
    messages = []
    while (message := channel.get_message(timeout=0.5)) is not None:
        messages.append(json.loads(message["data"]))
    emits = [m for message in messages for m in (message["messages"] if message.get("method") == "batch" else [message])]
    assert len([m for m in emits if m.get("event") == "interest"]) == burst
    assert len(messages) < len(emits)  # the burst went in batches, not one message per emit


@_print_logs_on_failure
def test_every_client_sees_the_same_rising_seq_whichever_server_it_is_on(cluster, room, connect):
    import requests

    a, b, staff = connect(0, ATTENDEE_A), connect(1, ATTENDEE_B), connect(1, ORGANISER)
    for listener in (a, b, staff):
        _ok(listener.call("join", {"session_id": room.session_id}))

    asked = [_ok(a.call("ask", {"session_id": room.session_id, "text": f"Question {n} from server 1",
                                "client_id": _client_id()}))["question"] for n in range(3)]
    response = requests.post(
        f"{cluster.servers[1].url}/api/v1/sessions/{room.session_id}/questions",
        json={"text": "A question over HTTP to server 2", "client_id": _client_id()},
        headers={"Authorization": f"Bearer {room.tokens[ATTENDEE_B]}"}, timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    _ok(b.call("vote", {"question_id": asked[0]["id"]}))
    _ok(staff.call("moderate", {"question_id": asked[1]["id"], "action": "pin"}))
    interest = _ok(b.call("express_interest", {"session_id": room.session_id, "project_id": room.project_id,
                                               "level": "intent", "note": "", "client_id": _client_id()}))
    last = staff.wait_for("interest", lambda d: d["id"] == interest["interest"]["id"])["seq"]
    for listener in (a, b):  # the interest count follows the staff detail
        listener.wait_for("interest_count", lambda d: d["seq"] > last)
    time.sleep(0.5)  # anything else in flight

    def seqs(listener: Listener, names=("question", "interest_count")) -> list[int]:
        with listener.changed:
            return [data["seq"] for event, data, _ in listener.events if event in names]

    seen_a, seen_b = seqs(a), seqs(b)
    assert len(seen_a) == 7, a.events  # 4 questions, a vote, a pin, a count
    assert seen_a == seen_b
    assert all(x < y for x, y in zip(seen_a, seen_a[1:])), seen_a
    seen_staff = seqs(staff, ("question", "interest_count", "interest"))
    assert all(x < y for x, y in zip(seen_staff, seen_staff[1:])), seen_staff
    assert set(seen_staff) - set(seen_a) == {last}
    # With the staff event, the numbers leave no gap: every event of the session was seen.
    assert seen_staff == list(range(seen_staff[0], seen_staff[0] + len(seen_staff)))


@_print_logs_on_failure
def test_the_same_person_on_two_servers_is_told_what_is_theirs(cluster, room, connect):
    """Two devices of one person, each on its own server: what one does is the other's own too (through
    Redis), and a device that joins later learns it all from the join."""
    laptop, phone, other = connect(0, ATTENDEE_A), connect(1, ATTENDEE_A), connect(1, ATTENDEE_B)
    for listener in (laptop, phone, other):
        _ok(listener.call("join", {"session_id": room.session_id}))
    theirs = _ok(other.call("ask", {"session_id": room.session_id, "text": "Who owns the membrane patents?",
                                    "client_id": _client_id()}))["question"]
    mark = phone.mark()
    own = _ok(laptop.call("ask", {"session_id": room.session_id, "text": "Can the line run on sea water?",
                                  "client_id": _client_id()}))["question"]
    assert own["mine"] is True
    _ok(laptop.call("vote", {"question_id": theirs["id"]}))
    note_id = _client_id()
    interest = _ok(laptop.call("express_interest", {
        "session_id": room.session_id, "project_id": room.project_id, "level": "site_visit",
        "note": "Our park has a dock.", "client_id": note_id}))["interest"]

    # The phone, on the other server, hears each as its own; the room's copy says nothing about whose it is.
    assert phone.wait_for("own_question", lambda d: d["question_id"] == own["id"], after=mark)["session_id"] == room.session_id
    assert phone.wait_for("own_vote", lambda d: d["question_id"] == theirs["id"], after=mark)
    heard = phone.wait_for("own_interest", lambda d: d["client_id"] == note_id, after=mark)
    assert (heard["id"], heard["level"], heard["note"]) == (interest["id"], "site_visit", "Our park has a dock.")
    room_copy = phone.wait_for("question", lambda d: d["id"] == own["id"], after=mark)
    assert "mine" not in room_copy
    # The other person hears their own question only.
    assert [d["question_id"] for d in other.received("own_question")] == [theirs["id"]]
    assert other.received("own_vote") == [] and other.received("own_interest") == []

    # A third device joins afresh on server 2: the join says what is theirs.
    tablet = connect(1, ATTENDEE_A)
    ack = _ok(tablet.call("join", {"session_id": room.session_id}))
    assert own["id"] in ack["mine"] and theirs["id"] not in ack["mine"]
    assert theirs["id"] in ack["voted"]
    flags = {q["id"]: (q["mine"], q["voted"]) for q in ack["questions"]}
    assert flags[own["id"]] == (True, False) and flags[theirs["id"]] == (False, True)
    entry = ack["my_interests"][str(room.project_id)]
    assert note_id in [i["client_id"] for i in entry["items"]]
    assert entry["level"] in ("site_visit", "intent")  # at least what the laptop sent (another test may send intent)
    # Voting for one's own question stays refused from any device.
    refused = tablet.call("vote", {"question_id": own["id"]})
    assert refused["ok"] is False and refused["error"]["code"] == "own_question"


# ---------------------------------------------------------------- one gevent worker, many connections


def _latency(listener: Listener, session_id: int, times: int, timeout: float = TIMEOUT) -> list[float]:
    """How long `join` takes to be acknowledged, `times` over; an unanswered one counts as infinite."""
    import socketio

    spent = []
    for _ in range(times):
        started = time.perf_counter()
        try:
            _ok(listener.call("join", {"session_id": session_id}, timeout=timeout))
        except socketio.exceptions.TimeoutError:
            spent.append(float("inf"))
            break
        spent.append(time.perf_counter() - started)
    return spent


def _summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return (f"n={len(values)} p50={statistics.median(values) * 1000:.1f} ms p95={p95 * 1000:.1f} ms "
            f"max={values[-1] * 1000:.1f} ms")


@_print_logs_on_failure
def test_a_database_wait_does_not_stall_other_connections_of_the_worker(cluster, room, connect):
    """An `ask` held up in PostgreSQL (its session's event counter is locked) must not stop the
    same gevent worker from answering other people: psycopg has to wait cooperatively."""
    import psycopg

    asker, probe = connect(0, ATTENDEE_A), connect(0, ATTENDEE_B)
    _ok(asker.call("join", {"session_id": room.session_id}))
    _ok(probe.call("join", {"session_id": room.other_session_id}))
    _ok(asker.call("ask", {"session_id": room.session_id, "text": "Before the lock", "client_id": _client_id()}))
    calm = _latency(probe, room.other_session_id, 20)

    hold = 3.0
    acked: dict = {}
    done = threading.Event()
    with psycopg.connect(_psycopg_url(cluster.database_url)) as conn:
        conn.execute("SELECT seq FROM live_counters WHERE session_id = %s FOR UPDATE", (room.session_id,))
        locked_at = time.monotonic()

        def answered(*args):
            acked["ack"], acked["at"] = (args[0] if args else None), time.monotonic()
            done.set()

        asker.client.emit("ask", {"session_id": room.session_id, "text": "During the lock", "client_id": _client_id()},
                          namespace=NS, callback=answered)
        time.sleep(0.3)  # the ask is now waiting for the lock, inside the worker
        blocked = _latency(probe, room.other_session_id, 10, timeout=hold / 2)
        assert not done.is_set(), f"the ask was answered while its counter was locked: {acked}"
        time.sleep(max(0.0, hold - (time.monotonic() - locked_at)))
        conn.rollback()
    assert done.wait(TIMEOUT), "the held-up ask was never answered"
    _ok(acked["ack"])
    assert acked["at"] - locked_at >= hold - 0.1

    print(f"\njoin ack, worker idle:               {_summary(calm)}")
    print(f"join ack, an ask waiting on the lock: {_summary(blocked)}")
    # Were the worker's hub blocked inside libpq (psycopg's C wait without gevent's patching), the
    # probe would wait out the lock: every connection of the worker stalls behind one slow query.
    assert max(blocked) < 1.0, f"another connection waited while an ask waited in PostgreSQL: {_summary(blocked)}"
