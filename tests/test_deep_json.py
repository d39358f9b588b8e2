"""JSON nested past any parser's recursion limit, wherever the API reads JSON from outside, is a 4xx.

Python's `json` raises RecursionError (not ValueError) on such input, which a
parser's usual `except ValueError` lets through as a 500. The language model's
answers are covered in tests/test_ai.py; here request bodies and the header of
a bearer token (PyJWT parses it before checking the signature).
"""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import register
from tests.helpers import assert_problem, bearer

pytestmark = pytest.mark.anyio

JSON = {"Content-Type": "application/json"}
DEEP = 30_000  # levels: more than the parser's recursion limit, and within MAX_BODY_BYTES as brackets
SHALLOW_ENOUGH_TO_PARSE = 900  # under the recursion limit: the value parses, and the schema refuses it


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("body", [deep_array(DEEP), deep_object(DEEP // 3)], ids=["array", "object"])
@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/login/json", "/api/v1/auth/refresh"])
async def test_a_request_body_nested_too_deep_to_parse_is_400(
    client: httpx.AsyncClient, path: str, body: bytes
) -> None:
    problem = assert_problem(await client.post(path, content=body, headers=JSON), 400)

    assert problem["type"] == "urn:catalog-api:problem:malformed-body"


async def test_a_deeply_nested_field_value_is_422_and_changes_nothing(client: httpx.AsyncClient) -> None:
    nested = deep_array(SHALLOW_ENOUGH_TO_PARSE)
    body = b'{"email": "deep@example.com", "username": ' + nested + b', "password": "Orchid-Tundra-27"}'

    problem = assert_problem(await client.post("/api/v1/auth/register", content=body, headers=JSON), 422)

    assert problem["type"] == "urn:catalog-api:problem:validation-error"
    await register(client, "deep", email="deep@example.com")  # the address was not taken by the refused body


def token_with_header(header: bytes) -> str:
    def segment(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{segment(header)}.{segment(b'{}')}.{segment(b'signature')}"


@pytest.mark.parametrize("header", [deep_array(1500), deep_object(1200)], ids=["array", "object"])
async def test_a_token_whose_header_is_nested_too_deep_is_refused_or_ignored(
    client: httpx.AsyncClient, header: bytes
) -> None:
    token = token_with_header(header)

    assert_problem(await client.get("/api/v1/auth/me", headers=bearer(token)), 401)
    public = await client.get("/api/v1/products", headers=bearer(token))
    assert public.status_code == 200  # a bad token is ignored where anyone may read
