"""The live room's shared state in Redis (presence, per-person limits), and what happens without it.

Every call has a short timeout (`REDIS_TIMEOUT_SECONDS`). When one fails, Redis is taken as down
for `LIVE_QUEUE_RETRY_SECONDS` (no request waits twice for a dead Redis) and the caller falls back
to this process's own memory: the service is degraded (each process counts its own people and
limits), never failing. `/healthz` reports it (207).
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app

log = logging.getLogger(__name__)

_lock = threading.Lock()


class Unavailable(Exception):
    """Redis is not configured, or is down right now: use this process's memory."""


def _state(app) -> dict:
    with _lock:
        return app.extensions.setdefault("cloudfair.shared", {"client": None, "down_until": 0.0})


def client():
    """The Redis client, or raise Unavailable (not configured, or failed a moment ago)."""
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if not url:
        raise Unavailable("not configured")
    state = _state(app)
    if time.monotonic() < state["down_until"]:
        raise Unavailable("down")
    if state["client"] is None:
        import redis

        timeout = app.config["REDIS_TIMEOUT_SECONDS"]
        state["client"] = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    return state["client"]


def run(work):
    """`work(redis_client)`, or raise Unavailable when Redis is missing or fails now."""
    redis_client = client()
    try:
        return work(redis_client)
    except Exception as exc:  # redis errors, timeouts, a refused connection: all mean "not now"
        app = current_app._get_current_object()
        state = _state(app)
        if time.monotonic() >= state["down_until"]:
            log.warning("Redis is unavailable (%s); live presence and limits fall back to this process",
                        exc.__class__.__name__)
        state["down_until"] = time.monotonic() + app.config["LIVE_QUEUE_RETRY_SECONDS"]
        raise Unavailable(exc.__class__.__name__) from exc


def prefix() -> str:
    """What this deployment's keys start with (`REDIS_KEY_PREFIX`): deployments sharing a Redis keep apart."""
    return current_app.config.get("REDIS_KEY_PREFIX", "cloudfair")


def script(source: str):
    """The Lua `source` registered once per app with its client (raises Unavailable as `client`); call it
    with `client=` the client `run` hands its work, or a pipeline."""
    redis_client = client()
    state = _state(current_app._get_current_object())
    with _lock:
        scripts = state.setdefault("scripts", {})
        if source not in scripts:
            scripts[source] = redis_client.register_script(source)
        return scripts[source]
