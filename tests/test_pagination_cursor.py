"""Deep pages by cursor (issue 17, contract decision 2), through HTTP on both configurations.

Lists and searches answer `next_cursor` and link `next` by it; a walk by cursor
visits every live product once, and under concurrent writes never repeats or
skips a product whose sort key did not change. Numbered pages stop at the page
window; past a capped total the number of pages is unknown (null), never
understated.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from impl.db import products as product_rows
from impl.db.database import Db
from impl.db.folding import fold
from impl.db.products import Positioned, Selection, SortKey
from impl.db.tables import products
from impl.services import cursors
from impl.settings import Settings
from tests.helpers import assert_problem, link_targets

pytestmark = pytest.mark.anyio

PRODUCTS = "/api/v1/products"
SEARCH = "/api/v1/products/search"
DEFAULTS = {"page": 1, "page_size": 10, "sort_by": "created_at", "sort_order": "desc"}  # links leave them out
SORTS = [(field, order) for field in ("name", "price", "created_at", "stock") for order in ("asc", "desc")]


async def create(admin: httpx.AsyncClient, sku: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": f"Product {sku}", "price": 10.0, "sku": sku, **fields}
    response = await admin.post(PRODUCTS, json=body)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def seed_with_ties(admin: httpx.AsyncClient, count: int = 23) -> set[str]:
    """Products whose every sort key repeats (names equal but for case, a few prices and stocks)."""
    spellings = ("Lamp", "lamp", "LAMP", "Émile", "émile", "Zebra", "apple")
    created = set()
    for n in range(count):
        product = await create(
            admin,
            f"TIE-{n:02d}",
            name=spellings[n % len(spellings)],
            price=(5.0, 7.5, 12.25)[n % 3],
            stock=(0, 3)[n % 2],
            category="Ties",
        )
        created.add(product["id"])
    return created


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


async def walk(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    """The ids a walk by `next_cursor` visits, checking each page's cursor, links and page fields."""
    response = await get(client, path, **params)
    seen: list[str] = []
    while True:
        page = response.json()
        seen.extend(item["id"] for item in page["items"])
        links = link_targets(response)
        if page["next_cursor"] is None:
            assert "next" not in links
            return seen
        assert len(page["items"]) == params.get("page_size", 10)
        # Link next is this query with the cursor in place of the page number.
        target = urlsplit(links["next"])
        assert target.path == path
        sent = parse_qs(target.query)
        assert sent.pop("cursor") == [page["next_cursor"]]
        assert "page" not in sent
        assert sent == {
            name: [str(value)] for name, value in params.items() if name not in DEFAULTS or DEFAULTS[name] != value
        }
        response = await client.get(links["next"])
        assert response.status_code == 200, response.text
        assert response.json()["page"] is None  # a page asked for by cursor has no number
        assert "prev" not in link_targets(response)


@pytest.mark.parametrize(("sort_by", "sort_order"), SORTS)
async def test_a_walk_by_cursor_visits_every_product_once_in_list_order(
    admin_client: httpx.AsyncClient, sort_by: str, sort_order: str
) -> None:
    created = await seed_with_ties(admin_client)
    query = {"sort_by": sort_by, "sort_order": sort_order, "category": "Ties"}

    everything = (await get(admin_client, PRODUCTS, page_size=100, **query)).json()
    seen = await walk(admin_client, PRODUCTS, page_size=4, **query)

    assert seen == [item["id"] for item in everything["items"]]
    assert len(seen) == len(set(seen)) == len(created)
    assert set(seen) == created


async def test_a_search_walks_by_cursor_in_its_order(admin_client: httpx.AsyncClient) -> None:
    created = await seed_with_ties(admin_client, count=11)
    await create(admin_client, "NOT-MATCHING", name="Unrelated")

    everything = (await get(admin_client, SEARCH, q="TIE-", page_size=100)).json()
    seen = await walk(admin_client, SEARCH, q="TIE-", page_size=3)

    assert seen == [item["id"] for item in everything["items"]]
    assert set(seen) == created
    assert len(seen) == len(created)


# For each sort: a change to another field, which must not move the product.
OTHER_FIELD = {
    "name": {"price": 99.0, "stock": 7},
    "price": {"name": "Renamed", "stock": 7},
    "created_at": {"name": "Renamed", "price": 99.0},
    "stock": {"name": "Renamed", "price": 99.0},
}


@pytest.mark.parametrize(("sort_by", "sort_order"), SORTS)
async def test_writes_during_a_walk_never_repeat_or_skip_an_unchanged_product(
    admin_client: httpx.AsyncClient, sort_by: str, sort_order: str
) -> None:
    ids = sorted(await seed_with_ties(admin_client, count=18))
    query = {"sort_by": sort_by, "sort_order": sort_order, "category": "Ties", "page_size": 3}
    deleted: set[str] = set()

    response = await get(admin_client, PRODUCTS, **query)
    seen = [item["id"] for item in response.json()["items"]]
    step = 0
    while (cursor := response.json()["next_cursor"]) is not None:
        step += 1
        # Between pages: products created (they may land before or after the position), one
        # deleted, and another changed in fields other than the sort key.
        await create(admin_client, f"NEW-{step}", name=("Aardvark", "Zulu")[step % 2], price=step, category="Ties")
        victim = next(i for i in ids[step::3] if i not in deleted)
        assert (await admin_client.delete(f"{PRODUCTS}/{victim}")).status_code == 204
        deleted.add(victim)
        touched = ids[(step * 5) % len(ids)]
        if touched not in deleted:
            assert (await admin_client.put(f"{PRODUCTS}/{touched}", json=OTHER_FIELD[sort_by])).status_code == 200
        response = await get(admin_client, PRODUCTS, cursor=cursor, **query)
        seen.extend(item["id"] for item in response.json()["items"])

    assert len(seen) == len(set(seen)), "a product was shown twice"
    # Every product of the start that was never deleted was visited (once, as checked above).
    assert set(ids) - deleted <= set(seen)
    assert step >= 4


async def test_a_cursor_sent_with_another_query_is_422_naming_cursor(admin_client: httpx.AsyncClient) -> None:
    await seed_with_ties(admin_client, count=6)
    listed = (await get(admin_client, PRODUCTS, sort_by="price", sort_order="asc", page_size=2)).json()
    searched = (await get(admin_client, SEARCH, q="lamp", page_size=1)).json()
    cursor, search_cursor = listed["next_cursor"], searched["next_cursor"]
    assert cursor
    assert search_cursor

    for path, params in (
        (PRODUCTS, {"sort_by": "name", "sort_order": "asc"}),
        (PRODUCTS, {"sort_by": "price", "sort_order": "desc"}),
        (PRODUCTS, {"sort_by": "price", "sort_order": "asc", "category": "Ties"}),
        (PRODUCTS, {"sort_by": "price", "sort_order": "asc", "in_stock_only": "true"}),
        (SEARCH, {"q": "lamp"}),
    ):
        problem = assert_problem(await admin_client.get(path, params={**params, "cursor": cursor}), 422)
        assert [error["loc"] for error in problem["errors"]] == [["query", "cursor"]]
        assert "another query" in problem["detail"]
    problem = assert_problem(await admin_client.get(SEARCH, params={"q": "lamps", "cursor": search_cursor}), 422)
    assert problem["errors"][0]["loc"] == ["query", "cursor"]
    problem = assert_problem(await admin_client.get(PRODUCTS, params={"cursor": search_cursor}), 422)
    assert problem["errors"][0]["loc"] == ["query", "cursor"]

    # Matching ignores case, and so does a cursor's query.
    assert (await admin_client.get(SEARCH, params={"q": "LAMP", "cursor": search_cursor})).status_code == 200
    # The page size is not part of the query a cursor belongs to.
    resized = await get(admin_client, PRODUCTS, sort_by="price", sort_order="asc", page_size=3, cursor=cursor)
    assert len(resized.json()["items"]) == 3


async def test_a_garbage_or_tampered_cursor_is_422_naming_cursor(admin_client: httpx.AsyncClient) -> None:
    await seed_with_ties(admin_client, count=4)
    cursor = (await get(admin_client, PRODUCTS, page_size=1)).json()["next_cursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 0x01  # one bit of the keys
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    made_up = base64.urlsafe_b64encode(b"\x01" + b"x" * 12 + b'{"q":"0","k":[["i",1]]}').rstrip(b"=").decode()

    for bad in ("garbage", "A", cursor[:-4], cursor + "AAAA", tampered, made_up, "_" * 2048):
        response = await admin_client.get(PRODUCTS, params={"page_size": 1, "cursor": bad})
        problem = assert_problem(response, 422)
        assert [error["loc"] for error in problem["errors"]] == [["query", "cursor"]]
    # Outside the spec's pattern or length: refused by the schema, still on `cursor`.
    for bad in ("not base64!", "A" * 2049):
        problem = assert_problem(await admin_client.get(PRODUCTS, params={"cursor": bad}), 422)
        assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_cursor_goes_with_page_one_only(admin_client: httpx.AsyncClient) -> None:
    await seed_with_ties(admin_client, count=4)
    cursor = (await get(admin_client, PRODUCTS, page_size=1)).json()["next_cursor"]

    with_page_one = await get(admin_client, PRODUCTS, page_size=1, page=1, cursor=cursor)
    problem = assert_problem(
        await admin_client.get(PRODUCTS, params={"page_size": 1, "page": 2, "cursor": cursor}), 422
    )

    assert with_page_one.json()["page"] is None
    assert problem["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize(("page", "page_size"), [(101, 100), (10000, 2), (2001, 5)])
async def test_a_page_past_the_window_is_422_pointing_to_cursor(
    client: httpx.AsyncClient, page: int, page_size: int
) -> None:
    for path, params in ((PRODUCTS, {}), (SEARCH, {"q": "x"})):
        response = await client.get(path, params={**params, "page": page, "page_size": page_size})
        problem = assert_problem(response, 422)
        assert [error["loc"] for error in problem["errors"]] == [["query", "page"]]
        assert "cursor" in problem["detail"]
        assert "10,000" in problem["detail"]


async def test_past_the_capped_total_pages_is_null_and_there_is_no_last_link(admin_client: httpx.AsyncClient) -> None:
    for n in range(1050):
        await create(admin_client, f"BULK-{n:04d}", name=f"Bulk {n:04d}", category="Bulk")
    await create(admin_client, "OTHER-1", category="Other")
    query = {"category": "Bulk", "sort_by": "name", "sort_order": "asc", "page_size": 100}

    first = await get(admin_client, PRODUCTS, **query)
    eleventh = await get(admin_client, PRODUCTS, page=11, **query)
    searched = await get(admin_client, SEARCH, q="bulk", page_size=100)

    for response in (first, searched):
        page = response.json()
        assert (page["total"], page["total_exact"], page["pages"]) == (1000, False, None)
        assert "last" not in link_targets(response)
        assert page["next_cursor"] is not None
    # Page 11 holds the 50 past the count: nothing claimed there were only 10 pages.
    assert [item["name"] for item in eleventh.json()["items"]] == [f"Bulk {n:04d}" for n in range(1000, 1050)]
    assert eleventh.json()["next_cursor"] is None
    assert "last" not in link_targets(eleventh)
    walked = await walk(admin_client, PRODUCTS, **query)
    assert len(walked) == len(set(walked)) == 1050


async def test_the_last_page_has_no_next_cursor_and_an_exact_total_keeps_last(admin_client: httpx.AsyncClient) -> None:
    await seed_with_ties(admin_client, count=5)
    first = await get(admin_client, PRODUCTS, page_size=2, category="Ties")
    second = await get(admin_client, PRODUCTS, page_size=2, category="Ties", cursor=first.json()["next_cursor"])
    last = await get(admin_client, PRODUCTS, page_size=2, category="Ties", cursor=second.json()["next_cursor"])
    numbered_last = await get(admin_client, PRODUCTS, page_size=2, category="Ties", page=3)

    assert (len(last.json()["items"]), last.json()["next_cursor"]) == (1, None)
    assert last.json()["items"] == numbered_last.json()["items"]
    assert numbered_last.json()["next_cursor"] is None
    assert link_targets(last) == {
        "first": f"{PRODUCTS}?page_size=2&category=Ties&page=1",
        "last": f"{PRODUCTS}?page_size=2&category=Ties&page=3",
    }
    assert (second.json()["total"], second.json()["pages"], second.json()["total_exact"]) == (5, 3, True)


async def test_cursor_pages_are_cached_by_their_cursor(admin_client: httpx.AsyncClient) -> None:
    await seed_with_ties(admin_client, count=6)
    first = (await get(admin_client, PRODUCTS, page_size=2)).json()
    second = await get(admin_client, PRODUCTS, page_size=2, cursor=first["next_cursor"])
    again = await get(admin_client, PRODUCTS, page_size=2, cursor=first["next_cursor"])
    third = await get(admin_client, PRODUCTS, page_size=2, cursor=second.json()["next_cursor"])

    assert (second.headers["x-cache"], again.headers["x-cache"]) == ("MISS", "HIT")
    assert again.content == second.content
    assert again.headers["link"] == second.headers["link"]
    assert third.headers["x-cache"] == "MISS"
    assert {item["id"] for item in third.json()["items"]}.isdisjoint(item["id"] for item in second.json()["items"])


def reforged(cursor: str, first_key: list[Any]) -> str:
    """`cursor` with its first key replaced and its check recomputed: what a client that read
    impl/services/cursors.py could send."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    document = json.loads(raw[1 + cursors.CHECK_BYTES :])
    document["k"][0] = first_key
    body = json.dumps(document).encode()
    check = hashlib.sha256(cursors._DOMAIN + body).digest()[: cursors.CHECK_BYTES]
    return base64.urlsafe_b64encode(raw[:1] + check + body).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("sort_by", "first_key"),
    [
        ("price", ["i", 2**70]),
        ("price", ["s", "12"]),
        ("stock", ["t", "2026-01-01T00:00:00+00:00"]),
        ("name", ["s", "lamp\x00"]),
        ("name", ["i", 1]),
        ("created_at", ["t", "0001-01-01T00:00:00+05:00"]),
        ("created_at", ["t", "2026-01-01T00:00:00"]),
    ],
)
async def test_a_rebuilt_cursor_with_values_no_row_has_is_422_never_500(
    admin_client: httpx.AsyncClient, sort_by: str, first_key: list[Any]
) -> None:
    await seed_with_ties(admin_client, count=4)
    query: dict[str, Any] = {"sort_by": sort_by, "sort_order": "asc", "page_size": 1}
    cursor = (await get(admin_client, PRODUCTS, **query)).json()["next_cursor"]

    problem = assert_problem(
        await admin_client.get(PRODUCTS, params={**query, "cursor": reforged(cursor, first_key)}), 422
    )

    assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_rebuilt_cursor_of_the_right_shape_only_chooses_where_its_page_starts(
    admin_client: httpx.AsyncClient,
) -> None:
    await seed_with_ties(admin_client, count=6)
    query: dict[str, Any] = {"sort_by": "price", "sort_order": "asc", "page_size": 100}
    cursor = (await get(admin_client, PRODUCTS, **{**query, "page_size": 1})).json()["next_cursor"]
    everything = (await get(admin_client, PRODUCTS, **query)).json()["items"]

    from_cheap = await get(admin_client, PRODUCTS, **query, cursor=reforged(cursor, ["i", 600]))

    assert from_cheap.json()["items"] == [item for item in everything if item["price"] > 6.0]


async def test_the_keyset_follows_orders_whose_keys_run_both_ways(
    admin_client: httpx.AsyncClient, settings: Settings
) -> None:
    """No list sorts one key down and the next up yet; the keyset takes any order (a ranked search's
    tier, name and id is next), so the mixed case is walked here, below HTTP."""
    await seed_with_ties(admin_client, count=13)
    selection = Selection(
        (products.c.category == "Ties",),
        (SortKey(products.c.price_cents, descending=True), SortKey(fold(products.c.name)), SortKey(products.c.id)),
        "price desc, name, id",
    )
    db = Db(settings.resolved_database_url())
    await db.connect()
    try:
        everything = await product_rows.page(db.database, selection=selection, limit=100)
        walked: list[Positioned] = []
        position = None
        while chunk := await product_rows.page(db.database, selection=selection, limit=2, after_position=position):
            walked.extend(chunk)
            position = chunk[-1].keys
    finally:
        await db.disconnect()

    assert [row.record.id for row in walked] == [row.record.id for row in everything]
    assert len(everything) == 13
    prices = [row.record.price_cents for row in everything]
    assert prices == sorted(prices, reverse=True)
