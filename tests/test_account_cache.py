"""The in-memory accounts behind access tokens: kept until a write in one process, for a bound with several."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from impl.db.users import UserRecord
from impl.services.account_cache import AccountCache


def account() -> UserRecord:
    now = datetime.now(UTC)
    return UserRecord(
        id=uuid.uuid4(),
        email="a@example.com",
        username="a",
        password_hash="x",
        role="user",
        is_active=True,
        token_version=0,
        created_at=now,
        updated_at=now,
    )


def test_with_several_processes_an_account_is_used_for_the_bound_at_most() -> None:
    cache = AccountCache(enabled=True, max_age_seconds=0.05)
    record = account()
    cache.put(record, epoch=cache.epoch, read_at=time.monotonic())
    assert cache.get(record.id) is record
    time.sleep(0.06)
    assert cache.get(record.id) is None  # another process may have revoked it: read the database again


def test_its_age_counts_from_before_the_read() -> None:
    cache = AccountCache(enabled=True, max_age_seconds=0.05)
    record = account()
    cache.put(record, epoch=cache.epoch, read_at=time.monotonic() - 0.06)
    assert cache.get(record.id) is None


def test_in_one_process_an_account_lives_until_a_write_and_a_read_from_before_it_is_not_kept() -> None:
    cache = AccountCache(enabled=True)
    record = account()
    epoch = cache.epoch
    cache.put(record, epoch=epoch, read_at=time.monotonic() - 3600)
    assert cache.get(record.id) is record
    cache.invalidate()
    assert cache.get(record.id) is None
    cache.put(record, epoch=epoch, read_at=time.monotonic())  # read before the write: never stored
    assert cache.get(record.id) is None


def test_off_keeps_nothing() -> None:
    cache = AccountCache(enabled=False)
    record = account()
    cache.put(record, epoch=cache.epoch, read_at=time.monotonic())
    assert cache.get(record.id) is None
