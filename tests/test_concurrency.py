"""Concurrent writers: duplicates, token rotation and the last admin hold under races."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest

from tests.conftest import login, register

pytestmark = pytest.mark.anyio


async def _gather(count: int, call: Callable[[], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    responses: list[httpx.Response] = []

    async def one() -> None:
        responses.append(await call())

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(one)
    return responses


async def test_concurrent_creates_with_one_sku_make_one_product(admin_client: httpx.AsyncClient) -> None:
    async def create() -> httpx.Response:
        return await admin_client.post("/api/v1/products", json={"name": "Race", "price": 1.5, "sku": "RACE-1"})

    responses = await _gather(10, create)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    listing = await admin_client.get("/api/v1/products")
    assert listing.json()["total"] == 1


async def test_concurrent_registrations_of_one_username_make_one_account(client: httpx.AsyncClient) -> None:
    async def sign_up() -> httpx.Response:
        body = {"email": "racer@example.com", "username": "racer", "password": "Granite-Willow-58"}
        return await client.post("/api/v1/auth/register", json=body)

    responses = await _gather(6, sign_up)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5


async def test_a_refresh_token_used_concurrently_gives_every_caller_a_pair_within_the_grace_window(
    client: httpx.AsyncClient,
) -> None:
    # Tabs refreshing at once stay signed in (5 s by default); without a window exactly one wins:
    # tests/test_refresh_reuse.py.
    await register(client, "rotor", "Velvet-Harbor-94")
    tokens = await login(client, "rotor", "Velvet-Harbor-94")

    async def refresh() -> httpx.Response:
        return await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    responses = await _gather(5, refresh)
    assert [r.status_code for r in responses] == [200] * 5
    assert len({r.json()["refresh_token"] for r in responses}) == 5
