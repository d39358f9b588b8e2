"""Rows as small typed records: a frozen dataclass per shape, its fields named as the columns."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Column, Table

R = TypeVar("R")


def columns_for(table: Table, record_type: type[Any]) -> tuple[Column[Any], ...]:
    """The columns a query selects (or returns) to build `record_type`."""
    return tuple(table.c[field.name] for field in fields(record_type))


def record_of(record_type: type[R], row: Any) -> R:
    return record_type(**{field.name: row[field.name] for field in fields(record_type)})  # type: ignore[arg-type]
