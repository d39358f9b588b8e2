"""Read-through caching of product answers, with generation-based invalidation.

Every entry carries the products generation it was built under; the generation
is read (in the same round trip as the entry) before the database is, and
bumped after every committed write. An entry of an older generation is a miss,
so lists and searches are invalidated in O(1) without scanning keys, and a
reader that raced a writer can only store its result under the old generation.
Concurrent misses on one key in this process share one rebuild.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from ..cache import Cache

M = TypeVar("M", bound=BaseModel)
GENERATION_KEY = "products:generation"


@dataclass(frozen=True)
class Cached(Generic[M]):
    value: M
    etag: str
    hit: bool


def detail_key(product_id: UUID) -> str:
    return f"products:detail:{product_id}"


def query_key(kind: str, query: Any) -> str:
    canonical = json.dumps(asdict(query), sort_keys=True, default=str, separators=(",", ":"))
    return f"products:{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


class ProductCache:
    def __init__(self, cache: Cache, *, ttl_seconds: int) -> None:
        self._cache = cache
        self._ttl = ttl_seconds
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def fetch(self, key: str, model: type[M], build: Callable[[], Awaitable[M]]) -> Cached[M]:
        generation, entry = await self._cache.get_many([GENERATION_KEY, key])
        cached = self._decode(entry, generation or b"0", model)
        if cached is not None:
            return cached
        inflight = self._inflight.get(key)
        if inflight is not None:
            shared: Cached[M] = await asyncio.shield(inflight)
            return shared
        future: asyncio.Future[Cached[M]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._build(key, generation or b"0", build)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: a lone request has no follower to read it
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def _build(self, key: str, generation: bytes, build: Callable[[], Awaitable[M]]) -> Cached[M]:
        value = await build()  # errors (404s included) propagate and are never cached
        body = value.model_dump_json().encode()
        etag = etag_of(body)
        await self._cache.set(key, b"\n".join((generation, etag.encode(), body)), ttl_seconds=self._ttl)
        return Cached(value=value, etag=etag, hit=False)

    @staticmethod
    def _decode(entry: bytes | None, generation: bytes, model: type[M]) -> Cached[M] | None:
        if entry is None:
            return None
        parts = entry.split(b"\n", 2)
        if len(parts) != 3 or parts[0] != generation:
            return None
        try:
            return Cached(value=model.model_validate_json(parts[2]), etag=parts[1].decode(), hit=True)
        except (ValidationError, UnicodeDecodeError):
            return None  # garbage in the cache is a miss

    async def product_changed(self, product_id: UUID) -> None:
        """After a committed write: the detail entry goes, every list and search moves on."""
        await self._cache.delete(detail_key(product_id))
        await self._cache.increment(GENERATION_KEY)
