"""Smart search, similar products, recommendations and description drafts, through HTTP.

The labelled set (tests/eval/smart_search.json) holds products and natural-language
queries that share few words with the products they should find; smart search must find
them (recall@5 at least 0.7) where the keyword search does not. The language model is a
real OpenAI-compatible server on loopback (tests/fake_llm.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.engine import make_url

from impl.app import create_app
from impl.db.notifications import APPLICATION_NAME
from impl.db.tables import users
from impl.settings import Settings
from tests.conftest import ADMIN, client_for, free_port, login, make_settings, register
from tests.fake_llm import fake_llm_server
from tests.helpers import assert_problem, bearer
from tests.servers import TcpProxy

pytestmark = pytest.mark.anyio

PRODUCTS = "/api/v1/products"
SMART = "/api/v1/search/smart"
RECOMMENDATIONS = "/api/v1/recommendations"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
NEVER_HANGS = 30  # a hang guard, not a speed assertion: two apps start and load the model
LABELLED = json.loads((Path(__file__).parent / "eval" / "smart_search.json").read_text())


async def create(admin: httpx.AsyncClient, sku: str, name: str, **fields: Any) -> dict[str, Any]:
    response = await admin.post(PRODUCTS, json={"name": name, "price": 10.0, "sku": sku, **fields})
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def load_labelled(admin: httpx.AsyncClient) -> dict[str, str]:
    """The labelled products, created through the API; their ids by SKU."""
    ids = {}
    for product in LABELLED["products"]:
        ids[product["sku"]] = (await create(admin, **product))["id"]
    return ids


def skus(body: dict[str, Any]) -> list[str]:
    return [item["sku"] for item in body["items"]]


async def smart(client: httpx.AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get(SMART, params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@asynccontextmanager
async def serving_app(settings: Settings, **overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app on this test's database with these settings, and the admin's client."""
    app = create_app(settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app), client_for(app) as admin:
        tokens = await login(admin, ADMIN["username"], ADMIN["password"])
        admin.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        yield app, admin


@asynccontextmanager
async def serving(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An app on this test's database with these settings; yields the admin's client."""
    async with serving_app(settings, **overrides) as (_, admin):
        yield admin


async def views_written(client: httpx.AsyncClient) -> None:
    """Until the app serving `client` has written the views queued so far (recorded off the request path)."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app: Any = transport.app
    await app.state.views.flush()


async def signed_in(admin: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    """A second client of the same app, signed in as a new user."""
    client = httpx.AsyncClient(transport=admin._transport, base_url=admin.base_url, event_hooks=admin.event_hooks)
    await register(client, username, "Orchid-Tundra-27")
    tokens = await login(client, username, "Orchid-Tundra-27")
    client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    return client


# ---------------------------------------------------------------------------------------------------------------------
# Smart search
# ---------------------------------------------------------------------------------------------------------------------


async def test_smart_search_finds_by_meaning_where_keyword_search_does_not(admin_client: httpx.AsyncClient) -> None:
    await load_labelled(admin_client)
    smart_recall, keyword_recall = [], []
    for query in LABELLED["queries"]:
        relevant = set(query["relevant"])
        found = skus(await smart(admin_client, query["q"], limit=5))
        smart_recall.append(len(relevant & set(found)) / len(relevant))
        keyword = await admin_client.get(f"{PRODUCTS}/search", params={"q": query["q"], "page_size": 5})
        keyword_recall.append(len(relevant & set(skus(keyword.json()))) / len(relevant))

    smart_mean = sum(smart_recall) / len(smart_recall)
    keyword_mean = sum(keyword_recall) / len(keyword_recall)
    assert smart_mean >= 0.7, smart_mean
    assert smart_mean >= keyword_mean + 0.3, (smart_mean, keyword_mean)


async def test_an_index_of_8_bit_vectors_finds_by_meaning_too(settings: Settings) -> None:
    """SMART_SEARCH_VECTORS=i8 keeps a third less memory per product; the labelled set is found all the same."""
    async with serving(settings, smart_search_vectors="i8") as admin:
        await load_labelled(admin)
        recall = []
        for query in LABELLED["queries"]:
            relevant = set(query["relevant"])
            body = await smart(admin, query["q"], limit=5)
            recall.append(len(relevant & set(skus(body))) / len(relevant))
            assert body["scores"] == sorted(body["scores"], reverse=True)
        assert sum(recall) / len(recall) >= 0.7, recall


async def test_smart_search_answers_the_best_matches_first_with_their_scores(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "FLASK", "Vacuum Insulated Flask", description="Keeps tea warm for hours on the trail.")
    await create(admin_client, "MOUSE", "Wireless Mouse", category="Electronics")
    await create(admin_client, "PAN", "Cast Iron Skillet", category="Kitchen")

    body = await smart(admin_client, "something to keep my coffee hot on a hike", limit=2)

    assert skus(body)[0] == "FLASK"
    assert len(body["items"]) == len(body["scores"]) == 2
    assert body["scores"] == sorted(body["scores"], reverse=True)


async def test_smart_search_is_cached_and_answers_304_to_its_etag(client: httpx.AsyncClient) -> None:
    first = await client.get(SMART, params={"q": "warm socks"})
    again = await client.get(SMART, params={"q": "warm socks"})
    not_modified = await client.get(SMART, params={"q": "warm socks"}, headers={"If-None-Match": first.headers["etag"]})

    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("MISS", "HIT")
    assert again.headers["etag"] == first.headers["etag"]
    assert not_modified.status_code == 304
    assert first.json() == {"items": [], "scores": []}


async def test_a_product_is_found_by_its_new_meaning_right_after_its_update(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "GRINDER", "Burr Grinder", category="Kitchen", description="For coffee beans.")
    product = await create(admin_client, "X-1", "Garden Hose", category="Garden")
    assert skus(await smart(admin_client, "espresso coffee machine", limit=1)) == ["GRINDER"]  # cached now

    response = await admin_client.put(f"{PRODUCTS}/{product['id']}", json={"name": "Espresso Machine"})
    assert response.status_code == 200

    assert skus(await smart(admin_client, "espresso coffee machine", limit=1)) == ["X-1"]


async def test_deleted_products_are_never_found(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "GLOVES", "Winter Gloves", category="Clothing")
    assert skus(await smart(admin_client, "cold hands")) == ["GLOVES"]

    assert (await admin_client.delete(f"{PRODUCTS}/{product['id']}")).status_code == 204

    assert (await smart(admin_client, "cold hands"))["items"] == []


async def test_smart_search_limit_and_query_are_validated(client: httpx.AsyncClient) -> None:
    cases: list[dict[str, Any]] = [{"q": ""}, {"q": "x", "limit": 0}, {"q": "x", "limit": 51}, {}]
    for params in cases:
        assert_problem(await client.get(SMART, params=params), 422)


async def test_products_written_before_the_index_loads_are_found(settings: Settings) -> None:
    """Vectors are stored with the products: a new process loads them (and embeds any missing one)."""
    async with serving(settings) as admin:
        await create(admin, "FLASK", "Vacuum Insulated Flask", description="Keeps tea warm for hours.")
    async with serving(settings, smart_search_preload=True) as admin:
        assert skus(await smart(admin, "hot coffee on a hike", limit=1)) == ["FLASK"]


# ---------------------------------------------------------------------------------------------------------------------
# Similar products
# ---------------------------------------------------------------------------------------------------------------------


async def test_similar_products_are_the_nearest_and_never_the_product_itself(admin_client: httpx.AsyncClient) -> None:
    guitar = await create(admin_client, "GUITAR", "Acoustic Guitar", category="Music", description="Six strings.")
    await create(admin_client, "UKE", "Ukulele", category="Music", description="Four nylon strings.")
    await create(admin_client, "DRILL", "Cordless Drill", category="Tools")

    response = await admin_client.get(f"{PRODUCTS}/{guitar['id']}/similar", params={"limit": 5})

    assert response.status_code == 200, response.text
    assert skus(response.json())[0] == "UKE"
    assert "GUITAR" not in skus(response.json())
    assert response.headers["x-cache"] == "MISS"


async def test_similar_products_of_unknown_or_deleted_products_are_404(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "GONE", "Gone Lamp")
    assert (await admin_client.get(f"{PRODUCTS}/{product['id']}/similar")).status_code == 200
    assert (await admin_client.delete(f"{PRODUCTS}/{product['id']}")).status_code == 204

    assert_problem(await admin_client.get(f"{PRODUCTS}/{product['id']}/similar"), 404)
    assert_problem(await admin_client.get(f"{PRODUCTS}/{UNKNOWN_ID}/similar"), 404)


# ---------------------------------------------------------------------------------------------------------------------
# Recommendations
# ---------------------------------------------------------------------------------------------------------------------


async def test_recommendations_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(RECOMMENDATIONS), 401)


PASSWORD = "Orchid-Tundra-27"
AGED = timedelta(days=365)  # past any period start plus account age these tests set


async def accounts(admin: httpx.AsyncClient, prefix: str, count: int) -> list[str]:
    """`count` new accounts, registered and signed in through the API; their access tokens."""
    anonymous = httpx.AsyncClient(transport=admin._transport, base_url=admin.base_url, event_hooks=admin.event_hooks)
    tokens = []
    async with anonymous:
        for i in range(count):
            await register(anonymous, f"{prefix}{i}", PASSWORD)
            tokens.append((await login(anonymous, f"{prefix}{i}", PASSWORD))["access_token"])
    return tokens


async def backdate(app: FastAPI, prefix: str, count: int) -> None:
    """Make the accounts `accounts(admin, prefix, count)` made a year old (what waiting a day would do)."""
    names = [f"{prefix}{i}" for i in range(count)]
    async with app.state.db.write() as db:
        await db.execute(update(users).where(users.c.username.in_(names)).values(created_at=datetime.now(UTC) - AGED))


async def view(admin: httpx.AsyncClient, tokens: list[str], product: dict[str, Any]) -> None:
    for token in tokens:
        response = await admin.get(f"{PRODUCTS}/{product['id']}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
    await views_written(admin)


async def recommended(admin: httpx.AsyncClient, username: str) -> dict[str, Any]:
    """What a new user without history is recommended (at most 50 products)."""
    (token,) = await accounts(admin, username, 1)
    response = await admin.get(RECOMMENDATIONS, params={"limit": 50}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["source"] == "popular"
    return body


async def catalog(admin: httpx.AsyncClient, *skus: str) -> dict[str, dict[str, Any]]:
    """Products created in this order (the last is the newest)."""
    return {sku: await create(admin, sku, f"Product {sku}") for sku in skus}


async def test_a_user_without_history_gets_popular_products_then_the_newest(settings: Settings) -> None:
    async with serving_app(settings, popular_min_viewers=3, popular_threshold_noise=0) as (app, admin):
        products = await catalog(admin, "B", "C", "A")
        await view(admin, await accounts(admin, "viewer", 3), products["B"])  # B viewed by three accounts
        await view(admin, await accounts(admin, "single", 1), products["C"])  # C by one
        await backdate(app, "viewer", 3)
        await backdate(app, "single", 1)

        body = await recommended(admin, "newcomer")

    # B first, then the newest: one account's view of C does not make it popular (nor tell anyone).
    assert skus(body) == ["B", "A", "C"]


async def test_fresh_accounts_however_many_cannot_make_a_product_popular(settings: Settings) -> None:
    async with serving(settings, rate_limit_per_address_per_minute=0) as admin:  # the defaults otherwise
        products = await catalog(admin, "P", "N1", "N2")
        await view(admin, await accounts(admin, "sybil", 25), products["P"])  # 25 fresh accounts: P has 25 views

        body = await recommended(admin, "observer")

    assert skus(body) == ["N2", "N1", "P"]  # the newest only: P is not popular


async def test_established_accounts_make_a_product_popular_from_the_threshold_on(settings: Settings) -> None:
    # The defaults: 10 established viewers plus a secret extra of 0..10. Twenty always list a product; nine
    # never do, nor do nine with fifteen fresh accounts beside them.
    async with serving_app(settings, rate_limit_per_address_per_minute=0) as (app, admin):
        products = await catalog(admin, "LISTED", "SHORT", "N1")
        await view(admin, await accounts(admin, "crowd", 20), products["LISTED"])
        await view(admin, await accounts(admin, "nine", 9), products["SHORT"])
        await backdate(app, "crowd", 20)
        await backdate(app, "nine", 9)
        await view(admin, await accounts(admin, "fresh", 15), products["SHORT"])

        body = await recommended(admin, "observer")

    assert skus(body) == ["LISTED", "N1", "SHORT"]


async def test_deactivated_and_deleted_accounts_do_not_count(settings: Settings) -> None:
    async with serving_app(settings, popular_min_viewers=3, popular_threshold_noise=0) as (app, admin):
        products = await catalog(admin, "KEPT", "DEACTIVATED", "DELETED", "N1")
        for sku, prefix in (("KEPT", "keep"), ("DEACTIVATED", "inactive"), ("DELETED", "gone")):
            await view(admin, await accounts(admin, prefix, 3), products[sku])
            await backdate(app, prefix, 3)
        listing = (await admin.get("/api/v1/users", params={"page_size": 100})).json()["items"]
        ids = {user["username"]: user["id"] for user in listing}
        assert (await admin.put(f"/api/v1/users/{ids['inactive0']}", json={"is_active": False})).status_code == 200
        assert (await admin.delete(f"/api/v1/users/{ids['gone0']}")).status_code == 204

        body = await recommended(admin, "observer")

    assert skus(body) == ["KEPT", "N1", "DELETED", "DEACTIVATED"]


async def test_each_products_bar_is_raised_by_its_own_secret_extra(settings: Settings) -> None:
    async with serving_app(settings, popular_min_viewers=3, popular_threshold_noise=1) as (app, admin):
        products = await catalog(admin, *(f"P{i:02}" for i in range(20)), "NEWEST")
        tokens = await accounts(admin, "viewer", 3)
        for i in range(20):  # every product 3 established viewers: listed when its extra is 0, not when it is 1
            await view(admin, tokens, products[f"P{i:02}"])
        await backdate(app, "viewer", 3)

        listed = skus(await recommended(admin, "observer")).index("NEWEST")  # the listed ones come before it

    # Each extra is 0 or 1 evenly, per product: all twenty alike would happen once in about 500,000 runs.
    assert 0 < listed < 20


async def test_a_listed_product_deleted_during_the_period_gives_way_to_the_newest(settings: Settings) -> None:
    async with serving_app(settings, popular_min_viewers=3, popular_threshold_noise=0) as (app, admin):
        products = await catalog(admin, "LISTED", "N1")
        await view(admin, await accounts(admin, "viewer", 3), products["LISTED"])
        await backdate(app, "viewer", 3)
        (early,) = await accounts(admin, "early", 1)
        (late,) = await accounts(admin, "late", 1)

        first = await admin.get(RECOMMENDATIONS, params={"limit": 1}, headers=bearer(early))
        assert (await admin.delete(f"{PRODUCTS}/{products['LISTED']['id']}")).status_code == 204
        after = await admin.get(RECOMMENDATIONS, params={"limit": 1}, headers=bearer(late))

    assert skus(first.json()) == ["LISTED"]
    assert skus(after.json()) == ["N1"]


async def test_a_popular_list_holds_for_its_whole_period(settings: Settings) -> None:
    # Long periods, so that this test never straddles one's end; the second app's periods fall elsewhere.
    popular = {"popular_min_viewers": 3, "popular_threshold_noise": 0}
    async with serving_app(settings, popular_period_hours=1000, **popular) as (app, admin):
        products = await catalog(admin, "P", "N1")
        assert skus(await recommended(admin, "early")) == ["N1", "P"]  # this period's list: empty
        await view(admin, await accounts(admin, "late", 3), products["P"])
        await backdate(app, "late", 3)

        assert skus(await recommended(admin, "observer")) == ["N1", "P"]  # the same list, for everyone

    async with serving(settings, popular_period_hours=1001, **popular) as admin:
        assert skus(await recommended(admin, "later")) == ["P", "N1"]  # another period: its own list


async def test_recommendations_follow_what_the_user_viewed_and_never_repeat_it(admin_client: httpx.AsyncClient) -> None:
    ids = await load_labelled(admin_client)
    user = await signed_in(admin_client, "camper")
    for sku in ("OUT-001", "OUT-002"):  # a tent and a sleeping bag
        assert (await user.get(f"{PRODUCTS}/{ids[sku]}")).status_code == 200
    await views_written(user)

    response = await user.get(RECOMMENDATIONS, params={"limit": 5})

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["source"] == "history"
    assert len(body["items"]) == 5
    assert not {"OUT-001", "OUT-002"} & set(skus(body))
    assert skus(body)[0].startswith("OUT-")  # more of the outdoors, and of what one wears there
    assert sum(sku.startswith(("OUT-", "CLO-")) for sku in skus(body)) >= 4
    await user.aclose()


async def test_recommendations_are_cached_per_user_until_a_new_view(admin_client: httpx.AsyncClient) -> None:
    ids = {sku: (await create(admin_client, sku, name))["id"] for sku, name in (("M", "Mouse"), ("K", "Keyboard"))}
    user = await signed_in(admin_client, "reader")
    other = await signed_in(admin_client, "other")
    first = await user.get(RECOMMENDATIONS)
    again = await user.get(RECOMMENDATIONS)
    elsewhere = await other.get(RECOMMENDATIONS)
    assert (first.headers["x-cache"], again.headers["x-cache"], elsewhere.headers["x-cache"]) == ("MISS", "HIT", "MISS")

    assert (await user.get(f"{PRODUCTS}/{ids['M']}")).status_code == 200
    await views_written(user)
    after_view = await user.get(RECOMMENDATIONS)

    assert after_view.headers["x-cache"] == "MISS"
    assert "M" not in skus(after_view.json())
    assert skus(after_view.json()) == ["K"]
    for c in (user, other):
        await c.aclose()


async def test_anonymous_reads_record_no_view(admin_client: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "P", "Pen")
    assert (await client.get(f"{PRODUCTS}/{product['id']}")).status_code == 200
    stale = await client.get(f"{PRODUCTS}/{product['id']}", headers={"Authorization": "Bearer not-a-token"})
    assert stale.status_code == 200  # a bad token is ignored on a public read
    await views_written(client)  # had either read queued a view, it would be written now
    user = await signed_in(admin_client, "anon")

    body = (await user.get(RECOMMENDATIONS)).json()

    assert body == {"items": body["items"], "source": "popular"}
    assert skus(body) == ["P"]  # nobody viewed it: the newest
    await user.aclose()


async def test_the_view_history_is_bounded(settings: Settings) -> None:
    async with serving(settings, view_history_size=2) as admin:
        ids = {sku: (await create(admin, sku, f"Lamp {sku}"))["id"] for sku in ("L1", "L2", "L3", "L4")}
        user = await signed_in(admin, "bounded")
        for sku in ("L1", "L2", "L3"):
            assert (await user.get(f"{PRODUCTS}/{ids[sku]}")).status_code == 200
        await views_written(user)

        body = (await user.get(RECOMMENDATIONS, params={"limit": 10})).json()

        # L1 fell out of the history (2 kept): recommendable again; L2 and L3 are not.
        assert body["source"] == "history"
        assert sorted(skus(body)) == ["L1", "L4"]
        await user.aclose()


# ---------------------------------------------------------------------------------------------------------------------
# Description drafts
# ---------------------------------------------------------------------------------------------------------------------


async def test_a_description_draft_comes_from_the_configured_model_and_is_not_saved(settings: Settings) -> None:
    with fake_llm_server() as llm:
        key = SecretStr("sk-test")
        async with serving(settings, llm_base_url=llm.base_url, llm_model="catalog-writer", llm_api_key=key) as a:
            product = await create(a, "FLASK", "Vacuum Flask", category="Outdoors", description="Old text.")

            response = await a.post(f"{PRODUCTS}/{product['id']}/generate-description")

            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "no-store"
            assert response.json() == {
                "product_id": product["id"],
                "description": "Vacuum Flask: a dependable choice.\tBuilt to last.",  # control characters dropped
                "model": "catalog-writer-2026",
            }
            assert (await a.get(f"{PRODUCTS}/{product['id']}")).json()["description"] == "Old text."
    (request,) = llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["body"]["model"] == "catalog-writer"
    assert [m["role"] for m in request["body"]["messages"]] == ["system", "user"]
    assert "Category: Outdoors" in request["body"]["messages"][1]["content"]


async def test_description_drafts_answer_503_without_a_model(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "P", "Pen")

    body = assert_problem(await admin_client.post(f"{PRODUCTS}/{product['id']}/generate-description"), 503)

    assert body["type"] == "urn:catalog-api:problem:llm-not-configured"


async def test_description_drafts_are_for_admins_and_known_products(
    admin_client: httpx.AsyncClient, user_client: httpx.AsyncClient
) -> None:
    product = await create(admin_client, "P", "Pen")
    assert_problem(await user_client.post(f"{PRODUCTS}/{product['id']}/generate-description"), 403)
    assert_problem(await admin_client.post(f"{PRODUCTS}/{UNKNOWN_ID}/generate-description"), 404)


@pytest.mark.parametrize(
    ("model", "status", "problem"),
    [
        ("fake-error", 502, "llm-failed"),
        ("fake-garbage", 502, "llm-failed"),
        ("fake-empty", 502, "llm-failed"),
        ("fake-huge", 502, "llm-failed"),
        ("fake-unauthorized", 502, "llm-failed"),
    ],
)
async def test_provider_failures_are_502(settings: Settings, model: str, status: int, problem: str) -> None:
    with fake_llm_server() as llm:
        async with serving(settings, llm_base_url=llm.base_url, llm_model=model) as admin:
            product = await create(admin, "P", "Pen")
            body = assert_problem(await admin.post(f"{PRODUCTS}/{product['id']}/generate-description"), status)
    assert body["type"] == f"urn:catalog-api:problem:{problem}"
    if model == "fake-error":  # the status, never the provider's own words
        assert body["detail"] == "The language model provider answered 500."
    if model == "fake-huge":  # not read past the cap
        assert "larger than 1048576 bytes" in body["detail"]
    if model == "fake-unauthorized":  # the provider's message quotes part of the key: not passed on
        assert "LLM_API_KEY" in body["detail"]
        assert "sk-" not in body["detail"]


@pytest.mark.parametrize("model", ["fake-echo-400", "fake-echo-429", "fake-echo-500", "fake-echo-text"])
async def test_a_provider_error_quoting_the_key_is_502_without_its_text_and_logged_redacted(
    settings: Settings, model: str, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sk-live-" + uuid.uuid4().hex
    with fake_llm_server() as llm:
        overrides = {"llm_base_url": llm.base_url, "llm_model": model, "llm_api_key": SecretStr(key)}
        async with serving(settings, **overrides) as admin:
            product = await create(admin, "P", "Pen")
            response = await admin.post(f"{PRODUCTS}/{product['id']}/generate-description")

    body = assert_problem(response, 502)
    assert body["type"] == "urn:catalog-api:problem:llm-failed"
    status = 500 if model == "fake-echo-text" else int(model.removeprefix("fake-echo-"))
    assert body["detail"] == f"The language model provider answered {status}."
    for text in (key, key[8:], "Bearer", "Authorization", "rejected"):  # neither the key nor the provider's words
        assert text not in response.text
    (line,) = [r.getMessage() for r in caplog.records if r.name == "impl.llm.chat"]
    assert line.startswith(f"the language model provider answered {status}: ")
    assert "Authorization: Bearer [REDACTED]" in line  # the provider's message, for the operator
    assert key not in line
    assert key[8:] not in line


@pytest.mark.parametrize("model", ["fake-deep-array", "fake-deep-object"])
async def test_a_provider_answer_nested_too_deep_to_parse_is_502(settings: Settings, model: str) -> None:
    with fake_llm_server() as llm:
        async with serving(settings, llm_base_url=llm.base_url, llm_model=model) as admin:
            product = await create(admin, "P", "Pen")
            response = await admin.post(f"{PRODUCTS}/{product['id']}/generate-description")

    body = assert_problem(response, 502)
    assert body["type"] == "urn:catalog-api:problem:llm-failed"
    assert body["detail"] == "The language model provider's answer is not a chat completion."


async def test_a_draft_cut_inside_an_escaped_character_is_answered_without_it(settings: Settings) -> None:
    with fake_llm_server() as llm:
        async with serving(settings, llm_base_url=llm.base_url, llm_model="fake-cut") as admin:
            product = await create(admin, "P", "Pen")
            response = await admin.post(f"{PRODUCTS}/{product['id']}/generate-description")

    assert response.status_code == 200, response.text
    assert response.json()["description"] == "Sturdy and warm"
    assert response.json()["model"] == "cut-"


async def test_an_unreachable_provider_is_502(settings: Settings) -> None:
    with fake_llm_server() as llm:
        closed = llm.base_url
    async with serving(settings, llm_base_url=closed, llm_model="m") as admin:
        product = await create(admin, "P", "Pen")
        body = assert_problem(await admin.post(f"{PRODUCTS}/{product['id']}/generate-description"), 502)
    assert "could not be reached" in body["detail"]


async def test_a_provider_slower_than_the_timeout_is_504(settings: Settings) -> None:
    with fake_llm_server() as llm:
        llm.slow_seconds = 2.0
        async with serving(settings, llm_base_url=llm.base_url, llm_model="fake-slow", llm_timeout_seconds=0.3) as a:
            product = await create(a, "P", "Pen")
            body = assert_problem(await a.post(f"{PRODUCTS}/{product['id']}/generate-description"), 504)
    assert body["type"] == "urn:catalog-api:problem:llm-timeout"
    assert "0.3 seconds" in body["detail"]


def reembed(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "impl.reembed", *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)


async def test_scripts_embed_re_embeds_the_catalog_with_a_progress_bar(settings: Settings) -> None:
    async with serving(settings) as admin:
        await create(admin, "FLASK", "Vacuum Insulated Flask", description="Keeps tea warm for hours.")
        await create(admin, "MOUSE", "Wireless Mouse")
    environment = {**os.environ, "DATABASE_URL": settings.resolved_database_url(), "DATA_DIR": str(settings.data_dir)}

    done = await asyncio.to_thread(reembed, environment)

    assert done.returncode == 0, done.stderr
    assert "embedded 2 products" in done.stdout
    assert "2/2" in done.stderr  # tqdm's bar
    assert "embedded 0 products" in (await asyncio.to_thread(reembed, environment, "--stale")).stdout
    async with serving(settings) as admin:
        assert skus(await smart(admin, "hot coffee on a hike", limit=1)) == ["FLASK"]


async def test_another_process_finds_a_product_written_by_its_peer(settings: Settings) -> None:
    """Two apps sharing one database and one Redis: a write in one is searched by the other (the product change
    feed: PostgreSQL NOTIFY)."""
    if not settings.redis_url or settings.resolved_database_url().startswith("sqlite"):
        pytest.skip("needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL): several processes")
    async with serving(settings, smart_search_preload=True) as writer, serving(settings) as reader:
        assert (await smart(reader, "cold hands in winter"))["items"] == []  # its index is loaded now
        product = await create(writer, "GLOVES", "Winter Gloves", category="Clothing")
        found: list[str] = []
        for _ in range(50):  # the peer hears of the write from the database within milliseconds
            found = skus(await smart(reader, "cold hands in winter", limit=1))
            if found:
                break
            await asyncio.sleep(0.05)
        assert found == ["GLOVES"]
        assert (await writer.delete(f"{PRODUCTS}/{product['id']}")).status_code == 204
        for _ in range(50):
            found = skus(await smart(reader, "cold hands in winter", limit=1))
            if not found:
                break
            await asyncio.sleep(0.05)
        assert found == []


async def test_a_peer_finds_a_write_whose_writer_could_not_reach_redis(settings: Settings) -> None:
    """The writer reaches Redis through a proxy that freezes before the write: the write's announcement is the
    database's own (PostgreSQL NOTIFY, at commit), and it still reaches the peer."""
    if not settings.redis_url or settings.resolved_database_url().startswith("sqlite"):
        pytest.skip("needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL): several processes")
    redis = httpx.URL(settings.redis_url)
    proxy = TcpProxy(free_port(), redis.port or 6379)
    try:
        through_proxy = str(redis.copy_with(port=proxy.port))
        async with (
            serving(settings, redis_url=through_proxy) as writer,
            serving(settings, smart_search_preload=True) as reader,
        ):
            assert (await smart(reader, "cold hands in winter"))["items"] == []  # its index is loaded now
            proxy.freeze()
            await create(writer, "GLOVES", "Winter Gloves", category="Clothing")
            found: list[str] = []
            for _ in range(50):
                found = skus(await smart(reader, "cold hands in winter", limit=1))
                if found:
                    break
                await asyncio.sleep(0.05)
            assert found == ["GLOVES"]
    finally:
        proxy.remove()


async def listening_connections(database_url: str, *, cut: bool = False) -> int:
    """The product change feed's LISTEN connections to this test's database (terminated first with `cut`)."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(url)
    try:
        if cut:  # this database's only: the server may be shared with other test runs
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 "
                "AND datname = current_database()",
                APPLICATION_NAME,
            )
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
        return count
    finally:
        await connection.close()


async def test_a_peer_that_lost_the_change_feed_reads_its_index_again_and_finds_what_it_missed(
    postgres_database: str, redis_server: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> None:
    """The reader's LISTEN connection is cut and the write is made before it can be back, so the write's
    announcement reaches no one but the writer: once the feed is followed again the reader reads its index whole."""
    _, redis_url = redis_server
    shared = make_settings(
        tmp_path, database_url=postgres_database, redis_url=redis_url, cache_prefix=f"feed:{uuid.uuid4().hex}:"
    )
    query = "cold hands in winter"
    with anyio.fail_after(NEVER_HANGS):
        async with serving(shared) as writer, serving(shared, smart_search_preload=True) as reader:
            assert (await smart(reader, query))["items"] == []  # its index is loaded now
            await eventually(lambda: listening_connections(postgres_database), 2)
            # Gone at once; a listener notices within a second and connects again half a second later.
            await eventually(lambda: listening_connections(postgres_database, cut=True), 0)
            await create(writer, "GLOVES", "Winter Gloves", category="Clothing")
            assert skus(await smart(writer, query, limit=1)) == ["GLOVES"]  # the writer's process: at once
            await eventually(lambda: found_by_smart(reader, query), ["GLOVES"])


async def found_by_smart(client: httpx.AsyncClient, query: str) -> list[str]:
    return skus(await smart(client, query, limit=1))


async def eventually(read: Callable[[], Awaitable[object]], expected: object) -> None:
    """Read until `expected` is read (the caller bounds the wait)."""
    while True:
        if await read() == expected:
            return
        await asyncio.sleep(0.02)
