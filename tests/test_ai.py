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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from impl.app import create_app
from impl.settings import Settings
from tests.conftest import ADMIN, client_for, free_port, login, register
from tests.fake_llm import fake_llm_server
from tests.helpers import assert_problem
from tests.servers import TcpProxy

pytestmark = pytest.mark.anyio

PRODUCTS = "/api/v1/products"
SMART = "/api/v1/search/smart"
RECOMMENDATIONS = "/api/v1/recommendations"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
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
async def serving(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An app on this test's database with these settings; yields the admin's client."""
    app = create_app(settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app), client_for(app) as admin:
        tokens = await login(admin, ADMIN["username"], ADMIN["password"])
        admin.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        yield admin


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


async def test_a_user_without_history_gets_popular_products(admin_client: httpx.AsyncClient) -> None:
    ids = {sku: (await create(admin_client, sku, f"Product {sku}"))["id"] for sku in ("C", "A", "B")}
    viewers = [await signed_in(admin_client, f"viewer{i}") for i in range(3)]
    for viewer in viewers:  # B viewed by three users, C by one
        assert (await viewer.get(f"{PRODUCTS}/{ids['B']}")).status_code == 200
    assert (await viewers[0].get(f"{PRODUCTS}/{ids['C']}")).status_code == 200
    newcomer = await signed_in(admin_client, "newcomer")

    body = (await newcomer.get(RECOMMENDATIONS, params={"limit": 3})).json()

    assert body["source"] == "popular"
    # The most viewed first, then the newest: one user's view of C does not make it popular (nor tell anyone).
    assert skus(body) == ["B", "A", "C"]
    for c in (*viewers, newcomer):
        await c.aclose()


async def test_recommendations_follow_what_the_user_viewed_and_never_repeat_it(admin_client: httpx.AsyncClient) -> None:
    ids = await load_labelled(admin_client)
    user = await signed_in(admin_client, "camper")
    for sku in ("OUT-001", "OUT-002"):  # a tent and a sleeping bag
        assert (await user.get(f"{PRODUCTS}/{ids[sku]}")).status_code == 200

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
    if model == "fake-error":
        assert "500" in body["detail"]
        assert "The server had an error." in body["detail"]
    if model == "fake-huge":  # not read past the cap
        assert "larger than 1048576 bytes" in body["detail"]
    if model == "fake-unauthorized":  # the provider's message quotes part of the key: not passed on
        assert "LLM_API_KEY" in body["detail"]
        assert "sk-" not in body["detail"]


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
    """Two apps sharing one database and one Redis: a write in one is searched by the other."""
    if not settings.redis_url:
        pytest.skip("needs Redis (TEST_REDIS_URL): without it the API is one process by design")
    async with serving(settings, smart_search_preload=True) as writer, serving(settings) as reader:
        assert (await smart(reader, "cold hands in winter"))["items"] == []  # its index is loaded now
        product = await create(writer, "GLOVES", "Winter Gloves", category="Clothing")
        found: list[str] = []
        for _ in range(50):  # the peer hears of the write over Redis within milliseconds
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
    """The writer reaches Redis through a proxy that freezes before the write, so its announcement over Redis
    is lost: the database's own announcement (PostgreSQL NOTIFY, at commit) still reaches the peer."""
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
