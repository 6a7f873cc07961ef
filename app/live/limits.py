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
    from flask import current_app
    from flask_babel import gettext
    from limits import RateLimitItemPerMinute

    from ..errors import RateLimited
    from . import shared

    app = current_app._get_current_object()
    item = RateLimitItemPerMinute(int(app.config[PER_MINUTE[kind]]))
    limiters = _limiters(app)
    key = (app.config.get("REDIS_KEY_PREFIX", "cloudfair") + "-live", kind, str(user_id))
    try:
        limiter = limiters["redis"] if "redis" in limiters else None
        if limiter is None:
            raise shared.Unavailable("not configured")
        shared.client()  # raises Unavailable while Redis is taken as down
        allowed = shared.run(lambda r: limiter.hit(item, *key))
        # The window is read only to say when to come back (one round trip less for every allowed hit).
        stats = None if allowed else shared.run(lambda r: limiter.get_window_stats(item, *key))
    except shared.Unavailable:
        limiter = limiters["memory"]
        allowed = limiter.hit(item, *key)
        stats = None if allowed else limiter.get_window_stats(item, *key)
    if not allowed:
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(gettext("Too many in a short time; try again in %(seconds)s seconds.", seconds=retry_after),
                          details={"retry_after": retry_after})
