"""The accounts that tokens stand for, kept in memory when this process is the only one.

Only for the embedded default (no Redis: one process by design): every write to
a user goes through this process and calls `invalidate()` after its commit and
before its answer, so a revoked token (role, password, deactivation, deletion)
is refused on the very next request. `epoch` moves on every invalidation: a read
that started before one never stores its (possibly older) row. With several
processes the cache is off and every request reads the database.
"""

from __future__ import annotations

from uuid import UUID

from ..db.users import UserRecord


class AccountCache:
    def __init__(self, *, enabled: bool, max_entries: int = 10_000) -> None:
        self.enabled = enabled
        self._max_entries = max_entries
        self._accounts: dict[UUID, UserRecord] = {}
        self.epoch = 0

    def get(self, user_id: UUID) -> UserRecord | None:
        return self._accounts.get(user_id) if self.enabled else None

    def put(self, record: UserRecord, *, epoch: int) -> None:
        """Keep `record`, read by a lookup that started in `epoch`."""
        if not self.enabled or epoch != self.epoch:
            return
        if len(self._accounts) >= self._max_entries:
            self._accounts.clear()
        self._accounts[record.id] = record

    def invalidate(self) -> None:
        """After any committed change to any user."""
        self._accounts.clear()
        self.epoch += 1
