"""Password hashing: passlib's API (from libpass), bcrypt_sha256, off the event loop.

Hashing is slow on purpose and runs in a bounded number of slots. A caller that
cannot get a slot within `max_wait_seconds` gets `HasherBusy` at once instead of
queueing behind a flood of logins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from passlib.context import CryptContext


class HasherBusy(Exception):
    """Every hashing slot stayed busy for longer than the caller may wait."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"password hashing is saturated; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class PasswordHasher:
    """bcrypt over SHA-256, so any 8-128 character password works (no 72-byte cut)."""

    def __init__(self, *, rounds: int, concurrency: int, max_wait_seconds: float = 1.0) -> None:
        self._context = CryptContext(schemes=["bcrypt_sha256"], bcrypt_sha256__rounds=rounds)
        self._slots = asyncio.Semaphore(concurrency)
        self._max_wait = max_wait_seconds
        self._dummy_hash: str | None = None

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self._max_wait)
        except TimeoutError:
            raise HasherBusy(retry_after_seconds=max(1, round(self._max_wait))) from None
        try:
            yield
        finally:
            self._slots.release()

    async def hash(self, password: str) -> str:
        async with self._slot():
            return await asyncio.to_thread(self._context.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        async with self._slot():
            return await asyncio.to_thread(self._context.verify, password, password_hash)

    async def verify_nothing(self, password: str) -> None:
        """Spend the time a real verification takes, for an account that does not exist."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not-a-real-password-for-timing")
        await self.verify(password, self._dummy_hash)

    @property
    def rounds(self) -> int:
        return int(self._context.to_dict()["bcrypt_sha256__rounds"])
