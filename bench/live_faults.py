"""The live room under faults: two gunicorn gevent processes on PostgreSQL and a private Redis.

    .venv/bin/python bench/live_faults.py            # prints one line per fault, for BENCHMARKS.md

Needs TEST_DATABASE_URL (PostgreSQL; the servers get their own database `cf_faults` next to it, emptied
each run) and `redis-server` (a private one on a free port, stopped and started by the runs; never
the shared one). tests/live/test_faults.py runs the same scenarios and asserts on what they return.

Scenarios:
- kill: two attendees express interest steadily (one on each process, resending unacknowledged ones
  with the same client_id, as the page's outbox does); the first process's worker is killed with
  kill -9; its attendee reconnects to the other. acknowledged / rows / missing / duplicates, how long
  until the first acknowledgement after the kill, and whether every listener ended with every event
  (by seq, filling gaps from the event log as the page does).
- redis: Redis is killed mid-session for a few seconds: sign-in, joins and questions on both
  processes; when it returns, seconds until a question asked on one process reaches a listener on
  the other live.
- presence: people on both processes, one worker killed: seconds until the survivor's count is right.
- burst: 40 actions queued on a polling-only connection, sent at once: acknowledged and stored.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on the path, and bench/http.py would shadow the standard library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
NS = "/live"
PASSWORD = "demo"
ATTENDEE_A, ATTENDEE_B, ORGANISER = "sjz@cloudfair.example", "ts@cloudfair.example", "organiser@cloudfair.example"
ATTENDEE_C = "xt@cloudfair.example"
DB_NAME = "cf_faults"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- Redis, PostgreSQL, the servers


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def prepare_database(test_database_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(test_database_url).set(drivername="postgresql+psycopg", database=DB_NAME)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url.render_as_string(hide_password=False)


@dataclass
class Server:
    name: str
    port: int
    log: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pid(self) -> int:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        if not pids:
            raise RuntimeError(f"{self.name} has no worker")
        return pids[0]

    def kill_worker(self) -> int:
        """kill -9 of the worker (gunicorn's master starts a new one, as in production)."""
        pid = self.worker_pid()
        os.kill(pid, signal.SIGKILL)
        return pid


@dataclass
class Cluster:
    redis: PrivateRedis
    database_url: str
    servers: list[Server]
    workdir: Path
    tokens: dict[str, str] = field(default_factory=dict)
    session_id: int = 0
    project_id: int = 0

    def psycopg_url(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def logs(self) -> str:
        return "\n".join(f"===== {s.name} =====\n" + "\n".join(s.log.read_text(errors="replace").splitlines()[-80:])
                         for s in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
                try:
                    server.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.process.kill()
        self.redis.stop()


def _wait_live(server: Server, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            if requests.get(server.url + "/livez", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer")


def start_cluster(test_database_url: str, workdir: Path) -> Cluster:
    import requests

    redis_server = PrivateRedis()
    redis_server.start()
    database_url = prepare_database(test_database_url)
    env = {k: v for k, v in os.environ.items() if k not in ("CLOUDFAIR_ENV", "FLASK_DEBUG", "SOCKETIO_ASYNC_MODE")}
    env.update({
        "DATABASE_URL": database_url, "REDIS_URL": redis_server.url, "SECRET_KEY": "faults-" + uuid.uuid4().hex,
        "UPLOAD_DIR": str(workdir / "uploads"), "DEMO_PASSWORD": PASSWORD, "RUN_SCHEDULER_IN_PROCESS": "0",
        "SMTP_HOST": "", "WEB_CONCURRENCY": "1", "LOGIN_RATE_LIMIT": "1000 per minute",
        "LIVE_RATE_PER_SECOND": "1000", "LIVE_BURST": "1000",
        "LIVE_INTERESTS_PER_MINUTE": "100000", "LIVE_VOTES_PER_MINUTE": "100000",
        "LIVE_QUESTIONS_PER_MINUTE": "5",  # the per-person limit run counts to it; other runs ask little
        "LIVE_MAX_CONNECTIONS_PER_USER": "6",
        "LIVE_PRESENCE_TTL": "6",
        "PYTHONUNBUFFERED": "1",
    })
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for step, extra in ((["db", "upgrade"], {}), (["demo", "seed"], {"CLOUDFAIR_ENV": "development"})):
        done = subprocess.run(flask + step, cwd=ROOT, env={**env, **extra}, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{step} failed:\n{done.stdout}\n{done.stderr}")
    servers = []
    for n in (1, 2):
        port = free_port()
        log = workdir / f"server{n}.log"
        with log.open("w") as out:
            process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
                                       cwd=ROOT, env={**env, "PORT": str(port)}, stdout=out, stderr=subprocess.STDOUT)
        servers.append(Server(f"server {n}", port, log, process))
    cluster = Cluster(redis_server, database_url, servers, workdir)
    try:
        for server in servers:
            _wait_live(server)
        url = servers[0].url
        for email in (ATTENDEE_A, ATTENDEE_B, ATTENDEE_C, ORGANISER):
            cluster.tokens[email] = token(url, email)
        headers = {"Authorization": f"Bearer {cluster.tokens[ATTENDEE_A]}"}
        fairs = requests.get(url + "/api/v1/fairs?status=published&per_page=50", headers=headers, timeout=10).json()["items"]
        # Titles come in the reader's language; the English one is in title_i18n.
        europe = [f for f in fairs if (f.get("title_i18n") or {}).get("en", f["title"]).startswith("Europe")][0]
        sessions = requests.get(f"{url}/api/v1/fairs/{europe['id']}/sessions", headers=headers, timeout=10).json()["items"]
        pitched = [s for s in sessions if s["projects"]][0]
        cluster.session_id, cluster.project_id = pitched["id"], pitched["projects"][0]["id"]
    except BaseException:
        print(cluster.logs())
        cluster.stop()
        raise
    return cluster


def token(url: str, email: str) -> str:
    import requests

    response = requests.post(url + "/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=10)
    if response.status_code != 201:
        raise RuntimeError(f"sign-in {response.status_code}: {response.text}")
    return response.json()["token"]


# ---------------------------------------------------------------- a client that behaves like the page


class Listener:
    """A python-socketio client that joins the room and holds events by seq, as live.js does: an
    event ahead of a missing number waits 300 ms, then the missing ones come from the event log."""

    def __init__(self, cluster: Cluster, server: int, email: str, *, transports=None, track=True):
        import socketio

        self.cluster, self.email, self.track = cluster, email, track
        self.server = server
        self.seqs: set[int] = set()
        self.last = 0  # every number up to it is applied
        self.early: dict[int, str] = {}
        self.lock = threading.RLock()
        self.presence: list[int] = []
        self.refused = None
        self.client = socketio.Client(reconnection=False)
        for name in ("question", "interest", "interest_count", "skip"):
            self.client.on(name, self._handler(name), namespace=NS)
        self.client.on("presence", lambda data: self.presence.append(data["count"]), namespace=NS)
        self.client.on("connect_error", self._refused, namespace=NS)
        self.transports = transports

    def _refused(self, data=None):
        self.refused = data

    def connect(self, server: int | None = None) -> None:
        if server is not None:
            self.server = server
        self.client.connect(self.cluster.servers[self.server].url, namespaces=[NS],
                            auth={"token": self.cluster.tokens[self.email]}, transports=self.transports, wait_timeout=10)

    def join(self) -> dict:
        ack = self.client.call("join", {"session_id": self.cluster.session_id, "since_seq": self.last}, namespace=NS, timeout=10)
        if not ack.get("ok"):
            raise RuntimeError(ack)
        with self.lock:
            if "events" in ack:
                for event in ack["events"]:
                    self._hold(event["data"]["seq"])
            else:
                self.last = max(self.last, ack["seq"])
                self.seqs.update(range(1, ack["seq"] + 1))
            self._drain()
        return ack

    def _handler(self, name):
        def on_event(data):
            if data.get("session_id") != self.cluster.session_id:
                return
            if name == "skip" and self.email == ORGANISER:
                return
            with self.lock:
                for seq in data.get("seqs") or [data["seq"]]:  # a skip folds several numbers
                    self._hold(seq)
                self._drain()
            if self.early:
                threading.Timer(0.3, self.fill).start()
        return on_event

    def _hold(self, seq: int) -> None:
        if seq > self.last:
            self.early[seq] = "held"

    def _drain(self) -> None:
        while self.last + 1 in self.early:
            del self.early[self.last + 1]
            self.last += 1
            self.seqs.add(self.last)

    def fill(self) -> None:
        """Fetch what is missing (also the head poll): GET events?since_seq=."""
        import requests

        with self.lock:
            since = self.last
        for server in (self.server, 1 - self.server):
            try:
                body = requests.get(f"{self.cluster.servers[server].url}/api/v1/sessions/{self.cluster.session_id}/events",
                                    params={"since_seq": since}, timeout=5,
                                    headers={"Authorization": f"Bearer {self.cluster.tokens[self.email]}"}).json()
                break
            except Exception:  # that process is down: ask the other
                continue
        else:
            return
        with self.lock:
            for event in body["events"]:
                self._hold(event["data"]["seq"])
            self._drain()

    def disconnect(self) -> None:
        try:
            self.client.disconnect()
        except Exception:
            pass


def head_seq(cluster: Cluster) -> int:
    import psycopg

    with psycopg.connect(cluster.psycopg_url()) as conn:
        row = conn.execute("SELECT seq FROM live_counters WHERE session_id = %s", (cluster.session_id,)).fetchone()
        return row[0] if row else 0


# ---------------------------------------------------------------- kill -9 under interest load


class Sender:
    """Expresses interest steadily; unacknowledged ones are resent with the same client_id (the outbox)."""

    def __init__(self, cluster: Cluster, server: int, email: str):
        self.listener = Listener(cluster, server, email, track=False)
        self.cluster = cluster
        self.acked: list[str] = []
        self.duplicates_acked = 0
        self.pending: list[str] = []
        self.ack_times: list[float] = []

    def send_one(self, client_id: str) -> bool:
        body = {"session_id": self.cluster.session_id, "project_id": self.cluster.project_id, "level": "info",
                "note": "", "client_id": client_id}
        try:
            ack = self.listener.client.call("express_interest", body, namespace=NS, timeout=3)
        except Exception:
            return False
        if not ack or not ack.get("ok"):
            return False
        self.acked.append(client_id)
        self.ack_times.append(time.monotonic())
        return True

    def run(self, stop: threading.Event, interval: float = 0.05) -> None:
        while not stop.is_set() or self.pending:
            if not self.listener.client.connected:
                try:
                    self.listener.connect(1)  # the surviving process
                    self.listener.join()
                except Exception:
                    time.sleep(0.2)
                    continue
            if not self.pending and not stop.is_set():
                self.pending.append(f"i-fault-{uuid.uuid4().hex[:16]}")
            client_id = self.pending[0]
            if self.send_one(client_id):
                self.pending.pop(0)
            else:
                time.sleep(0.1)
            time.sleep(interval)


def run_kill(cluster: Cluster, seconds: float = 6.0) -> dict:
    import psycopg

    listeners = [Listener(cluster, 0, ORGANISER), Listener(cluster, 1, ORGANISER), Listener(cluster, 1, ATTENDEE_C)]
    for listener in listeners:
        listener.connect()
        listener.join()
    senders = [Sender(cluster, 0, ATTENDEE_A), Sender(cluster, 1, ATTENDEE_B)]
    for sender in senders:
        sender.listener.connect()
        sender.listener.join()
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in senders]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 3)
    killed_at = time.monotonic()
    cluster.servers[0].kill_worker()
    # The organiser on the killed process reconnects to the other one and joins with its last seq.
    def reconnect_listener():
        listener = listeners[0]
        while True:
            try:
                if listener.client.connected:
                    listener.client.disconnect()
                listener.connect(1)
                listener.join()
                return
            except Exception:
                time.sleep(0.2)
    time.sleep(0.5)
    reconnect_listener()
    time.sleep(seconds * 2 / 3)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    after = [t for t in senders[0].ack_times if t > killed_at]
    recovery = (after[0] - killed_at) if after else float("inf")
    acked = [c for s in senders for c in s.acked]
    with psycopg.connect(cluster.psycopg_url()) as conn:
        rows = [r[0] for r in conn.execute("SELECT client_id FROM interests WHERE client_id LIKE 'i-fault-%%'")]
    # Every listener ends with every event: a last look at the head of the log (the page's head poll).
    time.sleep(0.5)
    head = head_seq(cluster)
    for listener in listeners:
        listener.fill()
    complete = [listener.seqs >= set(range(1, head + 1)) for listener in listeners]
    for listener in listeners + [s.listener for s in senders]:
        listener.disconnect()
    _wait_for_worker(cluster.servers[0])
    return {
        "acknowledged": len(set(acked)), "rows": len(rows), "missing": len(set(acked) - set(rows)),
        "unacknowledged_rows": len(set(rows) - set(acked)), "duplicates": len(rows) - len(set(rows)),
        "recovery_seconds": round(recovery, 2), "listeners_complete": complete, "head": head,
    }


def _wait_for_worker(server: Server, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(server.url + "/livez", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)


# ---------------------------------------------------------------- presence after a crash


def run_presence(cluster: Cluster, timeout: float = 30) -> dict:
    on_first = [Listener(cluster, 0, email) for email in (ATTENDEE_A, ATTENDEE_B, ORGANISER)]
    survivor = Listener(cluster, 1, ATTENDEE_C)
    for listener in on_first + [survivor]:
        listener.connect()
    for listener in on_first:
        listener.join()
    before = survivor.join()["presence"]
    killed_at = time.monotonic()
    cluster.servers[0].kill_worker()
    right = None
    while time.monotonic() - killed_at < timeout:
        if survivor.presence and survivor.presence[-1] == 1:
            right = time.monotonic() - killed_at
            break
        time.sleep(0.2)
    for listener in on_first + [survivor]:
        listener.disconnect()
    _wait_for_worker(cluster.servers[0])
    return {"present_before": before, "present_after": survivor.presence[-1] if survivor.presence else None,
            "seconds_until_right": round(right, 2) if right is not None else None}


# ---------------------------------------------------------------- Redis outage


#: Questions the asker sends while Redis is down: fewer than the cluster's LIVE_QUESTIONS_PER_MINUTE (5),
#: so a refusal can only mean the outage broke asking, and two are left for the recovery check.
OUTAGE_ASKS = 3


def run_redis_outage(cluster: Cluster, outage: float = 3.0) -> dict:
    import requests

    asker, far = Listener(cluster, 0, ATTENDEE_A), Listener(cluster, 1, ATTENDEE_B)
    for listener in (asker, far):
        listener.connect()
        listener.join()
    cluster.redis.stop()
    during = {"sign_in": [], "joins": [], "asks": [], "healthz": []}
    started = time.monotonic()
    n = 0
    ack = None
    while time.monotonic() - started < outage:
        for server in cluster.servers:
            response = requests.post(server.url + "/api/v1/auth/token", json={"email": ATTENDEE_C, "password": PASSWORD}, timeout=5)
            during["sign_in"].append(response.status_code)
            during["healthz"].append(requests.get(server.url + "/healthz", timeout=5).status_code)
        for listener in (asker, far):
            during["joins"].append(bool(listener.client.call("join", {"session_id": cluster.session_id}, namespace=NS, timeout=5).get("ok")))
        n += 1
        if n <= OUTAGE_ASKS:  # the asker stays under its per-person limit however fast the loop turns
            ack = asker.client.call("ask", {"session_id": cluster.session_id, "text": f"During the outage {n}",
                                            "client_id": f"q-outage-{uuid.uuid4().hex[:12]}"}, namespace=NS, timeout=5)
            during["asks"].append(bool(ack.get("ok")))
        time.sleep(0.2)
    cluster.redis.start()
    back = time.monotonic()
    recovered = None
    heard_before = len(far.seqs)
    while time.monotonic() - back < 30:
        # Asked on process 1; heard live on process 2 (the listener's own numbers, not a fetch).
        with far.lock:
            far_last_seen = max(far.seqs) if far.seqs else 0
        ask = asker.client.call("ask", {"session_id": cluster.session_id, "text": "After the outage",
                                        "client_id": f"q-after-{uuid.uuid4().hex[:12]}"}, namespace=NS, timeout=5)
        seq = ask["question"]["seq"] if ask.get("ok") and "seq" in ask["question"] else None
        time.sleep(0.2)
        with far.lock:
            live = max(far.seqs) if far.seqs else 0
        if ack and live > far_last_seen and (seq is None or live >= (seq or 0)):
            recovered = time.monotonic() - back
            break
    time.sleep(0.5)
    head = head_seq(cluster)
    far.fill()
    complete = far.seqs >= set(range(1, head + 1))
    for listener in (asker, far):
        listener.disconnect()
    return {"sign_in": sorted(set(during["sign_in"])), "healthz": sorted(set(during["healthz"])),
            "joins_ok": all(during["joins"]), "asks_ok": all(during["asks"]), "asks": len(during["asks"]),
            "cross_process_recovery_seconds": round(recovered, 2) if recovered is not None else None,
            "listener_complete_after_fill": complete, "heard_before": heard_before}


# ---------------------------------------------------------------- a burst over long-polling


def run_burst(cluster: Cluster, count: int = 40) -> dict:
    import psycopg

    client = Listener(cluster, 1, ATTENDEE_C, transports=["polling"])
    client.connect()
    client.join()
    acks: list[dict] = []
    done = threading.Event()
    lock = threading.Lock()
    prefix = f"i-burst-{uuid.uuid4().hex[:8]}"

    def acknowledged(ack):
        with lock:
            acks.append(ack)
            if len(acks) == count:
                done.set()

    for n in range(count):  # all queued at once: the polling transport carries them in one request
        client.client.emit("express_interest", {"session_id": cluster.session_id, "project_id": cluster.project_id,
                                                "level": "info", "note": "", "client_id": f"{prefix}-{n:04d}"},
                           namespace=NS, callback=acknowledged)
    done.wait(30)
    with psycopg.connect(cluster.psycopg_url()) as conn:
        rows = conn.execute("SELECT count(*) FROM interests WHERE client_id LIKE %s", (prefix + "%",)).fetchone()[0]
    client.disconnect()
    refused: dict[str, int] = {}
    for ack in acks:
        if not (ack and ack.get("ok")):
            code = (ack or {}).get("error", {}).get("code", "?")
            refused[code] = refused.get(code, 0) + 1
    return {"queued": count, "acknowledged": sum(1 for a in acks if a and a.get("ok")), "rows": rows,
            "transport": "polling", "answers": len(acks), "refused": refused}


# ---------------------------------------------------------------- one limit per person


def run_person_limit(cluster: Cluster) -> dict:
    """LIVE_QUESTIONS_PER_MINUTE=5 for one person: 3 connections on both processes, a reconnect and
    HTTP, 20 tries in all; and connections beyond LIVE_MAX_CONNECTIONS_PER_USER (6)."""
    import requests

    email = ORGANISER  # asks nothing elsewhere in these runs
    connections = [Listener(cluster, n % 2, email, track=False) for n in range(3)]
    for listener in connections:
        listener.connect()
    accepted = refused = 0
    retry_after = []
    for n in range(20):
        text = {"session_id": cluster.session_id, "text": f"Limit {n}", "client_id": f"q-limit-{uuid.uuid4().hex[:12]}"}
        if n == 8:
            connections[0].disconnect()
            connections[0] = Listener(cluster, 1, email, track=False)
            connections[0].connect()
        if n % 4 == 3:
            response = requests.post(f"{cluster.servers[n % 2].url}/api/v1/sessions/{cluster.session_id}/questions",
                                     json={"text": text["text"], "client_id": text["client_id"]}, timeout=5,
                                     headers={"Authorization": f"Bearer {cluster.tokens[email]}"})
            ok = response.status_code == 201
            if response.status_code == 429:
                retry_after.append(int(response.headers.get("Retry-After", 0)))
        else:
            ack = connections[n % 3].client.call("ask", text, namespace=NS, timeout=5)
            ok = bool(ack.get("ok"))
            if not ok and ack["error"]["code"] == "rate_limited":
                retry_after.append(ack["error"]["details"]["retry_after"])
        accepted += ok
        refused += not ok
    extra = [Listener(cluster, n % 2, email, track=False) for n in range(4)]
    opened, refusal = 0, None
    for listener in extra:
        try:
            listener.connect()
            opened += 1
        except Exception:
            refusal = listener.refused
    for listener in connections + extra:
        listener.disconnect()
    return {"tries": 20, "accepted": accepted, "refused": refused, "retry_after_ok": all(1 <= r <= 60 for r in retry_after),
            "connections_opened": len(connections) + opened, "refusal": refusal}


def main() -> None:
    import tempfile

    test_database_url = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
    with tempfile.TemporaryDirectory() as tmp:
        cluster = start_cluster(test_database_url, Path(tmp))
        try:
            kill = run_kill(cluster)
            print(f"kill -9 under interest load: acknowledged={kill['acknowledged']} rows={kill['rows']} "
                  f"missing={kill['missing']} duplicates={kill['duplicates']} "
                  f"unacknowledged_rows={kill['unacknowledged_rows']} recovery={kill['recovery_seconds']} s "
                  f"listeners_complete={kill['listeners_complete']} (events={kill['head']})")
            presence = run_presence(cluster)
            print(f"presence after kill -9: before={presence['present_before']} after={presence['present_after']} "
                  f"right after {presence['seconds_until_right']} s (LIVE_PRESENCE_TTL=6)")
            outage = run_redis_outage(cluster)
            print(f"Redis down 3 s: sign-in {outage['sign_in']}, /healthz {outage['healthz']}, joins ok={outage['joins_ok']}, "
                  f"{outage['asks']} asks ok={outage['asks_ok']}; cross-process delivery back "
                  f"{outage['cross_process_recovery_seconds']} s after Redis; listener complete after gap fill="
                  f"{outage['listener_complete_after_fill']}")
            burst = run_burst(cluster)
            print(f"40 queued over polling only: acknowledged={burst['acknowledged']} rows={burst['rows']}")
            limit = run_person_limit(cluster)
            print(f"per-person limit (5/min) over 3 connections, a reconnect and HTTP: {limit['accepted']} of "
                  f"{limit['tries']} accepted; connections opened {limit['connections_opened']} of 7 (cap 6), "
                  f"refusal {limit['refusal']}")
        except BaseException:
            print(cluster.logs())
            raise
        finally:
            cluster.stop()


if __name__ == "__main__":
    random.seed()
    main()
