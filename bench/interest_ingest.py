"""Interest-ingest benchmark (`make bench-live`): many attendees expressing interest at once,
through the app, on PostgreSQL.

1. A fresh PostgreSQL database `cf_bench_live` (required: this measures PostgreSQL), `db upgrade`,
   `demo seed`, then --clients attendees spread over --organisations organisations, each with an
   API token (written straight into the database).
2. The app as in production (gunicorn.conf.py, ONE gevent worker, core 0, production settings,
   LIVE_RATE_PER_SECOND=1000 / LIVE_BURST=1000 so the per-connection limiter stays out of the way).
3. The Node generator (bench/node/interest.js, core 1; its clients bench/node/lean.js, or socket.io-client
   with `--generator-client socket.io-client`) connects every attendee over Socket.IO, warms
   up with a few interests, then every attendee sends --per-client `express_interest` events at the
   same moment to the demo session "US portable ECMO" (two projects), each with a unique client_id;
   every --concurrent-replay-every'th client_id is sent twice at once, and after all acks every
   --late-replay-every'th is sent again.
4. Reports acknowledged (new) interests per second over the burst (first emit to last ack), ack
   latency p50/p99, the worker's and the generator's CPU and the whole machine's (PostgreSQL and
   Redis included); then checks the database: rows with the burst's client ids == new acks, no
   (user, client_id) twice, every replay acknowledged as `duplicate: true` with the original
   interest's id. Exit 0 whatever the figures.

With --join every attendee is also in the session's room, as at a fair, and the room's messages
during the burst are counted (a staff-only interest reaches the room as a folded `skip`). With
--votes each round is a burst of votes for a new question instead (every attendee but its asker,
once; the votes' rows and the question's tally checked; no bare server). With --asks every attendee
asks --per-client questions at once (the questions' rows checked; no bare server).

Usage: .venv/bin/python bench/interest_ingest.py [--clients 200] [--organisations 100]
                                                  [--per-client 1] [--rounds 3] [--join] [--votes | --asks]
                                                  [--json out.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in ("", _HERE)]
sys.path.append(_HERE)  # after the standard library, so bench/http.py shadows nothing

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import live_common as lc  # noqa: E402

SESSION_TITLE = "US portable ECMO"
GOAL_RATE = 500.0
GOAL_RATE_TWO_WORKERS = 1000.0


def ask_question(url: str, token: str, session_id: int, run: str) -> int:
    """A question for a round of votes, asked over HTTP by the first attendee; its id."""
    import urllib.request

    body = json.dumps({"text": f"Which park has the land? ({run})", "client_id": f"bench-q-{run}"}).encode()
    request = urllib.request.Request(f"{url}/api/v1/sessions/{session_id}/questions", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["id"]


def check_votes(url: str, question_id: int) -> dict:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT count(*) FROM question_votes WHERE question_id = %s", (question_id,)).fetchone()[0]
        votes = conn.execute("SELECT votes FROM questions WHERE id = %s", (question_id,)).fetchone()[0]
    return {"rows": rows, "duplicate_rows": 0 if votes == rows else abs(votes - rows), "duplicate_leads": 0}


def check_questions(url: str, run: str) -> dict:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT count(*) FROM questions WHERE client_id LIKE %s", (f"ing-{run}-%",)).fetchone()[0]
        twice = conn.execute("SELECT count(*) FROM (SELECT user_id, client_id FROM questions GROUP BY user_id, client_id "
                             "HAVING count(*) > 1) AS d").fetchone()[0]
    return {"rows": rows, "duplicate_rows": twice, "duplicate_leads": 0}


def machine_per_send(result: dict) -> float | None:
    """The whole machine's CPU over the burst per send: the workers, PostgreSQL, Redis and the generator."""
    return 1000 * result["machine_cpu_s"] / result["burst_sends"] if result.get("machine_cpu_s") else None


def check_database(url: str, run: str) -> dict:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        rows = conn.execute("SELECT count(*) FROM interests WHERE client_id LIKE %s", (f"ing-{run}-%",)).fetchone()[0]
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT user_id, client_id FROM interests GROUP BY user_id, client_id "
            "HAVING count(*) > 1) AS d").fetchone()[0]
        leads_twice = conn.execute(
            "SELECT count(*) FROM (SELECT project_id, organisation_id FROM leads GROUP BY project_id, organisation_id "
            "HAVING count(*) > 1) AS d").fetchone()[0]
    return {"rows": rows, "duplicate_rows": twice, "duplicate_leads": leads_twice}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--per-client", type=int, default=1)
    parser.add_argument("--concurrent-replay-every", type=int, default=5)
    parser.add_argument("--late-replay-every", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1,
                        help="app processes (2: both cores, Redis as the message queue between them)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--join", action="store_true",
                        help="every attendee also joins the session's room (as at a fair) and counts what the room hears")
    parser.add_argument("--votes", action="store_true",
                        help="each round, every attendee but one votes for a new question (with --join: the room "
                             "hears the tallies) instead of expressing interest")
    parser.add_argument("--asks", action="store_true",
                        help="each round, every attendee asks --per-client questions at once instead of expressing "
                             "interest (their rows checked; no bare server)")
    lc.add_generator_client(parser)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--bare", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the burst against bench/bare_server.py first (the transport's ceiling)")
    args = parser.parse_args()

    node = lc.ensure_node()
    tmpdir = Path(tempfile.mkdtemp(prefix="cloudfair-ingest-"))
    env = dict(os.environ)
    env["SECRET_KEY"] = env.get("SECRET_KEY") or "bench-" + os.urandom(16).hex()
    env["UPLOAD_DIR"] = str(tmpdir / "uploads")
    env["DATABASE_URL"] = lc.fresh_database(tmpdir, require_postgres=True)
    env.pop("REDIS_URL", None)
    if args.workers > 1:
        env["REDIS_URL"] = args.redis_url
    app = None
    try:
        lc.prepare_database(env)
        made = lc.make_users(env, args.clients, args.organisations, tmpdir / "users.json")
        session = made["sessions"][SESSION_TITLE]
        bare_rounds = []
        if args.bare and not args.votes and not args.asks:  # the same burst against a bare python-socketio server: the transport's own ceiling
            bare_port = lc.free_port()
            bare = lc.start_bare(env, bare_port, tmpdir / "bare.log")
            try:
                bare_workers = lc.worker_pids(bare.pid)
                for rnd in range(1, args.rounds + 1):
                    result = lc.run_node(node, "interest.js", {
                        "url": f"http://127.0.0.1:{bare_port}", "tokens": made["tokens"], "session_id": session["id"],
                        "project_ids": session["project_ids"], "per_client": args.per_client,
                        "concurrent_replay_every": args.concurrent_replay_every,
                        "late_replay_every": args.late_replay_every, "warmup": 20, "connect_batch": 50,
                        "server_pids": bare_workers, "run": f"bare{rnd}", "join": args.join,
                        "client": args.generator_client}, tmpdir, f"bare-{rnd}")
                    result["server_cpu_ms_per_interest"] = (1000 * result["server_cpu_s"] / result["burst_sends"]
                                                            if result["server_cpu_s"] else None)
                    result["machine_cpu_ms_per_interest"] = machine_per_send(result)
                    result["round"] = rnd
                    lc.log(f"bench: bare round {rnd}: {result['acked_per_s']} acked/s, p99 {result['ack_p99_ms']} ms")
                    bare_rounds.append(result)
                    time.sleep(1)
            finally:
                lc.stop(bare)
        port = lc.free_port()
        app = lc.start_app(env, port, tmpdir / "app.log", workers=args.workers)
        workers = lc.worker_pids(app.pid)
        rounds = []
        for rnd in range(1, args.rounds + 1):
            run = f"r{rnd}"
            question_id = (ask_question(f"http://127.0.0.1:{port}", made["tokens"][0], session["id"], run)
                           if args.votes else None)
            result = lc.run_node(node, "interest.js", {
                "url": f"http://127.0.0.1:{port}", "tokens": made["tokens"], "session_id": session["id"],
                "project_ids": session["project_ids"], "per_client": args.per_client,
                "concurrent_replay_every": args.concurrent_replay_every, "late_replay_every": args.late_replay_every,
                "warmup": 20, "connect_batch": 50, "server_pids": workers, "run": run, "join": args.join,
                "vote_question_id": question_id, "asks": args.asks, "client": args.generator_client,
            }, tmpdir, f"interest-{rnd}")
            db = (check_votes(env["DATABASE_URL"], question_id) if args.votes else
                  check_questions(env["DATABASE_URL"], run) if args.asks else check_database(env["DATABASE_URL"], run))
            result.update(db)
            result["round"] = rnd
            result["consistent"] = (db["rows"] == result["new_acks"] and db["duplicate_rows"] == 0
                                    and db["duplicate_leads"] == 0 and result["interest_id_mismatches"] == 0
                                    and result["late_new_acks"] == 0 and not result["errors"])
            result["server_cpu_ms_per_interest"] = (1000 * result["server_cpu_s"] / result["burst_sends"]
                                                    if result["server_cpu_s"] else None)
            result["machine_cpu_ms_per_interest"] = machine_per_send(result)
            lc.log(f"bench: round {rnd}: {result['acked_per_s']} acked/s, p99 {result['ack_p99_ms']} ms, "
                   f"rows {db['rows']} vs new acks {result['new_acks']}, consistent {result['consistent']}")
            rounds.append(result)
            time.sleep(2)

        lines = [
            (f"{args.clients - 1} attendees vote at once for one question " if args.votes else
             f"{args.clients} attendees ask {args.per_client} question(s) each at once " if args.asks else
             f"{args.clients} attendees in {args.organisations} organisations, {args.per_client} interests each at once ")
            + f"(every {args.concurrent_replay_every}th client_id also replayed concurrently, every "
            f"{args.late_replay_every}th replayed after the acks); "
            + ("1 gevent worker on core 0, Node on core 1" if args.workers == 1 else
               f"{args.workers} gevent workers on both cores (Redis between them), Node on core 1")
            + ", PostgreSQL. Worker CPU is the workers' sum.",
            "",
            "| round | sends (unique + concurrent replays) | new acks | duplicate acks | errors | acked/s | ack p50 ms | "
            "ack p99 ms | worker CPU-ms per send | machine CPU-ms per send | rows = new acks | duplicate rows / leads | late replays → duplicate | "
            "generator CPU burst max / p90 / avg |",
            "|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---|---|---|---|",
        ]
        def figure(value, spec: str = ".0f", unit: str = "") -> str:
            return "–" if value is None else f"{value:{spec}}{unit}"

        for r in rounds:
            lines.append(
                f"| {r['round']} | {r['burst_sends']} ({r['unique_sent']} + {r['concurrent_replays']}) | {r['new_acks']} | "
                f"{r['duplicate_acks']} | {json.dumps(r['errors']) if r['errors'] else 0} | {r['acked_per_s']:,} | "
                f"{figure(r['ack_p50_ms'])} | {figure(r['ack_p99_ms'])} | {figure(r['server_cpu_ms_per_interest'], '.1f')} | "
                f"{figure(r['machine_cpu_ms_per_interest'], '.1f')} | "
                f"{r['rows']} = {r['new_acks']} {'✓' if r['rows'] == r['new_acks'] else '✗'} | "
                f"{r['duplicate_rows']} / {r['duplicate_leads']} | {r['late_duplicate_acks']}/{r['late_replays']} | "
                f"{figure(r['generator_cpu_burst_max_pct'], '.0f', '%')} / {figure(r['generator_cpu_burst_p90_pct'], '.0f', '%')} / "
                f"{figure(r['generator_cpu_avg_pct'], '.0f', '%')} |"
            )
        for r in bare_rounds:
            lines.append(
                f"| bare {r['round']} | {r['burst_sends']} ({r['unique_sent']} + {r['concurrent_replays']}) | "
                f"{r['new_acks']} | {r['duplicate_acks']} | {json.dumps(r['errors']) if r['errors'] else 0} | "
                f"{r['acked_per_s']:,} | {figure(r['ack_p50_ms'])} | {figure(r['ack_p99_ms'])} | "
                f"{figure(r['server_cpu_ms_per_interest'], '.2f')} | {figure(r['machine_cpu_ms_per_interest'], '.2f')} | "
                f"(no database) | – | "
                f"{r['late_duplicate_acks']}/{r['late_replays']} | {figure(r['generator_cpu_burst_max_pct'], '.0f', '%')} / "
                f"{figure(r['generator_cpu_burst_p90_pct'], '.0f', '%')} / {figure(r['generator_cpu_avg_pct'], '.0f', '%')} |")
        if args.join:
            lines += ["", "The room's messages during a burst (all attendees together; per new interest):"]
            for r in rounds:
                heard = r.get("room_messages") or {}
                total = sum(heard.values())
                lines.append(f"- round {r['round']}: {total:,} ({total / max(1, r['new_acks']):,.1f} per interest): "
                             + ", ".join(f"{name} {n:,}" for name, n in sorted(heard.items())))
        median_rate = statistics.median(r["acked_per_s"] for r in rounds)
        goal = GOAL_RATE if args.workers == 1 else GOAL_RATE_TWO_WORKERS
        met = median_rate >= goal and all(r["consistent"] for r in rounds)
        lines += ["", f"Median acknowledged interests/s: {median_rate:,.0f}; goal ≥ {goal:,.0f}/s with "
                      f"acknowledged = rows and no duplicates -> {'PASS' if met else 'FAIL'}"]
        if bare_rounds:
            bare_rate = statistics.median(r["acked_per_s"] for r in bare_rounds)
            bare_cpu = statistics.median(r["server_cpu_ms_per_interest"] or 0 for r in bare_rounds)
            app_cpu = statistics.median(r["server_cpu_ms_per_interest"] or 0 for r in rounds)
            lines += [f"Bare python-socketio server (one gevent worker, core 0, no Flask, no database): {bare_rate:,.0f} "
                      f"acked/s at {bare_cpu:.2f} CPU-ms per send; the app: {median_rate / bare_rate:.2f}x its rate, "
                      f"{app_cpu / bare_cpu if bare_cpu else 0:.1f}x its CPU per send."]
        print("\n".join(lines))
        if args.json:
            meta = {"clients": args.clients, "join": args.join, "organisations": args.organisations, "per_client": args.per_client,
                    "session_id": session["id"], "live_rate_env": lc.RATE_ENV, "cpus": os.cpu_count(),
                    "python": platform.python_version(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "loadavg": os.getloadavg()}
            Path(args.json).write_text(json.dumps({"meta": meta, "rounds": rounds, "bare_rounds": bare_rounds}, indent=2) + "\n")
        return 0
    finally:
        lc.stop(app)
        lc.drop_database(env["DATABASE_URL"])
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
