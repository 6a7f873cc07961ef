"""The Socket.IO message queue between processes (Redis), made to ride out a Redis outage.

python-socketio's `RedisManager` delivers an emit to this process's own clients itself, so each
process keeps serving its own rooms while Redis is down. What this class changes:

- the listener reconnects every `LIVE_QUEUE_RETRY_SECONDS` (0.5 s) instead of backing off to a
  minute, so cross-process delivery is back within a second or two of Redis returning;
- publishing uses its own connection with short timeouts, and after a failure skips Redis for the
  same short while (no emit waits twice for a dead Redis); what other processes miss meanwhile,
  their clients fetch from the event log (gap filling);
- in a server's worker (gevent: sockets patched) an emit writes its PUBLISH to Redis at once, before
  this process delivers it (python-socketio delivers first: `_handle_emit`), and returns without
  waiting for the reply (one greenlet reads the replies): the other processes start their fan-out
  while this one does its own, which writes each frame at once without yielding (`wire.direct_send`);
- while a PUBLISH of this process waits for its reply, the emits that come meanwhile are held and go
  together, as one message (`"method": "batch"`), when the reply comes: a burst of interests is a few
  messages for Redis and for every other process to read, not two per interest for each. An emit in
  a quiet moment (a question to a full room) still goes at once; what a burst holds waits at most for
  one reply and for this process's greenlets already running. Every process of a release reads
  batches (`_listen`) and skips its own unread;
- elsewhere (the scheduler's process, a CLI command: they may exit right after an emit) an emit
  returns once Redis has it, and the emits that arrive together are published together: the first
  emitter sends what was queued meanwhile, in order, in one pipeline (one round trip).
"""

from __future__ import annotations

import json
import logging
import threading
import time

import orjson
import socketio

from .group_commit import GroupCommit
from .rooms import IndexedRooms
from .wire import gevent_patched

log = logging.getLogger(__name__)

#: Marks an emit `_handle_emit` has published already (python-socketio publishes it after delivering it).
_PUBLISHED = "cloudfair_published"


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
        #: None until the first emit, then whether emits are written and not waited for (`_post`).
        self.publish_later: bool | None = None
        self._spawn = _thread  # what starts `_read_replies`: `gevent.spawn` in a gevent worker
        self._lock = threading.Lock()
        self._connection = None  # the connection `_post` writes to
        self._unread = 0  # PUBLISH replies not read yet on it
        #: The emits (JSON text) held while a PUBLISH waits for its reply, oldest first (`_post`).
        self._held: list[str] = []
        #: How this process's batches begin (`_batch`), by which it knows its own (`_listen`).
        self._batch_head = f'{{"method":"batch","host_id":"{self.host_id}"'
        self._reading = False  # whether a `_read_replies` runs for it
        #: Whether the listener is subscribed now (for /healthz and the tests' logs).
        self.listening = False

    def _handle_emit(self, message):
        """Deliver an emit to this process's clients. python-socketio calls this for an emit of this
        process before it publishes it; in a server's worker (`_at_once`) it is published first: the
        delivery here writes each recipient's frame at once (`wire.direct_send`, a fan-out of
        milliseconds that does not yield), and the other processes start theirs meanwhile instead of
        after it. Neither step yields on the way (`_post`), so emits keep their order everywhere."""
        if message.get("host_id") == self.host_id and self._at_once():
            self._publish(message)
            message[_PUBLISHED] = True
        super()._handle_emit(message)

    def _at_once(self) -> bool:
        """Whether emits are written to Redis and not waited for (a server's worker), decided at the first."""
        if self.publish_later is None:
            spawn = _spawner()
            self.publish_later, self._spawn = spawn is not None, spawn or _thread
        return self.publish_later

    def _publish(self, data):
        """Publish `data`. In a server's worker: written now, not waited for (`_post`), before this
        process's own delivery (`_handle_emit`). Elsewhere (python-socketio has already delivered it
        here): with the emits of this process that arrive at the same moment (`_outbox`, a group
        commit: the first emitter sends what was queued meanwhile in one pipeline, in order, and each
        returns once its message was sent), so that a process that exits right after emitting has sent it."""
        if data.pop(_PUBLISHED, False):
            return None
        if time.monotonic() < self._skip_until:
            return None
        message = self.json.dumps(data)
        if self._at_once():
            self._post(message)
        else:
            self._outbox.submit(message)
        return None

    def _post(self, message: str) -> None:
        """Write one PUBLISH to Redis now, without yielding to the loop unless the socket's buffer is
        full, and return: the other processes have it before any of this one's writers runs (what
        `wire.direct_send` could not write at once waits for them). If a PUBLISH is still waiting for
        its reply, `message` is held instead and goes with the others held meanwhile, as one message,
        once the replies are in (`_read_replies`; at once if `PUBLISH_MOST` are held). The replies come
        back in order on the same connection and one `_read_replies` reads them; a failure drops the
        connection (and what it held) and skips Redis for `retry_seconds`."""
        connection = None
        try:
            with self._lock:
                connection = self._connection
                if connection is not None and self._unread:
                    self._held.append(message)
                    if len(self._held) < self.PUBLISH_MOST:
                        return
                    message, self._held = self._batch(self._held), []
                if connection is None:
                    connection = self._connection = self._redis().connection_pool.make_connection()
                self._write(connection, message)
                start, self._reading = not self._reading, True
            if start:
                self._spawn(self._read_replies, connection)
        except Exception as exc:
            self._failed(exc, connection)

    def _write(self, connection, message: str) -> None:
        connection.send_packed_command(connection.pack_command("PUBLISH", self.channel, message), check_health=False)
        self._unread += 1

    def _batch(self, messages: list[str]) -> str:
        """Held emits as one message: one alone as itself; more in a batch that names this process
        first, so that it can skip its own batches unread (`_listen`)."""
        if len(messages) == 1:
            return messages[0]
        return f'{self._batch_head},"messages":[{",".join(messages)}]}}'

    def _read_replies(self, connection) -> None:
        """Read `connection`'s PUBLISH replies until none is owed (a greenlet in a gevent worker); when
        the last owed is read, what was held meanwhile goes as one message."""
        try:
            while True:
                with self._lock:
                    if self._connection is not connection or not self._unread:
                        if self._connection is connection:
                            self._reading = False
                        return
                connection.read_response(disconnect_on_error=False)  # waits at most the socket timeout
                with self._lock:
                    if self._connection is connection:
                        self._unread -= 1
                        if not self._unread and self._held:
                            held, self._held = self._held, []
                            self._write(connection, self._batch(held))
        except Exception as exc:
            self._failed(exc, connection)

    def _listen(self):
        """The messages of the other processes as python-socketio's listener reads them, a batch's
        (`_batch`) one by one, in order; this process's own batches skipped without being read."""
        own = self._batch_head.encode()
        for data in super()._listen():
            if isinstance(data, bytes) and data.startswith(_BATCH):
                if data.startswith(own):
                    continue
                try:
                    messages = _loads(data)["messages"]
                except (ValueError, KeyError, TypeError):  # not one of ours: python-socketio drops what it cannot read
                    log.warning("Dropped a malformed batch on the Socket.IO queue")
                    continue
                yield from messages
            else:
                yield data

    def _failed(self, exc: Exception, connection) -> None:
        with self._lock:
            if self._connection is not connection:  # the other side of the pair saw it first
                return
            self._connection, self._unread, self._reading, self._held = None, 0, False, []
            self._skip_until = time.monotonic() + self.retry_seconds
        try:
            if connection is not None:
                connection.disconnect()
        except Exception:  # pragma: no cover - closing a broken socket
            pass
        log.warning("Cannot publish to Redis (%s); this process's own clients are served, others catch up",
                    exc.__class__.__name__)

    def _redis(self):
        if self.publisher is None:
            module = self._get_redis_module()
            self.publisher = module.Redis.from_url(self.redis_url, socket_timeout=self.timeout_seconds,
                                                   socket_connect_timeout=self.timeout_seconds)
        return self.publisher

    def _send(self, batch: list[str]) -> None:
        now = time.monotonic()
        if now < self._skip_until:
            return
        try:
            pipeline = self._redis().pipeline(transaction=False)
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


_BATCH = b'{"method":"batch",'


def _loads(data: bytes):
    """A batch written by `_batch`: orjson reads it (the standard library what orjson refuses: a lone
    surrogate's escape, which `wire` leaves to the standard library to write)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _spawner():
    """`gevent.spawn` where this process serves with gevent (its sockets patched, as in `make serve`'s
    workers): a greenlet started now runs once the emitter yields, and starting it does not yield
    (a patched `Thread.start` would wait for the thread to run). None in the scheduler's process and
    CLI commands, which are not patched."""
    if not gevent_patched():
        return None
    import gevent

    return gevent.spawn


def _thread(target, *args) -> None:
    threading.Thread(target=target, args=args, daemon=True).start()
