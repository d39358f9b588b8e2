"""The products API through HTTP: create, read, partial update, soft delete, list, filter, sort, search.

Every test runs on a fresh database (see conftest.py); nothing here depends on another test.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

import impl.services.products as product_service
from tests.conftest import ADMIN, login
from tests.helpers import assert_problem, empty_page, link_targets

pytestmark = pytest.mark.anyio

PRODUCTS = "/api/v1/products"
SEARCH = "/api/v1/products/search"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

PRODUCT_FIELDS = {"id", "name", "description", "price", "stock", "category", "sku", "created_at", "updated_at"}
PAGE_FIELDS = {"items", "total", "total_exact", "page", "page_size", "pages", "next_cursor"}


# ---------------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------------


async def create(admin: httpx.AsyncClient, sku: str, **fields: Any) -> dict[str, Any]:
    """Create a product (name and price default) and return its body; fails the test unless 201."""
    body: dict[str, Any] = {"name": f"Product {sku}", "price": 10.0, "sku": sku, **fields}
    response = await admin.post(PRODUCTS, json=body)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def post_raw(admin: httpx.AsyncClient, raw: str, content_type: str = "application/json") -> httpx.Response:
    return await admin.post(PRODUCTS, content=raw.encode(), headers={"Content-Type": content_type})


async def get_page(client: httpx.AsyncClient, url: str = PRODUCTS, **params: Any) -> dict[str, Any]:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert set(page) == PAGE_FIELDS
    return page


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


def skus(page: dict[str, Any]) -> list[str]:
    return [item["sku"] for item in page["items"]]


def assert_validation_error(response: httpx.Response, *locs: list[str | int]) -> list[dict[str, Any]]:
    """A 422 problem whose `errors` are well-formed and name every loc given; returns the errors."""
    body = assert_problem(response, 422)
    errors: list[dict[str, Any]] = body["errors"]
    assert errors, body
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}, error
        assert isinstance(error["loc"], list)
        assert isinstance(error["msg"], str)
        assert isinstance(error["type"], str)
    found = [error["loc"] for error in errors]
    for loc in locs:
        assert loc in found, f"{loc} not in {found}"
    return errors


async def total_products(client: httpx.AsyncClient) -> int:
    total: int = (await get_page(client))["total"]
    return total


# ---------------------------------------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------------------------------------


async def test_admin_creates_a_product_with_every_field(admin_client: httpx.AsyncClient) -> None:
    body = {
        "name": "Blue Mug",
        "description": "A mug.",
        "price": 12.5,
        "stock": 7,
        "category": "Kitchen",
        "sku": "MUG-BLUE.1_a",
    }
    response = await admin_client.post(PRODUCTS, json=body)

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    product = response.json()
    assert set(product) == PRODUCT_FIELDS
    assert UUID_RE.fullmatch(product["id"])
    assert response.headers["location"] == f"/api/v1/products/{product['id']}"
    for field, value in body.items():
        assert product[field] == value, field
    assert product["created_at"] == product["updated_at"]


async def test_created_product_can_be_fetched_at_its_location(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post(PRODUCTS, json={"name": "Lamp", "price": 19.99, "sku": "LAMP-1"})
    assert response.status_code == 201

    fetched = await admin_client.get(response.headers["location"])

    assert fetched.status_code == 200
    assert fetched.json() == response.json()


async def test_stock_defaults_to_zero_and_optional_fields_to_null(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post(PRODUCTS, json={"name": "Bare", "price": 1, "sku": "BARE"})

    assert response.status_code == 201, response.text
    product = response.json()
    assert product["stock"] == 0
    assert product["description"] is None
    assert product["category"] is None
    assert product["price"] == 1


@pytest.mark.parametrize(
    "price", [29.99, 0.07, 0.01, 0.1, 0.29, 0.35, 0.57, 1.1, 1.13, 1.15, 4.35, 8.7, 19.99, 12345678.91, 99999999.99]
)
async def test_price_comes_back_exactly_as_sent(admin_client: httpx.AsyncClient, price: float) -> None:
    response = await post_raw(admin_client, f'{{"name": "Priced", "price": {price!r}, "sku": "P-1"}}')

    assert response.status_code == 201, response.text
    assert f'"price":{price!r}' in response.text.replace(" ", "")
    assert response.json()["price"] == price
    fetched = await admin_client.get(f"{PRODUCTS}/{response.json()['id']}")
    assert fetched.json()["price"] == price
    listed = await get_page(admin_client)
    assert listed["items"][0]["price"] == price


async def test_integer_price_is_accepted(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "INT-1", price=5)

    assert product["price"] == 5


async def test_boundary_values_are_accepted(admin_client: httpx.AsyncClient) -> None:
    product = await create(
        admin_client,
        "B" * 64,
        name="n" * 200,
        description="d" * 2000,
        category="c" * 100,
        price=99999999.99,
        stock=2147483647,
    )

    assert product["sku"] == "B" * 64
    assert product["stock"] == 2147483647
    assert product["price"] == 99999999.99


async def test_description_with_tab_newline_and_carriage_return_is_accepted(admin_client: httpx.AsyncClient) -> None:
    description = "line one\n\tindented\r\nline three"

    product = await create(admin_client, "TXT-1", description=description)

    assert product["description"] == description


async def test_unicode_text_round_trips(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "UNI-1", name="Café ☕ 日本", category="Boissons é")

    assert product["name"] == "Café ☕ 日本"
    assert product["category"] == "Boissons é"


async def test_each_product_gets_its_own_id(admin_client: httpx.AsyncClient) -> None:
    first = await create(admin_client, "ID-1")
    second = await create(admin_client, "ID-2")

    assert first["id"] != second["id"]


# ---------------------------------------------------------------------------------------------------------------------
# Duplicate SKU
# ---------------------------------------------------------------------------------------------------------------------


async def test_duplicate_sku_is_409_problem(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "DUP-1", name="Original")

    response = await admin_client.post(PRODUCTS, json={"name": "Copy", "price": 2.5, "sku": "DUP-1"})

    body = assert_problem(response, 409)
    assert body["type"] == "urn:catalog-api:problem:conflict"


async def test_rejected_duplicate_leaves_the_catalog_unchanged(admin_client: httpx.AsyncClient) -> None:
    original = await create(admin_client, "DUP-2", name="Original", price=3.0)
    assert await total_products(admin_client) == 1

    response = await admin_client.post(PRODUCTS, json={"name": "Copy", "price": 4.0, "sku": "DUP-2"})

    assert response.status_code == 409
    page = await get_page(admin_client)
    assert page["total"] == 1
    assert page["items"] == [original]


async def test_sku_of_a_deleted_product_can_be_reused(admin_client: httpx.AsyncClient) -> None:
    old = await create(admin_client, "REUSE-1", name="Old")
    assert (await admin_client.delete(f"{PRODUCTS}/{old['id']}")).status_code == 204

    new = await create(admin_client, "REUSE-1", name="New")

    assert new["id"] != old["id"]
    assert new["sku"] == "REUSE-1"
    assert (await admin_client.get(f"{PRODUCTS}/{new['id']}")).status_code == 200
    assert (await admin_client.get(f"{PRODUCTS}/{old['id']}")).status_code == 404


async def test_sku_is_compared_exactly(admin_client: httpx.AsyncClient) -> None:
    # The spec says nothing about SKUs being case-insensitive: different spellings are different SKUs.
    await create(admin_client, "case-sku")

    response = await admin_client.post(PRODUCTS, json={"name": "Other", "price": 1, "sku": "CASE-SKU"})

    assert response.status_code == 201, response.text


# ---------------------------------------------------------------------------------------------------------------------
# Get
# ---------------------------------------------------------------------------------------------------------------------


async def test_anyone_can_get_a_product_without_a_token(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    product = await create(admin_client, "GET-1", description="Described", category="Cat", stock=3)

    response = await client.get(f"{PRODUCTS}/{product['id']}")

    assert response.status_code == 200
    assert response.json() == product


async def test_get_unknown_product_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{PRODUCTS}/{UNKNOWN_ID}")

    body = assert_problem(response, 404)
    assert body["type"] == "urn:catalog-api:problem:not-found"


@pytest.mark.parametrize("product_id", ["not-a-uuid", "123", "00000000-0000-4000-8000-00000000000g"])
async def test_get_with_non_uuid_id_is_422(client: httpx.AsyncClient, product_id: str) -> None:
    response = await client.get(f"{PRODUCTS}/{product_id}")

    assert_validation_error(response, ["path", "product_id"])


async def test_update_and_delete_with_non_uuid_id_are_422(admin_client: httpx.AsyncClient) -> None:
    updated = await admin_client.put(f"{PRODUCTS}/not-a-uuid", json={"name": "x"})
    deleted = await admin_client.delete(f"{PRODUCTS}/not-a-uuid")

    assert_validation_error(updated, ["path", "product_id"])
    assert_validation_error(deleted, ["path", "product_id"])


# ---------------------------------------------------------------------------------------------------------------------
# Partial update
# ---------------------------------------------------------------------------------------------------------------------


async def test_update_with_one_field_keeps_the_others(admin_client: httpx.AsyncClient) -> None:
    product = await create(
        admin_client, "UPD-1", name="Before", description="Desc", category="Cat", stock=4, price=9.99
    )

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"price": 24.99})

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["price"] == 24.99
    for field in ("id", "name", "description", "stock", "category", "sku", "created_at"):
        assert updated[field] == product[field], field
    assert updated["updated_at"] >= product["updated_at"]
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == updated


async def test_update_every_field_at_once(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "UPD-2")
    changes = {
        "name": "After",
        "description": "New\tdescription\n",
        "price": 0.07,
        "stock": 99,
        "category": "Garden",
        "sku": "UPD-2B",
    }

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json=changes)

    assert response.status_code == 200, response.text
    updated = response.json()
    for field, value in changes.items():
        assert updated[field] == value, field
    assert updated["id"] == product["id"]
    assert updated["created_at"] == product["created_at"]


async def test_update_sku_to_its_own_sku_is_allowed(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "SELF-1")

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"sku": "SELF-1", "stock": 2})

    assert response.status_code == 200, response.text
    assert response.json()["sku"] == "SELF-1"
    assert response.json()["stock"] == 2


async def test_update_sku_to_another_live_products_sku_is_409(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "TAKEN-1")
    product = await create(admin_client, "FREE-1", name="Keep me")

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"sku": "TAKEN-1", "name": "Changed"})

    assert_problem(response, 409)
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


async def test_update_sku_to_a_deleted_products_sku_is_allowed(admin_client: httpx.AsyncClient) -> None:
    gone = await create(admin_client, "GONE-1")
    assert (await admin_client.delete(f"{PRODUCTS}/{gone['id']}")).status_code == 204
    product = await create(admin_client, "LIVE-1")

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"sku": "GONE-1"})

    assert response.status_code == 200, response.text
    assert response.json()["sku"] == "GONE-1"


async def test_freed_sku_can_be_taken_by_a_new_product_after_an_update(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "OLD-SKU")
    assert (await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"sku": "NEW-SKU"})).status_code == 200

    await create(admin_client, "OLD-SKU")
    duplicate = await admin_client.post(PRODUCTS, json={"name": "x", "price": 1, "sku": "NEW-SKU"})

    assert duplicate.status_code == 409


async def test_update_with_empty_body_is_422(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "EMPTY-1")

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={})

    errors = assert_validation_error(response, ["body"])
    assert errors[0]["type"] == "min_properties"
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


@pytest.mark.parametrize("field", ["name", "description", "price", "stock", "category", "sku"])
async def test_update_with_a_null_field_is_422(admin_client: httpx.AsyncClient, field: str) -> None:
    product = await create(admin_client, "NULL-1", description="Desc", category="Cat", stock=5)

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={field: None})

    assert_validation_error(response, ["body", field])
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


async def test_update_with_an_unknown_field_is_422(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "UNK-1")

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"name": "New", "colour": "red"})

    assert_validation_error(response, ["body", "colour"])
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


async def test_update_cannot_change_read_only_fields(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "RO-1")

    for field, value in (("id", UNKNOWN_ID), ("created_at", "2020-01-01T00:00:00Z")):
        response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={field: value})
        assert_validation_error(response, ["body", field])

    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


async def test_rejected_update_leaves_the_product_unchanged(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "KEEP-1", name="Keep", price=5.55, stock=3)

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"name": "Changed", "price": 0})

    assert_validation_error(response, ["body", "price"])
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


async def test_update_unknown_product_is_404(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.put(f"{PRODUCTS}/{UNKNOWN_ID}", json={"name": "x"})

    assert_problem(response, 404)


async def test_update_validates_like_create(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "VAL-1")
    invalid: list[dict[str, Any]] = [
        {"price": 0.001},
        {"price": 100000000},
        {"stock": -1},
        {"stock": 1.5},
        {"name": ""},
        {"name": "bad\u0001name"},
        {"sku": "bad sku"},
        {"category": ""},
        {"description": "nul\u0000"},
    ]
    for body in invalid:
        response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json=body)
        assert_validation_error(response, ["body", next(iter(body))])

    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


async def test_update_with_malformed_json_is_400(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "MAL-1")

    response = await admin_client.put(
        f"{PRODUCTS}/{product['id']}", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400)


async def test_update_with_wrong_content_type_is_415(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "CT-1")

    response = await admin_client.put(
        f"{PRODUCTS}/{product['id']}", content=b'{"name": "x"}', headers={"Content-Type": "text/plain"}
    )

    assert_problem(response, 415)
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json() == product


# ---------------------------------------------------------------------------------------------------------------------
# Soft delete
# ---------------------------------------------------------------------------------------------------------------------


async def test_deleted_product_is_gone_everywhere(admin_client: httpx.AsyncClient) -> None:
    kept = await create(admin_client, "DEL-KEEP", name="Gadget kept")
    doomed = await create(admin_client, "DEL-GONE", name="Gadget doomed")
    url = f"{PRODUCTS}/{doomed['id']}"
    # Read everything once first, so an answer remembered from before the delete cannot hide it.
    assert (await admin_client.get(url)).status_code == 200
    assert (await get_page(admin_client))["total"] == 2
    assert (await get_page(admin_client, SEARCH, q="Gadget"))["total"] == 2
    assert (await get_page(admin_client, SEARCH, q="DEL-GONE"))["total"] == 1

    response = await admin_client.delete(url)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await admin_client.get(url), 404)
    assert_problem(await admin_client.put(url, json={"name": "Back"}), 404)
    assert_problem(await admin_client.delete(url), 404)
    listed = await get_page(admin_client)
    assert listed["total"] == 1
    assert listed["items"] == [kept]
    searched = await get_page(admin_client, SEARCH, q="Gadget")
    assert searched["total"] == 1
    assert searched["items"] == [kept]
    assert (await get_page(admin_client, SEARCH, q="DEL-GONE"))["total"] == 0


async def test_delete_unknown_product_is_404(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.delete(f"{PRODUCTS}/{UNKNOWN_ID}")

    assert_problem(response, 404)


# ---------------------------------------------------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------------------------------------------------


async def test_empty_catalog_is_an_empty_first_page(client: httpx.AsyncClient) -> None:
    page = await get_page(client)

    assert page == empty_page()


async def test_pagination_arithmetic(admin_client: httpx.AsyncClient) -> None:
    for number in range(25):
        await create(admin_client, f"PG-{number:02d}", name=f"Item {number:02d}")

    first = await get_page(admin_client, page_size=10, sort_by="name", sort_order="asc")
    third = await get_page(admin_client, page=3, page_size=10, sort_by="name", sort_order="asc")
    past = await get_page(admin_client, page=4, page_size=10, sort_by="name", sort_order="asc")

    assert {k: first[k] for k in ("total", "page", "page_size", "pages")} == {
        "total": 25,
        "page": 1,
        "page_size": 10,
        "pages": 3,
    }
    assert names(first) == [f"Item {n:02d}" for n in range(10)]
    assert third["page"] == 3
    assert names(third) == [f"Item {n:02d}" for n in range(20, 25)]
    assert past == {
        "items": [],
        "total": 25,
        "total_exact": True,
        "page": 4,
        "page_size": 10,
        "pages": 3,
        "next_cursor": None,
    }


async def test_following_next_links_walks_every_page_with_the_query_kept(admin_client: httpx.AsyncClient) -> None:
    for number in range(7):
        await create(admin_client, f"LNK-{number}", name=f"Linked {number}", category="Links")
    await create(admin_client, "LNK-other", name="Linked elsewhere", category="Elsewhere")

    target = f"{PRODUCTS}?category=Links&page_size=3&sort_by=name&sort_order=asc"
    seen: list[str] = []
    visited: list[dict[str, str]] = []
    while target:
        response = await admin_client.get(target)
        assert response.status_code == 200
        seen.extend(item["name"] for item in response.json()["items"])
        links = link_targets(response)
        visited.append(links)
        target = links.get("next", "")

    assert seen == [f"Linked {n}" for n in range(7)]
    query = "page_size=3&category=Links&sort_by=name&sort_order=asc"
    # `next` goes by cursor; the others by page number.
    assert visited[0]["next"].startswith(f"{PRODUCTS}?{query}&cursor=")
    assert {rel: target for rel, target in visited[0].items() if rel != "next"} == {
        "first": f"{PRODUCTS}?{query}&page=1",
        "last": f"{PRODUCTS}?{query}&page=3",
    }
    assert visited[2] == {"first": f"{PRODUCTS}?{query}&page=1", "last": f"{PRODUCTS}?{query}&page=3"}


async def test_links_on_search_users_and_an_empty_list(admin_client: httpx.AsyncClient) -> None:
    empty = await admin_client.get(f"{PRODUCTS}?name=nothing-like-this")
    assert link_targets(empty) == {
        "first": f"{PRODUCTS}?name=nothing-like-this&page=1",
        "last": f"{PRODUCTS}?name=nothing-like-this&page=1",
    }
    for number in range(3):
        await create(admin_client, f"SRCH-{number}", name=f"Searchable {number}")
    search = await admin_client.get(f"{PRODUCTS}/search?q=searchable&page_size=2&page=2")
    assert link_targets(search) == {
        "first": f"{PRODUCTS}/search?q=searchable&page_size=2&page=1",
        "prev": f"{PRODUCTS}/search?q=searchable&page_size=2&page=1",
        "last": f"{PRODUCTS}/search?q=searchable&page_size=2&page=2",
    }
    # A cached answer carries the same links.
    again = await admin_client.get(f"{PRODUCTS}/search?q=searchable&page_size=2&page=2")
    assert again.headers["x-cache"] == "HIT"
    assert again.headers["link"] == search.headers["link"]
    users = await admin_client.get("/api/v1/users?page_size=1")
    assert link_targets(users) == {
        "first": "/api/v1/users?page_size=1&page=1",
        "last": "/api/v1/users?page_size=1&page=1",
    }


async def test_pages_cover_every_product_exactly_once(admin_client: httpx.AsyncClient) -> None:
    created = {(await create(admin_client, f"ALL-{n}"))["id"] for n in range(7)}

    seen: list[str] = []
    for number in (1, 2, 3):
        page = await get_page(admin_client, page=number, page_size=3)
        assert page["pages"] == 3
        seen.extend(item["id"] for item in page["items"])

    assert len(seen) == 7
    assert set(seen) == created


async def test_default_page_size_is_ten(admin_client: httpx.AsyncClient) -> None:
    for number in range(12):
        await create(admin_client, f"DEF-{number}")

    page = await get_page(admin_client)

    assert page["page"] == 1
    assert page["page_size"] == 10
    assert len(page["items"]) == 10
    assert page["pages"] == 2


async def test_extreme_valid_pagination_values_are_accepted(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "EXT-1")

    # The page window's edges: page × page_size = 10,000.
    deepest = await get_page(admin_client, page=10000, page_size=1)
    largest = await get_page(admin_client, page=100, page_size=100)
    smallest = await get_page(admin_client, page=1, page_size=1)

    for page in (deepest, largest):
        assert (page["items"], page["total"], page["pages"], page["next_cursor"]) == ([], 1, 1, None)
    assert len(smallest["items"]) == 1
    assert smallest["pages"] == 1


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "10001"),
        ("page", "abc"),
        ("page", "1.5"),
        ("page", ""),
        ("page", "99999999999999999999"),
        ("page_size", "0"),
        ("page_size", "101"),
        ("page_size", "-5"),
        ("page_size", "ten"),
        ("page_size", "99999999999999999999"),
    ],
)
async def test_out_of_range_pagination_is_422(client: httpx.AsyncClient, param: str, value: str) -> None:
    for url in (PRODUCTS, SEARCH):
        params = {param: value, "q": "x"} if url == SEARCH else {param: value}
        response = await client.get(url, params=params)
        assert_validation_error(response, ["query", param])


# ---------------------------------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------------------------------


async def seed_filter_catalog(admin: httpx.AsyncClient) -> None:
    await create(admin, "F-1", name="Red Apple", price=1.5, stock=10, category="Fruit")
    await create(admin, "F-2", name="Green apple pie", price=7.25, stock=0, category="Bakery")
    await create(admin, "F-3", name="Banana", price=0.99, stock=3, category="Fruit")
    await create(admin, "F-4", name="PINEAPPLE", price=3.0, stock=1, category="fruit")
    await create(admin, "F-5", name="Carrot", price=10.0, stock=0)


async def test_name_filter_is_a_case_insensitive_substring(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    for needle in ("apple", "APPLE", "aPpLe"):
        page = await get_page(admin_client, name=needle)
        assert sorted(skus(page)) == ["F-1", "F-2", "F-4"], needle
        assert page["total"] == 3
    assert skus(await get_page(admin_client, name="nana")) == ["F-3"]
    assert (await get_page(admin_client, name="durian"))["total"] == 0


async def test_category_filter_is_exact_and_case_sensitive(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    assert sorted(skus(await get_page(admin_client, category="Fruit"))) == ["F-1", "F-3"]
    assert skus(await get_page(admin_client, category="fruit")) == ["F-4"]
    assert (await get_page(admin_client, category="Fru"))["total"] == 0
    assert (await get_page(admin_client, category="FRUIT"))["total"] == 0


async def test_price_bounds_are_inclusive(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    assert sorted(skus(await get_page(admin_client, min_price=3))) == ["F-2", "F-4", "F-5"]
    assert sorted(skus(await get_page(admin_client, max_price=1.5))) == ["F-1", "F-3"]
    assert sorted(skus(await get_page(admin_client, min_price=1.5, max_price=7.25))) == ["F-1", "F-2", "F-4"]
    assert skus(await get_page(admin_client, min_price=0.99, max_price=0.99)) == ["F-3"]
    assert skus(await get_page(admin_client, min_price="7.25", max_price="7.25")) == ["F-2"]
    assert (await get_page(admin_client, min_price=1.51, max_price=2.99))["total"] == 0


async def test_price_bounds_between_cents(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    assert skus(await get_page(admin_client, min_price=0.985, max_price=0.995)) == ["F-3"]
    assert (await get_page(admin_client, min_price=0.991, max_price=1.499))["total"] == 0


async def test_min_price_above_max_price_is_422(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    response = await admin_client.get(PRODUCTS, params={"min_price": 5, "max_price": 1})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["query", "max_price"], "msg": "max_price is below min_price: no price can match.", "type": "minimum"}
    ]
    equal = await get_page(admin_client, min_price=5, max_price=5)  # one price is a range too
    assert equal["page"] == 1


async def test_price_bounds_at_the_limits_are_accepted(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    assert (await get_page(admin_client, min_price=0, max_price=99999999.99))["total"] == 5
    assert (await get_page(admin_client, min_price=99999999.99))["total"] == 0


async def test_in_stock_only_keeps_products_with_stock_above_zero(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    assert sorted(skus(await get_page(admin_client, in_stock_only="true"))) == ["F-1", "F-3", "F-4"]
    assert (await get_page(admin_client, in_stock_only="false"))["total"] == 5


async def test_filters_combine(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    assert skus(await get_page(admin_client, name="apple", category="Fruit")) == ["F-1"]
    assert sorted(skus(await get_page(admin_client, name="apple", in_stock_only="true"))) == ["F-1", "F-4"]
    assert skus(await get_page(admin_client, category="Fruit", max_price=1)) == ["F-3"]
    page = await get_page(
        admin_client, name="a", category="Fruit", min_price=1, max_price=2, in_stock_only="true", page_size=1
    )
    assert skus(page) == ["F-1"]
    assert page["total"] == 1
    assert (await get_page(admin_client, name="apple", category="Bakery", in_stock_only="true"))["total"] == 0


async def test_filtered_total_and_pages_count_only_matches(admin_client: httpx.AsyncClient) -> None:
    for number in range(6):
        await create(admin_client, f"M-{number}", category="Match" if number % 2 else "Other")

    page = await get_page(admin_client, category="Match", page_size=2)

    assert page["total"] == 3
    assert page["pages"] == 2
    assert len(page["items"]) == 2


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("min_price", "nan"),
        ("min_price", "NaN"),
        ("min_price", "inf"),
        ("min_price", "-inf"),
        ("min_price", "Infinity"),
        ("min_price", "abc"),
        ("min_price", "-1"),
        ("min_price", "100000000"),
        ("min_price", "1e400"),
        ("max_price", "nan"),
        ("max_price", "inf"),
        ("max_price", "abc"),
        ("max_price", "-0.01"),
        ("in_stock_only", "yes"),
        ("name", ""),
        ("name", "n" * 201),
        ("name", "bad\u0001"),
        ("category", ""),
        ("category", "c" * 101),
        ("sort_by", "id"),
        ("sort_by", "Name"),
        ("sort_by", "price;drop"),
        ("sort_order", "ascending"),
        ("sort_order", "ASC"),
    ],
)
async def test_invalid_list_parameters_are_422(client: httpx.AsyncClient, param: str, value: str) -> None:
    response = await client.get(PRODUCTS, params={param: value})

    assert_validation_error(response, ["query", param])


# ---------------------------------------------------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------------------------------------------------


async def test_default_order_is_newest_first(admin_client: httpx.AsyncClient) -> None:
    for sku in ("NEW-1", "NEW-2", "NEW-3"):
        await create(admin_client, sku)

    default = await get_page(admin_client)
    explicit = await get_page(admin_client, sort_by="created_at", sort_order="desc")
    only_field = await get_page(admin_client, sort_by="created_at")

    assert skus(default) == ["NEW-3", "NEW-2", "NEW-1"]
    assert explicit["items"] == default["items"]
    assert only_field["items"] == default["items"]


async def test_sort_by_created_at_ascending_is_oldest_first(admin_client: httpx.AsyncClient) -> None:
    for sku in ("OLD-1", "OLD-2", "OLD-3"):
        await create(admin_client, sku)

    page = await get_page(admin_client, sort_by="created_at", sort_order="asc")

    assert skus(page) == ["OLD-1", "OLD-2", "OLD-3"]
    stamps = [item["created_at"] for item in page["items"]]
    assert stamps == sorted(stamps)


async def test_sort_order_alone_applies_to_created_at(admin_client: httpx.AsyncClient) -> None:
    for sku in ("SO-1", "SO-2"):
        await create(admin_client, sku)

    assert skus(await get_page(admin_client, sort_order="asc")) == ["SO-1", "SO-2"]


async def test_sort_by_name_is_case_insensitive(admin_client: httpx.AsyncClient) -> None:
    for name in ("cherry", "Banana", "apple", "Apricot", "banana split"):
        await create(admin_client, name.replace(" ", "-"), name=name)

    ascending = await get_page(admin_client, sort_by="name", sort_order="asc")
    descending = await get_page(admin_client, sort_by="name", sort_order="desc")
    default_order = await get_page(admin_client, sort_by="name")

    assert names(ascending) == ["apple", "Apricot", "Banana", "banana split", "cherry"]
    assert names(descending) == ["cherry", "banana split", "Banana", "Apricot", "apple"]
    assert names(default_order) == names(descending)


async def test_sort_by_price(admin_client: httpx.AsyncClient) -> None:
    for sku, price in (("PR-A", 10.0), ("PR-B", 2.5), ("PR-C", 100.0), ("PR-D", 9.99)):
        await create(admin_client, sku, price=price)

    ascending = await get_page(admin_client, sort_by="price", sort_order="asc")
    descending = await get_page(admin_client, sort_by="price", sort_order="desc")

    assert [item["price"] for item in ascending["items"]] == [2.5, 9.99, 10.0, 100.0]
    assert [item["price"] for item in descending["items"]] == [100.0, 10.0, 9.99, 2.5]


async def test_sort_by_stock(admin_client: httpx.AsyncClient) -> None:
    for sku, stock in (("ST-A", 5), ("ST-B", 0), ("ST-C", 1000), ("ST-D", 42)):
        await create(admin_client, sku, stock=stock)

    ascending = await get_page(admin_client, sort_by="stock", sort_order="asc")
    descending = await get_page(admin_client, sort_by="stock", sort_order="desc")

    assert [item["stock"] for item in ascending["items"]] == [0, 5, 42, 1000]
    assert [item["stock"] for item in descending["items"]] == [1000, 42, 5, 0]


@pytest.mark.parametrize(
    ("sort_by", "same"), [("price", {"price": 5.0}), ("stock", {"stock": 3}), ("name", {"name": "Same"})]
)
async def test_ties_are_broken_by_id(admin_client: httpx.AsyncClient, sort_by: str, same: dict[str, Any]) -> None:
    ids = [(await create(admin_client, f"TIE-{n}", **same))["id"] for n in range(6)]

    ascending = await get_page(admin_client, sort_by=sort_by, sort_order="asc")
    descending = await get_page(admin_client, sort_by=sort_by, sort_order="desc")

    assert [item["id"] for item in ascending["items"]] == sorted(ids)
    assert [item["id"] for item in descending["items"]] == sorted(ids, reverse=True)


async def test_name_ties_differing_only_in_case_are_broken_by_id(admin_client: httpx.AsyncClient) -> None:
    ids = [
        (await create(admin_client, f"CASE-{n}", name=name))["id"] for n, name in enumerate(["same", "SAME", "Same"])
    ]

    ascending = await get_page(admin_client, sort_by="name", sort_order="asc")

    assert [item["id"] for item in ascending["items"]] == sorted(ids)


async def test_sorted_pages_do_not_overlap_with_ties(admin_client: httpx.AsyncClient) -> None:
    ids = {(await create(admin_client, f"OV-{n}", price=1.0))["id"] for n in range(9)}

    seen: list[str] = []
    for number in (1, 2, 3):
        page = await get_page(admin_client, sort_by="price", sort_order="asc", page=number, page_size=4)
        seen.extend(item["id"] for item in page["items"])

    assert len(seen) == 9
    assert set(seen) == ids


async def test_sort_applies_after_filters(admin_client: httpx.AsyncClient) -> None:
    await seed_filter_catalog(admin_client)

    page = await get_page(admin_client, category="Fruit", sort_by="price", sort_order="desc")

    assert skus(page) == ["F-1", "F-3"]


# ---------------------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------------------


async def seed_search_catalog(admin: httpx.AsyncClient) -> None:
    await create(admin, "S-1", name="Walnut Desk", description="Solid wood", category="Furniture")
    await create(admin, "S-2", name="Office Chair", description="Ergonomic, with WOODEN arms", category="Seating")
    await create(admin, "S-3", name="Lamp", category="Lighting")
    await create(admin, "WOODY-42", name="Shelf")


async def test_search_matches_name_description_category_and_sku(admin_client: httpx.AsyncClient) -> None:
    await seed_search_catalog(admin_client)

    assert skus(await get_page(admin_client, SEARCH, q="walnut")) == ["S-1"]
    assert skus(await get_page(admin_client, SEARCH, q="ERGONOMIC")) == ["S-2"]
    assert skus(await get_page(admin_client, SEARCH, q="lighting")) == ["S-3"]
    assert skus(await get_page(admin_client, SEARCH, q="woody-4")) == ["WOODY-42"]
    assert (await get_page(admin_client, SEARCH, q="nothing like this"))["total"] == 0


async def test_search_is_case_insensitive_across_fields_and_ranked(admin_client: httpx.AsyncClient) -> None:
    await seed_search_catalog(admin_client)

    page = await get_page(admin_client, SEARCH, q="WoOd")

    # "Shelf" (inside its SKU) ranks before description words ("wooden", "wood"), those by name.
    assert names(page) == ["Shelf", "Office Chair", "Walnut Desk"]
    assert page["total"] == 3


async def test_search_orders_names_case_insensitively_then_by_id(admin_client: httpx.AsyncClient) -> None:
    for sku, name in (("O-1", "cherry tart"), ("O-2", "Banana tart"), ("O-3", "apple tart")):
        await create(admin_client, sku, name=name)
    tie_ids = [(await create(admin_client, f"O-T{n}", name="Tart"))["id"] for n in range(3)]

    page = await get_page(admin_client, SEARCH, q="tart")

    assert names(page) == ["apple tart", "Banana tart", "cherry tart", "Tart", "Tart", "Tart"]
    assert [item["id"] for item in page["items"][3:]] == sorted(tie_ids)


async def test_name_filter_wildcards_are_literal(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "NW-1", name="50% off")
    await create(admin_client, "NW-2", name="a_b")
    await create(admin_client, "NW-3", name="plain")

    assert skus(await get_page(admin_client, name="%")) == ["NW-1"]
    assert skus(await get_page(admin_client, name="_")) == ["NW-2"]


async def test_search_paginates(admin_client: httpx.AsyncClient) -> None:
    for number in range(12):
        await create(admin_client, f"SP-{number:02d}", name=f"Match {number:02d}")
    await create(admin_client, "SP-X", name="Other")

    first = await get_page(admin_client, SEARCH, q="match", page_size=5)
    last = await get_page(admin_client, SEARCH, q="match", page=3, page_size=5)
    past = await get_page(admin_client, SEARCH, q="match", page=4, page_size=5)

    assert {k: first[k] for k in ("total", "page", "page_size", "pages")} == {
        "total": 12,
        "page": 1,
        "page_size": 5,
        "pages": 3,
    }
    assert names(first) == [f"Match {n:02d}" for n in range(5)]
    assert names(last) == ["Match 10", "Match 11"]
    assert past == {
        "items": [],
        "total": 12,
        "total_exact": True,
        "page": 4,
        "page_size": 5,
        "pages": 3,
        "next_cursor": None,
    }


async def test_search_with_no_match_is_an_empty_page(client: httpx.AsyncClient) -> None:
    page = await get_page(client, SEARCH, q="anything")

    assert page == empty_page()


async def test_search_accepts_a_hundred_characters(client: httpx.AsyncClient) -> None:
    assert (await get_page(client, SEARCH, q="q" * 100))["total"] == 0


async def test_search_without_q_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get(SEARCH)

    errors = assert_validation_error(response, ["query", "q"])
    assert errors[0]["type"] == "required"


@pytest.mark.parametrize("q", ["", "q" * 101, "tab\there", "nul\u0000"])
async def test_invalid_search_q_is_422(client: httpx.AsyncClient, q: str) -> None:
    response = await client.get(SEARCH, params={"q": q})

    assert_validation_error(response, ["query", "q"])


async def test_search_path_is_not_taken_as_a_product_id(admin_client: httpx.AsyncClient) -> None:
    # PUT/DELETE on /products/search are not declared; they must not reach /products/{product_id}.
    assert (await admin_client.put(SEARCH, json={"name": "x"})).status_code == 405
    assert (await admin_client.delete(SEARCH)).status_code == 405


# ---------------------------------------------------------------------------------------------------------------------
# Authentication and authorization
# ---------------------------------------------------------------------------------------------------------------------


async def test_create_without_token_is_401_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.post(PRODUCTS, json={"name": "x", "price": 1, "sku": "NO-AUTH"})

    body = assert_problem(response, 401)
    assert body["type"] == "urn:catalog-api:problem:unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_update_and_delete_without_token_are_401(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    product = await create(admin_client, "NA-1")
    url = f"{PRODUCTS}/{product['id']}"

    for response in (await client.put(url, json={"name": "x"}), await client.delete(url)):
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")

    assert (await client.get(url)).json() == product


@pytest.mark.parametrize(
    "authorization", ["Bearer garbage", "Bearer a.b.c", "Bearer ", "Basic YWRtaW46QWRtaW5QYXNzMTIz", "garbage"]
)
async def test_invalid_credentials_are_401(client: httpx.AsyncClient, authorization: str) -> None:
    response = await client.post(
        PRODUCTS, json={"name": "x", "price": 1, "sku": "BAD-AUTH"}, headers={"Authorization": authorization}
    )

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_refresh_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    tokens = await login(client, ADMIN["username"], ADMIN["password"])

    response = await client.post(
        PRODUCTS,
        json={"name": "x", "price": 1, "sku": "REFRESH"},
        headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
    )

    assert_problem(response, 401)


async def test_user_cannot_create_product(user_client: httpx.AsyncClient) -> None:
    response = await user_client.post(PRODUCTS, json={"name": "x", "price": 1, "sku": "USER-1"})

    body = assert_problem(response, 403)
    assert body["type"] == "urn:catalog-api:problem:forbidden"
    assert (await total_products(user_client)) == 0


async def test_user_cannot_update_or_delete_product(
    admin_client: httpx.AsyncClient, user_client: httpx.AsyncClient
) -> None:
    product = await create(admin_client, "USER-2")
    url = f"{PRODUCTS}/{product['id']}"

    assert_problem(await user_client.put(url, json={"name": "Hijacked"}), 403)
    assert_problem(await user_client.delete(url), 403)

    assert (await user_client.get(url)).json() == product


async def test_user_can_read_the_catalog(admin_client: httpx.AsyncClient, user_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "USER-3", name="Readable")

    assert (await user_client.get(f"{PRODUCTS}/{product['id']}")).status_code == 200
    assert (await get_page(user_client))["items"] == [product]
    assert (await get_page(user_client, SEARCH, q="readable"))["items"] == [product]


async def test_public_reads_need_no_token(admin_client: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "PUB-1", name="Public")
    assert "authorization" not in client.headers

    assert (await client.get(f"{PRODUCTS}/{product['id']}")).status_code == 200
    assert (await get_page(client))["total"] == 1
    assert (await get_page(client, SEARCH, q="public"))["total"] == 1


async def test_public_reads_ignore_a_bad_token(admin_client: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    # security: [] on the GETs; a stale or garbage token must not turn a public read into a 401.
    await create(admin_client, "PUB-2")

    response = await client.get(PRODUCTS, headers={"Authorization": "Bearer garbage"})

    assert response.status_code == 200


async def test_user_is_refused_before_the_body_is_looked_at(
    admin_client: httpx.AsyncClient, user_client: httpx.AsyncClient
) -> None:
    product = await create(admin_client, "USER-4")

    assert_problem(await user_client.post(PRODUCTS, json={}), 403)
    assert_problem(await user_client.put(f"{PRODUCTS}/{product['id']}", json={}), 403)
    assert_problem(await user_client.delete(f"{PRODUCTS}/{UNKNOWN_ID}"), 403)


async def test_user_with_wrong_content_type_is_still_403(user_client: httpx.AsyncClient) -> None:
    response = await user_client.post(PRODUCTS, content=b"name=x", headers={"Content-Type": "text/plain"})

    assert_problem(response, 403)


# ---------------------------------------------------------------------------------------------------------------------
# Request validation (JSON Schema of openapi.yaml)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", 0),
        ("price", -1),
        ("price", 0.001),
        ("price", 0.005),
        ("price", 1.234),
        ("price", 0.35000000000000003),
        ("price", 100000000),
        ("price", 99999999.991),
        ("price", "29.99"),
        ("price", True),
        ("price", [1]),
        ("stock", -1),
        ("stock", 2147483648),
        ("stock", 1.5),
        ("stock", 10**30),
        ("stock", "3"),
        ("stock", False),
        ("name", ""),
        ("name", "n" * 201),
        ("name", "bad\u0001name"),
        ("name", "new\nline"),
        ("name", "tab\t"),
        ("name", 5),
        ("description", "d" * 2001),
        ("description", "nul\u0000"),
        ("description", "bell\u0007"),
        ("description", "escape\u001b"),
        ("category", ""),
        ("category", "c" * 101),
        ("category", "line\nbreak"),
        ("sku", "bad sku"),
        ("sku", ""),
        ("sku", "S" * 65),
        ("sku", "sku/slash"),
        ("sku", "ümlaut"),
        ("sku", "trailing\n"),
    ],
)
async def test_invalid_field_is_422_naming_the_field(admin_client: httpx.AsyncClient, field: str, value: Any) -> None:
    body: dict[str, Any] = {"name": "Valid", "price": 1.0, "sku": "VALID-1", field: value}

    response = await admin_client.post(PRODUCTS, json=body)

    assert_validation_error(response, ["body", field])
    assert await total_products(admin_client) == 0


async def test_price_zero_error_names_the_minimum(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post(PRODUCTS, json={"name": "x", "price": 0, "sku": "MIN-1"})

    errors = assert_validation_error(response, ["body", "price"])
    assert errors[0]["type"] == "minimum"


@pytest.mark.parametrize("field", ["name", "price", "sku"])
async def test_missing_required_field_is_422_naming_it(admin_client: httpx.AsyncClient, field: str) -> None:
    body: dict[str, Any] = {"name": "Valid", "price": 1.0, "sku": "REQ-1"}
    del body[field]

    response = await admin_client.post(PRODUCTS, json=body)

    errors = assert_validation_error(response, ["body", field])
    assert next(e for e in errors if e["loc"] == ["body", field])["type"] == "required"


async def test_every_offending_field_is_listed(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post(PRODUCTS, json={"price": 0, "sku": "bad sku", "extra": 1})

    assert_validation_error(response, ["body", "name"], ["body", "price"], ["body", "sku"], ["body", "extra"])


async def test_unknown_field_on_create_is_422(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post(PRODUCTS, json={"name": "x", "price": 1, "sku": "X-1", "id": UNKNOWN_ID})

    assert_validation_error(response, ["body", "id"])


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_json_number_literals_are_400(admin_client: httpx.AsyncClient, literal: str) -> None:
    # NaN and Infinity are not JSON (RFC 8259): the body is malformed, so 400 per the BadRequest response.
    response = await post_raw(admin_client, f'{{"name": "x", "price": {literal}, "sku": "NAN-1"}}')

    body = assert_problem(response, 400)
    assert body["type"] == "urn:catalog-api:problem:malformed-body"
    assert await total_products(admin_client) == 0


@pytest.mark.parametrize(
    "raw", ['{"name": "x", "price": 1, "sku": "S"', "{'name': 'x'}", "", "not json", '{"name": "x",}', "\xff"]
)
async def test_malformed_json_is_400(admin_client: httpx.AsyncClient, raw: str) -> None:
    response = await post_raw(admin_client, raw)

    body = assert_problem(response, 400)
    assert "errors" not in body


async def test_non_utf8_body_is_400(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post(
        PRODUCTS, content=b'{"name": "\xff", "price": 1, "sku": "U-1"}', headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400)


@pytest.mark.parametrize("raw", ["[]", "null", "1", '"text"'])
async def test_body_that_is_not_an_object_is_422(admin_client: httpx.AsyncClient, raw: str) -> None:
    response = await post_raw(admin_client, raw)

    assert_validation_error(response)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""])
async def test_wrong_content_type_is_415(admin_client: httpx.AsyncClient, content_type: str) -> None:
    response = await post_raw(admin_client, '{"name": "x", "price": 1, "sku": "CT-1"}', content_type)

    body = assert_problem(response, 415)
    assert body["type"] == "urn:catalog-api:problem:unsupported-media-type"
    assert await total_products(admin_client) == 0


async def test_json_content_type_with_charset_is_accepted(admin_client: httpx.AsyncClient) -> None:
    response = await post_raw(
        admin_client, '{"name": "x", "price": 1, "sku": "CS-1"}', "application/json; charset=utf-8"
    )

    assert response.status_code == 201, response.text


async def test_huge_numbers_are_422_never_500(admin_client: httpx.AsyncClient) -> None:
    for raw in (
        '{"name": "x", "price": 1, "stock": 1000000000000000000000000000000, "sku": "H-1"}',
        '{"name": "x", "price": 1e400, "sku": "H-2"}',
        '{"name": "x", "price": 100000000000000000000000000000000000000000, "sku": "H-3"}',
        '{"name": "x", "price": 1, "stock": 1e30, "sku": "H-4"}',
    ):
        response = await post_raw(admin_client, raw)
        assert response.status_code == 422, (raw, response.text)
        assert_validation_error(response)

    assert await total_products(admin_client) == 0


async def test_stock_with_integral_float_is_stored_as_integer(admin_client: httpx.AsyncClient) -> None:
    # JSON Schema counts 3.0 as an integer; the answer must still be the integer 3.
    response = await post_raw(admin_client, '{"name": "x", "price": 1, "stock": 3.0, "sku": "IF-1"}')

    assert response.status_code == 201, response.text
    assert '"stock":3,' in response.text.replace(" ", "")


# ---------------------------------------------------------------------------------------------------------------------
# Reads after writes: every read shows the latest committed state, even right after the same read
# ---------------------------------------------------------------------------------------------------------------------


async def test_get_after_update_shows_the_new_values(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "RAW-1", name="Before", price=1.0)
    url = f"{PRODUCTS}/{product['id']}"
    assert (await admin_client.get(url)).json() == product

    updated = (await admin_client.put(url, json={"name": "After", "price": 2.0})).json()

    assert (await admin_client.get(url)).json() == updated
    assert updated["name"] == "After"
    assert updated["price"] == 2.0


async def test_list_and_search_after_update_show_the_new_values(admin_client: httpx.AsyncClient) -> None:
    cheap = await create(admin_client, "RAW-2", name="Teapot", price=5.0)
    await create(admin_client, "RAW-3", name="Kettle", price=10.0)
    by_price = {"sort_by": "price", "sort_order": "asc"}
    assert skus(await get_page(admin_client, **by_price)) == ["RAW-2", "RAW-3"]
    assert skus(await get_page(admin_client, SEARCH, q="teapot")) == ["RAW-2"]
    assert (await get_page(admin_client, SEARCH, q="samovar"))["total"] == 0

    response = await admin_client.put(f"{PRODUCTS}/{cheap['id']}", json={"name": "Samovar", "price": 50.0})
    assert response.status_code == 200

    assert skus(await get_page(admin_client, **by_price)) == ["RAW-3", "RAW-2"]
    assert (await get_page(admin_client, SEARCH, q="teapot"))["total"] == 0
    assert skus(await get_page(admin_client, SEARCH, q="samovar")) == ["RAW-2"]


async def test_list_and_search_after_create_show_the_new_product(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "RAW-4", name="Spoon")
    assert (await get_page(admin_client))["total"] == 1
    assert (await get_page(admin_client, SEARCH, q="spo"))["total"] == 1

    await create(admin_client, "RAW-5", name="Sporran")

    assert (await get_page(admin_client))["total"] == 2
    assert skus(await get_page(admin_client, SEARCH, q="spo")) == ["RAW-4", "RAW-5"]


async def test_filters_after_stock_update_follow_the_new_stock(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "RAW-6", stock=2)
    assert (await get_page(admin_client, in_stock_only="true"))["total"] == 1

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"stock": 0})

    assert response.status_code == 200
    assert response.json()["stock"] == 0
    assert (await get_page(admin_client, in_stock_only="true"))["total"] == 0


# ---------------------------------------------------------------------------------------------------------------------
# Falsy values are values
# ---------------------------------------------------------------------------------------------------------------------


async def test_empty_description_is_kept_as_an_empty_string(admin_client: httpx.AsyncClient) -> None:
    # ProductCreate.description has no minLength: "" is a value, not an absent field.
    product = await create(admin_client, "FALSY-1", description="")

    assert product["description"] == ""
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}")).json()["description"] == ""


async def test_update_to_falsy_values(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "FALSY-2", description="Some text", stock=9)

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"description": "", "stock": 0})

    assert response.status_code == 200, response.text
    assert response.json()["description"] == ""
    assert response.json()["stock"] == 0


# ---------------------------------------------------------------------------------------------------------------------
# Case-insensitivity beyond ASCII
# ---------------------------------------------------------------------------------------------------------------------


async def test_name_filter_is_case_insensitive_for_non_ascii_letters(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "NA-CAFE", name="CAFÉ NOIR")

    for needle in ("CAFÉ", "café", "Café"):
        assert skus(await get_page(admin_client, name=needle)) == ["NA-CAFE"], needle


async def test_search_is_case_insensitive_for_non_ascii_letters(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "NA-CAFE", name="CAFÉ NOIR", description="Über strong", category="Getränke")

    # Even the exact text, as stored, must be found.
    for q in ("CAFÉ", "café", "über", "ÜBER", "GETRÄNKE", "getränke"):
        assert skus(await get_page(admin_client, SEARCH, q=q)) == ["NA-CAFE"], q


async def test_sort_by_name_folds_case_of_non_ascii_letters(admin_client: httpx.AsyncClient) -> None:
    for sku, name in (("NS-1", "Émile"), ("NS-2", "éclair"), ("NS-3", "Eagle")):
        await create(admin_client, sku, name=name)

    page = await get_page(admin_client, sort_by="name", sort_order="asc")

    assert names(page) == ["Eagle", "éclair", "Émile"]


async def test_matches_past_the_count_cap_report_a_capped_total(
    admin_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(product_service, "TOTAL_CAP", 3)  # the real cap, 1,000, works the same way
    for n in range(5):
        await create(admin_client, f"CAP-{n}", name=f"Capped {n}")
    for path, params in ((PRODUCTS, {}), (SEARCH, {"q": "capped"})):
        page = await get_page(admin_client, path, page_size=2, **params)
        assert (page["total"], page["total_exact"], page["pages"]) == (3, False, None)
        assert len(page["items"]) == 2
    last = await get_page(admin_client, page=3, page_size=2)
    assert len(last["items"]) == 1  # pages past the counted ones still answer
