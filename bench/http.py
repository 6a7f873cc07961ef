"""HTTP throughput/latency benchmark of the production server (`make bench`).

What it does, in order:

1. Makes a temporary SQLite database (or uses DATABASE_URL if set), runs
   `flask --app wsgi db upgrade` and `flask --app wsgi demo seed` with
   CLOUDFAIR_ENV=development.
2. Starts ONE production server: gunicorn with gunicorn.conf.py (gevent worker,
   access log on), WEB_CONCURRENCY=1, a SECRET_KEY, CLOUDFAIR_ENV unset
   (production settings), pinned to core 0 with `taskset -c 0`.
3. Drives it with `wrk` (C, one thread) pinned to core 1, so the generator is far
   cheaper per request than the server and never shares its core.
4. Warms every target up, then for each round and each target runs
   /livez (baseline) and the target back to back, so every target figure has a
   baseline measured next to it on the same (shared, drifting) machine.
   Reports medians over the rounds and the ratio target/baseline.

Targets: /livez, the agenda page /fairs/<id> of the published Europe fair,
/fairs/<id>.ics (fresh, 200), /fairs/<id>.ics with If-None-Match (304),
/api/v1/fairs/<id>.

Latency is from a closed loop with --connections keep-alive connections, so it
includes queueing in the server: at N connections, mean latency ~= N / (req/s).
Goals are reported as PASS/FAIL; the exit status never depends on timing.

With --rate R each connection waits between its requests so that about 1.1 x R req/s are offered
in all: latency at a load rather than at saturation (the agenda's goal is a p99 at >= 300 req/s).

Usage: .venv/bin/python bench/http.py [--rounds 3] [--duration 8] [--connections 10]
                                      [--rate 300] [--json results.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py and Python puts its folder first on sys.path, which would make
# `import http.client` (inside urllib) find this script instead of the standard library.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in ("", _HERE) and Path(p or ".").resolve() != Path(_HERE)]

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

sys.path.append(_HERE)  # last, after the standard library's `http`
from live_common import free_port, log, prepare_database, proc_cpu_seconds, tool, worker_pids  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
EUROPE_TITLE_PREFIX = "Europe online investment fair: new materials"

#: (key, label, path template, needs If-None-Match, expected status)
TARGETS = [
    ("livez", "/livez (baseline)", "/livez", False, 200),
    ("agenda", "agenda page /fairs/<id>", "/fairs/{id}", False, 200),
    ("ics", "/fairs/<id>.ics (200)", "/fairs/{id}.ics", False, 200),
    ("ics_304", "/fairs/<id>.ics If-None-Match (304)", "/fairs/{id}.ics", True, 304),
    ("api", "/api/v1/fairs/<id>", "/api/v1/fairs/{id}", False, 200),
]

GOALS = {
    "agenda": {"rps_min": 300.0, "p99_ms_max": 100.0},
    "ics_304": {"rps_min": 1000.0},
    "api": {"ratio_min": 0.5},  # at saturation, against /livez measured right before it
}


# ---------------------------------------------------------------- helpers


def fetch(url: str, headers: dict | None = None, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:  # 304 and errors arrive here
        return exc.code, dict(exc.headers), exc.read()


def _unit_ms(value: str, unit: str) -> float:
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
    return float(value) * factor


def parse_wrk(output: str) -> dict:
    """Requests/sec, p50/p99 (ms), errors from `wrk --latency` output."""
    result: dict = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(m.group(1)) if m else 0.0
    for pct, key in (("50", "p50_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        result[key] = _unit_ms(*m.groups()) if m else None
    m = re.search(r"(\d+) requests in", output)
    result["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["bad_status"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return result


# ---------------------------------------------------------------- setup


def start_server(env: dict, port: int, logfile: Path) -> subprocess.Popen:
    server_env = {**env, "PORT": str(port), "WEB_CONCURRENCY": "1"}
    server_env.pop("CLOUDFAIR_ENV", None)  # production settings (SECRET_KEY is set)
    server_env.setdefault("SECRET_KEY", "bench-" + os.urandom(16).hex())
    cmd = ["taskset", "-c", "0", tool("gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"]
    log(f"bench: {' '.join(cmd)} (PORT={port}, WEB_CONCURRENCY=1, access log -> {logfile})")
    out = open(logfile, "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: the server exited ({proc.returncode}); see {logfile}:\n" + logfile.read_text()[-3000:])
        try:
            if fetch(f"http://127.0.0.1:{port}/livez", timeout=1)[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    sys.exit(f"bench: the server did not answer /livez within 30 s; see {logfile}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)  # gunicorn master: graceful stop of its worker
        try:
            proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def find_europe_fair(base: str) -> int:
    status, _, body = fetch(f"{base}/api/v1/fairs?per_page=100")
    if status != 200:
        sys.exit(f"bench: GET /api/v1/fairs answered {status}")
    for fair in json.loads(body)["items"]:
        if fair["title"].startswith(EUROPE_TITLE_PREFIX) and fair.get("status") == "published":
            return int(fair["id"])
    sys.exit("bench: the published Europe fair is not in /api/v1/fairs (demo seed?)")


# ---------------------------------------------------------------- measuring


class Runner:
    def __init__(self, base: str, fair_id: int, etag: str, master_pid: int, connections: int,
                 pacing: Path | None = None):
        self.base, self.fair_id, self.etag = base, fair_id, etag
        self.master_pid, self.connections = master_pid, connections
        self.pacing = pacing
        self.wrk = tool("wrk")

    def command(self, target: tuple, duration: float) -> list[str]:
        _, _, path, conditional, _ = target
        cmd = ["taskset", "-c", "1", self.wrk, "-t1", f"-c{self.connections}", f"-d{duration:g}s",
               "--timeout", "5s", "--latency"]
        if conditional:
            cmd += ["-H", f"If-None-Match: {self.etag}"]
        if self.pacing is not None:
            cmd += ["-s", str(self.pacing)]
        return cmd + [self.base + path.format(id=self.fair_id)]

    def run(self, target: tuple, duration: float) -> dict:
        workers = worker_pids(self.master_pid)
        before = {pid: proc_cpu_seconds(pid) for pid in workers}
        start = time.monotonic()
        proc = subprocess.Popen(self.command(target, duration), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        out, _ = proc.communicate()
        elapsed = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(f"bench: wrk failed ({proc.returncode}):\n{out}")
        result = parse_wrk(out)
        server_cpu = sum(proc_cpu_seconds(pid) - before[pid] for pid in workers if os.path.exists(f"/proc/{pid}"))
        result["server_cpu_pct"] = 100.0 * server_cpu / elapsed
        # Requests per CPU-second of the worker: what it would serve with a core to itself.
        # Robust to a shared machine taking part of core 0 away; not to cache/SMT effects.
        result["rps_per_cpu"] = result["requests"] / server_cpu if server_cpu > 0 else None
        return result


def children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(runner: Runner, target: tuple, duration: float) -> dict:
    """One wrk run plus the generator's CPU: RUSAGE_CHILDREN grows only by the wrk just reaped
    (taskset execs wrk in place; the server is still running, so it is not counted)."""
    cpu_before, start = children_cpu(), time.monotonic()
    result = runner.run(target, duration)
    result["generator_cpu_pct"] = 100.0 * (children_cpu() - cpu_before) / (time.monotonic() - start)
    return result


def verify(base: str, fair_id: int) -> tuple[str, dict[str, int]]:
    """The feed's ETag, and the status every target answers (a wrong one is reported, and fails
    that target's goal, but is still measured so a before/after comparison is possible)."""
    status, headers, _ = fetch(f"{base}/fairs/{fair_id}.ics")
    etag = headers.get("ETag")
    if status != 200 or not etag:
        sys.exit(f"bench: /fairs/{fair_id}.ics answered {status} with ETag {etag!r}")
    statuses = {}
    for key, _, path, conditional, expected in TARGETS:
        got = fetch(base + path.format(id=fair_id), {"If-None-Match": etag} if conditional else None)[0]
        statuses[key] = got
        if got != expected:
            log(f"bench: WARNING {path.format(id=fair_id)} answered {got}, expected {expected}")
            if got >= 400:
                sys.exit("bench: a target fails; fix it before timing it")
    return etag, statuses


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(runs: dict[str, list[dict]], baselines: dict[str, list[dict]], statuses: dict[str, int],
              rate: float | None = None) -> dict:
    """Medians per target. Paced (`rate`), only goals with a latency bound are judged: the rate served
    must reach the goal's and the p99 stay within its bound at that load. At saturation (not paced),
    only throughput goals: a p99 there is the queue of a server asked for more than it can do."""
    summary = {}
    all_baselines = [r for rs in baselines.values() for r in rs]
    for key, label, path, _, expected in TARGETS:
        own = all_baselines if key == "livez" else runs[key]
        base = all_baselines if key == "livez" else baselines[key]
        ratios = [t["rps"] / b["rps"] for t, b in zip(own, base) if b["rps"]] if key != "livez" else [1.0]
        row = {
            "label": label,
            "path": path,
            "rounds": len(own),
            "rps": median(r["rps"] for r in own),
            "p50_ms": median(r["p50_ms"] for r in own),
            "p99_ms": median(r["p99_ms"] for r in own),
            "ratio_to_livez": median(ratios),
            "baseline_rps": median(r["rps"] for r in base),
            "server_cpu_pct": median(r["server_cpu_pct"] for r in own),
            "rps_per_cpu": median(r["rps_per_cpu"] for r in own),
            "generator_cpu_pct": median(r["generator_cpu_pct"] for r in own),
            "errors": sum(r["bad_status"] + r["socket_errors"] for r in own),
            "status": statuses[key],
            "expected_status": expected,
            "runs": own,
        }
        goal = GOALS.get(key)
        if goal and rate and "p99_ms_max" not in goal:
            goal = None  # a throughput goal: judged at saturation
        if goal and not rate and "p99_ms_max" in goal:
            goal = None  # a latency goal: judged paced (`make bench`'s second run, `--rate`)
        if goal:
            ok = row["rps"] >= goal.get("rps_min", 0)
            if "ratio_min" in goal:
                ok = ok and row["ratio_to_livez"] is not None and row["ratio_to_livez"] >= goal["ratio_min"]
            if "p99_ms_max" in goal:
                ok = ok and row["p99_ms"] is not None and row["p99_ms"] <= goal["p99_ms_max"]
            ok = ok and statuses[key] == expected and row["errors"] == 0
            row["goal"] = goal
            row["goal_met"] = ok
        summary[key] = row
    return summary


def goal_text(goal: dict) -> str:
    parts = [f"≥ {goal['rps_min']:g} req/s"] if "rps_min" in goal else []
    if "ratio_min" in goal:
        parts.append(f"≥ {goal['ratio_min']:g}× /livez")
    if "p99_ms_max" in goal:
        parts.append(f"p99 ≤ {goal['p99_ms_max']:g} ms")
    return ", ".join(parts)


def markdown(summary: dict, meta: dict) -> str:
    lines = [
        f"{meta['rounds']} rounds × {meta['duration_s']:g} s per run, wrk -t1 -c{meta['connections']} "
        + (f"paced at ~{1.1 * meta['rate']:g} req/s offered " if meta.get("rate") else "")
        + f"(keep-alive) on core 1, gunicorn 1 gevent worker on core 0; medians; "
        f"ratio = target req/s ÷ /livez req/s measured right before it; "
        f"req/CPU-s = requests ÷ CPU-seconds the worker used (its capacity with a core to itself).",
        "",
        "| target | status | req/s | p50 ms | p99 ms | × /livez | server CPU | req/CPU-s | wrk CPU | errors | goal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in summary.values():
        goal = ""
        if "goal" in row:
            goal = ("PASS" if row["goal_met"] else "FAIL") + f" ({goal_text(row['goal'])})"
        status = str(row["status"])
        if row["status"] != row["expected_status"]:
            status += f" (expected {row['expected_status']}!)"
        lines.append(
            f"| {row['label']} | {status} | {row['rps']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{row['ratio_to_livez']:.2f} | {row['server_cpu_pct']:.0f}% | {row['rps_per_cpu']:,.0f} | "
            f"{row['generator_cpu_pct']:.0f}% | "
            f"{row['errors']} | {goal} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per target")
    parser.add_argument("--connections", type=int, default=10, help="wrk keep-alive connections")
    parser.add_argument("--json", metavar="FILE", help="write machine-readable results here ('-' for stdout)")
    parser.add_argument("--rate", type=float, default=None,
                        help="pace each run at about this many req/s in all (each connection waits "
                             "connections/rate between its requests): latency at a load, not at saturation")
    args = parser.parse_args()

    if (os.cpu_count() or 1) < 2:
        log("bench: warning: fewer than 2 cores; server and generator will share one")
    env = dict(os.environ)
    tmpdir = Path(tempfile.mkdtemp(prefix="cloudfair-bench-"))
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{tmpdir / 'bench.db'}"
    env.setdefault("SECRET_KEY", "bench-" + os.urandom(16).hex())
    env["UPLOAD_DIR"] = str(tmpdir / "uploads")
    server = None
    try:
        prepare_database(env)
        port = free_port()
        server = start_server(env, port, tmpdir / "gunicorn.log")
        base = f"http://127.0.0.1:{port}"
        fair_id = find_europe_fair(base)
        etag, statuses = verify(base, fair_id)
        log(f"bench: Europe fair id {fair_id}, feed ETag {etag}")
        pacing = None
        if args.rate:
            pacing = tmpdir / "pacing.lua"  # wrk calls delay() before each request of a connection
            # 10% more than the rate, so that the time each request takes does not keep the rate served below it
            gap = 1000.0 * args.connections / (1.1 * args.rate)
            pacing.write_text(f"function delay()\n  return {gap:.1f}\nend\n")
            log(f"bench: paced at ~{1.1 * args.rate:g} req/s offered ({args.connections} connections, "
                f"{gap:.1f} ms between a connection's requests)")
        runner = Runner(base, fair_id, etag, server.pid, args.connections, pacing)
        if not worker_pids(server.pid):
            log("bench: warning: no gunicorn worker found; server CPU will read 0")

        for target in TARGETS:
            log(f"bench: warm-up {target[2]}")
            measure(runner, target, args.warmup)

        runs: dict[str, list[dict]] = {t[0]: [] for t in TARGETS if t[0] != "livez"}
        baselines: dict[str, list[dict]] = {k: [] for k in runs}
        for rnd in range(1, args.rounds + 1):
            for target in TARGETS[1:]:
                key = target[0]
                b = measure(runner, TARGETS[0], args.duration)
                t = measure(runner, target, args.duration)
                baselines[key].append(b)
                runs[key].append(t)
                log(f"bench: round {rnd} {key:8} {t['rps']:8.0f} req/s p99 {t['p99_ms']:6.1f} ms | "
                    f"/livez {b['rps']:8.0f} req/s | ratio {t['rps'] / b['rps']:.2f} | "
                    f"server CPU {t['server_cpu_pct']:.0f}% wrk CPU {t['generator_cpu_pct']:.0f}%")

        summary = summarise(runs, baselines, statuses, args.rate)
        meta = {
            "rounds": args.rounds,
            "duration_s": args.duration,
            "connections": args.connections,
            "rate": args.rate,
            "generator": "wrk -t1 (taskset -c 1)",
            "server": "gunicorn -c gunicorn.conf.py, WEB_CONCURRENCY=1, gevent (taskset -c 0)",
            "database": "sqlite (temporary)" if env["DATABASE_URL"].startswith("sqlite") else "DATABASE_URL",
            "fair_id": fair_id,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        print(markdown(summary, meta))
        for row in summary.values():
            if "goal" in row:
                print(f"\nGoal {row['label']}: {goal_text(row['goal'])} -> {'PASS' if row['goal_met'] else 'FAIL'}",
                      end="")
        print()
        if args.json:
            payload = json.dumps({"meta": meta, "results": summary}, indent=2)
            if args.json == "-":
                print(payload)
            else:
                Path(args.json).write_text(payload + "\n")
                log(f"bench: wrote {args.json}")
        return 0  # timing never fails the run
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
