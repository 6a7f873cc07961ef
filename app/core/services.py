"""Health of the parts CloudFair depends on."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, text

from ..extensions import db
from ..types import utcnow
from .models import Heartbeat

SCHEDULER = "scheduler"


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

            redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1).ping()
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
    report["scheduler"] = {"last_heartbeat": heartbeat.isoformat() if heartbeat else None}
    report["status"] = "ok" if database_ok else "error"
    return report, database_ok
