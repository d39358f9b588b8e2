"""Do the pg_trgm indexes serve product search? A benchmark on a throwaway PostgreSQL database.

    scripts/bench search [--rows N] [--runs N] [--seed N] [--explain] [--server URL]

Creates `catalog_bench_<random>` on the server, runs the app's migrations, loads N generated
products (a few percent soft-deleted), VACUUM ANALYZE, then for a handful of search terms times
the two statements the search endpoint sends for page 1 (the page and its COUNT(*)): with the
`ix_products_trgm_*` indexes, with them and a forced generic plan, and with them dropped (they
are re-created afterwards). The database is dropped at the end, also on error or interrupt.

The SQL is the app's own: `impl.db.products` builds it and `databases` compiles it, so the text
and the bound parameters are exactly what the API sends through asyncpg. asyncpg prepares each
statement, so PostgreSQL plans the first five executions for their parameters and may then
switch to a generic plan; each statement is therefore warmed up five times on a fresh connection
before it is timed, and the plan shown is the one the sixth execution uses (marked [g] when it is
the generic plan).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import asyncpg
from databases import Database
from databases.backends.postgres import PostgresConnection
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.sql import Select

from impl.db.database import POSTGRES_SERVER_SETTINGS
from impl.db.folding import fold
from impl.db.migrate import upgrade
from impl.db.products import LIVE, search_selection
from impl.db.tables import products

DEFAULT_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432")
TRGM_PREFIX = "ix_products_trgm_"
PAGE_SIZE = 10  # the search endpoint's default page_size
CUSTOM_PLAN_RUNS = 5  # PostgreSQL plans a prepared statement's first five executions for their parameters
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
class Query:
    label: str
    term: str


@dataclass(frozen=True)
class Statement:
    label: str
    sql: str
    args: list[Any]


@dataclass(frozen=True)
class Result:
    query: Query
    statement: str
    phase: str  # INDEX, NO_INDEX or GENERIC
    matched: int
    plan: str  # the plan PostgreSQL settles on, see describe()
    median_ms: float
    explain: str


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
    codes = {category: category.replace(" ", "")[:3].upper() for category in CATEGORIES}
    deleted = set(rng.sample(range(rows), round(rows * DELETED_FRACTION)))
    live = [index for index in range(rows) if index not in deleted]
    rare = set(rng.sample(live, RARE_ROWS)) | set(rng.sample(sorted(deleted), min(2, len(deleted))))
    now = datetime.now(UTC)
    width = sku_width(rows)

    records: list[tuple[Any, ...]] = []
    for index in range(rows):
        brand = rng.choices(brands, brand_weights)[0]
        material = "titanium" if rng.random() < 0.01 else rng.choice(MATERIALS)
        noun = rng.choice(NOUNS)
        category = rng.choices(CATEGORIES, category_weights)[0]
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


def benchmark_queries(rows: int) -> list[Query]:
    width = sku_width(rows)
    digits = f"{round(rows * 0.4217):0{width}d}"[: width - 2]
    return [
        Query("rare", "quokka"),
        Query("medium", "titanium"),
        Query("common", "warranty"),
        Query("sku", digits),
        Query("short", "tv"),
    ]


# ------------------------------------------------------------------------------------------------
# The app's statements, compiled the way `databases` compiles them for asyncpg.


def app_statements(term: str) -> list[Statement]:
    clauses: list[ColumnElement[bool]] = list(search_selection(term).clauses)
    page: Select[Any] = (
        select(products).where(LIVE, *clauses).order_by(fold(products.c.name), products.c.id).limit(PAGE_SIZE).offset(0)
    )
    count: Select[Any] = select(func.count()).select_from(products).where(LIVE, *clauses)
    backend: Any = Database("postgresql+asyncpg://bench@localhost/bench")._backend
    compiler = PostgresConnection(backend, backend._dialect)
    statements = []
    for label, query in (("page", page), ("count", count)):
        sql, args, _ = compiler._compile(query)
        statements.append(Statement(label, sql, list(args)))
    return statements


def sql_literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"no literal for {value!r}")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"  # standard_conforming_strings is checked on


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def summarize(plan: dict[str, Any]) -> str:
    """The scans on products: e.g. 'Bitmap Index Scan ix_products_trgm_* ×4' or 'Seq Scan'."""
    parts: list[str] = []
    nodes = list(walk(plan["Plan"]))
    bitmap = [node["Index Name"] for node in nodes if node["Node Type"] == "Bitmap Index Scan"]
    trgm = [name for name in bitmap if name.startswith(TRGM_PREFIX)]
    if trgm:
        parts.append(f"Bitmap Index Scan {TRGM_PREFIX}* ×{len(trgm)}")
    parts += [f"Bitmap Index Scan {name}" for name in bitmap if not name.startswith(TRGM_PREFIX)]
    for node in nodes:
        kind = node["Node Type"]
        parallel = "Parallel " if node.get("Parallel Aware") else ""
        if kind in ("Index Scan", "Index Only Scan"):
            parts.append(f"{parallel}{kind} {node['Index Name']}")
        elif kind == "Seq Scan":
            parts.append(f"{parallel}Seq Scan")
    return " + ".join(parts)


def is_generic(plan: dict[str, Any]) -> bool:
    """A generic plan shows the parameters ($1, ...) where a custom plan shows their values."""
    return "$1" in json.dumps(plan["Plan"])


def describe(custom: str, steady: str, generic: bool) -> str:
    if not generic:
        return steady
    return f"{steady} [g]" if steady == custom else f"{custom} → {steady} [g]"


# ------------------------------------------------------------------------------------------------
# Database lifecycle.


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


async def load(dsn: str, rows: int, seed: int) -> list[str]:
    """Bulk-load the products; returns the trigram indexes' definitions (built after the load)."""
    conn = await asyncpg.connect(dsn)
    try:
        indexdefs: list[str] = [
            row["def"]
            for row in await conn.fetch(
                "SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index"
                " JOIN pg_class ON pg_class.oid = indexrelid WHERE relname LIKE $1 ORDER BY relname",
                TRGM_PREFIX.replace("_", "\\_") + "%",
            )
        ]
        if len(indexdefs) != 4:
            raise RuntimeError(f"expected 4 {TRGM_PREFIX}* indexes after the migrations, found {len(indexdefs)}")
        started = time.perf_counter()
        records = generate_products(rows, seed)
        log(f"generated {rows:,} products in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        await drop_trgm_indexes(conn)  # a GIN index builds faster in one go than row by row
        await conn.copy_records_to_table(
            "products",
            records=records,
            columns=[
                "id", "name", "description", "price_cents", "stock", "category", "sku",
                "created_at", "updated_at", "deleted_at",
            ],
        )  # fmt: skip
        for indexdef in indexdefs:
            await conn.execute(indexdef)
        await conn.execute("VACUUM ANALYZE products")
        log(f"loaded, indexed and analyzed in {time.perf_counter() - started:.1f}s")
        return indexdefs
    finally:
        await conn.close()


async def drop_trgm_indexes(conn: asyncpg.Connection) -> None:
    for row in await conn.fetch(
        "SELECT relname FROM pg_class WHERE relkind = 'i' AND relname LIKE $1", TRGM_PREFIX.replace("_", "\\_") + "%"
    ):
        await conn.execute(f"DROP INDEX {quote_ident(row['relname'])}")


# ------------------------------------------------------------------------------------------------
# Measurements.


async def steady_plan(conn: asyncpg.Connection, statement: Statement, text: bool) -> tuple[str, str]:
    """The plan of the sixth execution of the prepared statement (what asyncpg's cache then runs).

    Returns its summary (see describe()) and, when asked, its EXPLAIN (ANALYZE, BUFFERS) text.
    """
    await conn.execute(f"PREPARE bench_stmt AS {statement.sql}")
    call = f"EXECUTE bench_stmt({', '.join(sql_literal(arg) for arg in statement.args)})"
    try:
        plans = []
        for _ in range(CUSTOM_PLAN_RUNS + 1):
            plans.append(json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {call}"))[0])
        explain = ""
        if text:
            lines = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {call}")
            explain = "\n".join(line[0] for line in lines)
        return describe(summarize(plans[0]), summarize(plans[-1]), is_generic(plans[-1])), explain
    finally:
        await conn.execute("DEALLOCATE bench_stmt")


async def time_statement(conn: asyncpg.Connection, statement: Statement, runs: int) -> float:
    """Median milliseconds of `runs` executions through asyncpg's statement cache, after the warm-up."""
    for _ in range(CUSTOM_PLAN_RUNS):
        await conn.fetch(statement.sql, *statement.args)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await conn.fetch(statement.sql, *statement.args)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def measure(dsn: str, queries: Sequence[Query], phase: str, runs: int, explain: bool) -> list[Result]:
    # GENERIC: what a pooled connection runs once its plan cache has settled on the generic plan, for any term.
    # Otherwise: the server settings the app's own connections use.
    settings = {"plan_cache_mode": "force_generic_plan"} if phase == GENERIC else dict(POSTGRES_SERVER_SETTINGS)
    results = []
    for query in queries:
        statements = app_statements(query.term)
        count = next(statement for statement in statements if statement.label == "count")
        matched = -1
        for statement in statements:
            conn = await asyncpg.connect(dsn, server_settings=settings)  # a fresh connection: its own plan cache
            try:
                if matched < 0:
                    matched = int(await conn.fetchval(count.sql, *count.args))
                median_ms = await time_statement(conn, statement, runs)
                plan, text = await steady_plan(conn, statement, explain)
            finally:
                await conn.close()
            results.append(Result(query, statement.label, phase, matched, plan, median_ms, text))
    return results


async def bench(dsn: str, rows: int, seed: int, runs: int, explain: bool) -> None:
    indexdefs = await load(dsn, rows, seed)
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SHOW standard_conforming_strings") != "on":
            raise RuntimeError("standard_conforming_strings must be on")
        version = await conn.fetchval("SHOW server_version")
        live = await conn.fetchval("SELECT count(*) FROM products WHERE deleted_at IS NULL")
        sizes = await conn.fetch(
            "SELECT relname, pg_size_pretty(pg_relation_size(oid)) AS size FROM pg_class"
            " WHERE relname = 'products' OR relname LIKE 'ix\\_products\\_trgm\\_%' ORDER BY relname"
        )
    finally:
        await conn.close()

    queries = benchmark_queries(rows)
    started = time.perf_counter()
    results = await measure(dsn, queries, INDEX, runs, explain)
    results += await measure(dsn, queries, GENERIC, runs, explain)
    conn = await asyncpg.connect(dsn)
    try:
        await drop_trgm_indexes(conn)
        results += await measure(dsn, queries, NO_INDEX, runs, explain)
        for indexdef in indexdefs:
            await conn.execute(indexdef)
        await conn.execute("ANALYZE products")
    finally:
        await conn.close()
    log(f"measured in {time.perf_counter() - started:.1f}s")

    print(
        f"\nProduct search on PostgreSQL {version}: {rows:,} products ({live:,} live), "
        f"median of {runs} runs after {CUSTOM_PLAN_RUNS} warm-up runs, page_size {PAGE_SIZE}"
    )
    print("sizes: " + ", ".join(f"{row['relname']} {row['size']}" for row in sizes))
    print_table(results)
    if explain:
        for result in results:
            print(f"\n=== {result.query.label} {result.query.term!r} · {result.statement} · {result.phase} ===")
            print(result.explain)


def print_table(results: Sequence[Result]) -> None:
    by_key = {(r.query.label, r.statement, r.phase): r for r in results}
    rows: list[tuple[str, ...]] = []
    generic_rows: list[tuple[str, ...]] = []
    for result in results:
        if result.phase != INDEX:
            continue
        key = (result.query.label, result.query.term, result.statement, f"{result.matched:,}")
        without = by_key[(result.query.label, result.statement, NO_INDEX)]
        generic = by_key[(result.query.label, result.statement, GENERIC)]
        rows.append(
            (
                *key,
                result.plan,
                without.plan,
                f"{result.median_ms:.2f}",
                f"{without.median_ms:.2f}",
                f"{without.median_ms / result.median_ms:.1f}",
            )
        )
        generic_rows.append(
            (*key, generic.plan, f"{generic.median_ms:.2f}", f"{generic.median_ms / result.median_ms:.1f}")
        )
    key_header = ("query", "term", "stmt", "matched")
    print_rows(
        (*key_header, "plan with trgm indexes", "plan without", "ms idx", "ms no idx", "no idx/idx"),
        rows,
        numeric={3, 6, 7, 8},
    )
    print("[g]: from the 6th execution on, PostgreSQL runs the cached generic plan (A → B: first plan → generic plan)")
    print("\nWith the trgm indexes and plan_cache_mode = force_generic_plan (a connection whose cache went generic):")
    print_rows((*key_header, "generic plan", "ms generic", "generic/idx"), generic_rows, numeric={3, 5, 6})


def print_rows(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], numeric: set[int]) -> None:
    table = [header, *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    for number, row in enumerate(table):
        cells = [
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


# ------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench search", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--rows", type=int, default=100_000, help="products to load (default 100000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per statement (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="data generator seed (default 1)")
    parser.add_argument("--explain", action="store_true", help="print every EXPLAIN (ANALYZE, BUFFERS)")
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


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    name = f"catalog_bench_{secrets.token_hex(4)}"
    url = server_url(args.server, name)
    asyncio.run(admin(args.server, f"CREATE DATABASE {quote_ident(name)}"))
    log(f"created database {name}")
    try:
        upgrade(url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False))
        asyncio.run(bench(asyncpg_dsn(url), args.rows, args.seed, args.runs, args.explain))
    finally:
        asyncio.run(admin(args.server, f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)"))
        log(f"dropped database {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
