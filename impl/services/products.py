"""Products: create, partial update, soft delete, get, list, search.

Reads are served from the product cache as the bytes sent; a miss builds the
answer from typed records and serializes it once.
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar
from uuid import UUID

from pydantic import BaseModel
from pydantic_core import to_json

from contract_runtime.principal import Principal
from contract_runtime.results import RawJson
from contract_runtime.streams import RequestStream
from generated.interfaces.products import (
    CreateProduct201Response,
    DeleteProduct204Response,
    ExportProducts200Response,
    GetProduct200Response,
    GetProduct304Response,
    ImportProducts200Response,
    ListProducts200Response,
    ListProducts304Response,
    ListProductsQuery,
    SearchProducts200Response,
    SearchProducts304Response,
    SearchProductsQuery,
    UpdateProduct200Response,
)
from generated.models import Product, ProductCreate, ProductPage, ProductUpdate, SortOrder

from ..db import products as product_rows
from ..db import search as product_search
from ..db.database import Db, UniqueViolation
from ..db.products import ProductFilter, ProductRecord, Selection
from ..errors import Conflict, InvalidInput, NotFound
from . import cursors
from .changes import ProductChanges
from .pagination import Paging, offset_of, page_count, page_links
from .product_cache import Cached, ProductCache, Rendered, detail_key, etag_matches, query_key
from .product_transfer import ProductTransfer

SEARCH_KEY_TYPES: tuple[type, ...] = (int, str, UUID)  # (tier, folded name, id): a search cursor's position
PRODUCT_NOT_FOUND = "Product not found."
# Matches are counted up to here (the spec's ProductPage.total maximum). A count walks every match
# it counts: at 10,000 a category page of a million products spent ~2.6 ms of database time counting.
TOTAL_CAP = 1_000
# The page window (the spec's): numbered pages reach this many rows deep, cursors go on from there. An
# OFFSET walks every row it skips, so a numbered page costs more the deeper it is; a cursor page does not.
PAGE_WINDOW = 10_000
PAST_WINDOW = (
    f"page × page_size is past the page window ({PAGE_WINDOW:,} products): read deeper pages by cursor "
    "(each page's next_cursor, sent as `cursor`)."
)
CURSOR_WITH_PAGE = "A cursor says where its page starts: send it without `page` (or with page 1)."
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


@dataclasses.dataclass(frozen=True, slots=True)
class PageStart:
    """Where a page of a list or search starts: a page number, or the position a cursor carries."""

    fingerprint: str  # the query's, which its cursors are bound to
    page_size: int
    page: int | None  # None on a page asked for by cursor
    position: tuple[cursors.KeyValue, ...] | None


def fingerprint(kind: str, selection: Selection, matching: object) -> str:
    """What a cursor must be sent with again: the kind of query, its order and what it matches.

    `page_size` is not part of it: a walk may change its page size between pages. Text that matches
    case-insensitively (`q`, `name`) comes lower-cased, as in the cache's key: "TV" and "tv" are one query."""
    return json.dumps([kind, selection.order, matching], sort_keys=True, default=str, separators=(",", ":"))


def search_fingerprint(q: str) -> str:
    """A search's: its order is relevance (impl/db/search.py), and it matches `q` case-insensitively."""
    return json.dumps(["search", "relevance", q.lower()], separators=(",", ":"))


def start_of(query: ListProductsQuery | SearchProductsQuery, expected: tuple[type, ...], fingerprint: str) -> PageStart:
    """The page a query asks for, or the 422 that says why it cannot have it (before any cache or database)."""
    if query.cursor is None:
        if query.page * query.page_size > PAGE_WINDOW:
            raise InvalidInput("page", PAST_WINDOW, rule="page-window", location="query")
        return PageStart(fingerprint, query.page_size, query.page, None)
    if query.page != 1:
        raise InvalidInput("cursor", CURSOR_WITH_PAGE, rule="cursor", location="query")
    try:
        position = cursors.decode(query.cursor, fingerprint)
    except cursors.InvalidCursor as exc:
        raise InvalidInput("cursor", str(exc), rule="cursor", location="query") from None
    if len(position) != len(expected) or not all(isinstance(v, t) for v, t in zip(position, expected, strict=False)):
        raise InvalidInput("cursor", "The cursor does not fit this query's order.", rule="cursor", location="query")
    return PageStart(fingerprint, query.page_size, None, position)


def search_key(position: tuple[cursors.KeyValue, ...]) -> product_search.SearchKey:
    tier, name, product_id = position  # start_of checked the types against SEARCH_KEY_TYPES
    assert isinstance(tier, int)
    assert isinstance(name, str)
    assert isinstance(product_id, UUID)
    return tier, name, product_id


def rendered(
    rows: Sequence[tuple[ProductRecord, Sequence[cursors.KeyValue]]], counted: int, start: PageStart
) -> Rendered:
    """A page's body and paging from up to `page_size + 1` rows in order (the extra one: a next page exists)."""
    exact = counted <= TOTAL_CAP
    total = min(counted, TOTAL_CAP)
    shown = rows[: start.page_size]
    next_cursor = cursors.encode(start.fingerprint, shown[-1][1]) if len(rows) > start.page_size else None
    # Past the capped count the number of pages is unknown: null, never an undercount.
    pages = page_count(total, start.page_size) if exact else None
    body = serialized(
        ProductPage.model_construct(
            items=[to_product(record) for record, _ in shown],
            total=total,
            total_exact=exact,
            page=start.page,
            page_size=start.page_size,
            pages=pages,
            next_cursor=next_cursor,
        )
    )
    return Rendered(body, Paging(last=pages, has_next=next_cursor is not None, next_cursor=next_cursor))


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
    """Smart search's vectors (impl/services/semantic.py): written with the product, in its transaction; the
    index itself follows the product change feed."""

    async def prepare(self) -> None: ...

    async def vector_columns(self, *, name: str, category: str | None, description: str | None) -> dict[str, Any]: ...


class ViewRecorder(Protocol):
    """Told of every signed-in read that found its product (impl/services/views.py)."""

    def viewed(self, principal: Principal, product_id: UUID) -> None: ...


class ProductService:
    """Implements `generated.interfaces.products.ProductsApi`."""

    def __init__(
        self,
        db: Db,
        cache: ProductCache,
        transfer: ProductTransfer,
        changes: ProductChanges,
        *,
        index: ProductIndex | None = None,
        views: ViewRecorder | None = None,
    ) -> None:
        self._db = db
        self._cache = cache
        self._changes = changes  # every write announced there; the cache and the index follow it
        self._transfer = transfer
        self._index = index
        self._views = views

    async def import_products(self, *, principal: Principal, body: RequestStream) -> ImportProducts200Response:
        return ImportProducts200Response(body=await self._transfer.import_lines(body))

    async def export_products(self, *, principal: Principal) -> ExportProducts200Response:
        return ExportProducts200Response(body=self._transfer.export_lines())

    async def list_products(
        self, *, query: ListProductsQuery, if_none_match: str | None
    ) -> ListProducts200Response | ListProducts304Response:
        if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
            raise InvalidInput("max_price", PRICE_RANGE_INVERTED, rule="minimum", location="query")
        filters = list_filter(query)
        descending = query.sort_order is SortOrder.desc
        selection = product_rows.list_selection(filters, sort_by=query.sort_by.value, descending=descending)
        matching = dataclasses.asdict(dataclasses.replace(filters, name=filters.name and filters.name.lower()))
        where = start_of(query, product_rows.key_types(selection), fingerprint("list", selection, matching))
        cached = await self._cache.fetch(query_key("list", query), lambda: self._page(selection, where))
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
        where = start_of(query, SEARCH_KEY_TYPES, search_fingerprint(query.q))
        cached = await self._cache.fetch(query_key("search", query), lambda: self._search_page(query.q, where))
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
            self._views.viewed(principal, product_id)
        return answer(
            cached,
            if_none_match,
            lambda body, etag, x_cache: GetProduct200Response(body=RawJson(body), etag=etag, x_cache=x_cache),
            lambda etag, x_cache: GetProduct304Response(etag=etag, x_cache=x_cache),
        )

    async def _page(self, selection: Selection, start: PageStart) -> Rendered:
        db = self._db.database
        counted = await product_rows.count(db, selection=selection, cap=TOTAL_CAP)
        # One row more than the page shows: whether there is a next page, without counting.
        rows = await product_rows.page(
            db,
            selection=selection,
            limit=start.page_size + 1,
            offset=0 if start.page is None else offset_of(start.page, start.page_size),
            after_position=start.position,
        )
        return rendered([(row.record, row.keys) for row in rows], counted, start)

    async def _search_page(self, q: str, start: PageStart) -> Rendered:
        """A page of the ranked search (impl/db/search.py), its total counted as lists count theirs."""
        db = self._db.database
        counted = await product_search.count_matches(db, query=q, cap=TOTAL_CAP)
        hits = []
        if counted:
            after = None if start.position is None else search_key(start.position)
            offset = 0 if start.page is None else offset_of(start.page, start.page_size)
            hits = await product_search.search(db, query=q, limit=start.page_size + 1, offset=offset, after=after)
        return rendered([(hit.record, hit.key) for hit in hits], counted, start)

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
                change = await self._changes.announce(db, [record.id])
        except UniqueViolation:
            raise Conflict(SKU_TAKEN) from None  # the SKU is the products' only unique value
        await self._changes.committed(change)
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
                change = await self._changes.announce(db, [product_id])
        except UniqueViolation:
            raise Conflict(SKU_TAKEN) from None
        await self._changes.committed(change)
        return UpdateProduct200Response(body=to_product(record))

    async def delete_product(self, *, principal: Principal, product_id: UUID) -> DeleteProduct204Response:
        async with self._db.write() as db:
            if not await product_rows.soft_delete(db, product_id=product_id, at=datetime.now(UTC)):
                raise NotFound(PRODUCT_NOT_FOUND)
            change = await self._changes.announce(db, [product_id])
        await self._changes.committed(change)
        return DeleteProduct204Response()
