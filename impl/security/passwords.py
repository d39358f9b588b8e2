"""Password hashing: passlib's API (from libpass), bcrypt_sha256, off the event loop.

Hashing is slow on purpose and runs in a bounded number of slots. A caller that
cannot get a slot within `max_wait_seconds` gets `HasherBusy` at once instead of
queueing behind a flood of logins. The strength check of a new password (zxcvbn,
pure Python, up to ~0.15 s) takes the same slots, so a flood of registrations
cannot queue unbounded CPU work either. The hashing threads run at the lowest CPU
priority (nice 19): on a core shared with the event loop, a flood of logins
slows the logins, not every other request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from passlib.context import CryptContext

from .password_policy import refusal

T = TypeVar("T")
LOWEST_PRIORITY = 19


def _lower_priority() -> None:
    # Linux applies a nice value per thread (the thread id names it); elsewhere this is a no-op.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class HasherBusy(Exception):
    """Every hashing slot stayed busy for longer than the caller may wait."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"password hashing is saturated; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class PasswordHasher:
    """bcrypt over SHA-256, so any 8-128 character password works (no 72-byte cut)."""

    def __init__(
        self,
        *,
        rounds: int,
        concurrency: int,
        max_wait_seconds: float = 1.0,
        on_waiting: Callable[[int], None] | None = None,
    ) -> None:
        self._waiting = 0
        self._on_waiting = on_waiting  # told how many callers wait for a slot, at each change
        self._context = CryptContext(schemes=["bcrypt_sha256"], bcrypt_sha256__rounds=rounds)
        self._slots = asyncio.Semaphore(concurrency)
        self._max_wait = max_wait_seconds
        self._dummy_hash: str | None = None
        self._threads = ThreadPoolExecutor(concurrency, "password-hash", initializer=_lower_priority)

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        self._waited(1)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self._max_wait)
        except TimeoutError:
            raise HasherBusy(retry_after_seconds=max(1, round(self._max_wait))) from None
        finally:
            self._waited(-1)
        try:
            yield
        finally:
            self._slots.release()

    def _waited(self, change: int) -> None:
        self._waiting += change
        if self._on_waiting is not None:
            self._on_waiting(self._waiting)

    @property
    def waiting(self) -> int:
        """Callers waiting for a hashing slot now."""
        return self._waiting

    async def hash(self, password: str) -> str:
        async with self._slot():
            return await self._run(self._context.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        async with self._slot():
            return await self._run(self._context.verify, password, password_hash)

    async def refusal(self, password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
        """Why a new password is refused (see `password_policy`), or None; off the event loop."""
        async with self._slot():
            return await asyncio.get_running_loop().run_in_executor(
                self._threads, lambda: refusal(password, user_inputs=user_inputs)
            )

    async def verify_nothing(self, password: str) -> None:
        """Spend the time a real verification takes, for an account that does not exist."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not-a-real-password-for-timing")
        await self.verify(password, self._dummy_hash)

    @property
    def rounds(self) -> int:
        return int(self._context.to_dict()["bcrypt_sha256__rounds"])
