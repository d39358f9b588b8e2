"""User queries (SQLAlchemy Core); each function runs one statement and returns typed records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from databases import Database
from sqlalchemy import func, or_, select, update

from .folding import fold
from .records import columns_for, record_of
from .tables import users

LIVE = users.c.deleted_at.is_(None)


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: UUID
    email: str
    username: str
    password_hash: str
    role: str
    is_active: bool
    token_version: int
    created_at: datetime
    updated_at: datetime


_COLUMNS = columns_for(users, UserRecord)


def _record(row: Any) -> UserRecord:
    return record_of(UserRecord, row)


async def insert(db: Database, *, values: Mapping[str, Any]) -> UserRecord:
    row = await db.fetch_one(users.insert().values(**values).returning(*_COLUMNS))
    assert row is not None  # an INSERT ... RETURNING returns its row
    return _record(row)


async def get_live(db: Database, *, user_id: UUID, for_update: bool = False) -> UserRecord | None:
    """The live user; with `for_update`, its row stays locked until the transaction ends (PostgreSQL)."""
    query = select(*_COLUMNS).where(users.c.id == user_id, LIVE)
    row = await db.fetch_one(query.with_for_update() if for_update else query)
    return None if row is None else _record(row)


async def find_by_login(db: Database, *, login: str) -> UserRecord | None:
    """The live user whose username or email is `login`, case-insensitively."""
    needle = login.lower()
    query = select(*_COLUMNS).where(LIVE, or_(fold(users.c.username) == needle, fold(users.c.email) == needle))
    row = await db.fetch_one(query.limit(1))
    return None if row is None else _record(row)


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


async def update_live(
    db: Database, *, user_id: UUID, values: Mapping[str, Any], end_tokens: bool = False
) -> UserRecord | None:
    """Apply `values` to the live user and return it; `end_tokens` bumps its token version in the same UPDATE."""
    changes = dict(values)
    if end_tokens:
        changes["token_version"] = users.c.token_version + 1
    query = update(users).where(users.c.id == user_id, LIVE).values(**changes).returning(*_COLUMNS)
    row = await db.fetch_one(query)
    return None if row is None else _record(row)


async def count_live(db: Database) -> int:
    return int(await db.fetch_val(select(func.count()).select_from(users).where(LIVE)) or 0)


async def page(db: Database, *, limit: int, offset: int) -> list[UserRecord]:
    query = (
        select(*_COLUMNS).where(LIVE).order_by(users.c.created_at.desc(), users.c.id.desc()).limit(limit).offset(offset)
    )
    return [_record(row) for row in await db.fetch_all(query)]


async def lock_active_admins(db: Database) -> None:
    """Lock every active live admin's row, in id order, until the transaction ends.

    A change that may remove an admin (demotion, deactivation, deletion) takes
    these locks *before* it locks its target: every such transaction then locks
    in one order, and two of them on the last two admins queue up instead of
    deadlocking (each holding its target and waiting for the other's, which
    PostgreSQL ended with a deadlock error: a 500).
    """
    query = (
        select(users.c.id)
        .where(LIVE, users.c.role == "admin", users.c.is_active.is_(True))
        .order_by(users.c.id)
        .with_for_update()
    )
    await db.fetch_all(query)


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
