"""Where pydantic and JSON Schema disagree, the server follows openapi.yaml."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import assert_problem

pytestmark = pytest.mark.anyio


PRODUCT = {"name": "Widget", "price": 29.99, "sku": "W-1"}


async def test_special_use_email_domains_that_format_email_allows_are_accepted(client: httpx.AsyncClient) -> None:
    # pydantic's EmailStr refuses these; JSON Schema's `format: email` does not.
    for number, email in enumerate(["someone@localhost", "someone@example.invalid", "a@b.test"]):
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "username": f"special{number}", "password": "Lantern-Quarry-52"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["email"] == email


async def test_an_email_without_at_sign_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "username": "bob", "password": "Lantern-Quarry-52"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "email"]


async def test_nan_and_infinity_literals_are_not_json(admin_client: httpx.AsyncClient) -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        response = await admin_client.post(
            "/api/v1/products",
            content=f'{{"name": "x", "price": {literal}, "sku": "S-1"}}',
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, literal
        assert response.headers["content-type"] == "application/problem+json"


async def test_overflowing_numbers_are_422_not_500(admin_client: httpx.AsyncClient) -> None:
    for raw in ('{"name": "x", "price": 1e400, "sku": "S-1"}', '{"name": "x", "price": 1, "stock": 1e400, "sku": "S"}'):
        response = await admin_client.post(
            "/api/v1/products", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, raw


async def test_huge_integers_are_422(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post("/api/v1/products", json={**PRODUCT, "stock": 10**40})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "stock"]


async def test_tiny_denormal_price_is_422(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post("/api/v1/products", json={**PRODUCT, "price": 5e-324})
    assert response.status_code == 422


async def test_multiple_of_is_decimal(admin_client: httpx.AsyncClient) -> None:
    rejected = await admin_client.post("/api/v1/products", json={**PRODUCT, "price": 0.35000000000000003})
    assert rejected.status_code == 422
    accepted = await admin_client.post("/api/v1/products", json={**PRODUCT, "price": 0.35})
    assert accepted.status_code == 201
    assert accepted.json()["price"] == 0.35


async def test_null_is_never_accepted_for_a_request_field(admin_client: httpx.AsyncClient) -> None:
    for field in ("description", "category", "stock"):
        response = await admin_client.post("/api/v1/products", json={**PRODUCT, field: None})
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["loc"] == ["body", field]


async def test_unknown_fields_are_named_in_the_error(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post("/api/v1/products", json={**PRODUCT, "colour": "red"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "colour"]


async def test_lengths_count_characters_not_bytes(admin_client: httpx.AsyncClient) -> None:
    name = "\N{GRINNING FACE}" * 200
    accepted = await admin_client.post("/api/v1/products", json={**PRODUCT, "name": name})
    assert accepted.status_code == 201
    assert accepted.json()["name"] == name
    too_long = await admin_client.post("/api/v1/products", json={**PRODUCT, "sku": "W-2", "name": name + "x"})
    assert too_long.status_code == 422


async def test_body_that_is_not_an_object_is_422(admin_client: httpx.AsyncClient) -> None:
    for raw in ("[]", "1", '"text"', "null"):
        response = await admin_client.post(
            "/api/v1/products", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, raw


async def test_booleans_in_the_query_are_only_true_or_false(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/products", params={"in_stock_only": "true"})).status_code == 200
    for value in ("1", "yes", "True", ""):
        response = await client.get("/api/v1/products", params={"in_stock_only": value})
        assert response.status_code == 422, value


async def test_missing_required_query_parameter_is_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/products/search")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "loc": ["query", "q"],
        "msg": '"q" is a required property',
        "type": "required",
    }


async def test_validation_error_messages_are_bounded(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post("/api/v1/products", json={**PRODUCT, "name": "n" * 50_000})
    assert response.status_code == 422
    assert len(response.json()["errors"][0]["msg"]) <= 200


async def test_every_cent_value_round_trips_through_create_cache_and_list(admin_client: httpx.AsyncClient) -> None:
    # pydantic's float multiple_of rejects some of these (e.g. 21474836.49); the spec's decimal rule does not.
    prices = [21474836.49, 99999999.99, 12345678.91, 0.07, 1.15, 33554432.33, 70368744.17]
    for number, price in enumerate(prices):
        created = await admin_client.post("/api/v1/products", json={**PRODUCT, "sku": f"P-{number}", "price": price})
        assert created.status_code == 201, created.text
        path = f"/api/v1/products/{created.json()['id']}"
        for _ in range(2):  # a miss, then a hit
            response = await admin_client.get(path)
            assert response.status_code == 200
            assert response.json()["price"] == price
    listed = await admin_client.get("/api/v1/products", params={"page_size": 100, "sort_by": "price"})
    assert sorted(item["price"] for item in listed.json()["items"]) == sorted(prices)
    again = await admin_client.get("/api/v1/products", params={"page_size": 100, "sort_by": "price"})
    assert again.headers["x-cache"] == "HIT"


@pytest.mark.parametrize("character", ["\x7f", "\u202e", "\u202a", "\u2066", "\u2069", "\u2028", "\u2029"])
async def test_single_line_text_refuses_delete_bidi_overrides_and_line_separators(
    admin_client: httpx.AsyncClient, character: str
) -> None:
    response = await admin_client.post("/api/v1/products", json={**PRODUCT, "name": f"Lamp{character}pmaL"})
    body = assert_problem(response, 422)
    assert ["body", "name"] in [error["loc"] for error in body["errors"]]
    search = await admin_client.get("/api/v1/products/search", params={"q": f"a{character}b"})
    assert_problem(search, 422)
    listed = await admin_client.get("/api/v1/products")
    assert listed.json()["total"] == 0


async def test_single_line_text_still_takes_any_other_unicode(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post("/api/v1/products", json={**PRODUCT, "name": "Café ☕ Ελληνικά עברית"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/register", {"email": "eve@example.com", "username": "eve", "password": "S3cret-" + "x" * 130}),
        ("/api/v1/auth/login/json", {"username": "eve", "password": "S3cret-" + "x" * 130}),
        ("/api/v1/auth/refresh", {"refresh_token": "S3cret-" + "x" * 5000}),
    ],
)
async def test_a_422_never_echoes_a_password_or_token(
    client: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    response = await client.post(path, json=body)
    problem = assert_problem(response, 422)
    assert "S3cret" not in response.text
    assert any(error["msg"].startswith("The value is longer than") for error in problem["errors"])
