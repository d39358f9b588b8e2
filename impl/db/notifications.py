"""Product changes announced through PostgreSQL itself: NOTIFY in the writing transaction, LISTEN everywhere.

PostgreSQL delivers a NOTIFY when, and only when, its transaction commits, to
every session listening on the channel. So every process of the API learns of
every committed product write, whether or not the writer could reach Redis
afterwards: the processes that can reach Redis move the cache on for it (see
`impl.services.product_cache`). The payload is `<product id> <change id>`; the
change id makes that move happen once per write, however many processes do it.

On SQLite (one process by design) `announce` only returns the change id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from uuid import UUID

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from .database import Session, one_line

logger = logging.getLogger(__name__)

CHANNEL = "catalog_products_changed"
CHECK_EVERY_SECONDS = 1.0  # how often a quiet listening connection is checked
RECONNECT_AFTER_SECONDS = 0.5


async def announce(db: Session, *, product_id: UUID) -> str:
    """Inside the write's transaction: tell every process once it commits. Returns the change id."""
    change = secrets.token_hex(8)
    if db.url.dialect == "postgresql":
        await db.execute(select(func.pg_notify(CHANNEL, f"{product_id} {change}")))
    return change


def parse(payload: str) -> tuple[UUID, str] | None:
    """`(product id, change id)` of an announcement, or None for anything else."""
    product_id, _, change = payload.partition(" ")
    try:
        return UUID(product_id), change
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
