"""Ranked keyword search (openapi.yaml, searchProducts; impl/db/search.py) through HTTP, on both configurations.

The order is pinned exactly: tier by tier (exact SKU, name whole words, word prefix, inner substring,
every word in the name, category, SKU, description), ties by folded name, then id.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from impl.db import search as product_search
from impl.db.database import Db
from impl.settings import Settings
from tests.helpers import empty_page

pytestmark = pytest.mark.anyio

PRODUCTS = "/api/v1/products"
SEARCH = "/api/v1/products/search"


async def create(admin: httpx.AsyncClient, sku: str, name: str, **fields: Any) -> dict[str, Any]:
    response = await admin.post(PRODUCTS, json={"name": name, "price": 10.0, "sku": sku, **fields})
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def search(client: httpx.AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get(SEARCH, params={"q": q, "page_size": 100, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def skus(page: dict[str, Any]) -> list[str]:
    return [item["sku"] for item in page["items"]]


async def seed_kettles(admin: httpx.AsyncClient) -> list[str]:
    """One or more products per tier for q=kettle, created out of order; returns the SKUs in rank order."""
    tie_ids = [(await create(admin, f"T1-TIE-{n}", "Kettle"))["id"] for n in range(2)]
    await create(admin, "T7-DESC", "Aardvark Lamp", description="Shaped like a kettle, in brass.")
    await create(admin, "T6-XKETTLE-9", "Plain Cup")
    await create(admin, "T5-CAT", "Blue Jug", category="Kettles")
    await create(admin, "T3-INNER", "Teakettle")
    await create(admin, "T2-PREFIX", "Kettlebell 10 kg")
    await create(admin, "T1-WORD", "Steel kettle, 1.7 l")
    await create(admin, "kettle", "Zeta Mug")  # its SKU is the query
    await create(admin, "NO-INNER", "Mug", description="Teakettles and saucepans.")  # inside a word: no match
    await create(admin, "NO-GONE", "Kettle Gone")  # deleted by the first test
    tied = sorted(zip(tie_ids, ["T1-TIE-0", "T1-TIE-1"], strict=True))
    ranked = ["kettle", *(sku for _, sku in tied), "NO-GONE", "T1-WORD", "T2-PREFIX", "T3-INNER", "T5-CAT"]
    return [*ranked, "T6-XKETTLE-9", "T7-DESC"]


async def test_search_ranks_sku_then_name_word_prefix_substring_then_category_sku_description(
    admin_client: httpx.AsyncClient,
) -> None:
    expected = await seed_kettles(admin_client)
    gone = (await search(admin_client, "Kettle Gone"))["items"][0]
    assert gone["sku"] == "NO-GONE"
    assert (await admin_client.delete(f"{PRODUCTS}/{gone['id']}")).status_code == 204
    expected.remove("NO-GONE")

    page = await search(admin_client, "kettle")

    assert skus(page) == expected
    assert page["total"] == len(expected)
    assert page["total_exact"] is True


async def test_search_pages_follow_the_ranked_order(admin_client: httpx.AsyncClient) -> None:
    expected = await seed_kettles(admin_client)

    pages = [await search(admin_client, "KETTLE", page=number, page_size=3) for number in (1, 2, 3, 4)]

    assert [sku for page in pages for sku in skus(page)] == expected
    assert [page["pages"] for page in pages] == [4, 4, 4, 4]


async def test_every_word_must_match_and_the_name_in_order_ranks_first(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "M-NOT", "Oak Chair")  # no "desk" anywhere
    await create(admin_client, "M-DESC", "Writing Desk", description="Solid oak top.")
    await create(admin_client, "M-CAT", "Standing Desk", category="Oak Furniture")
    await create(admin_client, "M-ANY", "Desk in Oak")
    await create(admin_client, "M-INNER", "Smoak Desk")
    await create(admin_client, "M-PREFIX", "Oak Desktop")
    await create(admin_client, "M-PHRASE", "Large Oak Desk")
    await create(admin_client, "M-DESK", "Desk")  # no "oak" anywhere

    page = await search(admin_client, "oak desk")

    assert skus(page) == ["M-PHRASE", "M-PREFIX", "M-INNER", "M-ANY", "M-CAT", "M-DESC"]
    assert page["total"] == 6


async def test_name_matches_whole_words_before_prefixes_before_inner_substrings(
    admin_client: httpx.AsyncClient,
) -> None:
    await create(admin_client, "W-INNER", "Aa Sealamp")
    await create(admin_client, "W-PREFIX", "Ab Lampshade")
    await create(admin_client, "W-WORD", "Zz Lamp")

    assert skus(await search(admin_client, "lamp")) == ["W-WORD", "W-PREFIX", "W-INNER"]
    assert skus(await search(admin_client, "lamps")) == ["W-PREFIX"]
    # Two letters find word starts only, in every field.
    assert skus(await search(admin_client, "la")) == ["W-PREFIX", "W-WORD"]


async def test_description_matches_words_and_word_prefixes_only(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "D-1", "Kettle", description="Backed by a two-year warranty.")

    assert skus(await search(admin_client, "warranty")) == ["D-1"]
    assert skus(await search(admin_client, "warr")) == ["D-1"]
    assert skus(await search(admin_client, "two year")) == ["D-1"]
    assert skus(await search(admin_client, "arrant")) == []
    assert skus(await search(admin_client, "warranty kettle")) == ["D-1"]  # the words in different fields


async def test_search_folds_non_ascii_case_the_same_on_both_databases(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "F-1", "CAFÉ ÉCLAIR", description="Aus der STRAẞE.", category="Pâtisserie")
    await create(admin_client, "F-2", "Cafe Eclair")

    assert skus(await search(admin_client, "éclair")) == ["F-1"]
    assert skus(await search(admin_client, "Café Éclair")) == ["F-1"]
    assert skus(await search(admin_client, "straße")) == ["F-1"]
    assert skus(await search(admin_client, "PÂTISSERIE")) == ["F-1"]
    assert skus(await search(admin_client, "é")) == ["F-1"]
    # Lower case is all the folding there is: no accents removed, ß is not "ss".
    assert skus(await search(admin_client, "eclair")) == ["F-2"]
    assert skus(await search(admin_client, "strasse")) == []


async def test_punctuation_separates_words_and_is_never_a_wildcard(admin_client: httpx.AsyncClient) -> None:
    await create(admin_client, "P-1", "100% cotton")
    await create(admin_client, "P-2", "a_b")
    await create(admin_client, "P-3", "axb")

    assert skus(await search(admin_client, "100%")) == ["P-1"]
    assert skus(await search(admin_client, "a_b")) == ["P-2"]
    assert skus(await search(admin_client, "%")) == []
    assert skus(await search(admin_client, "_")) == []


async def test_no_match_is_an_empty_page(admin_client: httpx.AsyncClient) -> None:
    await seed_kettles(admin_client)

    page = await search(admin_client, "zeppelin", page_size=10)

    assert page == empty_page()


async def test_an_updated_product_moves_between_tiers_and_out(admin_client: httpx.AsyncClient) -> None:
    product = await create(admin_client, "U-1", "Lamp", description="A lantern.")
    url = f"{PRODUCTS}/{product['id']}"
    assert skus(await search(admin_client, "lantern")) == ["U-1"]

    assert (await admin_client.put(url, json={"name": "Lantern"})).status_code == 200
    assert (await admin_client.put(url, json={"description": "A light."})).status_code == 200
    assert skus(await search(admin_client, "lantern")) == ["U-1"]
    assert skus(await search(admin_client, "lamp")) == []

    assert (await admin_client.delete(url)).status_code == 204
    assert skus(await search(admin_client, "lantern")) == []


async def test_keys_resume_a_search_where_the_last_page_stopped(
    admin_client: httpx.AsyncClient, settings: Settings
) -> None:
    expected = await seed_kettles(admin_client)
    assert settings.database_url is not None
    db = Db(settings.database_url)
    await db.connect()
    try:
        walked: list[str] = []
        keys: list[product_search.SearchKey] = []
        after = None
        while True:
            hits = await product_search.search(db.database, query="kettle", limit=2, after=after)
            if not hits:
                break
            walked += [hit.record.sku for hit in hits]
            keys += [hit.key for hit in hits]
            after = hits[-1].key
    finally:
        await db.disconnect()

    assert walked == expected
    assert keys == sorted(keys)
    assert [key[0] for key in keys] == [0, 1, 1, 1, 1, 2, 3, 5, 6, 7]
    assert keys[1][1] == "kettle"  # the folded name
