"""What one interest and one join cost the worker, in the services alone (no sockets): statements sent
to the database and CPU-ms per call (process CPU, which a busy machine disturbs far less than wall
time). Run it against two trees to compare: `cd <tree> && python <this file> --database URL`.

    .venv/bin/python bench/live_service_cost.py --database postgresql+psycopg://postgres@127.0.0.1/cf_bench_cost

The database is emptied and filled each run (a fair with one session pitching two projects, one
organiser, one presenter, `--people` attendees in half as many organisations)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta

sys.path[0] = os.getcwd()  # the tree measured (not bench/, whose http.py would hide the standard one)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--people", type=int, default=60)
    args = parser.parse_args()

    import psycopg
    from sqlalchemy import event, text
    from sqlalchemy.engine import make_url

    url = make_url(args.database)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{url.database}"')

    from app import create_app
    from app.extensions import db
    from app.live import services as live
    from app.reference.services import ensure_default_sectors, ensure_divisions
    from config import TestConfig

    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": args.database, "LIVE_COUNT_INTERVAL": 0.5})
    app = create_app(config)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
        ensure_divisions()
        ensure_default_sectors()
        from tests.factories import make_fair, make_organiser, make_presenter, make_project, make_session, make_user

        organiser = make_organiser()
        agent = make_presenter()
        projects = [make_project(agent, title=f"Project {n}").id for n in range(2)]
        session = make_session(make_fair(organiser), organiser, presenter_ids=[agent.id], project_ids=projects)
        sid = session.id
        people = [make_user("attendee", organisation=f"City {n // 2}").id for n in range(args.people)]
        import time_machine

        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
        from app.accounts.models import User

        def measure(call):
            db.session.remove()
            actor = db.session.get(User, call[0])  # as the socket handler loads the person
            before, cpu = len(statements), time.process_time()
            call[1](actor)
            return len(statements) - before, (time.process_time() - cpu) * 1000

        results = {}
        with time_machine.travel(session.starts_at + timedelta(minutes=10), tick=True):
            results["interest (new)"] = [measure((p, lambda a, n=n: live.express_interest(
                a, sid, {"project_id": projects[n % 2], "level": ("info", "intent")[n % 3 == 0],
                         "client_id": f"bench-{n:06d}"}))) for n, p in enumerate(people)]
            results["interest (replay)"] = [measure((p, lambda a, n=n: live.express_interest(
                a, sid, {"project_id": projects[n % 2], "level": ("info", "intent")[n % 3 == 0],
                         "client_id": f"bench-{n:06d}"}))) for n, p in enumerate(people)]
            results["join (first: attendance written)"] = [measure((p, lambda a: live.join(a, sid))) for p in people]
            results["join (again)"] = [measure((p, lambda a: live.join(a, sid))) for p in people]
        print(f"load average {os.getloadavg()[0]:.1f}; {args.people} people; {db.engine.dialect.name}")
        print("| call | statements (median) | CPU-ms (median) | CPU-ms (p90) |")
        print("|---|---:|---:|---:|")
        for name, rows in results.items():
            counts, cpus = [r[0] for r in rows], sorted(r[1] for r in rows)
            print(f"| {name} | {statistics.median(counts):.0f} | {statistics.median(cpus):.1f} | "
                  f"{cpus[int(len(cpus) * 0.9)]:.1f} |")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
