"""The database handle: `databases` over SQLAlchemy Core, with serialized writes on SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

import asyncpg
from databases import Database
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, CreateTable

from .tables import metadata


class UniqueViolation(Exception):
    """A write broke a unique index (a concurrent duplicate slipped past the service's check)."""


def _is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return isinstance(exc, asyncpg.UniqueViolationError)


class Db:
    """One database; `write()` opens a transaction, serialized when SQLite allows one writer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self.database = Database(url)
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    async def connect(self) -> None:
        await self.database.connect()

    async def disconnect(self) -> None:
        await self.database.disconnect()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Database]:
        lock: Any = self._write_lock or nullcontext()
        async with lock, self.database.transaction():
            yield self.database

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.database.fetch_val(text("SELECT 1")), timeout=2)
        except Exception:
            return False
        return True


async def create_schema(db: Db) -> None:
    """Create the tables and indexes that do not exist yet.

    SQLite runs in WAL mode so readers never wait for the one writer.
    """
    dialect = db.database._backend._dialect
    if db.is_sqlite:
        await db.database.execute("PRAGMA journal_mode=WAL")
    for table in metadata.sorted_tables:
        await db.database.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            await db.database.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))
