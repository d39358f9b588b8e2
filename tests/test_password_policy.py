"""Passwords per NIST SP 800-63B: common, guessable and whitespace-only ones are refused (422), never echoed.

Through the HTTP API (registration, password changes) and the start-up settings (ADMIN_PASSWORD).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from impl.settings import InvalidSettings, load_settings
from tests.conftest import login, register
from tests.helpers import assert_problem, bearer

REGISTER = "/api/v1/auth/register"
USERS = "/api/v1/users"
ROOT = Path(__file__).resolve().parent.parent
STRONG = "Tamarind-Glacier-83"
# Strong for anyone but an account named after it.
OWN_NAME = "zanzibarfox2024"

pytestmark = pytest.mark.anyio


def assert_password_refused(response: httpx.Response, password: str) -> None:
    """The runtime's 422 shape, the password named as the one offending field, its value nowhere."""
    body = assert_problem(response, 422)
    assert body["type"] == "urn:catalog-api:problem:validation-error"
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["body", "password"], "password-policy")]
    assert body["errors"][0]["msg"].startswith("The password ")
    if password.strip() and password != "password":  # the messages say "password" themselves
        assert password not in response.text
        assert password.lower() not in response.text.lower()


async def sign_up(client: httpx.AsyncClient, username: str, password: str, email: str | None = None) -> httpx.Response:
    body = {"email": email or f"{username}@example.com", "username": username, "password": password}
    return await client.post(REGISTER, json=body)


# --- registration ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("password", id="password"),
        pytest.param("12345678", id="digits"),
        pytest.param("qwertyuiop", id="keyboard-row"),
        pytest.param("iloveyou", id="common"),
        pytest.param("Password1", id="common-capitalised-with-digit"),
        pytest.param("P@ssw0rd!", id="l33t"),
        pytest.param("aaaaaaaaaaaa", id="repeat"),
        pytest.param(" " * 8, id="spaces"),
        pytest.param("\t \u3000\n \u2003  ", id="unicode-whitespace"),
        pytest.param("password" * 16, id="128-characters-repeated"),
    ],
)
async def test_register_refuses_a_common_or_whitespace_only_password_and_creates_nothing(
    client: httpx.AsyncClient, password: str
) -> None:
    assert_password_refused(await sign_up(client, "newcomer", password), password)
    # Nothing was created: the name and the email are still free.
    assert (await sign_up(client, "newcomer", STRONG)).status_code == 201


@pytest.mark.parametrize(
    ("username", "email"),
    [
        pytest.param("zanzibarfox", "someone@example.com", id="username"),
        pytest.param("someone", "zanzibarfox@example.com", id="email-local-part"),
    ],
)
async def test_a_password_built_on_the_accounts_own_name_is_refused(
    client: httpx.AsyncClient, username: str, email: str
) -> None:
    assert_password_refused(await sign_up(client, username, OWN_NAME, email=email), OWN_NAME)
    # The control: the same password is strong enough for an account it says nothing about.
    assert (await sign_up(client, "bystander", OWN_NAME)).status_code == 201


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("correct horse battery staple", id="passphrase"),
        pytest.param("kX9#vQ2m", id="8-random-characters"),
        pytest.param("Kéy-🔑-Ünïcode-ñ", id="unicode"),
    ],
)
async def test_a_strong_password_is_accepted_and_signs_in(client: httpx.AsyncClient, password: str) -> None:
    assert (await sign_up(client, "carol", password)).status_code == 201
    assert (await login(client, "carol", password))["access_token"]


async def test_a_duplicate_is_refused_before_the_password_is_judged(client: httpx.AsyncClient) -> None:
    await register(client, "taken", STRONG)
    assert_problem(await sign_up(client, "taken", "password", email="other@example.com"), 409)


async def test_the_slowest_128_character_passwords_are_judged_within_a_bound(client: httpx.AsyncClient) -> None:
    # Many distinct l33t symbols make zxcvbn try every substitution: analysed whole, 128 of
    # them take seconds. Only the first 16 characters are analysed (a fraction of a second).
    symbols = "4@8({[<369!|70$5+%2"
    password = (symbols * 7)[:128]
    started = time.monotonic()
    response = await sign_up(client, "symbols", password)
    assert time.monotonic() - started < 3
    assert response.status_code == 201, response.text


# --- password changes -----------------------------------------------------------------------------


async def test_changing_ones_own_password_to_a_common_one_is_422_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client, "alice", STRONG)
    tokens = await login(client, "alice", STRONG)
    response = await client.put(
        f"{USERS}/{user['id']}",
        json={"password": "12345678", "current_password": STRONG},
        headers=bearer(tokens["access_token"]),
    )
    assert_password_refused(response, "12345678")
    assert (await login(client, "alice", STRONG))["access_token"]  # the old password and tokens still work
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))).status_code == 200


async def test_a_wrong_current_password_is_403_before_the_new_one_is_judged(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", STRONG)
    tokens = await login(client, "alice", STRONG)
    response = await client.put(
        f"{USERS}/{user['id']}",
        json={"password": "12345678", "current_password": "Not-The-Password-1"},
        headers=bearer(tokens["access_token"]),
    )
    assert_problem(response, 403)


async def test_an_admin_setting_a_whitespace_password_gets_422(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    user = await register(client, "alice", STRONG)
    response = await admin_client.put(f"{USERS}/{user['id']}", json={"password": " " * 12})
    assert_password_refused(response, " " * 12)
    assert (await login(client, "alice", STRONG))["access_token"]


async def test_a_password_change_is_judged_against_the_username_it_comes_with(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    user = await register(client, "alice", STRONG)
    url = f"{USERS}/{user['id']}"
    assert_password_refused(
        await admin_client.put(url, json={"username": "zanzibarfox", "password": OWN_NAME}), OWN_NAME
    )
    answer: dict[str, Any] = (await admin_client.put(url, json={"password": OWN_NAME})).json()
    assert answer["username"] == "alice"  # for alice it is strong enough
    assert (await login(client, "alice", OWN_NAME))["access_token"]


# --- the bootstrap admin ----------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["password1", "admin2024", " " * 10])
def test_a_weak_admin_password_is_refused_in_one_line_that_does_not_repeat_it(
    password: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("ADMIN_USERNAME", "admin")
    monkeypatch.setenv("ADMIN_PASSWORD", password)
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("catalog-api: invalid settings: ADMIN_PASSWORD ")
    assert "\n" not in message
    if password.strip():
        assert password not in message


def test_the_server_started_with_a_common_admin_password_exits_with_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "ADMIN_EMAIL": "admin@example.com",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": "iloveyou1",
    }
    server = [sys.executable, "-m", "uvicorn", "impl.app:create_app", "--factory", "--port", "0"]
    result = subprocess.run(server, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("catalog-api: invalid settings: ADMIN_PASSWORD is too common or too easy to guess")
    assert "iloveyou1" not in result.stderr
