"""Which database errors are an outage (503 database-unavailable) and which are bugs (500)."""

from __future__ import annotations

import ssl

import asyncpg
import pytest

from impl.db.database import is_unavailable


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        FileNotFoundError(2, "No such file or directory"),  # a Unix socket while the server is down
        ssl.SSLEOFError(8, "EOF occurred in violation of protocol"),  # TLS cut by a restart
        TimeoutError(),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.IdleSessionTimeoutError("terminating connection due to idle-session timeout"),
        asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
    ],
    ids=type,
)
def test_an_outage_is_unavailable(error: BaseException) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.DataError("invalid input for query argument"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        ValueError("a bug"),
    ],
    ids=type,
)
def test_a_bug_is_not_an_outage(error: BaseException) -> None:
    assert not is_unavailable(error)
