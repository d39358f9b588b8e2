"""Password hashing: passlib's API (from libpass), bcrypt_sha256, off the event loop."""

from __future__ import annotations

import asyncio

from passlib.context import CryptContext


class PasswordHasher:
    """bcrypt over SHA-256, so any 8-128 character password works (no 72-byte cut)."""

    def __init__(self, *, rounds: int, concurrency: int) -> None:
        self._context = CryptContext(schemes=["bcrypt_sha256"], bcrypt_sha256__rounds=rounds)
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._context.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self._context.verify, password, password_hash)

    async def verify_nothing(self, password: str) -> None:
        """Spend the time a real verification takes, for an account that does not exist."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not-a-real-password-for-timing")
        await self.verify(password, self._dummy_hash)

    @property
    def rounds(self) -> int:
        return int(self._context.to_dict()["bcrypt_sha256__rounds"])
