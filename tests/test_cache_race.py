"""Single-flight rebuilds never hand a pre-write answer to a request that started after the write."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import anyio
import httpx
import pytest

import impl.db.products as product_rows
from impl.cache import MemoryCache
from impl.services.changes import new_change
from impl.services.product_cache import ProductCache, detail_key

pytestmark = pytest.mark.anyio

# A hang guard, not a speed assertion: joining the wrong rebuild would wait for a release that never comes.
NEVER_HANGS = 10


def gated(body: bytes, reached: asyncio.Event, release: asyncio.Event) -> Callable[[], Awaitable[bytes]]:
    async def build() -> bytes:
        reached.set()
        await release.wait()
        return body

    return build


def returning(body: bytes, calls: list[bytes]) -> Callable[[], Awaitable[bytes]]:
    async def build() -> bytes:
        calls.append(body)
        return body

    return build


async def test_concurrent_misses_in_one_generation_share_one_rebuild() -> None:
    cache = ProductCache(MemoryCache(prefix="race:"), ttl_seconds=60)
    reached, release = asyncio.Event(), asyncio.Event()
    key = detail_key(uuid4())
    first = asyncio.create_task(cache.fetch(key, gated(b'{"v":1}', reached, release)))
    await reached.wait()
    calls: list[bytes] = []
    second = asyncio.create_task(cache.fetch(key, returning(b'{"v":"never built"}', calls)))
    await asyncio.sleep(0)
    release.set()
    assert (await first).body == (await second).body == b'{"v":1}'
    assert calls == []


async def test_a_fetch_after_a_committed_write_does_not_join_the_older_rebuild() -> None:
    cache = ProductCache(MemoryCache(prefix="race:"), ttl_seconds=60)
    product_id = uuid4()
    key = detail_key(product_id)
    reached, release = asyncio.Event(), asyncio.Event()
    before = asyncio.create_task(cache.fetch(key, gated(b'{"v":1}', reached, release)))
    await reached.wait()  # the rebuild has read v1 and not yet stored it

    await cache.changed(new_change([product_id]))  # v2 committed, then the feed told the cache
    calls: list[bytes] = []
    with anyio.fail_after(NEVER_HANGS):
        after = await cache.fetch(key, returning(b'{"v":2}', calls))
    assert after.body == b'{"v":2}'
    assert calls == [b'{"v":2}']

    release.set()
    assert (await before).body == b'{"v":1}'  # it started before the write: v1 is a correct answer for it
    later = await cache.fetch(key, returning(b'{"v":2}', calls))
    assert later.body == b'{"v":2}'  # the late v1 entry carries the old generation: never served


async def test_through_the_api_a_read_after_an_update_sees_the_update_while_an_older_read_rebuilds(
    admin_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await admin_client.post("/api/v1/products", json={"name": "Before", "price": 5, "sku": "RACE-1"})
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    path = f"/api/v1/products/{product_id}"

    reached, release = asyncio.Event(), asyncio.Event()
    read_live = product_rows.get_live

    async def slow_first_read(db: Any, *, product_id: UUID) -> Any:
        record = await read_live(db, product_id=product_id)
        if not reached.is_set():  # only the first rebuild stalls, after it has read the old row
            reached.set()
            await release.wait()
        return record

    monkeypatch.setattr(product_rows, "get_live", slow_first_read)
    older = asyncio.create_task(admin_client.get(path))
    await reached.wait()

    updated = await admin_client.put(path, json={"name": "After"})
    assert updated.status_code == 200, updated.text
    with anyio.fail_after(NEVER_HANGS):
        newer = await admin_client.get(path)
    assert newer.status_code == 200
    assert newer.json()["name"] == "After"

    release.set()
    assert (await older).json()["name"] == "Before"
    assert (await admin_client.get(path)).json()["name"] == "After"
