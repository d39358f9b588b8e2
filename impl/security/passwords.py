"""Password hashing: passlib's API (from libpass), bcrypt_sha256, off the event loop.

Hashing is slow on purpose and runs in a bounded number of slots. A caller that
cannot get a slot within `max_wait_seconds` gets `HasherBusy` at once instead of
queueing behind a flood of logins. The strength check of a new password (zxcvbn,
pure Python, up to ~0.15 s) takes the same slots, so a flood of registrations
cannot queue unbounded CPU work either. The hashing threads run at the lowest CPU
priority (nice 19): on a core shared with the event loop, a flood of logins
slows the logins, not every other request.

The slots are shared fairly. Every job names whom it is for (`Requester`: the
account it concerns and the address that asked), and the rule is: a freed slot
goes to the waiting job whose account or address holds the fewest slots at that
moment, the longest-waiting first among equals. So a flood from one account or
one address (or one account from many addresses) queues behind itself only:
anyone else waits for the next slot to free, never for the flood's queue, and
while others wait the slots even out between them. With nobody else waiting,
one requester may use every slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Requester:
    """Whom a hashing job is for: the account it concerns and the address that asked (None: not known)."""

    account: str | None = None
    address: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        account = (f"account:{self.account}",) if self.account else ()
        return account + ((f"address:{self.address}",) if self.address else ())


NOBODY = Requester()  # a job of the server's own (the admin bootstrap at start-up)


@dataclass(eq=False, slots=True)
class _Wait:
    keys: tuple[str, ...]
    granted: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class FairSlots:
    """`size` slots, each freed one handed to the waiting job whose keys hold the fewest slots.

    A job's share is the most slots held by any one of its keys. Finding the next job scans
    the waiting ones, no more than arrive within the hasher's `max_wait_seconds` (then they give up).
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._held: dict[str, int] = {}
        self._waiting: list[_Wait] = []  # in arrival order

    async def acquire(self, keys: tuple[str, ...]) -> None:
        """A slot for `keys` (a cancelled wait, a timeout's included, leaves no slot taken)."""
        if self._free and not self._waiting:
            self._take(keys)
            return
        wait = _Wait(keys)
        self._waiting.append(wait)
        try:
            await wait.granted
        except BaseException:
            if wait in self._waiting:
                self._waiting.remove(wait)
            elif wait.granted.done() and not wait.granted.cancelled():
                self.release(keys)  # granted just as the wait ended: hand it on
            raise

    def release(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            left = self._held[key] - 1
            if left:
                self._held[key] = left
            else:
                del self._held[key]
        self._free += 1
        self._hand_on()

    def _take(self, keys: tuple[str, ...]) -> None:
        self._free -= 1
        for key in keys:
            self._held[key] = self._held.get(key, 0) + 1

    def _share(self, keys: tuple[str, ...]) -> int:
        return max((self._held.get(key, 0) for key in keys), default=0)

    def _hand_on(self) -> None:
        while self._free and self._waiting:
            chosen = min(range(len(self._waiting)), key=lambda i: (self._share(self._waiting[i].keys), i))
            wait = self._waiting.pop(chosen)
            if wait.granted.done():  # its wait was cancelled; its own handler has not run yet
                continue
            self._take(wait.keys)
            wait.granted.set_result(None)


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
        self._slots = FairSlots(concurrency)
        self._max_wait = max_wait_seconds
        self._dummy_hash: str | None = None
        self._threads = ThreadPoolExecutor(concurrency, "password-hash", initializer=_lower_priority)

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    @asynccontextmanager
    async def _slot(self, requester: Requester) -> AsyncIterator[None]:
        keys = requester.keys
        self._waited(1)
        try:
            async with asyncio.timeout(self._max_wait):
                await self._slots.acquire(keys)
        except TimeoutError:
            raise HasherBusy(retry_after_seconds=max(1, round(self._max_wait))) from None
        finally:
            self._waited(-1)
        try:
            yield
        finally:
            self._slots.release(keys)

    def _waited(self, change: int) -> None:
        self._waiting += change
        if self._on_waiting is not None:
            self._on_waiting(self._waiting)

    @property
    def waiting(self) -> int:
        """Callers waiting for a hashing slot now."""
        return self._waiting

    async def hash(self, password: str, *, requester: Requester) -> str:
        async with self._slot(requester):
            return await self._run(self._context.hash, password)

    async def verify(self, password: str, password_hash: str, *, requester: Requester) -> bool:
        async with self._slot(requester):
            return await self._run(self._context.verify, password, password_hash)

    async def refusal(self, password: str, *, requester: Requester, user_inputs: Sequence[str] = ()) -> str | None:
        """Why a new password is refused (see `password_policy`), or None; off the event loop."""
        async with self._slot(requester):
            return await asyncio.get_running_loop().run_in_executor(
                self._threads, lambda: refusal(password, user_inputs=user_inputs)
            )

    async def verify_nothing(self, password: str, *, requester: Requester) -> None:
        """Spend the time a real verification takes, for an account that does not exist."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not-a-real-password-for-timing", requester=requester)
        await self.verify(password, self._dummy_hash, requester=requester)

    @property
    def rounds(self) -> int:
        return int(self._context.to_dict()["bcrypt_sha256__rounds"])
