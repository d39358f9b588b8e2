"""Each signed-in user's recent product views: recorded on reads, bounded, versioned in the cache.

A signed-in `GET /products/{id}` that finds the product records a view: one row
per (user, product) holding the newest view's time, at most `keep` products per
user (the oldest forgotten). After each view the user's views version in the
cache moves on, so recommendations cached under the old version are never read
again (a rebuild that raced the view can only store under the old one). If the
cache cannot be reached, the step is owed: this process reads nothing from the
cache until it has paid it (impl/cache/redis.py), so no recommendation built
before the view is served after it.
A view that cannot be recorded is logged; the read answers all the same.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from contract_runtime.principal import Principal

from ..cache import Cache
from ..db import views as view_rows
from ..db.database import Db, UniqueViolation

logger = logging.getLogger(__name__)


def version_key(user_id: UUID) -> str:
    return f"views:version:{user_id}"


class ViewHistory:
    def __init__(self, db: Db, cache: Cache, *, keep: int) -> None:
        self._db = db
        self._cache = cache
        self.keep = keep

    async def viewed(self, principal: Principal, product_id: UUID) -> None:
        user_id = UUID(principal.subject)
        at = datetime.now(UTC)
        try:
            async with self._db.write() as db:
                if not await view_rows.touch(db, user_id=user_id, product_id=product_id, at=at):
                    await view_rows.add(db, user_id=user_id, product_id=product_id, at=at)
                    await view_rows.trim(db, user_id=user_id, keep=self.keep)
        except UniqueViolation:
            pass  # the same first view, recorded by a concurrent read
        except Exception as exc:
            logger.warning("a product view was not recorded: %s: %s", type(exc).__name__, exc)
            return
        await self._cache.increment(version_key(user_id))

    async def version(self, user_id: UUID) -> str:
        (value,) = await self._cache.get_many([version_key(user_id)])
        return "0" if value is None else value.decode("ascii", "replace")
