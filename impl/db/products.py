"""Product queries (SQLAlchemy Core); each function runs one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from databases import Database
from databases.interfaces import Record
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.sql.elements import UnaryExpression

from .folding import fold
from .tables import products

LIVE = products.c.deleted_at.is_(None)


def escape_like(text: str) -> str:
    """`%`, `_` and the escape character itself, taken literally in LIKE."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, needle: str) -> ColumnElement[bool]:
    # lower() on both sides: the same case-insensitive meaning on SQLite and PostgreSQL.
    return fold(column).like(f"%{escape_like(needle.lower())}%", escape="\\")


async def insert(db: Database, *, values: Mapping[str, Any]) -> None:
    await db.execute(products.insert().values(**values))


async def get_live(db: Database, *, product_id: UUID) -> Record | None:
    return await db.fetch_one(select(products).where(products.c.id == product_id, LIVE))


async def sku_taken(db: Database, *, sku: str, except_id: UUID | None = None) -> bool:
    query = select(products.c.id).where(products.c.sku == sku, LIVE)
    if except_id is not None:
        query = query.where(products.c.id != except_id)
    return await db.fetch_one(query.limit(1)) is not None


async def update_live(db: Database, *, product_id: UUID, values: Mapping[str, Any]) -> bool:
    query = update(products).where(products.c.id == product_id, LIVE).values(**values).returning(products.c.id)
    return await db.fetch_one(query) is not None


async def soft_delete(db: Database, *, product_id: UUID, at: datetime) -> bool:
    query = update(products).where(products.c.id == product_id, LIVE).values(deleted_at=at, updated_at=at)
    return await db.fetch_one(query.returning(products.c.id)) is not None


async def count(db: Database, *, clauses: Sequence[ColumnElement[bool]]) -> int:
    query = select(func.count()).select_from(products).where(LIVE, *clauses)
    return int(await db.fetch_val(query) or 0)


async def page(
    db: Database,
    *,
    clauses: Sequence[ColumnElement[bool]],
    order_by: Sequence[UnaryExpression[Any]],
    limit: int,
    offset: int,
) -> list[Record]:
    query = select(products).where(LIVE, *clauses).order_by(*order_by).limit(limit).offset(offset)
    return list(await db.fetch_all(query))


def search_clause(q: str) -> ColumnElement[bool]:
    return or_(
        contains(products.c.name, q),
        contains(products.c.description, q),
        contains(products.c.category, q),
        contains(products.c.sku, q),
    )
