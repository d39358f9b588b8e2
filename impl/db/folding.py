"""Case folding that means the same on SQLite and PostgreSQL.

SQLite's built-in lower() folds only A-Z, so `lower('CAFÉ')` is 'cafÉ' there
while Python and PostgreSQL (UTF-8) give 'café'. `fold(x)` compiles to lower()
on PostgreSQL and to `py_lower()`, Python's str.lower registered on every
SQLite connection, on SQLite: search, filters and sorting agree everywhere.

`search_text(x)` is the folded text keyword search compares (impl/db/search.py):
its words (runs of letters and digits), joined by single spaces, with a space at
either end. PostgreSQL computes the same with regexp_replace; SQLite's search
triggers call `py_search_text()`, registered here too.
"""

from __future__ import annotations

import re
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


# PostgreSQL's '[^[:alnum:]]+': Python's \w is a letter, a digit or '_'.
_WORD_GAPS = re.compile(r"[\W_]+")


def search_text(value: str | None) -> str:
    return " " + _WORD_GAPS.sub(" ", (value or "").lower()) + " "


def register_sqlite_functions(connection: Any) -> None:
    """Teach a SQLite connection (sqlite3's, or SQLAlchemy's adapter of aiosqlite's) py_lower() and
    py_search_text(): indexes (0007) and the search triggers (0008) call them on every write to products."""
    connection.create_function("py_lower", 1, _py_lower, deterministic=True)
    connection.create_function("py_search_text", 1, search_text, deterministic=True)


class FoldingConnection(sqlite3.Connection):
    """A sqlite3 connection that knows py_lower() and py_search_text()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        register_sqlite_functions(self)
