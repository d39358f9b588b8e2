"""Users' product views (SQLAlchemy Core); each function runs one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from databases import Database
from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from .tables import popular_lists, product_views, products, users

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


async def established_viewers(
    db: Database, *, established_before: datetime, at_least: int, limit: int, offset: int = 0
) -> list[tuple[UUID, int]]:
    """Live products that at least `at_least` established accounts viewed (active, not deleted, created no
    later than `established_before`), with that count; the newest product first."""
    query = (
        select(product_views.c.product_id, func.count())
        .join(products, products.c.id == product_views.c.product_id)
        .join(users, users.c.id == product_views.c.user_id)
        .where(
            LIVE,
            users.c.is_active.is_(True),
            users.c.deleted_at.is_(None),
            users.c.created_at <= established_before,
        )
        .group_by(product_views.c.product_id, products.c.created_at)
        .having(func.count() >= at_least)
        .order_by(products.c.created_at.desc(), product_views.c.product_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(row[0], int(row[1])) for row in await db.fetch_all(query)]


async def popular_list(db: Database, *, period_start: datetime) -> list[UUID] | None:
    """The period's stored popular list, best first; None when it has not been computed."""
    query = select(popular_lists.c.product_ids).where(popular_lists.c.period_start == period_start)
    row = await db.fetch_one(query)
    return None if row is None else [UUID(text) for text in str(row[0]).split()]


async def store_popular_list(db: Database, *, period_start: datetime, ids: list[UUID], at: datetime) -> None:
    """In a write: it raises UniqueViolation when another process stored the period's list first."""
    product_ids = " ".join(str(key) for key in ids)
    await db.execute(insert(popular_lists).values(period_start=period_start, product_ids=product_ids, computed_at=at))


async def forget_popular_lists(db: Database, *, before: datetime) -> None:
    await db.execute(popular_lists.delete().where(popular_lists.c.period_start < before))


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
