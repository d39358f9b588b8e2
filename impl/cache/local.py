"""An in-process copy in front of a shared cache, never more than `ttl_seconds` behind it.

Entries expire `ttl_seconds` after the read that fetched them *started*, so an
entry can never show data older than that bound, whatever else fails. On top,
writers clear it (their own process at once, the others through the shared
cache's product change feed), and it is dropped whole and switched off while
that feed is lost. `epoch` moves on every clear: a read that started before
a clear does not put its (possibly older) answer back.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class LocalLayer(Generic[V]):
    def __init__(self, *, ttl_seconds: float, max_bytes: int, size: Callable[[V], int]) -> None:
        self._ttl = ttl_seconds
        self._max_bytes = max_bytes
        self._size = size
        self._entries: OrderedDict[str, tuple[float, int, V]] = OrderedDict()
        self._bytes = 0
        self.epoch = 0
        self.enabled = False

    def get(self, key: str) -> V | None:
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, _, value = entry
        if expires_at <= time.monotonic():
            self._remove(key)
            return None
        return value

    def put(self, key: str, value: V, *, started_at: float, epoch: int) -> None:
        """Keep `value`, read from the shared cache by a fetch that started at `started_at` in `epoch`."""
        if not self.enabled or epoch != self.epoch:
            return
        size = self._size(value)
        if size > self._max_bytes:
            return
        self._remove(key)
        self._entries[key] = (started_at + self._ttl, size, value)
        self._bytes += size
        while self._bytes > self._max_bytes:
            oldest = next(iter(self._entries))
            self._remove(oldest)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self.epoch += 1

    def set_enabled(self, enabled: bool) -> None:
        """Switched on once the product change feed is followed; dropped whole and off when it is lost."""
        self.clear()
        self.enabled = enabled

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]
