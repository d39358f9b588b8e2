"""Fixtures: an app built by the factory per test, on a fresh database, and signed-in clients.

The embedded default (SQLite, in-process cache) unless these are set:
    TEST_DATABASE_URL  a PostgreSQL server (postgresql+asyncpg://user@host:port/db); the suite
                       creates its own database there, migrates it, and drops it at the end
    TEST_REDIS_URL     a Redis server; each test uses its own key prefix
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL, make_url

from impl.app import create_app
from impl.db.migrate import upgrade
from impl.settings import Settings
from tests.servers import PostgresCluster, postgres_bin_dir
from tests.spec_responses import check_async_response

ADMIN = {"email": "admin@example.com", "username": "admin", "password": "Quartz-Meadow-61"}
TEST_SECRET = "test-only-secret-" + "x" * 40


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": tmp_path,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        "secret_key": TEST_SECRET,
        "bcrypt_rounds": 4,
        "admin_email": ADMIN["email"],
        "admin_username": ADMIN["username"],
        "admin_password": ADMIN["password"],
        "smart_search_preload": False,  # the embedding model loads on first use, once per test session
    }
    values.update(overrides)
    return Settings(**values)


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_sql(server: URL, *statements: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the newest migration: a PostgreSQL database of its own, or a SQLite template."""
    if TEST_DATABASE_URL:
        server = make_url(TEST_DATABASE_URL)
        name = f"catalog_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin_sql(server, f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            asyncio.run(_admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        yield f"sqlite+aiosqlite:///{path}"


def fresh_database(database_url: str, tmp_path: Path) -> str:
    """Empty tables for this test: truncated on PostgreSQL, a copy of the template on SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        asyncio.run(_admin_sql(url, "TRUNCATE refresh_tokens, products, users, popular_lists CASCADE"))
        return database_url
    assert url.database is not None
    shutil.copyfile(url.database, tmp_path / "test.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url=fresh_database(database_url, tmp_path),
        redis_url=TEST_REDIS_URL,
        cache_prefix=f"test:{uuid.uuid4().hex}:",
    )


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> str:
    """This test's empty database at the newest migration, for an API process it starts itself."""
    return fresh_database(database_url, tmp_path)  # a fixture: outside the test's event loop


@pytest.fixture
def postgres_database(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty PostgreSQL database at the newest migration, for several API processes (the product change
    feed crosses processes only through PostgreSQL): TEST_DATABASE_URL's when set, else a cluster of the test's own."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return fresh_database(database_url, tmp_path)
    cluster: PostgresCluster = request.getfixturevalue("postgres_server")
    upgrade(cluster.url)
    return cluster.url


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def client_for(app: FastAPI) -> httpx.AsyncClient:
    """A client of the app whose every answer is checked against openapi.yaml."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        event_hooks={"response": [check_async_response]},
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def register(
    client: httpx.AsyncClient, username: str, password: str = "Quill-Sparrow-64", email: str | None = None
) -> dict[str, Any]:
    body = {"email": email or f"{username}@example.com", "username": username, "password": password}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


@pytest.fixture
async def admin_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        tokens = await login(c, ADMIN["username"], ADMIN["password"])
        c.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        yield c


@pytest.fixture
async def user_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        user = await register(c, "alice", "Orchid-Tundra-27")
        tokens = await login(c, "alice", "Orchid-Tundra-27")
        c.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        c.user = user  # type: ignore[attr-defined]
        yield c


# Servers of the test's own, never the machine's shared ones, for tests that stop or share them.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI_REQUIRE_SERVERS") == "1":  # CI has it: a missing binary is a failure there
            pytest.fail("redis-server is not installed, and CI_REQUIRE_SERVERS=1")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        process.wait()


@pytest.fixture
def postgres_server() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this test's own (started; the test may crash, freeze and restart it)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI_REQUIRE_SERVERS") == "1":  # CI has them: missing binaries are a failure there
            pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl) are not installed, and CI_REQUIRE_SERVERS=1")
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    cluster = PostgresCluster(bin_dir, free_port())
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
