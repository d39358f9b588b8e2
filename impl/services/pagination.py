"""Page arithmetic and page links (RFC 8288), shared by every list.

A list that pages by cursor (products) links `next` by its cursor, and a page
asked for by cursor has no number: its links are `first`, `next` and `last`
(when known), never `prev`.
"""

from __future__ import annotations

import dataclasses
import math
from enum import Enum
from typing import Any
from urllib.parse import urlencode


def offset_of(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def page_count(total: int, page_size: int) -> int:
    return math.ceil(total / page_size) if total else 0


@dataclasses.dataclass(frozen=True, slots=True)
class Paging:
    """What the links of a page need to know of its list."""

    last: int | None  # the number of the last page; None when the total was capped (unknown)
    has_next: bool
    next_cursor: str | None = None  # the next page's cursor, for a list that pages by cursor


def page_links(path: str, query: Any, paging: Paging) -> str:
    """The `Link` header of the page `query` asked for: first, prev, next and last, with the rest of the query kept.

    The query's fields carry the spec's parameter names (every one is a Python name already).
    """
    page: int = query.page
    by_cursor = getattr(query, "cursor", None) is not None
    kept = _non_default(query)
    links = [("page=1", "first")]
    if page > 1 and not by_cursor:
        links.append((f"page={page - 1 if paging.last is None else max(min(page - 1, paging.last), 1)}", "prev"))
    if paging.next_cursor is not None:
        links.append((urlencode({"cursor": paging.next_cursor}), "next"))
    elif paging.has_next:
        links.append((f"page={page + 1}", "next"))
    if paging.last is not None:
        links.append((f"page={max(paging.last, 1)}", "last"))
    prefix = urlencode(kept)
    return ", ".join(f'<{path}?{prefix + "&" if prefix else ""}{where}>; rel="{rel}"' for where, rel in links)


def _non_default(query: Any) -> dict[str, str]:
    """The query's parameters other than where the page starts (`page`, `cursor`), as sent: only those that
    differ from the defaults."""
    kept: dict[str, str] = {}
    for field in dataclasses.fields(query):
        value = getattr(query, field.name)
        if field.name in ("page", "cursor") or value is None or value == field.default:
            continue
        if isinstance(value, Enum):
            value = value.value
        kept[field.name] = str(value).lower() if isinstance(value, bool) else str(value)
    return kept
