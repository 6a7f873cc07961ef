"""Live fan-out benchmark (`make bench-live`): questions broadcast to one room of N clients,
the app against a bare python-socketio server, in the same run.

1. A fresh database (PostgreSQL `cf_bench_live` when 127.0.0.1:5432 answers, else SQLite),
   `db upgrade`, `demo seed`; max(N) attendee users with API tokens written straight into it.
2. Two servers, both gunicorn with ONE gevent worker pinned to core 0 (taskset -c 0):
   - the app: gunicorn.conf.py (worker_connections 10000), production settings, a SECRET_KEY,
     LIVE_RATE_PER_SECOND=1000 / LIVE_BURST=1000 so the per-connection limiter stays out of the way;
   - bench/bare_server.py: python-socketio alone, the same room and broadcast.
3. The generator is Node (bench/node/fanout.js, websocket transport), pinned to core 1; its clients
   are bench/node/lean.js (Socket.IO on a bare `ws` websocket: about half socket.io-client's CPU per
   message, which had come to cost as much as the app's worker per recipient) or, with
   `--generator-client socket.io-client`, socket.io-client 4.8.1 (the figures before 2026-12-05).
   For each N (500, 1000) and each server (alternating which goes first), it connects N clients
   (the app: `auth={"token"}`), joins them to one session room, asks `--warmup` questions that are not
   measured (a process's first asks compile its statements, and the generator's handlers are not
   compiled yet: at two workers the first three questions' slowest receipts were 83, 64 and 58 ms,
   the next ones 42–60), then one client asks questions at each rate (1/s and 4/s) for --duration
   seconds. Every client records the delay from the ask's emit to its own receipt of the `question`
   broadcast. Lost = acknowledged questions × N − receipts. Between runs the harness waits until both workers are idle.
4. Reports p50/p99, deliveries/s, lost, the worker's CPU-ms per broadcast, the generator's CPU
   during bursts (max and p90 over 100 ms windows), and app ÷ bare. Exit 0 whatever the figures.

5. Joins: how long N clients took to connect and join (`--connect-batch` at a time: 50, or a storm of
   500), the workers' CPU per join, refusals, and the workers' resident memory per joined connection.
6. `--workers 2`: the app as production runs it on this box (two gevent workers on both cores, Redis as
   the message queue between them, `--redis-url`); the clients land on either worker (websocket, no
   stickiness needed; how many each holds is logged and kept as `connections_per_worker`: the split is
   the kernel's and the workers' accept loops', 474/1,526 to 1,117/883 of 2,000 on 2026-12-06) and a
   question asked on one reaches the other's clients through Redis. The bare
   server stays one process: the goal compares two workers at 2N with one bare process at N. With
   `--bare-workers 2`, bare python-socketio also runs on two processes with its Redis manager (`bare2`),
   measured at the same N as the app: what the app adds to the same shape of server.

Usage: .venv/bin/python bench/live_fanout.py [--clients 500,1000] [--rates 1,4] [--duration 10]
                                              [--rounds 1] [--workers 1] [--connect-batch 50]
                                              [--no-deflate] [--warmup 3] [--generator-client lean]
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
import tempfile  # noqa: E402
import time  # noqa: E402

import live_common as lc  # noqa: E402

SESSION_TITLE = "Belgian wastewater membrane technology"
GOAL_CLIENTS = 1000
GOAL_P99_MS = 200.0
GOAL_RATIO = 0.8


def wait_idle(pids: list[int], limit: float = 180.0) -> None:
    """Until every worker used < 3% CPU over a second (e.g. the app finishing disconnects)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = {p: lc.proc_cpu_seconds(p) for p in pids}
        time.sleep(1.0)
        if all(lc.proc_cpu_seconds(p) - before[p] < 0.03 for p in pids):
            return
    lc.log("bench: warning: a worker is still busy; measuring anyway")


def fmt(value, spec=",.0f", none="–"):
    return none if value is None else format(value, spec)


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"{meta['rounds']} round(s); per run: N clients connect and join, then one asks at each rate for "
        f"{meta['duration_s']:g} s; {meta['server']}; Node generator on core 1; "
        f"database {meta['database']}. CPU-ms/broadcast = worker CPU during the phase ÷ questions sent.",
        "",
        "| N | rate/s | server | p50 ms | p99 ms | max ms | deliveries/s | lost | dup | ask ack p50 ms | "
        "CPU-ms/broadcast | connect+join s (server CPU s) | generator CPU burst max / p90 / avg |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['clients']} | {r['rate']:g} | {r['server']} | {fmt(r['p50_ms'], '.1f')} | {fmt(r['p99_ms'], '.1f')} | "
            f"{fmt(r['max_ms'], '.0f')} | {fmt(r['deliveries_per_s'])} | {r['lost']} | {r['duplicates']} | "
            f"{fmt(r['ack_p50_ms'], '.1f')} | {fmt(r['cpu_ms_per_broadcast'], '.1f')} | "
            f"{r['connect_join_s']:.1f} ({fmt(r['connect_join_server_cpu_s'], '.1f')}) | "
            f"{fmt(r['generator_cpu_burst_max_pct'], '.0f')}% / {fmt(r['generator_cpu_burst_p90_pct'], '.0f')}% / "
            f"{fmt(r['generator_cpu_avg_pct'], '.0f')}% |"
        )
    return "\n".join(lines)


def ratios(rows: list[dict]) -> list[dict]:
    out = []
    keys = sorted({(r["round"], r["clients"], r["rate"]) for r in rows})
    for key in keys:
        pair = {r["server"]: r for r in rows if (r["round"], r["clients"], r["rate"]) == key}
        if "app" not in pair or "bare" not in pair:
            continue
        app, bare = pair["app"], pair["bare"]
        out.append({
            "round": key[0], "clients": key[1], "rate": key[2],
            "deliveries_ratio": app["deliveries_per_s"] / bare["deliveries_per_s"] if bare["deliveries_per_s"] else None,
            "cpu_ratio": (app["cpu_ms_per_broadcast"] / bare["cpu_ms_per_broadcast"]
                          if app["cpu_ms_per_broadcast"] and bare["cpu_ms_per_broadcast"] else None),
            "app_p99_ms": app["p99_ms"], "bare_p99_ms": bare["p99_ms"], "app_lost": app["lost"],
            "bare_lost": bare["lost"],
            "goal_met": (key[1] != GOAL_CLIENTS) or (
                app["p99_ms"] is not None and app["p99_ms"] <= GOAL_P99_MS and app["lost"] == 0
                and bare["deliveries_per_s"] and app["deliveries_per_s"] / bare["deliveries_per_s"] >= GOAL_RATIO),
        })
    return out


#: Clients connecting at once from which on a run is a storm.
STORM_BATCH = 500


def join_markdown(joins: list[dict]) -> str:
    lines = [
        "| round | N | server | workers | batch | joined | refused | connect+join s | worker CPU-s | generator CPU-s | "
        "CPU-ms per join | "
        "KiB per connection | app ÷ bare CPU per join | questions asked meanwhile: acked / sent, ack p50 / p99 ms | "
        "goal (≤ 1.5× bare CPU; 1,000 in ≤ 5 s on one worker; 6,500 in ≤ 10 s on two, questions answered) |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for j in joins:
        # The bare server of the same shape (two processes: bare2, when measured), else the one process.
        same = [b for b in joins if b["server"].startswith("bare") and b["round"] == j["round"]
                and b["clients"] == j["clients"]]
        bare = next((b for b in same if b["workers"] == j["workers"]), None) or next(
            (b for b in same if b["server"] == "bare"), None)
        ratio = (j["cpu_ms_per_join"] / bare["cpu_ms_per_join"]
                 if j["server"] == "app" and bare and bare["cpu_ms_per_join"] and j["cpu_ms_per_join"] else None)
        asks = j.get("asks")
        meanwhile = "–" if asks is None else (f"asker refused: {asks['asker_error']}" if asks.get("asker_error") else
                                              f"{asks['acked']} / {asks['sent']}, {fmt(asks['ack_p50_ms'], '.0f')} / "
                                              f"{fmt(asks['ack_p99_ms'], '.0f')}")
        goal = ""
        if j["server"] == "app" and j["workers"] > 1 and j["batch"] < STORM_BATCH:
            goal = ""  # two workers joined at an ordinary pace: no goal of its own (the ratio is to bare2)
        elif j["server"] == "app" and j["workers"] > 1:  # the storm on two workers: its own goal
            goal = "PASS" if lc.storm_goal_met(j) else "FAIL"
        elif j["server"] == "app" and ratio is not None:
            goal = "PASS" if lc.join_goal_met(j, ratio) else "FAIL"
        lines.append(
            f"| {j['round']} | {j['clients']} | {j['server']} | {j['workers']} | {j['batch']} | {j['joined']} | "
            f"{j['refused']} | {j['seconds']:.1f} | {fmt(j['cpu_s'], '.2f')} | "
            f"{fmt(j.get('generator_cpu_s'), '.2f')} | {fmt(j['cpu_ms_per_join'], '.2f')} | "
            f"{fmt(j['kb_per_connection'], '.1f')} | {fmt(ratio, '.2f')} | {meanwhile} | {goal} |")
    return "\n".join(lines)


def two_worker_markdown(rows: list[dict]) -> str:
    """Two app workers at 2N against one bare process at N (the goal of `--workers 2`), and, with
    `--bare-workers 2`, against bare python-socketio on two processes and Redis at the same 2N (the same
    shape of server, so what the app itself adds)."""
    lines = ["| round | rate/s | app: 2 workers, clients | app p99 ms | lost | bare: 1 process, clients | bare p99 ms | "
             "goal (p99 ≤ bare's, 0 lost) | bare: 2 processes + Redis, same clients: p99 ms | app ÷ bare×2: p99, "
             "CPU-ms/broadcast |", "|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"]
    for app in (r for r in rows if r["server"] == "app"):
        bare = next((r for r in rows if r["server"] == "bare" and r["round"] == app["round"]
                     and r["rate"] == app["rate"] and 2 * r["clients"] == app["clients"]), None)
        if bare is None:
            continue
        twin = next((r for r in rows if r["server"] == "bare2" and r["round"] == app["round"]
                     and r["rate"] == app["rate"] and r["clients"] == app["clients"]), None)
        met = app["p99_ms"] is not None and bare["p99_ms"] is not None and app["p99_ms"] <= bare["p99_ms"] and not app["lost"]
        twin_p99 = fmt(twin and twin["p99_ms"], ".1f")
        twin_ratio = "–"
        if twin and twin["p99_ms"] and app["p99_ms"] and twin["cpu_ms_per_broadcast"] and app["cpu_ms_per_broadcast"]:
            twin_ratio = (f"{app['p99_ms'] / twin['p99_ms']:.2f}, "
                          f"{app['cpu_ms_per_broadcast'] / twin['cpu_ms_per_broadcast']:.2f}")
        lines.append(f"| {app['round']} | {app['rate']:g} | {app['clients']} | {fmt(app['p99_ms'], '.1f')} | {app['lost']} | "
                     f"{bare['clients']} | {fmt(bare['p99_ms'], '.1f')} | {'PASS' if met else 'FAIL'} | {twin_p99} | "
                     f"{twin_ratio} |")
    return "\n".join(lines)


def ratio_markdown(rows: list[dict]) -> str:
    lines = [
        "| N | rate/s | app ÷ bare deliveries/s | app ÷ bare CPU-ms/broadcast | app p99 / bare p99 ms | lost app / bare | "
        f"goal at {GOAL_CLIENTS} (p99 ≤ {GOAL_P99_MS:g} ms, ≥ {GOAL_RATIO}× bare, 0 lost) |",
        "|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        goal = ("PASS" if r["goal_met"] else "FAIL") if r["clients"] == GOAL_CLIENTS else ""
        lines.append(
            f"| {r['clients']} | {r['rate']:g} | {fmt(r['deliveries_ratio'], '.2f')} | {fmt(r['cpu_ratio'], '.1f')}× | "
            f"{fmt(r['app_p99_ms'], '.1f')} / {fmt(r['bare_p99_ms'], '.1f')} | {r['app_lost']} / {r['bare_lost']} | {goal} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="500,1000", help="comma-separated room sizes")
    parser.add_argument("--rates", default="1,4", help="comma-separated questions per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of asking per rate")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--drain", type=float, default=15.0, help="seconds to wait for late deliveries")
    parser.add_argument("--only", choices=["app", "bare"], help="measure one server only")
    parser.add_argument("--no-deflate", action="store_true",
                        help="clients do not offer permessage-deflate (browsers do; a diagnostic)")
    parser.add_argument("--workers", type=int, default=1,
                        help="app processes (2: both cores and Redis as the message queue; the bare server stays at 1)")
    parser.add_argument("--bare-workers", type=int, default=1,
                        help="also measure the bare server on this many processes with Redis between them "
                             "(`bare2`: the like-for-like baseline of --workers 2)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
                        help="the message queue for --workers 2 (a database of its own)")
    parser.add_argument("--connect-batch", type=int, default=50,
                        help="clients connecting at once (500 or more: a join storm)")
    parser.add_argument("--ask-during-joins", type=float, default=0.0, metavar="SECONDS",
                        help="one more client asks a question at this interval while the others join (0: none)")
    lc.add_generator_client(parser)
    parser.add_argument("--warmup", type=int, default=3, metavar="QUESTIONS",
                        help="questions asked and not measured before the first rate (0: none)")
    parser.add_argument("--json", metavar="FILE", help="write machine-readable results here")
    args = parser.parse_args()
    sizes = [int(x) for x in args.clients.split(",")]
    rates = [float(x) for x in args.rates.split(",") if x]  # "" = joins only

    if (os.cpu_count() or 1) < 2:
        lc.log("bench: warning: fewer than 2 cores; server and generator will share one")
    node = lc.ensure_node()
    tmpdir = Path(tempfile.mkdtemp(prefix="cloudfair-live-"))
    env = dict(os.environ)
    env["SECRET_KEY"] = env.get("SECRET_KEY") or "bench-" + os.urandom(16).hex()
    env["UPLOAD_DIR"] = str(tmpdir / "uploads")
    env["DATABASE_URL"] = lc.fresh_database(tmpdir)
    env.pop("REDIS_URL", None)  # one process: no message queue
    app_env = dict(env)
    if args.workers > 1:
        app_env["REDIS_URL"] = args.redis_url
    app = bare = twin = None
    try:
        lc.prepare_database(env)
        made = lc.make_users(env, max(sizes), 200, tmpdir / "users.json")
        session = made["sessions"][SESSION_TITLE]
        lc.log(f"bench: {len(made['tokens'])} attendees with tokens; session {session['id']} ({session['status']})")
        app_port, bare_port = lc.free_port(), lc.free_port()
        servers = {}
        if args.only != "bare":
            app = lc.start_app(app_env, app_port, tmpdir / "app.log", workers=args.workers)
            servers["app"] = (app, f"http://127.0.0.1:{app_port}")
        if args.only != "app":
            bare = lc.start_bare(env, bare_port, tmpdir / "bare.log")
            servers["bare"] = (bare, f"http://127.0.0.1:{bare_port}")
        if args.only != "app" and args.bare_workers > 1:
            twin_port = lc.free_port()
            twin = lc.start_bare(env, twin_port, tmpdir / "bare2.log", workers=args.bare_workers,
                                 redis_url=args.redis_url)
            servers["bare2"] = (twin, f"http://127.0.0.1:{twin_port}")
        workers = {name: lc.worker_pids(proc.pid) for name, (proc, _) in servers.items()}
        rows, joins = [], []
        order = list(servers)
        for rnd in range(1, args.rounds + 1):
            for n in sizes:
                for name in order:
                    wait_idle([pid for pids in workers.values() for pid in pids])
                    lc.log(f"bench: round {rnd}, {n} clients, {name}")
                    result = lc.run_node(node, "fanout.js", {
                        "url": servers[name][1], "mode": "app" if name == "app" else "bare", "tokens": made["tokens"][:n], "clients": n,
                        "session_id": session["id"], "rates": rates, "duration": args.duration,
                        "drain": args.drain, "settle": 3, "connect_batch": args.connect_batch,
                        "server_pids": workers[name], "run": f"{rnd}-{n}", "deflate": not args.no_deflate,
                        "ask_during_joins": args.ask_during_joins, "client": args.generator_client,
                        "warmup": args.warmup,
                    }, tmpdir, f"fanout-{name}-{n}-{rnd}")
                    cpu = result["connect_join_server_cpu_s"]
                    joins.append({
                        "round": rnd, "clients": n, "server": name, "workers": len(workers[name]),
                        "batch": args.connect_batch, "joined": result["connected"],
                        "refused": n - result["connected"], "seconds": result["connect_join_s"], "cpu_s": cpu,
                        "generator_cpu_s": result.get("connect_join_generator_cpu_s"),
                        "cpu_ms_per_join": 1000 * cpu / result["connected"] if cpu is not None and result["connected"] else None,
                        "kb_per_connection": result.get("kb_per_connection"),
                        "connections_per_worker": result.get("connections_per_worker"),
                        "failures": result["connect_failures"],
                        "asks": result.get("asks_during_joins"),
                        "heard": result.get("heard_during_joins") or {},
                        "disconnect_cpu_s": result.get("disconnect_server_cpu_s"),
                    })
                    if result["connected"] != n:
                        lc.log(f"bench: WARNING only {result['connected']}/{n} clients joined: {result['connect_failures']}")
                    for ph in result["phases"]:
                        rows.append({
                            "round": rnd, "clients": n, "server": name, **ph,
                            "cpu_ms_per_broadcast": (1000 * ph["server_cpu_s"] / ph["sent"]
                                                     if ph["server_cpu_s"] is not None and ph["sent"] else None),
                            "connect_join_s": result["connect_join_s"],
                            "connect_join_server_cpu_s": result["connect_join_server_cpu_s"],
                        })
                order.reverse()  # alternate which server goes first
        meta = {
            "rounds": args.rounds, "duration_s": args.duration, "rates": rates, "clients": sizes,
            "database": "PostgreSQL" if env["DATABASE_URL"].startswith("postgresql") else "SQLite",
            "generator": ("node bench/node/fanout.js ("
                          + ("lean.js on ws 8.21.3" if args.generator_client == "lean" else "socket.io-client 4.8.1")
                          + ", websocket), taskset -c 1"),
            "server": (f"app: gunicorn {args.workers} gevent worker(s), worker_connections 10000"
                       + (f", Redis {args.redis_url}" if args.workers > 1 else ", taskset -c 0")
                       + "; bare: 1 gevent worker, taskset -c 0"
                       + (f"; bare2: {args.bare_workers} gevent workers, Redis" if args.bare_workers > 1 else "")),
            "workers": args.workers, "connect_batch": args.connect_batch,
            "live_rate_env": lc.RATE_ENV, "permessage_deflate_offered": not args.no_deflate,
            "session_id": session["id"], "cpus": os.cpu_count(),
            "python": platform.python_version(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "loadavg": os.getloadavg(),
        }
        ratio_rows = ratios(rows)
        print(markdown(rows, meta))
        print()
        print(ratio_markdown(ratio_rows))
        if args.workers > 1:
            print()
            print(two_worker_markdown(rows))
        print()
        print(join_markdown(joins))
        print()
        print("Events the clients heard while the room filled (all clients together, by name): "
              + "; ".join(f"round {j['round']} {j['server']} {j['clients']:,}: "
                          + (", ".join(f"{name} {count:,}" for name, count in sorted(j["heard"].items())) or "none")
                          for j in joins))
        print("Everyone leaving at once (the server's CPU over the 2 s after all disconnect): "
              + "; ".join(f"round {j['round']} {j['server']} {j['clients']:,}: {j['disconnect_cpu_s']} CPU-s"
                          for j in joins if j.get("disconnect_cpu_s") is not None))
        if args.json:
            Path(args.json).write_text(json.dumps({"meta": meta, "results": rows, "ratios": ratio_rows, "joins": joins},
                                                  indent=2) + "\n")
            lc.log(f"bench: wrote {args.json}")
        return 0
    finally:
        lc.stop(app)
        lc.stop(bare)
        lc.stop(twin)
        lc.drop_database(env["DATABASE_URL"])
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
