"""Several replicas on one PostgreSQL database and one Redis behave as one API.

Three API processes (`python -m impl.serve`, started by scripts/lib/cluster.py
as `scripts/cluster` starts them) share a fresh database on TEST_DATABASE_URL's
server and a redis-server of this module's own; replica A reaches that Redis
through a TCP proxy the tests can freeze (Redis unreachable from A alone).
Requests are addressed to one replica at a time; HAProxy is in front when it
is installed.

The bound the README states: a read on any replica sees a committed write at
most 100 ms after the writer's answer, and a revoked token is refused by every
replica within the same 100 ms (in practice at once: with Redis, every request
reads the account from the database).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import anyio
import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from impl.cache.redis import COOL_DOWN
from scripts.lib.cluster import Cluster, ClusterConfig
from tests.conftest import ADMIN, TEST_DATABASE_URL, asyncpg_dsn, free_port
from tests.servers import RedisServer, TcpProxy
from tests.spec_responses import check_async_response

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.postgres,
    pytest.mark.skipif(TEST_DATABASE_URL is None, reason="needs TEST_DATABASE_URL (a PostgreSQL server) and Redis"),
]

BOUND_SECONDS = 0.1  # CACHE_LOCAL_TTL_MS and the README's stated bound
NEVER_HANGS = 10  # a hang guard, not a speed assertion
REUSE_GRACE_SECONDS = 1  # REFRESH_REUSE_GRACE_SECONDS of the replicas: replays after it are detected
PER_ADDRESS_PER_MINUTE = 30  # RATE_LIMIT_PER_ADDRESS_PER_MINUTE of the replicas
FAILURES_PER_ACCOUNT_ADDRESS = 10  # LOGIN_FAILURES_PER_ACCOUNT_ADDRESS (the default)
PASSWORD = "Quill-Sparrow-64"

# Propagation delays observed (seconds after the writer's answer until a replica answered fresh), by kind.
OBSERVED: dict[str, list[float]] = {}


def require_binary(name: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        if os.environ.get("CI_REQUIRE_SERVERS") == "1":  # CI installs it: a missing binary is a failure there
            pytest.fail(f"{name} is not installed, and CI_REQUIRE_SERVERS=1")
        pytest.skip(f"{name} is not installed")
    return binary


async def _admin_sql(server: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(make_url(server)))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@dataclass
class Replicas:
    """The running cluster, its Redis and A's proxy; `admin` is whoever is the live admin now."""

    cluster: Cluster
    redis: RedisServer
    proxy: TcpProxy  # between replica A and Redis
    database_url: str
    admin: dict[str, str] = field(default_factory=lambda: dict(ADMIN))

    @property
    def urls(self) -> list[str]:
        return [replica.url for replica in self.cluster.replicas]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    assert TEST_DATABASE_URL is not None
    redis_binary = require_binary("redis-server")
    folder = tmp_path_factory.mktemp("replicas")
    server = make_url(TEST_DATABASE_URL)
    name = f"catalog_replicas_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_sql(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"'))
    database_url = server.set(database=name).render_as_string(hide_password=False)
    redis = RedisServer(redis_binary, free_port(), folder)
    proxy = TcpProxy(free_port(), redis.port)
    cluster = Cluster(
        ClusterConfig(
            database_url=database_url,
            redis_url=redis.url,
            run_dir=folder / "cluster",
            replicas=3,
            load_balancer=shutil.which("haproxy") is not None,
            env={
                "ENVIRONMENT": "test",
                "BCRYPT_ROUNDS": "4",
                "CACHE_PREFIX": f"replicas:{uuid.uuid4().hex}:",
                "REFRESH_REUSE_GRACE_SECONDS": str(REUSE_GRACE_SECONDS),
                "RATE_LIMIT_PER_ADDRESS_PER_MINUTE": str(PER_ADDRESS_PER_MINUTE),
                "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": str(FAILURES_PER_ACCOUNT_ADDRESS),
                "LOG_LEVEL": "WARNING",
                "SMART_SEARCH_PRELOAD": "false",  # no test here searches: no model loads competing for the CPU
                "ADMIN_EMAIL": ADMIN["email"],
                "ADMIN_USERNAME": ADMIN["username"],
                "ADMIN_PASSWORD": ADMIN["password"],
            },
            replica_env={0: {"REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"}},
            secret_key="replicas-test-secret-" + "x" * 40,
        )
    )
    try:
        cluster.start()
        yield Replicas(cluster, redis, proxy, database_url)
    finally:
        try:
            cluster.stop()
        finally:
            proxy.remove()
            redis.remove()
            asyncio.run(_admin_sql(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if OBSERVED:
                print("\ncross-replica stale window (ms after the writer's answer a read still saw the old state):")
                for kind, delays in sorted(OBSERVED.items()):
                    ms = sorted(round(d * 1000, 1) for d in delays)
                    stale = sum(1 for d in ms if d > 0)
                    print(f"  {kind}: reads={len(ms)} stale at first={stale} max={ms[-1]}")


# Clients: one per replica, all seen as coming from one address of the test's own (X-Forwarded-For,
# which the replicas trust from 127.0.0.1), so the per-address limits of one test never touch another's.

_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture
async def clients(replicas: Replicas) -> AsyncIterator[list[httpx.AsyncClient]]:
    address = next(_addresses)
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(client_of(url, address)) for url in replicas.urls]


def client_of(url: str, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={"X-Forwarded-For": address},
        event_hooks={"response": [check_async_response]},
        timeout=NEVER_HANGS,
    )


async def token(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login/json", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def new_user(client: httpx.AsyncClient, prefix: str) -> tuple[dict[str, Any], str]:
    username = f"{prefix}{uuid.uuid4().hex[:8]}"
    body = {"email": f"{username}@example.com", "username": username, "password": PASSWORD}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json(), username


async def seen_within_bound(
    kind: str, read: Callable[[], Awaitable[httpx.Response]], seen: Callable[[httpx.Response], bool], since: float
) -> None:
    """Read until `seen`; an answer not seen yet fails once the read started later than the bound after `since`.

    Records the stale window: how long after `since` the last read that did not see it started (0: none).
    """
    stale_until = 0.0
    with anyio.fail_after(NEVER_HANGS):
        while True:
            started = time.monotonic()
            response = await read()
            if seen(response):
                OBSERVED.setdefault(kind, []).append(stale_until)
                return
            stale_until = started - since
            assert stale_until < BOUND_SECONDS, f"{kind}: not seen by a read started {stale_until * 1000:.0f} ms after"


async def all_seen_within_bound(
    kind: str,
    clients: list[httpx.AsyncClient],
    paths: dict[str, str],
    seen: Callable[[httpx.Response], bool],
    since: float,
    headers: dict[str, str] | None = None,
) -> None:
    """`seen_within_bound` on every client and path at once."""

    async def read_one(client: httpx.AsyncClient, name: str, path: str) -> None:
        async def read() -> httpx.Response:
            return await client.get(path, headers=headers)

        await seen_within_bound(f"{kind}/{name}", read, seen, since)

    await asyncio.gather(*(read_one(c, name, path) for c in clients for name, path in paths.items()))


# Product writes.


def has_price(price: float) -> Callable[[httpx.Response], bool]:
    def shows(response: httpx.Response) -> bool:
        assert response.status_code == 200, response.text
        body: Any = response.json()
        items = body.get("items", [body])
        return bool(items) and items[0]["price"] == price

    return shows


def is_gone(response: httpx.Response) -> bool:
    if response.status_code == 404:
        return True
    assert response.status_code == 200, response.text
    return "items" in response.json() and response.json()["items"] == []


async def warm(client: httpx.AsyncClient, paths: list[str]) -> None:
    """Each answer in Redis and in this replica's local layer (the second read is a hit)."""
    for path in paths:
        await client.get(path)
        assert (await client.get(path)).headers["x-cache"] == "HIT"


async def test_a_product_write_on_one_replica_is_seen_by_every_other_within_100_ms(
    replicas: Replicas, clients: list[httpx.AsyncClient]
) -> None:
    admin = bearer(await token(clients[0], replicas.admin["username"], replicas.admin["password"]))
    category = f"Tea-{uuid.uuid4().hex[:8]}"
    name = f"Kettle {uuid.uuid4().hex[:8]}"
    kettle = {"name": name, "price": 30, "sku": f"K-{uuid.uuid4().hex[:8]}", "category": category}
    created = await clients[0].post("/api/v1/products", json=kettle, headers=admin)
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    paths = {
        "detail": f"/api/v1/products/{product_id}",
        "list": f"/api/v1/products?category={category}",
        "search": f"/api/v1/products/search?q={name.split()[1]}",
    }
    for round_number, writer in enumerate(clients * 2):  # each replica writes twice, the others read
        readers = [client for client in clients if client is not writer]
        for reader in readers:
            await warm(reader, list(paths.values()))
        price = 31 + round_number
        updated = await writer.put(f"/api/v1/products/{product_id}", json={"price": price}, headers=admin)
        assert updated.status_code == 200, updated.text
        written = time.monotonic()
        await all_seen_within_bound("update", readers, paths, has_price(price), written)

    for reader in clients[1:]:
        await warm(reader, list(paths.values()))
    deleted = await clients[0].delete(f"/api/v1/products/{product_id}", headers=admin)
    assert deleted.status_code == 204
    written = time.monotonic()
    await all_seen_within_bound("delete", clients[1:], paths, is_gone, written)


# Revocation.


def refused(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    assert response.status_code == 200, response.text
    return False


async def assert_refused_everywhere(kind: str, clients: list[httpx.AsyncClient], tokens: dict[str, Any]) -> None:
    written = time.monotonic()
    await all_seen_within_bound("revoke", clients, {kind: "/api/v1/auth/me"}, refused, written, bearer(tokens))


async def signed_in_everywhere(clients: list[httpx.AsyncClient], tokens: dict[str, Any]) -> None:
    for client in clients:
        assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200


async def test_a_token_revoked_through_one_replica_is_refused_by_every_other_within_the_bound(
    replicas: Replicas, clients: list[httpx.AsyncClient]
) -> None:
    a, b, c = clients
    admin = bearer(await token(a, replicas.admin["username"], replicas.admin["password"]))

    user, username = await new_user(a, "promoted")
    tokens = await token(b, username, PASSWORD)
    await signed_in_everywhere(clients, tokens)
    role = await b.put(f"/api/v1/users/{user['id']}/role", json={"role": "admin"}, headers=admin)
    assert role.status_code == 200, role.text
    await assert_refused_everywhere("role change", clients, tokens)
    # Back to one admin: the last-admin test counts on it.
    role = await c.put(f"/api/v1/users/{user['id']}/role", json={"role": "user"}, headers=admin)
    assert role.status_code == 200, role.text

    user, username = await new_user(a, "rekeyed")
    tokens = await token(a, username, PASSWORD)
    await signed_in_everywhere(clients, tokens)
    change = {"password": "Marble-Falcon-93", "current_password": PASSWORD}
    changed = await c.put(f"/api/v1/users/{user['id']}", json=change, headers=bearer(tokens))
    assert changed.status_code == 200, changed.text
    await assert_refused_everywhere("password change", clients, tokens)

    user, username = await new_user(a, "deactivated")
    tokens = await token(c, username, PASSWORD)
    await signed_in_everywhere(clients, tokens)
    deactivated = await a.put(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin)
    assert deactivated.status_code == 200, deactivated.text
    await assert_refused_everywhere("deactivation", clients, tokens)

    user, username = await new_user(a, "deleted")
    tokens = await token(a, username, PASSWORD)
    await signed_in_everywhere(clients, tokens)
    assert (await c.delete(f"/api/v1/users/{user['id']}", headers=admin)).status_code == 204
    await assert_refused_everywhere("deletion", clients, tokens)


async def test_a_refresh_token_rotated_on_one_replica_and_replayed_on_another_ends_the_family(
    clients: list[httpx.AsyncClient],
) -> None:
    a, b, c = clients
    _, username = await new_user(a, "rotated")
    first = await token(a, username, PASSWORD)
    rotated = await a.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    await signed_in_everywhere(clients, second)
    await asyncio.sleep(REUSE_GRACE_SECONDS + 0.2)  # past the grace window: a replay now is a stolen copy

    replayed = await b.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replayed.status_code == 401, replayed.text
    # The whole family is over, on every replica: the rotated refresh token and its access token too.
    again = await c.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 401, again.text
    await assert_refused_everywhere("refresh replay", clients, second)


# Abuse limits.


async def test_failed_logins_spread_over_the_replicas_count_once(clients: list[httpx.AsyncClient]) -> None:
    _, username = await new_user(clients[0], "victim")
    attempts = itertools.cycle(clients)
    for guess in range(FAILURES_PER_ACCOUNT_ADDRESS):
        wrong = {"username": username, "password": f"wrong-guess-{guess}"}
        assert (await next(attempts).post("/api/v1/auth/login/json", json=wrong)).status_code == 401
    right = {"username": username, "password": PASSWORD}
    for client in clients:  # the limit is used up on every replica, the right password included
        refused = await client.post("/api/v1/auth/login/json", json=right)
        assert refused.status_code == 429, refused.text


async def test_the_per_address_ceiling_is_shared_by_the_replicas(clients: list[httpx.AsyncClient]) -> None:
    attempts = itertools.cycle(clients)
    garbage = {"refresh_token": "not-a-token"}
    for _ in range(PER_ADDRESS_PER_MINUTE):
        assert (await next(attempts).post("/api/v1/auth/refresh", json=garbage)).status_code == 401
    for client in clients:
        limited = await client.post("/api/v1/auth/refresh", json=garbage)
        assert limited.status_code == 429, limited.text


# Invalidations that cannot reach Redis.


async def test_a_write_whose_invalidation_cannot_reach_redis_is_not_served_stale_by_other_replicas(
    replicas: Replicas, clients: list[httpx.AsyncClient]
) -> None:
    a, b, c = clients
    admin = bearer(await token(a, replicas.admin["username"], replicas.admin["password"]))
    category = f"Lamp-{uuid.uuid4().hex[:8]}"
    lamp = {"name": "Lamp", "price": 10, "sku": f"L-{uuid.uuid4().hex[:8]}", "category": category}
    created = await b.post("/api/v1/products", json=lamp, headers=admin)
    assert created.status_code == 201, created.text
    paths = [f"/api/v1/products/{created.json()['id']}", f"/api/v1/products?category={category}"]
    for reader in (b, c):
        await warm(reader, paths)
    replicas.proxy.freeze()  # Redis unreachable from A alone: its DEL, INCR and PUBLISH time out
    try:
        updated = await a.put(f"/api/v1/products/{created.json()['id']}", json={"price": 11}, headers=admin)
        assert updated.status_code == 200, updated.text
        written = time.monotonic()
        # B and C still reach Redis, where the old answers are: they must not serve them past the bound,
        # for as long as A cannot tell Redis (well past B's and C's local layers and Redis cool-downs).
        while time.monotonic() - written < COOL_DOWN + 1:
            for reader, path in itertools.product((b, c), paths):
                started = time.monotonic()
                response = await reader.get(path)
                if not has_price(11)(response):
                    late = started - written
                    assert late < BOUND_SECONDS, f"{path} stale on a replica {late * 1000:.0f} ms after the write"
            await asyncio.sleep(0.05)
    finally:
        replicas.proxy.thaw()


async def test_a_write_while_redis_is_frozen_is_not_served_stale_once_it_answers_again(
    replicas: Replicas, clients: list[httpx.AsyncClient]
) -> None:
    a, b, c = clients
    admin = bearer(await token(a, replicas.admin["username"], replicas.admin["password"]))
    category = f"Rug-{uuid.uuid4().hex[:8]}"
    rug = {"name": "Rug", "price": 50, "sku": f"R-{uuid.uuid4().hex[:8]}", "category": category}
    created = await b.post("/api/v1/products", json=rug, headers=admin)
    assert created.status_code == 201, created.text
    paths = [f"/api/v1/products/{created.json()['id']}", f"/api/v1/products?category={category}"]
    for reader in (b, c):
        await warm(reader, paths)
    replicas.redis.freeze()  # nobody reaches Redis: every invalidation of this write fails
    try:
        updated = await a.put(f"/api/v1/products/{created.json()['id']}", json={"price": 51}, headers=admin)
        assert updated.status_code == 200, updated.text
        written = time.monotonic()
        await asyncio.sleep(0.5)
    finally:
        replicas.redis.thaw()
    # Redis answers again with the old entries in it: no replica may serve them (past every cool-down).
    while time.monotonic() - written < COOL_DOWN + 2:
        for reader, path in itertools.product(clients, paths):
            response = await reader.get(path)
            assert has_price(51)(response), f"{path} stale after Redis came back"
        await asyncio.sleep(0.05)


# The load balancer.


async def test_the_load_balancer_keeps_answering_while_a_replica_restarts(replicas: Replicas) -> None:
    require_binary("haproxy")
    cluster = replicas.cluster
    assert cluster.config.load_balancer
    answers: list[int] = []
    done = asyncio.Event()

    async def load() -> None:
        async with client_of(cluster.url, next(_addresses)) as client:
            while not done.is_set():
                for path in ("/api/v1/products?page_size=5", "/health/ready"):
                    answers.append((await client.get(path)).status_code)

    loader = asyncio.create_task(load())
    try:
        await asyncio.sleep(0.3)
        # SIGTERM replica C (it drains and exits), then the same port again: HAProxy's checks
        # take it out and put it back; meanwhile requests go to the others.
        await asyncio.to_thread(cluster.restart, 2)
        await asyncio.sleep(0.5)
    finally:
        done.set()
        await loader
    assert len(answers) > 20
    assert set(answers) == {200}, f"answers while a replica restarted: {sorted(set(answers))}"


# The last admin.


async def admins(database_url: str) -> list[str]:
    connection = await asyncpg.connect(asyncpg_dsn(make_url(database_url)))
    try:
        rows = await connection.fetch(
            "SELECT username FROM users WHERE role = 'admin' AND is_active AND deleted_at IS NULL"
        )
    finally:
        await connection.close()
    return sorted(row["username"] for row in rows)


async def test_the_last_admin_rule_holds_with_racing_requests_on_different_replicas(
    replicas: Replicas, clients: list[httpx.AsyncClient]
) -> None:
    a, b, _ = clients
    assert await admins(replicas.database_url) == [replicas.admin["username"]]
    kinds = ["demote each other", "demote themselves", "delete each other"]
    for kind in kinds:
        first = replicas.admin
        survivor_token = bearer(await token(a, first["username"], first["password"]))
        user, username = await new_user(a, "admin")
        promoted = await a.put(f"/api/v1/users/{user['id']}/role", json={"role": "admin"}, headers=survivor_token)
        assert promoted.status_code == 200, promoted.text
        second = {"username": username, "password": PASSWORD, "id": user["id"]}
        first_me = (await a.get("/api/v1/auth/me", headers=survivor_token)).json()
        first = {**first, "id": first_me["id"]}
        tokens = [
            bearer(await token(a, first["username"], first["password"])),
            bearer(await token(b, second["username"], second["password"])),
        ]
        if kind == "demote each other":
            targets = [second["id"], first["id"]]
        elif kind == "demote themselves":
            targets = [first["id"], second["id"]]
        else:
            targets = [second["id"], first["id"]]

        async def act(
            client: httpx.AsyncClient, headers: dict[str, str], target: str, kind: str = kind
        ) -> httpx.Response:
            if kind.startswith("delete"):
                return await client.delete(f"/api/v1/users/{target}", headers=headers)
            return await client.put(f"/api/v1/users/{target}/role", json={"role": "user"}, headers=headers)

        answers = await asyncio.gather(act(a, tokens[0], targets[0]), act(b, tokens[1], targets[1]))
        statuses = sorted(answer.status_code for answer in answers)
        # One wins; the other is refused: 409 (last admin) or 401 (its token ended by the winner's change).
        assert statuses[0] in (200, 204), f"{kind}: {statuses}"
        assert statuses[1] in (401, 409), f"{kind}: {statuses}"
        left = await admins(replicas.database_url)
        assert len(left) == 1, f"{kind}: admins left {left}"
        replicas.admin = first if left == [first["username"]] else second
