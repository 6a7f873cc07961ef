"""Health of the parts CloudFair depends on."""

from __future__ import annotations

from datetime import timezone

from flask import current_app
from sqlalchemy import select, text

from . import in_process
from ..extensions import db
from ..types import utcnow
from .models import Heartbeat

SCHEDULER = "scheduler"

#: The heartbeat job runs every 30 seconds; older than this, /healthz calls the scheduler "stale".
HEARTBEAT_STALE_SECONDS = 120


def beat(name: str = SCHEDULER) -> None:
    """Record that a background process is alive."""
    row = db.session.get(Heartbeat, name)
    if row is None:
        db.session.add(Heartbeat(name=name, beat_at=utcnow()))
    else:
        row.beat_at = utcnow()
    db.session.commit()


def health() -> tuple[dict, bool]:
    """The state of the database, the message queue and the scheduler; ok is False when the database is down."""
    report: dict = {}
    try:
        db.session.execute(text("SELECT 1"))
        report["database"] = {"status": "ok"}
        database_ok = True
    except Exception as exc:  # the point is to report any failure
        db.session.rollback()
        report["database"] = {"status": "error", "message": exc.__class__.__name__}
        database_ok = False
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            import redis

            timeout = current_app.config.get("REDIS_TIMEOUT_SECONDS", 1)
            redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout).ping()
            report["message_queue"] = {"status": "ok"}
        except Exception as exc:
            report["message_queue"] = {"status": "error", "message": exc.__class__.__name__}
    else:
        report["message_queue"] = {"status": "not_configured"}
    heartbeat = None
    if database_ok:
        try:
            heartbeat = db.session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == SCHEDULER))
        except Exception:
            db.session.rollback()
    report["scheduler"] = scheduler_state(heartbeat)
    if not database_ok:
        report["status"] = "error"
    elif report["message_queue"]["status"] == "error":
        # Redis down: sign-in, joins and actions work on each process alone (limits in memory, rooms
        # per process, gaps filled from the database when it returns). Serving, but say so.
        report["status"] = "degraded"
    else:
        report["status"] = "ok"
    return report, database_ok


def scheduler_state(heartbeat) -> dict:
    """The scheduler as /healthz shows it: its last heartbeat, how old it is, "ok" when fresh (within
    HEARTBEAT_STALE_SECONDS), "stale" when older, "never" when no scheduler ever beat; and whether this
    web process runs the jobs itself (`make run`). A stale scheduler does not make /healthz fail:
    the web pages work without it."""
    state: dict = {"last_heartbeat": heartbeat.isoformat() if heartbeat else None}
    if heartbeat is None:
        state.update(status="never", age_seconds=None)
    else:
        if heartbeat.tzinfo is None:  # SQLite gives naive UTC
            heartbeat = heartbeat.replace(tzinfo=timezone.utc)
        age = max(0, int((utcnow() - heartbeat).total_seconds()))
        state.update(status="ok" if age <= HEARTBEAT_STALE_SECONDS else "stale", age_seconds=age)
    state["in_process"] = in_process.running()
    return state
