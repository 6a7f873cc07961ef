"""Who is in a session's room (people, not tabs), and each person's live connections, across processes.

Each process keeps its own share in memory (the truth for its connections) and, with `REDIS_URL`, in
Redis under keys that expire (`REDIS_KEY_PREFIX`, "cloudfair", first): a room's share is a hash
`cloudfair:room:<session>:procs:<process>` (person -> connections), listed in the room's sorted set
`cloudfair:room:<session>:procs` scored by
when the share expires. A heartbeat (every third of `LIVE_PRESENCE_TTL`) rewrites the process's
shares from memory and pushes their expiry on, so a process killed with kill -9 drops out of every
count within `LIVE_PRESENCE_TTL`, and a Redis that lost its data (restarted) is refilled. The count
is the number of distinct people over the shares still alive (one Lua script, Redis's clock).

Connections per person (`LIVE_MAX_CONNECTIONS_PER_USER`) are kept the same way: a sorted set per
person of `<process>:<sid>` scored by expiry.

Without Redis, or while it is down, each process counts only its own people (degraded).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from flask import current_app

from . import broadcast, services, shared
from .group_commit import GroupCommit

log = logging.getLogger(__name__)

_lock = threading.RLock()

_CHANGE = """
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[4])
local n = redis.call('HINCRBY', KEYS[2], ARGV[2], tonumber(ARGV[3]))
if n <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl)
return n
"""

_REFRESH = """
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[2])
redis.call('DEL', KEYS[2])
if #ARGV > 2 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 3))
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('EXPIRE', KEYS[1], ttl)
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
"""

_COUNT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local seen, n = {}, 0
for _, proc in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  for _, person in ipairs(redis.call('HKEYS', KEYS[1] .. ':' .. proc)) do
    if not seen[person] then seen[person] = true; n = n + 1 end
  end
end
return n
"""

# KEYS[1] the person's connections; ARGV: member, ttl, limit. 1 if taken, 0 if at the limit.
_CONNECT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1] the person's connections; ARGV[1] the member to drop.
_DISCONNECT = """
return redis.call('ZREM', KEYS[1], ARGV[1])
"""

_TOUCH = """
local now = tonumber(redis.call('TIME')[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[i - 1], now + tonumber(ARGV[1]), ARGV[i]) ; redis.call('EXPIRE', KEYS[i - 1], ARGV[1]) end
return 1
"""


def _procs_key(session_id: int) -> str:
    return f"{shared.prefix()}:room:{session_id}:procs"


def _share_key(session_id: int, process: str) -> str:
    return f"{_procs_key(session_id)}:{process}"


def _connections_key(user_id: int) -> str:
    return f"{shared.prefix()}:conns:{user_id}"


def _state(app=None) -> dict:
    app = app or current_app._get_current_object()
    state = app.extensions.get("cloudfair.presence")
    if state is not None:
        return state
    with _lock:
        return app.extensions.setdefault("cloudfair.presence", {
            "process": uuid.uuid4().hex[:12],
            "rooms": {},          # session id -> Counter(person -> connections here)
            "connections": {},    # person -> set of Socket.IO sids here
            "counted": {},        # session id -> the last count read
            "counted_at": {},     # session id -> when (time.monotonic())
            "heartbeat": False,
            "together": GroupCommit(_run_together),  # this app's presence scripts that arrive together
        })


def _ttl() -> int:
    return int(current_app.config["LIVE_PRESENCE_TTL"])


@dataclass(eq=False)
class _Call:
    """A presence script to run with the calls that arrive together (`_together`)."""

    source: str
    keys: list
    args: list
    result: object = None
    #: Set by the batch: whether it ran (False: the caller runs it alone), and Redis's failure if it failed.
    ran: bool = False
    unavailable: shared.Unavailable | None = None


def _together(source: str, keys: list, args: list):
    """`shared.script(source)(keys=, args=)` through `shared.run`, with the calls of this process that arrive
    at the same moment (a join storm's connects and enters, a fair's end's disconnects): one pipeline,
    one round trip for all, each caller answered after it with its own result. Raises
    `shared.Unavailable` as `shared.run` does."""
    shared.client()  # no Redis configured, or in the pause after a failure: nothing to gather for
    call = _Call(source, keys, args)
    _state()["together"].submit(call)
    if call.unavailable is not None:
        raise call.unavailable
    if not call.ran:  # alone, or its batch failed otherwise: run by itself
        return shared.run(lambda r: shared.script(source)(keys=keys, args=args))
    return call.result


def _run_together(batch: list[_Call]) -> None:
    """The group's writer: the batch's scripts in one pipeline (a call alone is left to its caller).

    The room counts go last, each room's once for all its callers: each walks the whole room, and a
    storm's joins each asked for it, so a room of thousands was walked once per join; read after the
    batch's own enters and leaves, the one count is what each of them would have read."""
    if len(batch) < 2:
        return
    writes = [call for call in batch if call.source != _COUNT]
    counts: dict[tuple, list[_Call]] = {}
    for call in batch:
        if call.source == _COUNT:
            counts.setdefault(tuple(call.keys), []).append(call)

    def pipeline(client):
        commands = client.pipeline(transaction=False)
        for call in writes:
            shared.script(call.source)(keys=call.keys, args=call.args, client=commands)
        for keys in counts:
            shared.script(_COUNT)(keys=list(keys), args=[], client=commands)
        return commands.execute()

    try:
        results = shared.run(pipeline)
    except shared.Unavailable as unavailable:
        for call in batch:
            call.unavailable = unavailable
        return
    for call, result in zip(writes, results):
        call.result, call.ran = result, True
    for calls, result in zip(counts.values(), results[len(writes):]):
        for call in calls:
            call.result, call.ran = result, True


def _redis_change(session_id: int, user_id: int, delta: int) -> None:
    state = _state()
    try:
        _together(_CHANGE, [_procs_key(session_id), _share_key(session_id, state["process"])],
                  [state["process"], str(user_id), delta, _ttl()])
    except shared.Unavailable:
        _missed(state)  # memory holds it
        return
    if state.get("stale"):  # Redis is back (perhaps empty): write every share again now, and tell
        heartbeat()         # the rooms whose count its return changed


def _missed(state: dict) -> None:
    """Redis failed a call: it may come back empty (restarted), so this process's shares are to be
    written again before Redis is next read or changed (`_restore`)."""
    if current_app.config.get("REDIS_URL"):
        state["stale"] = True


def _restore(state: dict) -> None:
    """If a call failed since the shares were last written whole, write them all again from memory
    now (Redis may have come back empty). Called before a count is read: else it would read a Redis
    that came back empty as an empty room until the next change or heartbeat."""
    if not state.get("stale"):
        return
    try:
        shared.client()  # still in the pause after a failure: nothing to try yet
    except shared.Unavailable:
        return
    _rewrite(state)


def enter(session_id: int, user_id: int) -> int:
    """Count the person in; the room's count for their join's reply (`recent_count`)."""
    state = _state()
    with _lock:
        people = state["rooms"].setdefault(session_id, Counter())
        new = people[user_id] == 0
        people[user_id] += 1
    _redis_change(session_id, user_id, 1)
    _start_heartbeat()
    return recent_count(session_id, new)


def leave(session_id: int, user_id: int) -> None:
    """Count the person's connection out (the count goes to the room with the next presence broadcast)."""
    state = _state()
    with _lock:
        people = state["rooms"].setdefault(session_id, Counter())
        people[user_id] -= 1
        if people[user_id] <= 0:
            del people[user_id]
    _redis_change(session_id, user_id, -1)


def count(session_id: int) -> int:
    """The number of distinct people in the room over every live process's share (one Lua script that
    walks them: its cost grows with the room)."""
    state = _state()
    _restore(state)
    try:  # with the other calls of the moment; a batch reads each room once (`_run_together`)
        n = int(_together(_COUNT, [_procs_key(session_id)], []))
    except shared.Unavailable:
        _missed(state)
        with _lock:
            n = len(state["rooms"].get(session_id, ()))
    state["counted"][session_id] = n
    state["counted_at"][session_id] = time.monotonic()
    return n


def recent_count(session_id: int, new: bool = False) -> int:
    """The room's count for a join's reply: read now (`count`), unless the room is large (its presence
    interval longer than `LIVE_COUNT_INTERVAL`: `interval`) and a count was read within that interval:
    then that one, plus one for a person new to this process's share. A storm into a large room so
    reads the count once per interval instead of once per join (each read walks the whole room:
    thousands of joins made it quadratic). *Decision*: such a reply may be off by one for those seconds
    (the same person on a second server counts twice); the presence broadcast the join sets off
    carries the count read when it is sent. A room of up to `LIVE_PRESENCE_DELIVERIES` ×
    `LIVE_COUNT_INTERVAL` people (1,000 by default) always reads it."""
    state = _state()
    seconds = interval(session_id)
    at = state["counted_at"].get(session_id)
    base = float(current_app.config.get("LIVE_COUNT_INTERVAL", 0.5))
    if seconds <= base or at is None or time.monotonic() - at > seconds:
        return count(session_id)
    state["counted"][session_id] = n = state["counted"].get(session_id, 0) + (1 if new else 0)
    return n


# ---------------------------------------------------------------- connections per person


def connect(user_id: int, sid: str) -> bool:
    """Count a new connection of the person; False when they already have the most allowed."""
    state = _state()
    limit = int(current_app.config["LIVE_MAX_CONNECTIONS_PER_USER"])
    member = f"{state['process']}:{sid}"
    try:
        taken = bool(_together(_CONNECT, [_connections_key(user_id)], [member, _ttl(), limit]))
    except shared.Unavailable:
        _missed(state)
        taken = None
    with _lock:  # on fallback, counted and taken at once: connects that fell back together cannot all pass
        if taken is None:
            taken = len(state["connections"].get(user_id, ())) < limit
        if taken:
            state["connections"].setdefault(user_id, set()).add(sid)
    if taken:
        _start_heartbeat()
    return taken


def disconnect(user_id: int, sid: str) -> None:
    state = _state()
    with _lock:
        sids = state["connections"].get(user_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del state["connections"][user_id]
    try:  # with the other disconnects of the moment (a fair's end): one round trip for all
        _together(_DISCONNECT, [_connections_key(user_id)], [f"{state['process']}:{sid}"])
    except shared.Unavailable:
        _missed(state)


# ---------------------------------------------------------------- the heartbeat


def _start_heartbeat() -> None:
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        return  # nothing shared, nothing to expire
    state = _state(app)
    with _lock:
        if state["heartbeat"]:
            return
        state["heartbeat"] = True
    from ..extensions import socketio

    socketio.start_background_task(_heartbeat_loop, app, state)


def _heartbeat_loop(app, state: dict) -> None:
    """`heartbeat` every third of `LIVE_PRESENCE_TTL`, for as long as `state` is the app's (once it was
    reset, as between tests on one shared app, a newer loop serves the new state: this one stops)."""
    from ..extensions import socketio

    while True:
        socketio.sleep(max(1.0, app.config["LIVE_PRESENCE_TTL"] / 3))
        if _state(app) is not state:
            return
        try:
            with app.app_context():
                heartbeat()
        except Exception:  # a background task has nobody to tell but the log
            log.exception("Presence heartbeat failed")


def changed(session_id: int) -> None:
    """Tell the room its presence count changed: now if quiet, else once at the end of the interval
    (`broadcast.throttle`), with the count and seq read when it is sent. The interval grows with the
    room (`interval`), so a join storm's presence costs the room a bounded number of deliveries.

    *Decision*: in a large room (its interval above `LIVE_COUNT_INTERVAL`) each process tells the
    count (every process's people, from Redis) to its own people only ("presence-own"): through the
    message queue, every process's broadcast reached everyone, so with two processes each person heard
    the count twice per interval. Such a room changes on every process all the time; a process with no
    change of its own for a while tells its people the count at its next heartbeat (`LIVE_PRESENCE_TTL`
    ÷ 3). A smaller room's count goes to everyone through the queue, once per interval for every process
    ("presence", one of `broadcast.SHARED_KINDS`: the process that takes the interval reads the count
    of all)."""
    seconds = interval(session_id)
    local = seconds > float(current_app.config.get("LIVE_COUNT_INTERVAL", 0.5))
    broadcast.throttle("presence-own" if local else "presence", session_id, session_id, lambda _: broadcast.send_presence(
        session_id, count(session_id), services.current_seq(session_id), local=local), interval=seconds)


def interval(session_id: int) -> float:
    """Seconds between a room's presence broadcasts: `LIVE_COUNT_INTERVAL`, or longer for a room so
    large that its people would receive more than `LIVE_PRESENCE_DELIVERIES` presence messages a
    second (each broadcast is one message per person: 6,500 people joining in a minute at 0.5 s would
    be 13,000 deliveries a second, most of the servers' work; at the default 2,000 they hear the count
    every 3.25 s). The room's size is the count last read (`count`)."""
    config = current_app.config
    base = float(config.get("LIVE_COUNT_INTERVAL", 0.5))
    per_second = float(config.get("LIVE_PRESENCE_DELIVERIES", 0) or 0)
    people = _state()["counted"].get(session_id, 0)
    return max(base, people / per_second) if per_second > 0 else base


def heartbeat() -> None:
    """Rewrite this process's shares from memory with a fresh expiry, then announce any room whose
    count changed meanwhile (a crashed process's people expiring, Redis coming back)."""
    state = _state()
    for session_id in _rewrite(state):
        before = state["counted"].get(session_id)
        if count(session_id) != before:
            changed(session_id)


def _rewrite(state: dict) -> list[int]:
    """`_write_shares`, the shares up to date in Redis after it unless it failed (`_missed`); the rooms
    that have people."""
    state["stale"] = False
    rooms, written = _write_shares(state)
    if not written:
        _missed(state)
    return rooms


def _write_shares(state: dict) -> tuple[list[int], bool]:
    """This process's room shares and connections written whole from memory, with a fresh expiry (a
    room left empty is written empty once, then forgotten). Returns the rooms that have people, and
    whether Redis took it all."""
    with _lock:
        rooms = {session_id: dict(people) for session_id, people in state["rooms"].items()}
        connections = {user_id: set(sids) for user_id, sids in state["connections"].items()}
        for session_id, people in list(state["rooms"].items()):
            if not people:
                del state["rooms"][session_id]
    occupied = [session_id for session_id, people in rooms.items() if people]
    try:
        for session_id, people in rooms.items():
            flat = [str(x) for pair in people.items() for x in pair]
            shared.run(lambda r: shared.script(_REFRESH)(keys=[_procs_key(session_id), _share_key(session_id, state["process"])],
                                                   args=[state["process"], _ttl(), *flat]))
        if connections:
            users = sorted(connections)
            keys = [_connections_key(u) for u in users for _ in connections[u]]
            members = [f"{state['process']}:{sid}" for u in users for sid in connections[u]]
            shared.run(lambda r: shared.script(_TOUCH)(keys=keys, args=[_ttl(), *members]))
    except shared.Unavailable:
        return occupied, False
    return occupied, True
