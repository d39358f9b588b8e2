"""The database handle: `databases` over SQLAlchemy Core, with serialized writes on SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any, TypeAlias

import aiosqlite
import asyncpg
from databases import Database
from databases.backends.sqlite import SQLitePool
from sqlalchemy import text
from sqlalchemy.engine import make_url

from . import compiled
from .folding import FoldingConnection

# What a transaction hands its statements; the query modules take it as `db`.
Session: TypeAlias = Database


class UniqueViolation(Exception):
    """A write broke a unique index (a concurrent duplicate slipped past the service's check)."""


def _is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return isinstance(exc, asyncpg.UniqueViolationError)


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or did not answer in time (not a bug in a query)."""
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | asyncpg.CannotConnectNowError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in UNAVAILABLE_SQLSTATES
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "unable to open" in str(exc)
    return isinstance(exc, ConnectionError | TimeoutError | OSError)


# Class 08 (connection), 57P01-57P03 (shutdown, crash, cannot connect now), 53300 (too many connections).
UNAVAILABLE_SQLSTATES = frozenset({"08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03", "53300"})


# Search terms differ wildly in selectivity (`q=tv` reads most rows, `q=quokka` a
# few): plan each statement for its own values, never with a cached generic plan.
POSTGRES_SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


class ReusingSQLitePool(SQLitePool):
    """A bounded pool of SQLite connections, kept open between queries.

    `databases` opens a new aiosqlite connection (a new thread) for every query
    outside a transaction; that start-up dominated a request that reads one row.
    Here at most `size` connections exist; a query waits for a free one, and a
    connection goes back to the pool only when no transaction is open on it.
    """

    def __init__(self, pool: SQLitePool, *, size: int = 8) -> None:
        self._database = pool._database
        self._memref = pool._memref
        self._options = pool._options
        self._idle: list[aiosqlite.Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def acquire(self) -> aiosqlite.Connection:
        await self._slots.acquire()
        try:
            if self._idle:
                return self._idle.pop()
            connection: aiosqlite.Connection = await super().acquire()
            return connection
        except BaseException:
            self._slots.release()
            raise

    async def release(self, connection: aiosqlite.Connection) -> None:
        try:
            if connection.in_transaction:
                await super().release(connection)
            else:
                self._idle.append(connection)
        finally:
            self._slots.release()

    async def close(self) -> None:
        while self._idle:
            await super().release(self._idle.pop())


class Db:
    """One database; `write()` opens a transaction, serialized when SQLite allows one writer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._sqlite_pool: ReusingSQLitePool | None = None
        if self.is_sqlite:
            self.database = Database(url, factory=FoldingConnection)
            backend: Any = self.database._backend
            self._sqlite_pool = backend._pool = ReusingSQLitePool(backend._pool)
        else:
            self.database = Database(url, server_settings=POSTGRES_SERVER_SETTINGS)
            compiled.install(self.database._backend)
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    async def connect(self) -> None:
        await self.database.connect()
        if self.is_sqlite:
            # Persistent in the file: readers never wait for the one writer.
            await self.database.execute("PRAGMA journal_mode=WAL")

    async def disconnect(self) -> None:
        await self.database.disconnect()
        if self._sqlite_pool is not None:
            await self._sqlite_pool.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Database]:
        lock: Any = self._write_lock or nullcontext()
        try:
            async with lock, self.database.transaction():
                yield self.database
        except Exception as exc:
            if _is_unique_violation(exc):
                raise UniqueViolation(str(exc)) from exc
            raise

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.database.fetch_val(text("SELECT 1")), timeout=2)
        except Exception:
            return False
        return True


class SchemaOutOfDate(RuntimeError):
    """The database is not at the newest migration: run scripts/migrate."""


async def check_schema(db: Db, expected_revision: str | None) -> None:
    """Refuse to serve on a database the migrations have not brought up to date."""
    try:
        revision = await db.database.fetch_val("SELECT version_num FROM alembic_version")
    except Exception as exc:
        raise SchemaOutOfDate("the database has no schema yet: run scripts/migrate") from exc
    if revision != expected_revision:
        raise SchemaOutOfDate(f"the database is at revision {revision}, not {expected_revision}: run scripts/migrate")
