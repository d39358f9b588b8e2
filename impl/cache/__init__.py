"""The cache: one small interface, an in-process backend and a Redis backend.

A cache never raises and never blocks for long: on any failure it answers as a
miss (or does nothing) and logs, so the API serves from the database.
"""

from __future__ import annotations

from .base import Cache
from .memory import MemoryCache
from .redis import RedisCache

__all__ = ["Cache", "MemoryCache", "RedisCache", "cache_from_url"]


def cache_from_url(url: str | None, *, prefix: str, memory_max_bytes: int) -> Cache:
    """Redis when REDIS_URL is set, in-process (single process only, at most `memory_max_bytes`) otherwise."""
    if url:
        return RedisCache(url, prefix=prefix)
    return MemoryCache(prefix=prefix, max_bytes=memory_max_bytes)
