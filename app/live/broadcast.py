"""Sending live events: to the session's room, or to its staff room, through Flask-SocketIO's
server-level emit (which goes through the Redis message queue when `REDIS_URL` is set, so HTTP
handlers, jobs and every server process reach every client).

Interest counts and presence are throttled per session: the first change in a quiet period goes
out at once, later ones within `LIVE_COUNT_INTERVAL` seconds are folded into one event (per project
for counts; presence carries the count read when it is sent). Without this, N people joining a room
cost N presence broadcasts to a growing room, N²/2 deliveries (1,000 joins: 500,000).
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
    """Each event to its audience; a staff-only event also reaches the room as a `skip` with its
    number alone, so attendees see no gap in `seq` (staff pages ignore `skip`)."""
    for event in events:
        if event.audience == Audience.STAFF:
            socketio.emit(event.name, event.payload, to=staff_room(event.session_id), namespace=NAMESPACE)
            socketio.emit("skip", {"session_id": event.session_id, "seq": event.payload["seq"]},
                          to=room(event.session_id), namespace=NAMESPACE)
        else:
            socketio.emit(event.name, event.payload, to=room(event.session_id), namespace=NAMESPACE)


def send_personal(user_id: int, name: str, payload: dict) -> None:
    """Tell the person's own connections (their other devices too) about their own question, vote or
    interest. Not a session event: no seq, nothing stored; a device that missed it learns the same
    from its next `join`."""
    socketio.emit(name, payload, to=user_room(user_id), namespace=NAMESPACE)


def send_presence(session_id: int, count: int, seq: int) -> None:
    socketio.emit("presence", {"session_id": session_id, "count": count, "seq": seq},
                  to=room(session_id), namespace=NAMESPACE)


_lock = threading.RLock()


def _state(app, name: str) -> dict:
    """Throttle state kept on the app itself (never keyed by id(app), which a later app may reuse)."""
    with _lock:
        return app.extensions.setdefault(f"cloudfair.{name}", {})


def presence_changed(session_id: int) -> None:
    """Tell the room its presence count changed: now if quiet, else once at the end of the interval."""
    app = current_app._get_current_object()
    interval = float(app.config.get("LIVE_COUNT_INTERVAL", 0.5))
    throttles = _state(app, "presence_throttles")
    key = session_id
    now = time.monotonic()
    with _lock:
        state = throttles.setdefault(key, {"last": float("-inf"), "scheduled": False})
        if state["scheduled"]:
            return  # the pending send will read the count then
        send_now = now - state["last"] >= interval
        if send_now:
            state["last"] = now
        else:
            state["scheduled"] = True
            socketio.start_background_task(_send_presence_later, app, key, session_id,
                                           max(0.0, interval - (now - state["last"])))
    if send_now:
        _send_current_presence(session_id)


def _send_current_presence(session_id: int) -> None:
    from . import presence, services

    send_presence(session_id, presence.count(session_id), services.current_seq(session_id))


def _send_presence_later(app, key, session_id: int, delay: float) -> None:
    socketio.sleep(delay)
    with _lock:  # cleared before the count is read: a change after this schedules another send
        state = _state(app, "presence_throttles")[key]
        state["scheduled"] = False
        state["last"] = time.monotonic()
    try:
        with app.app_context():
            _send_current_presence(session_id)
    except Exception:  # a background task has nobody to report to but the log
        log.exception("Could not send presence for session %s", session_id)


def interest_count_changed(session_id: int, project_id: int) -> None:
    from . import services

    app = current_app._get_current_object()
    interval = float(app.config.get("LIVE_COUNT_INTERVAL", 0.5))
    throttles = _state(app, "count_throttles")
    key = session_id
    now = time.monotonic()
    with _lock:
        state = throttles.setdefault(key, {"last": float("-inf"), "dirty": set(), "scheduled": False})
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
        state = _state(app, "count_throttles")[key]
        projects, state["dirty"] = sorted(state["dirty"]), set()
        state["scheduled"] = False
        state["last"] = time.monotonic()
    try:
        with app.app_context():
            send([services.interest_count_event(session_id, project_id) for project_id in projects])
    except Exception:  # a background task has nobody to report to but the log
        log.exception("Could not send interest counts for session %s", session_id)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def send_notification(row) -> None:
    """An in-app notification, live to the person's open connections (on any server process)."""
    socketio.emit("notification", {"id": row.id, "kind": row.kind, "title": row.title, "body": row.body,
                                   "link": row.link, "created_at": row.created_at.isoformat()},
                  to=user_room(row.user_id), namespace=NAMESPACE)
