"""Views recorded off the request path: a bounded queue in the process, written in batches (impl/services/views.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from contract_runtime.principal import Principal
from impl.app import create_app
from impl.db import views as view_rows
from impl.db.database import Db
from impl.services.views import ViewHistory, version_key
from impl.settings import Settings
from tests.conftest import ADMIN, client_for, login, register
from tests.helpers import samples, value

pytestmark = pytest.mark.anyio

PRODUCTS = "/api/v1/products"


async def products(admin: httpx.AsyncClient, count: int) -> list[UUID]:
    ids = []
    for number in range(count):
        body = {"name": f"Lamp {number}", "price": 10, "sku": f"VIEW-{number}"}
        response = await admin.post(PRODUCTS, json=body)
        assert response.status_code == 201, response.text
        ids.append(UUID(response.json()["id"]))
    return ids


async def reader(admin: httpx.AsyncClient, username: str) -> tuple[httpx.AsyncClient, Principal]:
    """A second client of the same app, signed in as a new user, and that user as the recorder sees them."""
    client = httpx.AsyncClient(transport=admin._transport, base_url=admin.base_url, event_hooks=admin.event_hooks)
    user = await register(client, username, "Orchid-Tundra-27")
    tokens = await login(client, username, "Orchid-Tundra-27")
    client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    return client, Principal(subject=user["id"], scopes=frozenset())


class CountingDb(Db):
    """The app's database (its connections shared, none opened), counting the write transactions opened
    through it; the first `refuse` of them fail as an unreachable database would."""

    def __init__(self, db: Db, *, refuse: int = 0) -> None:
        self.__dict__.update(db.__dict__)
        self.transactions = 0
        self._refuse = refuse

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        self.transactions += 1
        if self.transactions <= self._refuse:
            raise ConnectionRefusedError("the database is down")
        async with super().write() as db:
            yield db


async def test_a_signed_in_read_is_answered_before_its_view_is_written_and_the_view_follows(
    app: FastAPI, admin_client: httpx.AsyncClient
) -> None:
    (product,) = await products(admin_client, 1)
    client, user = await reader(admin_client, "queued")
    views: ViewHistory = app.state.views
    await views.flush()
    writing = views._writing  # the writer's lock: held, the writer cannot take anything from the queue
    async with writing:
        response = await client.get(f"{PRODUCTS}/{product}")
        assert response.status_code == 200
        assert views.queued == 1, "the read answered with its view still queued"
        assert await view_rows.viewed(app.state.db.database, user_id=UUID(user.subject)) == []
    await views.flush()
    assert await view_rows.viewed(app.state.db.database, user_id=UUID(user.subject)) == [product]
    await client.aclose()


async def test_a_full_queue_drops_the_oldest_view_and_counts_it(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"view_queue_size": 2}))
    async with app.router.lifespan_context(app), client_for(app) as admin:
        tokens = await login(admin, ADMIN["username"], ADMIN["password"])
        admin.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        ids = await products(admin, 3)
        client, user = await reader(admin, "overflow")
        views: ViewHistory = app.state.views
        await views.flush()
        before = value(samples((await admin.get("/metrics")).text), "catalog_views_dropped_total")

        async with views._writing:  # the writer held: the three reads find the queue as they left it
            for product in ids:
                assert (await client.get(f"{PRODUCTS}/{product}")).status_code == 200
            assert (await client.get(f"{PRODUCTS}/{ids[2]}")).status_code == 200  # the same view again: no entry
            assert views.queued == 2
        await views.flush()

        assert value(samples((await admin.get("/metrics")).text), "catalog_views_dropped_total") == before + 1
        assert sorted(await view_rows.viewed(app.state.db.database, user_id=UUID(user.subject))) == sorted(ids[1:])
        await client.aclose()


async def test_queued_views_are_written_in_batches_each_in_one_transaction(
    app: FastAPI, admin_client: httpx.AsyncClient
) -> None:
    ids = await products(admin_client, 5)
    users = [(await reader(admin_client, f"batch{n}")) for n in range(3)]
    db = CountingDb(app.state.db)
    views = ViewHistory(db, app.state.cache, keep=4, batch_size=10)
    versions = {user.subject: await app.state.cache.get_many([version_key(UUID(user.subject))]) for _, user in users}

    for _, user in users:
        for product in ids:
            views.viewed(user, product)
    await views.flush()

    assert db.transactions == 2  # 15 views, 10 a batch
    for _, user in users:
        # At most `keep` per user, the newest: the first product viewed is forgotten.
        assert sorted(await view_rows.viewed(db.database, user_id=UUID(user.subject))) == sorted(ids[1:])
        (after,) = await app.state.cache.get_many([version_key(UUID(user.subject))])
        assert after != versions[user.subject][0], "each user's views version moved on"
    for client, _ in users:
        await client.aclose()


async def test_views_still_queued_at_shutdown_are_written(app: FastAPI, admin_client: httpx.AsyncClient) -> None:
    ids = await products(admin_client, 2)
    client, user = await reader(admin_client, "closing")
    views = ViewHistory(app.state.db, app.state.cache, keep=50)
    for product in ids:
        views.viewed(user, product)

    await views.close(within_seconds=5)

    assert views.queued == 0
    assert sorted(await view_rows.viewed(app.state.db.database, user_id=UUID(user.subject))) == sorted(ids)
    await client.aclose()


async def test_a_batch_the_database_refuses_is_dropped_counted_and_the_rest_written(
    app: FastAPI, admin_client: httpx.AsyncClient
) -> None:
    ids = await products(admin_client, 2)
    client, user = await reader(admin_client, "refused")
    dropped: list[int] = []
    db = CountingDb(app.state.db, refuse=1)
    views = ViewHistory(db, app.state.cache, keep=50, batch_size=1, on_dropped=dropped.append)

    views.viewed(user, ids[0])  # its batch meets the database down
    views.viewed(user, ids[1])
    await views.flush()

    assert dropped == [1]
    assert await view_rows.viewed(db.database, user_id=UUID(user.subject)) == [ids[1]]
    await client.aclose()
