"""Alembic, driven from code: the only way the schema is created or changed.

python -m impl.db.migrate            upgrade to the newest revision
python -m impl.db.migrate current    print the database's revision ("no revision" on an empty database)

A database that cannot be reached (no server, no such database, a refused
login) ends the command in one line that names it, before Alembic runs.
"""

from __future__ import annotations

import asyncio
import errno
import sys
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
USAGE = "usage: python -m impl.db.migrate [current]  (scripts/migrate [current])"


class DatabaseUnreachable(SystemExit):
    """The database cannot be used at all: one line for the operator, and a non-zero exit."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` (the app's async URL) to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _where(url: str) -> str:
    """The database's name and place, never its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite database {parsed.database or ':memory:'}"
    return f'database "{parsed.database}" on {parsed.host or "localhost"}:{parsed.port or 5432}'


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__ or current.__context__
    return chain


def connection_problem(exc: BaseException, url: str, timeout: float) -> str:
    """One line saying why the database at `url` cannot be used."""
    parsed = make_url(url)
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return (
                f'catalog-api: database "{parsed.database}" does not exist on {parsed.host}:{parsed.port or 5432} '
                f"(create it, e.g. createdb -h {parsed.host} -p {parsed.port or 5432} {parsed.database})"
            )
        if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError):
            return f"catalog-api: {_where(url)} refused the login of {parsed.username}: {cause}"
        if isinstance(cause, TimeoutError):
            return f"catalog-api: {_where(url)} did not answer within {timeout:g} s"
        if isinstance(cause, OSError):
            refused = isinstance(cause, ConnectionRefusedError) or cause.errno == errno.ECONNREFUSED
            reason = "connection refused (is the server running?)" if refused else cause.strerror or str(cause)
            return f"catalog-api: cannot connect to {_where(url)}: {reason}"
    last = causes[-1]
    detail = str(last).strip().splitlines()[0] if str(last).strip() else type(last).__name__
    return f"catalog-api: cannot use {_where(url)}: {detail}"


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _database_revision(url: str, seconds: float) -> str | None:
    connect_args: dict[str, Any] = {"timeout": seconds} if make_url(url).get_backend_name() == "postgresql" else {}
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    try:
        async with asyncio.timeout(seconds + 1):
            async with engine.connect() as connection:
                return await connection.run_sync(_revision)
    finally:
        await engine.dispose()


def database_revision(url: str, timeout: float = 5.0) -> str | None:
    """The revision the database at `url` is at (None: no migration applied yet).

    Raises DatabaseUnreachable, with one line naming the database and the reason,
    when it cannot be connected to."""
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            folder = Path(database).parent
            if not folder.is_dir():
                raise DatabaseUnreachable(f"catalog-api: cannot open {_where(url)}: the folder {folder} does not exist")
    try:
        return asyncio.run(_database_revision(url, timeout))
    except Exception as exc:
        raise DatabaseUnreachable(connection_problem(exc, url, timeout)) from None


def main(argv: list[str]) -> int:
    from impl.settings import load_settings

    if any(argument in ("-h", "--help") for argument in argv[1:]):
        print(__doc__)
        return 0
    if argv[1:] not in ([], ["current"]):
        print(USAGE, file=sys.stderr)
        return 2
    settings = load_settings()  # a refused setting stops here, in one line
    url = settings.resolved_database_url()
    revision = database_revision(url, settings.database_timeout_seconds)
    if argv[1:] == ["current"]:
        head = head_revision()
        if revision is None:
            print(f"no revision: {_where(url)} has no migrations applied (scripts/migrate applies them)")
        else:
            print(f"revision {revision}" + (" (head)" if revision == head else f" (newest: {head})"))
        return 0
    upgrade(url)
    print(f"database at revision {head_revision()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
