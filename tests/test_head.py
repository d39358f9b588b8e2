"""HEAD on every GET operation (RFC 9110 9.3.2, declared in openapi.yaml's description): GET's status and
header fields, no content."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import register
from tests.helpers import assert_problem

pytestmark = pytest.mark.anyio

PRODUCT = {"name": "Lamp", "price": 12.5, "sku": "HEAD-1", "category": "light"}
# Header fields that depend on the moment or the request, not on the representation.
PER_REQUEST = {"x-request-id", "x-cache", "date"}


def same_answer(head: httpx.Response, get: httpx.Response) -> None:
    assert head.status_code == get.status_code, head.request.url
    assert head.content == b""
    assert get.content != b""
    assert int(head.headers["content-length"]) == len(get.content)
    fields = {name for name in get.headers if name not in PER_REQUEST}
    assert {name for name in head.headers if name not in PER_REQUEST} == fields, head.request.url
    for name in fields:
        assert head.headers[name] == get.headers[name], (head.request.url, name)


async def test_head_answers_as_get_without_content(admin_client: httpx.AsyncClient) -> None:
    created = await admin_client.post("/api/v1/products", json=PRODUCT)
    assert created.status_code == 201
    product_id = created.json()["id"]
    user = await register(admin_client, "bea", "Harbor-Lantern-38")
    paths = [
        "/health",
        "/api/v1/products?page_size=5&sort_by=price",
        f"/api/v1/products/{product_id}",
        "/api/v1/products/search?q=lamp",
        f"/api/v1/users/{user['id']}",
        "/api/v1/users",
        "/api/v1/auth/me",
        "/openapi.json",
    ]
    for path in paths:
        head = await admin_client.head(path)
        get = await admin_client.get(path)
        same_answer(head, get)


async def test_head_carries_the_etag_and_a_current_one_is_304(admin_client: httpx.AsyncClient) -> None:
    created = await admin_client.post("/api/v1/products", json=PRODUCT)
    path = f"/api/v1/products/{created.json()['id']}"
    head = await admin_client.head(path)
    etag = head.headers["etag"]
    assert etag == (await admin_client.get(path)).headers["etag"]
    current = await admin_client.head(path, headers={"If-None-Match": etag})
    assert current.status_code == 304
    assert current.headers["etag"] == etag
    assert current.content == b""
    stale = await admin_client.head(path, headers={"If-None-Match": '"not-it"'})
    assert stale.status_code == 200
    assert stale.headers["etag"] == etag


async def test_head_answers_the_errors_get_would_with_their_fields_and_no_content(client: httpx.AsyncClient) -> None:
    missing = await client.head("/api/v1/products/7c9e6679-7425-40de-944b-e07fc1f90ae7")
    as_get = await client.get("/api/v1/products/7c9e6679-7425-40de-944b-e07fc1f90ae7")
    assert_problem(as_get, 404)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.content == b""
    assert int(missing.headers["content-length"]) > 0
    unauthorized = await client.head("/api/v1/users")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    invalid = await client.head("/api/v1/products?page=0")
    assert invalid.status_code == 422
    assert invalid.content == b""


async def test_head_changes_nothing(admin_client: httpx.AsyncClient) -> None:
    before = [(await admin_client.get(path)).json() for path in ("/api/v1/products", "/api/v1/users")]
    assert (await admin_client.head("/api/v1/products")).status_code == 200
    for path in ("/api/v1/auth/login", "/api/v1/auth/register"):  # POST only: HEAD is no way in
        refused = await admin_client.head(path)
        assert (refused.status_code, refused.content) == (405, b"")
    after = [(await admin_client.get(path)).json() for path in ("/api/v1/products", "/api/v1/users")]
    assert after == before
