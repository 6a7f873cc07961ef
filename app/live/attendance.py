"""Attendance from live-room joins, written in batches.

A fair opening is a join storm: thousands of people join within a minute, and recording each one's
attendance with its own commit made the join path wait on the database. So a join only notes the
person here (in memory, at the moment they joined, after `fairs.attendance_open` said yes), and a
background task of the process writes what was noted every `LIVE_ATTENDANCE_BATCH_SECONDS` in one
transaction (`fairs.record_attendances`: the same rules as one at a time). A person already written by
this process costs the join nothing at all.

What a batch risks: a process killed before its next write loses at most that interval of joins;
the people it served reconnect to another process, join again and are noted there. With the setting
at 0 (the tests' default) each join writes at once, as `fairs.record_attendance` does.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import current_app

from ..accounts.enums import Role
from ..extensions import db
from ..fairs import services as fairs
from ..types import utcnow

log = logging.getLogger(__name__)
_lock = threading.Lock()

#: Past this many people remembered as written, the memory starts again (they are read once more).
REMEMBERED_MAX = 200_000


def _state(app) -> dict:
    with _lock:
        return app.extensions.setdefault("cloudfair.attendance", {"pending": {}, "written": set(), "writer": False})


def batched() -> bool:
    """Whether joins note attendance for the background writer (`LIVE_ATTENDANCE_BATCH_SECONDS` > 0)
    rather than writing it on the join itself: then a join only reads."""
    return float(current_app.config.get("LIVE_ATTENDANCE_BATCH_SECONDS", 0) or 0) > 0


def note(actor, session) -> None:
    """A person joined `session`'s live room: their attendance, if the join counts as one."""
    if actor is None or actor.role != Role.ATTENDEE:
        return
    app = current_app._get_current_object()
    interval = float(app.config.get("LIVE_ATTENDANCE_BATCH_SECONDS", 0) or 0)
    if interval <= 0:
        fairs.record_attendance(actor, session)
        return
    now = utcnow()
    key = (session.fair_id, actor.id)
    state = _state(app)
    if key in state["written"] or not fairs.attendance_open(session, now):
        return
    with _lock:
        state["pending"].setdefault(key, now)
        start = not state["writer"]
        state["writer"] = True
    if start:
        from ..extensions import socketio

        socketio.start_background_task(_writer_loop, app, interval, state)


def _writer_loop(app, interval: float, state: dict) -> None:
    """Write what was noted every `interval` seconds, for as long as `state` is the app's: once the
    app's state was reset (tests on one shared app), a newer writer serves the new state and this one
    stops rather than writing another's notes at its own pace."""
    from ..extensions import socketio

    while True:
        socketio.sleep(interval)
        if _state(app) is not state:
            return
        with app.app_context():
            try:
                write(app)
            finally:
                db.session.remove()


def write(app=None) -> int:
    """Write what was noted (the background task calls this; tests may too). Returns how many people
    are settled. A failed write keeps its people for the next one."""
    app = app or current_app._get_current_object()
    state = _state(app)
    with _lock:
        pending: dict[tuple[int, int], datetime] = state["pending"]
        state["pending"] = {}
    if not pending:
        return 0
    try:
        settled = fairs.record_attendances(pending)
    except Exception:  # a background task has nobody to tell but the log; the next write tries again
        db.session.rollback()
        log.exception("Writing attendance failed; %d joins kept for the next try", len(pending))
        settled = set()
    with _lock:
        if len(state["written"]) > REMEMBERED_MAX:
            state["written"] = set()
        state["written"].update(settled)
        for key, at in pending.items():
            if key not in settled:
                kept = state["pending"].get(key)
                state["pending"][key] = at if kept is None else min(at, kept)
    return len(settled)
