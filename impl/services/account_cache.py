"""The accounts that tokens stand for, kept in memory for a short while.

Every write to a user in this process calls `invalidate()` after its commit and
before its answer, so here a revoked token (role, password, deactivation,
deletion) is refused on the very next request. `epoch` moves on every
invalidation: a read that started before one never stores its (possibly older)
row.

- One process (the embedded default, no Redis: one process by design): every
  write goes through this process, so entries live until the next invalidation.
- Several processes (Redis): a write in another process is not seen here, so an
  entry is used for at most `max_age_seconds` (CACHE_LOCAL_TTL_MS, 100 ms by
  default, the bound DESIGN.md states for every per-process copy): a token revoked
  through another process is refused everywhere within that bound, and a signed-in
  read costs a database read at most once per account and bound instead of on
  every request. With CACHE_LOCAL_TTL_MS=0 the cache is off and every request
  reads the database.
"""

from __future__ import annotations

import time
from uuid import UUID

from ..db.users import UserRecord


class AccountCache:
    def __init__(self, *, enabled: bool, max_age_seconds: float | None = None, max_entries: int = 10_000) -> None:
        self.enabled = enabled
        self._max_age = max_age_seconds
        self._max_entries = max_entries
        self._accounts: dict[UUID, tuple[UserRecord, float]] = {}  # id -> (record, read at)
        self.epoch = 0

    def get(self, user_id: UUID) -> UserRecord | None:
        if not self.enabled:
            return None
        entry = self._accounts.get(user_id)
        if entry is None:
            return None
        record, read_at = entry
        if self._max_age is not None and time.monotonic() - read_at > self._max_age:
            return None
        return record

    def put(self, record: UserRecord, *, epoch: int, read_at: float) -> None:
        """Keep `record`, read by a lookup that started in `epoch` at `read_at` (time.monotonic())."""
        if not self.enabled or epoch != self.epoch:
            return
        if len(self._accounts) >= self._max_entries:
            self._accounts.clear()
        self._accounts[record.id] = (record, read_at)

    def invalidate(self) -> None:
        """After any committed change to any user."""
        self._accounts.clear()
        self.epoch += 1
