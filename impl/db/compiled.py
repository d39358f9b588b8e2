"""Core statements compiled once per shape on PostgreSQL, as SQLAlchemy's own engines do.

`databases` compiles every statement it runs, and on a cheap read that compile
cost more than the query (about 100 us of a one-row lookup's 250 us, py-spy).
This connection keeps the compiled form per SQLAlchemy cache key, the same key
an Engine's compiled cache uses, and only extracts the new parameters; the SQL,
the argument order and the result columns are exactly what `databases` builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from databases.backends.postgres import PostgresConnection
from sqlalchemy.sql.ddl import DDLElement

MAX_SHAPES = 1024


@dataclass(frozen=True, slots=True)
class _Shape:
    statement: Any  # the SQLCompiler, kept for construct_params
    sql: str
    names: list[str]  # parameter names in $1.. order, as databases orders them
    processors: Any
    result_columns: Any


_shapes: dict[Any, _Shape] = {}


def _shape_of(dialect: Any, query: Any, key: Any) -> _Shape:
    shape = _shapes.get(key.key)
    if shape is None:
        statement = dialect.statement_compiler(
            dialect, query, cache_key=key, compile_kwargs={"render_postcompile": True}
        )
        names = sorted(statement.params)
        positions = {name: "$" + str(i) for i, name in enumerate(names, start=1)}
        sql = statement.string % positions
        shape = _Shape(statement, sql, names, statement._bind_processors, statement._result_columns)
        if len(_shapes) >= MAX_SHAPES:
            _shapes.clear()
        _shapes[key.key] = shape
    return shape


class CompiledCachePostgresConnection(PostgresConnection):
    """A `databases` connection that compiles each statement shape once (see database.py's subclass)."""

    def _compile(self, query: Any) -> tuple[str, list[Any], Any]:
        key = None if isinstance(query, DDLElement) else query._generate_cache_key()
        if key is None or any(param.expanding for param in key.bindparams):
            compiled: tuple[str, list[Any], Any] = super()._compile(query)
            return compiled
        shape = _shape_of(self._dialect, query, key)
        values = shape.statement.construct_params(extracted_parameters=key.bindparams)
        processors = shape.processors
        args = [processors[name](values[name]) if name in processors else values[name] for name in shape.names]
        return shape.sql, args, shape.result_columns
