"""Every field of every operation in openapi.yaml, sent a lone surrogate: a 422 naming the field, nothing changed.

A lone surrogate reaches a server as a JSON escape (`"\\ud800"`, which Python's
`json` turns into a string nothing can encode again) or as the UTF-8 form of a
surrogate (`%ED%A0%80`) in a path segment, a query, a form or a header. The
cases are read from openapi.yaml, so an operation or field added there is
probed here without a change to this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from impl.http.docs import SPEC_PATH
from tests.conftest import ADMIN, login, register
from tests.helpers import assert_problem
from tests.spec_responses import HTTP_METHODS, resolve

pytestmark = pytest.mark.anyio

# High, low, and a surrogate between ordinary characters: as JSON escapes, as percent-encoded
# UTF-8 forms of the same code points, and as raw bytes (a header's value is not percent-encoded).
JSON_TEXTS = ("\ud800", "a\udfffb")
PERCENT_TEXTS = ("%ED%A0%80", "a%ED%BF%BFb")
HEADER_TEXTS = (b"\xed\xa0\x80", b"a\xed\xbf\xbfb")
KEY = "\\ud800"  # how a field whose name is a lone surrogate is named in the 422


@dataclass(frozen=True, slots=True)
class Case:
    operation_id: str
    method: str
    template: str
    where: str  # path, query, header, or body
    field: str  # the field's name, or KEY for a body whose key is the surrogate
    media_type: str | None  # the body's, for `where == "body"`
    signed_in: bool  # the operation has no anonymous alternative: sent as the admin

    def __str__(self) -> str:
        return f"{self.method} {self.template} {self.where}.{self.field} ({self.media_type or '-'})"


def cases() -> list[Case]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    found: list[Case] = []
    for template, item in spec["paths"].items():
        for method in (m for m in HTTP_METHODS if m in item):
            operation = item[method]
            security = operation.get("security", spec.get("security", []))
            common = {
                "operation_id": operation["operationId"],
                "method": method.upper(),
                "template": template,
                "signed_in": bool(security) and all(security),
            }
            for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
                parameter = resolve(raw)
                found.append(Case(**common, where=parameter["in"], field=parameter["name"], media_type=None))
            content = resolve(operation.get("requestBody", {"content": {}}))["content"]
            for media_type, media in content.items():
                if media_type not in ("application/json", "application/x-www-form-urlencoded"):
                    # A streamed body (the import's NDJSON) is the implementation's to judge, line by line: a
                    # line holding a lone surrogate is a rejected line (tests/test_import_export.py).
                    continue
                for name in resolve(media["schema"]).get("properties", {}):
                    found.append(Case(**common, where="body", field=name, media_type=media_type))
                found.append(Case(**common, where="body", field=KEY, media_type=media_type))
    return found


CASES = cases()


def test_the_cases_cover_the_fields_the_probe_found_and_every_location() -> None:
    probed = {(case.operation_id, case.where, case.field, case.media_type) for case in CASES}
    assert ("loginJson", "body", "password", "application/json") in probed
    assert ("refreshTokens", "body", "refresh_token", "application/json") in probed
    assert ("loginForm", "body", "password", "application/x-www-form-urlencoded") in probed
    assert {case.where for case in CASES} == {"path", "query", "header", "body"}


@dataclass(frozen=True, slots=True)
class World:
    """What the requests could change: a product, a user other than the admin, and how to read them back."""

    admin_token: str
    path_values: dict[str, str]


async def snapshot(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {world.admin_token}"}
    products = await client.get("/api/v1/products", params={"page_size": 100}, headers=auth)
    users = await client.get("/api/v1/users", params={"page_size": 100}, headers=auth)
    assert products.status_code == users.status_code == 200
    return {"products": products.json(), "users": users.json()}


def request_for(case: Case, world: World, text_index: int) -> dict[str, Any]:
    """httpx.request's arguments: `case`'s field holds the surrogate, every other path value is a real one."""
    path = case.template
    for name, value in world.path_values.items():
        sent = PERCENT_TEXTS[text_index] if case.where == "path" and case.field == name else value
        path = path.replace("{" + name + "}", sent)
    headers: list[tuple[bytes, bytes]] = []  # bytes: a header parameter's value is raw bytes
    if case.signed_in:
        headers.append((b"Authorization", f"Bearer {world.admin_token}".encode()))
    arguments: dict[str, Any] = {"method": case.method, "url": path, "headers": headers}
    if case.where == "query":
        arguments["url"] = f"{path}?{case.field}={PERCENT_TEXTS[text_index]}"
    elif case.where == "header":
        headers.append((case.field.encode(), HEADER_TEXTS[text_index]))
    elif case.where == "body" and case.media_type == "application/json":
        document = {"\ud800": "x"} if case.field == KEY else {case.field: JSON_TEXTS[text_index]}
        arguments["content"] = json.dumps(document)  # ensure_ascii: the surrogate goes as a `\ud800` escape
        headers.append((b"Content-Type", case.media_type.encode()))
    elif case.where == "body":
        name, value = ("%ED%A0%80", "x") if case.field == KEY else (case.field, PERCENT_TEXTS[text_index])
        arguments["content"] = f"{name}={value}".encode()
        headers.append((b"Content-Type", str(case.media_type).encode()))
    return arguments


def named_field(case: Case) -> list[str]:
    if case.where == "body" and case.field == KEY and case.media_type != "application/json":
        return ["body", "\\xed\\xa0\\x80"]  # a form's name that is not UTF-8, its bytes escaped
    return [case.where, case.field]


async def test_a_lone_surrogate_in_any_field_is_a_422_naming_it_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    admin = await login(client, ADMIN["username"], ADMIN["password"])
    auth = {"Authorization": f"Bearer {admin['access_token']}"}
    product = await client.post("/api/v1/products", json={"name": "Lamp", "price": 9.5, "sku": "L-1"}, headers=auth)
    assert product.status_code == 201, product.text
    alice = await register(client, "alice", "Orchid-Tundra-27")
    world = World(admin["access_token"], {"product_id": product.json()["id"], "user_id": alice["id"]})
    before = await snapshot(client, world)

    failures: list[str] = []
    for case in CASES:
        for index in range(len(PERCENT_TEXTS)):
            response = await client.request(**request_for(case, world, index))
            if response.status_code != 422:
                failures.append(f"{case} #{index}: {response.status_code} {response.text[:200]}")
                continue
            body = assert_problem(response, 422)
            issues = [error for error in body["errors"] if error["type"] == "not_text"]
            if [issue["loc"] for issue in issues] != [named_field(case)]:
                failures.append(f"{case} #{index}: names {body['errors']}")
    assert failures == [], "\n".join(failures)

    assert await snapshot(client, world) == before
    # Neither password changed: both still sign in.
    await login(client, ADMIN["username"], ADMIN["password"])
    await login(client, "alice", "Orchid-Tundra-27")


async def test_surrogate_pairs_and_percent_encoded_utf8_are_text(admin_client: httpx.AsyncClient) -> None:
    created = await admin_client.post(
        "/api/v1/products",
        content=b'{"name": "Smile \\ud83d\\ude00", "price": 1.5, "sku": "S-1"}',
        headers={"Content-Type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Smile \N{GRINNING FACE}"
    found = await admin_client.get("/api/v1/products?name=Smile%20%F0%9F%98%80")
    assert [item["sku"] for item in found.json()["items"]] == ["S-1"]
    form = await admin_client.post(
        "/api/v1/auth/login",
        content=f"username={ADMIN['username']}&password={ADMIN['password']}&scope=".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 200, form.text


async def test_a_422_for_text_that_is_not_text_lists_the_other_invalid_parameters_too(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/products?name=%ED%A0%80&page=0")
    body = assert_problem(response, 422)
    assert sorted((error["loc"], error["type"]) for error in body["errors"]) == [
        (["query", "name"], "not_text"),
        (["query", "page"], "minimum"),
    ]
