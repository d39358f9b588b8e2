"""Requests are bounded before they are read: body, target, header fields, time and requests in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from impl.app import create_app
from impl.settings import Settings
from tests.conftest import client_for, register

pytestmark = pytest.mark.anyio

REGISTER = "/api/v1/auth/register"
FIFTY_MB = 50 * 1024 * 1024


class CountingBody:
    """A request body of `total` bytes that counts how much of it the server asked for."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            yield b" " * self.chunk


def assert_problem(response: httpx.Response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:catalog-api:problem:{kind}"


async def test_a_body_declared_too_large_is_refused_before_any_of_it_is_read(client: httpx.AsyncClient) -> None:
    body = CountingBody(FIFTY_MB)
    response = await client.post(
        REGISTER,
        content=body,
        headers={"Content-Type": "application/json", "Content-Length": str(FIFTY_MB)},
    )
    assert_problem(response, 413, "payload-too-large")
    assert body.sent == 0


async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(client: httpx.AsyncClient) -> None:
    body = CountingBody(FIFTY_MB)
    response = await client.post(REGISTER, content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "payload-too-large")
    assert body.sent <= 2 * 64 * 1024  # the limit and one chunk, not 50 MB


async def test_the_largest_valid_product_fits_under_the_default_limit(admin_client: httpx.AsyncClient) -> None:
    # Every text field at its maximum length, each character sent as a JSON escape of a surrogate pair.
    emoji = "\\ud83d\\ude00"
    raw = (
        f'{{"name": "{emoji * 200}", "description": "{emoji * 2000}", "category": "{emoji * 100}",'
        f' "sku": "{"S" * 64}", "price": 99999999.99, "stock": 2147483647}}'
    ).encode()
    assert len(raw) < 64 * 1024
    response = await admin_client.post("/api/v1/products", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


async def test_a_long_target_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/products", params={"name": "n" * 9000})
    assert_problem(response, 414, "uri-too-long")


async def test_large_header_fields_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/products", headers={"X-Padding": "p" * 17_000})
    assert_problem(response, 431, "headers-too-large")


async def test_every_answer_says_nosniff(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("/api/v1/products"),
        await client.get("/api/v1/products/not-a-uuid"),
        await client.get("/no/such/path"),
        await client.get("/openapi.json"),
        await client.get("/docs"),
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.url


async def test_documentation_pages_carry_a_content_security_policy(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        policy = (await client.get(path)).headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "'unsafe-inline'" not in directives["script-src"]


@pytest.fixture
async def strict_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with tight bounds: half a second for a body, one request in flight."""
    application = create_app(settings.model_copy(update={"body_timeout_seconds": 0.5, "max_in_flight": 1}))
    async with application.router.lifespan_context(application):
        yield application


class StalledBody:
    """A body that sends its first bytes, then nothing until `release` is set."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"email": "slow@example.com", '
        self.started.set()
        await self.release.wait()
        yield b'"username": "slow", "password": "Trickle-Body-2026"}'


async def test_a_body_that_arrives_too_slowly_is_answered_408_and_changes_nothing(strict_app: FastAPI) -> None:
    async with client_for(strict_app) as client:
        body = StalledBody()
        response = await client.post(REGISTER, content=body, headers={"Content-Type": "application/json"})
        assert_problem(response, 408, "request-timeout")
        body.release.set()
        created = await register(client, "after-slow", "After-Slow-2026")
        assert created["username"] == "after-slow"
        duplicate = await client.post(
            REGISTER, json={"email": "slow@example.com", "username": "slow", "password": "Trickle-Body-2026"}
        )
        assert duplicate.status_code == 201  # the slow registration never happened


async def test_past_the_in_flight_limit_operations_answer_503_and_probes_still_answer(strict_app: FastAPI) -> None:
    async with client_for(strict_app) as client:
        body = StalledBody()
        stalled = asyncio.create_task(client.post(REGISTER, content=body, headers={"Content-Type": "application/json"}))
        await body.started.wait()
        shed = await client.get("/api/v1/products")
        assert_problem(shed, 503, "overloaded")
        assert shed.headers["retry-after"].isdigit()
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 200
        body.release.set()
        assert (await stalled).status_code in {201, 408}
        assert (await client.get("/api/v1/products")).status_code == 200


async def test_bounds_are_settings(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"max_body_bytes": 100, "max_url_bytes": 100}))
    async with application.router.lifespan_context(application), client_for(application) as client:
        long_name = await client.get("/api/v1/products", params={"name": "n" * 200})
        assert_problem(long_name, 414, "uri-too-long")
        body = {"email": "e" * 80 + "@example.com", "username": "bounded", "password": "Bounded-Body-2026"}
        assert_problem(await client.post(REGISTER, json=body), 413, "payload-too-large")
