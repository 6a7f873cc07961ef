"""A small in-process cache for rendered pages (each server process keeps its own)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable


class PageCache:
    """Least-recently-used, with a time to live; safe across threads and greenlets."""

    def __init__(self, max_entries: int = 256, ttl_seconds: float = 30.0):
        self.max_entries = max_entries
        self.ttl = ttl_seconds
        self._items: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            stored_at, value = item
            if time.monotonic() - stored_at > self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
