"""Refresh reuse: two tabs at once stay signed in; a replay after the grace window ends every token.

Through the HTTP API, on whichever configuration the environment selects (see conftest).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import jwt
import pytest

from impl.app import create_app
from impl.settings import Settings
from tests.conftest import TEST_SECRET, client_for, login, register
from tests.helpers import assert_problem, bearer

REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/auth/me"
PASSWORD = "Harbor-Lantern-58"

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def client_with(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built with these settings changed (on the test's fresh database)."""
    app = create_app(settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app), client_for(app) as client:
        yield client


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


def pair_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


async def me_status(client: httpx.AsyncClient, access_token: str) -> int:
    return (await client.get(ME, headers=bearer(access_token))).status_code


def assert_unauthorized(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


# --- two refreshes of one token within the window are one -----------------------------------------


@pytest.mark.parametrize("tabs", [2, 4])
async def test_refreshes_of_one_token_at_once_all_get_working_pairs(client: httpx.AsyncClient, tabs: int) -> None:
    await register(client, "alice", PASSWORD)
    first = await login(client, "alice", PASSWORD)

    answers = await asyncio.gather(*(refresh(client, first["refresh_token"]) for _ in range(tabs)))

    pairs = [pair_of(answer) for answer in answers]
    assert len({pair["refresh_token"] for pair in pairs}) == tabs
    for pair in pairs:
        assert await me_status(client, pair["access_token"]) == 200
    # Every tab's new refresh token works once more, each on its own.
    for pair in pairs:
        assert await me_status(client, pair_of(await refresh(client, pair["refresh_token"]))["access_token"]) == 200


async def test_without_a_window_exactly_one_of_concurrent_refreshes_wins(settings: Settings) -> None:
    async with client_with(settings, refresh_reuse_grace_seconds=0) as client:
        await register(client, "alice", PASSWORD)
        first = await login(client, "alice", PASSWORD)
        answers = await asyncio.gather(*(refresh(client, first["refresh_token"]) for _ in range(5)))
        assert sorted(answer.status_code for answer in answers) == [200] + [401] * 4


async def test_a_second_refresh_within_the_window_works_and_a_replay_after_it_still_ends_everything(
    settings: Settings,
) -> None:
    async with client_with(settings, refresh_reuse_grace_seconds=0.5) as client:
        await register(client, "alice", PASSWORD)
        first = await login(client, "alice", PASSWORD)
        tab_one = pair_of(await refresh(client, first["refresh_token"]))
        tab_two = pair_of(await refresh(client, first["refresh_token"]))  # within 0.5 s: the same refresh
        assert await me_status(client, tab_one["access_token"]) == 200
        assert await me_status(client, tab_two["access_token"]) == 200

        await anyio.sleep(0.7)
        assert_unauthorized(await refresh(client, first["refresh_token"]))

        for tab in (tab_one, tab_two):
            assert await me_status(client, tab["access_token"]) == 401
            assert_unauthorized(await refresh(client, tab["refresh_token"]))


# --- a replay after the window ends every token of the user ---------------------------------------


@pytest.mark.parametrize("grace", [0.0, 0.3])
async def test_a_replay_after_the_window_is_401_and_ends_every_token_of_the_user(
    settings: Settings, grace: float
) -> None:
    async with client_with(settings, refresh_reuse_grace_seconds=grace) as client:
        await register(client, "alice", PASSWORD)
        stolen = await login(client, "alice", PASSWORD)
        other_device = await login(client, "alice", PASSWORD)
        newest = pair_of(await refresh(client, stolen["refresh_token"]))
        # Used, so that the embedded configuration holds the account in its cache.
        assert await me_status(client, newest["access_token"]) == 200
        assert await me_status(client, other_device["access_token"]) == 200
        await anyio.sleep(grace + 0.2)

        assert_unauthorized(await refresh(client, stolen["refresh_token"]))

        assert await me_status(client, newest["access_token"]) == 401
        assert await me_status(client, other_device["access_token"]) == 401
        assert_unauthorized(await refresh(client, newest["refresh_token"]))
        assert_unauthorized(await refresh(client, other_device["refresh_token"]))
        # The user signs in again; its new tokens are not touched by further replays of the stolen one.
        fresh = await login(client, "alice", PASSWORD)
        assert_unauthorized(await refresh(client, stolen["refresh_token"]))
        assert await me_status(client, fresh["access_token"]) == 200
        assert await me_status(client, pair_of(await refresh(client, fresh["refresh_token"]))["access_token"]) == 200


async def test_with_the_default_window_a_replay_after_it_ends_the_newest_access_token(
    client: httpx.AsyncClient,
) -> None:
    # The default window is 5 s; a grandparent token is outside it at once: its use was not the last one.
    await register(client, "alice", PASSWORD)
    grandparent = await login(client, "alice", PASSWORD)
    parent = pair_of(await refresh(client, grandparent["refresh_token"]))
    newest = pair_of(await refresh(client, parent["refresh_token"]))
    assert await me_status(client, newest["access_token"]) == 200

    await anyio.sleep(5.2)
    assert_unauthorized(await refresh(client, grandparent["refresh_token"]))

    assert await me_status(client, newest["access_token"]) == 401
    assert_unauthorized(await refresh(client, newest["refresh_token"]))


async def test_a_token_of_a_revoked_family_is_refused_even_within_its_window(settings: Settings) -> None:
    async with client_with(settings, refresh_reuse_grace_seconds=1.0) as client:
        await register(client, "alice", PASSWORD)
        first = await login(client, "alice", PASSWORD)
        second = pair_of(await refresh(client, first["refresh_token"]))
        await anyio.sleep(1.2)  # the first token's window closes
        third = pair_of(await refresh(client, second["refresh_token"]))  # the second's opens

        assert_unauthorized(await refresh(client, first["refresh_token"]))  # a replay: the family ends

        assert_unauthorized(await refresh(client, second["refresh_token"]))  # within its window, yet refused
        assert_unauthorized(await refresh(client, third["refresh_token"]))
        assert await me_status(client, third["access_token"]) == 401


# --- tokens signed with the real key but odd claims ----------------------------------------------


def forge(**claims: Any) -> str:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {"type": "access", "jti": "forged-jti", "ver": 0, "iat": now}
    payload["exp"] = now + timedelta(minutes=5)
    payload.update(claims)
    return jwt.encode(payload, TEST_SECRET, algorithm="HS256")


async def test_the_forged_control_token_is_accepted(client: httpx.AsyncClient) -> None:
    # The control for the tests below: the odd claim is the only reason for their 401.
    user = await register(client, "alice", PASSWORD)
    assert await me_status(client, forge(sub=user["id"])) == 200


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"sub": 12345}, id="integer-sub"),
        pytest.param({"sub": ["x"]}, id="list-sub"),
        pytest.param({"ver": "0"}, id="string-ver"),
        pytest.param({"ver": 0.0}, id="float-ver"),
        pytest.param({"ver": None}, id="null-ver"),
        pytest.param({"ver": False}, id="boolean-ver"),
        pytest.param({"exp": 10**20}, id="huge-exp"),
        pytest.param({"exp": "9999999999"}, id="string-exp"),
        pytest.param({"exp": 9999999999.5}, id="float-exp"),
    ],
)
async def test_an_access_token_with_an_odd_claim_is_401(client: httpx.AsyncClient, claims: dict[str, Any]) -> None:
    user = await register(client, "alice", PASSWORD)
    assert_unauthorized(await client.get(ME, headers=bearer(forge(**{"sub": user["id"], **claims}))))


async def test_a_boolean_version_is_refused_even_where_it_would_equal_the_users(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    user = await register(client, "alice", PASSWORD)
    # A role change moves the user's token version from 0 to 1, and True == 1 in Python.
    response = await admin_client.put(f"/api/v1/users/{user['id']}/role", json={"role": "admin"})
    assert response.status_code == 200, response.text
    assert await me_status(client, forge(sub=user["id"], ver=1)) == 200  # the control
    assert_unauthorized(await client.get(ME, headers=bearer(forge(sub=user["id"], ver=True))))


def resigned(token: str, **changes: Any) -> str:
    """The server's own token with some claims changed, signed again with the real key."""
    claims: dict[str, Any] = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    return jwt.encode({**claims, **changes}, TEST_SECRET, algorithm="HS256")


async def test_a_resigned_refresh_token_with_its_own_claims_is_accepted(client: httpx.AsyncClient) -> None:
    # The control for the test below: its stored jti is real, so the odd claim is the only reason for the 401.
    await register(client, "alice", PASSWORD)
    pair = await login(client, "alice", PASSWORD)
    assert (
        await me_status(client, pair_of(await refresh(client, resigned(pair["refresh_token"])))["access_token"]) == 200
    )


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"fam": 7}, id="integer-fam"),
        pytest.param({"fam": None}, id="null-fam"),
        pytest.param({"ver": "0"}, id="string-ver"),
        pytest.param({"ver": False}, id="boolean-ver"),
        pytest.param({"sub": 12345}, id="integer-sub"),
        pytest.param({"exp": 10**20}, id="huge-exp"),
        pytest.param({"exp": "9999999999"}, id="string-exp"),
        pytest.param({"exp": 9999999999.5}, id="float-exp"),
    ],
)
async def test_a_refresh_token_with_an_odd_claim_is_401(client: httpx.AsyncClient, claims: dict[str, Any]) -> None:
    await register(client, "alice", PASSWORD)
    pair = await login(client, "alice", PASSWORD)
    assert_unauthorized(await refresh(client, resigned(pair["refresh_token"], **claims)))
    # Refused before any use: the genuine token still works.
    assert pair_of(await refresh(client, pair["refresh_token"]))
