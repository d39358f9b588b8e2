"""Abuse limits: failed logins per account and address, per account, and a ceiling per address.

Also what guards the password hasher: attempts counted before their password is checked, and
hashing slots shared fairly between accounts and addresses.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from passlib.context import CryptContext

from impl.app import create_app
from impl.settings import Settings
from tests.conftest import login, register
from tests.helpers import samples, value
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


# --- current_password, concurrent attempts, fair hashing ---------------------------------------

USERS = "/api/v1/users"


class VerifySpy:
    """Records the password verifications the server runs (every one goes through CryptContext.verify).

    While `gate` is closed, verifications wait on their hashing threads, holding their slots.
    """

    def __init__(self) -> None:
        self.checked: list[str] = []  # the passwords, in the order their verifications started
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # set by each verification as it starts

    @property
    def calls(self) -> int:
        return len(self.checked)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = CryptContext.verify
        spy = self

        def verify(context: CryptContext, secret: str, hashed: str, **kwargs: Any) -> bool:
            spy.checked.append(secret)  # list.append is atomic: the hashing threads may race here
            spy.entered.set()
            spy.gate.wait(timeout=GATE_SECONDS)
            result: bool = real(context, secret, hashed, **kwargs)
            return result

        monkeypatch.setattr(CryptContext, "verify", verify)


GATE_SECONDS = 30  # the longest a closed gate holds a verification, should a test fail with it closed


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> VerifySpy:
    spy = VerifySpy()
    spy.install(monkeypatch)
    return spy


async def signed_in(client: httpx.AsyncClient, username: str, password: str) -> str:
    """Registers `username` and signs `client` in as it; the account's id."""
    user = await register(client, username, password)
    tokens = await login(client, username, password)
    client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    user_id: str = user["id"]
    return user_id


async def change_email(client: httpx.AsyncClient, user_id: str, current_password: str) -> httpx.Response:
    body = {"email": f"moved-{uuid.uuid4().hex[:8]}@example.com", "current_password": current_password}
    return await client.put(f"{USERS}/{user_id}", json=body)


async def test_wrong_current_passwords_are_failed_logins_of_that_account_and_address(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(running(settings))
        attacker = await stack.enter_async_context(from_address(app, "203.0.113.7"))
        owner = await stack.enter_async_context(from_address(app, "198.51.100.20"))
        user_id = await signed_in(attacker, "victim", PASSWORD)  # a stolen session: the password is unknown
        statuses = [(await change_email(attacker, user_id, f"wrong-guess-{guess}")).status_code for guess in range(40)]
        assert statuses == [403] * 10 + [429] * 30
        refused = await change_email(attacker, user_id, PASSWORD)
        assert_limited(refused, limit=10)
        assert (await attacker.get(f"{USERS}/{user_id}")).json()["email"] == "victim@example.com"
        # The same limit as the logins': this address cannot log in to the account either.
        assert_limited(await attempt(attacker, PASSWORD), limit=10)
        # Counted for that address only: the owner, elsewhere, still logs in and changes its email.
        tokens = await login(owner, "victim", PASSWORD)
        owner.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        assert (await change_email(owner, user_id, PASSWORD)).status_code == 200


async def test_after_the_window_the_right_current_password_is_accepted_again(settings: Settings) -> None:
    limits = {"login_failures_per_account_address": 2, "login_failure_window_seconds": 3}
    async with running(settings, **limits) as app, from_address(app, "203.0.113.7") as client:
        user_id = await signed_in(client, "victim", PASSWORD)
        for guess in range(2):
            assert (await change_email(client, user_id, f"wrong-guess-{guess}")).status_code == 403
        refused = await change_email(client, user_id, PASSWORD)
        assert_limited(refused, limit=2)
        await asyncio.sleep(int(refused.headers["retry-after"]) + 1)
        assert (await change_email(client, user_id, PASSWORD)).status_code == 200


@pytest.mark.parametrize("where", ["form login", "JSON login", "current_password"])
async def test_twenty_concurrent_wrong_passwords_check_at_most_the_limit(
    settings: Settings, verifications: VerifySpy, where: str
) -> None:
    limit = settings.login_failures_per_account_address
    async with running(settings) as app, from_address(app, "203.0.113.7") as client:
        user_id = await signed_in(client, "victim", PASSWORD)
        checked_before = verifications.calls

        async def guess(number: int) -> httpx.Response:
            wrong = f"wrong-guess-{number}"
            if where == "form login":
                return await attempt(client, wrong)
            if where == "JSON login":
                return await client.post(f"{LOGIN}/json", json={"username": "victim", "password": wrong})
            return await change_email(client, user_id, wrong)

        answers = await asyncio.gather(*(guess(number) for number in range(20)))
        assert verifications.calls - checked_before == limit
        failed = 403 if where == "current_password" else 401
        assert sorted(a.status_code for a in answers) == [failed] * limit + [429] * (20 - limit)
        for refused in (a for a in answers if a.status_code == 429):
            assert_limited(refused, limit=limit)
        assert_limited(await attempt(client, PASSWORD), limit=limit)
        assert verifications.calls - checked_before == limit


async def test_a_login_that_got_no_hashing_slot_is_not_counted_as_a_failure(
    settings: Settings, verifications: VerifySpy
) -> None:
    overrides = {
        "password_hash_concurrency": 1,
        "password_hash_max_wait_seconds": 0.05,
        "login_failures_per_account_address": 3,
    }
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(running(settings, **overrides))
        owner = await stack.enter_async_context(from_address(app, "198.51.100.20"))
        busy = await stack.enter_async_context(from_address(app, "203.0.113.7"))
        await register(owner, "victim", PASSWORD)
        verifications.gate.clear()
        stack.callback(verifications.gate.set)
        verifications.entered.clear()
        holding = asyncio.ensure_future(attempt(owner, "wrong-guess"))
        assert await asyncio.to_thread(verifications.entered.wait, GATE_SECONDS)  # it holds the only slot
        for _ in range(5):
            answer = await attempt(busy, "wrong-guess")
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "1"
        verifications.gate.set()
        assert (await holding).status_code == 401
        # None of the five was checked, so none was counted: this address still has its three tries.
        for guess in range(3):
            assert (await attempt(busy, f"wrong-guess-{guess}")).status_code == 401
        assert_limited(await attempt(busy, PASSWORD), limit=3)


async def test_one_account_hammering_current_password_does_not_starve_another_users_login(
    settings: Settings, verifications: VerifySpy
) -> None:
    slots, in_flight = 2, settings.login_failures_per_account_address
    hasher = {"password_hash_concurrency": slots, "password_hash_max_wait_seconds": 5.0}
    own_password = "Mallory-Owns-This-2026"
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(running(settings, **hasher))
        other = await stack.enter_async_context(from_address(app, "198.51.100.20"))
        await register(other, "victim", PASSWORD)
        # Checks in flight count against the limit until they pass: one address keeps at most
        # `in_flight` going, so the flood comes from four addresses, signed in as one account.
        flooders = [await stack.enter_async_context(from_address(app, f"203.0.113.{n}")) for n in range(1, 5)]
        user_id = await signed_in(flooders[0], "mallory", own_password)
        for flooder in flooders[1:]:
            tokens = await login(flooder, "mallory", own_password)
            flooder.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        started = verifications.calls
        verifications.gate.clear()
        stack.callback(verifications.gate.set)
        # The right password every time: no failure is counted, so only fair hashing can stop the flood.
        flood = asyncio.gather(*(change_email(f, user_id, own_password) for f in flooders for _ in range(in_flight)))
        await queue_reaches(other, 4 * in_flight - slots, flood)
        login_task = asyncio.ensure_future(attempt(other, PASSWORD))
        await queue_reaches(other, 4 * in_flight - slots + 1, flood)  # the login waits behind the flood's checks
        verifications.gate.set()
        answer = await login_task
        flooded = await flood
        assert answer.status_code == 200, answer.text
        # Its check was the first to start once a slot came free, not the last.
        checks = verifications.checked[started:]
        assert checks.index(PASSWORD) == slots
        assert checks.count(own_password) == 4 * in_flight
        assert [a.status_code for a in flooded] == [200] * (4 * in_flight)


async def queue_reaches(client: httpx.AsyncClient, waiting: int, flood: asyncio.Future[Any]) -> None:
    """Until `waiting` callers wait for a hashing slot (the server's own gauge, from /metrics)."""
    while not flood.done():
        if value(samples((await client.get("/metrics")).text), "catalog_password_hash_waiting") >= waiting:
            return
        await asyncio.sleep(0.01)  # an in-process /metrics call never waits: give the flood its turn
    raise AssertionError(f"the flood ended before {waiting} callers waited for a hashing slot")
