"""Keyword search at size: the ranked search (impl/db/search.py) timed on PostgreSQL and SQLite.

    scripts/bench search [--rows N] [--runs N] [--seed N] [--database both|postgres|sqlite]
                         [--explain] [--server URL]

For each database: a throwaway one (PostgreSQL: `catalog_bench_<random>` on --server, dropped at
the end, also on error or interrupt; SQLite: a file in a temporary directory), the app's
migrations, N generated products (a few percent soft-deleted) bulk-loaded with the search indexes
built after the load (PostgreSQL: COPY, the indexes of migration 0006 re-created, VACUUM ANALYZE;
SQLite: one transaction of inserts, then products_search and its FTS5 tables filled in bulk).

Then a mix of terms, by kind: rare (a word in 10 descriptions), common (in ~30% of descriptions),
medium (a name word of ~1%), two-letter, SKU (a whole SKU), multi-word, and no-match. Each term is
searched --runs times the way the search endpoint answers page 1 uncached (the capped count, then
the first page of 10), one request at a time, through `databases` on the app's own connection
settings; the table shows p50/p99 per kind over all its terms' runs, and the matches of each term.
--explain prints EXPLAIN (ANALYZE, BUFFERS) of PostgreSQL's statements for a rare and a broad term.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import itertools
import os
import random
import secrets
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
from databases.backends.postgres import PostgresConnection
from sqlalchemy.engine import URL, make_url

from impl.db import search
from impl.db.database import Db
from impl.db.folding import FoldingConnection
from impl.db.migrate import upgrade

DEFAULT_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432")
PAGE_SIZE = 10  # the search endpoint's default page_size
TOTAL_CAP = 1_000  # impl/services/products.py counts this far
SEARCH_INDEX_PREFIX = "ix_products_search_"
MIGRATION = importlib.import_module("migrations.versions.0006_ranked_search_indexes")
COLUMNS = (
    "id",
    "name",
    "description",
    "price_cents",
    "stock",
    "category",
    "sku",
    "created_at",
    "updated_at",
    "deleted_at",
)

DELETED_FRACTION = 0.03
RARE_ROWS = 10
INDEX, NO_INDEX, GENERIC = "index", "no index", "index, forced generic plan"

# ------------------------------------------------------------------------------------------------
# Generated catalogue. Planted terms control how many rows each benchmark query matches:
#   "quokka"   in RARE_ROWS live descriptions (and two soft-deleted ones)
#   "titanium" as the material of ~1% of products (name and description)
#   "warranty" in the description of ~30% of products
#   SKUs are "<CAT>-<row number>", so a run of digits matches ~0.1% of them
# The filler words below contain none of those terms.

ADJECTIVES = (
    "compact", "deluxe", "ergonomic", "portable", "classic", "modern", "rugged", "smart", "wireless",
    "vintage", "premium", "lightweight", "heavy-duty", "foldable", "adjustable", "slim", "essential",
    "stackable", "insulated", "cordless", "rechargeable", "waterproof", "handmade", "organic", "quiet",
)  # fmt: skip
MATERIALS = ("steel", "oak", "bamboo", "aluminium", "glass", "cotton", "leather", "ceramic", "walnut", "linen")
NOUNS = (
    "kettle", "lamp", "backpack", "chair", "desk", "blender", "toaster", "headphones", "speaker", "mug",
    "skillet", "knife set", "cutting board", "tent", "sleeping bag", "water bottle", "notebook", "pen",
    "keyboard", "mouse", "monitor arm", "router", "drill", "hammer", "ladder", "planter", "hose", "rake",
    "pillow", "blanket", "towel", "rug", "mirror", "clock", "shelf", "tv stand", "bike lock", "helmet",
    "yoga mat", "dumbbell", "jacket", "scarf", "wallet", "umbrella", "suitcase", "camera bag", "tripod",
)  # fmt: skip
CATEGORIES = (
    "Kitchen", "Home Decor", "Furniture", "Electronics", "Computers", "Audio", "Outdoor", "Camping",
    "Garden", "Tools", "Hardware", "Office", "Stationery", "Bedding", "Bath", "Fitness", "Sports",
    "Apparel", "Accessories", "Luggage", "Photography", "Lighting", "Storage", "Cleaning", "Pets",
    "Toys", "Baby", "Automotive", "Cycling", "Crafts",
)  # fmt: skip
FILLER = (
    "designed", "for", "everyday", "use", "with", "a", "durable", "finish", "and", "simple", "care",
    "easy", "to", "clean", "fits", "most", "spaces", "comfortable", "grip", "reliable", "performance",
    "in", "the", "home", "office", "or", "on", "road", "includes", "carry", "case", "soft", "touch",
    "surface", "built", "last", "thoughtful", "details", "balanced", "weight", "generous", "capacity",
    "low", "noise", "energy", "efficient", "quick", "setup", "no", "tools", "required", "available",
    "several", "colours", "sizes", "great", "gift", "perfect", "small", "apartments", "families",
    "beginners", "experts", "alike", "tested", "by", "our", "team", "recycled", "packaging", "ships",
    "flat", "assembled", "minutes", "stable", "base", "non-slip", "feet", "rounded", "edges", "safe",
    "children", "pets", "dishwasher", "machine", "washable", "cover", "replaceable", "parts", "spare",
    "battery", "hours", "of", "runtime", "usb-c", "charging", "cable", "storage", "pouch", "hanging",
    "loop", "magnetic", "closure", "reinforced", "stitching", "breathable", "fabric", "matte", "gloss",
)  # fmt: skip
CONSONANTS = "bcdfghjklmnprsz"  # no q, t, v, w, y: pseudo-words never spell a planted term or "tv"
VOWELS = "aeiou"


@dataclass(frozen=True)
class Term:
    kind: str
    text: str


@dataclass
class Timing:
    term: Term
    matched: int
    ms: list[float]
    errors: int = 0


def pseudo_word(rng: random.Random) -> str:
    syllables = rng.randint(2, 3)
    return "".join(
        rng.choice(CONSONANTS) + rng.choice(VOWELS) + (rng.choice(CONSONANTS) if rng.random() < 0.3 else "")
        for _ in range(syllables)
    )


def sku_width(rows: int) -> int:
    return max(6, len(str(rows - 1)))


def generate_products(rows: int, seed: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    brands = [pseudo_word(rng).capitalize() for _ in range(2000)]
    brand_weights = [1 / (rank + 1) for rank in range(len(brands))]
    category_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(CATEGORIES))]
    # Cumulative once: choices() with plain weights sums them on every call (2,000 brands, a million rows).
    brand_cumulative = list(itertools.accumulate(brand_weights))
    category_cumulative = list(itertools.accumulate(category_weights))
    codes = {category: category.replace(" ", "")[:3].upper() for category in CATEGORIES}
    deleted = set(rng.sample(range(rows), round(rows * DELETED_FRACTION)))
    live = [index for index in range(rows) if index not in deleted]
    rare = set(rng.sample(live, RARE_ROWS)) | set(rng.sample(sorted(deleted), min(2, len(deleted))))
    now = datetime.now(UTC)
    width = sku_width(rows)

    records: list[tuple[Any, ...]] = []
    for index in range(rows):
        brand = rng.choices(brands, cum_weights=brand_cumulative)[0]
        material = "titanium" if rng.random() < 0.01 else rng.choice(MATERIALS)
        noun = rng.choice(NOUNS)
        category = rng.choices(CATEGORIES, cum_weights=category_cumulative)[0]
        name = f"{brand} {rng.choice(ADJECTIVES).capitalize()} {material.capitalize()} {noun.title()}"
        name += f" {rng.choice(CONSONANTS).upper()}-{rng.randint(100, 999)}"
        sentences = [f"{rng.choice(ADJECTIVES).capitalize()} {noun} made from {material}."]
        for _ in range(rng.randint(1, 3)):
            words = rng.choices(FILLER, k=rng.randint(6, 16)) + [pseudo_word(rng) for _ in range(rng.randint(0, 2))]
            rng.shuffle(words)
            sentences.append(" ".join(words).capitalize() + ".")
        if rng.random() < 0.30:
            sentences.append(f"Backed by a {rng.choice(('one', 'two', 'three'))}-year warranty.")
        if index in rare:
            sentences.append("Quokka edition.")
        description = " ".join(sentences) if rng.random() > 0.02 else None
        created = now - timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
        records.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                name[:200],
                description,
                rng.randint(99, 500_000),
                rng.randint(0, 1000),
                category,
                f"{codes[category]}-{index:0{width}d}",
                created,
                created,
                now if index in deleted else None,
            )
        )
    return records


def term_mix(records: Sequence[tuple[Any, ...]], seed: int) -> list[Term]:
    """The terms, by kind; SKUs are those of live products, lower-cased as a user might type them."""
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible test data, not cryptography
    live = [record for record in records if record[-1] is None]
    skus = [str(rng.choice(live)[6]).lower() for _ in range(3)]
    code = skus[0].split("-")[0]
    return [
        Term("rare", "quokka"),
        Term("rare", "quokka edition"),
        Term("common", "warranty"),
        Term("common", "designed"),
        Term("common", "kettle"),
        Term("medium", "titanium"),
        Term("two-letter", "tv"),
        Term("two-letter", "ke"),
        Term("two-letter", "la"),
        *(Term("sku", sku) for sku in skus),
        Term("sku", skus[0][: len(code) + 4]),
        Term("multi-word", "titanium kettle"),
        Term("multi-word", "steel lamp"),
        Term("multi-word", "warranty quokka"),
        Term("multi-word", "wireless oak desk"),
        Term("no-match", "zeppelin"),
        Term("no-match", "qx"),
        Term("no-match", "kettle zeppelin"),
    ]


KINDS = ("rare", "common", "medium", "two-letter", "sku", "multi-word", "no-match")


# ------------------------------------------------------------------------------------------------
# Loading.


def server_url(server: str, database: str) -> URL:
    return make_url(server).set(drivername="postgresql", database=database)


def asyncpg_dsn(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(server_url(server, "postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def load_postgres(dsn: str, records: list[tuple[Any, ...]]) -> None:
    """COPY with migration 0006's search indexes dropped, then re-created (one build beats a million inserts)."""
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        for name in MIGRATION.POSTGRES_INDEXES:
            await conn.execute(f"DROP INDEX {quote_ident(name)}")
        await conn.copy_records_to_table("products", records=records, columns=list(COLUMNS))
        log(f"copied in {time.perf_counter() - started:.1f}s")
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for name, definition in MIGRATION.POSTGRES_INDEXES.items():
            await conn.execute(f"CREATE INDEX {name} ON products {definition} WHERE deleted_at IS NULL")
        await conn.execute("VACUUM ANALYZE products")
        log(f"loaded, indexed and analyzed in {time.perf_counter() - started:.1f}s")
    finally:
        await conn.close()


def sqlite_value(value: Any) -> Any:
    # SQLAlchemy's Uuid on SQLite: 32 hex digits; UtcDateTime: naive UTC, microseconds always written.
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def load_sqlite(path: Path, records: list[tuple[Any, ...]]) -> None:
    """One transaction: the rows with the search trigger off, then products_search and its FTS5 tables in bulk."""
    started = time.perf_counter()
    conn = sqlite3.connect(path, factory=FoldingConnection, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        (trigger,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'products_search_inserted'").fetchone()
        conn.execute("BEGIN")
        conn.execute("DROP TRIGGER products_search_inserted")
        placeholders = ", ".join("?" for _ in COLUMNS)
        conn.executemany(
            f"INSERT INTO products ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            ([sqlite_value(value) for value in record] for record in records),
        )
        conn.execute(trigger)
        log(f"inserted in {time.perf_counter() - started:.1f}s")
        conn.execute("DROP TRIGGER products_search_indexed")  # the FTS5 tables are rebuilt whole below
        conn.execute(
            f"INSERT INTO products_search ({MIGRATION.SEARCH_COLUMNS})"  # noqa: S608
            f" SELECT {MIGRATION.SEARCH_VALUES.format(row='products')} FROM products WHERE deleted_at IS NULL"
        )
        conn.execute("INSERT INTO products_search_trigrams (products_search_trigrams) VALUES ('rebuild')")
        conn.execute("INSERT INTO products_search_words (products_search_words) VALUES ('rebuild')")
        indexed = next(s for s in MIGRATION.SQLITE_SCHEMA if "products_search_indexed" in s)
        conn.execute(indexed)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        log(f"loaded and indexed in {time.perf_counter() - started:.1f}s")
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------
# Measurements.


async def answer_page_one(db: Any, text: str) -> int:
    """What impl/services/products.py does for page 1 on a cache miss: the capped count, then the page."""
    counted = await search.count_matches(db, query=text, cap=TOTAL_CAP)
    if counted:
        await search.search(db, query=text, limit=PAGE_SIZE)
    return counted


async def measure(url: str, terms: Sequence[Term], runs: int) -> list[Timing]:
    db = Db(url)
    await db.connect()
    try:
        timings = []
        for term in terms:
            timing = Timing(term, -1, [])
            for run in range(runs + 1):  # the first: a warm-up, and the match count
                started = time.perf_counter()
                try:
                    matched = await answer_page_one(db.database, term.text)
                except Exception as error:  # a failed search is counted and shown; the rest still runs
                    log(f"{term.text!r}: {type(error).__name__}: {error}")
                    timing.errors += 1
                    continue
                if run == 0:
                    timing.matched = matched
                else:
                    timing.ms.append((time.perf_counter() - started) * 1000)
            timings.append(timing)
        return timings
    finally:
        await db.disconnect()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def print_results(label: str, rows: int, timings: Sequence[Timing]) -> None:
    print(f"\n{label}: {rows:,} products, page 1 of {PAGE_SIZE} with its count capped at {TOTAL_CAP:,}")
    print(
        f"{'kind':<11} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
        f"  terms (matches, capped at {TOTAL_CAP + 1:,})"
    )
    for kind in KINDS:
        group = [t for t in timings if t.term.kind == kind]
        if not group:
            continue
        ms = [value for t in group for value in t.ms] or [float("nan")]
        errors = sum(t.errors for t in group)
        terms = ", ".join(f"{t.term.text!r} ({t.matched:,})" for t in group)
        print(f"{kind:<11} {percentile(ms, 0.5):8.2f} {percentile(ms, 0.99):8.2f} {max(ms):8.2f} {errors:6}  {terms}")
    every = [value for t in timings for value in t.ms] or [float("nan")]
    errors = sum(t.errors for t in timings)
    print(f"{'all':<11} {percentile(every, 0.5):8.2f} {percentile(every, 0.99):8.2f} {max(every):8.2f} {errors:6}")


async def explain(dsn: str, text: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the count and of each tier's page statement that page 1 runs."""
    backend: Any = __import__("databases").Database("postgresql+asyncpg://bench@localhost/bench")._backend
    compiler = PostgresConnection(backend, backend._dialect)
    reader = search.PostgresTiers(backend, search.Terms.parse(text))
    conn = await asyncpg.connect(dsn)
    try:
        statements = [("count", reader.matched_query().limit(TOTAL_CAP + 1))]
        statements += [(f"tier {tier}", reader.keys_query(tier, None, PAGE_SIZE, 0)) for tier in reader.tiers() if tier]
        for label, query in statements:
            sql, args, _ = compiler._compile(query)
            lines = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
            print(f"\n=== {text!r} · {label} ===")
            print("\n".join(line[0] for line in lines))
    finally:
        await conn.close()


async def bench_postgres(args: argparse.Namespace, records: list[tuple[Any, ...]], terms: list[Term]) -> None:
    name = f"catalog_bench_{secrets.token_hex(4)}"
    url = server_url(args.server, name)
    await admin(args.server, f"CREATE DATABASE {quote_ident(name)}")
    log(f"created database {name}")
    try:
        app_url = url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, app_url)
        await load_postgres(asyncpg_dsn(url), records)
        timings = await measure(app_url, terms, args.runs)
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            version = await conn.fetchval("SHOW server_version")
            sizes = await conn.fetch(
                "SELECT relname, pg_size_pretty(pg_relation_size(oid)) AS size FROM pg_class"
                " WHERE relname = 'products' OR relname LIKE 'ix\\_products\\_search\\_%' ORDER BY relname"
            )
        finally:
            await conn.close()
        print_results(f"PostgreSQL {version}", args.rows, timings)
        print("sizes: " + ", ".join(f"{row['relname']} {row['size']}" for row in sizes))
        if args.explain:
            for text in ("quokka", "warranty"):
                await explain(asyncpg_dsn(url), text)
    finally:
        await admin(args.server, f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
        log(f"dropped database {name}")


async def bench_sqlite(args: argparse.Namespace, records: list[tuple[Any, ...]], terms: list[Term]) -> None:
    with tempfile.TemporaryDirectory(prefix="catalog_bench_") as directory:
        path = Path(directory) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(upgrade, url)
        await asyncio.to_thread(load_sqlite, path, records)
        timings = await measure(url, terms, args.runs)
        print_results(f"SQLite {sqlite3.sqlite_version}", args.rows, timings)
        print(f"size: {path.stat().st_size / 2**20:,.0f} MiB (the whole database file)")


# ------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench search", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--rows", type=int, default=100_000, help="products to load (default 100000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per term (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="data generator seed (default 1)")
    parser.add_argument(
        "--database", choices=("both", "postgres", "sqlite"), default="both", help="which to measure (default both)"
    )
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL's EXPLAIN (ANALYZE, BUFFERS)")
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help=f"PostgreSQL server, no database (default {DEFAULT_SERVER})"
    )
    args = parser.parse_args(argv)
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


async def bench(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    records = generate_products(args.rows, args.seed)
    log(f"generated {args.rows:,} products in {time.perf_counter() - started:.1f}s")
    terms = term_mix(records, args.seed)
    if args.database in ("both", "postgres"):
        await bench_postgres(args, records, terms)
    if args.database in ("both", "sqlite"):
        await bench_sqlite(args, records, terms)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    asyncio.run(bench(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
