"""Who may do what to user records: a user on itself, an admin on anyone, and the last active admin."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN, login, register
from tests.helpers import assert_problem, bearer

# Marked here, not only by conftest's hook: anyio's plugin then keeps the ids of parametrized tests.
pytestmark = pytest.mark.anyio

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
USERS = "/api/v1/users"
ALICE_PASSWORD = "Orchid-Tundra-27"


def user_url(user_id: str) -> str:
    return f"{USERS}/{user_id}"


def role_url(user_id: str) -> str:
    return f"{USERS}/{user_id}/role"


def alice(user_client: httpx.AsyncClient) -> dict[str, Any]:
    """The record the `user_client` fixture registered."""
    record: dict[str, Any] = user_client.user  # type: ignore[attr-defined]
    return record


async def admin_id(admin_client: httpx.AsyncClient) -> str:
    return str((await admin_client.get(ME)).json()["id"])


async def signed_in(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    """Authorization headers for a fresh login."""
    return bearer((await login(client, username, password))["access_token"])


async def make_admin(admin_client: httpx.AsyncClient, username: str, password: str = "UserPass123") -> dict[str, Any]:
    """Register `username`, promote it, and answer its record and a fresh admin login's headers."""
    user = await register(admin_client, username, password)
    response = await admin_client.put(role_url(user["id"]), json={"role": "admin"})
    assert response.status_code == 200, response.text
    return {"user": user, "headers": await signed_in(admin_client, username, password)}


async def usernames(admin_client: httpx.AsyncClient) -> list[str]:
    page = (await admin_client.get(USERS, params={"page_size": 100})).json()
    return [u["username"] for u in page["items"]]


# --- a user on its own record and on others' ------------------------------------------------------


async def test_a_user_can_read_its_own_record(user_client: httpx.AsyncClient) -> None:
    response = await user_client.get(user_url(alice(user_client)["id"]))
    assert response.status_code == 200
    assert response.json() == alice(user_client)


async def test_a_user_can_update_its_own_username_and_email(user_client: httpx.AsyncClient) -> None:
    change = {"username": "alice2", "email": "alice2@example.com", "current_password": "Orchid-Tundra-27"}
    response = await user_client.put(user_url(alice(user_client)["id"]), json=change)
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "alice2"
    assert response.json()["email"] == "alice2@example.com"
    assert response.json()["role"] == "user"
    # Not a credential change: the token still works.
    assert (await user_client.get(ME)).json()["username"] == "alice2"


async def test_a_user_can_change_the_case_of_its_own_username(user_client: httpx.AsyncClient) -> None:
    response = await user_client.put(user_url(alice(user_client)["id"]), json={"username": "Alice"})
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "Alice"


async def test_another_users_record_is_404_to_a_user_for_get_and_put(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    bob = await register(admin_client, "bob")
    for other in (bob["id"], await admin_id(admin_client)):
        assert_problem(await user_client.get(user_url(other)), 404)
        assert_problem(await user_client.put(user_url(other), json={"username": "hijacked"}), 404)
    assert (await admin_client.get(user_url(bob["id"]))).json()["username"] == "bob"


async def test_another_users_record_looks_like_an_unknown_one_to_a_user(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    hidden = await user_client.get(user_url(await admin_id(admin_client)))
    unknown = await user_client.get(user_url(str(uuid.uuid4())))
    assert assert_problem(hidden, 404) == assert_problem(unknown, 404)


async def test_a_user_cannot_list_users(user_client: httpx.AsyncClient) -> None:
    assert_problem(await user_client.get(USERS), 403)


async def test_a_user_cannot_delete_a_user_not_even_itself(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    bob = await register(admin_client, "bob")
    for target in (bob["id"], alice(user_client)["id"], await admin_id(admin_client)):
        assert_problem(await user_client.delete(user_url(target)), 403)
    assert "bob" in await usernames(admin_client)
    assert (await user_client.get(ME)).status_code == 200


async def test_a_user_cannot_change_a_role_not_even_its_own(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    assert_problem(await user_client.put(role_url(alice(user_client)["id"]), json={"role": "admin"}), 403)
    assert_problem(await user_client.put(role_url(await admin_id(admin_client)), json={"role": "user"}), 403)
    assert (await user_client.get(ME)).json()["role"] == "user"


@pytest.mark.parametrize("is_active", [False, True])
async def test_a_user_cannot_set_is_active_on_itself(user_client: httpx.AsyncClient, is_active: bool) -> None:
    response = await user_client.put(user_url(alice(user_client)["id"]), json={"is_active": is_active})
    assert_problem(response, 403)
    assert (await user_client.get(ME)).json()["is_active"] is True


async def test_a_user_changing_its_own_password_without_current_password_is_refused(
    user_client: httpx.AsyncClient,
) -> None:
    # openapi.yaml, UserUpdate.current_password: "403 when missing or wrong".
    response = await user_client.put(user_url(alice(user_client)["id"]), json={"password": "NewAlicePass456"})
    assert_problem(response, 403)
    await login(user_client, "alice", ALICE_PASSWORD)


async def test_a_user_changing_its_own_password_with_a_wrong_current_password_is_403(
    user_client: httpx.AsyncClient,
) -> None:
    response = await user_client.put(
        user_url(alice(user_client)["id"]), json={"password": "NewAlicePass456", "current_password": "WrongPass123"}
    )
    assert_problem(response, 403)
    await login(user_client, "alice", ALICE_PASSWORD)


async def test_a_user_changing_its_own_password_with_the_right_current_password_can_log_in_with_the_new_one(
    user_client: httpx.AsyncClient,
) -> None:
    response = await user_client.put(
        user_url(alice(user_client)["id"]), json={"password": "NewAlicePass456", "current_password": ALICE_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert "NewAlicePass456" not in response.text
    await login(user_client, "alice", "NewAlicePass456")
    assert_problem(await user_client.post(LOGIN, data={"username": "alice", "password": ALICE_PASSWORD}), 401)


async def test_current_password_without_password_is_422(user_client: httpx.AsyncClient) -> None:
    response = await user_client.put(user_url(alice(user_client)["id"]), json={"current_password": ALICE_PASSWORD})
    assert_problem(response, 422)


async def test_an_empty_update_is_422(user_client: httpx.AsyncClient) -> None:
    assert_problem(await user_client.put(user_url(alice(user_client)["id"]), json={}), 422)


async def test_a_role_field_in_an_update_is_422(user_client: httpx.AsyncClient) -> None:
    response = await user_client.put(user_url(alice(user_client)["id"]), json={"role": "admin"})
    problem = assert_problem(response, 422)
    assert ["body", "role"] in [e["loc"] for e in problem["errors"]]
    assert (await user_client.get(ME)).json()["role"] == "user"


async def test_an_admin_may_not_set_a_role_through_the_update_either(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    assert_problem(await admin_client.put(user_url(alice(user_client)["id"]), json={"role": "admin"}), 422)


async def test_users_endpoints_without_a_token_are_401(client: httpx.AsyncClient) -> None:
    some_id = str(uuid.uuid4())
    for response in (
        await client.get(USERS),
        await client.get(user_url(some_id)),
        await client.put(user_url(some_id), json={"username": "whoever"}),
        await client.delete(user_url(some_id)),
        await client.put(role_url(some_id), json={"role": "admin"}),
    ):
        assert_problem(response, 401)
        assert "www-authenticate" in response.headers


# --- an admin on anyone ---------------------------------------------------------------------------


async def test_an_admin_lists_users_page_by_page_newest_first(admin_client: httpx.AsyncClient) -> None:
    for name in ("u_one", "u_two", "u_three", "u_four"):
        await register(admin_client, name)

    first = await admin_client.get(USERS, params={"page": 1, "page_size": 2})
    assert first.status_code == 200
    body = first.json()
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (5, 1, 2, 3)
    assert [u["username"] for u in body["items"]] == ["u_four", "u_three"]

    last = (await admin_client.get(USERS, params={"page": 3, "page_size": 2})).json()
    assert (last["total"], last["page"], last["page_size"], last["pages"]) == (5, 3, 2, 3)
    assert [u["username"] for u in last["items"]] == [ADMIN["username"]]

    past = (await admin_client.get(USERS, params={"page": 4, "page_size": 2})).json()
    assert past["items"] == []
    assert past["total"] == 5

    default = (await admin_client.get(USERS)).json()
    assert (default["page"], default["page_size"], default["pages"]) == (1, 10, 1)
    assert len(default["items"]) == 5
    assert all("password" not in key for user in default["items"] for key in user)


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"page_size": 0}, {"page_size": 101}, {"page": "x"}],
    ids=["page-0", "size-0", "size-101", "page-x"],
)
async def test_listing_users_with_a_bad_page_is_422(admin_client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert_problem(await admin_client.get(USERS, params=params), 422)


async def test_an_admin_can_read_and_update_anyone(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    alice_id = alice(user_client)["id"]
    assert (await admin_client.get(user_url(alice_id))).json() == alice(user_client)

    response = await admin_client.put(user_url(alice_id), json={"email": "alice.new@example.com"})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "alice.new@example.com"
    assert (await user_client.get(ME)).json()["email"] == "alice.new@example.com"


async def test_an_admin_changes_another_users_password_without_current_password(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    response = await admin_client.put(user_url(alice(user_client)["id"]), json={"password": "ResetByAdmin1"})
    assert response.status_code == 200, response.text
    await login(admin_client, "alice", "ResetByAdmin1")
    assert_problem(await admin_client.post(LOGIN, data={"username": "alice", "password": ALICE_PASSWORD}), 401)
    assert_problem(await user_client.get(ME), 401)


async def test_an_admin_deactivates_and_reactivates_a_user(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    alice_id = alice(user_client)["id"]
    off = await admin_client.put(user_url(alice_id), json={"is_active": False})
    assert off.status_code == 200, off.text
    assert off.json()["is_active"] is False
    assert (await admin_client.get(user_url(alice_id))).json()["is_active"] is False
    assert_problem(await admin_client.post(LOGIN, data={"username": "alice", "password": ALICE_PASSWORD}), 401)

    on = await admin_client.put(user_url(alice_id), json={"is_active": True})
    assert on.status_code == 200, on.text
    assert on.json()["is_active"] is True
    headers = await signed_in(admin_client, "alice", ALICE_PASSWORD)
    assert (await admin_client.get(ME, headers=headers)).json()["username"] == "alice"


async def test_an_admin_deletes_a_user_whose_names_become_free_again(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    alice_id = alice(user_client)["id"]
    response = await admin_client.delete(user_url(alice_id))
    assert response.status_code == 204
    assert response.content == b""

    assert_problem(await admin_client.get(user_url(alice_id)), 404)
    assert_problem(await admin_client.put(user_url(alice_id), json={"username": "ghost"}), 404)
    assert_problem(await admin_client.put(role_url(alice_id), json={"role": "admin"}), 404)
    assert_problem(await admin_client.delete(user_url(alice_id)), 404)
    assert "alice" not in await usernames(admin_client)
    assert (await admin_client.get(USERS)).json()["total"] == 1

    again = await register(admin_client, "alice", "Ember-Lagoon-36", email=alice(user_client)["email"])
    assert again["id"] != alice_id
    assert again["email"] == alice(user_client)["email"]
    await login(admin_client, "alice", "Ember-Lagoon-36")
    assert_problem(await admin_client.post(LOGIN, data={"username": "alice", "password": ALICE_PASSWORD}), 401)


async def test_a_promoted_user_has_admin_access_after_logging_in_again(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    assert_problem(await user_client.get(USERS), 403)
    response = await admin_client.put(role_url(alice(user_client)["id"]), json={"role": "admin"})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"

    assert_problem(await user_client.get(USERS), 401)  # the role change ended the old token
    headers = await signed_in(user_client, "alice", ALICE_PASSWORD)
    assert (await user_client.get(USERS, headers=headers)).status_code == 200
    assert (await user_client.get(ME, headers=headers)).json()["role"] == "admin"


async def test_a_demoted_admin_loses_admin_access(admin_client: httpx.AsyncClient) -> None:
    bob = await make_admin(admin_client, "bob")
    assert (await admin_client.get(USERS, headers=bob["headers"])).status_code == 200

    response = await admin_client.put(role_url(bob["user"]["id"]), json={"role": "user"})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "user"
    assert_problem(await admin_client.get(USERS, headers=bob["headers"]), 401)
    headers = await signed_in(admin_client, "bob", "UserPass123")
    assert_problem(await admin_client.get(USERS, headers=headers), 403)


async def test_setting_the_role_a_user_already_has_changes_nothing(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    response = await admin_client.put(role_url(alice(user_client)["id"]), json={"role": "user"})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "user"


async def test_an_unknown_role_is_422(user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient) -> None:
    assert_problem(await admin_client.put(role_url(alice(user_client)["id"]), json={"role": "root"}), 422)


# --- the last active admin ------------------------------------------------------------------------


async def test_the_only_admin_cannot_demote_itself(admin_client: httpx.AsyncClient) -> None:
    assert_problem(await admin_client.put(role_url(await admin_id(admin_client)), json={"role": "user"}), 409)
    assert (await admin_client.get(ME)).json()["role"] == "admin"


async def test_the_only_admin_cannot_deactivate_itself(admin_client: httpx.AsyncClient) -> None:
    assert_problem(await admin_client.put(user_url(await admin_id(admin_client)), json={"is_active": False}), 409)
    assert (await admin_client.get(ME)).json()["is_active"] is True


async def test_the_only_admin_cannot_delete_itself(admin_client: httpx.AsyncClient) -> None:
    assert_problem(await admin_client.delete(user_url(await admin_id(admin_client))), 409)
    assert (await admin_client.get(ME)).status_code == 200


async def test_a_deactivated_second_admin_does_not_count_as_another_admin(admin_client: httpx.AsyncClient) -> None:
    bob = await make_admin(admin_client, "bob")
    assert (await admin_client.put(user_url(bob["user"]["id"]), json={"is_active": False})).status_code == 200
    first = await admin_id(admin_client)
    assert_problem(await admin_client.put(role_url(first), json={"role": "user"}), 409)
    assert_problem(await admin_client.put(user_url(first), json={"is_active": False}), 409)
    assert_problem(await admin_client.delete(user_url(first)), 409)


async def test_with_a_second_admin_the_first_can_be_demoted(admin_client: httpx.AsyncClient) -> None:
    bob = await make_admin(admin_client, "bob")
    first = await admin_id(admin_client)
    response = await admin_client.put(role_url(first), json={"role": "user"})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "user"

    headers = await signed_in(admin_client, ADMIN["username"], ADMIN["password"])
    assert_problem(await admin_client.get(USERS, headers=headers), 403)
    # Bob is now the last active admin.
    assert_problem(
        await admin_client.put(role_url(bob["user"]["id"]), json={"role": "user"}, headers=bob["headers"]), 409
    )


async def test_with_a_second_admin_the_first_can_be_deleted(admin_client: httpx.AsyncClient) -> None:
    bob = await make_admin(admin_client, "bob")
    first = await admin_id(admin_client)
    assert (await admin_client.delete(user_url(first), headers=bob["headers"])).status_code == 204
    assert_problem(await admin_client.get(user_url(first), headers=bob["headers"]), 404)
    assert_problem(await admin_client.get(ME), 401)
    assert_problem(await admin_client.delete(user_url(bob["user"]["id"]), headers=bob["headers"]), 409)


async def test_with_a_second_admin_the_first_can_be_deactivated(admin_client: httpx.AsyncClient) -> None:
    await make_admin(admin_client, "bob")
    response = await admin_client.put(user_url(await admin_id(admin_client)), json={"is_active": False})
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False


# --- duplicates on update -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"username": "BOB"}, {"username": "bob"}, {"email": "Bob@Example.COM"}, {"email": "bob@example.com"}],
    ids=["username-upper", "username-same", "email-mixed-case", "email-same"],
)
async def test_taking_another_live_users_username_or_email_is_409(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient, change: dict[str, str]
) -> None:
    await register(admin_client, "bob", email="bob@example.com")
    own = {**change, "current_password": "Orchid-Tundra-27"} if "email" in change else change
    assert_problem(await user_client.put(user_url(alice(user_client)["id"]), json=own), 409)
    assert_problem(await admin_client.put(user_url(alice(user_client)["id"]), json=change), 409)
    assert (await user_client.get(ME)).json() == alice(user_client)


async def test_a_deleted_users_username_and_email_can_be_taken_by_an_update(
    user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    bob = await register(admin_client, "bob", email="bob@example.com")
    assert (await admin_client.delete(user_url(bob["id"]))).status_code == 204
    change = {"username": "Bob", "email": "BOB@example.com", "current_password": "Orchid-Tundra-27"}
    response = await user_client.put(user_url(alice(user_client)["id"]), json=change)
    assert response.status_code == 200, response.text


async def test_a_user_changing_its_own_email_gives_its_current_password(user_client: httpx.AsyncClient) -> None:
    url = user_url(alice(user_client)["id"])
    assert_problem(await user_client.put(url, json={"email": "taken-over@example.com"}), 403)
    wrong = {"email": "taken-over@example.com", "current_password": "NotAlicePass1"}
    assert_problem(await user_client.put(url, json=wrong), 403)
    assert (await user_client.get(ME)).json()["email"] == alice(user_client)["email"]
    right = {"email": "alice.new@example.com", "current_password": "Orchid-Tundra-27"}
    assert (await user_client.put(url, json=right)).json()["email"] == "alice.new@example.com"


# --- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-4000-8000-00000000000g"])
async def test_a_user_id_that_is_not_a_uuid_is_422(admin_client: httpx.AsyncClient, bad_id: str) -> None:
    for response in (
        await admin_client.get(user_url(bad_id)),
        await admin_client.put(user_url(bad_id), json={"username": "whoever"}),
        await admin_client.delete(user_url(bad_id)),
        await admin_client.put(role_url(bad_id), json={"role": "admin"}),
    ):
        problem = assert_problem(response, 422)
        assert ["path", "user_id"] in [e["loc"] for e in problem["errors"]]


async def test_an_unknown_user_id_is_404_to_an_admin(admin_client: httpx.AsyncClient) -> None:
    unknown = str(uuid.uuid4())
    for response in (
        await admin_client.get(user_url(unknown)),
        await admin_client.put(user_url(unknown), json={"username": "whoever"}),
        await admin_client.delete(user_url(unknown)),
        await admin_client.put(role_url(unknown), json={"role": "admin"}),
    ):
        assert_problem(response, 404)


# --- the error format -----------------------------------------------------------------------------


async def test_every_kind_of_error_is_a_problem_document(
    client: httpx.AsyncClient, user_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    me = alice(user_client)["id"]
    cases: list[tuple[int, httpx.Response]] = [
        (400, await user_client.put(user_url(me), content=b"{not json", headers={"Content-Type": "application/json"})),
        (401, await client.get(USERS)),
        (403, await user_client.get(USERS)),
        (404, await admin_client.get(user_url(str(uuid.uuid4())))),
        (409, await admin_client.delete(user_url(await admin_id(admin_client)))),
        (415, await user_client.put(user_url(me), content=b"username=x", headers={"Content-Type": "text/plain"})),
        (422, await user_client.put(user_url(me), json={})),
    ]
    for status, response in cases:
        assert_problem(response, status)
    validation = cases[-1][1].json()
    assert validation["type"] == "urn:catalog-api:problem:validation-error"
    assert isinstance(validation["errors"], list)
    assert all({"loc", "msg", "type"} <= error.keys() for error in validation["errors"])


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PUT", "/role", {"role": "admin"}),
        ("PUT", "", {"password": "BrandNewPass123"}),
        ("PUT", "", {"is_active": False}),
        ("DELETE", "", None),
    ],
)
async def test_a_token_in_use_is_refused_on_the_very_next_request_after_its_user_changes(
    admin_client: httpx.AsyncClient, user_client: httpx.AsyncClient, method: str, suffix: str, body: Any
) -> None:
    user_id = user_client.user["id"]  # type: ignore[attr-defined]
    for _ in range(3):  # in use: whatever remembers accounts between requests has it now
        assert (await user_client.get("/api/v1/auth/me")).status_code == 200
    changed = await admin_client.request(method, f"/api/v1/users/{user_id}{suffix}", json=body)
    assert changed.status_code in (200, 204), changed.text
    assert (await user_client.get("/api/v1/auth/me")).status_code == 401


async def test_answers_with_a_users_data_are_never_stored_by_caches(
    admin_client: httpx.AsyncClient, user_client: httpx.AsyncClient
) -> None:
    user_id = user_client.user["id"]  # type: ignore[attr-defined]
    answers = [
        await user_client.get("/api/v1/auth/me"),
        await user_client.get(f"/api/v1/users/{user_id}"),
        await user_client.put(f"/api/v1/users/{user_id}", json={"username": "alice2"}),
        await admin_client.get("/api/v1/users"),
        await admin_client.put(f"/api/v1/users/{user_id}/role", json={"role": "user"}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
