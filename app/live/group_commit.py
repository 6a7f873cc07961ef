"""Group commit: what many greenlets (or threads) of one process submit at once is written in one
transaction, and each of them is answered only after that transaction's commit.

There is no writer of its own: the first caller that finds nobody writing writes. It takes
everything queued (after one yield, so that the greenlets already runnable queue theirs first),
hands the batch to `write`, answers each item, and passes the writer's role to the oldest item
queued meanwhile, whose caller then writes the next batch (its own included). A burst of interests
is so written in a few transactions instead of one each, and the rows every interest of a session
writes (its event counter, the organisers' folded notifications) are locked by one transaction at a
time in this process instead of being waited for by every greenlet in turn.

`write(items)` records each item's outcome on the item itself; an exception it lets through is logged
and leaves the outcomes as they were (each caller's default: write it alone), the writer's own caller
included. Nothing here touches a database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Entry:
    item: object
    #: Set when the item was written (`done`) or when its caller is to write the next batch.
    turn: threading.Event = field(default_factory=threading.Event)
    done: bool = False


class GroupCommit:
    """Batches `submit`ted items for `write` (see the module's text). `most` caps a batch; `pause` is
    what a writer does before it takes the queue (yield once; a test waits there for a batch to fill);
    `waiting` what a caller does before it waits for another's batch (lets go of what it holds)."""

    def __init__(self, write: Callable[[list], None], *, most: int = 256, pause: Callable[[], None] = lambda: time.sleep(0),
                 waiting: Callable[[], None] = lambda: None):
        self._write = write
        self._most = most
        self._pause = pause
        self._waiting = waiting
        self._lock = threading.Lock()
        self._queue: list[_Entry] = []
        self._writing = False
        #: Sizes of the batches written so far in this process (for tests and the benchmarks).
        self.batches: list[int] = []

    @property
    def queued(self) -> int:
        return len(self._queue)

    def submit(self, item) -> None:
        """Queue `item` and return once a batch holding it was written (or failed: see `write`)."""
        entry = _Entry(item)
        with self._lock:
            self._queue.append(entry)
            wait, self._writing = self._writing, True
        if wait:
            self._waiting()
            entry.turn.wait()
            if entry.done:
                return
        self._write_next(entry)

    def _write_next(self, entry: _Entry) -> None:
        batch: list[_Entry] = []
        try:
            self._pause()  # the callers that are ready to run queue theirs first
            with self._lock:
                batch, self._queue = self._queue[:self._most], self._queue[self._most:]
            self.batches.append(len(batch))
            del self.batches[:-1000]
            self._write([queued.item for queued in batch])
        except Exception:  # each item's caller finds it not written and writes it alone
            log.exception("A batch of %d failed", len(batch))
        finally:
            for queued in batch:
                queued.done = True
                if queued is not entry:
                    queued.turn.set()
            with self._lock:
                if self._queue:
                    self._queue[0].turn.set()  # not done: its caller writes the next batch
                else:
                    self._writing = False
