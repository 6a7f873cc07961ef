"""Limits on the live room: a token bucket per Socket.IO connection (every event; the HTTP rate
limiter does not see socket events), and one limit per person on questions, votes and interests."""

from __future__ import annotations

import math
import threading
import time

_lock = threading.Lock()


class TokenBucket:
    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# ---------------------------------------------------------------- one limit per person

#: What is limited per person, and the setting that says how many per minute.
PER_MINUTE = {
    "question": "LIVE_QUESTIONS_PER_MINUTE",
    "vote": "LIVE_VOTES_PER_MINUTE",
    "interest": "LIVE_INTERESTS_PER_MINUTE",
}


def _limiters(app) -> dict:
    from limits.storage import MemoryStorage, RedisStorage
    from limits.strategies import MovingWindowRateLimiter

    with _lock:
        limiters = app.extensions.get("cloudfair.person_limits")
        if limiters is None:
            limiters = {"memory": MovingWindowRateLimiter(MemoryStorage())}
            if app.config.get("REDIS_URL"):
                timeout = app.config["REDIS_TIMEOUT_SECONDS"]
                limiters["redis"] = MovingWindowRateLimiter(RedisStorage(
                    app.config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=timeout))
            app.extensions["cloudfair.person_limits"] = limiters
        return limiters


def check_person(kind: str, user_id: int) -> None:
    """Count one `kind` (question, vote, interest) for the person, over all their connections, every
    process (through Redis; this process's memory while Redis is down) and HTTP alike; raise
    RateLimited with `retry_after` (seconds) when they are over the limit."""
    [retry_after] = count_people(kind, [user_id])
    if retry_after is not None:
        raise refusal(retry_after)


def count_people(kind: str, user_ids: list[int]) -> list[int | None]:
    """`check_person` for several hits at once (a group commit's batch; a person listed twice counts
    twice, in order): for each, None when allowed, else the seconds until the person may again. Through
    Redis the hits go in one round trip (a pipeline of the limiter's own script), not one each."""
    from flask import current_app
    from limits import RateLimitItemPerMinute

    from . import shared

    app = current_app._get_current_object()
    item = RateLimitItemPerMinute(int(app.config[PER_MINUTE[kind]]))
    limiters = _limiters(app)
    keys = [(shared.prefix() + "-live", kind, str(user_id)) for user_id in user_ids]
    try:
        limiter = limiters["redis"] if "redis" in limiters else None
        if limiter is None:
            raise shared.Unavailable("not configured")
        # `shared.run` raises Unavailable while Redis is taken as down, as when it fails now.
        allowed = shared.run(lambda r: _hit_together(limiter, item, keys))
        window = lambda key: shared.run(lambda r: limiter.get_window_stats(item, *key))  # noqa: E731
    except shared.Unavailable:
        memory = limiters["memory"]
        allowed = [memory.hit(item, *key) for key in keys]
        window = lambda key: memory.get_window_stats(item, *key)  # noqa: E731
    # The window is read only to say when to come back (no round trip more for an allowed hit).
    return [None if ok else _retry_after(window, key) for ok, key in zip(allowed, keys)]


def _hit_together(limiter, item, keys: list[tuple]) -> list[bool]:
    """`limiter.hit(item, *key)` for each key (a `MovingWindowRateLimiter` on `RedisStorage`), in one
    pipeline: the storage's own acquiring script (what `hit` runs: `acquire_entry`) for every key."""
    if len(keys) < 2:
        return [limiter.hit(item, *key) for key in keys]
    storage = limiter.storage
    pipeline = storage.get_connection().pipeline(transaction=False)
    for key in keys:
        storage.lua_acquire_moving_window([storage.prefixed_key(item.key_for(*key))],
                                          [time.time(), item.amount, item.get_expiry(), 1], client=pipeline)
    return [bool(acquired) for acquired in pipeline.execute()]


def _retry_after(window, key: tuple) -> int:
    from . import shared

    try:
        stats = window(key)
    except shared.Unavailable:  # gone since the hit: the limit is per minute
        return 60
    return max(1, math.ceil(stats.reset_time - time.time()))


def refusal(retry_after: int):
    """The error of a person over their limit, in the current language."""
    from flask_babel import gettext

    from ..errors import RateLimited

    return RateLimited(gettext("Too many in a short time; try again in %(seconds)s seconds.", seconds=retry_after),
                       details={"retry_after": retry_after})
