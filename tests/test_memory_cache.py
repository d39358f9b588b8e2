"""The in-process cache stays within its byte budget, whatever the size of the answers."""

from __future__ import annotations

import pytest

from impl.cache import MemoryCache

pytestmark = pytest.mark.anyio


async def test_the_byte_budget_evicts_the_least_recently_used_entries() -> None:
    cache = MemoryCache(prefix="p:", max_bytes=10_000)
    for n in range(30):
        await cache.set(f"k{n}", b"x" * 1_000, ttl_seconds=60)
        assert cache.size_bytes <= 10_000
    kept = await cache.get_many([f"k{n}" for n in range(30)])
    assert kept[:20] == [None] * 20
    assert kept[-5:] == [b"x" * 1_000] * 5


async def test_replacing_and_deleting_entries_keeps_the_count_of_bytes_true() -> None:
    cache = MemoryCache(prefix="p:", max_bytes=10_000)
    await cache.set("a", b"x" * 4_000, ttl_seconds=60)
    await cache.set("a", b"y" * 10, ttl_seconds=60)
    await cache.delete("a")
    assert cache.size_bytes == 0
    assert await cache.increment("generation")
    assert await cache.get_many(["generation"]) == [b"1"]


async def test_increments_with_one_reason_count_once() -> None:
    cache = MemoryCache(prefix="p:")
    assert await cache.increment("generation", once="write-1")
    assert await cache.increment("generation", once="write-1")  # a second replica's step: already taken
    assert await cache.increment("generation", once="write-2")
    assert await cache.increment("generation")
    assert await cache.get_many(["generation"]) == [b"3"]
