"""In-process cache: an LRU with expiry, bounded in entries and in bytes. Coherent within one process only."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

ONCE_PREFIX = "once:"
ONCE_SECONDS = 60


class MemoryCache:
    def __init__(self, *, prefix: str, max_entries: int = 10_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._prefix = prefix
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def _drop(self, full_key: str) -> None:
        entry = self._entries.pop(full_key, None)
        if entry is not None:
            self._bytes -= len(full_key) + len(entry[1])

    def _read(self, key: str) -> bytes | None:
        entry = self._entries.get(self._prefix + key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at < time.monotonic():
            self._drop(self._prefix + key)
            return None
        self._entries.move_to_end(self._prefix + key)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self._read(key) for key in keys]

    def _store(self, key: str, value: bytes, expires_at: float) -> None:
        full_key = self._prefix + key
        self._drop(full_key)
        self._entries[full_key] = (expires_at, value)
        self._bytes += len(full_key) + len(value)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        self._store(key, value, time.monotonic() + ttl_seconds)

    async def delete(self, key: str) -> None:
        self._drop(self._prefix + key)

    async def increment(self, key: str, *, once: str | None = None) -> bool:
        if once is not None:
            if self._read(ONCE_PREFIX + once) is not None:
                return True
            self._store(ONCE_PREFIX + once, b"1", time.monotonic() + ONCE_SECONDS)
        current = self._read(key)
        self._store(key, str(int(current or b"0") + 1).encode(), float("inf"))
        return True

    async def ping(self) -> bool:
        return True

    @property
    def shared(self) -> bool:
        return False

    async def close(self) -> None:
        self._entries.clear()
        self._bytes = 0
