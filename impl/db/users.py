"""User queries (SQLAlchemy Core); each function runs one statement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from databases import Database
from databases.interfaces import Record
from sqlalchemy import func, or_, select, update

from .folding import fold
from .tables import users

LIVE = users.c.deleted_at.is_(None)


async def insert(db: Database, *, values: Mapping[str, Any]) -> None:
    await db.execute(users.insert().values(**values))


async def get_live(db: Database, *, user_id: UUID) -> Record | None:
    return await db.fetch_one(select(users).where(users.c.id == user_id, LIVE))


async def find_by_login(db: Database, *, login: str) -> Record | None:
    """The live user whose username or email is `login`, case-insensitively."""
    needle = login.lower()
    query = select(users).where(LIVE, or_(fold(users.c.username) == needle, fold(users.c.email) == needle))
    return await db.fetch_one(query.limit(1))


async def email_taken(db: Database, *, email: str, except_id: UUID | None = None) -> bool:
    query = select(users.c.id).where(LIVE, fold(users.c.email) == email.lower())
    if except_id is not None:
        query = query.where(users.c.id != except_id)
    return await db.fetch_one(query.limit(1)) is not None


async def username_taken(db: Database, *, username: str, except_id: UUID | None = None) -> bool:
    query = select(users.c.id).where(LIVE, fold(users.c.username) == username.lower())
    if except_id is not None:
        query = query.where(users.c.id != except_id)
    return await db.fetch_one(query.limit(1)) is not None


async def update_live(db: Database, *, user_id: UUID, values: Mapping[str, Any]) -> bool:
    query = update(users).where(users.c.id == user_id, LIVE).values(**values).returning(users.c.id)
    return await db.fetch_one(query) is not None


async def count_live(db: Database) -> int:
    return int(await db.fetch_val(select(func.count()).select_from(users).where(LIVE)) or 0)


async def page(db: Database, *, limit: int, offset: int) -> list[Record]:
    query = select(users).where(LIVE).order_by(users.c.created_at.desc(), users.c.id.desc()).limit(limit).offset(offset)
    return list(await db.fetch_all(query))


async def other_active_admins(db: Database, *, user_id: UUID) -> int:
    """Active live admins other than `user_id`, their rows locked until the transaction ends.

    On PostgreSQL the lock makes two concurrent demotions of the last two admins
    queue up, so the second sees the first one's change (SQLite serializes writes).
    """
    query = (
        select(users.c.id)
        .where(LIVE, users.c.role == "admin", users.c.is_active.is_(True))
        .order_by(users.c.id)
        .with_for_update()
    )
    return sum(1 for row in await db.fetch_all(query) if row["id"] != user_id)
