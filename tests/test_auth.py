"""Registration, login, tokens (rotation, reuse, versions, expiry) and the password hash, through the HTTP API."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from impl.app import create_app
from impl.bootstrap import BootstrapConflict
from impl.security.passwords import NOBODY, PasswordHasher
from impl.settings import Settings
from tests.conftest import ADMIN, TEST_SECRET, client_for, login, register
from tests.helpers import assert_problem, bearer

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
LOGIN_JSON = "/api/v1/auth/login/json"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/auth/me"
USERS = "/api/v1/users"
USER_FIELDS = {"id", "email", "username", "role", "is_active", "created_at", "updated_at"}

# Marked here, not only by conftest's hook: anyio's plugin then keeps the ids of parametrized tests.
pytestmark = pytest.mark.anyio


def assert_unauthorized(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert "www-authenticate" in response.headers
    assert response.headers["www-authenticate"].startswith("Bearer")


def assert_token_pair(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    pair: dict[str, Any] = response.json()
    assert pair["token_type"] == "bearer"
    assert isinstance(pair["expires_in"], int)
    assert pair["expires_in"] > 0
    assert isinstance(pair["access_token"], str)
    assert pair["access_token"]
    assert isinstance(pair["refresh_token"], str)
    assert pair["refresh_token"]
    return pair


async def me_status(client: httpx.AsyncClient, access_token: str) -> int:
    return (await client.get(ME, headers=bearer(access_token))).status_code


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


async def id_of(admin_client: httpx.AsyncClient, username: str) -> str:
    users = (await admin_client.get(USERS, params={"page_size": 100})).json()["items"]
    return str(next(u["id"] for u in users if u["username"] == username))


def forge(secret: str, *, algorithm: str = "HS256", **claims: Any) -> str:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "type": "access",
        "jti": secrets.token_urlsafe(16),
        "ver": 0,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm=algorithm)


# --- registration ---------------------------------------------------------------------------------


async def test_register_answers_201_with_location_and_the_user_without_any_password(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        REGISTER, json={"email": "bob@example.com", "username": "bob", "password": "Cobalt-Fjord-83"}
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == USER_FIELDS
    assert response.headers["location"] == f"/api/v1/users/{user['id']}"
    assert user["role"] == "user"
    assert user["is_active"] is True
    assert user["username"] == "bob"
    assert user["email"] == "bob@example.com"
    assert "Cobalt-Fjord-83" not in response.text
    assert "bcrypt" not in response.text


async def test_register_refuses_a_role_field_with_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "eve@example.com", "username": "eve", "password": "Marble-Kestrel-45", "role": "admin"}
    )
    body = assert_problem(response, 422)
    assert ["body", "role"] in [e["loc"] for e in body["errors"]]
    assert (await client.post(LOGIN, data={"username": "eve", "password": "Marble-Kestrel-45"})).status_code == 401


async def test_register_refuses_an_email_already_taken_in_another_case_with_409(client: httpx.AsyncClient) -> None:
    await register(client, "first", email="user@example.com")
    response = await client.post(
        REGISTER, json={"email": "USER@Example.com", "username": "second", "password": "Lantern-Quarry-52"}
    )
    assert_problem(response, 409)


async def test_register_refuses_a_username_already_taken_in_another_case_with_409(client: httpx.AsyncClient) -> None:
    await register(client, "carol")
    response = await client.post(
        REGISTER, json={"email": "other@example.com", "username": "CaRoL", "password": "Lantern-Quarry-52"}
    )
    assert_problem(response, 409)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("username", "has space"),
        ("username", "ab"),
        ("username", "a" * 33),
        ("password", "Short12"),
        ("password", "p" * 129),
    ],
    ids=["invalid-email", "username-with-space", "username-2-chars", "username-33-chars", "password-7", "password-129"],
)
async def test_register_refuses_an_invalid_field_with_422(client: httpx.AsyncClient, field: str, value: str) -> None:
    body = {"email": "valid@example.com", "username": "valid_name", "password": "Lantern-Quarry-52"}
    body[field] = value
    problem = assert_problem(await client.post(REGISTER, json=body), 422)
    assert ["body", field] in [e["loc"] for e in problem["errors"]]


async def test_register_accepts_the_boundary_lengths(client: httpx.AsyncClient) -> None:
    # Strong at both lengths: "p" * 8 would be refused by the password policy (tests/test_password_policy.py).
    await register(client, "abc", "kX9#vQ2m", email="three@example.com")
    await register(client, "a" * 32, ("kX9#vQ2m-Lw7!tZp" * 8)[:128], email="long@example.com")


async def test_a_100_character_non_ascii_password_logs_in_and_is_not_truncated_at_72_bytes(
    client: httpx.AsyncClient,
) -> None:
    password = "Kéy-🔑-Ünïcode-" + "é🔑ü" * 28 + "ññ"  # starts unpredictably: the policy reads the first 16
    assert len(password) == 100
    assert len(password.encode()) > 72
    await register(client, "unicode", password)

    assert_token_pair(await client.post(LOGIN, data={"username": "unicode", "password": password}))

    differs_at_the_end = password[:-1] + "n"
    assert differs_at_the_end.encode()[:72] == password.encode()[:72]
    response = await client.post(LOGIN, data={"username": "unicode", "password": differs_at_the_end})
    assert_unauthorized(response)


# --- login ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice", "ALICE", "alice@example.com", "Alice@EXAMPLE.com"])
async def test_form_login_takes_a_username_or_an_email_in_any_case(client: httpx.AsyncClient, name: str) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    pair = assert_token_pair(await client.post(LOGIN, data={"username": name, "password": "Orchid-Tundra-27"}))
    me = await client.get(ME, headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


async def test_form_login_accepts_grant_type_password(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    response = await client.post(
        LOGIN, data={"grant_type": "password", "username": "alice", "password": "Orchid-Tundra-27"}
    )
    assert_token_pair(response)


async def test_form_login_ignores_an_admin_scope_asked_by_a_normal_user(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    pair = assert_token_pair(
        await client.post(
            LOGIN,
            data={"grant_type": "password", "username": "alice", "password": "Orchid-Tundra-27", "scope": "admin"},
        )
    )
    assert_problem(await client.get(USERS, headers=bearer(pair["access_token"])), 403)


async def test_form_login_refuses_another_grant_type_with_422(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    response = await client.post(
        LOGIN, data={"grant_type": "client_credentials", "username": "alice", "password": "Orchid-Tundra-27"}
    )
    problem = assert_problem(response, 422)
    assert ["body", "grant_type"] in [e["loc"] for e in problem["errors"]]


async def test_form_login_refuses_an_unknown_field_with_422(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    response = await client.post(LOGIN, data={"username": "alice", "password": "Orchid-Tundra-27", "remember": "yes"})
    assert_problem(response, 422)


async def test_form_login_refuses_a_json_body_with_415(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    response = await client.post(LOGIN, json={"username": "alice", "password": "Orchid-Tundra-27"})
    assert_problem(response, 415)


@pytest.mark.parametrize("name", ["alice", "ALICE", "alice@example.com", "ALICE@example.COM"])
async def test_json_login_works_like_the_form_login(client: httpx.AsyncClient, name: str) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    pair = assert_token_pair(await client.post(LOGIN_JSON, json={"username": name, "password": "Orchid-Tundra-27"}))
    assert await me_status(client, pair["access_token"]) == 200


async def test_json_login_refuses_a_form_body_with_415_and_an_unknown_field_with_422(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    assert_problem(await client.post(LOGIN_JSON, data={"username": "alice", "password": "Orchid-Tundra-27"}), 415)
    response = await client.post(
        LOGIN_JSON, json={"username": "alice", "password": "Orchid-Tundra-27", "grant_type": "password"}
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("endpoint", [LOGIN, LOGIN_JSON])
async def test_an_unknown_user_and_a_wrong_password_get_the_same_401(client: httpx.AsyncClient, endpoint: str) -> None:
    await register(client, "alice", "Orchid-Tundra-27")

    async def attempt(username: str, password: str) -> httpx.Response:
        body = {"username": username, "password": password}
        if endpoint == LOGIN:
            return await client.post(endpoint, data=body)
        return await client.post(endpoint, json=body)

    unknown = await attempt("nobody", "Orchid-Tundra-27")
    wrong = await attempt("alice", "WrongPass123")
    assert_unauthorized(unknown)
    assert_unauthorized(wrong)
    assert assert_problem(unknown, 401) == assert_problem(wrong, 401)
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"]


# --- me -------------------------------------------------------------------------------------------


async def test_me_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await client.get(ME))


async def test_me_with_a_garbage_token_is_401(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await client.get(ME, headers=bearer("not.a.jwt")))


async def test_me_with_a_refresh_token_as_access_token_is_401(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    pair = await login(client, "alice", "Orchid-Tundra-27")
    assert_unauthorized(await client.get(ME, headers=bearer(pair["refresh_token"])))


async def test_me_with_an_access_token_is_the_signed_in_user(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    pair = await login(client, "alice", "Orchid-Tundra-27")
    response = await client.get(ME, headers=bearer(pair["access_token"]))
    assert response.status_code == 200
    assert response.json() == user


# --- refresh --------------------------------------------------------------------------------------


async def test_refresh_returns_a_new_working_pair(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    first = await login(client, "alice", "Orchid-Tundra-27")
    second = assert_token_pair(await refresh(client, first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert await me_status(client, second["access_token"]) == 200
    assert_token_pair(await refresh(client, second["refresh_token"]))


async def test_an_access_token_is_refused_as_a_refresh_token(client: httpx.AsyncClient) -> None:
    await register(client, "alice", "Orchid-Tundra-27")
    pair = await login(client, "alice", "Orchid-Tundra-27")
    assert_unauthorized(await refresh(client, pair["access_token"]))


async def test_a_garbage_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await refresh(client, "garbage"))


# A second use of one refresh token (within the grace window, and after it): tests/test_refresh_reuse.py


# --- token_version: credentials and account changes end existing tokens ---------------------------


async def test_changing_the_password_ends_the_old_access_and_refresh_tokens(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    old = await login(client, "alice", "Orchid-Tundra-27")
    response = await client.put(
        f"{USERS}/{user['id']}",
        json={"password": "NewAlicePass456", "current_password": "Orchid-Tundra-27"},
        headers=bearer(old["access_token"]),
    )
    assert response.status_code == 200, response.text

    assert_unauthorized(await client.get(ME, headers=bearer(old["access_token"])))
    assert_unauthorized(await refresh(client, old["refresh_token"]))
    assert_unauthorized(await client.post(LOGIN, data={"username": "alice", "password": "Orchid-Tundra-27"}))
    new = await login(client, "alice", "NewAlicePass456")
    assert await me_status(client, new["access_token"]) == 200


async def test_a_role_change_by_an_admin_ends_the_old_tokens(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    old = await login(client, "alice", "Orchid-Tundra-27")
    response = await admin_client.put(f"{USERS}/{user['id']}/role", json={"role": "admin"})
    assert response.status_code == 200, response.text

    assert_unauthorized(await client.get(ME, headers=bearer(old["access_token"])))
    assert_unauthorized(await refresh(client, old["refresh_token"]))


async def test_deactivation_ends_the_old_tokens_and_refuses_login(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    old = await login(client, "alice", "Orchid-Tundra-27")
    response = await admin_client.put(f"{USERS}/{user['id']}", json={"is_active": False})
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False

    assert_unauthorized(await client.get(ME, headers=bearer(old["access_token"])))
    assert_unauthorized(await refresh(client, old["refresh_token"]))
    assert_unauthorized(await client.post(LOGIN, data={"username": "alice", "password": "Orchid-Tundra-27"}))
    assert_unauthorized(await client.post(LOGIN_JSON, json={"username": "alice", "password": "Orchid-Tundra-27"}))


async def test_a_deactivated_user_gets_the_same_401_as_a_wrong_password(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    await admin_client.put(f"{USERS}/{user['id']}", json={"is_active": False})
    inactive = await client.post(LOGIN, data={"username": "alice", "password": "Orchid-Tundra-27"})
    wrong = await client.post(LOGIN, data={"username": "alice", "password": "WrongPass123"})
    assert_unauthorized(inactive)
    assert assert_problem(inactive, 401) == assert_problem(wrong, 401)


async def test_deletion_ends_the_old_tokens(client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    old = await login(client, "alice", "Orchid-Tundra-27")
    assert (await admin_client.delete(f"{USERS}/{user['id']}")).status_code == 204

    assert_unauthorized(await client.get(ME, headers=bearer(old["access_token"])))
    assert_unauthorized(await refresh(client, old["refresh_token"]))
    assert_unauthorized(await client.post(LOGIN, data={"username": "alice", "password": "Orchid-Tundra-27"}))


# --- forged and expired tokens --------------------------------------------------------------------


async def test_a_token_built_like_the_servers_with_the_test_secret_is_accepted(client: httpx.AsyncClient) -> None:
    # The control for the tests below: what they change is the only reason for their 401.
    user = await register(client, "alice", "Orchid-Tundra-27")
    assert await me_status(client, forge(TEST_SECRET, sub=user["id"])) == 200


async def test_an_expired_access_token_is_401(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    now = datetime.now(UTC)
    token = forge(TEST_SECRET, sub=user["id"], iat=now - timedelta(hours=1), exp=now - timedelta(minutes=1))
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_an_unsigned_alg_none_token_is_401(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    token = forge("", algorithm="none", sub=user["id"])
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_a_token_signed_with_another_secret_is_401(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    token = forge("another-secret-" + "y" * 40, sub=user["id"])
    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_a_token_with_a_stale_version_is_401(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    assert_unauthorized(await client.get(ME, headers=bearer(forge(TEST_SECRET, sub=user["id"], ver=1))))


async def test_a_forged_refresh_token_with_an_unknown_jti_is_401(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    token = forge(TEST_SECRET, sub=user["id"], type="refresh", fam="made-up-family")
    assert_unauthorized(await refresh(client, token))


# --- password hashing and bootstrap ---------------------------------------------------------------


async def test_bcrypt_sha256_with_12_rounds_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BCRYPT_ROUNDS", raising=False)
    assert Settings(environment="development", data_dir=tmp_path).bcrypt_rounds == 12

    hasher = PasswordHasher(rounds=12, concurrency=1)
    assert hasher.rounds == 12
    password_hash = await hasher.hash("Lantern-Quarry-52", requester=NOBODY)
    # passlib's bcrypt_sha256 v2 format: $bcrypt-sha256$v=2,t=2b,r=<cost>$<salt>$<digest>
    assert password_hash.startswith("$bcrypt-sha256$")
    parameters = dict(item.split("=", 1) for item in password_hash.split("$")[2].split(","))
    assert parameters["r"] == "12"
    assert parameters["t"] == "2b"
    hasher.close()


async def test_hashing_threads_run_at_the_lowest_cpu_priority() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=1)

    def own_niceness(_: str) -> str:
        return str(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    try:
        assert await hasher._run(own_niceness, "") == "19"
    finally:
        hasher.close()


async def test_building_a_second_app_on_the_same_database_does_not_create_a_second_admin(
    settings: Settings, admin_client: httpx.AsyncClient
) -> None:
    before = (await admin_client.get(USERS)).json()
    assert before["total"] == 1

    second: FastAPI = create_app(settings)
    async with second.router.lifespan_context(second), client_for(second) as other:
        tokens = await login(other, ADMIN["username"], ADMIN["password"])
        after = (await other.get(USERS, headers=bearer(tokens["access_token"]))).json()

    assert after["total"] == before["total"]
    assert [u["username"] for u in after["items"]] == [ADMIN["username"]]
    assert (await admin_client.get(USERS)).json()["total"] == 1


async def test_a_login_that_cannot_get_a_hashing_slot_soon_is_503_with_retry_after(settings: Settings) -> None:
    # Real cost (about 0.2 s a hash here), one slot, and a 50 ms wait: concurrent logins cannot all get in.
    slow = settings.model_copy(
        update={"bcrypt_rounds": 12, "password_hash_concurrency": 1, "password_hash_max_wait_seconds": 0.05}
    )
    application = create_app(slow)
    async with application.router.lifespan_context(application), client_for(application) as c:
        form = {"username": ADMIN["username"], "password": ADMIN["password"]}
        answers = await asyncio.gather(*(c.post("/api/v1/auth/login", data=form) for _ in range(3)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses[0] == 200
    assert 503 in statuses
    busy = next(a for a in answers if a.status_code == 503)
    assert_problem(busy, 503)
    assert busy.headers["retry-after"] == "1"


@pytest.mark.parametrize("exp", [10**20, "9999999999", 9999999999.5, True])
async def test_a_token_with_an_odd_exp_is_401(client: httpx.AsyncClient, exp: Any) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    assert_unauthorized(await client.get(ME, headers=bearer(forge(TEST_SECRET, sub=user["id"], exp=exp))))


async def test_a_remembered_token_still_expires(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice", "Orchid-Tundra-27")
    # exp is whole seconds: 2 s ahead leaves at least 1 s for the first request.
    token = forge(TEST_SECRET, sub=user["id"], exp=datetime.now(UTC) + timedelta(seconds=2))
    assert await me_status(client, token) == 200  # verified once, then remembered
    await anyio.sleep(2.1)
    assert await me_status(client, token) == 401


@pytest.mark.parametrize("environment", ["development", "production"])
async def test_admin_settings_naming_someone_elses_email_create_nothing_and_say_so(
    settings: Settings, client: httpx.AsyncClient, environment: str, caplog: pytest.LogCaptureFixture
) -> None:
    await register(client, "mallory", "Juniper-Canyon-72", email="boss@example.com")
    taken = settings.model_copy(
        update={
            "environment": environment,
            "secret_key": SecretStr("kJ8v2Qp7Lr0sXw3ZyT6uNb9Mc4Hd1Fg5Ae8Ri2Oq7Vt"),
            "admin_email": "Boss@example.com",
            "admin_username": "boss",
            "admin_password": SecretStr("Saffron-Delta-19"),
        }
    )
    second = create_app(taken)
    if environment == "production":
        with pytest.raises(BootstrapConflict, match="do not name one account"):
            async with second.router.lifespan_context(second):
                pass
    else:
        async with second.router.lifespan_context(second), client_for(second) as other:
            refused = await other.post("/api/v1/auth/login", data={"username": "boss", "password": "Saffron-Delta-19"})
            assert refused.status_code == 401
        assert [r.getMessage() for r in caplog.records if "do not name one account" in r.getMessage()]
    credentials = {"username": "boss@example.com", "password": "Juniper-Canyon-72"}
    mallory = await client.post("/api/v1/auth/login", data=credentials)
    assert mallory.status_code == 200  # her account is untouched
