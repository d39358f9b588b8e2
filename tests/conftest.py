"""Fixtures: an app built by the factory per test, on a fresh database, and signed-in clients."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from impl.app import create_app
from impl.db.migrate import upgrade
from impl.settings import Settings

ADMIN = {"email": "admin@example.com", "username": "admin", "password": "AdminPass123"}
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
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file brought to the newest migration; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    shutil.copyfile(migrated_sqlite, tmp_path / "test.db")
    return make_settings(tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


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
    client: httpx.AsyncClient, username: str, password: str = "UserPass123", email: str | None = None
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
        user = await register(c, "alice", "AlicePass123")
        tokens = await login(c, "alice", "AlicePass123")
        c.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        c.user = user  # type: ignore[attr-defined]
        yield c
