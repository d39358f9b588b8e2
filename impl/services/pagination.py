"""Page arithmetic shared by every list."""

from __future__ import annotations

import math


def offset_of(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def page_count(total: int, page_size: int) -> int:
    return math.ceil(total / page_size) if total else 0
