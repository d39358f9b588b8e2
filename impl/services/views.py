"""Each signed-in user's recent product views: recorded off the request path, bounded, versioned in the cache.

A signed-in `GET /products/{id}` that finds the product records a view: one row
per (user, product) holding the newest view's time, at most `keep` products per
user (the oldest forgotten). The read only puts the view in a bounded queue in
this process (one entry per user and product, the newest time); a background
writer takes what is queued and writes it in batches, each batch in one
transaction (one upsert, then one trim per user in it), at most one round of
batches per GATHER_SECONDS (0.1 s), so a read never waits for the database,
nor, on SQLite, for its one writer.

When the queue is full the oldest queued view is dropped for the new one and
counted (`on_dropped`: the metric `catalog_views_dropped_total`). A batch the
database refuses is logged and dropped, counted the same way; the reads answered
all the same. What a crash can lose is what the queue held: at most
`queue_size` views, normally the last few milliseconds' worth. At shutdown the
queue is written before the database closes (`close`), without waiting.

After a batch commits, each of its users' views version in the cache moves on,
so recommendations cached under the old version are never read again (a rebuild
that raced the write can only store under the old one). If the cache cannot be
reached, the step is owed: this process reads nothing from the cache until it
has paid it (impl/cache/redis.py), so no recommendation built before the view
is served after it. Recommendations see a view once its batch is written;
`flush()` waits for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from contract_runtime.principal import Principal

from ..cache import Cache
from ..db import views as view_rows
from ..db.database import Db

logger = logging.getLogger(__name__)

QUEUE_SIZE = 10_000
BATCH_SIZE = 500  # views per transaction
# The writer waits this long after a view arrives before it writes, so the views of that moment share one
# transaction: without the wait, one user reading one product in a loop kept a transaction (and a cache
# step) going per read, on the server's own event loop.
GATHER_SECONDS = 0.1


def version_key(user_id: UUID) -> str:
    return f"views:version:{user_id}"


class ViewHistory:
    def __init__(
        self,
        db: Db,
        cache: Cache,
        *,
        keep: int,
        queue_size: int = QUEUE_SIZE,
        batch_size: int = BATCH_SIZE,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._cache = cache
        self.keep = keep
        self._queue_size = queue_size
        self._batch_size = batch_size
        self._on_dropped = on_dropped  # told how many views were lost (a full queue, a refused batch)
        self._queued: OrderedDict[tuple[UUID, UUID], datetime] = OrderedDict()  # oldest first
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._closed = False

    def viewed(self, principal: Principal, product_id: UUID) -> None:
        """Queue the view (never waits): the newest time per user and product, the oldest dropped when full."""
        key = (UUID(principal.subject), product_id)
        self._queued.pop(key, None)
        self._queued[key] = datetime.now(UTC)
        if len(self._queued) > self._queue_size:
            self._queued.popitem(last=False)
            self._dropped(1)
        self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._queued)

    async def run(self) -> None:
        """The background writer, until `close`: writes what is queued, batch after batch."""
        while not self._closed:
            await self._wake.wait()
            await asyncio.sleep(GATHER_SECONDS)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write every view queued so far (and any queued meanwhile) before returning."""
        async with self._writing:
            while self._queued:
                await self._write_batch()

    async def close(self, *, within_seconds: float) -> None:
        """At shutdown, before the database and the cache close: what is queued is written, in a bounded time."""
        self._closed = True
        self._wake.set()
        try:
            await asyncio.wait_for(self.flush(), timeout=within_seconds)
        except TimeoutError:
            logger.warning("%d product views not written at shutdown (the database did not answer)", self.queued)

    async def _write_batch(self) -> None:
        batch: list[tuple[UUID, UUID, datetime]] = []
        while self._queued and len(batch) < self._batch_size:
            (user_id, product_id), at = self._queued.popitem(last=False)
            batch.append((user_id, product_id, at))
        users = sorted({user_id for user_id, _, _ in batch})
        try:
            async with self._db.write() as db:
                await view_rows.record_many(db, views=batch)
                for user_id in users:
                    await view_rows.trim(db, user_id=user_id, keep=self.keep)
        except Exception as exc:
            logger.warning("%d product views not recorded: %s: %s", len(batch), type(exc).__name__, exc)
            self._dropped(len(batch))
            return
        for user_id in users:
            await self._cache.increment(version_key(user_id))

    def _dropped(self, count: int) -> None:
        if self._on_dropped is not None:
            self._on_dropped(count)

    async def version(self, user_id: UUID) -> str:
        (value,) = await self._cache.get_many([version_key(user_id)])
        return "0" if value is None else value.decode("ascii", "replace")
