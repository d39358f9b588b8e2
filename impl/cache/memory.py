"""In-process cache: a bounded LRU with expiry. Coherent within one process only."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence


class MemoryCache:
    def __init__(self, *, prefix: str, max_entries: int = 10_000) -> None:
        self._prefix = prefix
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def _read(self, key: str) -> bytes | None:
        entry = self._entries.get(self._prefix + key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at < time.monotonic():
            del self._entries[self._prefix + key]
            return None
        self._entries.move_to_end(self._prefix + key)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self._read(key) for key in keys]

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        self._entries[self._prefix + key] = (time.monotonic() + ttl_seconds, value)
        self._entries.move_to_end(self._prefix + key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(self._prefix + key, None)

    async def increment(self, key: str) -> bool:
        current = self._read(key)
        self._entries[self._prefix + key] = (float("inf"), str(int(current or b"0") + 1).encode())
        return True

    async def ping(self) -> bool:
        return True

    @property
    def shared(self) -> bool:
        return False

    async def publish(self, channel: str, message: bytes) -> None:
        return None  # one process: nobody else to tell

    async def listen(self, channel: str, on_message: Callable[[bytes], None], on_state: Callable[[bool], None]) -> None:
        return None

    async def close(self) -> None:
        self._entries.clear()
