"""Case folding that means the same on SQLite and PostgreSQL.

SQLite's built-in lower() folds only A-Z, so `lower('CAFÉ')` is 'cafÉ' there
while Python and PostgreSQL (UTF-8) give 'café'. `fold(x)` compiles to lower()
on PostgreSQL and to `py_lower()`, Python's str.lower registered on every
SQLite connection, on SQLite: search, filters and sorting agree everywhere.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class fold(FunctionElement[str]):
    type = String()
    inherit_cache = True
    name = "fold"


@compiles(fold)
def _fold_default(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"py_lower({compiler.process(element.clauses, **kw)})"


def _py_lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def register_sqlite_functions(connection: Any) -> None:
    """Teach a SQLite connection (sqlite3's, or SQLAlchemy's adapter of aiosqlite's) py_lower()."""
    connection.create_function("py_lower", 1, _py_lower, deterministic=True)


class FoldingConnection(sqlite3.Connection):
    """A sqlite3 connection that knows py_lower()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        register_sqlite_functions(self)
