"""The refresh endpoint takes the standard OAuth2 refresh grant (RFC 6749 section 6) as well as JSON."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN, login

pytestmark = pytest.mark.anyio

REFRESH = "/api/v1/auth/refresh"


async def test_a_form_encoded_refresh_grant_rotates_the_tokens(client: httpx.AsyncClient) -> None:
    tokens = await login(client, ADMIN["username"], ADMIN["password"])
    response = await client.post(
        REFRESH, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "admin"}
    )
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["refresh_token"] != tokens["refresh_token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.json()["username"] == ADMIN["username"]
    # The JSON form of the same request goes on working with the new token.
    again = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


@pytest.mark.parametrize(
    "form",
    [
        {"refresh_token": "x"},  # no grant_type
        {"grant_type": "password", "refresh_token": "x"},
        {"grant_type": "refresh_token"},
        {"grant_type": "refresh_token", "refresh_token": "x", "unknown": "y"},
    ],
)
async def test_a_malformed_grant_is_422_and_never_echoes_it(client: httpx.AsyncClient, form: dict[str, str]) -> None:
    response = await client.post(REFRESH, data=form)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert '"x"' not in response.text


async def test_another_media_type_is_415_naming_both(client: httpx.AsyncClient) -> None:
    response = await client.post(REFRESH, content=b"refresh_token=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["detail"] == ("This operation takes application/json or application/x-www-form-urlencoded.")
