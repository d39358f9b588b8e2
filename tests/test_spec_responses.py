"""The response check the test clients run: it refuses answers that drift from openapi.yaml."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.spec_responses import check_response

PRODUCT = {
    "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "name": "Mug",
    "description": None,
    "price": 21474836.49,
    "stock": 3,
    "category": None,
    "sku": "MUG-1",
    "created_at": "2026-11-26T09:30:00Z",
    "updated_at": "2026-11-26T09:30:00Z",
}
CACHE_HEADERS = {"etag": '"abc"', "x-cache": "HIT"}


def answer(method: str, path: str, status: int, body: Any = None, **headers: str) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    media = {"content-type": "application/json"} if body is not None else {}
    request = httpx.Request(method, f"http://testserver{path}")
    return httpx.Response(status, headers={**media, **headers}, content=content, request=request)


def test_a_product_as_the_spec_describes_it_passes() -> None:
    check_response(answer("GET", f"/api/v1/products/{PRODUCT['id']}", 200, PRODUCT, **CACHE_HEADERS))


def test_a_price_that_is_not_whole_cents_is_caught() -> None:
    body = {**PRODUCT, "price": 10.005}
    with pytest.raises(AssertionError, match=r"multiple of"):
        check_response(answer("GET", f"/api/v1/products/{PRODUCT['id']}", 200, body, **CACHE_HEADERS))


def test_a_missing_required_field_is_caught() -> None:
    body = {key: value for key, value in PRODUCT.items() if key != "sku"}
    with pytest.raises(AssertionError, match="sku"):
        check_response(answer("GET", f"/api/v1/products/{PRODUCT['id']}", 200, body, **CACHE_HEADERS))


def test_an_undeclared_status_is_caught() -> None:
    with pytest.raises(AssertionError, match="not declared"):
        check_response(answer("GET", "/health", 418, {"status": "ok"}))


def test_a_missing_required_header_is_caught() -> None:
    with pytest.raises(AssertionError, match="ETag"):
        check_response(answer("GET", f"/api/v1/products/{PRODUCT['id']}", 200, PRODUCT, **{"x-cache": "HIT"}))


def test_a_body_on_a_304_is_caught() -> None:
    with pytest.raises(AssertionError, match="no body"):
        check_response(answer("GET", f"/api/v1/products/{PRODUCT['id']}", 304, PRODUCT, **CACHE_HEADERS))
