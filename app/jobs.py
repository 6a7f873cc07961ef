"""The one table of scheduled jobs, run by `flask scheduler` (one process) or once by
`flask scheduler --run-due`. Each job polls for due rows and is safe to run twice: a restart
loses nothing and sends nothing twice."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Callable

from flask import Flask
from werkzeug.utils import import_string

log = logging.getLogger(__name__)


def _series_fairs():
    from .fairs.series import make_due_fairs

    return {"made": len(make_due_fairs())}


def _heartbeat():
    from .core.services import beat

    beat()
    return {}


@dataclass(frozen=True)
class Job:
    id: str
    #: The service the job calls with no arguments, returning counts to log: a function, or its
    #: "module:name" path, imported when the job runs (the app is built by then).
    service: str | Callable[[], dict]
    #: APScheduler interval trigger arguments.
    every: dict = field(default_factory=dict)
    #: Seconds a run may start late and still run (APScheduler's misfire_grace_time).
    grace: int = 60

    def run(self) -> dict:
        service = import_string(self.service) if isinstance(self.service, str) else self.service
        return service()


JOBS = [
    Job("series_fairs", _series_fairs, {"hours": 1}, grace=3600),
    Job("statuses", "app.notifications.reminders:flip_statuses", {"minutes": 1}),
    Job("session_reminders", "app.notifications.reminders:session_reminders", {"minutes": 1}),
    Job("lead_reminders", "app.notifications.reminders:lead_reminders", {"hours": 1}, grace=3600),
    Job("report_requests", "app.notifications.reminders:report_requests", {"hours": 1}, grace=3600),
    Job("meetings", "app.meetings.services:due_work", {"minutes": 1}),
    Job("park_staleness", "app.parks.staleness:nudge_stale_parks", {"hours": 6}, grace=3600),
    Job("mail", "app.mail:deliver_due", {"seconds": 30}),
    Job("heartbeat", _heartbeat, {"seconds": 30}),
]
BY_ID = {job.id: job for job in JOBS}

_app: Flask | None = None


def run_job(job_id: str) -> dict:
    """Run one job in an app context (APScheduler stores this function by reference)."""
    from .extensions import db

    app = _app
    assert app is not None, "the scheduler sets the app before running jobs"
    with app.app_context():
        try:
            result = BY_ID[job_id].run()
            log.info("Job %s: %s", job_id, result)
            return result
        except Exception:
            db.session.rollback()
            log.exception("Job %s failed", job_id)
            raise
        finally:
            db.session.remove()


def run_due(app: Flask) -> dict[str, dict]:
    """Every job once, now (for cron and tests)."""
    global _app
    _app = app
    results = {}
    for job in JOBS:
        try:
            results[job.id] = run_job(job.id)
        except Exception as exc:  # one failing job does not stop the others
            results[job.id] = {"error": exc.__class__.__name__}
    return results


def make_scheduler(app: Flask, *, background: bool = False):
    """APScheduler with a durable job store in the application's database."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    global _app
    _app = app
    kind = BackgroundScheduler if background else BlockingScheduler
    scheduler = kind(
        jobstores={"default": SQLAlchemyJobStore(
            url=app.config.get("SCHEDULER_JOBSTORE_URL") or app.config["SQLALCHEMY_DATABASE_URI"],
            tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    start = datetime.now(timezone.utc)  # run everything once at start-up, then on the interval
    for job in JOBS:
        scheduler.add_job("app.jobs:run_job", "interval", args=[job.id], id=job.id, replace_existing=True,
                          misfire_grace_time=job.grace, next_run_time=start, **job.every)
    return scheduler
