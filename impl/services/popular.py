"""Popular products, for users without a usable history: what many established accounts viewed, in a list
that one person with a few accounts cannot steer into telling them what someone else viewed.

What the list guarantees (openapi.yaml's getRecommendations states it to clients):

- Only established accounts count: active, not deleted, and created at least `min_account_age` before the
  period began. Accounts made to steer the list count for nothing until then, however many there are.
- A product is listed only when at least `min_viewers` established accounts viewed it, and more: each
  product's bar is raised by a secret extra of 0 to `noise` viewers, drawn afresh per product and per
  period (an HMAC under SECRET_KEY). Nothing is ever listed below `min_viewers` established viewers.
- The list is computed once per period (by the first request that needs it, then kept in the database)
  and holds for the whole period: a view moves it, if at all, only in a later period, mixed with every
  other view made meanwhile and under fresh extras. Listed products come newest first, not most viewed
  first: past the bar, how many viewed a product shows nowhere (an order by counts would move with a
  single view whenever two products' counts are close).

So, whatever an observer does with accounts of their own: fresh ones change nothing; one more view of a
product (anyone's) changes a period's list with a chance of at most one in `noise + 1` (only when that
product's extra takes the one value that puts its bar right there); and each try takes a period, with
accounts that existed a full `min_account_age` before it. The chance adds up over many periods for a view
that stays in someone's history: `noise` and the period set how slowly.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ..db import views as view_rows
from ..db.database import Db, UniqueViolation

BATCH = 500  # products with enough viewers, read this many at a time until the list is full


class Popularity:
    def __init__(
        self,
        db: Db,
        *,
        min_viewers: int,
        min_account_age: timedelta,
        period: timedelta,
        noise: int,
        secret: str,
        size: int,
    ) -> None:
        self._db = db
        self._min_viewers = min_viewers
        self._min_account_age = min_account_age
        self._period_seconds = period.total_seconds()
        self._noise = noise
        # Its own key: the noise must not be a way to test guesses of the token-signing secret.
        self._key = hmac.new(secret.encode(), b"catalog-api popular-list noise", hashlib.sha256).digest()
        self._size = size

    def period_start(self, now: datetime | None = None) -> datetime:
        at = (now or datetime.now(UTC)).timestamp()
        return datetime.fromtimestamp(math.floor(at / self._period_seconds) * self._period_seconds, UTC)

    async def listed(self) -> list[UUID]:
        """This period's popular products, best first (at most `size`)."""
        start = self.period_start()
        stored = await view_rows.popular_list(self._db.database, period_start=start)
        if stored is not None:
            return stored
        ranked = await self._rank(start)
        try:
            async with self._db.write() as db:
                await view_rows.store_popular_list(db, period_start=start, ids=ranked, at=datetime.now(UTC))
                await view_rows.forget_popular_lists(db, before=start)
        except UniqueViolation:  # another process computed it a moment earlier: everyone answers that one
            stored = await view_rows.popular_list(self._db.database, period_start=start)
            if stored is not None:
                return stored
        return ranked

    async def _rank(self, start: datetime) -> list[UUID]:
        established_before = start - self._min_account_age
        listed: list[UUID] = []
        offset = 0
        while len(listed) < self._size:
            batch = await view_rows.established_viewers(
                self._db.database,
                established_before=established_before,
                at_least=self._min_viewers,
                limit=BATCH,
                offset=offset,
            )
            listed += [key for key, viewers in batch if viewers >= self._min_viewers + self._extra(start, key)]
            if len(batch) < BATCH:
                break
            offset += BATCH
        return listed[: self._size]

    def _extra(self, start: datetime, product_id: UUID) -> int:
        """The product's secret extra for this period: 0..noise viewers, evenly."""
        digest = hmac.new(self._key, f"{start.isoformat()} {product_id}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") % (self._noise + 1)
