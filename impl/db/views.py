"""Users' product views (SQLAlchemy Core); each function runs one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from databases import Database
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from .tables import product_views, products

LIVE = products.c.deleted_at.is_(None)


async def record_many(db: Database, *, views: Sequence[tuple[UUID, UUID, datetime]]) -> None:
    """Each (user, product, time) in one statement: a new row, or the user's row of that product moved to the
    time (at most one view per pair here)."""
    if not views:
        return
    rows = [{"user_id": user, "product_id": product, "viewed_at": at} for user, product, at in views]
    upsert = postgresql.insert if db.url.dialect == "postgresql" else sqlite.insert
    statement = upsert(product_views).values(rows)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[product_views.c.user_id, product_views.c.product_id],
            set_={"viewed_at": statement.excluded.viewed_at},
        )
    )


async def trim(db: Database, *, user_id: UUID, keep: int) -> None:
    """Forget all but the user's `keep` newest views."""
    newest = (
        select(product_views.c.product_id)
        .where(product_views.c.user_id == user_id)
        .order_by(product_views.c.viewed_at.desc(), product_views.c.product_id.desc())
        .limit(keep)
        .scalar_subquery()
    )
    await db.execute(
        product_views.delete().where(product_views.c.user_id == user_id, product_views.c.product_id.not_in(newest))
    )


async def recent(db: Database, *, user_id: UUID, limit: int) -> list[UUID]:
    """The live products the user viewed, newest view first."""
    query = (
        select(product_views.c.product_id)
        .join(products, products.c.id == product_views.c.product_id)
        .where(product_views.c.user_id == user_id, LIVE)
        .order_by(product_views.c.viewed_at.desc(), product_views.c.product_id.desc())
        .limit(limit)
    )
    return [row[0] for row in await db.fetch_all(query)]


async def viewed(db: Database, *, user_id: UUID) -> list[UUID]:
    """Every product the user's history holds (deleted ones included)."""
    query = select(product_views.c.product_id).where(product_views.c.user_id == user_id)
    return [row[0] for row in await db.fetch_all(query)]


# A product counts as popular only once this many users viewed it, and ties never follow view times: the
# list must not tell one user what another just looked at.
MIN_VIEWERS_FOR_POPULAR = 3


async def popular(db: Database, *, limit: int, exclude_user: UUID) -> list[UUID]:
    """Live products viewed by the most users (at least MIN_VIEWERS_FOR_POPULAR), none that `exclude_user`
    viewed; ties: the newest product, then id."""
    seen = select(product_views.c.product_id).where(product_views.c.user_id == exclude_user).scalar_subquery()
    query = (
        select(product_views.c.product_id)
        .join(products, products.c.id == product_views.c.product_id)
        .where(LIVE, product_views.c.product_id.not_in(seen))
        .group_by(product_views.c.product_id, products.c.created_at)
        .having(func.count() >= MIN_VIEWERS_FOR_POPULAR)
        .order_by(func.count().desc(), products.c.created_at.desc(), product_views.c.product_id.desc())
        .limit(limit)
    )
    return [row[0] for row in await db.fetch_all(query)]


async def newest(db: Database, *, limit: int, exclude_user: UUID) -> list[UUID]:
    """The newest live products, none that `exclude_user` viewed."""
    seen = select(product_views.c.product_id).where(product_views.c.user_id == exclude_user).scalar_subquery()
    query = (
        select(products.c.id)
        .where(LIVE, products.c.id.not_in(seen))
        .order_by(products.c.created_at.desc(), products.c.id.desc())
        .limit(limit)
    )
    return [row[0] for row in await db.fetch_all(query)]
