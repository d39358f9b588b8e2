"""The product cache: hits and misses, invalidation after every write, ETags, and Redis failing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any
from uuid import uuid4

import anyio
import httpx
import pytest
import redis
from fastapi import FastAPI

from impl.app import create_app
from impl.services.product_cache import detail_key
from impl.settings import Settings
from tests.conftest import ADMIN, client_for, login

pytestmark = pytest.mark.anyio

# A hang guard, not a speed assertion: Redis failing must never stall a request.
NEVER_HANGS = 10


async def create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "Lamp", "price": 19.99, "sku": f"SKU-{uuid4().hex[:8]}", "category": "Home", **fields}
    response = await client.post("/api/v1/products", json=body)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def test_equivalent_queries_share_one_entry(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, name="Desk Lamp")
    for first, equivalent in (
        ("/api/v1/products?min_price=10&name=Lamp", "/api/v1/products?name=lamp&min_price=10.0&page=1"),
        ("/api/v1/products/search?q=DESK", "/api/v1/products/search?page_size=10&q=desk"),
    ):
        miss = await admin_client.get(first)
        hit = await admin_client.get(equivalent)
        assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT"), equivalent
        assert hit.json() == miss.json()
        assert len(hit.json()["items"]) == 1


async def test_a_second_read_is_a_hit_with_the_same_etag(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client)
    for path in (
        f"/api/v1/products/{product['id']}",
        "/api/v1/products?category=Home",
        "/api/v1/products/search?q=lamp",
    ):
        first = await admin_client.get(path)
        second = await admin_client.get(path)
        assert (first.status_code, second.status_code) == (200, 200)
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT"), path
        assert first.headers["etag"] == second.headers["etag"]
        assert first.json() == second.json()


async def test_if_none_match_with_the_current_etag_is_304_without_a_body(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client)
    path = f"/api/v1/products/{product['id']}"
    etag = (await admin_client.get(path)).headers["etag"]
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        response = await admin_client.get(path, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
    stale = await admin_client.get(path, headers={"If-None-Match": '"not-the-current-tag"'})
    assert stale.status_code == 200
    assert stale.json()["id"] == product["id"]


async def test_an_etag_stops_matching_after_an_update(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client)
    path = f"/api/v1/products/{product['id']}"
    etag = (await admin_client.get(path)).headers["etag"]
    assert (await admin_client.put(path, json={"stock": 3})).status_code == 200
    response = await admin_client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.json()["stock"] == 3
    assert response.headers["etag"] != etag


async def _prime(client: httpx.AsyncClient, paths: list[str]) -> None:
    for path in paths:
        await client.get(path)
        assert (await client.get(path)).headers["x-cache"] == "HIT", path


async def test_create_refreshes_cached_lists_and_searches(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, name="Desk lamp")
    paths = ["/api/v1/products?category=Home", "/api/v1/products/search?q=lamp"]
    await _prime(admin_client, paths)
    await create(admin_client, name="Floor lamp")
    for path in paths:
        response = await admin_client.get(path)
        assert response.headers["x-cache"] == "MISS"
        assert response.json()["total"] == 2
        assert {item["name"] for item in response.json()["items"]} == {"Desk lamp", "Floor lamp"}


async def test_update_refreshes_the_detail_every_list_page_and_search(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, name="Old lamp")
    detail = f"/api/v1/products/{product['id']}"
    paths = [detail, "/api/v1/products?category=Home", "/api/v1/products/search?q=lamp"]
    await _prime(admin_client, paths)
    response = await admin_client.put(detail, json={"name": "New lamp", "price": 5.5})
    assert response.status_code == 200
    assert (await admin_client.get(detail)).json()["name"] == "New lamp"
    listed = (await admin_client.get(paths[1])).json()["items"][0]
    assert (listed["name"], listed["price"]) == ("New lamp", 5.5)
    found = (await admin_client.get(paths[2])).json()["items"][0]
    assert (found["name"], found["price"]) == ("New lamp", 5.5)
    assert (await admin_client.get("/api/v1/products/search?q=old")).json()["total"] == 0


async def test_delete_refreshes_the_detail_lists_and_searches(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client)
    detail = f"/api/v1/products/{product['id']}"
    paths = [detail, "/api/v1/products?category=Home", "/api/v1/products/search?q=lamp"]
    await _prime(admin_client, paths)
    assert (await admin_client.delete(detail)).status_code == 204
    assert (await admin_client.get(detail)).status_code == 404
    assert (await admin_client.get(paths[1])).json()["total"] == 0
    assert (await admin_client.get(paths[2])).json()["total"] == 0


async def test_not_found_is_never_cached(app: FastAPI, admin_client: httpx.AsyncClient) -> None:
    missing = uuid4()
    for _ in range(2):
        response = await admin_client.get(f"/api/v1/products/{missing}")
        assert response.status_code == 404
        assert "x-cache" not in response.headers
    cache = app.state.cache
    assert await cache.get_many([detail_key(missing)]) == [None]


async def test_validation_errors_are_not_cached(admin_client: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await admin_client.get("/api/v1/products?page=0")
        assert response.status_code == 422
        assert "x-cache" not in response.headers


async def test_garbage_in_the_cache_is_a_miss(app: FastAPI, admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client)
    path = f"/api/v1/products/{product['id']}"
    await _prime(admin_client, [path])
    generation = (await app.state.cache.get_many(["products:generation"]))[0] or b"0"
    await app.state.cache.set(detail_key(product["id"]), generation + b"\nnot json", ttl_seconds=60)
    # With Redis, each process's local layer may answer from its copy until its bound has passed.
    await anyio.sleep(app.state.settings.cache_local_ttl_ms / 1000 + 0.05)
    response = await admin_client.get(path)
    assert response.status_code == 200
    assert response.headers["x-cache"] == "MISS"
    assert response.json() == product


# Redis failing: each test uses a Redis of its own, never the machine's shared one.


@pytest.fixture
async def app_on(settings: Settings) -> AsyncIterator[Any]:
    """Build apps with a given REDIS_URL on this test's database, signed in as the admin."""
    async with AsyncExitStack() as stack:

        async def build(redis_url: str, **overrides: Any) -> httpx.AsyncClient:
            application = create_app(settings.model_copy(update={"redis_url": redis_url, **overrides}))
            await stack.enter_async_context(application.router.lifespan_context(application))
            client = await stack.enter_async_context(client_for(application))
            tokens = await login(client, ADMIN["username"], ADMIN["password"])
            client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
            return client

        yield build


async def test_api_answers_from_the_database_when_redis_is_unreachable(app_on: Any) -> None:
    client: httpx.AsyncClient = await app_on("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with anyio.fail_after(NEVER_HANGS):
        product = await create(client)
        listing = await client.get("/api/v1/products")
        detail = await client.get(f"/api/v1/products/{product['id']}")
        search = await client.get("/api/v1/products/search?q=lamp")
        ready = await client.get("/health/ready")
    assert listing.status_code == 200
    assert listing.json()["items"] == [product]
    assert detail.status_code == 200
    assert detail.json() == product
    assert detail.headers["x-cache"] == "MISS"
    assert search.json()["total"] == 1
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "cache": "unavailable"}}


async def test_redis_killed_mid_test_falls_back_to_the_database(
    app_on: Any, redis_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    process, url = redis_server
    client: httpx.AsyncClient = await app_on(url)
    product = await create(client)
    detail = f"/api/v1/products/{product['id']}"
    await _prime(client, [detail, "/api/v1/products"])

    process.kill()
    process.wait()
    with anyio.fail_after(NEVER_HANGS):
        updated = await client.put(detail, json={"stock": 7})
        after = await client.get(detail)
        listing = await client.get("/api/v1/products")
    assert updated.status_code == 200
    assert after.status_code == 200
    assert after.json()["stock"] == 7
    assert after.headers["x-cache"] == "MISS"
    assert listing.json()["items"][0]["stock"] == 7


async def test_a_hung_redis_costs_a_bounded_wait_and_no_stale_data_after(
    app_on: Any, redis_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    process, url = redis_server
    client: httpx.AsyncClient = await app_on(url)
    product = await create(client)
    detail = f"/api/v1/products/{product['id']}"
    await _prime(client, [detail, "/api/v1/products/search?q=lamp"])

    os.kill(process.pid, signal.SIGSTOP)  # Redis accepts nothing and answers nothing
    try:
        with anyio.fail_after(NEVER_HANGS):
            assert (await client.put(detail, json={"name": "Hung lamp"})).status_code == 200
            during = await client.get(detail)
        assert during.json()["name"] == "Hung lamp"
    finally:
        os.kill(process.pid, signal.SIGCONT)

    # Redis is back with the old entries; the invalidation owed must win over them.
    await anyio.sleep(2.5)  # past the cool-down
    with anyio.fail_after(NEVER_HANGS):
        after = await client.get(detail)
        found = await client.get("/api/v1/products/search?q=lamp")
    assert after.json()["name"] == "Hung lamp"
    assert found.json()["items"][0]["name"] == "Hung lamp"


def redis_commands(client: redis.Redis) -> dict[str, int]:
    """Commands Redis served since its statistics were last reset (but the ones asking for them)."""
    stats: dict[str, Any] = client.info("commandstats")
    counts = {name.removeprefix("cmdstat_"): int(stat["calls"]) for name, stat in stats.items()}
    return {name: calls for name, calls in counts.items() if not name.startswith(("config", "info"))}


async def test_reads_within_the_local_bound_never_touch_redis_and_an_expiry_costs_one_round_trip(
    app_on: Any, redis_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    """The near cache answers repeated reads (it was once measured missing under load): within
    CACHE_LOCAL_TTL_MS no read reaches Redis, and when the entry expires, the reads in flight share one fetch."""
    _, url = redis_server
    admin: httpx.AsyncClient = await app_on(url, cache_local_ttl_ms=1000)
    app: Any = admin._transport.app  # type: ignore[attr-defined]
    monitor = redis.Redis.from_url(url)
    monitor.config_resetstat()
    product = await create(admin)
    # The write's own generation step (its process skips its own announcement's echo on the feed); the layer is
    # on once the feed is followed.
    with anyio.fail_after(NEVER_HANGS):
        # Nothing to wait on but the state itself.
        while redis_commands(monitor).get("eval", 0) < 1 or not app.state.product_cache.local_enabled:  # noqa: ASYNC110
            await anyio.sleep(0.01)
    await anyio.sleep(0.1)  # Redis has counted the step: the app may not have read its answer (and cleared) yet
    path = f"/api/v1/products/{product['id']}"
    async with client_for(app) as anonymous:  # a signed-in read would also record a view
        assert (await anonymous.get(path)).status_code == 200
        monitor.config_resetstat()
        again = [await anonymous.get(path) for _ in range(5)]
        assert [(r.status_code, r.headers["x-cache"], r.json()) for r in again] == [(200, "HIT", product)] * 5
        assert redis_commands(monitor) == {}

        await anyio.sleep(1.05)  # past the local entry's bound
        monitor.config_resetstat()
        together = await asyncio.gather(*(anonymous.get(path) for _ in range(16)))
        assert {(r.status_code, r.headers["x-cache"]) for r in together} == {(200, "HIT")}
        assert redis_commands(monitor) == {"mget": 1}
    monitor.close()
