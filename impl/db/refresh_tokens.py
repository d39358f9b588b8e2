"""Refresh-token queries: stored server-side, used once, revoked by family.

A family is revoked when any of its rows carries `revoked_at`: a row inserted
by a rotation that raced the revocation (PostgreSQL, READ COMMITTED) escapes the
revoking UPDATE, so every use checks the whole family, not only its own row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from databases import Database
from sqlalchemy import ColumnElement, exists, select, update

from .tables import refresh_tokens


@dataclass(frozen=True, slots=True)
class UsedToken:
    user_id: UUID
    family_id: str


@dataclass(frozen=True, slots=True)
class KnownToken:
    user_id: UUID
    family_id: str
    used: bool


def _family_live() -> ColumnElement[bool]:
    """No row of this token's family is revoked."""
    kin = refresh_tokens.alias("kin")
    return ~exists().where(kin.c.family_id == refresh_tokens.c.family_id, kin.c.revoked_at.is_not(None))


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
            _family_live(),
        )
        .values(used_at=at)
        .returning(refresh_tokens.c.user_id, refresh_tokens.c.family_id)
    )
    row = await db.fetch_one(query)
    return None if row is None else UsedToken(user_id=row["user_id"], family_id=row["family_id"])


async def reuse_within(db: Database, *, jti: str, at: datetime, since: datetime) -> UsedToken | None:
    """Use again a token first used after `since` (the grace window), its family still live.

    The no-op UPDATE takes the row's lock, like `mark_used`: a concurrent revocation of
    the family (which must lock this row too) either waits for this rotation to commit
    or commits first, and then this statement finds the row revoked and returns nothing.
    """
    query = (
        update(refresh_tokens)
        .where(
            refresh_tokens.c.jti == jti,
            refresh_tokens.c.used_at > since,
            refresh_tokens.c.revoked_at.is_(None),
            refresh_tokens.c.expires_at > at,
            _family_live(),
        )
        .values(used_at=refresh_tokens.c.used_at)  # the window runs from the first use
        .returning(refresh_tokens.c.user_id, refresh_tokens.c.family_id)
    )
    row = await db.fetch_one(query)
    return None if row is None else UsedToken(user_id=row["user_id"], family_id=row["family_id"])


async def get(db: Database, *, jti: str) -> KnownToken | None:
    query = select(refresh_tokens.c.user_id, refresh_tokens.c.family_id, refresh_tokens.c.used_at).where(
        refresh_tokens.c.jti == jti
    )
    row = await db.fetch_one(query)
    if row is None:
        return None
    return KnownToken(user_id=row["user_id"], family_id=row["family_id"], used=row["used_at"] is not None)


async def revoke_family(db: Database, *, family_id: str, at: datetime) -> bool:
    """Revoke every live token of the family; False when it was revoked already."""
    revoked = await db.fetch_all(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
        .returning(refresh_tokens.c.jti)
    )
    return len(revoked) > 0
