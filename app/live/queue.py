"""The Socket.IO message queue between processes (Redis), made to ride out a Redis outage.

python-socketio's `RedisManager` already delivers an emit to this process's own clients before it
publishes, so each process keeps serving its own rooms while Redis is down. Two things are changed:

- the listener reconnects every `LIVE_QUEUE_RETRY_SECONDS` (0.5 s) instead of backing off to a
  minute, so cross-process delivery is back within a second or two of Redis returning;
- publishing uses its own connection with short timeouts, and after a failure skips Redis for the
  same short while (no emit waits twice for a dead Redis); what other processes miss meanwhile,
  their clients fetch from the event log (gap filling);
- an emit does not wait for Redis: it is queued, and one publisher per process sends what was
  queued meanwhile, in order, in one pipeline (a burst's hundreds of emits, one round trip).
"""

from __future__ import annotations

import logging
import threading
import time

import socketio

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
        #: What emits queued for the publisher, JSON-encoded, oldest first; whether it is running.
        self._outbox: list[str] = []
        self._outbox_lock = threading.Lock()
        self._publishing = False
        #: Whether the listener is subscribed now (for /healthz and the tests' logs).
        self.listening = False

    def _publish(self, data):
        """Queue `data` for this process's publisher (`_publish_queued`), which sends what was queued
        meanwhile in one pipeline: a burst's emits cost Redis one round trip together, not one each
        (python-socketio has already delivered each to this process's own clients)."""
        if time.monotonic() < self._skip_until:
            return None
        message = self.json.dumps(data)
        with self._outbox_lock:
            self._outbox.append(message)
            if self._publishing:
                return None
            self._publishing = True
        self.server.start_background_task(self._publish_queued)
        return None

    def _publish_queued(self):
        """Send the queued messages, in their order, until none is left (one publisher at a time)."""
        try:
            while True:
                with self._outbox_lock:
                    batch, self._outbox = self._outbox[:self.PUBLISH_MOST], self._outbox[self.PUBLISH_MOST:]
                    if not batch:
                        self._publishing = False
                        return
                self._send(batch)
        except BaseException:
            with self._outbox_lock:
                self._publishing = False
            raise

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
