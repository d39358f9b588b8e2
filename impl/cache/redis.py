"""Redis cache (redis-py asyncio) that degrades to a miss instead of failing.

Every call is bounded: a blocking connection pool (no "too many connections"
error under load), short connect and socket timeouts, and an overall deadline.
After a failure the cache is skipped for a short cool-down, so a Redis that
hangs costs one deadline, not one per call; a generation bump that failed is
retried first when Redis answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

logger = logging.getLogger(__name__)
T = TypeVar("T")

# INCR KEYS[1] unless KEYS[2] (the reason's id) was seen already: one step per reason, whoever sends it.
INCREMENT_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
    return redis.call('INCR', KEYS[1])
end
return 0
"""
ONCE_PREFIX = "once:"
# How long a reason's id is remembered: one key per product write, so short. A step paid later
# than this (after a long Redis outage) moves the generation once more: one more miss, never stale.
ONCE_SECONDS = 60

SOCKET_TIMEOUT = 0.2
DEADLINE = 0.3
COOL_DOWN = 2.0


class RedisCache:
    def __init__(self, url: str, *, prefix: str, max_connections: int = 64) -> None:
        self._prefix = prefix
        no_retries = Retry(NoBackoff(), 0)  # a retry would only stretch the wait; the database answers instead
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=SOCKET_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            retry=no_retries,
        )
        self._pool = pool
        self._redis = Redis(connection_pool=pool, retry=no_retries)
        self._skip_until = 0.0
        # Keys whose increment is owed: one plain INCR pays all that one key owes (any step moves
        # its generation past every entry written before), whatever reasons (`once` ids) piled up.
        self._pending_increments: set[str] = set()
        self._paying = asyncio.Lock()

    async def _call(self, what: str, call: Awaitable[T]) -> T | None:
        # Nothing is read or written while a generation bump is owed: entries
        # of the old generation must not be served once Redis is back.
        if time.monotonic() < self._skip_until or not await self._flush_increments():
            if asyncio.iscoroutine(call):
                call.close()
            return None
        return await self._bounded(what, call)

    async def _bounded(self, what: str, call: Awaitable[T]) -> T | None:
        try:
            return await asyncio.wait_for(call, timeout=DEADLINE)
        except Exception as exc:
            self._skip_until = time.monotonic() + COOL_DOWN
            logger.warning("redis %s failed (%s: %s); serving from the database", what, type(exc).__name__, exc)
            return None

    def _incr(self, key: str, once: str | None) -> Awaitable[Any]:
        if once is None:
            return self._redis.incr(self._prefix + key)
        keys = (self._prefix + key, self._prefix + ONCE_PREFIX + once)
        return self._redis.eval(INCREMENT_ONCE, 2, *keys, ONCE_SECONDS)

    async def _flush_increments(self) -> bool:
        if not self._pending_increments:
            return True
        # One payer at a time: the requests that arrive meanwhile wait for it rather than each sending
        # the owed steps again (after an outage that was every request, for seconds).
        async with self._paying:
            if time.monotonic() < self._skip_until:  # the payer before us just failed
                return False
            owed = sorted(self._pending_increments)
            # One round trip for all of them, under one deadline: after an outage they can be many
            # (a views version per user who read a product meanwhile).
            pipeline = self._redis.pipeline(transaction=False)
            for key in owed:
                pipeline.incr(self._prefix + key)
            if await self._bounded("INCR", pipeline.execute()) is None:
                return False
            self._pending_increments.difference_update(owed)
        return True

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        values: Any = await self._call("MGET", self._redis.mget([self._prefix + key for key in keys]))
        if not isinstance(values, list) or len(values) != len(keys):
            return [None] * len(keys)
        return [value if isinstance(value, bytes) else None for value in values]

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        await self._call("SET", self._redis.set(self._prefix + key, value, ex=ttl_seconds))

    async def delete(self, key: str) -> None:
        await self._call("DEL", self._redis.delete(self._prefix + key))

    async def increment(self, key: str, *, once: str | None = None) -> bool:
        done = await self._call("INCR", self._incr(key, once))
        if done is None:
            self._pending_increments.add(key)
            return False
        return True

    @property
    def shared(self) -> bool:
        return True

    async def ping(self) -> bool:
        self._skip_until = 0.0  # readiness always asks Redis itself
        return bool(await self._call("PING", self._redis.ping()))

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pool.aclose()  # a pool handed to the client is not closed by it
