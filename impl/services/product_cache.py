"""Read-through caching of product answers as the bytes sent, with generation-based invalidation.

Every entry carries the products generation it was built under; the generation
is read (in the same round trip as the entry) before the database is, and
bumped after every committed write. An entry of an older generation is a miss,
so lists and searches are invalidated in O(1) without scanning keys, and a
reader that raced a writer can only store its result under the old generation.

The cache follows the product change feed (`impl.services.changes`), the one
way it hears of writes: every process, the writer's first (before the write
answers), clears its local layer and moves the generation on, once per write
in all (the change's id). So a writer that cannot reach Redis still
invalidates everywhere: the processes that can reach Redis stop serving the old
entries within milliseconds of the commit, and one that cannot owes the step
and reads nothing from Redis until it has paid it.

With a shared cache (Redis), a `LocalLayer` in each process answers repeated
reads without a round trip. It is on only while the feed is followed (off
while the LISTEN connection is lost, and emptied when it goes off), and an
entry never outlives the layer's bound (100 ms by default) in any case.

A hit is the stored body and its ETag, sent as they are. Concurrent misses on
one key in this process share one rebuild, but only within one generation: a
request that starts after a write has committed reads the new generation and
never joins a rebuild that may have read the old data. Likewise concurrent
misses of the local layer on one key share one round trip to the shared cache,
within one epoch of the layer (a request that starts after a clear never joins
a fetch that started before it): when an entry expires under load, one request
asks Redis, not every request in flight (with 32 connections that was 32 round
trips and as many pooled connections every 100 ms, and a connection that could
not be opened in time switched Redis off for its cool-down: reads then went to
the database).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from uuid import UUID

from ..cache import Cache
from ..cache.local import LocalLayer
from .changes import ProductChange
from .pagination import Paging

GENERATION_KEY = "products:generation"


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a miss builds: the body, and for a page of a list what its links need."""

    body: bytes
    paging: Paging | None = None


Build = Callable[[], Awaitable[bytes | Rendered]]


@dataclass(frozen=True, slots=True)
class Cached:
    body: bytes  # the JSON body, exactly as it is sent
    etag: str
    hit: bool
    paging: Paging | None = None

    @property
    def x_cache(self) -> Literal["HIT", "MISS"]:
        return "HIT" if self.hit else "MISS"


def _encode_paging(paging: Paging | None) -> bytes:
    """`last,has_next,next_cursor` (`-` for an unknown last page, nothing for no cursor); empty for an answer
    that is not a page. A cursor is base64url: never a comma or a newline."""
    if paging is None:
        return b""
    last = "-" if paging.last is None else str(paging.last)
    return f"{last},{int(paging.has_next)},{paging.next_cursor or ''}".encode()


def _decode_paging(text: bytes) -> Paging | None:
    if not text:
        return None
    last, has_next, cursor = text.decode("ascii").split(",")
    return Paging(last=None if last == "-" else int(last), has_next=has_next == "1", next_cursor=cursor or None)


def detail_key(product_id: UUID) -> str:
    return f"products:detail:{product_id}"


# Matched case-insensitively (the query lower-cases them too): "TV" and "tv" share an entry.
CASE_FOLDED_FIELDS = frozenset({"name", "q"})


def _canonical_value(field: str, value: Any) -> Any:
    if field in CASE_FOLDED_FIELDS and isinstance(value, str):
        return value.lower()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)  # min_price=10 and min_price=10.0 are one query
    return value


def query_key(kind: str, query: Any) -> str:
    """The cache key of a list or search query: equivalent queries share one."""
    values = {field: _canonical_value(field, value) for field, value in asdict(query).items()}
    canonical = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return f"products:{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


def local_layer(*, ttl_seconds: float, max_bytes: int) -> LocalLayer[Cached]:
    return LocalLayer(ttl_seconds=ttl_seconds, max_bytes=max_bytes, size=lambda cached: len(cached.body) + 200)


class ProductCache:
    def __init__(
        self,
        cache: Cache,
        *,
        ttl_seconds: int,
        local: LocalLayer[Cached] | None = None,
        on_lookup: Callable[[bool, float], None] | None = None,
    ) -> None:
        self._on_lookup = on_lookup  # told of every answer: a hit (True) or a miss, and the seconds it took
        self._cache = cache
        self._ttl = ttl_seconds
        self._local = local
        self._inflight: dict[tuple[str, bytes], asyncio.Future[Cached]] = {}
        self._refills: dict[tuple[str, int], asyncio.Future[Cached]] = {}  # (key, local epoch) -> its fetch

    async def fetch(self, key: str, build: Build) -> Cached:
        """The cached body of `key`, or the one `build` serializes (once) from the database."""
        started = time.perf_counter()
        cached = await self._fetch(key, build)
        if self._on_lookup is not None:
            self._on_lookup(cached.hit, time.perf_counter() - started)
        return cached

    async def _fetch(self, key: str, build: Build) -> Cached:
        local = self._local
        if local is None:
            return await self._fetch_shared(key, build)
        cached = local.get(key)
        if cached is not None:
            return cached
        started_at, epoch = time.monotonic(), local.epoch
        refill = self._refills.get((key, epoch))
        if refill is not None:
            return await asyncio.shield(refill)
        future: asyncio.Future[Cached] = asyncio.get_running_loop().create_future()
        self._refills[key, epoch] = future
        try:
            cached = await self._fetch_shared(key, build)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: a lone request has no follower to read it
            raise
        finally:
            del self._refills[key, epoch]
        hit = Cached(body=cached.body, etag=cached.etag, hit=True, paging=cached.paging)
        local.put(key, hit, started_at=started_at, epoch=epoch)
        future.set_result(cached)
        return cached

    @property
    def local_enabled(self) -> bool:
        """The local layer answers now (it is off without a shared cache, and while a channel is lost)."""
        return self._local is not None and self._local.enabled

    async def _fetch_shared(self, key: str, build: Build) -> Cached:
        generation, entry = await self._cache.get_many([GENERATION_KEY, key])
        generation = generation or b"0"
        cached = self._decode(entry, generation)
        if cached is not None:
            return cached
        flight = (key, generation)
        inflight = self._inflight.get(flight)
        if inflight is not None:
            return await asyncio.shield(inflight)
        future: asyncio.Future[Cached] = asyncio.get_running_loop().create_future()
        self._inflight[flight] = future
        try:
            result = await self._build(key, generation, build)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: a lone request has no follower to read it
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[flight]

    async def _build(self, key: str, generation: bytes, build: Build) -> Cached:
        built = await build()  # errors (404s included) propagate and are never cached
        rendered = Rendered(built) if isinstance(built, bytes) else built
        etag = etag_of(rendered.body)
        entry = b"\n".join((generation, etag.encode(), _encode_paging(rendered.paging), rendered.body))
        await self._cache.set(key, entry, ttl_seconds=self._ttl)
        return Cached(body=rendered.body, etag=etag, hit=False, paging=rendered.paging)

    @staticmethod
    def _decode(entry: bytes | None, generation: bytes) -> Cached | None:
        if entry is None:
            return None
        parts = entry.split(b"\n", 3)
        if len(parts) != 4 or parts[0] != generation or not parts[1].startswith(b'"'):
            return None  # another generation's, or garbage: a miss
        try:
            etag = parts[1].decode("ascii")
            paging = _decode_paging(parts[2])
        except (UnicodeDecodeError, ValueError):
            return None
        return Cached(body=parts[3], etag=etag, hit=True, paging=paging)

    async def changed(self, change: ProductChange) -> None:
        """A committed write, any process's (this cache follows the product change feed): the local layer is
        cleared now, and every entry, detail ones included, moves on with the generation, once per change
        however many processes take the step; old keys are left to expire."""
        if self._local is not None:
            self._local.clear()
        await self._cache.increment(GENERATION_KEY, once=change.change)  # owed (and paid first) when Redis fails
        if self._local is not None:
            self._local.clear()  # what a read put there before the step may be of the old generation

    def following(self, followed: bool) -> None:
        """The feed's state: the local layer is on only while every change reaches this process."""
        if self._local is not None:
            self._local.set_enabled(followed)
