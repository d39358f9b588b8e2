from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_liveness_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_admin_can_read_own_profile(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["role"] == "admin"


async def test_user_fixture_is_a_plain_user(user_client: httpx.AsyncClient) -> None:
    response = await user_client.get("/api/v1/auth/me")
    assert response.json()["username"] == "alice"
    assert response.json()["role"] == "user"
