"""Sending live events: to the session's room, or to its staff room, through Flask-SocketIO's
server-level emit (which goes through the Redis message queue when `REDIS_URL` is set, so HTTP
handlers, jobs and every server process reach every client).

The broadcaster is a transport: it receives built events and knows nothing of the services that
build them (`services` and `presence` import it, never the other way). Interest counts and presence
go through its per-session throttle: the first change in a quiet period goes out at once, later ones
within `LIVE_COUNT_INTERVAL` seconds are folded into one send, built by the caller's `flush` when it
runs (per project for counts; presence carries the count read when it is sent). Without this, N
people joining a room cost N presence broadcasts to a growing room, N²/2 deliveries (1,000 joins: 500,000).
The numbers of staff-only events reach the room the same way (`LIVE_SKIP_MS`): a burst of interests
is a few `skip`s for the room, not one per interest to every person in it.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app

from ..extensions import socketio
from ..signals import notifications_stored, receiver
from . import shared
from .enums import Audience

log = logging.getLogger(__name__)

NAMESPACE = "/live"


def room(session_id: int) -> str:
    return f"session:{session_id}"


def staff_room(session_id: int) -> str:
    return f"session:{session_id}:staff"


def send(events) -> None:
    """Each event to its audience. A staff-only event also reaches the room as a number to pass over,
    so attendees see no gap in `seq` (staff pages ignore `skip`): those numbers are folded into one
    `skip` per session at most every `LIVE_SKIP_MS` (`send_skips`), so a burst of hundreds of interests
    costs the room a few messages, not one each. A room event first sends the numbers pending before
    it, so this process's events reach the room in order."""
    for event in events:
        if event.audience == Audience.STAFF:
            socketio.emit(event.name, event.payload, to=staff_room(event.session_id), namespace=NAMESPACE)
            _skip(event.session_id, event.payload["seq"])
        else:
            send_skips(event.session_id, take("skip", event.session_id))
            socketio.emit(event.name, event.payload, to=room(event.session_id), namespace=NAMESPACE)


def _skip(session_id: int, seq: int) -> None:
    interval = current_app.config.get("LIVE_SKIP_MS", 100) / 1000
    throttle("skip", session_id, seq, lambda seqs: send_skips(session_id, seqs), interval=interval)


def send_skips(session_id: int, seqs) -> None:
    """One `skip` for the room: the staff-only numbers `seqs` (in order), `seq` the last of them."""
    if seqs:
        seqs = sorted(seqs)
        socketio.emit("skip", {"session_id": session_id, "seq": seqs[-1], "seqs": seqs},
                      to=room(session_id), namespace=NAMESPACE)


def send_personal(user_id: int, name: str, payload: dict) -> None:
    """Tell the person's own connections (their other devices too) about their own question, vote or
    interest. Not a session event: no seq, nothing stored; a device that missed it learns the same
    from its next `join`."""
    socketio.emit(name, payload, to=user_room(user_id), namespace=NAMESPACE)


def send_presence(session_id: int, count: int, seq: int, *, local: bool = False) -> None:
    """The room's presence count; with `local`, to this process's own people in the room only (not
    through the message queue: each process tells its own)."""
    socketio.emit("presence", {"session_id": session_id, "count": count, "seq": seq},
                  to=room(session_id), namespace=NAMESPACE, ignore_queue=local)


_lock = threading.RLock()


def _state(app, name: str) -> dict:
    """Throttle state kept on the app itself (never keyed by id(app), which a later app may reuse)."""
    with _lock:
        return app.extensions.setdefault(f"cloudfair.{name}", {})


def throttle(name: str, session_id: int, item, flush, *, interval: float | None = None) -> None:
    """Send a session's changes of one kind at most once per `interval` (`LIVE_COUNT_INTERVAL` unless
    given): the first change in a quiet period now, later ones folded into one send at the end of the
    interval.

    `flush(items)` builds the events from what is current when it runs and sends them; it gets the
    set of `item`s changed since the last send (presence passes its session: it reads the count then).
    """
    app = current_app._get_current_object()
    if interval is None:
        interval = float(app.config.get("LIVE_COUNT_INTERVAL", 0.5))
    throttles = _state(app, f"{name}_throttles")
    now = time.monotonic()
    with _lock:
        state = throttles.setdefault(session_id, {"last": float("-inf"), "items": set(), "scheduled": False})
        state["items"].add(item)
        if state["scheduled"]:
            return  # the pending send takes this change too
        send_now = now - state["last"] >= interval
        if send_now:
            state["last"] = now
            items, state["items"] = state["items"], set()
        else:
            state["scheduled"] = True
            socketio.start_background_task(_flush_later, app, name, session_id, state, flush,
                                           max(0.0, interval - (now - state["last"])), interval)
    if send_now:
        _send_folded(app, name, session_id, items, flush, interval)


def take(name: str, session_id: int) -> set:
    """The changes of one kind pending for a session, taken now (the scheduled send finds none)."""
    state = _state(current_app._get_current_object(), f"{name}_throttles").get(session_id)
    if state is None:
        return set()
    with _lock:
        items, state["items"] = state["items"], set()
    return items


def _flush_later(app, name: str, session_id: int, scheduled: dict, flush, delay: float, interval: float) -> None:
    socketio.sleep(delay)
    with _lock:  # cleared before anything is read: a change after this schedules another send
        state = _state(app, f"{name}_throttles").get(session_id)
        if state is not scheduled:  # the app's state was reset meanwhile (tests): what it was for is gone,
            return                  # and a newer room's state is not this send's to take
        items, state["items"] = state["items"], set()
        state["scheduled"] = False
        state["last"] = time.monotonic()
    try:
        with app.app_context():
            _send_folded(app, name, session_id, items, flush, interval)
    except Exception:  # a background task has nobody to report to but the log
        log.exception("Could not send %s for session %s", name, session_id)


# ---------------------------------------------------------------- one send for every process

#: The kinds folded across processes: what their `flush` sends is read when it runs (interest counts,
#: vote tallies, a room's presence count), so one process can send everyone's changes. Not a large
#: room's presence ("presence-own": each process tells its own people, `presence.changed`), nor skips:
#: a page that holds a later event fetches the numbers it misses after `LIVE_REORDER_MS`, and a skip
#: folded across processes could wait two intervals.
SHARED_KINDS = frozenset({"count", "votes", "presence"})

# KEYS[1] the send's lock, KEYS[2] the changes waiting for a send; ARGV[1] the interval in ms, ARGV[2..]
# this process's changes. {1, changes}: this process sends them all now; {2, ms}: another process sent
# within the interval, try again in ms; {0}: nothing is waiting (another process took it).
_CLAIM = """
if #ARGV > 1 then
  redis.call('SADD', KEYS[2], unpack(ARGV, 2))
  redis.call('PEXPIRE', KEYS[2], 60000)
end
if redis.call('SCARD', KEYS[2]) == 0 then return {0} end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  local items = redis.call('SMEMBERS', KEYS[2])
  redis.call('DEL', KEYS[2])
  return {1, items}
end
return {2, redis.call('PTTL', KEYS[1])}
"""


def _claim(name: str, session_id: int, items, interval: float) -> tuple[int, object]:
    lock = f"{shared.prefix()}:fold:{name}:{session_id}"
    script = shared.script(_CLAIM)
    code, *rest = shared.run(lambda r: script(keys=[lock, lock + ":items"],
                                              args=[max(1, int(interval * 1000)), *map(str, items)], client=r))
    return int(code), (rest[0] if rest else None)


def _send_folded(app, name: str, session_id: int, items: set, flush, interval: float) -> None:
    """`flush(items)`: at once for a kind of this process alone, and for one of `SHARED_KINDS` with
    Redis, once for every process: the first process whose send falls in a quiet interval takes the
    changes every process left waiting (a Lua script: add this process's, take the lock for the interval,
    take them all) and sends them; the others' changes wait in Redis, and each of them tries again when
    the lock expires, unless another process took its changes meanwhile. Before, each process folded its
    own: with two processes the room heard each count twice per interval. A change waits at most about
    two intervals; Redis down: this process sends its own (as before)."""
    if name not in SHARED_KINDS or interval <= 0 or not app.config.get("REDIS_URL"):
        flush(items)
        return
    try:
        code, value = _claim(name, session_id, sorted(items), interval)
    except shared.Unavailable:
        flush(items)
        return
    if code == 1:
        flush({int(item) for item in value})
    elif code == 2:
        socketio.start_background_task(_claim_later, app, name, session_id, flush, interval, max(1, int(value)) / 1000)


def _claim_later(app, name: str, session_id: int, flush, interval: float, delay: float) -> None:
    socketio.sleep(delay)
    try:
        with app.app_context():
            _send_folded(app, name, session_id, set(), flush, interval)
    except Exception:  # a background task has nobody to report to but the log
        log.exception("Could not send %s for session %s", name, session_id)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def send_notification(row) -> None:
    """An in-app notification, live to the person's open connections (on any server process)."""
    socketio.emit("notification", {"id": row.id, "kind": row.kind, "title": row.title, "body": row.body,
                                   "link": row.link, "created_at": row.created_at.isoformat()},
                  to=user_room(row.user_id), namespace=NAMESPACE)


@receiver(notifications_stored)
def deliver_notifications(_sender=None, *, rows) -> None:
    """Each stored notification live to its person (after the commit); one that cannot go is logged."""
    for row in rows:
        try:
            send_notification(row)
        except Exception:  # live delivery is a courtesy; the row is stored
            log.exception("Could not deliver notification %s live", row.id)
