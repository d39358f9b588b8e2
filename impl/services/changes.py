"""The product change feed: every committed product write, announced once, and everything derived follows it.

A write names its change (`new_change`) and announces it inside its own
transaction (`ProductChanges.announce`: PostgreSQL NOTIFY, which is delivered
when, and only when, the transaction commits; `impl.db.notifications`). Once
committed, the writer hands the change to its own process's feed
(`committed`), which delivers it to this process's subscribers before the write
answers, so the writer reads its own write at once. Every other process hears
the NOTIFY on its LISTEN connection (`follow`) and delivers it to its
subscribers within milliseconds; the writer's process skips the echo of its own
changes. So each process's subscribers see each change once, and whether the
writer could reach Redis afterwards does not matter.

The subscribers are what is derived from products: the product cache (its
local layer cleared, the generation stepped once per change in all) and the
vector index of smart search (the named products re-read). Nothing derived has
a second way in. A subscriber is also told whether the feed is followed: False
from start-up until LISTEN is up and again whenever that connection is lost
(changes may have been missed meanwhile), True once it is back.

Without a LISTEN connection (SQLite, or PostgreSQL without Redis: one process
by design, and `impl.serve` refuses several workers on either) `committed` is
the whole feed, and it is always followed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

from ..db.database import Session
from ..db.notifications import ChangeListener, ProductChange, announce, new_change, parse

__all__ = ["ProductChange", "ProductChanges", "new_change"]

logger = logging.getLogger(__name__)

REMEMBERED = 4_096  # this process's own recent changes, whose echo is skipped

OnChange = Callable[[ProductChange], Awaitable[None]]
OnState = Callable[[bool], None]


class ProductChanges:
    def __init__(self, listener: ChangeListener | None = None) -> None:
        self._listener = listener
        self._subscribers: list[OnChange] = []
        self._watchers: list[OnState] = []
        self._own: OrderedDict[str, None] = OrderedDict()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._followed = listener is None

    @property
    def followed(self) -> bool:
        """True while every committed change reaches this process (always, without a LISTEN connection)."""
        return self._followed

    def subscribe(self, on_change: OnChange, on_state: OnState | None = None) -> None:
        """`on_change` for every committed change (never raising is its own business: failures are logged);
        `on_state` at once with the current state, then on every change of it."""
        self._subscribers.append(on_change)
        if on_state is not None:
            self._watchers.append(on_state)
            on_state(self._followed)

    async def announce(self, db: Session, product_ids: Sequence[UUID]) -> ProductChange:
        """Inside the write's transaction: the change, told to every process once it commits."""
        change = new_change(product_ids)
        # Remembered before the commit: the echo may come back before the writer is resumed.
        self._own[change.change] = None
        while len(self._own) > REMEMBERED:
            self._own.popitem(last=False)
        await announce(db, change)
        return change

    async def committed(self, change: ProductChange) -> None:
        """In the writing process, after the commit: every subscriber here has taken the change when this
        returns. A cancelled caller (a client gone) does not cut the delivery short."""
        await asyncio.shield(self._deliver(change))

    def _deliver(self, change: ProductChange) -> asyncio.Task[None]:
        delivery = asyncio.ensure_future(self._run(change))
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)
        return delivery

    async def _run(self, change: ProductChange) -> None:
        # Side by side: the cache's local layer is cleared at once, however long the index's re-read takes.
        outcomes = await asyncio.gather(
            *(subscriber(change) for subscriber in self._subscribers), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, Exception):  # one subscriber's failure never keeps the change from the others
                logger.error("a product change feed subscriber failed on %s", change.change, exc_info=outcome)

    def _heard(self, payload: str) -> None:
        change = parse(payload)
        if change is None or change.change in self._own:
            return
        self._deliver(change)

    def _state(self, followed: bool) -> None:
        if followed == self._followed:
            return
        self._followed = followed
        for watcher in self._watchers:
            watcher(followed)

    async def follow(self) -> None:
        """Until cancelled: hear every other process's changes (nothing to do without a LISTEN connection)."""
        if self._listener is None:
            return
        try:
            await self._listener.listen(self._heard, self._state)
        finally:
            for delivery in self._deliveries:
                delivery.cancel()
