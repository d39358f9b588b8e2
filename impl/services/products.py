"""Products: create, partial update, soft delete, get, list, search."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from databases.interfaces import Record
from sqlalchemy import ColumnElement

from generated.models import Product, ProductCreate, ProductPage, ProductSortField, ProductUpdate, SortOrder
from generated.routers.products import (
    CreateProductResult,
    GetProductResult,
    ListProductsQuery,
    ListProductsResult,
    ProductsApi,
    SearchProductsQuery,
    SearchProductsResult,
)
from generated.runtime import Principal

from ..db import products as product_rows
from ..db.database import Db
from ..db.folding import fold
from ..db.tables import products
from ..errors import Conflict, NotFound
from .pagination import offset_of, page_count
from .product_cache import Cached, ProductCache, detail_key, etag_matches, query_key

SORT_COLUMNS: dict[ProductSortField, Any] = {
    ProductSortField.name: fold(products.c.name),
    ProductSortField.price: products.c.price_cents,
    ProductSortField.created_at: products.c.created_at,
    ProductSortField.stock: products.c.stock,
}


def to_cents(price: float) -> int:
    # str() gives the shortest decimal that round-trips, e.g. 29.99, never 29.989999...
    return int(Decimal(str(price)) * 100)


def to_product(row: Record) -> Product:
    return Product(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        price=float(Decimal(row["price_cents"]) / 100),
        stock=row["stock"],
        category=row["category"],
        sku=row["sku"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def list_filters(query: ListProductsQuery) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if query.name is not None:
        clauses.append(product_rows.contains(products.c.name, query.name))
    if query.category is not None:
        clauses.append(products.c.category == query.category)
    if query.min_price is not None:
        clauses.append(products.c.price_cents >= math.ceil(Decimal(str(query.min_price)) * 100))
    if query.max_price is not None:
        clauses.append(products.c.price_cents <= math.floor(Decimal(str(query.max_price)) * 100))
    if query.in_stock_only:
        clauses.append(products.c.stock > 0)
    return clauses


def cache_headers(cached: Cached[Any], if_none_match: str | None) -> tuple[Literal[200, 304], dict[str, str]]:
    status: Literal[200, 304] = 304 if etag_matches(if_none_match, cached.etag) else 200
    return status, {"etag": cached.etag, "x_cache": "HIT" if cached.hit else "MISS"}


class ProductService(ProductsApi):
    def __init__(self, db: Db, cache: ProductCache) -> None:
        self._db = db
        self._cache = cache

    async def list_products(self, *, query: ListProductsQuery, if_none_match: str | None) -> ListProductsResult:
        cached = await self._cache.fetch(query_key("list", query), ProductPage, lambda: self._list(query))
        status, headers = cache_headers(cached, if_none_match)
        return ListProductsResult(body=cached.value if status == 200 else None, status_code=status, **headers)

    async def search_products(self, *, query: SearchProductsQuery, if_none_match: str | None) -> SearchProductsResult:
        cached = await self._cache.fetch(query_key("search", query), ProductPage, lambda: self._search(query))
        status, headers = cache_headers(cached, if_none_match)
        return SearchProductsResult(body=cached.value if status == 200 else None, status_code=status, **headers)

    async def get_product(self, *, product_id: UUID, if_none_match: str | None) -> GetProductResult:
        cached = await self._cache.fetch(detail_key(product_id), Product, lambda: self._get(product_id))
        status, headers = cache_headers(cached, if_none_match)
        return GetProductResult(body=cached.value if status == 200 else None, status_code=status, **headers)

    async def _list(self, query: ListProductsQuery) -> ProductPage:
        column = SORT_COLUMNS[query.sort_by]
        if query.sort_order is SortOrder.asc:
            order = [column.asc(), products.c.id.asc()]
        else:
            order = [column.desc(), products.c.id.desc()]
        return await self._page(list_filters(query), order, query.page, query.page_size)

    async def _search(self, query: SearchProductsQuery) -> ProductPage:
        order = [fold(products.c.name).asc(), products.c.id.asc()]
        return await self._page([product_rows.search_clause(query.q)], order, query.page, query.page_size)

    async def _page(
        self, clauses: list[ColumnElement[bool]], order: list[Any], page: int, page_size: int
    ) -> ProductPage:
        db = self._db.database
        total = await product_rows.count(db, clauses=clauses)
        rows = await product_rows.page(
            db, clauses=clauses, order_by=order, limit=page_size, offset=offset_of(page, page_size)
        )
        return ProductPage(
            items=[to_product(r) for r in rows],
            total=total,
            page=page,
            page_size=page_size,
            pages=page_count(total, page_size),
        )

    async def _get(self, product_id: UUID) -> Product:
        row = await product_rows.get_live(self._db.database, product_id=product_id)
        if row is None:
            raise NotFound("Product not found.")
        return to_product(row)

    async def create_product(self, *, principal: Principal, body: ProductCreate) -> CreateProductResult:
        now = datetime.now(UTC)
        product_id = uuid.uuid4()
        async with self._db.write() as db:
            if await product_rows.sku_taken(db, sku=body.sku):
                raise Conflict("A product with this SKU already exists.")
            await product_rows.insert(
                db,
                values={
                    "id": product_id,
                    "name": body.name,
                    "description": body.description,
                    "price_cents": to_cents(body.price),
                    "stock": body.stock,
                    "category": body.category,
                    "sku": body.sku,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            row = await product_rows.get_live(db, product_id=product_id)
        assert row is not None
        await self._cache.product_changed(product_id)
        return CreateProductResult(body=to_product(row), location=f"/api/v1/products/{product_id}")

    async def update_product(self, *, principal: Principal, product_id: UUID, body: ProductUpdate) -> Product:
        changes: dict[str, Any] = {}
        for field in body.model_fields_set:
            value = getattr(body, field)
            if field == "price":
                changes["price_cents"] = to_cents(value)
            else:
                changes[field] = value
        async with self._db.write() as db:
            # 404 before 409: an unknown product has no SKU to conflict with.
            if await product_rows.get_live(db, product_id=product_id) is None:
                raise NotFound("Product not found.")
            if body.sku is not None and await product_rows.sku_taken(db, sku=body.sku, except_id=product_id):
                raise Conflict("A product with this SKU already exists.")
            changes["updated_at"] = datetime.now(UTC)
            await product_rows.update_live(db, product_id=product_id, values=changes)
            row = await product_rows.get_live(db, product_id=product_id)
        assert row is not None  # updated in this very transaction
        await self._cache.product_changed(product_id)
        return to_product(row)

    async def delete_product(self, *, principal: Principal, product_id: UUID) -> None:
        async with self._db.write() as db:
            if not await product_rows.soft_delete(db, product_id=product_id, at=datetime.now(UTC)):
                raise NotFound("Product not found.")
        await self._cache.product_changed(product_id)
