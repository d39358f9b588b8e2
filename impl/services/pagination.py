"""Page arithmetic and page links (RFC 8288), shared by every list."""

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


def page_links(path: str, query: Any, paging: Paging) -> str:
    """The `Link` header of page `query.page`: first, prev, next and last, with the rest of the query kept.

    The query's fields carry the spec's parameter names (every one is a Python name already).
    """
    page: int = query.page
    kept = _non_default(query)
    links = [(1, "first")]
    if page > 1:
        links.append((page - 1 if paging.last is None else max(min(page - 1, paging.last), 1), "prev"))
    if paging.has_next:
        links.append((page + 1, "next"))
    if paging.last is not None:
        links.append((max(paging.last, 1), "last"))
    return ", ".join(f'<{path}?{urlencode({**kept, "page": number})}>; rel="{rel}"' for number, rel in links)


def _non_default(query: Any) -> dict[str, str]:
    """The query's parameters other than `page`, as sent: only those that differ from the defaults."""
    kept: dict[str, str] = {}
    for field in dataclasses.fields(query):
        value = getattr(query, field.name)
        if field.name == "page" or value is None or value == field.default:
            continue
        if isinstance(value, Enum):
            value = value.value
        kept[field.name] = str(value).lower() if isinstance(value, bool) else str(value)
    return kept
