"""Abuse limits: failed logins per account and address, per account, and a ceiling per address."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from impl.app import create_app
from impl.settings import Settings
from tests.conftest import register
from tests.spec_responses import check_async_response

pytestmark = pytest.mark.anyio

LOGIN = "/api/v1/auth/login"
PASSWORD = "Victim-Pass-2026"


def from_address(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client of the app that the server sees coming from `address` (answers checked against the spec)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="http://testserver",
        event_hooks={"response": [check_async_response]},
    )


@asynccontextmanager
async def running(settings: Settings, **overrides: Any) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update=overrides))
    async with application.router.lifespan_context(application):
        yield application


async def attempt(client: httpx.AsyncClient, password: str, username: str = "victim") -> httpx.Response:
    return await client.post(LOGIN, data={"username": username, "password": password})


def assert_limited(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:catalog-api:problem:too-many-requests"
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 900
    assert response.headers["ratelimit-reset"] == str(retry_after)


async def test_with_the_defaults_a_brute_force_of_one_account_stops_after_ten_failures(settings: Settings) -> None:
    async with running(settings) as app, from_address(app, "203.0.113.7") as attacker:
        await register(attacker, "victim", PASSWORD)
        for guess in range(10):
            assert (await attempt(attacker, f"wrong-guess-{guess}")).status_code == 401
        assert_limited(await attempt(attacker, "wrong-guess-10"), limit=10)
        # Refused before the password is checked: the right one is no use to this address now.
        assert_limited(await attempt(attacker, PASSWORD), limit=10)
        # By email as well: the limit belongs to the account, not to the name typed.
        assert_limited(await attempt(attacker, PASSWORD, username="victim@example.com"), limit=10)


async def test_other_peoples_failures_never_lock_the_owner_out(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(running(settings))
        attacker = await stack.enter_async_context(from_address(app, "203.0.113.7"))
        owner = await stack.enter_async_context(from_address(app, "198.51.100.20"))
        await register(owner, "victim", PASSWORD)
        for guess in range(12):
            await attempt(attacker, f"wrong-guess-{guess}")
        assert (await attempt(attacker, PASSWORD)).status_code == 429
        assert (await attempt(owner, PASSWORD)).status_code == 200


async def test_failures_spread_over_addresses_stop_at_the_account_limit_except_where_it_signed_in(
    settings: Settings,
) -> None:
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(
            running(settings, login_failures_per_account_address=3, login_failures_per_account=6)
        )
        owner = await stack.enter_async_context(from_address(app, "198.51.100.20"))
        await register(owner, "victim", PASSWORD)
        assert (await attempt(owner, PASSWORD)).status_code == 200  # the owner's address is now known
        for bot in range(6):
            async with from_address(app, f"192.0.2.{bot + 1}") as attacker:
                assert (await attempt(attacker, "wrong-guess")).status_code == 401
        async with from_address(app, "192.0.2.99") as newcomer:
            assert_limited(await attempt(newcomer, PASSWORD), limit=6)
        assert (await attempt(owner, PASSWORD)).status_code == 200


async def test_a_success_clears_the_failures_of_that_address(settings: Settings) -> None:
    async with running(settings, login_failures_per_account_address=3) as app, from_address(app, "198.51.100.20") as c:
        await register(c, "victim", PASSWORD)
        for _ in range(2):
            for guess in range(2):
                assert (await attempt(c, f"typo-{guess}")).status_code == 401
            assert (await attempt(c, PASSWORD)).status_code == 200


async def test_unknown_names_are_limited_like_real_ones(settings: Settings) -> None:
    async with running(settings, login_failures_per_account_address=3) as app, from_address(app, "203.0.113.7") as c:
        for guess in range(3):
            assert (await attempt(c, f"guess-{guess}", username="nobody")).status_code == 401
        assert_limited(await attempt(c, "guess-3", username="nobody"), limit=3)


async def test_a_well_behaved_client_logs_in_sixty_times_a_minute_with_the_defaults(settings: Settings) -> None:
    async with running(settings) as app, from_address(app, "198.51.100.20") as client:
        await register(client, "victim", PASSWORD)
        statuses = [(await attempt(client, PASSWORD)).status_code for _ in range(60)]
        assert statuses == [200] * 60


async def test_the_per_address_ceiling_covers_login_register_and_refresh(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(running(settings, rate_limit_per_address_per_minute=4))
        busy = await stack.enter_async_context(from_address(app, "203.0.113.7"))
        other = await stack.enter_async_context(from_address(app, "198.51.100.20"))
        await register(busy, "victim", PASSWORD)  # 1
        tokens = (await attempt(busy, PASSWORD)).json()  # 2
        refreshed = await busy.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})  # 3
        assert refreshed.status_code == 200
        assert (await attempt(busy, PASSWORD)).status_code == 200  # 4
        limited = await busy.post(
            "/api/v1/auth/register",
            json={"email": "late@example.com", "username": "late", "password": "Late-Comer-2026"},
        )
        assert_limited(limited, limit=4)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert (await attempt(other, PASSWORD)).status_code == 200
        # Other operations are not limited, and the refused registration created nothing.
        assert (await busy.get("/api/v1/products")).status_code == 200
        assert (await attempt(other, "Late-Comer-2026", username="late")).status_code == 401


async def test_failed_logins_are_counted_once_across_processes_sharing_redis(
    settings: Settings, redis_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    _, url = redis_server
    shared = {"redis_url": url, "cache_prefix": f"limits-{uuid.uuid4().hex}:", "login_failures_per_account_address": 4}
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(running(settings, **shared))
        second = await stack.enter_async_context(running(settings, **shared))
        via_first = await stack.enter_async_context(from_address(first, "203.0.113.7"))
        via_second = await stack.enter_async_context(from_address(second, "203.0.113.7"))
        await register(via_first, "victim", PASSWORD)
        for guess in range(2):
            assert (await attempt(via_first, f"wrong-{guess}")).status_code == 401
            assert (await attempt(via_second, f"wrong-again-{guess}")).status_code == 401
        assert_limited(await attempt(via_first, PASSWORD), limit=4)
        assert_limited(await attempt(via_second, PASSWORD), limit=4)


async def test_with_redis_gone_logins_still_answer_and_are_still_limited(
    settings: Settings, redis_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    process, url = redis_server
    overrides = {"redis_url": url, "login_failures_per_account_address": 3}
    async with running(settings, **overrides) as app, from_address(app, "203.0.113.7") as client:
        await register(client, "victim", PASSWORD)
        assert (await attempt(client, PASSWORD)).status_code == 200
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert (await attempt(client, PASSWORD)).status_code == 200
        for guess in range(3):
            assert (await attempt(client, f"wrong-{guess}")).status_code == 401
        assert_limited(await attempt(client, PASSWORD), limit=3)
