"""Product queries (SQLAlchemy Core); each function runs one statement.

Lists are described by a `Selection` (filter clauses and an
order), built here from plain values, so no caller writes SQL. Keyword search is impl/db/search.py.

An order is a tuple of `SortKey`s ending with the primary key, so every row has
a position of its own. Deep pages are read by keyset (sqlakeyset's way): the
page after a row holds the rows whose keys come after that row's keys in the
order, `(key, id) > (last key, last id)` ascending and `<` descending, which an
index on the same keys answers by walking on from that point. Nothing here
knows which keys an order has, so any order (a relevance tier, then the name,
then id) pages the same way. Sort keys are never NULL (the columns are NOT
NULL), which the comparison relies on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from databases import Database
from sqlalchemy import Column, ColumnElement, and_, func, literal, or_, select, tuple_, update

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
class SortKey:
    expression: ColumnElement[Any]
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Selection:
    """Which products (`clauses`) in which order (`keys`, the last one unique: the primary key).

    `order` names the order in words, for whoever must tell two orders apart (a page cursor)."""

    clauses: tuple[ColumnElement[bool], ...]
    keys: tuple[SortKey, ...]
    order: str

    @property
    def order_by(self) -> tuple[ColumnElement[Any], ...]:
        return tuple(key.expression.desc() if key.descending else key.expression.asc() for key in self.keys)


@dataclass(frozen=True, slots=True)
class Positioned:
    """A row of a page, with its sort keys as the database compares them (a cursor's position)."""

    record: ProductRecord
    keys: tuple[Any, ...]


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
    keys = (SortKey(SORT_COLUMNS[sort_by], descending), SortKey(products.c.id, descending))
    return Selection(tuple(clauses), keys, f"{sort_by} {'desc' if descending else 'asc'}")


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


def after(selection: Selection, position: Sequence[Any]) -> ColumnElement[bool]:
    """The rows that come after `position` (a row's sort keys) in the selection's order.

    A row-value comparison when every key runs the same way (an index on the keys seeks to it on
    both databases); otherwise, key by key: equal on the keys before, past it on this one."""
    if len(position) != len(selection.keys):
        raise ValueError("a position has one value per sort key")
    values = [literal(value, type_=key.expression.type) for key, value in zip(selection.keys, position, strict=True)]
    expressions = [key.expression for key in selection.keys]
    if len({key.descending for key in selection.keys}) == 1:
        descending = selection.keys[0].descending
        past = tuple_(*expressions) < tuple_(*values) if descending else tuple_(*expressions) > tuple_(*values)
        if isinstance(expressions[0], Column):
            return past
        # SQLite seeks an expression index (py_lower(name), id) by a bound on the expression alone, never by
        # the row value: the implied bound is spelled out. On a column it would make SQLite seek by it instead
        # of the row value, and walk every tie of the key (a stock of 0) before the position.
        bound = expressions[0] <= values[0] if descending else expressions[0] >= values[0]
        return and_(bound, past)
    alternatives = []
    for i, key in enumerate(selection.keys):
        past = key.expression < values[i] if key.descending else key.expression > values[i]
        alternatives.append(and_(*(expressions[j] == values[j] for j in range(i)), past))
    return or_(*alternatives)


def key_types(selection: Selection) -> tuple[type, ...]:
    """The Python type of each sort key's value, to check a position read back from a client."""
    return tuple(key.expression.type.python_type for key in selection.keys)


async def page(
    db: Database, *, selection: Selection, limit: int, offset: int = 0, after_position: Sequence[Any] | None = None
) -> list[Positioned]:
    """Up to `limit` rows in the selection's order: from `offset`, or after the row at `after_position`."""
    keys = [key.expression.label(f"sort_key_{i}") for i, key in enumerate(selection.keys)]
    clauses = list(selection.clauses)
    if after_position is not None:
        clauses.append(after(selection, after_position))
    query = select(*_COLUMNS, *keys).where(LIVE, *clauses).order_by(*selection.order_by).limit(limit).offset(offset)
    return [
        Positioned(_record(row), tuple(row[f"sort_key_{i}"] for i in range(len(keys))))
        for row in await db.fetch_all(query)
    ]


async def live_ids_by_sku(db: Database, *, skus: Sequence[str]) -> dict[str, UUID]:
    """The ids of the live products holding these SKUs, by SKU."""
    if not skus:
        return {}
    rows = await db.fetch_all(select(products.c.id, products.c.sku).where(products.c.sku.in_(skus), LIVE))
    return {row["sku"]: row["id"] for row in rows}


async def insert_many(db: Database, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """One multi-row INSERT (every row with the same columns)."""
    if rows:
        await db.execute(products.insert().values(list(rows)))


async def replace_many(db: Database, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update live products by `id`, one statement each (`databases` runs an executemany as that too)."""
    for row in rows:
        values = {name: value for name, value in row.items() if name != "id"}
        await db.execute(update(products).where(products.c.id == row["id"], LIVE).values(**values))


async def live_after(db: Database, *, after_id: UUID | None, limit: int) -> list[ProductRecord]:
    """Up to `limit` live products after `after` in id order (a keyset page of the whole catalog)."""
    query = select(*_COLUMNS).where(LIVE)
    if after_id is not None:
        query = query.where(products.c.id > after_id)
    return [_record(row) for row in await db.fetch_all(query.order_by(products.c.id).limit(limit))]
