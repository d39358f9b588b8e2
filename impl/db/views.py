"""Users' product views (SQLAlchemy Core); each function runs one statement."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from databases import Database
from sqlalchemy import func, insert, select, update

from .tables import product_views, products

LIVE = products.c.deleted_at.is_(None)


async def touch(db: Database, *, user_id: UUID, product_id: UUID, at: datetime) -> bool:
    """Move an existing view of this product to `at`; False when the user had none."""
    query = (
        update(product_views)
        .where(product_views.c.user_id == user_id, product_views.c.product_id == product_id)
        .values(viewed_at=at)
        .returning(product_views.c.product_id)
    )
    return await db.fetch_one(query) is not None


async def add(db: Database, *, user_id: UUID, product_id: UUID, at: datetime) -> None:
    await db.execute(insert(product_views).values(user_id=user_id, product_id=product_id, viewed_at=at))


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
