"""The abuse counters live where the cache cannot evict them (issue 18, row 1).

Each test starts its own redis-servers: the cache's as docker-compose.prod.yml runs it
(`--maxmemory` and `allkeys-lru`, here 2 MB so that a few hundred cached pages fill it),
and the counters' with `noeviction` (LIMITS_REDIS_URL). The API runs as scripts/serve
runs it (`python -m impl.serve`), on this configuration's database.
"""

from __future__ import annotations

import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from impl.limits.eviction import Unverifiable, eviction_policy
from tests.conftest import ADMIN, free_port
from tests.helpers import bearer
from tests.servers import ApiServer, RedisServer
from tests.spec_responses import check_async_response
from tests.test_first_run import assert_one_line_refusal, clean_env, run
from tests.test_replicas import require_binary

EVICTING = ("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
NEVER_EVICTING = ("--maxmemory-policy", "noeviction")
NO_CONFIG = ("--rename-command", "CONFIG", "")
NO_CONFIG_NOR_INFO = (*NO_CONFIG, "--rename-command", "INFO", "")
FAILURES = 3  # LOGIN_FAILURES_PER_ACCOUNT_ADDRESS of these servers
PASSWORD = "Victim-Pass-2026"
PRODUCTS = 20  # one full page of the list, each product with a 2,000-character description (about 45 KB a page)
FLOOD = 300  # distinct list queries: about 13 MB of cached pages through a 2 MB cache
SERVE = [sys.executable, "-m", "impl.serve", "--host", "127.0.0.1"]


@pytest.fixture
def redis_binary() -> str:
    return require_binary("redis-server")


@pytest.fixture
def redis_servers(redis_binary: str, tmp_path: Path) -> Iterator[RedisFactory]:
    factory = RedisFactory(redis_binary, tmp_path)
    try:
        yield factory
    finally:
        factory.remove()


class RedisFactory:
    """redis-servers of one test, each with these options, all removed at its end."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder, self.servers = binary, folder, list[RedisServer]()

    def __call__(self, *options: str) -> RedisServer:
        folder = self.folder / f"redis-{len(self.servers)}"
        folder.mkdir()
        self.servers.append(RedisServer(self.binary, free_port(), folder, *options))
        return self.servers[-1]

    def remove(self) -> None:
        for server in self.servers:
            server.remove()


def server_env(tmp_path: Path, database_url: str, **settings: str) -> dict[str, str]:
    return clean_env(
        tmp_path / "data",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        CACHE_PREFIX=f"counters:{uuid.uuid4().hex}:",
        BCRYPT_ROUNDS="4",
        SMART_SEARCH_PRELOAD="false",
        LOGIN_FAILURES_PER_ACCOUNT_ADDRESS=str(FAILURES),
        ADMIN_EMAIL=ADMIN["email"],
        ADMIN_USERNAME=ADMIN["username"],
        ADMIN_PASSWORD=ADMIN["password"],
        **settings,
    )


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[ApiServer]:
    env.pop("WEB_CONCURRENCY", None)
    port = free_port()
    with ApiServer.running([*SERVE, "--port", str(port)], env, log, port) as api:
        yield api


def client_of(api: ApiServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=api.url, event_hooks={"response": [check_async_response]}, timeout=30)


async def login(client: httpx.AsyncClient, password: str) -> int:
    response = await client.post("/api/v1/auth/login", data={"username": "victim", "password": password})
    return response.status_code


async def lock_out_the_victim(client: httpx.AsyncClient) -> None:
    body = {"email": "victim@example.com", "username": "victim", "password": PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
    assert [await login(client, f"guess-{n}") for n in range(FAILURES)] == [401] * FAILURES
    assert await login(client, PASSWORD) == 429  # locked: the right password is no use to this address


async def flood_the_cache(client: httpx.AsyncClient) -> None:
    """Anonymous list queries, each distinct (so each a cached page of its own), as the probe sent."""
    signed_in = await client.post(
        "/api/v1/auth/login", data={"username": ADMIN["username"], "password": ADMIN["password"]}
    )
    admin = bearer(signed_in.json()["access_token"])
    for n in range(PRODUCTS):
        product = {"name": f"Heavy {n}", "price": 1000, "sku": f"HEAVY-{n}", "description": "lorem ipsum " * 166}
        created = await client.post("/api/v1/products", json=product, headers=admin)
        assert created.status_code == 201, created.text
    for n in range(FLOOD):
        page = await client.get("/api/v1/products", params={"page_size": PRODUCTS, "min_price": f"{n / 100:.2f}"})
        assert page.status_code == 200
        assert len(page.json()["items"]) == PRODUCTS


def evicted_keys(server: RedisServer) -> int:
    client = redis.Redis.from_url(server.url)
    try:
        stats = client.info("stats")
        return int(stats["evicted_keys"])
    finally:
        client.close()


@pytest.mark.anyio
async def test_with_the_counters_on_a_never_evicting_redis_a_cache_flood_does_not_unlock_an_account(
    redis_servers: RedisFactory, empty_database: str, tmp_path: Path
) -> None:
    cache, counters = redis_servers(*EVICTING), redis_servers(*NEVER_EVICTING)
    env = server_env(
        tmp_path, empty_database, ENVIRONMENT="production", REDIS_URL=cache.url, LIMITS_REDIS_URL=counters.url
    )
    with serving(env, tmp_path / "api.log") as api:
        async with client_of(api) as client:
            await lock_out_the_victim(client)
            await flood_the_cache(client)
            assert evicted_keys(cache) > 0  # the flood did push the cache's keys out
            assert await login(client, PASSWORD) == 429
            assert await login(client, "guess-again") == 429
        assert not [line for line in api.log_lines() if "maxmemory-policy" in line]


@pytest.mark.anyio
async def test_development_with_the_counters_on_an_evicting_redis_starts_with_one_warning_line_and_loses_lockouts(
    redis_servers: RedisFactory, empty_database: str, tmp_path: Path
) -> None:
    cache = redis_servers(*EVICTING)  # the counters share it: no LIMITS_REDIS_URL
    with serving(
        server_env(tmp_path, empty_database, ENVIRONMENT="development", REDIS_URL=cache.url), tmp_path / "api.log"
    ) as api:
        warnings = [line for line in api.log_lines() if "maxmemory-policy" in line]
        assert len(warnings) == 1, api.log_lines()
        assert " WARNING " in warnings[0]
        assert "maxmemory-policy allkeys-lru" in warnings[0]
        assert "LIMITS_REDIS_URL" in warnings[0]
        assert cache.url not in warnings[0]
        async with client_of(api) as client:
            await lock_out_the_victim(client)
            await flood_the_cache(client)
            # What production refuses to risk: the lockout was evicted with the cached pages.
            assert evicted_keys(cache) > 0
            assert await login(client, PASSWORD) == 200


@pytest.mark.parametrize(
    ("cache_options", "counters_options", "expected"),
    [
        (EVICTING, None, "has maxmemory-policy allkeys-lru"),  # the counters share the cache's Redis
        (NEVER_EVICTING, ("--maxmemory-policy", "volatile-ttl"), "has maxmemory-policy volatile-ttl"),
        (EVICTING, (*NO_CONFIG, *EVICTING), "has maxmemory-policy allkeys-lru"),  # read from INFO
        (EVICTING, NO_CONFIG_NOR_INFO, "answers neither CONFIG GET maxmemory-policy nor INFO memory"),
    ],
)
def test_production_with_counters_that_may_be_evicted_refuses_to_start_in_one_line(
    cache_options: tuple[str, ...],
    counters_options: tuple[str, ...] | None,
    expected: str,
    redis_servers: RedisFactory,
    empty_database: str,
    tmp_path: Path,
) -> None:
    cache = redis_servers(*cache_options)
    settings = {"ENVIRONMENT": "production", "REDIS_URL": cache.url}
    if counters_options is not None:
        settings["LIMITS_REDIS_URL"] = redis_servers(*counters_options).url
    env = server_env(tmp_path, empty_database, **settings)
    env.pop("WEB_CONCURRENCY", None)
    port = free_port()
    result = run([*SERVE, "--port", str(port)], env)
    line = assert_one_line_refusal(result, "catalog-api: ", "the rate-limit counters' Redis", expected)
    assert "LIMITS_REDIS_URL" in line
    assert "127.0.0.1:" not in line  # never the URL: it may hold a password


def test_the_policy_is_read_from_info_when_config_is_refused(redis_servers: RedisFactory) -> None:
    assert eviction_policy(redis_servers(*NEVER_EVICTING).url) == "noeviction"
    assert eviction_policy(redis_servers(*NO_CONFIG, *EVICTING).url) == "allkeys-lru"
    with pytest.raises(Unverifiable):
        eviction_policy(redis_servers(*NO_CONFIG_NOR_INFO).url)


@pytest.mark.anyio
async def test_production_starts_with_a_warning_when_the_counters_redis_does_not_answer(
    redis_servers: RedisFactory, empty_database: str, tmp_path: Path
) -> None:
    cache = redis_servers(*NEVER_EVICTING)
    gone = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    env = server_env(tmp_path, empty_database, ENVIRONMENT="production", REDIS_URL=cache.url, LIMITS_REDIS_URL=gone)
    with serving(env, tmp_path / "api.log") as api:
        warnings = [line for line in api.log_lines() if "rate-limit counters' Redis" in line]
        assert len(warnings) == 1, api.log_lines()
        assert "did not answer" in warnings[0]
        async with client_of(api) as client:  # the counters count in process meanwhile
            body = {"email": "victim@example.com", "username": "victim", "password": PASSWORD}
            assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
            assert [await login(client, f"guess-{n}") for n in range(FAILURES)] == [401] * FAILURES
            assert await login(client, PASSWORD) == 429
