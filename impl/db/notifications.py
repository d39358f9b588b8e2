"""Product changes announced through PostgreSQL itself: NOTIFY in the writing transaction, LISTEN everywhere.

PostgreSQL delivers a NOTIFY when, and only when, its transaction commits, to
every session listening on the channel. So every process of the API learns of
every committed product write, whether or not the writer could reach Redis
afterwards: the processes that can reach Redis move the cache on for it (see
`impl.services.product_cache`). The payload is `<product id> <change id>`, then
for a write of many products (an import's batch) their other ids, as hex, each
after a space; the change id makes that move happen once per write, however
many processes do it. A batch too long for one NOTIFY payload (under 8,000 bytes)
is announced in several, all with its one change id.

On SQLite (one process by design) `announce` only returns the change id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from uuid import UUID

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from .database import Session, one_line

logger = logging.getLogger(__name__)

CHANNEL = "catalog_products_changed"
CHECK_EVERY_SECONDS = 1.0  # how often a quiet listening connection is checked
RECONNECT_AFTER_SECONDS = 0.5
IDS_PER_NOTIFY = 200  # 33 bytes each: well under PostgreSQL's 8,000-byte payload


async def announce(db: Session, *, product_id: UUID) -> str:
    """Inside the write's transaction: tell every process once it commits. Returns the change id."""
    return await announce_many(db, product_ids=[product_id])


async def announce_many(db: Session, *, product_ids: Sequence[UUID]) -> str:
    """`announce` for a write of several products (one change: caches move on once for all of them)."""
    change = secrets.token_hex(8)
    if db.url.dialect == "postgresql":
        for start in range(0, len(product_ids), IDS_PER_NOTIFY):
            first, *rest = product_ids[start : start + IDS_PER_NOTIFY]
            payload = " ".join([str(first), change, *(product_id.hex for product_id in rest)])
            await db.execute(select(func.pg_notify(CHANNEL, payload)))
    return change


def parse(payload: str) -> tuple[tuple[UUID, ...], str] | None:
    """`(product ids, change id)` of an announcement, or None for anything else."""
    product_id, _, rest = payload.partition(" ")
    change, *others = rest.split(" ")
    try:
        return tuple(UUID(text) for text in (product_id, *others)), change
    except ValueError:
        return None


class ChangeListener:
    """One connection of its own LISTENing on the channel, reopened whenever it is lost."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._timeout = timeout

    async def listen(self, on_message: Callable[[str], None], on_state: Callable[[bool], None]) -> None:
        """Until cancelled: on_state(True) once listening, on_message(payload) per announcement,
        on_state(False) whenever the connection is lost (then it connects again)."""

        def received(_connection: object, _pid: int, _channel: str, payload: str) -> None:
            on_message(payload)

        failures = 0
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=self._timeout)
                await connection.add_listener(CHANNEL, received)
                on_state(True)
                failures = 0
                while True:
                    await asyncio.sleep(CHECK_EVERY_SECONDS)
                    # A server that stopped answering does not close the socket: ask it.
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=self._timeout)
            except asyncio.CancelledError:
                on_state(False)
                raise
            except Exception as exc:
                on_state(False)
                if failures == 0:  # one line per outage
                    logger.warning("listening for product changes failed (%s); retrying", one_line(exc) or "timeout")
                failures += 1
                await asyncio.sleep(RECONNECT_AFTER_SECONDS)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.terminate()  # at once: shutdown never waits for a goodbye
