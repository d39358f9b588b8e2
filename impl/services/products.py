"""Products: create, partial update, soft delete, get, list, search.

Reads are served from the product cache as the bytes sent; a miss builds the
answer from typed records and serializes it once.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar
from uuid import UUID

from pydantic import BaseModel
from pydantic_core import to_json

from contract_runtime.principal import Principal
from contract_runtime.results import RawJson
from generated.interfaces.products import (
    CreateProduct201Response,
    DeleteProduct204Response,
    GetProduct200Response,
    GetProduct304Response,
    ListProducts200Response,
    ListProducts304Response,
    ListProductsQuery,
    SearchProducts200Response,
    SearchProducts304Response,
    SearchProductsQuery,
    UpdateProduct200Response,
)
from generated.models import Product, ProductCreate, ProductPage, ProductUpdate, SortOrder

from ..db import notifications
from ..db import products as product_rows
from ..db import search as product_search
from ..db.database import Db, UniqueViolation
from ..db.products import ProductFilter, ProductRecord, Selection
from ..errors import Conflict, InvalidInput, NotFound
from .pagination import Paging, offset_of, page_count, page_links
from .product_cache import Cached, ProductCache, Rendered, detail_key, etag_matches, query_key

PRODUCT_NOT_FOUND = "Product not found."
# Matches are counted up to here (the spec's ProductPage.total maximum). A count walks every match
# it counts: at 10,000 a category page of a million products spent ~2.6 ms of database time counting.
TOTAL_CAP = 1_000
MAX_PAGE = 10_000  # the spec's `page` maximum: no link points past it
LIST_PATH = "/api/v1/products"
SEARCH_PATH = "/api/v1/products/search"
SKU_TAKEN = "A product with this SKU already exists."
PRICE_RANGE_INVERTED = "max_price is below min_price: no price can match."

Ok = TypeVar("Ok")
NotModified = TypeVar("NotModified")


def to_cents(price: float) -> int:
    # str() gives the shortest decimal that round-trips, e.g. 29.99, never 29.989999...
    return int(Decimal(str(price)) * 100)


def to_product(record: ProductRecord) -> Product:
    # Built, not validated: the record is ours, and pydantic's float check of
    # the spec's `multipleOf: 0.01` refuses valid cents such as 21474836.49.
    return Product.model_construct(
        id=record.id,
        name=record.name,
        description=record.description,
        price=float(Decimal(record.price_cents) / 100),
        stock=record.stock,
        category=record.category,
        sku=record.sku,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def serialized(model: BaseModel) -> bytes:
    return to_json(model)


def list_filter(query: ListProductsQuery) -> ProductFilter:
    return ProductFilter(
        name=query.name,
        category=query.category,
        min_cents=None if query.min_price is None else math.ceil(Decimal(str(query.min_price)) * 100),
        max_cents=None if query.max_price is None else math.floor(Decimal(str(query.max_price)) * 100),
        in_stock_only=query.in_stock_only,
    )


def links(path: str, query: ListProductsQuery | SearchProductsQuery, cached: Cached) -> str:
    assert cached.paging is not None  # every page is built with its paging
    return page_links(path, query, cached.paging)


def answer(
    cached: Cached,
    if_none_match: str | None,
    ok: Callable[[bytes, str, Literal["HIT", "MISS"]], Ok],
    not_modified: Callable[[str, Literal["HIT", "MISS"]], NotModified],
) -> Ok | NotModified:
    """304 when the client already holds this ETag, the cached bytes otherwise."""
    if etag_matches(if_none_match, cached.etag):
        return not_modified(cached.etag, cached.x_cache)
    return ok(cached.body, cached.etag, cached.x_cache)


# The fields a product's embedding is made from (impl/services/semantic.py).
EMBEDDED_FIELDS = frozenset({"name", "category", "description"})


class ProductIndex(Protocol):
    """Smart search's vectors (impl/services/semantic.py): written with the product, in its transaction, and
    told of every committed write before the product cache moves on."""

    async def prepare(self) -> None: ...

    async def vector_columns(self, *, name: str, category: str | None, description: str | None) -> dict[str, Any]: ...

    async def product_written(self, record: ProductRecord) -> None: ...

    async def product_deleted(self, product_id: UUID) -> None: ...


class ViewRecorder(Protocol):
    """Told of every signed-in read that found its product (impl/services/views.py)."""

    async def viewed(self, principal: Principal, product_id: UUID) -> None: ...


class ProductService:
    """Implements `generated.interfaces.products.ProductsApi`."""

    def __init__(
        self, db: Db, cache: ProductCache, *, index: ProductIndex | None = None, views: ViewRecorder | None = None
    ) -> None:
        self._db = db
        self._cache = cache
        self._index = index
        self._views = views

    async def list_products(
        self, *, query: ListProductsQuery, if_none_match: str | None
    ) -> ListProducts200Response | ListProducts304Response:
        if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
            raise InvalidInput("max_price", PRICE_RANGE_INVERTED, rule="minimum", location="query")

        def selection() -> Selection:
            descending = query.sort_order is SortOrder.desc
            return product_rows.list_selection(list_filter(query), sort_by=query.sort_by.value, descending=descending)

        cached = await self._cache.fetch(
            query_key("list", query), lambda: self._page(selection(), query.page, query.page_size)
        )
        return answer(
            cached,
            if_none_match,
            lambda body, etag, x_cache: ListProducts200Response(
                body=RawJson(body), etag=etag, x_cache=x_cache, link=links(LIST_PATH, query, cached)
            ),
            lambda etag, x_cache: ListProducts304Response(etag=etag, x_cache=x_cache),
        )

    async def search_products(
        self, *, query: SearchProductsQuery, if_none_match: str | None
    ) -> SearchProducts200Response | SearchProducts304Response:
        cached = await self._cache.fetch(
            query_key("search", query),
            lambda: self._search_page(query.q, query.page, query.page_size),
        )
        return answer(
            cached,
            if_none_match,
            lambda body, etag, x_cache: SearchProducts200Response(
                body=RawJson(body), etag=etag, x_cache=x_cache, link=links(SEARCH_PATH, query, cached)
            ),
            lambda etag, x_cache: SearchProducts304Response(etag=etag, x_cache=x_cache),
        )

    async def get_product(
        self, *, principal: Principal | None, product_id: UUID, if_none_match: str | None
    ) -> GetProduct200Response | GetProduct304Response:
        cached = await self._cache.fetch(detail_key(product_id), lambda: self._detail(product_id))
        if principal is not None and self._views is not None:
            await self._views.viewed(principal, product_id)
        return answer(
            cached,
            if_none_match,
            lambda body, etag, x_cache: GetProduct200Response(body=RawJson(body), etag=etag, x_cache=x_cache),
            lambda etag, x_cache: GetProduct304Response(etag=etag, x_cache=x_cache),
        )

    async def _page(self, selection: Selection, page: int, page_size: int) -> Rendered:
        db = self._db.database
        counted = await product_rows.count(db, selection=selection, cap=TOTAL_CAP)
        total = min(counted, TOTAL_CAP)
        exact = counted <= TOTAL_CAP
        records = await product_rows.page(db, selection=selection, limit=page_size, offset=offset_of(page, page_size))
        pages = page_count(total, page_size)
        body = serialized(
            ProductPage.model_construct(
                items=[to_product(r) for r in records],
                total=total,
                total_exact=exact,
                page=page,
                page_size=page_size,
                pages=pages,
            )
        )
        # Past a capped total the last page is unknown; a full page may have a next one.
        has_next = page < pages if exact else len(records) == page_size and page < MAX_PAGE
        return Rendered(body, Paging(last=pages if exact else None, has_next=has_next))

    @staticmethod
    def _rendered(records: list[ProductRecord], counted: int, page: int, page_size: int) -> Rendered:
        """A search page's body and paging, as _page builds a list's."""
        total = min(counted, TOTAL_CAP)
        exact = counted <= TOTAL_CAP
        pages = page_count(total, page_size)
        body = serialized(
            ProductPage.model_construct(
                items=[to_product(r) for r in records],
                total=total,
                total_exact=exact,
                page=page,
                page_size=page_size,
                pages=pages,
            )
        )
        # Past a capped total the last page is unknown; a full page may have a next one.
        has_next = page < pages if exact else len(records) == page_size and page < MAX_PAGE
        return Rendered(body, Paging(last=pages if exact else None, has_next=has_next))

    async def _search_page(self, q: str, page: int, page_size: int) -> Rendered:
        """A page of the ranked search (impl/db/search.py), its total counted as lists count theirs."""
        db = self._db.database
        counted = await product_search.count_matches(db, query=q, cap=TOTAL_CAP)
        hits = []
        if counted:
            hits = await product_search.search(db, query=q, limit=page_size, offset=offset_of(page, page_size))
        return self._rendered([hit.record for hit in hits], counted, page, page_size)

    async def _detail(self, product_id: UUID) -> bytes:
        record = await product_rows.get_live(self._db.database, product_id=product_id)
        if record is None:
            raise NotFound(PRODUCT_NOT_FOUND)
        return serialized(to_product(record))

    async def create_product(self, *, principal: Principal, body: ProductCreate) -> CreateProduct201Response:
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "name": body.name,
            "description": body.description,
            "price_cents": to_cents(body.price),
            "stock": 0 if body.stock is None else body.stock,  # the spec: 0 when omitted
            "category": body.category,
            "sku": body.sku,
            "created_at": now,
            "updated_at": now,
        }
        if self._index is not None:
            values |= await self._index.vector_columns(
                name=body.name, category=body.category, description=body.description
            )
        try:
            async with self._db.write() as db:
                record = await product_rows.insert(db, values=values)
                change = await notifications.announce(db, product_id=record.id)
        except UniqueViolation:
            raise Conflict(SKU_TAKEN) from None  # the SKU is the products' only unique value
        if self._index is not None:
            await self._index.product_written(record)
        await self._cache.product_changed(record.id, change=change)
        return CreateProduct201Response(body=to_product(record), location=f"/api/v1/products/{record.id}")

    async def update_product(
        self, *, principal: Principal, product_id: UUID, body: ProductUpdate
    ) -> UpdateProduct200Response:
        changes: dict[str, Any] = {"updated_at": datetime.now(UTC)}
        for field in body.model_fields_set:
            value = getattr(body, field)
            if field == "price":
                changes["price_cents"] = to_cents(value)
            else:
                changes[field] = value
        index = self._index if EMBEDDED_FIELDS & body.model_fields_set else None
        if index is not None:
            await index.prepare()  # the model loaded before the transaction, never inside it
        try:
            async with self._db.write() as db:
                record = await product_rows.update_live(db, product_id=product_id, values=changes)
                if record is None:
                    raise NotFound(PRODUCT_NOT_FOUND)
                if index is not None:  # the new text's vector, in the same transaction
                    vector = await index.vector_columns(
                        name=record.name, category=record.category, description=record.description
                    )
                    if vector:
                        await product_rows.update_live(db, product_id=product_id, values=vector)
                change = await notifications.announce(db, product_id=product_id)
        except UniqueViolation:
            raise Conflict(SKU_TAKEN) from None
        if self._index is not None:
            await self._index.product_written(record)
        await self._cache.product_changed(product_id, change=change)
        return UpdateProduct200Response(body=to_product(record))

    async def delete_product(self, *, principal: Principal, product_id: UUID) -> DeleteProduct204Response:
        async with self._db.write() as db:
            if not await product_rows.soft_delete(db, product_id=product_id, at=datetime.now(UTC)):
                raise NotFound(PRODUCT_NOT_FOUND)
            change = await notifications.announce(db, product_id=product_id)
        if self._index is not None:
            await self._index.product_deleted(product_id)
        await self._cache.product_changed(product_id, change=change)
        return DeleteProduct204Response()
