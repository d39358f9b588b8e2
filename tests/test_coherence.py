"""Several processes sharing one PostgreSQL and one Redis behave as one: a write is seen everywhere within the bound.

Each process keeps a local layer in front of Redis. Every process hears of every
committed write through the one product change feed (PostgreSQL NOTIFY; nothing
goes over Redis pub/sub), clears the layer and, once per write in all, moves the
generation on; an entry never outlives CACHE_LOCAL_TTL_MS (100 ms) after the read
that fetched it started; a lost feed drops the layer whole.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import anyio
import asyncpg
import httpx
import pytest
import redis
from sqlalchemy.engine import make_url

from impl.cache import RedisCache
from impl.db.database import Db
from impl.db.notifications import APPLICATION_NAME, ChangeListener
from impl.services.changes import ProductChanges, new_change
from impl.services.product_cache import ProductCache, detail_key, local_layer
from tests.conftest import ADMIN, free_port

pytestmark = pytest.mark.anyio

BOUND_SECONDS = 0.1  # CACHE_LOCAL_TTL_MS, the bound the README states
NEVER_HANGS = 10  # a hang guard, not a speed assertion


def start_server(database_url: str, redis_url: str, prefix: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(workdir),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_PREFIX": prefix,
        "SMART_SEARCH_PRELOAD": "false",
        "SECRET_KEY": "coherence-test-secret-" + "x" * 40,
        "BCRYPT_ROUNDS": "4",
        "ADMIN_EMAIL": ADMIN["email"],
        "ADMIN_USERNAME": ADMIN["username"],
        "ADMIN_PASSWORD": ADMIN["password"],
    }
    command = [sys.executable, "-m", "uvicorn", "impl.app:create_app", "--factory", "--port", str(port)]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def two_servers(
    postgres_database: str, redis_server: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> Iterator[tuple[str, str]]:
    _, redis_url = redis_server
    prefix = f"coherence:{uuid4().hex}:"
    servers = [start_server(postgres_database, redis_url, prefix, tmp_path / name) for name in ("a", "b")]
    try:
        deadline = time.monotonic() + 90  # a hang guard: two cold imports on a loaded 2-core machine are slow
        for process, url in servers:
            while True:
                assert process.poll() is None, "a server exited"
                try:
                    if httpx.get(f"{url}/health/ready", timeout=1).json()["checks"]["cache"] == "ok":
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                assert time.monotonic() < deadline, "a server did not start"
                time.sleep(0.1)
        yield servers[0][1], servers[1][1]
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            process.wait(timeout=10)


async def fresh_within_bound(
    read: Callable[[], Awaitable[httpx.Response]], is_fresh: Callable[[httpx.Response], bool], since: float
) -> None:
    """Read until the answer is fresh; a stale answer is allowed only for a read started within the bound."""
    with anyio.fail_after(NEVER_HANGS):
        while True:
            started = time.monotonic()
            response = await read()
            assert response.status_code == 200, response.text
            if is_fresh(response):
                return
            assert started - since < BOUND_SECONDS, f"stale {started - since:.3f} s after the write"


async def test_a_write_through_one_process_is_seen_by_the_other_within_the_bound(
    two_servers: tuple[str, str],
) -> None:
    a_url, b_url = two_servers
    async with httpx.AsyncClient(base_url=a_url) as a, httpx.AsyncClient(base_url=b_url) as b:
        credentials = {"username": ADMIN["username"], "password": ADMIN["password"]}
        login = await a.post("/api/v1/auth/login/json", json=credentials)
        a.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        kettle = {"name": "Kettle", "price": 30, "sku": "K-1", "category": "Tea"}
        created = await a.post("/api/v1/products", json=kettle)
        product_id = created.json()["id"]
        reads = {
            "detail": f"/api/v1/products/{product_id}",
            "list": "/api/v1/products?category=Tea",
            "search": "/api/v1/products/search?q=kettle",
        }
        for round_number in range(3):
            for path in reads.values():  # warm B's local layer: the second read is a local hit
                await b.get(path)
                assert (await b.get(path)).headers["x-cache"] == "HIT"
            price = 31 + round_number
            updated = await a.put(f"/api/v1/products/{product_id}", json={"price": price})
            assert updated.status_code == 200
            written = time.monotonic()

            def shows_price(response: httpx.Response, price: float = price) -> bool:
                body: Any = response.json()
                items = body.get("items", [body])
                return bool(items) and items[0]["price"] == price

            for path in reads.values():

                async def read(path: str = path) -> httpx.Response:
                    return await b.get(path)

                await fresh_within_bound(read, shows_price, written)


def pubsub_calls(redis_url: str) -> dict[str, Any]:
    """The pub/sub commands the Redis server has run since it started (INFO commandstats)."""
    client = redis.Redis.from_url(redis_url)
    try:
        stats: dict[str, Any] = client.info("commandstats")
    finally:
        client.close()
    return {name: calls for name, calls in stats.items() if "publish" in name or "subscribe" in name}


async def test_a_write_reaches_the_other_process_cache_and_smart_search_through_the_feed_not_redis_pubsub(
    two_servers: tuple[str, str], redis_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    """The Redis server is this test's own: that it never ran a PUBLISH or a SUBSCRIBE while B's cached answers
    and B's smart search followed A's writes shows the one feed (PostgreSQL NOTIFY) carried them."""
    a_url, b_url = two_servers
    _, redis_url = redis_server
    async with (
        httpx.AsyncClient(base_url=a_url, timeout=60) as a,
        httpx.AsyncClient(base_url=b_url, timeout=60) as b,
    ):
        credentials = {"username": ADMIN["username"], "password": ADMIN["password"]}
        login = await a.post("/api/v1/auth/login/json", json=credentials)
        a.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        smart: dict[str, str | int] = {"q": "cold hands in winter", "limit": 1}
        first = await b.get("/api/v1/search/smart", params=smart)  # B's index is loaded now, empty
        assert first.status_code == 200, first.text
        assert first.json()["items"] == []
        await b.get("/api/v1/products?category=Clothing")
        assert (await b.get("/api/v1/products?category=Clothing")).headers["x-cache"] == "HIT"

        gloves = {"name": "Winter Gloves", "price": 12, "sku": "GLOVES-1", "category": "Clothing"}
        created = await a.post("/api/v1/products", json=gloves)
        assert created.status_code == 201, created.text
        written = time.monotonic()

        async def listed() -> httpx.Response:
            return await b.get("/api/v1/products?category=Clothing")

        await fresh_within_bound(listed, lambda response: len(response.json()["items"]) == 1, written)
        with anyio.fail_after(NEVER_HANGS):
            while True:
                found = await b.get("/api/v1/search/smart", params=smart)
                assert found.status_code == 200, found.text
                if [item["sku"] for item in found.json()["items"]] == ["GLOVES-1"]:
                    break
                await asyncio.sleep(0.01)
    assert pubsub_calls(redis_url) == {}


@pytest.fixture
async def feeds(postgres_database: str) -> AsyncIterator[tuple[Db, list[ProductChanges]]]:
    """Two processes' product change feeds on one database, followed."""
    db = Db(postgres_database, timeout=5)
    await db.connect()
    changes = [ProductChanges(ChangeListener(postgres_database, timeout=5)) for _ in range(2)]
    followers = [asyncio.create_task(feed.follow()) for feed in changes]
    try:
        await until(lambda: all(feed.followed for feed in changes))
        yield db, changes
    finally:
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        await db.disconnect()


@pytest.fixture
async def shared_caches(
    redis_server: tuple[subprocess.Popen[bytes], str], feeds: tuple[Db, list[ProductChanges]]
) -> AsyncIterator[list[ProductCache]]:
    """Two product caches on one Redis, as two processes have, each following its process's feed; local
    entries kept for a minute, so only the feed can clear them."""
    _, url = redis_server
    _, changes = feeds
    prefix = f"coherence:{uuid4().hex}:"
    redis_caches = [RedisCache(url, prefix=prefix) for _ in range(2)]
    layers = [local_layer(ttl_seconds=60, max_bytes=1 << 20) for _ in range(2)]
    caches = [ProductCache(c, ttl_seconds=60, local=layer) for c, layer in zip(redis_caches, layers, strict=True)]
    for feed, cache in zip(changes, caches, strict=True):
        feed.subscribe(cache.changed, cache.following)
    assert all(layer.enabled for layer in layers)
    try:
        yield caches
    finally:
        for redis_cache in redis_caches:
            await redis_cache.close()


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(NEVER_HANGS):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def until_fetched(cache: ProductCache, key: str, body: bytes) -> None:
    """Fetch `key` (rebuilding it as `body`) until that is what the cache answers."""
    with anyio.fail_after(NEVER_HANGS):
        while True:
            if (await cache.fetch(key, build(body))).body == body:
                return
            await asyncio.sleep(0.01)


def build(body: bytes) -> Callable[[], Awaitable[bytes]]:
    async def rebuild() -> bytes:
        return body

    return rebuild


async def test_a_write_in_one_process_clears_the_other_processes_local_layer(
    shared_caches: list[ProductCache], feeds: tuple[Db, list[ProductChanges]]
) -> None:
    _, reader = shared_caches
    db, (writer_feed, _) = feeds
    product_id = uuid4()
    key = detail_key(product_id)
    assert (await reader.fetch(key, build(b'"v1"'))).body == b'"v1"'
    assert (await reader.fetch(key, build(b'"never"'))).body == b'"v1"'  # a local hit
    async with db.write() as session:
        change = await writer_feed.announce(session, [product_id])
    await writer_feed.committed(change)
    await until_fetched(reader, key, b'"v2"')


async def test_a_lost_feed_drops_the_local_layer_whole_until_it_is_followed_again(
    shared_caches: list[ProductCache], feeds: tuple[Db, list[ProductChanges]], postgres_database: str
) -> None:
    writer, reader = shared_caches
    _, (_, reader_feed) = feeds
    product_id = uuid4()
    key = detail_key(product_id)
    await reader.fetch(key, build(b'"v1"'))
    assert (await reader.fetch(key, build(b'"never"'))).body == b'"v1"'  # a local hit
    url = make_url(postgres_database)
    connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        # The listening connections of this database only: the server may be shared with other test runs.
        cut = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 "
            "AND datname = current_database()",
            APPLICATION_NAME,
        )
    finally:
        await connection.close()
    assert cut == 2
    await until(lambda: not reader_feed.followed)
    # A change the reader cannot hear of now (the writer's cache steps the generation in Redis): only a
    # local copy could still answer v1, and it was dropped with the feed.
    await writer.changed(new_change([product_id]))
    assert (await reader.fetch(key, build(b'"from the database"'))).body == b'"from the database"'
    await until(lambda: reader_feed.followed)  # the listener connects again by itself


async def test_a_generation_step_with_one_change_id_counts_once_whoever_takes_it(
    redis_server: tuple[subprocess.Popen[bytes], str],
) -> None:
    """The writer and every replica that heard the database's announcement take the step: one in all."""
    _, url = redis_server
    prefix = f"once:{uuid4().hex}:"
    caches = [RedisCache(url, prefix=prefix) for _ in range(3)]
    try:
        for cache in caches:
            assert await cache.increment("generation", once="write-1")
        assert await caches[0].increment("generation", once="write-2")
        assert await caches[1].get_many(["generation"]) == [b"2"]
    finally:
        for cache in caches:
            await cache.close()
