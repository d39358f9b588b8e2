"""The catalogue-at-size scenarios of scripts/bench (issue 17): what they request, and the bulk transfers.

scripts/bench_serve.py starts the servers and drives wrk; this module decides what the scenarios
below ask for, walks the cursors, and runs the import and the export as a client would:

- search_mix and one search_<kind> per kind: `GET /products/search` over terms of six kinds, each
  request a different (term, page_size) pair so that repeats do not come from the cache (the table's
  cache HIT column says how many did). The kinds, from the generated catalogue's own words:
  `rare` a whole product name (one or two matches at 1M products), `common` one whole word of the
  vocabulary (1-5% of the catalogue), `two_letter` the first two letters of a word (two letters
  match at a word start), `sku` an exact SKU,
  `multi_word` two neighbouring words of one name ("oak kettle", ~0.1%), `no_match` letters no product
  holds. search_mix interleaves them (the budget's line); the per-kind runs say which kind is slow.
- list_sorted: `GET /products` by number, pages 1-50 of a random category in one of five sorts.
- cursor_deep: `GET /products` by cursor, about 5,000 pages of 20 deep. A cursor is opaque, so it
  is reached by walking: `next_cursor` from page 1 at page_size 100 (a cursor's query does not
  include the page size) down to 100,000 products; the walk keeps the cursors of its last fifth
  (80,000-100,000 products deep: pages 4,000-5,000 at 20 a page) in two sorts, and each request
  sends one with a page_size of 11-30. It runs over the whole catalogue, not one category: at
  1,000,000 products a category holds about 20,000 (1,000 pages of 20), so page 5,000 exists
  only across the catalogue. A smaller catalogue is walked to 90% of its size.
- smart_search: `GET /search/smart` over generated descriptions of what a shopper wants.
- export and import: `GET /products/export` read to its end, and a generated NDJSON file of new
  products (their own SKUs) sent to `POST /products/import` in one streamed body; rows/s, the
  worker's RSS before and at its peak meanwhile, and (import) paced cached reads alongside.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEARCH_KINDS = ("rare", "common", "two_letter", "sku", "multi_word", "no_match")
REQUESTS_PER_KIND = 6_000  # distinct (term, page_size) pairs per kind: half for search_mix, half for its own run
PAGE_SIZES = tuple(range(11, 31))  # a different page size makes a different cache key, at about the same work
CHECK_PAGE_SIZE = 10  # the checks before the search scenarios: a cache key none of their requests has
LIST_SORTS = (("price", "asc"), ("price", "desc"), ("name", "asc"), ("created_at", "desc"), ("stock", "desc"))
LIST_PAGES = 50
CURSOR_SORTS = (("price", "asc"), ("created_at", "desc"))
CURSOR_DEPTH = 5_000 * 20  # page 5,000 at 20 a page
WALK_PAGE_SIZE = 100  # the spec's largest page
KEEP_FRACTION = 5  # the walk keeps the cursors of its last fifth
SMART_QUERIES = 3_000
NO_MATCH_LETTERS = "jqxzvkw"
TRANSFER_TIMEOUT_S = 3_600
CHUNK = 1 << 20

SEARCH_PATH = "/api/v1/products/search"
Get = Callable[[str], tuple[int, Any]]  # path -> (status, JSON body)


# ------------------------------------------------------------------------------------------------
# What the read scenarios request.


def search_paths(
    names: Sequence[str], skus: Sequence[str], categories: Sequence[str], seed: int
) -> dict[str, list[str]]:
    """Per kind, REQUESTS_PER_KIND search paths (fewer when a kind has fewer distinct pairs), shuffled."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    words = sorted(
        {
            word
            for text in (*names, *categories)
            for word in text.lower().replace("-", " ").replace("&", " ").split()
            if word.isalpha() and len(word) >= 3
        }
    )
    pairs = sorted({word[i : i + 2] for word in words for i in range(len(word) - 1)})
    # Two letters match at the start of a word only (the spec's search rules): the first two of a word.
    starts = sorted({word[:2] for word in words})
    multi = sorted({_two_in_order(name, rng) for name in names})
    terms = {
        "rare": sorted(set(names)),
        "common": words,
        "two_letter": starts,
        "sku": sorted(set(skus)),
        "multi_word": multi,
        "no_match": _no_match_terms(words, pairs, rng),
    }
    paths: dict[str, list[str]] = {}
    for kind in SEARCH_KINDS:
        chosen = _pairs(terms[kind], rng)
        paths[kind] = [f"{SEARCH_PATH}?q={urllib.parse.quote(term)}&page_size={size}" for term, size in chosen]
    return paths


def search_checks(paths: dict[str, list[str]], per_kind: int = 3) -> list[tuple[str, str, str]]:
    """(kind, term, path) for the first terms of each kind, at CHECK_PAGE_SIZE: asking them does not warm
    the cache for the scenarios."""
    checks = []
    for kind, kind_paths in paths.items():
        for path in kind_paths[:per_kind]:
            term = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["q"][0]
            checks.append((kind, term, f"{SEARCH_PATH}?q={urllib.parse.quote(term)}&page_size={CHECK_PAGE_SIZE}"))
    return checks


def search_answer_problem(kind: str, term: str, status: int, body: Any) -> str | None:
    """Why an answer to a search for `term` shows that `kind` is not what it says; None when it is.

    Every kind but no_match is made of loaded products' own words, so it finds at least one; a SKU finds
    its product first (an exact SKU ranks first); no_match finds nothing.
    """
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return f"{kind}: the search for {term!r} answered {status}: {body!r}"[:500]
    items, total = body["items"], body.get("total")
    if kind == "no_match":
        return None if total == 0 else f"no_match: {term!r} found {total} products"
    if not items:
        return f"{kind}: {term!r} found nothing"
    if kind == "sku" and items[0].get("sku") != term:
        return f"sku: {term!r} found {items[0].get('sku')!r} first"
    return None


def mix(paths: dict[str, list[str]]) -> list[str]:
    """Every kind's paths, taken in turn: consecutive requests are of different kinds."""
    lists = [paths[kind] for kind in SEARCH_KINDS]
    longest = max(map(len, lists))
    return [kind_paths[i] for i in range(longest) for kind_paths in lists if i < len(kind_paths)]


def _pairs(terms: Sequence[str], rng: random.Random) -> list[tuple[str, int]]:
    """REQUESTS_PER_KIND distinct (term, page size) pairs, as many terms as possible, each term once first."""
    shuffled = list(terms)
    rng.shuffle(shuffled)
    chosen: list[tuple[str, int]] = []
    for size in rng.sample(PAGE_SIZES, len(PAGE_SIZES)):
        for term in shuffled:
            chosen.append((term, size))
            if len(chosen) == REQUESTS_PER_KIND:
                return chosen
    return chosen


def _two_in_order(name: str, rng: random.Random) -> str:
    """Two neighbouring words of a generated name (brand, adjective, material, noun): a search by
    substring finds them as well as one by words."""
    words = name.lower().split()
    starts = [i for i in range(len(words) - 1) if all(w.replace("-", "").isalpha() for w in words[i : i + 2])]
    first = rng.choice(starts)
    return f"{words[first]} {words[first + 1]}"


def _no_match_terms(words: Sequence[str], pairs: Sequence[str], rng: random.Random) -> list[str]:
    """Six letters without one two-letter piece that any word holds (SKU codes included: they are words too)."""
    known = set(pairs)
    found: set[str] = set()
    for _ in range(REQUESTS_PER_KIND * 20):
        term = "".join(rng.choice(NO_MATCH_LETTERS) for _ in range(6))
        if not any(term[i : i + 2] in known for i in range(5)):
            found.add(term)
        if len(found) >= REQUESTS_PER_KIND:
            break
    if not found:
        raise ValueError(f"every pair of {NO_MATCH_LETTERS!r} occurs in a product's words: {len(words)} words")
    return sorted(found)


def sorted_list_paths(categories: Sequence[str], page_size: int, seed: int) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    paths = [
        f"/api/v1/products?category={urllib.parse.quote(category)}&sort_by={by}&sort_order={order}"
        f"&page={page}&page_size={page_size}"
        for category in categories
        for by, order in LIST_SORTS
        for page in range(1, LIST_PAGES + 1)
    ]
    rng.shuffle(paths)
    return paths


def smart_queries(
    adjectives: Sequence[str], materials: Sequence[str], nouns: Sequence[str], phrases: Sequence[str], seed: int
) -> list[str]:
    """What a shopper types: "something rugged in oak", "a kettle that is easy to clean and store", ..."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    shapes = (
        lambda: f"something {rng.choice(adjectives)} in {rng.choice(materials)}",
        lambda: f"a {rng.choice(nouns)} that is {rng.choice(phrases)}",
        lambda: f"{rng.choice(adjectives)} {rng.choice(nouns)} for a small flat",
        lambda: f"{rng.choice(materials)} {rng.choice(nouns)}, {rng.choice(phrases)}",
    )
    queries: set[str] = set()
    for _ in range(SMART_QUERIES * 10):
        queries.add(rng.choice(shapes)())
        if len(queries) >= SMART_QUERIES:
            break
    ordered = sorted(queries)
    rng.shuffle(ordered)
    return [f"/api/v1/search/smart?q={urllib.parse.quote(query)}" for query in ordered]


@dataclass
class Walk:
    paths: list[str]  # the cursor requests of the scenario
    requests: int  # the walk's own
    seconds: float
    deepest: int  # products before the deepest cursor kept


def walk_cursors(get: Get, count: int, seed: int) -> Walk:
    """Deep cursors in each of CURSOR_SORTS, reached by following next_cursor; see the module docstring."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    depth = min(CURSOR_DEPTH, count * 9 // 10)
    pages = max(1, depth // WALK_PAGE_SIZE)
    keep_from = pages - max(1, pages // KEEP_FRACTION)
    started, requests = time.perf_counter(), 0
    cursors: list[tuple[str, str, str]] = []
    for by, order in CURSOR_SORTS:
        query = f"/api/v1/products?sort_by={by}&sort_order={order}"
        cursor: str | None = None
        for page in range(pages):
            path = query + f"&page_size={WALK_PAGE_SIZE}" + (f"&cursor={cursor}" if cursor else "")
            status, body = get(path)
            requests += 1
            if status != 200 or not isinstance(body, dict):
                raise ValueError(f"cursor walk: GET {path} answered {status}: {body!r}")
            cursor = body.get("next_cursor")
            if not isinstance(cursor, str):
                raise ValueError(f"cursor walk: page {page + 1} of {query} has no next_cursor ({count:,} products)")
            if page >= keep_from:
                cursors.append((query, cursor, urllib.parse.quote(cursor)))
    paths = [f"{query}&cursor={quoted}&page_size={size}" for query, _, quoted in cursors for size in PAGE_SIZES]
    rng.shuffle(paths)
    return Walk(paths, requests, time.perf_counter() - started, pages * WALK_PAGE_SIZE)


# ------------------------------------------------------------------------------------------------
# Import and export.


class RssWatch:
    """The worker's resident memory, sampled every 50 ms from another thread while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before_kib = self.peak_kib = self._rss() or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_kib = max(self.peak_kib, self._rss() or 0)

    def _rss(self) -> int | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return None


@dataclass
class Transfer:
    operation: str  # "import" | "export"
    status: int
    rows: int  # lines answered (export) or sent (import)
    seconds: float
    rss_before_kib: int
    rss_peak_kib: int
    report: dict[str, Any] | None = None  # the import's ImportReport
    problem: str | None = None  # what went wrong, when something did

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Rows that did not make it: every row when the answer was not a 200, else the rejected ones."""
        if self.status != 200:
            return max(1, self.rows)
        return int(self.report.get("rejected", 0)) if self.report else 0


def write_ndjson(path: Path, rows: Iterable[tuple[str, str, int, int, str, str]]) -> int:
    """(name, description, price in cents, stock, category, sku) as ProductCreate lines; how many."""
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for name, description, cents, stock, category, sku in rows:
            price = f"{cents // 100}.{cents % 100:02d}"
            out.write(
                f'{{"name":{json.dumps(name)},"description":{json.dumps(description)},"price":{price},'
                f'"stock":{stock},"category":{json.dumps(category)},"sku":{json.dumps(sku)}}}\n'
            )
            written += 1
    return written


def import_file(port: int, token: str, path: Path, rows: int, pid: int) -> Transfer:
    """POST the file as one body, streamed from disk."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TRANSFER_TIMEOUT_S, blocksize=CHUNK)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/x-ndjson",
        "Content-Length": str(path.stat().st_size),
    }
    with RssWatch(pid) as rss, path.open("rb") as body:
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/v1/products/import", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - started
    try:
        report = json.loads(payload)
    except ValueError:
        report = None
    problem = None if response.status == 200 else f"status {response.status}: {payload[:500]!r}"
    if isinstance(report, dict) and report.get("rejected"):
        problem = f"{report['rejected']:,} lines rejected, first: {report.get('errors', [])[:3]}"
    return Transfer(
        "import", response.status, rows, seconds, rss.before_kib, rss.peak_kib,
        report if isinstance(report, dict) else None, problem,
    )  # fmt: skip


def export_all(port: int, token: str, pid: int) -> Transfer:
    """GET the export and read it to its end, counting lines; nothing is kept."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TRANSFER_TIMEOUT_S)
    lines = 0
    with RssWatch(pid) as rss:
        started = time.perf_counter()
        try:
            connection.request("GET", "/api/v1/products/export", headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            for chunk in _chunks(response):
                lines += chunk.count(b"\n")
        finally:
            connection.close()
        seconds = time.perf_counter() - started
    problem = None if response.status == 200 else f"status {response.status}"
    return Transfer("export", response.status, lines, seconds, rss.before_kib, rss.peak_kib, problem=problem)


def _chunks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    while chunk := response.read(CHUNK):
        yield chunk
