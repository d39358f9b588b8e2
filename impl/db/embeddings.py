"""Product embeddings (SQLAlchemy Core); each function runs one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from databases import Database
from sqlalchemy import ColumnElement, func, or_, select, update

from .products import ProductRecord
from .records import columns_for, record_of
from .tables import products

LIVE = products.c.deleted_at.is_(None)


@dataclass(frozen=True, slots=True)
class EmbeddingRow:
    """What a product's vector is made from, and the vector stored for it (if any)."""

    id: UUID
    name: str
    category: str | None
    description: str | None
    updated_at: datetime
    embedding: bytes | None
    embedding_model: str | None
    embedding_text_sha256: str | None

    def current_for(self, model: str, text_sha256: str) -> bytes | None:
        """The stored vector when `model` made it from the text whose hash is given, else None."""
        if self.embedding is None or self.embedding_model != model or self.embedding_text_sha256 != text_sha256:
            return None
        return bytes(self.embedding)


_ROW_COLUMNS = columns_for(products, EmbeddingRow)
_PRODUCT_COLUMNS = columns_for(products, ProductRecord)


async def live_rows(db: Database, *, after: UUID | None, limit: int) -> list[EmbeddingRow]:
    """Up to `limit` live products after `after` in id order (a keyset page of the catalog)."""
    query = select(*_ROW_COLUMNS).where(LIVE)
    if after is not None:
        query = query.where(products.c.id > after)
    rows = await db.fetch_all(query.order_by(products.c.id).limit(limit))
    return [record_of(EmbeddingRow, row) for row in rows]


async def live_rows_of(db: Database, *, ids: Sequence[UUID]) -> list[EmbeddingRow]:
    """The live products among `ids`, in no particular order."""
    if not ids:
        return []
    rows = await db.fetch_all(select(*_ROW_COLUMNS).where(_one_of(ids), LIVE))
    return [record_of(EmbeddingRow, row) for row in rows]


async def store(db: Database, *, product_id: UUID, columns: Mapping[str, Any], text_updated_at: datetime) -> bool:
    """Keep the vector `columns` for the product if its text is still the one of `text_updated_at`."""
    query = (
        update(products)
        .where(products.c.id == product_id, products.c.updated_at == text_updated_at, LIVE)
        .values(**columns)
        .returning(products.c.id)
    )
    return await db.fetch_one(query) is not None


async def live_products(db: Database, *, ids: Sequence[UUID]) -> list[ProductRecord]:
    """The live products among `ids`, in no particular order."""
    if not ids:
        return []
    rows = await db.fetch_all(select(*_PRODUCT_COLUMNS).where(_one_of(ids), LIVE))
    return [record_of(ProductRecord, row) for row in rows]


def _one_of(ids: Sequence[UUID]) -> ColumnElement[bool]:
    # One typed bind per id: `databases` does not run an expanding IN's values through the Uuid type on SQLite.
    return or_(*(products.c.id == product_id for product_id in ids))


async def count_live(db: Database) -> int:
    return int(await db.fetch_val(select(func.count()).select_from(products).where(LIVE)) or 0)
