"""Fixed-window counters for the abuse limits: in process, or in Redis shared by every replica.

A counter lives for its window from its first hit, then starts again from zero.
The Redis counters never fail a request: when Redis does not answer, they count
in process until it does (each replica then counts alone, which is weaker but
never locks anyone out), and say so in one log line per outage.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

REDIS_TIMEOUT = 0.2
COOL_DOWN = 2.0
# DECR on a missing key would create one at -1 with no expiry: only a live, positive count goes down.
UNDO_SCRIPT = "local n = tonumber(redis.call('GET', KEYS[1]) or '0') if n > 0 then redis.call('DECR', KEYS[1]) end"


@dataclass(frozen=True, slots=True)
class Count:
    value: int
    reset_seconds: int  # until the window ends (at least 1)


class Counters(Protocol):
    async def hit(self, key: str, *, window_seconds: int) -> Count:
        """Count one more in `key`'s window (opened now if none is open)."""

    async def peek(self, key: str) -> Count:
        """The count in `key`'s open window (0 when none is open)."""

    async def undo(self, key: str) -> None:
        """Take back one hit in `key`'s open window (never below 0; the window keeps its end)."""

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCounters:
    """Counters of one process, at most `max_keys` of them (the oldest windows go first)."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._windows: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, ends at)
        self._max_keys = max_keys

    async def hit(self, key: str, *, window_seconds: int) -> Count:
        now = time.monotonic()
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_seconds
            self._windows.pop(key, None)
        self._windows[key] = (count + 1, ends)
        while len(self._windows) > self._max_keys:
            self._windows.popitem(last=False)
        return Count(count + 1, _seconds(ends - now))

    async def peek(self, key: str) -> Count:
        now = time.monotonic()
        count, ends = self._windows.get(key, (0, 0.0))
        return Count(count, _seconds(ends - now)) if ends > now else Count(0, 1)

    async def undo(self, key: str) -> None:
        count, ends = self._windows.get(key, (0, 0.0))
        if count > 0 and ends > time.monotonic():
            self._windows[key] = (count - 1, ends)

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)

    async def close(self) -> None:
        self._windows.clear()


class RedisCounters:
    """Counters in Redis (INCR, then EXPIRE NX: the window opens at the first hit)."""

    def __init__(self, url: str, *, prefix: str, max_connections: int = 32) -> None:
        no_retries = Retry(NoBackoff(), 0)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=REDIS_TIMEOUT,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            retry=no_retries,
        )
        self._pool = pool
        self._redis = Redis(connection_pool=pool, retry=no_retries)
        self._prefix = prefix
        self._undo = self._redis.register_script(UNDO_SCRIPT)
        self._fallback = MemoryCounters()
        self._skip_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._skip_until

    def _failed(self, exc: Exception) -> None:
        if self._available():
            logger.warning("rate-limit counters: Redis unavailable (%s); counting in process for now", exc)
        self._skip_until = time.monotonic() + COOL_DOWN

    async def hit(self, key: str, *, window_seconds: int) -> Count:
        if self._available():
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(self._prefix + key)
                    pipe.expire(self._prefix + key, window_seconds, nx=True)
                    pipe.ttl(self._prefix + key)
                    count, _, ttl = await pipe.execute()
                return Count(int(count), max(int(ttl), 1))
            except (RedisError, OSError, TimeoutError) as exc:
                self._failed(exc)
        return await self._fallback.hit(key, window_seconds=window_seconds)

    async def peek(self, key: str) -> Count:
        if self._available():
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.get(self._prefix + key)
                    pipe.ttl(self._prefix + key)
                    count, ttl = await pipe.execute()
                return Count(int(count or 0), max(int(ttl), 1))
            except (RedisError, OSError, TimeoutError) as exc:
                self._failed(exc)
        return await self._fallback.peek(key)

    async def undo(self, key: str) -> None:
        if self._available():
            try:
                await self._undo(keys=[self._prefix + key])
                return
            except (RedisError, OSError, TimeoutError) as exc:
                self._failed(exc)
        await self._fallback.undo(key)

    async def clear(self, key: str) -> None:
        await self._fallback.clear(key)
        if self._available():
            try:
                await self._redis.delete(self._prefix + key)
            except (RedisError, OSError, TimeoutError) as exc:
                self._failed(exc)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pool.aclose()  # a pool handed to the client is not closed by it


def counters_from_url(url: str | None, *, prefix: str) -> Counters:
    """Shared by every process and replica when REDIS_URL is set; this process's own otherwise."""
    return RedisCounters(url, prefix=prefix) if url else MemoryCounters()


def _seconds(remaining: float) -> int:
    return max(math.ceil(remaining), 1)
