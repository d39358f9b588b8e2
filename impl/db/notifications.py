"""The product change feed's transport: NOTIFY in the writing transaction, LISTEN in every process.

PostgreSQL delivers a NOTIFY when, and only when, its transaction commits, to
every session listening on the channel. So every process of the API learns of
every committed product write, whether or not the writer could reach Redis
afterwards (`impl.services.changes` hands it to what is derived from products).
The payload is `<product id> <change id>`, then for a write of many products (an
import's batch) their other ids, as hex, each after a space; the change id lets
every process skip its own writes' echo and the product cache step its
generation once per write, however many processes take the step. A batch too
long for one NOTIFY payload (under 8,000 bytes) is announced in several, all
with its one change id.

On SQLite (one process by design) `announce` only names the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from .database import Session, one_line

logger = logging.getLogger(__name__)

CHANNEL = "catalog_products_changed"
APPLICATION_NAME = "catalog-api product changes"  # how the LISTEN connection shows in pg_stat_activity
CHECK_EVERY_SECONDS = 1.0  # how often a quiet listening connection is checked
RECONNECT_AFTER_SECONDS = 0.5
IDS_PER_NOTIFY = 200  # 33 bytes each: well under PostgreSQL's 8,000-byte payload


@dataclass(frozen=True, slots=True)
class ProductChange:
    """One committed write (of one product, or of an import's batch) and the products it touched."""

    product_ids: tuple[UUID, ...]
    change: str  # the write's id: the same in every process that hears of it


def new_change(product_ids: Sequence[UUID]) -> ProductChange:
    return ProductChange(product_ids=tuple(product_ids), change=secrets.token_hex(8))


async def announce(db: Session, change: ProductChange) -> None:
    """Inside the write's transaction: every listening process hears of it once it commits (PostgreSQL)."""
    if db.url.dialect != "postgresql":
        return
    for start in range(0, len(change.product_ids), IDS_PER_NOTIFY):
        first, *rest = change.product_ids[start : start + IDS_PER_NOTIFY]
        payload = " ".join([str(first), change.change, *(product_id.hex for product_id in rest)])
        await db.execute(select(func.pg_notify(CHANNEL, payload)))


def parse(payload: str) -> ProductChange | None:
    """The change an announcement (or one part of a batch's) names, or None for anything else."""
    product_id, _, rest = payload.partition(" ")
    change, *others = rest.split(" ")
    try:
        return ProductChange(product_ids=tuple(UUID(text) for text in (product_id, *others)), change=change)
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
                connection = await asyncpg.connect(
                    self._dsn, timeout=self._timeout, server_settings={"application_name": APPLICATION_NAME}
                )
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
