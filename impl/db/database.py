"""The database handle: `databases` over SQLAlchemy Core, with serialized writes on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any, TypeAlias

import aiosqlite
import asyncpg
from databases import Database
from databases.backends.postgres import PostgresBackend
from databases.backends.sqlite import SQLitePool
from sqlalchemy import text
from sqlalchemy.engine import make_url

from .compiled import CompiledCachePostgresConnection
from .folding import FoldingConnection

logger = logging.getLogger(__name__)

# What a transaction hands its statements; the query modules take it as `db`.
Session: TypeAlias = Database


class UniqueViolation(Exception):
    """A write broke a unique index (a concurrent duplicate slipped past the service's check)."""


def _is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return isinstance(exc, asyncpg.UniqueViolationError)


def is_statement_timeout(exc: BaseException) -> bool:
    """The server cancelled a statement that ran past its statement_timeout (DATABASE_TIMEOUT_SECONDS):
    the query was too slow, the database is up (an outage is `is_unavailable`)."""
    return isinstance(exc, asyncpg.PostgresError) and exc.sqlstate == STATEMENT_TIMEOUT_SQLSTATE


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or did not answer in time (not a bug in a query).

    A connection refused, lost or closed, a server shutting down, starting up or
    out of connections, a connect, wait or statement past its timeout. Not
    asyncpg's other client errors: a `DataError` (a value the column type
    refuses) or "another operation is in progress" are bugs, answered 500.
    """
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in UNAVAILABLE_SQLSTATES
    if isinstance(exc, asyncpg.ConnectionDoesNotExistError):
        return True
    if type(exc) is asyncpg.InterfaceError:  # the connection closed, or was being cancelled after a timeout
        return any(sign in str(exc) for sign in _LOST_CONNECTION_SIGNS)
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "unable to open" in str(exc)
    # Refused, reset, unreachable, unresolvable ("Multiple exceptions: ..." when every address failed), timed out.
    # Any OSError: a Unix socket's file gone while the server is down (FileNotFoundError), TLS cut mid-handshake.
    return isinstance(exc, OSError | TimeoutError)


# Class 08 (connection), 57P01-57P03 (shutdown, crash, cannot connect now), 57P05 (idle session
# timeout), 53300 (too many connections), 25006 (a read-only transaction: a write that reached a
# standby after a failover).
UNAVAILABLE_SQLSTATES = frozenset(
    {"08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03", "57P05", "53300", "25006"}
)
STATEMENT_TIMEOUT_SQLSTATE = "57014"  # query_canceled: the server's statement_timeout ended it
_LOST_CONNECTION_SIGNS = ("closed", "cancelling", "pool is closing")

DEFAULT_TIMEOUT_SECONDS = 5.0
# How much longer than the server's statement_timeout the client waits before it
# decides the server is not answering at all.
UNRESPONSIVE_GRACE_SECONDS = 0.5


class _OneLineReconnects(logging.Filter):
    """asyncpg's pool logs a traceback each time it fails to reopen its minimum of
    connections (with backoff, while the server is down): keep it to one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg, record.args = "%s: %s: %s", (record.getMessage(), type(exc).__name__, one_line(exc))
            record.exc_info = None
            record.exc_text = None
        return True


def one_line(exc: BaseException) -> str:
    """An error's message on one line (asyncpg's carry DETAIL and HINT on lines of their own)."""
    return " ".join(str(exc).split())


_reconnect_filter = _OneLineReconnects()


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
        self.in_use = 0  # connections handed out and not yet given back

    async def acquire(self) -> aiosqlite.Connection:
        await self._slots.acquire()
        try:
            if self._idle:
                connection = self._idle.pop()
            else:
                connection = await super().acquire()
        except BaseException:
            self._slots.release()
            raise
        self.in_use += 1
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        self.in_use -= 1
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


class BoundedPostgresConnection(CompiledCachePostgresConnection):
    """A pooled asyncpg connection, waited for at most `timeout` seconds, whose return
    to the pool never waits on a server that stopped answering, nor fails the request.

    `databases` waits for a free pooled connection without a bound. A statement the
    server does not answer within the client's timeout leaves asyncpg cancelling it,
    and every later use of that connection (ROLLBACK, the reset on release) would
    first wait for the server to confirm: such a connection is abandoned (closed,
    its slot freed at once) and the pool opens a new one when needed.
    """

    def __init__(self, backend: PostgresBackend, timeout: float) -> None:
        super().__init__(backend, backend._dialect)
        self._timeout = timeout

    @property
    def abandoned(self) -> bool:
        """A statement on it timed out on the client: the server did not answer at all."""
        protocol = getattr(getattr(self._connection, "_con", None), "_protocol", None)
        return protocol is not None and protocol._is_cancelling()

    async def acquire(self) -> None:
        assert self._connection is None, "Connection is already acquired"
        pool: Any = self._database._pool
        assert pool is not None, "DatabaseBackend is not running"
        self._connection = await pool.acquire(timeout=self._timeout)

    async def release(self) -> None:
        assert self._connection is not None, "Connection is not acquired"
        if self.abandoned:
            self._connection.terminate()  # gives its slot back to the pool
        connection, self._connection = self._connection, None
        pool: Any = self._database._pool
        try:
            await pool.release(connection)  # a reset, bounded by the acquire's timeout
        except Exception as exc:  # asyncpg closed it; the request's outcome stands
            logger.debug("a database connection was dropped on release: %s: %s", type(exc).__name__, one_line(exc))


class Db:
    """One database; `write()` opens a transaction, serialized when SQLite allows one writer.

    On PostgreSQL every wait is bounded by `timeout` seconds: opening a connection,
    waiting for a pooled one, each statement, and closing at shutdown. A server
    that is down or does not answer makes a request fail with an error that
    `is_unavailable` recognizes, within that bound, and the pool reconnects by
    itself once the server is back.
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.timeout = timeout
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._sqlite_pool: ReusingSQLitePool | None = None
        if self.is_sqlite:
            self.database = Database(url, factory=FoldingConnection)
            backend: Any = self.database._backend
            self._sqlite_pool = backend._pool = ReusingSQLitePool(backend._pool)
        else:
            # The server cancels a statement past `timeout` itself (the connection stays
            # usable); the client gives up a moment later only when the server does not
            # answer at all. `timeout` also bounds connecting.
            server_settings = {**POSTGRES_SERVER_SETTINGS, "statement_timeout": str(max(1, round(timeout * 1000)))}
            self.database = Database(
                url,
                server_settings=server_settings,
                timeout=timeout,
                command_timeout=timeout + UNRESPONSIVE_GRACE_SECONDS,
            )
            postgres: PostgresBackend = self.database._backend
            # databases 0.9 has no hook for its connection class: replace the factory on this instance.
            setattr(postgres, "connection", lambda: BoundedPostgresConnection(postgres, timeout))  # noqa: B010
            logging.getLogger("asyncpg.pool").addFilter(_reconnect_filter)
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    def connections_in_use(self) -> int:
        """Connections checked out of the pool now."""
        if self._sqlite_pool is not None:
            return self._sqlite_pool.in_use
        pool: Any = self.database._backend._pool
        return 0 if pool is None else int(pool.get_size() - pool.get_idle_size())

    async def connect(self) -> None:
        await self.database.connect()
        if self.is_sqlite:
            # Persistent in the file: readers never wait for the one writer.
            await self.database.execute("PRAGMA journal_mode=WAL")

    async def disconnect(self) -> None:
        try:
            # Closing waits for every connection to say goodbye: bounded, then cut.
            await asyncio.wait_for(self.database.disconnect(), timeout=self.timeout)
        except Exception as exc:
            logger.warning("the database did not close in time, connections cut: %s", one_line(exc) or "timeout")
            backend: Any = self.database._backend
            if not self.is_sqlite and backend._pool is not None:
                backend._pool.terminate()
                backend._pool = None
            self.database.is_connected = False
        if self._sqlite_pool is not None:
            await self._sqlite_pool.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Database]:
        """A transaction: every statement the block runs through the yielded handle is in it.

        `databases`' own `transaction()` keeps its connection checked out for good
        when BEGIN, COMMIT or ROLLBACK fails on a connection that stays open (a
        statement timeout, a serialization failure at commit): each such failure
        costs the pool a connection until none is left. Here the connection goes
        back to the pool whatever fails, and the error that counts is raised: the
        block's own, not the ROLLBACK's that followed it on a lost connection.
        """
        lock: Any = self._write_lock or nullcontext()
        try:
            async with lock, self.database.connection() as connection:
                # Statements in this task run on this connection (databases keys it by task).
                transaction = connection._connection.transaction()
                await transaction.start(is_root=True, extra_options={})
                try:
                    yield self.database
                except BaseException:
                    backend = connection._connection
                    # Not on a connection left cancelling a statement: ROLLBACK would wait for the
                    # server, and the connection is closed on release (which ends the transaction).
                    if not (isinstance(backend, BoundedPostgresConnection) and backend.abandoned):
                        with contextlib.suppress(Exception):
                            await transaction.rollback()
                    raise
                await transaction.commit()
        except Exception as exc:
            if _is_unique_violation(exc):
                raise UniqueViolation(str(exc)) from exc
            raise

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.database.fetch_val(text("SELECT 1")), timeout=min(2, self.timeout))
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
