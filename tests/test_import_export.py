"""Bulk import (NDJSON, upsert by SKU, batches) and export, through the API, on both configurations."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from impl.app import create_app
from impl.services.product_transfer import BATCH_LINES, MAX_LINE_BYTES
from impl.settings import Settings
from tests.conftest import ADMIN, client_for, login
from tests.helpers import assert_problem, bearer

pytestmark = pytest.mark.anyio

IMPORT = "/api/v1/products/import"
EXPORT = "/api/v1/products/export"
NDJSON = {"Content-Type": "application/x-ndjson"}


def product(n: int, **overrides: Any) -> dict[str, Any]:
    return {"name": f"Imported {n}", "price": round(10 + n / 100, 2), "sku": f"IMP-{n:06d}", **overrides}


def without_nulls(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if value is not None}


def ndjson(*items: Any) -> bytes:
    return b"".join((item if isinstance(item, bytes) else json.dumps(item).encode()) + b"\n" for item in items)


async def import_body(client: httpx.AsyncClient, body: bytes | AsyncIterator[bytes]) -> httpx.Response:
    return await client.post(IMPORT, content=body, headers=NDJSON)


async def all_products(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        answer = await client.get("/api/v1/products", params={"page": page, "page_size": 100, "sort_by": "name"})
        assert answer.status_code == 200
        items = answer.json()["items"]
        found.update({item["sku"]: item for item in items})
        if len(items) < 100:
            return found
        page += 1


async def exported(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await client.get(EXPORT)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert answer.text.endswith("\n") or answer.text == ""
    return [json.loads(line) for line in answer.text.splitlines()]


async def test_import_creates_products_that_lists_search_and_smart_search_find(
    admin_client: httpx.AsyncClient,
) -> None:
    before = await admin_client.get("/api/v1/products")  # cached: the import must move it on
    assert before.json()["total"] == 0
    lines = [product(n) for n in range(3)]
    lines.append(
        {
            "name": "Walnut writing desk",
            "price": 250,
            "sku": "DESK-1",
            "category": "furniture",
            "description": "A solid walnut desk with two drawers.",
            "stock": 4,
        }
    )
    answer = await import_body(admin_client, ndjson(*lines))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 4, "updated": 0, "rejected": 0, "errors": []}

    products = await all_products(admin_client)
    assert set(products) == {"IMP-000000", "IMP-000001", "IMP-000002", "DESK-1"}
    desk = products["DESK-1"]
    assert (desk["name"], desk["price"], desk["stock"], desk["category"]) == (
        "Walnut writing desk",
        250,
        4,
        "furniture",
    )
    assert products["IMP-000001"]["stock"] == 0  # the spec's default when left out
    assert products["IMP-000001"]["price"] == 10.01
    detail = await admin_client.get(f"/api/v1/products/{desk['id']}")
    assert detail.json()["description"] == "A solid walnut desk with two drawers."

    searched = await admin_client.get("/api/v1/products/search", params={"q": "walnut"})
    assert [item["sku"] for item in searched.json()["items"]] == ["DESK-1"]
    smart = await admin_client.get("/api/v1/search/smart", params={"q": "a table to write at", "limit": 1})
    assert smart.status_code == 200
    assert [item["sku"] for item in smart.json()["items"]] == ["DESK-1"]


async def test_import_replaces_the_product_holding_a_sku(admin_client: httpx.AsyncClient) -> None:
    created = await admin_client.post(
        "/api/v1/products",
        json={
            "name": "Old lamp",
            "price": 5,
            "sku": "LAMP-1",
            "description": "old text",
            "category": "old",
            "stock": 9,
        },
    )
    assert created.status_code == 201
    answer = await import_body(admin_client, ndjson({"name": "New lamp", "price": 7.5, "sku": "LAMP-1"}, product(1)))
    assert answer.json() == {"created": 1, "updated": 1, "rejected": 0, "errors": []}
    lamp = (await admin_client.get(f"/api/v1/products/{created.json()['id']}")).json()
    # The line replaces the product: fields it leaves out take their defaults.
    assert (lamp["name"], lamp["price"], lamp["description"], lamp["category"], lamp["stock"]) == (
        "New lamp",
        7.5,
        None,
        None,
        0,
    )
    assert lamp["id"] == created.json()["id"]
    assert lamp["created_at"] == created.json()["created_at"]


async def test_bad_lines_are_reported_by_number_and_the_rest_imports(admin_client: httpx.AsyncClient) -> None:
    body = b"".join(
        [
            ndjson(product(1)),  # 1: fine
            ndjson({"name": "Wrong", "price": "cheap", "sku": "BAD-1"}),  # 2: a wrong type
            b'{"name": "Cut", "price": 1, "sk\n',  # 3: truncated JSON
            b'{"name": "Latin-1 \xe9", "price": 1, "sku": "BAD-3"}\n',  # 4: not UTF-8
            b"\n",  # 5: blank, skipped
            ndjson({"name": "x" * (MAX_LINE_BYTES + 10), "price": 1, "sku": "BAD-5"}),  # 6: longer than the limit
            ndjson(product(1, name="Again")),  # 7: a SKU of line 1
            b'{"name": "Surrogate \\ud800", "price": 1, "sku": "BAD-7"}\n',  # 8: a lone surrogate
            b'{"name": "NaN", "price": NaN, "sku": "BAD-8"}\n',  # 9: not JSON
            ndjson({"name": "Extra", "price": 1, "sku": "BAD-9", "colour": "red"}),  # 10: a field the schema lacks
            ndjson([1, 2]),  # 11: not an object
            ndjson(product(2)),  # 12: fine
            ndjson(product(3))[:-1],  # 13: fine, the last line without its newline
        ]
    )
    answer = await import_body(admin_client, body)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["updated"], report["rejected"]) == (3, 0, 9)
    by_line = {error["line"]: error["errors"] for error in report["errors"]}
    assert sorted(by_line) == [2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert by_line[2][0]["loc"] == ["body", "price"]
    assert by_line[3][0]["type"] == "json_invalid"
    assert by_line[4][0]["type"] == "not_text"
    assert by_line[6][0]["type"] == "too_long"
    assert by_line[7] == [
        {"loc": ["body", "sku"], "msg": "This SKU is on an earlier line of this body.", "type": "duplicate"}
    ]
    assert by_line[8][0]["loc"] == ["body", "name"]
    assert by_line[9][0]["type"] == "json_invalid"
    assert by_line[10][0]["loc"] == ["body", "colour"]
    assert by_line[11][0]["loc"] == ["body"]
    assert set(await all_products(admin_client)) == {"IMP-000001", "IMP-000002", "IMP-000003"}
    assert (await all_products(admin_client))["IMP-000001"]["name"] == "Imported 1"  # line 7 changed nothing


async def test_only_the_first_hundred_rejected_lines_are_listed(admin_client: httpx.AsyncClient) -> None:
    answer = await import_body(admin_client, b"not json\n" * 150 + ndjson(product(1)))
    report = answer.json()
    assert (report["created"], report["rejected"]) == (1, 150)
    assert [error["line"] for error in report["errors"]] == list(range(1, 101))


@pytest.mark.parametrize("body", [b"", b"\n\n  \n"])
async def test_a_body_without_lines_is_refused(admin_client: httpx.AsyncClient, body: bytes) -> None:
    problem = assert_problem(await import_body(admin_client, body), 422)
    assert problem["errors"] == [{"loc": ["body"], "msg": problem["detail"], "type": "empty"}]


async def test_import_and_export_are_for_admins(client: httpx.AsyncClient, user_client: httpx.AsyncClient) -> None:
    assert_problem(await import_body(client, ndjson(product(1))), 401)
    assert_problem(await import_body(user_client, ndjson(product(1))), 403)
    assert_problem(await client.get(EXPORT), 401)
    assert_problem(await user_client.get(EXPORT), 403)
    assert (await client.get("/api/v1/products")).json()["total"] == 0


async def test_import_takes_ndjson_only(admin_client: httpx.AsyncClient) -> None:
    answer = await admin_client.post(IMPORT, json=[product(1)])
    assert_problem(answer, 415)


async def test_a_batch_is_written_whole_and_kept_when_the_body_is_cut(settings: Settings, tmp_path: Path) -> None:
    """Batches committed before the body passed its limit stay; the batch being read does not."""
    longest = max(len(ndjson(product(n))) for n in range(BATCH_LINES + 200))
    limited = settings.model_copy(update={"import_max_bytes": longest * (BATCH_LINES + 100)})
    app = create_app(limited)
    async with app.router.lifespan_context(app), client_for(app) as client:
        token = (await login(client, ADMIN["username"], ADMIN["password"]))["access_token"]
        client.headers.update(bearer(token))

        async def too_long() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse it early
            for n in range(BATCH_LINES + 200):
                yield ndjson(product(n))

        assert_problem(await import_body(client, too_long()), 413)
        assert len(await all_products(client)) == BATCH_LINES

        declared = ndjson(*(product(n) for n in range(BATCH_LINES + 200)))
        assert_problem(await import_body(client, declared), 413)  # refused before a line is read
        assert len(await all_products(client)) == BATCH_LINES


async def test_a_client_that_disconnects_keeps_the_committed_batches(app: FastAPI) -> None:
    async with client_for(app) as client:
        token = (await login(client, ADMIN["username"], ADMIN["password"]))["access_token"]
    lines = [ndjson(product(n)) for n in range(BATCH_LINES + 50)]
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in lines]
    messages.append({"type": "http.disconnect"})
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": IMPORT,
        "raw_path": IMPORT.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-ndjson"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    assert sent == []  # nobody to answer
    async with client_for(app) as client:
        assert len(await all_products(client)) == BATCH_LINES


async def test_export_then_import_into_an_empty_catalog_gives_the_same_catalog(
    admin_client: httpx.AsyncClient,
) -> None:
    lines = [
        without_nulls(
            product(n, stock=n, category="c" if n % 2 else None, description='é ✓ "quoted"\n' if n % 3 else None)
        )
        for n in range(BATCH_LINES + 20)
    ]
    assert (await import_body(admin_client, ndjson(*lines))).json()["created"] == len(lines)
    gone = (await all_products(admin_client))["IMP-000007"]
    assert (await admin_client.delete(f"/api/v1/products/{gone['id']}")).status_code == 204

    first = await exported(admin_client)
    assert len(first) == len(lines) - 1
    assert "IMP-000007" not in {item["sku"] for item in first}
    by_sku = {item["sku"]: item for item in first}
    for sent in (lines[0], lines[1], lines[2], lines[3]):  # the line as imported, fields without a value left out
        assert by_sku[sent["sku"]] == sent

    for item in (await all_products(admin_client)).values():  # an empty catalog again
        assert (await admin_client.delete(f"/api/v1/products/{item['id']}")).status_code == 204
    assert await exported(admin_client) == []
    body = "".join(json.dumps(item) + "\n" for item in first).encode()
    report = (await import_body(admin_client, body)).json()
    assert report == {"created": len(first), "updated": 0, "rejected": 0, "errors": []}
    second = await exported(admin_client)
    assert sorted(second, key=lambda item: item["sku"]) == sorted(first, key=lambda item: item["sku"])


async def test_export_of_an_empty_catalog_is_empty(admin_client: httpx.AsyncClient) -> None:
    assert await exported(admin_client) == []
    head = await admin_client.head(EXPORT)
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/x-ndjson"
