"""Shared plumbing of the live benchmarks (bench/live_fanout.py, bench/interest_ingest.py).

- a fresh benchmark database: PostgreSQL database `cf_bench_live` on 127.0.0.1:5432 when
  reachable (override with BENCH_PG_URL, the server URL without a database name), else a
  temporary SQLite file; migrated and seeded with the demo;
- N attendee users (and their organisations) with API tokens, written straight into the database
  inside an app context (`python bench/live_common.py make-users ...`), faster than the CLI;
- gunicorn servers pinned to core 0 (the app with gunicorn.conf.py, or the bare python-socketio
  server), and the Node generator (bench/node) pinned to core 1, installed with `npm install`
  when bench/node/node_modules is missing.

This module is imported by the scripts after they drop bench/ from the front of sys.path (its
http.py would otherwise shadow the standard library's `http`).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: bench/http.py must not shadow the standard library
    _HERE = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p not in ("", _HERE)]

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NODE_DIR = BENCH / "node"
VENV_BIN = ROOT / ".venv" / "bin"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
PG_DB = "cf_bench_live"
#: The live token bucket is raised so the benchmark measures delivery, not the limiter
#: (production defaults: 5 events/s, burst 20 per connection).
#: The per-connection and per-person limits stay out of the way: one client asks every question of a run.
RATE_ENV = {"LIVE_RATE_PER_SECOND": "1000", "LIVE_BURST": "1000", "LIVE_QUESTIONS_PER_MINUTE": "100000",
            "LIVE_VOTES_PER_MINUTE": "100000", "LIVE_INTERESTS_PER_MINUTE": "100000"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name: str) -> str:
    venv_tool = VENV_BIN / name
    if venv_tool.exists():
        return str(venv_tool)
    found = shutil.which(name)
    if not found:
        sys.exit(f"bench: `{name}` not found")
    return found


# ---------------------------------------------------------------- issue 18's goals for joins
# One place for the verdicts bench/live_fanout.py prints per run and bench/live_summary.py per goal.

#: A join on one worker: at most this many times the bare server's CPU, and 1,000 joined in this many seconds.
GOAL_JOIN_CPU_RATIO = 1.5
GOAL_JOIN_SECONDS_PER_1000 = 5.0
#: Two workers: 6,500 joins in 10 s (scaled to the run's clients), none refused, questions answered meanwhile.
GOAL_STORM_SECONDS = 10.0
GOAL_STORM_CLIENTS = 6500


def questions_answered(run: dict) -> bool:
    """Every question asked while the room filled was acknowledged (a run without them: True)."""
    asks = run.get("asks")
    return asks is None or (not asks.get("asker_error") and asks["acked"] == asks["sent"])


def join_goal_met(run: dict, ratio: float | None) -> bool:
    """One worker's joins: `ratio` (app ÷ bare CPU per join) within the goal, the room full in time,
    none refused."""
    return (ratio is not None and ratio <= GOAL_JOIN_CPU_RATIO
            and run["seconds"] <= GOAL_JOIN_SECONDS_PER_1000 * run["clients"] / 1000
            and not run["refused"] and questions_answered(run))


def storm_goal_met(run: dict) -> bool:
    return (run["seconds"] <= GOAL_STORM_SECONDS * run["clients"] / GOAL_STORM_CLIENTS and not run["refused"]
            and questions_answered(run))


# ---------------------------------------------------------------- database


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def fresh_database(tmpdir: Path, require_postgres: bool = False) -> str:
    """A new, empty database URL: PostgreSQL `cf_bench_live` (dropped and recreated) or SQLite."""
    if postgres_reachable():
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
        return f"postgresql+psycopg://{PG_SERVER.split('://', 1)[1]}/{PG_DB}"
    if require_postgres:
        sys.exit(f"bench: PostgreSQL at {PG_SERVER} is not reachable (set BENCH_PG_URL)")
    log("bench: PostgreSQL not reachable; using a temporary SQLite database")
    return f"sqlite:///{tmpdir / 'bench.db'}"


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    except Exception as exc:  # leaving it behind is harmless
        log(f"bench: could not drop {PG_DB}: {exc}")


def prepare_database(env: dict) -> None:
    dev = {**env, "CLOUDFAIR_ENV": "development"}
    flask = tool("flask")
    for args in (["db", "upgrade"], ["demo", "seed"]):
        log(f"bench: flask --app wsgi {' '.join(args)}")
        subprocess.run([flask, "--app", "wsgi", *args], cwd=ROOT, env=dev, check=True,
                       stdout=subprocess.DEVNULL)


def make_users(env: dict, count: int, organisations: int, out: Path) -> dict:
    """Run `make-users` in a subprocess (its own app) and return its JSON."""
    subprocess.run([str(VENV_BIN / "python"), str(Path(__file__).resolve()), "make-users",
                    str(count), str(organisations), str(out)], cwd=ROOT, env=env, check=True)
    return json.loads(out.read_text())


def _make_users_main(count: int, organisations: int, out: str) -> None:
    """Inside an app context: `organisations` attendee organisations, `count` attendees spread
    over them, one API token each; plus the ids of the demo sessions the benchmarks use."""
    sys.path.insert(0, str(ROOT))
    from datetime import timedelta

    from sqlalchemy import select

    from app import create_app
    from app.accounts.models import ApiToken, Organisation, User
    from app.accounts.services import hash_token
    from app.extensions import db
    from app.fairs.models import FairSession
    from app.types import utcnow

    app = create_app()
    with app.app_context():
        orgs = [Organisation(name=f"Bench organisation {i:04d}", kind="city_bureau", city="Shijiazhuang",
                             country="CN") for i in range(organisations)]
        db.session.add_all(orgs)
        db.session.flush()
        users = [User(email=f"bench{i:05d}@bench.example", name=f"Bench attendee {i}", role="attendee",
                      organisation_id=orgs[i % organisations].id, timezone="Asia/Shanghai", locale="en",
                      calendar_token=secrets.token_urlsafe(24)) for i in range(count)]
        db.session.add_all(users)
        db.session.flush()
        user_ids = [u.id for u in users]
        expires = utcnow() + timedelta(days=1)
        tokens = []
        for user in users:
            plain = "cf_" + secrets.token_urlsafe(32)
            tokens.append(plain)
            db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(plain), expires_at=expires))
        db.session.commit()
        sessions = {s.title: {"id": s.id, "status": s.status, "project_ids": sorted(p.id for p in s.projects)}
                    for s in db.session.scalars(select(FairSession))}
    Path(out).write_text(json.dumps({"tokens": tokens, "user_ids": user_ids, "sessions": sessions}))


# ---------------------------------------------------------------- processes


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(master_pid: int) -> list[int]:
    try:
        with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _wait_http(proc: subprocess.Popen, url: str, logfile: Path, ok=lambda status: status == 200) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: the server exited ({proc.returncode}); see {logfile}:\n" + logfile.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if ok(resp.status):
                    return
        except urllib.error.HTTPError as exc:
            if ok(exc.code):
                return
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    sys.exit(f"bench: {url} did not answer within 30 s; see {logfile}")


def start_app(env: dict, port: int, logfile: Path, workers: int = 1) -> subprocess.Popen:
    """The app as in production: gunicorn.conf.py (gevent, worker_connections 10000); one worker on core 0,
    or `workers` on every core (two processes need `REDIS_URL` in env, the message queue between them)."""
    server_env = {**env, **RATE_ENV, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    server_env.pop("CLOUDFAIR_ENV", None)  # production settings; SECRET_KEY is set
    cores = "0" if workers == 1 else ",".join(str(c) for c in range(min(workers, os.cpu_count() or 1)))
    cmd = ["taskset", "-c", cores, tool("gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"]
    log(f"bench: app: {' '.join(cmd)} (PORT={port}, WEB_CONCURRENCY={workers}, "
        f"LIVE_RATE_PER_SECOND={RATE_ENV['LIVE_RATE_PER_SECOND']}, LIVE_BURST={RATE_ENV['LIVE_BURST']})")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env, stdout=open(logfile, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    _wait_http(proc, f"http://127.0.0.1:{port}/livez", logfile)
    deadline = time.monotonic() + 30
    while len(worker_pids(proc.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    return proc


def rss_kb(pid: int) -> int:
    """A process's resident memory now (VmRSS, KiB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_bare(env: dict, port: int, logfile: Path, workers: int = 1, redis_url: str | None = None) -> subprocess.Popen:
    """bench/bare_server.py: gunicorn, plain gevent workers, worker_connections 10000: one on core 0, or
    `workers` on every core with python-socketio's Redis manager at `redis_url` between them."""
    cores = "0" if workers == 1 else ",".join(str(c) for c in range(min(workers, os.cpu_count() or 1)))
    server_env = dict(env)
    server_env.pop("BARE_REDIS_URL", None)
    if workers > 1:
        server_env["BARE_REDIS_URL"] = redis_url or "redis://127.0.0.1:6379/9"
    cmd = ["taskset", "-c", cores, tool("gunicorn"), "-k", "gevent", "-w", str(workers), "--worker-connections",
           "10000", "-b", f"127.0.0.1:{port}", "bench.bare_server:app"]
    log(f"bench: bare: {' '.join(cmd)}" + (f" (BARE_REDIS_URL={server_env['BARE_REDIS_URL']})" if workers > 1 else ""))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env, stdout=open(logfile, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    _wait_http(proc, f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", logfile)
    deadline = time.monotonic() + 30
    while len(worker_pids(proc.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    return proc


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)  # gunicorn master: stops its worker
    try:
        proc.wait(timeout=35)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def add_generator_client(parser) -> None:
    """`--generator-client`: the Node generators' Socket.IO client (bench/node/lean.js: `openSocket`)."""
    parser.add_argument("--generator-client", choices=["lean", "socket.io-client"], default="lean",
                        help="the generator's clients: lean.js (Socket.IO on a bare ws websocket, about half the CPU "
                             "per message) or socket.io-client 4.8.1 (the figures before 2026-12-05)")


def ensure_node() -> str:
    node = shutil.which("node")
    if not node:
        sys.exit("bench: `node` not found (Node 18+ is needed for the load generator)")
    if not all((NODE_DIR / "node_modules" / name).exists() for name in ("socket.io-client", "ws")):
        log("bench: npm install (bench/node)")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR, check=True)
    return node


def children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_node(node: str, script: str, config: dict, tmpdir: Path, name: str) -> dict:
    """Run a generator script on core 1 with a JSON config; it prints one JSON object on stdout.
    With BENCH_NODE_PROF=DIR, Node writes a CPU profile of the generator there (`--cpu-prof`: where
    its time goes per message, to check that the figures measure the server)."""
    cfg = tmpdir / f"{name}.json"
    cfg.write_text(json.dumps(config))
    before, start = children_cpu(), time.monotonic()
    prof = ["--cpu-prof", f"--cpu-prof-dir={os.environ['BENCH_NODE_PROF']}"] if os.environ.get("BENCH_NODE_PROF") else []
    proc = subprocess.run(["taskset", "-c", "1", node, *prof, str(NODE_DIR / script), str(cfg)],
                          stdout=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"bench: node {script} failed ({proc.returncode})")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["generator_cpu_avg_pct_whole_run"] = 100.0 * (children_cpu() - before) / elapsed
    return result


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "make-users":
    _make_users_main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
