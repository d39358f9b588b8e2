"""Product queries (SQLAlchemy Core); each function runs one statement.

Lists are described by a `Selection` (filter clauses and an order), built here
from plain values, so no caller writes SQL. Keyword search is impl/db/search.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from databases import Database
from sqlalchemy import ColumnElement, func, select, update

from .folding import fold
from .records import columns_for, record_of
from .tables import products

LIVE = products.c.deleted_at.is_(None)
# The allow-list of sort fields; the primary key breaks ties.
SORT_COLUMNS: Mapping[str, Any] = {
    "name": fold(products.c.name),
    "price": products.c.price_cents,
    "created_at": products.c.created_at,
    "stock": products.c.stock,
}


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: UUID
    name: str
    description: str | None
    price_cents: int
    stock: int
    category: str | None
    sku: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """The list filters; None (or False) leaves a filter out."""

    name: str | None = None
    category: str | None = None
    min_cents: int | None = None
    max_cents: int | None = None
    in_stock_only: bool = False


@dataclass(frozen=True, slots=True)
class Selection:
    clauses: tuple[ColumnElement[bool], ...]
    order_by: tuple[Any, ...]


_COLUMNS = columns_for(products, ProductRecord)


def _record(row: Any) -> ProductRecord:
    return record_of(ProductRecord, row)


def escape_like(text: str) -> str:
    """`%`, `_` and the escape character itself, taken literally in LIKE."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, needle: str) -> ColumnElement[bool]:
    # lower() on both sides: the same case-insensitive meaning on SQLite and PostgreSQL.
    return fold(column).like(f"%{escape_like(needle.lower())}%", escape="\\")


def list_selection(filters: ProductFilter, *, sort_by: str, descending: bool) -> Selection:
    clauses: list[ColumnElement[bool]] = []
    if filters.name is not None:
        clauses.append(contains(products.c.name, filters.name))
    if filters.category is not None:
        clauses.append(products.c.category == filters.category)
    if filters.min_cents is not None:
        clauses.append(products.c.price_cents >= filters.min_cents)
    if filters.max_cents is not None:
        clauses.append(products.c.price_cents <= filters.max_cents)
    if filters.in_stock_only:
        clauses.append(products.c.stock > 0)
    column = SORT_COLUMNS[sort_by]
    order = (column.desc(), products.c.id.desc()) if descending else (column.asc(), products.c.id.asc())
    return Selection(tuple(clauses), order)


async def insert(db: Database, *, values: Mapping[str, Any]) -> ProductRecord:
    row = await db.fetch_one(products.insert().values(**values).returning(*_COLUMNS))
    assert row is not None  # an INSERT ... RETURNING returns its row
    return _record(row)


async def get_live(db: Database, *, product_id: UUID) -> ProductRecord | None:
    row = await db.fetch_one(select(*_COLUMNS).where(products.c.id == product_id, LIVE))
    return None if row is None else _record(row)


async def update_live(db: Database, *, product_id: UUID, values: Mapping[str, Any]) -> ProductRecord | None:
    query = update(products).where(products.c.id == product_id, LIVE).values(**values).returning(*_COLUMNS)
    row = await db.fetch_one(query)
    return None if row is None else _record(row)


async def soft_delete(db: Database, *, product_id: UUID, at: datetime) -> bool:
    query = update(products).where(products.c.id == product_id, LIVE).values(deleted_at=at, updated_at=at)
    return await db.fetch_one(query.returning(products.c.id)) is not None


async def count(db: Database, *, selection: Selection, cap: int) -> int:
    """The number of matches, counting no further than `cap + 1` (so a broad match stops early)."""
    matches = select(products.c.id).where(LIVE, *selection.clauses).limit(cap + 1).subquery()
    return int(await db.fetch_val(select(func.count()).select_from(matches)) or 0)


async def page(db: Database, *, selection: Selection, limit: int, offset: int) -> list[ProductRecord]:
    query = select(*_COLUMNS).where(LIVE, *selection.clauses).order_by(*selection.order_by).limit(limit).offset(offset)
    return [_record(row) for row in await db.fetch_all(query)]
