"""PostgreSQL down or frozen under writes: every request answers 503 with Retry-After, on a connection
that stays open, with one log line each; the API recovers by itself when the database is back.

Each test starts its own PostgreSQL cluster (never the machine's shared one) and the API as a real
uvicorn process on it, the way scripts/serve runs it, so the whole stack between the client's socket
and the database is the one that serves in production.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from impl.db.migrate import upgrade
from tests.conftest import ADMIN, TEST_REDIS_URL, asyncpg_dsn, free_port
from tests.servers import ApiServer, PostgresCluster
from tests.spec_responses import check_async_response

pytestmark = pytest.mark.anyio

DATABASE_TIMEOUT_SECONDS = 1.0  # the API's DATABASE_TIMEOUT_SECONDS here: a frozen database answers 503 quickly
RECOVERY_SECONDS = 5  # the database back, requests succeed again within this
UNAVAILABLE = "urn:catalog-api:problem:database-unavailable"
WRITERS = 4


@pytest.fixture
def api(postgres_server: PostgresCluster, tmp_path: Path) -> Iterator[ApiServer]:
    upgrade(postgres_server.url)
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": postgres_server.url,
        "DATABASE_TIMEOUT_SECONDS": str(DATABASE_TIMEOUT_SECONDS),
        "CACHE_PREFIX": f"outage:{uuid.uuid4().hex}:",
        "SECRET_KEY": "outage-test-secret-" + uuid.uuid4().hex,
        "BCRYPT_ROUNDS": "4",
        "ADMIN_EMAIL": ADMIN["email"],
        "ADMIN_USERNAME": ADMIN["username"],
        "ADMIN_PASSWORD": ADMIN["password"],
    }
    env.pop("REDIS_URL", None)
    if TEST_REDIS_URL:  # the PostgreSQL + Redis configuration: accounts are then checked in the database
        env["REDIS_URL"] = TEST_REDIS_URL
    command = [sys.executable, "-m", "impl.serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with ApiServer.running(command, env, tmp_path / "api.log", port) as server:
        yield server


class Tally:
    """Every 503 database-unavailable answer any client of the test got: the log must hold one line each."""

    def __init__(self) -> None:
        self.unavailable = 0

    async def count(self, response: httpx.Response) -> None:
        await response.aread()
        if response.status_code == 503 and response.headers.get("content-type") == "application/problem+json":
            self.unavailable += response.json()["type"] == UNAVAILABLE


@pytest.fixture
def tally() -> Tally:
    return Tally()


def client_of(api: ApiServer, tally: Tally | None = None, **options: Any) -> httpx.AsyncClient:
    """A client of the running API whose every answer is checked against openapi.yaml (and counted)."""
    hooks: list[Any] = [check_async_response] + ([tally.count] if tally is not None else [])
    return httpx.AsyncClient(base_url=api.url, timeout=30, event_hooks={"response": hooks}, **options)


def one_connection(api: ApiServer, tally: Tally, token: str) -> httpx.AsyncClient:
    """A client that can only ever hold one connection: a dropped one would show as a new local port."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return client_of(api, tally, limits=limits, headers={"Authorization": f"Bearer {token}"})


def local_port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == UNAVAILABLE
    assert int(response.headers["retry-after"]) >= 1


class Writers:
    """Clients creating products in a loop, as a busy API sees; every status and acknowledged id kept."""

    def __init__(self, api: ApiServer, tally: Tally, token: str) -> None:
        self.api = api
        self.tally = tally
        self.token = token
        self.statuses: Counter[int] = Counter()
        self.acknowledged: list[str] = []
        self.transport_errors: list[str] = []
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, count: int) -> None:
        self.tasks = [asyncio.create_task(self._run(number)) for number in range(count)]

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.gather(*self.tasks)

    async def until_acknowledged(self, more: int) -> None:
        target = len(self.acknowledged) + more
        with anyio.fail_after(RECOVERY_SECONDS + 10):
            while len(self.acknowledged) < target:  # noqa: ASYNC110 (a count, polled)
                await asyncio.sleep(0.05)

    async def _run(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with client_of(self.api, self.tally, headers=headers) as client:
            sequence = 0
            while not self.stopping.is_set():
                sequence += 1
                body = {"name": f"Outage {number}-{sequence}", "price": 1.5, "sku": f"OUT-{number}-{sequence}"}
                try:
                    response = await client.post("/api/v1/products", json=body)
                except httpx.TransportError as exc:  # a dropped connection: the failure this test is about
                    self.transport_errors.append(repr(exc))
                    continue
                self.statuses[response.status_code] += 1
                if response.status_code == 201:
                    self.acknowledged.append(response.json()["id"])
                else:
                    assert_unavailable(response)
                await asyncio.sleep(0.005)


async def products_in_database(url: str) -> set[str]:
    connection = await asyncpg.connect(asyncpg_dsn(make_url(url)))
    try:
        return {str(row["id"]) for row in await connection.fetch("SELECT id FROM products")}
    finally:
        await connection.close()


def uncached_list() -> str:
    """A product list no cache holds: the answer has to come from the database."""
    return f"/api/v1/products?min_price=0.{uuid.uuid4().int % 98 + 1:02d}&name={uuid.uuid4().hex[:8]}"


async def until_served(client: httpx.AsyncClient) -> float:
    """Seconds until a database read answers 200 again, asking every 50 ms (each answer meanwhile a 503)."""
    started = time.monotonic()
    with anyio.fail_after(RECOVERY_SECONDS + 5):
        while True:
            response = await client.get(uncached_list())
            if response.status_code == 200:
                return time.monotonic() - started
            assert_unavailable(response)
            await asyncio.sleep(0.05)


async def all_unavailable(client: httpx.AsyncClient, *, bound_seconds: float) -> None:
    """Requests that each need the database, all on the client's one connection: each a 503 within the bound."""
    missing = uuid.uuid4()
    requests = [
        ("POST", "/api/v1/products", {"name": "Down", "price": 2, "sku": f"DOWN-{missing}"}),
        ("GET", f"/api/v1/products/{missing}", None),
        ("GET", uncached_list(), None),
        ("GET", f"/api/v1/products/search?q={missing.hex[:6]}", None),
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/auth/login/json", {"username": ADMIN["username"], "password": ADMIN["password"]}),
    ]
    ports = set()
    for method, path, body in requests:
        started = time.monotonic()
        response = await client.request(method, path, json=body)
        took = time.monotonic() - started
        assert took < bound_seconds, f"{method} {path} answered after {took:.1f} s"
        assert_unavailable(response)
        ports.add(local_port(response))
    started = time.monotonic()
    readiness = await client.get("/health/ready")
    assert time.monotonic() - started < bound_seconds
    assert readiness.status_code == 503
    assert readiness.json()["checks"]["database"] == "unavailable"
    ports.add(local_port(readiness))
    assert len(ports) == 1, "a connection was closed after a 503"


def assert_one_line_per_failure(api: ApiServer, tally: Tally) -> None:
    lines = api.log_lines()
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    logged = [line for line in lines if "database unavailable" in line]
    assert tally.unavailable > 0
    assert len(logged) == tally.unavailable, f"{len(logged)} lines for {tally.unavailable} failed requests"


async def outage_under_writes(
    api: ApiServer, tally: Tally, postgres_server: PostgresCluster, *, stop: Any, restart: Any, bound_seconds: float
) -> None:
    """Writers running; the database stopped; requests on one connection; the database back; writers again."""
    async with client_of(api, tally) as anonymous:
        credentials = {"username": ADMIN["username"], "password": ADMIN["password"]}
        token = (await anonymous.post("/api/v1/auth/login/json", json=credentials)).json()["access_token"]
    writers = Writers(api, tally, token)
    async with one_connection(api, tally, token) as client:
        created = await client.post("/api/v1/products", json={"name": "Before", "price": 3, "sku": "BEFORE-1"})
        assert created.status_code == 201
        writers.acknowledged.append(created.json()["id"])
        assert (await client.get(f"/api/v1/products/{created.json()['id']}")).status_code == 200
        port = local_port(await client.get(uncached_list()))
        writers.start(WRITERS)
        try:
            await writers.until_acknowledged(20)
            await asyncio.to_thread(stop)
            await all_unavailable(client, bound_seconds=bound_seconds)
            await asyncio.sleep(1)  # the writers keep failing meanwhile
            assert writers.statuses[503] > 0
            await asyncio.to_thread(restart)
            assert await until_served(client) < RECOVERY_SECONDS
            await writers.until_acknowledged(20)
        finally:
            await writers.stop()
        assert (await client.get("/health/ready")).status_code == 200
        assert local_port(await client.get(uncached_list())) == port, "one connection from start to end"
    assert writers.transport_errors == []
    assert set(writers.statuses) == {201, 503}, writers.statuses
    stored = await products_in_database(postgres_server.url)
    assert set(writers.acknowledged) <= stored, "an acknowledged write was lost"
    assert_one_line_per_failure(api, tally)


async def test_postgres_killed_under_writes_answers_503_on_open_connections_and_recovers(
    api: ApiServer, tally: Tally, postgres_server: PostgresCluster
) -> None:
    # Refused connections answer at once: within a second or two each, however busy the machine.
    await outage_under_writes(
        api, tally, postgres_server, stop=postgres_server.crash, restart=postgres_server.start, bound_seconds=2
    )


async def test_postgres_frozen_under_writes_answers_503_within_the_timeout_and_recovers(
    api: ApiServer, tally: Tally, postgres_server: PostgresCluster
) -> None:
    # Nothing answers, connections stay open: each request waits DATABASE_TIMEOUT_SECONDS (plus the
    # client's half second of grace) for a statement or a connection, never more than twice that.
    bound = 2 * (DATABASE_TIMEOUT_SECONDS + 0.5) + 1.5
    await outage_under_writes(
        api, tally, postgres_server, stop=postgres_server.freeze, restart=postgres_server.thaw, bound_seconds=bound
    )


async def test_signed_in_users_read_cached_products_while_postgres_is_down(
    api: ApiServer, tally: Tally, postgres_server: PostgresCluster
) -> None:
    """A product read is open to anyone: a token that cannot be checked now (the accounts are in the
    database) is answered as an anonymous read, from the cache, rather than refused with a 503."""
    async with client_of(api, tally) as client:
        credentials = {"username": ADMIN["username"], "password": ADMIN["password"]}
        token = (await client.post("/api/v1/auth/login/json", json=credentials)).json()["access_token"]
        signed_in = {"Authorization": f"Bearer {token}"}
        body = {"name": "Kept", "price": 3, "sku": "KEPT-1"}
        created = await client.post("/api/v1/products", json=body, headers=signed_in)
        assert created.status_code == 201
        detail = f"/api/v1/products/{created.json()['id']}"
        assert (await client.get(detail, headers=signed_in)).status_code == 200  # cached from now on
        await asyncio.to_thread(postgres_server.crash)
        try:
            for headers in ({}, signed_in):
                response = await client.get(detail, headers=headers)
                assert response.status_code == 200, response.text
                assert response.headers["x-cache"] == "HIT"
            if TEST_REDIS_URL:  # with Redis every signed-in request reads its account from the database
                assert_unavailable(await client.get("/api/v1/auth/me", headers=signed_in))
        finally:
            await asyncio.to_thread(postgres_server.start)
