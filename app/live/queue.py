"""The Socket.IO message queue between processes (Redis), made to ride out a Redis outage.

python-socketio's `RedisManager` already delivers an emit to this process's own clients before it
publishes, so each process keeps serving its own rooms while Redis is down. Two things are changed:

- the listener reconnects every `LIVE_QUEUE_RETRY_SECONDS` (0.5 s) instead of backing off to a
  minute, so cross-process delivery is back within a second or two of Redis returning;
- publishing uses its own connection with short timeouts, and after a failure skips Redis for the
  same short while (no emit waits twice for a dead Redis); what other processes miss meanwhile,
  their clients fetch from the event log (gap filling);
- the emits that arrive together are published together: the first emitter sends what was queued
  meanwhile, in order, in one pipeline (a burst's hundreds of emits, one round trip).
"""

from __future__ import annotations

import logging
import time

import socketio

from .group_commit import GroupCommit
from .rooms import IndexedRooms

log = logging.getLogger(__name__)


class ResilientRedisManager(IndexedRooms, socketio.RedisManager):
    #: The most messages one pipeline sends.
    PUBLISH_MOST = 500

    def __init__(self, url: str, *, retry_seconds: float = 0.5, timeout_seconds: float = 1.0, **kwargs):
        # The listening connection blocks for as long as nothing is published: no read timeout.
        options = {"socket_connect_timeout": timeout_seconds, "socket_keepalive": True, "health_check_interval": 10}
        super().__init__(url, redis_options=options, **kwargs)
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        self.publisher = None
        self._skip_until = 0.0
        #: The emits waiting to be published, JSON-encoded, oldest first (`_publish`).
        self._outbox = GroupCommit(self._send, most=self.PUBLISH_MOST)
        #: Whether the listener is subscribed now (for /healthz and the tests' logs).
        self.listening = False

    def _publish(self, data):
        """Publish `data` with the emits of this process that arrive at the same moment (`_outbox`, a
        group commit: the first emitter sends what was queued meanwhile in one pipeline, in order, and
        each returns once its message was sent): a burst's emits cost Redis one round trip together,
        not one each, and an emit has been sent when it returns, in a server's worker as in the
        scheduler's process (python-socketio has already delivered it to this process's own clients)."""
        if time.monotonic() < self._skip_until:
            return None
        self._outbox.submit(self.json.dumps(data))
        return None

    def _send(self, batch: list[str]) -> None:
        now = time.monotonic()
        if now < self._skip_until:
            return
        try:
            if self.publisher is None:
                module = self._get_redis_module()
                self.publisher = module.Redis.from_url(self.redis_url, socket_timeout=self.timeout_seconds,
                                                       socket_connect_timeout=self.timeout_seconds)
            pipeline = self.publisher.pipeline(transaction=False)
            for message in batch:
                pipeline.publish(self.channel, message)
            pipeline.execute()
        except Exception as exc:  # any Redis failure: local clients already have it
            self._skip_until = now + self.retry_seconds
            log.warning("Cannot publish to Redis (%s); this process's own clients are served, others catch up",
                        exc.__class__.__name__)

    def _redis_listen_with_retries(self):  # pragma: no cover - exercised by tests/live/test_faults.py
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = self.listening = True
                    log.info("Listening to the Socket.IO queue on Redis")
                yield from self.pubsub.listen()
            except Exception as exc:
                if subscribed:
                    log.warning("Lost the Socket.IO queue on Redis (%s); retrying every %s s",
                                exc.__class__.__name__, self.retry_seconds)
                subscribed = self.listening = False
                time.sleep(self.retry_seconds)
