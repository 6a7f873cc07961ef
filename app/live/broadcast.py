"""Sending live events: to the session's room, or to its staff room, through Flask-SocketIO's
server-level emit (which goes through the Redis message queue when `REDIS_URL` is set, so HTTP
handlers, jobs and every server process reach every client).

Interest counts are throttled per session: the first change in a quiet period goes out at once,
later ones within `LIVE_COUNT_INTERVAL` seconds are folded into one event per project.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app

from ..extensions import socketio
from .enums import Audience

log = logging.getLogger(__name__)

NAMESPACE = "/live"


def room(session_id: int) -> str:
    return f"session:{session_id}"


def staff_room(session_id: int) -> str:
    return f"session:{session_id}:staff"


def send(events) -> None:
    for event in events:
        target = staff_room(event.session_id) if event.audience == Audience.STAFF else room(event.session_id)
        socketio.emit(event.name, event.payload, to=target, namespace=NAMESPACE)


def send_presence(session_id: int, count: int, seq: int) -> None:
    socketio.emit("presence", {"session_id": session_id, "count": count, "seq": seq},
                  to=room(session_id), namespace=NAMESPACE)


_lock = threading.Lock()
_throttles: dict[tuple[int, int], dict] = {}


def interest_count_changed(session_id: int, project_id: int) -> None:
    from . import services

    app = current_app._get_current_object()
    interval = float(app.config.get("LIVE_COUNT_INTERVAL", 0.5))
    key = (id(app), session_id)
    now = time.monotonic()
    with _lock:
        state = _throttles.setdefault(key, {"last": float("-inf"), "dirty": set(), "scheduled": False})
        send_now = not state["scheduled"] and now - state["last"] >= interval
        if send_now:
            state["last"] = now
        else:
            state["dirty"].add(project_id)
            if not state["scheduled"]:
                state["scheduled"] = True
                delay = max(0.0, interval - (now - state["last"]))
                socketio.start_background_task(_send_later, app, key, session_id, delay)
    if send_now:
        send([services.interest_count_event(session_id, project_id)])


def _send_later(app, key, session_id: int, delay: float) -> None:
    from . import services

    socketio.sleep(delay)
    with _lock:
        state = _throttles[key]
        projects, state["dirty"] = sorted(state["dirty"]), set()
        state["scheduled"] = False
        state["last"] = time.monotonic()
    try:
        with app.app_context():
            send([services.interest_count_event(session_id, project_id) for project_id in projects])
    except Exception:  # a background task has nobody to report to but the log
        log.exception("Could not send interest counts for session %s", session_id)
