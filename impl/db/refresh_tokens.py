"""Refresh-token queries: stored server-side, used once, revoked by family."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from databases import Database
from sqlalchemy import select, update

from .tables import refresh_tokens


@dataclass(frozen=True, slots=True)
class UsedToken:
    user_id: UUID
    family_id: str


@dataclass(frozen=True, slots=True)
class KnownToken:
    family_id: str
    used: bool


async def insert(
    db: Database, *, jti: str, family_id: str, user_id: UUID, expires_at: datetime, created_at: datetime
) -> None:
    await db.execute(
        refresh_tokens.insert().values(
            jti=jti, family_id=family_id, user_id=user_id, expires_at=expires_at, created_at=created_at
        )
    )


async def mark_used(db: Database, *, jti: str, at: datetime) -> UsedToken | None:
    """Use a live token: one conditional UPDATE, so two concurrent uses cannot both win."""
    query = (
        update(refresh_tokens)
        .where(
            refresh_tokens.c.jti == jti,
            refresh_tokens.c.used_at.is_(None),
            refresh_tokens.c.revoked_at.is_(None),
            refresh_tokens.c.expires_at > at,
        )
        .values(used_at=at)
        .returning(refresh_tokens.c.user_id, refresh_tokens.c.family_id)
    )
    row = await db.fetch_one(query)
    return None if row is None else UsedToken(user_id=row["user_id"], family_id=row["family_id"])


async def get(db: Database, *, jti: str) -> KnownToken | None:
    query = select(refresh_tokens.c.family_id, refresh_tokens.c.used_at).where(refresh_tokens.c.jti == jti)
    row = await db.fetch_one(query)
    return None if row is None else KnownToken(family_id=row["family_id"], used=row["used_at"] is not None)


async def revoke_family(db: Database, *, family_id: str, at: datetime) -> None:
    await db.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
