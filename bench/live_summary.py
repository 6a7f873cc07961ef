"""The live room against issue 18's goals, one table (`make bench-live` prints it last).

Reads the JSON that `make bench-live`'s runs write into one folder (`LIVE_OUT`, default
`.bench-live/`) and prints one row per goal: the goal, what was measured (every round), the bare
python-socketio server measured in the same run (and app ÷ bare), and whether it is met.

    fanout.json       bench/live_fanout.py (500 and 1,000 clients on one worker, asking at 1 and 4/s)
    held.json         bench/live_fanout.py --clients 1000,5000 --rates "" --connect-batch 500
    two_workers.json  bench/live_fanout.py --clients 1000,2000 --rates 1,4 --workers 2 --bare-workers 2
    storm.json        bench/live_fanout.py --clients 6500 --rates "" --connect-batch 500 --workers 2 ...
    interests.json    bench/interest_ingest.py
    interests2.json   bench/interest_ingest.py --workers 2

A file that is missing gives its rows as "not measured". A goal over rounds is met when the median of
the rounds meets it (interests), or when every run meets it (joins, broadcasts, two workers), as
issue 18 words each.

Usage: .venv/bin/python bench/live_summary.py [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in ("", _HERE)]
sys.path.append(_HERE)  # after the standard library, so bench/http.py shadows nothing

import json  # noqa: E402
import statistics  # noqa: E402

import live_common as lc  # noqa: E402

INTEREST_RATE = {1: 500, 2: 1000}
INTEREST_P99_MS = 250
HELD_CLIENTS = 5000
BROADCAST_CLIENTS = 1000
BROADCAST_RATIO = 1.2


def _load(folder: Path, name: str) -> dict | None:
    path = folder / name
    return json.loads(path.read_text()) if path.exists() else None


def _list(values, spec: str) -> str:
    return ", ".join(format(v, spec) for v in values)


def _verdict(met: bool | None) -> str:
    return "–" if met is None else ("**yes**" if met else "no")


def interest_rows(data: dict | None, workers: int) -> list[tuple[str, str, str, str]]:
    goal = (f"interests on {'one worker' if workers == 1 else 'two workers + Redis'}: ≥ {INTEREST_RATE[workers]:,}/s "
            f"acknowledged, ack p99 ≤ {INTEREST_P99_MS} ms, acknowledged = rows, 0 duplicates (medians of the rounds)")
    if not data or not data.get("rounds"):
        return [(goal, "not measured", "–", "–")]
    rounds = data["rounds"]
    rates = [r["acked_per_s"] for r in rounds]
    p99s = [r["ack_p99_ms"] for r in rounds]
    kept = all(r["rows"] == r["new_acks"] and not r["duplicate_rows"] and not r["duplicate_leads"] for r in rounds)
    rate, p99 = statistics.median(rates), statistics.median(p99s)
    figure = (f"{rate:,.0f}/s ({_list(rates, ',.0f')}); p99 {p99:.0f} ms ({_list(p99s, '.0f')}); "
              f"rows = acks {'in every round' if kept else '**not** in every round'}")
    bare = "–"
    if data.get("bare_rounds"):
        bare_rate = statistics.median(r["acked_per_s"] for r in data["bare_rounds"])
        bare = f"{bare_rate:,.0f}/s (app ÷ bare {rate / bare_rate:.2f})"
    return [(goal, figure, bare, _verdict(rate >= INTEREST_RATE[workers] and p99 <= INTEREST_P99_MS and kept))]


def _bare_join(joins: list[dict], run: dict) -> dict | None:
    return next((b for b in joins if b["server"] == "bare" and b["round"] == run["round"]
                 and b["clients"] == run["clients"]), None)


def join_rows(fanout: dict | None, held: dict | None) -> list[tuple[str, str, str, str]]:
    """One worker: CPU per join against the bare server, and the time for the room to fill."""
    out = []
    for label, data in (("clients joining 50 at a time", fanout), ("a storm, 500 at a time", held)):
        goal = (f"a join on one worker, {label}: ≤ {lc.GOAL_JOIN_CPU_RATIO}× the bare server's CPU, and 1,000 in ≤ "
                f"{lc.GOAL_JOIN_SECONDS_PER_1000:g} s (every run)")
        runs = [j for j in (data or {}).get("joins", []) if j["server"] == "app" and j["workers"] == 1]
        if not runs:
            out.append((goal, "not measured", "–", "–"))
            continue
        figures, bares, met = [], [], True
        for run in runs:
            bare = _bare_join(data["joins"], run)
            ratio = (run["cpu_ms_per_join"] / bare["cpu_ms_per_join"]
                     if bare and bare["cpu_ms_per_join"] and run["cpu_ms_per_join"] else None)
            figures.append(f"{run['clients']:,}: {run['seconds']:.1f} s, {run['cpu_ms_per_join']:.2f} CPU-ms"
                           + (f", {run['refused']} refused" if run["refused"] else ""))
            bares.append("–" if ratio is None else f"{bare['cpu_ms_per_join']:.2f} CPU-ms ({ratio:.2f}×)")
            met = met and lc.join_goal_met(run, ratio)
        out.append((goal, "; ".join(figures), "; ".join(bares), _verdict(met)))
    return out


def held_rows(held: dict | None) -> list[tuple[str, str, str, str]]:
    goal = f"connections one worker holds: ≥ {HELD_CLIENTS:,} joined, memory per connection reported"
    runs = [j for j in (held or {}).get("joins", []) if j["server"] == "app" and j["clients"] >= HELD_CLIENTS]
    if not runs:
        return [(goal, "not measured", "–", "–")]
    figure = "; ".join(f"{r['joined']:,} of {r['clients']:,} joined, {r['kb_per_connection']:.1f} KiB each" for r in runs)
    bares = [_bare_join(held["joins"], r) for r in runs]
    bare = "; ".join("–" if b is None else f"{b['kb_per_connection']:.1f} KiB each" for b in bares)
    return [(goal, figure, bare, _verdict(all(r["joined"] >= HELD_CLIENTS for r in runs)))]


def storm_rows(storm: dict | None) -> list[tuple[str, str, str, str]]:
    goal = (f"{lc.GOAL_STORM_CLIENTS:,} joining two workers in ≤ {lc.GOAL_STORM_SECONDS:g} s, none refused, "
            "questions asked meanwhile answered (every run)")
    runs = [j for j in (storm or {}).get("joins", []) if j["server"] == "app" and j["workers"] > 1]
    if not runs:
        return [(goal, "not measured", "–", "–")]
    figures, met = [], True
    for run in runs:
        asks = run.get("asks")
        figures.append(f"{run['seconds']:.1f} s, {run['refused']} refused"
                       + ("" if asks is None else f", {asks['acked']}/{asks['sent']} questions answered"))
        met = met and lc.storm_goal_met(run)
    bares = [_bare_join(storm["joins"], r) for r in runs]
    bare = "; ".join("–" if b is None else f"{b['seconds']:.1f} s on one process" for b in bares)
    return [(goal, "; ".join(figures), bare, _verdict(met))]


def broadcast_rows(fanout: dict | None) -> list[tuple[str, str, str, str]]:
    goal = (f"a broadcast to {BROADCAST_CLIENTS:,} on one worker: ≤ {BROADCAST_RATIO}× the bare server's CPU and "
            f"p99 ≤ {BROADCAST_RATIO}× its p99, 0 lost (every run)")
    ratios = [r for r in (fanout or {}).get("ratios", []) if r["clients"] == BROADCAST_CLIENTS]
    if not ratios:
        return [(goal, "not measured", "–", "–")]
    figures, bares, met = [], [], True
    for r in ratios:
        p99_ratio = r["app_p99_ms"] / r["bare_p99_ms"] if r["app_p99_ms"] and r["bare_p99_ms"] else None
        figures.append(f"{r['rate']:g}/s: p99 {r['app_p99_ms']:.1f} ms, {r['app_lost']} lost")
        bares.append(f"p99 {r['bare_p99_ms']:.1f} ms; app ÷ bare CPU {r['cpu_ratio']:.2f}, p99 {p99_ratio:.2f}"
                     if r["cpu_ratio"] is not None and p99_ratio is not None else "–")
        met = (met and r["cpu_ratio"] is not None and r["cpu_ratio"] <= BROADCAST_RATIO and p99_ratio is not None
               and p99_ratio <= BROADCAST_RATIO and not r["app_lost"])
    return [(goal, "; ".join(figures), "; ".join(bares), _verdict(met))]


def two_worker_rows(data: dict | None) -> list[tuple[str, str, str, str]]:
    goal = "2,000 clients over two workers + Redis: p99 ≤ the bare single process's p99 at 1,000, 0 lost (every run)"
    rows = (data or {}).get("results", [])
    apps = [r for r in rows if r["server"] == "app" and r["clients"] == 2000]
    if not apps:
        return [(goal, "not measured", "–", "–")]
    figures, bares, met = [], [], True
    for app in apps:
        bare = next((r for r in rows if r["server"] == "bare" and r["round"] == app["round"]
                     and r["rate"] == app["rate"] and r["clients"] == 1000), None)
        twin = next((r for r in rows if r["server"] == "bare2" and r["round"] == app["round"]
                     and r["rate"] == app["rate"] and r["clients"] == 2000), None)
        figures.append(f"{app['rate']:g}/s: p99 {app['p99_ms']:.1f} ms, {app['lost']} lost")
        bares.append(("–" if bare is None else f"one process at 1,000: {bare['p99_ms']:.1f} ms")
                     + ("" if twin is None or not twin["p99_ms"] else
                        f"; two processes at 2,000: {twin['p99_ms']:.1f} ms (app ÷ that {app['p99_ms'] / twin['p99_ms']:.2f})"))
        met = met and bare is not None and app["p99_ms"] is not None and app["p99_ms"] <= bare["p99_ms"] and not app["lost"]
    return [(goal, "; ".join(figures), "; ".join(bares), _verdict(met))]


def summary(folder: Path) -> str:
    fanout, held = _load(folder, "fanout.json"), _load(folder, "held.json")
    rows = (interest_rows(_load(folder, "interests.json"), 1) + interest_rows(_load(folder, "interests2.json"), 2)
            + join_rows(fanout, held) + held_rows(held) + storm_rows(_load(folder, "storm.json"))
            + broadcast_rows(fanout) + two_worker_rows(_load(folder, "two_workers.json")))
    lines = ["| goal (issue 18) | measured | the bare server in the same run | met |", "|---|---|---|---|"]
    lines += [f"| {goal} | {figure} | {bare} | {met} |" for goal, figure, bare, met in rows]
    return "\n".join(lines)


def main() -> int:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".bench-live")
    print(summary(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
