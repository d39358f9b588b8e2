"""The cache interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Cache(Protocol):
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values of `keys` in one round trip; None for a miss or a failure."""
        ...

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def increment(self, key: str, *, once: str | None = None) -> bool:
        """Add one to an integer key; False when the cache could not be reached (it is then owed,
        and paid before anything else is read or written). With `once`, an id of the reason: calls
        with one id add one in all, whoever makes them."""
        ...

    async def ping(self) -> bool: ...

    @property
    def shared(self) -> bool:
        """True when other processes share this cache (and may change it)."""
        ...

    async def close(self) -> None: ...
