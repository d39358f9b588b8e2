"""Migrations are the only schema path: what they build is what the MetaData declares."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from impl.db.tables import metadata

pytestmark = pytest.mark.anyio
INDEX_OPS = ("add_index", "remove_index")


def _in_metadata(name: str | None, type_: str, parent_names: Any) -> bool:
    # Keyword search's own structures (migration 0008), read by impl/db/search.py, not the MetaData:
    # SQLite's products_search and its FTS5 tables, PostgreSQL's generated search_* columns and their indexes.
    if name is None:
        return True
    if type_ in ("table", "index"):
        return not name.startswith(("products_search", "ix_products_search_"))
    return not (type_ == "column" and name.startswith("search_"))


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": _in_metadata})
    with warnings.catch_warnings():
        # Alembic cannot reflect expression indexes (lower(email), ...) and says so; columns,
        # types, nullability, keys and plain indexes are compared.
        warnings.simplefilter("ignore")
        diffs = compare_metadata(context, metadata)
    return [
        d
        for d in diffs
        if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index") and _is_expression(d[1]))
    ]


def _is_expression(index: Any) -> bool:
    return any(not isinstance(expression, Column) for expression in index.expressions)


async def test_the_migrated_schema_matches_the_metadata(database_url: str) -> None:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []


def test_downgrading_the_newest_migration_restores_the_schema_before_it(tmp_path: Path) -> None:
    """On SQLite, where a careless downgrade copies the table and loses what reflection cannot see
    (expression indexes such as lower(name))."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from impl.db.migrate import alembic_config

    config = alembic_config(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_revision("head")
    assert head is not None
    previous = head.down_revision
    assert isinstance(previous, str)

    def schema() -> list[tuple[str, str, str]]:
        with sqlite3.connect(tmp_path / "schema.db") as connection:
            rows = connection.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'alembic%'")
            return sorted((kind, name, sql or "") for kind, name, sql in rows)

    command.upgrade(config, previous)
    before = schema()
    command.upgrade(config, "head")
    command.downgrade(config, previous)

    assert schema() == before
