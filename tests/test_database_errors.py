"""Which database errors are an outage (503 database-unavailable), a slow query (statement-timeout), or bugs."""

from __future__ import annotations

import ssl
import uuid

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from impl.app import create_app
from impl.db.database import is_statement_timeout, is_unavailable
from impl.settings import Settings
from tests.conftest import ADMIN, asyncpg_dsn, client_for, login
from tests.helpers import assert_problem, bearer


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
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        ValueError("a bug"),
    ],
    ids=type,
)
def test_a_bug_or_a_slow_query_is_not_an_outage(error: BaseException) -> None:
    assert not is_unavailable(error)


def test_a_statement_cancelled_at_the_time_limit_is_a_statement_timeout() -> None:
    assert is_statement_timeout(asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"))
    assert not is_statement_timeout(asyncpg.exceptions.AdminShutdownError("terminating connection"))
    assert not is_statement_timeout(TimeoutError())


@pytest.mark.anyio
async def test_a_query_past_the_time_limit_is_a_statement_timeout_problem_not_an_outage(
    settings: Settings, database_url: str
) -> None:
    """A product row locked by another session: the update waits for it until PostgreSQL's statement_timeout
    cancels it, and the answer says the query was too slow (and counts it), not that the database is down."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite has no statement time limit")
    app = create_app(settings.model_copy(update={"database_timeout_seconds": 0.5}))
    async with app.router.lifespan_context(app), client_for(app) as client:
        token = (await login(client, ADMIN["username"], ADMIN["password"]))["access_token"]
        client.headers.update(bearer(token))
        created = await client.post("/api/v1/products", json={"name": "Locked", "price": 1, "sku": "LOCKED-1"})
        product_id = created.json()["id"]
        blocker = await asyncpg.connect(asyncpg_dsn(make_url(database_url)))
        try:
            async with blocker.transaction():
                await blocker.execute("SELECT 1 FROM products WHERE id = $1 FOR UPDATE", uuid.UUID(product_id))
                answer = await client.put(f"/api/v1/products/{product_id}", json={"stock": 5})
        finally:
            await blocker.close()
        problem = assert_problem(answer, 503)
        assert problem["type"] == "urn:catalog-api:problem:statement-timeout"
        assert answer.headers["retry-after"] == "2"
        metrics = (await client.get("/metrics")).text
        assert "catalog_db_statement_timeouts_total 1.0" in metrics
        assert (await client.get(f"/api/v1/products/{product_id}")).json()["stock"] == 0  # nothing changed
