"""CORS: the origins in CORS_ORIGINS, and only they, may call the declared operations from a browser."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from impl.app import create_app
from impl.settings import Settings
from tests.conftest import client_for

pytestmark = pytest.mark.anyio

ALLOWED = "https://shop.example.com"


@pytest.fixture
async def cors_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: FastAPI = create_app(
        settings.model_copy(update={"cors_origins": f"{ALLOWED}/, http://localhost:3000"})
    )
    async with application.router.lifespan_context(application), client_for(application) as client:
        yield client


def preflight(origin: str, method: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_a_preflight_from_an_allowed_origin_is_answered(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.options("/api/v1/products", headers=preflight(ALLOWED, "POST"))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, POST"
    assert {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")} >= {
        "authorization",
        "content-type",
    }
    assert response.headers["vary"] == "Origin"


async def test_a_preflight_from_another_origin_or_for_an_undeclared_method_gets_no_grant(
    cors_client: httpx.AsyncClient,
) -> None:
    for headers in (preflight("https://evil.example", "POST"), preflight(ALLOWED, "PATCH")):
        response = await cors_client.options("/api/v1/products", headers=headers)
        assert response.status_code == 405
        assert "access-control-allow-methods" not in response.headers


async def test_answers_to_an_allowed_origin_expose_the_headers_a_client_reads(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.get("/api/v1/products", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"ETag", "Link", "Retry-After", "RateLimit-Reset"} <= exposed
    problem = await cors_client.get("/api/v1/products/not-a-uuid", headers={"Origin": ALLOWED})
    assert problem.status_code == 422
    assert problem.headers["access-control-allow-origin"] == ALLOWED
    other = await cors_client.get("/api/v1/products", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_without_cors_origins_there_is_no_cors(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/products", headers=preflight(ALLOWED, "GET"))
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers
