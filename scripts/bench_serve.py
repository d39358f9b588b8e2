"""Serving speed of catalog-api, as production runs it, against a FastAPI hello world on the same core.

For each configuration, `embedded` (a SQLite file in a temporary data directory, the in-process
cache) and `postgres` (a throwaway database on --postgres-url, dropped at the end, and Redis at
--redis-url under a key prefix of its own), the benchmark:

1. loads N generated products (names from word lists, ~50 categories, prices with cents, stock
   0-500, unique SKUs, created over the past year) through the app's own migrations and one bulk
   insert (sqlite3 executemany in one transaction; asyncpg COPY then VACUUM ANALYZE);
2. runs `python -m impl.db.migrate`, then starts uvicorn as production does (and waits until the API
   is idle: it loads its smart search index in the background at start-up): ENVIRONMENT=production,
   a random 48-byte SECRET_KEY, the default BCRYPT_ROUNDS, an admin from ADMIN_*, one worker,
   --proxy-headers --no-server-header, pinned to core 0, with the access log off (ACCESS_LOG=false
   and uvicorn's --no-access-log: the benchmark measures serving, not logging; --access-log turns
   both on) and no tracing (the caller's OTEL_* variables are not passed on; --otlp-endpoint turns
   it on); its other log lines go to a log file. A minimal FastAPI hello world
   (scripts/bench_hello.py) is served the same way;
3. checks through HTTP that the loaded rows read back correctly (a product, a list page, a search);
4. drives each scenario with wrk (-t1, pinned to core 1; cached and static scenarios after --warmup
   seconds of the same load) and lua scripts that randomize paths and count statuses and X-Cache:
   hello, cached_detail, signed_in_cached_detail (the same read with a user's token: it records a
   view), cached_detail_json_log (the same read from a second API server with LOG_FORMAT=json and
   the access log on, whatever --access-log says), cached_list, uncached_list (random category,
   page 1-50: 2,500 pages, so repeats hit the cache; the table shows how many), auth_me,
   reads_under_logins (cached_detail while 8 logins run at once; 429/503 answers to logins are
   refused logins, not errors), create_product; then the
   catalogue at size (scripts/bench_catalog.py's docstring says what each requests): search_mix (six
   kinds of term interleaved, each request a different one) and search_rare, search_common,
   search_two_letter, search_sku, search_multi_word, search_no_match (each kind alone, half as
   long), list_sorted (a random category, page 1-50, one of five sorts), cursor_deep (cursor pages
   about 5,000 pages of 20 deep, reached by walking next_cursor), smart_search (varied queries);
   uncached_search (random 3-5 letters of a product name); and last the export of the catalogue and
   the import of --import-rows new products (rows/s, the worker's RSS before and at its peak):
   idle_reads (cached_detail's request paced, 4 connections 5 ms apart: a shop's reads, not a
   saturating load that would take the core from the import) and import_reads (the same while
   the import runs; its p99 against idle_reads').
   The uncached scenarios run at 16 connections, the budget's condition.

It prints one table (req/s, p50, p99, errors = non-2xx answers and socket errors, req/s relative
to the hello world of the same configuration, the worker's peak RSS over the scenario), the cursor
walk, the export and the import, the API worker's peak RSS over the run, and writes results.json
and chart.png to --out. It exits 1 when a server fails to start, the loaded data does not read
back, or any scenario had errors; 2 when wrk is missing. --smoke: 300 products, 1 s per scenario,
8 connections, no warm-up, both configurations: a quick check that every scenario works.
--scenarios runs only the ones named (and the hello world, which every ratio needs).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import math
import os
import pwd
import random
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, Protocol

import asyncpg
import redis
from sqlalchemy.engine import URL, make_url

from impl.db.folding import FoldingConnection
from impl.db.migrate import upgrade
from impl.db.tables import products as products_table
from impl.embeddings import MODEL_NAME, load_embedder, product_text, text_sha256, to_bytes
from impl.settings import Settings
from scripts import bench_catalog as catalog

ROOT = Path(__file__).resolve().parent.parent
RESERVED_PORTS = {8000, 18080, 18081}  # scripts/serve's default and other tools' benchmarks
CONFIGS = ("embedded", "postgres")
# Issue 17's catalogue at size (scripts/bench_catalog.py). idle_reads: cached_detail's request paced (4
# connections, 5 ms between requests); import_reads: the same while an import runs.
SEARCH_KIND_SCENARIOS = tuple(f"search_{kind}" for kind in catalog.SEARCH_KINDS)
CATALOG_SCENARIOS = (
    "search_mix", *SEARCH_KIND_SCENARIOS, "list_sorted", "cursor_deep", "smart_search", "idle_reads", "import_reads",
)  # fmt: skip
SCENARIOS = (
    "hello",
    "cached_detail",
    "signed_in_cached_detail",
    "cached_detail_json_log",
    "cached_list",
    "uncached_list",
    "uncached_search",
    "auth_me",
    "reads_under_logins",
    "create_product",
    *CATALOG_SCENARIOS,
)
WRK_MISSING = "wrk not found: install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"
ADMIN_USERNAME = "benchadmin"
ADMIN_EMAIL = "benchadmin@example.com"
PAGE_SIZE = 20
LIST_PAGES = 50
# The budget for uncached reads is stated at 16 connections (it caps the smoke's 8 too).
UNCACHED_CONNECTIONS = 16
# The import's default size: at a few thousand rows/s, a million would take longer than the rest of the run.
IMPORT_ROWS = 100_000
SEARCH_TERMS = 3000
LOGIN_TIMEOUT_S = 30
REFUSED_LOGIN_STATUSES = (429, 503)  # hashing saturated: the server sheds the login; not an error
NOISE_PCT = 20  # other processes' CPU (% of one core) during a scenario that makes its numbers suspect
LOGIN_LEAD_S = 1  # logins run this long before the reads start, and stop about as long after
# The API loads its smart search index in the background at start-up (SMART_SEARCH_PRELOAD): minutes at
# 1,000,000 products on PostgreSQL. Scenarios measured meanwhile measured the load (at 1M, cached_detail
# once read 0.67x hello world, its Redis calls timing out while the loop was busy): wait for it first.
START_UP_IDLE_S = 900
COLUMNS = (
    "id", "name", "description", "price_cents", "stock", "category", "sku", "created_at", "updated_at", "deleted_at",
)  # fmt: skip
# Smart search's vector of each product, computed by the loaders as the API computes it on a create, so the
# server loads a current index at start-up (SMART_SEARCH_PRELOAD) instead of embedding the catalogue meanwhile.
VECTOR_COLUMNS = ("embedding", "embedding_model", "embedding_text_sha256")
VECTOR_BATCH = 2_000

# ------------------------------------------------------------------------------------------------
# The catalogue.

BRANDS = (
    "Alder & Finch", "Brightwell", "Calder", "Dunmore", "Eastbrook", "Fenwick", "Greyhaven", "Hollis", "Ironvale",
    "Juniper Row", "Kestrel", "Larchmont", "Marlow", "Northfield", "Oakhurst", "Pinecrest", "Quarry Lane", "Redfern",
    "Stonebridge", "Tidewater", "Umber", "Vantage", "Westcott", "Yarrow", "Zephyr", "Ashby", "Bramble", "Copperleaf",
)  # fmt: skip
ADJECTIVES = (
    "compact", "deluxe", "ergonomic", "portable", "classic", "modern", "rugged", "smart", "wireless", "vintage",
    "premium", "lightweight", "heavy-duty", "foldable", "adjustable", "slim", "essential", "stackable", "insulated",
    "cordless", "rechargeable", "waterproof", "handmade", "organic", "quiet", "minimalist", "rustic", "sleek",
    "durable", "oversized", "mini", "everyday", "professional", "travel", "outdoor", "indoor", "soft", "sturdy",
)  # fmt: skip
MATERIALS = (
    "steel", "oak", "bamboo", "aluminium", "glass", "cotton", "leather", "ceramic", "walnut", "linen", "wool",
    "copper", "marble", "canvas", "silicone", "cork", "brass", "stoneware", "maple", "nylon",
)  # fmt: skip
NOUNS = (
    "kettle", "lamp", "backpack", "chair", "desk", "blender", "toaster", "headphones", "speaker", "mug", "skillet",
    "knife set", "cutting board", "tent", "sleeping bag", "water bottle", "notebook", "pen", "keyboard", "mouse",
    "monitor stand", "router", "drill", "hammer", "ladder", "planter", "hose", "rake", "pillow", "blanket", "towel",
    "rug", "mirror", "clock", "shelf", "bike lock", "helmet", "yoga mat", "dumbbell", "jacket", "scarf", "wallet",
    "umbrella", "suitcase", "camera bag", "tripod", "teapot", "bowl", "vase", "stool",
)  # fmt: skip
CATEGORIES = (
    "Kitchen", "Dining", "Home Decor", "Furniture", "Lighting", "Bedding", "Bath", "Storage", "Cleaning", "Laundry",
    "Electronics", "Computers", "Phones", "Audio", "Cameras", "Gaming", "Smart Home", "Office", "Stationery", "Books",
    "Outdoor", "Camping", "Garden", "Patio", "Tools", "Hardware", "Automotive", "Cycling", "Fitness", "Sports",
    "Running", "Swimming", "Apparel", "Shoes", "Accessories", "Jewelry", "Watches", "Luggage", "Beauty",
    "Personal Care", "Health", "Baby", "Toys", "Games", "Pets", "Crafts", "Music", "Party", "Grocery", "Gifts",
)  # fmt: skip
PHRASES = (
    "built for everyday use", "easy to clean and store", "a favourite of our customers", "made to last for years",
    "designed with small spaces in mind", "with a two-year warranty", "finished by hand", "light enough to carry",
    "tested by our team", "shipped in recycled packaging", "perfect as a gift", "comfortable to hold",
    "quiet in use", "safe around children and pets", "ready in minutes with no tools", "in several colours",
)  # fmt: skip
CODES = {category: "".join(ch for ch in category.upper() if ch.isalpha())[:4] for category in CATEGORIES}
LOW_CENTS, HIGH_CENTS = 99, 299_999  # 0.99 to 2,999.99
ZERO_STOCK = 0.08
YEAR_US = 365 * 86_400 * 1_000_000


class Product(NamedTuple):
    id: uuid.UUID
    name: str
    description: str
    price_cents: int
    stock: int
    category: str
    sku: str
    created_at: datetime  # aware, UTC


def generate(count: int, seed: int, now: datetime) -> Iterator[Product]:
    """The same `count` products for the same seed and `now`, one at a time."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    choice, randrange, uniform = rng.choice, rng.randrange, rng.uniform
    low, high = math.log(LOW_CENTS), math.log(HIGH_CENTS + 1)
    width = max(6, len(str(count - 1)))
    for index in range(count):
        adjective, material, noun = choice(ADJECTIVES), choice(MATERIALS), choice(NOUNS)
        category = choice(CATEGORIES)
        cents = min(HIGH_CENTS, int(math.exp(uniform(low, high))))
        if rng.random() < 0.6:  # most prices end in .99
            cents = cents // 100 * 100 + 99
        stock = 0 if rng.random() < ZERO_STOCK else randrange(1, 501)
        yield Product(
            uuid.UUID(int=rng.getrandbits(128), version=4),
            f"{choice(BRANDS)} {adjective.title()} {material.title()} {noun.title()}",
            f"{adjective.capitalize()} {noun} in {material}, {choice(PHRASES)}.",
            cents,
            stock,
            category,
            f"{CODES[category]}-{index:0{width}d}",
            now - timedelta(microseconds=randrange(YEAR_US)),
        )


def search_terms(names: Iterable[str], seed: int, limit: int) -> list[str]:
    """Distinct random 3-5 letter substrings of words in real product names."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    words = [word for name in names for word in name.lower().replace("-", " ").split() if word.isalpha()]
    terms: set[str] = set()
    for _ in range(limit * 4):
        word = rng.choice(words)
        if len(word) < 3:
            continue
        size = rng.randint(3, min(5, len(word)))
        start = rng.randrange(len(word) - size + 1)
        terms.add(word[start : start + size])
        if len(terms) >= limit:
            break
    return sorted(terms)


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, max(1, total)
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.drawn = 0.0
        self.next_tenth = 1

    def update(self, done: int) -> None:
        fraction = min(1.0, done / self.total)
        elapsed = time.perf_counter() - self.started
        if self.tty:
            if elapsed - self.drawn < 0.1 and done < self.total:
                return
            self.drawn = elapsed
            bar = "#" * int(fraction * 30)
            sys.stderr.write(
                f"\r[bench] {self.label} [{bar:.<30}] {fraction:4.0%} {done:,}/{self.total:,} {elapsed:.1f}s"
            )
            sys.stderr.flush()
        elif fraction * 10 >= self.next_tenth:
            self.next_tenth = int(fraction * 10) + 1
            log(f"{self.label}: {fraction:4.0%} {done:,}/{self.total:,} {elapsed:.1f}s")

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def with_progress(items: Iterable[Product], progress: Progress) -> Iterator[Product]:
    done = 0
    for done, item in enumerate(items, 1):
        if done % 2000 == 0:
            progress.update(done)
        yield item
    progress.update(done)
    progress.finish()


def check_columns() -> None:
    actual = tuple(column.name for column in products_table.columns)
    if actual != COLUMNS + VECTOR_COLUMNS:
        raise BenchFailure(f"impl/db/tables.py products columns are now {actual}: update COLUMNS and the loaders")


Vector = tuple[bytes, str, str]  # the VECTOR_COLUMNS of one product


def with_vectors(rows: Iterator[Product]) -> Iterator[tuple[Product, Vector]]:
    """Each product with its smart search vector (embedded in batches, as impl/services/semantic.py does)."""
    embedder = load_embedder()
    batch: list[Product] = []
    for product in _then_none(rows):
        if product is not None:
            batch.append(product)
        if batch and (product is None or len(batch) == VECTOR_BATCH):
            texts = [product_text(p.name, p.category, p.description) for p in batch]
            for p, text, vector in zip(batch, texts, embedder.embed(texts), strict=True):
                yield p, (to_bytes(vector), MODEL_NAME, text_sha256(text))
            batch = []


def _then_none(rows: Iterator[Product]) -> Iterator[Product | None]:
    yield from rows
    yield None


def sqlite_row(product: Product, vector: Vector) -> tuple[Any, ...]:
    # SQLAlchemy's Uuid on SQLite: 32 hex digits; UtcDateTime: naive UTC, microseconds always written.
    stamp = product.created_at.replace(tzinfo=None).isoformat(" ", "microseconds")
    return (
        product.id.hex, product.name, product.description, product.price_cents, product.stock, product.category,
        product.sku, stamp, stamp, None, *vector,
    )  # fmt: skip


def load_sqlite(path: Path, rows: Iterator[Product]) -> float:
    """Insert the rows in one transaction with the secondary indexes dropped; returns the index build time."""
    conn = sqlite3.connect(path, factory=FoldingConnection, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        indexes: list[tuple[str, str]] = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' AND sql IS NOT NULL"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {quote_ident(name)}")
        placeholders = ", ".join("?" for _ in COLUMNS + VECTOR_COLUMNS)
        conn.executemany(
            f"INSERT INTO products ({', '.join(COLUMNS + VECTOR_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            (sqlite_row(product, vector) for product, vector in with_vectors(rows)),
        )
        started = time.perf_counter()
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


async def load_postgres(dsn: str, rows: Iterator[Product]) -> float:
    """COPY the rows with the secondary indexes dropped, re-create them, VACUUM ANALYZE; returns that last time."""
    conn = await asyncpg.connect(dsn)
    try:
        indexes = await conn.fetch(
            "SELECT cls.relname AS name, pg_get_indexdef(idx.indexrelid) AS definition FROM pg_index idx"
            " JOIN pg_class cls ON cls.oid = idx.indexrelid WHERE idx.indrelid = 'products'::regclass"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = idx.indexrelid)"
        )
        for index in indexes:
            await conn.execute(f"DROP INDEX {quote_ident(index['name'])}")
        await conn.copy_records_to_table(
            "products",
            records=((*product, product.created_at, None, *vector) for product, vector in with_vectors(rows)),
            columns=list(COLUMNS + VECTOR_COLUMNS),
        )
        started = time.perf_counter()
        for index in indexes:
            await conn.execute(index["definition"])
        await conn.execute("VACUUM ANALYZE products")
        return time.perf_counter() - started
    finally:
        await conn.close()


# ------------------------------------------------------------------------------------------------
# Processes: servers on one core, wrk on another.


class BenchFailure(Exception):
    """The benchmark cannot go on: a server did not start, data did not read back, a tool failed."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pick_cores() -> tuple[int, int] | None:
    """(server core, wrk core) when taskset exists and this process may use two cores or more."""
    if shutil.which("taskset") is None:
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return (allowed[0], allowed[1]) if len(allowed) >= 2 else None


CORES = pick_cores()


def pinned(role: int) -> list[str]:
    """The taskset prefix for role 0 (servers) or 1 (load generators); nothing when not pinning."""
    return ["taskset", "-c", str(CORES[role])] if CORES else []


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def run(
    command: Sequence[str], *, env: dict[str, str] | None = None, timeout: float | None = None, check: bool = True
) -> str:
    """Run a command to completion (no shell); its output, or BenchFailure with the output's tail."""
    done = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
        list(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0 and check:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise BenchFailure(f"{' '.join(command)} exited {done.returncode}:\n{tail}")
    return done.stdout


def http(
    method: str, url: str, *, body: Any = None, token: str | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], Any]:
    """One request; (status, lower-cased headers, the JSON body or None)."""
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        url, method=method, data=None if body is None else json.dumps(body).encode()
    )
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http://127.0.0.1 only
            status, headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, error.headers, error.read()
    try:
        document = json.loads(payload) if payload else None
    except ValueError:
        document = None
    return status, {key.lower(): value for key, value in headers.items()}, document


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def machine_busy_ticks() -> int:
    """CPU time every core spent busy (not idle, waiting for I/O, or stolen by the hypervisor)."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:9]]
    return sum(values) - values[3] - values[4] - values[7]


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children: the wrk runs that finished
    return usage.ru_utime + usage.ru_stime


def ticks(pid: int | str) -> tuple[str, int]:
    """A process's name and CPU time (utime + stime, in ticks); ("", 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "", 0
    name, _, rest = text.partition(" (")[2].rpartition(") ")
    fields = rest.split()
    return name, int(fields[11]) + int(fields[12])


def database_ticks() -> int:
    """CPU time of every PostgreSQL and Redis process on this machine (the postgres configuration's servers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            name, used = ticks(entry.name)
            if name.startswith(("postgres", "redis-server")):
                total += used
    return total


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    earlier_peak_kib: int = 0  # VmHWM before the last reset_peak_rss

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_ticks(self) -> int:
        return ticks(self.process.pid)[1]

    def watch(self, outcome: Callable[[], WrkRun], also_wrk: Sequence[int] = ()) -> WrkRun:
        """Run `outcome`; note the CPU the server, PostgreSQL and Redis, and everything else but wrk used meanwhile.

        `also_wrk`: the pids of load generators that are still running when `outcome` returns.
        """
        busy, mine, databases, wrk = machine_busy_ticks(), self.cpu_ticks(), database_ticks(), children_cpu_s()
        running = sum(ticks(pid)[1] for pid in also_wrk)
        started = time.monotonic()
        result = outcome()
        wall = max(1e-6, time.monotonic() - started)
        server_s = (self.cpu_ticks() - mine) / TICKS_PER_S
        databases_s = (database_ticks() - databases) / TICKS_PER_S
        wrk_s = children_cpu_s() - wrk + (sum(ticks(pid)[1] for pid in also_wrk) - running) / TICKS_PER_S
        others_s = (machine_busy_ticks() - busy) / TICKS_PER_S - server_s - databases_s - wrk_s
        result.server_cpu_pct = round(100 * server_s / wall, 1)
        result.database_cpu_pct = round(100 * databases_s / wall, 1)
        result.other_cpu_pct = round(max(0.0, 100 * others_s / wall), 1)
        return result

    def peak_rss_kib(self) -> int | None:
        """The highest resident memory since start-up, across every reset_peak_rss."""
        current = self.vm_hwm_kib()
        return max(self.earlier_peak_kib, current) if current is not None else None

    def reset_peak_rss(self) -> None:
        """From now on VmHWM is one scenario's peak (Linux's clear_refs 5); the run's peak is kept aside."""
        self.earlier_peak_kib = max(self.earlier_peak_kib, self.vm_hwm_kib() or 0)
        with suppress(OSError):
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def vm_hwm_kib(self) -> int | None:
        """The peak resident memory since start-up or the last reset_peak_rss."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return None

    def wait_started(self) -> None:
        """Until the work the server does at start-up in the background is over (its CPU idle)."""
        started = time.monotonic()
        self.wait_idle(START_UP_IDLE_S)
        log(f"{self.name}: idle {time.monotonic() - started:.0f} s after answering its first request")

    def wait_idle(self, limit_s: float = 60) -> None:
        """Until the server is idle (work a finished wrk left queued would slow the next scenario)."""
        deadline = time.monotonic() + limit_s
        before = self.cpu_ticks()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.cpu_ticks()
            if now - before <= 2:  # <= ~7% of a core over 0.3 s at 100 ticks/s
                return
            before = now
        log(f"{self.name}: still busy after {limit_s:.0f} s; going on")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    name: str, app: Sequence[str], env: dict[str, str], logs: Path, ready: str, *, uvicorn_access_log: bool = False
) -> Server:
    """uvicorn as production runs it (one worker, no Server header), on the server core; uvicorn's own
    access log only when asked (the API writes its own line, per ACCESS_LOG, as `impl.serve` runs it)."""
    port = free_port()
    log_path = logs / f"{name}.log"
    uvicorn = Path(sys.executable).with_name("uvicorn")
    command = [
        *pinned(0), str(uvicorn), *app, "--host", "127.0.0.1", "--port", str(port),
        "--proxy-headers", "--no-server-header", "--access-log" if uvicorn_access_log else "--no-access-log",
        "--log-level", "info",
    ]  # fmt: skip
    with log_path.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(name, process, port, log_path)  # taskset execs uvicorn: the pid is the worker's
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchFailure(f"{name} exited with {process.returncode} during start-up:\n{tail(log_path)}")
        try:
            if http("GET", server.base + ready, timeout=2)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise BenchFailure(f"{name} not ready after 90 s:\n{tail(log_path)}")


# ------------------------------------------------------------------------------------------------
# wrk and its lua scripts.

LUA_COUNTING = """
-- Counts statuses and X-Cache answers; done() prints them with wrk's summary as one JSON line.
local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end
statuses = {}
hits = 0
misses = 0
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local cache = headers["x-cache"] or headers["X-Cache"]
  if cache == "HIT" then hits = hits + 1 elseif cache == "MISS" then misses = misses + 1 end
end
function done(summary, latency, requests)
  local merged, hit, miss = {}, 0, 0
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do merged[code] = (merged[code] or 0) + count end
    hit = hit + thread:get("hits")
    miss = miss + thread:get("misses")
  end
  local parts = {}
  for code, count in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', code, count) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "statuses": {%s}, ' ..
    '"cache": {"HIT": %d, "MISS": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ", "), hit, miss))
end
"""


def lua_string(text: str) -> str:
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"not printable ASCII: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_script(
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    paths: Sequence[str] = (),
    seed: int = 1,
    request: str = "",
) -> str:
    """Static requests (the URL's path) by default; a random one of `paths`; or a `request` function."""
    lines = [LUA_COUNTING, f"wrk.method = {lua_string(method)}"]
    lines += [f"wrk.headers[{lua_string(key)}] = {lua_string(value)}" for key, value in (headers or {}).items()]
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    if paths:
        lines.append("local paths = {\n" + ",\n".join(lua_string(path) for path in paths) + "\n}")
        lines.append(f"function init(args) math.randomseed({seed} + id) end")
        lines.append("request = function() return wrk.format(nil, paths[math.random(#paths)]) end")
    lines.append(request)
    return "\n".join(lines) + "\n"


@dataclass
class WrkRun:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    cache: dict[str, int]
    server_cpu_pct: float | None = None  # the server process, % of one core (100: saturated)
    database_cpu_pct: float | None = None  # every PostgreSQL and Redis process
    other_cpu_pct: float | None = None  # everything else but wrk: noise
    peak_rss_kib: int | None = None  # the API worker's VmHWM over the scenario

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def count(self, statuses: Iterable[int]) -> int:
        wanted = set(statuses)
        return sum(n for status, n in self.statuses.items() if status in wanted)

    def non_2xx(self, allowed: Iterable[int] = ()) -> dict[int, int]:
        allowed = set(allowed)
        return {s: n for s, n in sorted(self.statuses.items()) if not 200 <= s <= 299 and s not in allowed}

    def errors(self, allowed: Iterable[int] = ()) -> int:
        return sum(self.non_2xx(allowed).values()) + sum(self.socket_errors.values())

    def describe_errors(self, allowed: Iterable[int] = ()) -> str:
        parts = [f"status {status} ×{n}" for status, n in self.non_2xx(allowed).items()]
        parts += [f"socket {kind} ×{n}" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts)

    def hit_share(self) -> float | None:
        answered = self.cache.get("HIT", 0) + self.cache.get("MISS", 0)
        return self.cache.get("HIT", 0) / answered if answered else None


@dataclass
class Wrk:
    """Writes each scenario's lua script and wrk's raw output into `work`."""

    work: Path
    connections: int
    timeout_s: int

    def start(
        self, label: str, url: str, script: str, duration: int, *, connections: int = 0, timeout_s: int = 0
    ) -> subprocess.Popen[str]:
        script_path = self.work / f"{label}.lua"
        script_path.write_text(script)
        command = [
            *pinned(1), "wrk", "-t1", f"-c{connections or self.connections}", f"-d{duration}s", "--latency",
            f"--timeout={timeout_s or self.timeout_s}s", "-s", str(script_path), url,
        ]  # fmt: skip
        output = (self.work / f"{label}.txt").open("w")
        try:
            return subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, text=True
            )
        finally:
            output.close()

    def finish(self, label: str, process: subprocess.Popen[str]) -> WrkRun:
        process.wait()
        text = (self.work / f"{label}.txt").read_text(errors="replace")
        line = next((line for line in text.splitlines() if line.startswith("BENCH_RESULT ")), None)
        if process.returncode != 0 or line is None:
            raise BenchFailure(f"wrk for {label} exited {process.returncode}:\n{text[-2000:]}")
        data = json.loads(line.removeprefix("BENCH_RESULT "))
        return WrkRun(
            requests=int(data["requests"]),
            seconds=int(data["duration_us"]) / 1e6,
            p50_ms=int(data["p50_us"]) / 1000,
            p99_ms=int(data["p99_us"]) / 1000,
            max_ms=int(data["max_us"]) / 1000,
            statuses={int(status): int(n) for status, n in data["statuses"].items()},
            socket_errors={kind: int(n) for kind, n in data["socket_errors"].items()},
            cache={kind: int(n) for kind, n in data["cache"].items()},
        )

    def run(self, label: str, url: str, script: str, duration: int, *, connections: int = 0) -> WrkRun:
        return self.finish(label, self.start(label, url, script, duration, connections=connections))


# ------------------------------------------------------------------------------------------------
# One configuration.


@dataclass
class Plan:
    """What every configuration loads and requests."""

    count: int
    seed: int
    now: datetime
    sample: Product  # the product cached_detail reads
    terms: list[str]
    duration: int
    warmup: int
    logins: int
    scenarios: frozenset[str]  # the ones to run (hello always runs)
    catalog: CatalogPlan


@dataclass
class CatalogPlan:
    """What the catalogue-at-size scenarios request (scripts/bench_catalog.py)."""

    searches: dict[str, list[str]]  # per kind
    sorted_lists: list[str]
    smart: list[str]
    import_rows: int


@dataclass
class ConfigResult:
    name: str
    scenarios: dict[str, WrkRun] = field(default_factory=dict)
    logins: WrkRun | None = None
    load_s: float | None = None
    index_s: float | None = None
    peak_rss_kib: int | None = None
    versions: dict[str, str] = field(default_factory=dict)
    failure: str | None = None
    walk: catalog.Walk | None = None
    transfers: list[catalog.Transfer] = field(default_factory=list)


def server_env(
    database_url: str,
    data_dir: Path,
    admin_password: str,
    extra: dict[str, str],
    *,
    access_log: bool = False,
    otlp_endpoint: str | None = None,
) -> dict[str, str]:
    """This environment without any of the app's settings or OpenTelemetry's, plus production's."""
    settings = {name.lower() for name in Settings.model_fields}
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in settings and not key.upper().startswith("OTEL_")
    }
    if otlp_endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
    env.update(
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        ADMIN_EMAIL=ADMIN_EMAIL,
        ADMIN_USERNAME=ADMIN_USERNAME,
        ADMIN_PASSWORD=admin_password,
        PYTHONUNBUFFERED="1",  # as in the image
        # Every request of the load comes from this one address: the per-address ceiling would turn
        # the logins of reads_under_logins into cheap 429s, and the scenario would no longer hash.
        RATE_LIMIT_PER_ADDRESS_PER_MINUTE="0",
        ACCESS_LOG="true" if access_log else "false",
        **extra,
    )
    return env


def prepare_embedded(plan: Plan, work: Path, result: ConfigResult) -> tuple[str, dict[str, str]]:
    data_dir = work / "data"
    data_dir.mkdir()
    path = data_dir / "catalog.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    started = time.perf_counter()
    rows = with_progress(generate(plan.count, plan.seed, plan.now), Progress("embedded: loading", plan.count))
    result.index_s = load_sqlite(path, rows)
    result.load_s = time.perf_counter() - started
    result.versions["sqlite"] = sqlite3.sqlite_version
    return url, {}


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def pg_execute(url: URL, sql: str) -> str:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(sql)
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def prepare_postgres(
    plan: Plan, args: argparse.Namespace, result: ConfigResult, cleanup: ExitStack
) -> tuple[str, dict[str, str]]:
    server = make_url(args.postgres_url)
    prefix = f"catalog-bench-{secrets.token_hex(4)}:"
    client = redis.Redis.from_url(args.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
        result.versions["redis"] = str(client.info("server").get("redis_version"))
    except redis.RedisError as error:
        raise BenchFailure(
            f"Redis at {args.redis_url} is not answering ({error}); start it or use --config embedded"
        ) from error
    cleanup.callback(drop_redis_keys, client, prefix)

    name = f"catalog_bench_serve_{secrets.token_hex(4)}"
    try:
        result.versions["postgresql"] = asyncio.run(pg_execute(server, f"CREATE DATABASE {quote_ident(name)}"))
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchFailure(
            f"cannot create a database on {server.render_as_string()} ({error}); start PostgreSQL, pass"
            " --postgres-url, or use --config embedded"
        ) from error
    log(f"postgres: created database {name}")

    def drop() -> None:
        asyncio.run(pg_execute(server, f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)"))
        log(f"postgres: dropped database {name}")

    cleanup.callback(drop)
    database = server.set(drivername="postgresql+asyncpg", database=name)
    url = database.render_as_string(hide_password=False)
    upgrade(url)
    started = time.perf_counter()
    rows = with_progress(generate(plan.count, plan.seed, plan.now), Progress("postgres: loading", plan.count))
    result.index_s = asyncio.run(load_postgres(asyncpg_dsn(database), rows))
    result.load_s = time.perf_counter() - started
    return url, {"REDIS_URL": args.redis_url, "CACHE_PREFIX": prefix}


def drop_redis_keys(client: redis.Redis, prefix: str) -> None:
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    except redis.RedisError as error:
        log(f"could not remove the cache keys {prefix}* ({error})")
    finally:
        client.close()


def verify_load(base: str, plan: Plan) -> None:
    """The loaded rows read back through the API: a product, a list page, a search."""
    sample = plan.sample
    status, _, product = http("GET", f"{base}/api/v1/products/{sample.id}")
    expected = {
        "id": str(sample.id),
        "name": sample.name,
        "description": sample.description,
        "stock": sample.stock,
        "category": sample.category,
        "sku": sample.sku,
    }
    if status != 200 or not isinstance(product, dict):
        raise BenchFailure(f"GET product {sample.id}: {status} {product!r}")
    wrong = {key: product.get(key) for key, value in expected.items() if product.get(key) != value}
    if Decimal(str(product.get("price"))) * 100 != sample.price_cents:
        wrong["price"] = product.get("price")
    for key in ("created_at", "updated_at"):
        if datetime.fromisoformat(str(product.get(key))) != sample.created_at:
            wrong[key] = product.get(key)
    if wrong:
        raise BenchFailure(f"product {sample.id} reads back wrong: {wrong} (expected {sample})")

    query = f"page_size={PAGE_SIZE}&sort_by=price&sort_order=asc"
    status, _, page = http("GET", f"{base}/api/v1/products?{query}")
    if status != 200 or not isinstance(page, dict):
        raise BenchFailure(f"GET list: {status} {page!r}")
    prices = [Decimal(str(item["price"])) for item in page["items"]]
    # A large total may be capped (`total_exact`: false); it never exceeds what was loaded.
    total_ok = page["total"] == plan.count or (page.get("total_exact") is False and page["total"] < plan.count)
    if not total_ok or len(prices) != min(PAGE_SIZE, plan.count) or prices != sorted(prices):
        raise BenchFailure(
            f"list page reads back wrong: total {page['total']} (loaded {plan.count}, total_exact"
            f" {page.get('total_exact')}), {len(prices)} items, ascending prices: {prices == sorted(prices)}"
        )
    for item in page["items"]:
        uuid.UUID(item["id"])
        datetime.fromisoformat(item["created_at"])

    term = plan.terms[0]
    status, _, found = http("GET", f"{base}/api/v1/products/search?q={urllib.parse.quote(term)}")
    if status != 200 or not isinstance(found, dict) or found.get("total", 0) < 1:
        raise BenchFailure(f"search for {term!r}: {status} {found!r}")


def warm(base: str, path: str, label: str, *, token: str | None = None) -> None:
    """Two requests: the second must come from the cache."""
    for _ in range(2):
        status, answer_headers, _ = http("GET", base + path, token=token)
        if status != 200:
            raise BenchFailure(f"{label}: GET {path} answered {status}")
    if answer_headers.get("x-cache") != "HIT":
        log(f"{label}: the warmed answer is X-Cache: {answer_headers.get('x-cache')}, not HIT")


def preflight(base: str, paths: Sequence[str], label: str) -> None:
    """A few of a scenario's requests, one at a time: they must answer 200."""
    for path in paths:
        status, _, document = http("GET", base + path)
        if status != 200:
            raise BenchFailure(f"{label}: GET {path} answered {status}: {document!r}")


def login(base: str, password: str) -> str:
    status, _, tokens = http("POST", f"{base}/api/v1/auth/login/json", body=login_body(password))
    if status != 200 or not isinstance(tokens, dict):
        raise BenchFailure(f"admin login answered {status}: {tokens!r}")
    return str(tokens["access_token"])


def register_user(base: str) -> str:
    """A new user's access token (a plain user, as most signed-in readers are)."""
    suffix, password = secrets.token_hex(4), secrets.token_urlsafe(18)
    account = {"email": f"reader-{suffix}@example.com", "username": f"reader-{suffix}", "password": password}
    status, _, answer = http("POST", f"{base}/api/v1/auth/register", body=account)
    if status != 201:
        raise BenchFailure(f"registering a reader answered {status}: {answer!r}")
    status, _, tokens = http(
        "POST", f"{base}/api/v1/auth/login/json", body={"username": account["username"], "password": password}
    )
    if status != 200 or not isinstance(tokens, dict):
        raise BenchFailure(f"the reader's login answered {status}: {tokens!r}")
    return str(tokens["access_token"])


def login_body(password: str) -> dict[str, str]:
    return {"username": ADMIN_USERNAME, "password": password}


def run_configuration(result: ConfigResult, plan: Plan, args: argparse.Namespace, work: Path, wrk: Wrk) -> None:
    """Every scenario on one configuration, into `result` as they finish."""
    name = result.name
    work.mkdir()
    admin_password = secrets.token_urlsafe(18)
    with ExitStack() as cleanup:
        if name == "embedded":
            url, extra = prepare_embedded(plan, work, result)
        else:
            url, extra = prepare_postgres(plan, args, result, cleanup)
        log(f"{name}: {plan.count:,} products loaded in {result.load_s:.1f} s (indexes: {result.index_s:.1f} s)")
        env = server_env(
            url, work / "data", admin_password, extra, access_log=args.access_log, otlp_endpoint=args.otlp_endpoint
        )
        run([sys.executable, "-m", "impl.db.migrate"], env=env, timeout=300)

        def measure(
            scenario: str,
            server: Server,
            target: str,
            script: str,
            *,
            warmup: bool = True,
            connections: int = 0,
            duration: int = 0,
        ) -> WrkRun:
            """One scenario; `warmup`: after --warmup seconds of the same load (not for uncached scenarios)."""
            log(f"{name}: {scenario}")
            if warmup and plan.warmup:
                server.wait_idle()
                wrk.run(f"{name}-{scenario}-warmup", target, script, plan.warmup, connections=connections)
            server.wait_idle()
            server.reset_peak_rss()
            seconds = duration or plan.duration
            outcome = server.watch(
                lambda: wrk.run(f"{name}-{scenario}", target, script, seconds, connections=connections)
            )
            outcome.peak_rss_kib = server.vm_hwm_kib()
            result.scenarios[scenario] = outcome
            return outcome

        def wanted(scenario: str) -> bool:
            return scenario in plan.scenarios

        hello = start_server("hello", ["scripts.bench_hello:app"], env, work, "/", uvicorn_access_log=args.access_log)
        cleanup.callback(hello.stop)
        measure("hello", hello, hello.base + "/", lua_script())
        hello.stop()

        api = start_server("api", ["impl.app:create_app", "--factory"], env, work, "/health")
        cleanup.callback(api.stop)
        api.wait_started()
        base = api.base
        verify_load(base, plan)
        token = login(base, admin_password)
        bearer = {"Authorization": f"Bearer {token}"}
        detail = f"/api/v1/products/{plan.sample.id}"
        category = urllib.parse.quote(CATEGORIES[0])
        listing = f"/api/v1/products?category={category}&sort_by=price&sort_order=asc&page_size={PAGE_SIZE}"
        warm(base, detail, "cached_detail")
        warm(base, listing, "cached_list")

        if wanted("cached_detail"):
            measure("cached_detail", api, base + detail, lua_script())
        if wanted("signed_in_cached_detail"):
            user_token = register_user(base)
            warm(base, detail, "signed_in_cached_detail", token=user_token)
            user_bearer = {"Authorization": f"Bearer {user_token}"}
            measure("signed_in_cached_detail", api, base + detail, lua_script(headers=user_bearer))
        if wanted("cached_detail_json_log"):
            json_env = {**env, "LOG_FORMAT": "json", "ACCESS_LOG": "true"}
            logged = start_server("api-json-log", ["impl.app:create_app", "--factory"], json_env, work, "/health")
            cleanup.callback(logged.stop)
            logged.wait_started()
            warm(logged.base, detail, "cached_detail_json_log")
            measure("cached_detail_json_log", logged, logged.base + detail, lua_script())
            logged.stop()
        if wanted("cached_list"):
            measure("cached_list", api, base + listing, lua_script())
        pages = [
            f"/api/v1/products?category={urllib.parse.quote(c)}&page={page}&page_size={PAGE_SIZE}"
            for c in CATEGORIES
            for page in range(1, LIST_PAGES + 1)
        ]
        uncached = min(UNCACHED_CONNECTIONS, wrk.connections)
        if wanted("uncached_list"):
            preflight(base, pages[:: len(pages) // 3], "uncached_list")
            list_script = lua_script(paths=pages, seed=plan.seed)
            measure("uncached_list", api, base + "/", list_script, warmup=False, connections=uncached)
        if wanted("auth_me"):
            measure("auth_me", api, base + "/api/v1/auth/me", lua_script(headers=bearer))
        if wanted("reads_under_logins"):
            reads_under_logins(result, plan, api, wrk, detail, admin_password)
        if wanted("create_product"):
            run_token = secrets.token_hex(4)
            create = f"""
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{{"name": "Bench Product %d", "description": "Created by scripts/bench.", "price": 19.99, "stock": 5, '
    .. '"category": "{CATEGORIES[0]}", "sku": "BENCH-{run_token}-%d-%d"}}', counter, id, counter)
  return wrk.format(nil, nil, nil, body)
end
"""
            script = lua_script(method="POST", headers={**bearer, "Content-Type": "application/json"}, request=create)
            measure("create_product", api, base + "/api/v1/products", script, warmup=False)
        run_catalog_reads(result, plan, api, measure, uncached, only=plan.scenarios)
        if wanted("uncached_search"):
            # Last: a slow search leaves queued work behind that would slow whatever ran next.
            searches = [f"/api/v1/products/search?q={urllib.parse.quote(term)}" for term in plan.terms]
            preflight(base, searches[:: max(1, len(searches) // 3)], "uncached_search")
            search_script = lua_script(paths=searches, seed=plan.seed)
            measure("uncached_search", api, base + "/", search_script, warmup=False, connections=uncached)
        # After every read scenario: the import adds --import-rows products to the catalogue.
        run_transfers(result, plan, api, wrk, token, detail, work, only=plan.scenarios)
        api.wait_idle()
        result.peak_rss_kib = api.peak_rss_kib()
        api.stop()


def reads_under_logins(result: ConfigResult, plan: Plan, api: Server, wrk: Wrk, detail: str, password: str) -> None:
    """cached_detail while `plan.logins` logins run at once (each one a password hash)."""
    name, base = result.name, api.base
    log(f"{name}: reads_under_logins ({plan.logins} logins at once)")
    api.wait_idle()
    warm(base, detail, "reads_under_logins")
    logins = wrk.start(
        f"{name}-logins",
        base + "/api/v1/auth/login/json",
        lua_script(method="POST", headers={"Content-Type": "application/json"}, body=json.dumps(login_body(password))),
        plan.duration + 2 * LOGIN_LEAD_S,
        connections=plan.logins,
        timeout_s=LOGIN_TIMEOUT_S,
    )
    try:
        time.sleep(LOGIN_LEAD_S)
        result.scenarios["reads_under_logins"] = api.watch(
            lambda: wrk.run(f"{name}-reads_under_logins", base + detail, lua_script(), plan.duration),
            also_wrk=[logins.pid],
        )
    finally:
        result.logins = wrk.finish(f"{name}-logins", logins)


# ------------------------------------------------------------------------------------------------
# The catalogue at size (issue 17): search mix, deep pages, smart search, import and export.


class Measure(Protocol):
    def __call__(
        self, scenario: str, server: Server, target: str, script: str, *, warmup: bool = ..., connections: int = ...,
        duration: int = ...,
    ) -> WrkRun: ...  # fmt: skip


IMPORT_SKU_PREFIX = "IMPORT-"
PACED_READ_CONNECTIONS = 4  # idle_reads and import_reads: at most 4 x 1000 / 5 = 800 reads/s
PACED_READ_DELAY_MS = 5


def catalog_plan(sample: Sequence[Product], seed: int, import_rows: int) -> CatalogPlan:
    """The catalogue scenarios' requests, from products that are loaded (`sample`: the first ones generated)."""
    searches = catalog.search_paths([p.name for p in sample], [p.sku for p in sample], CATEGORIES, seed)
    return CatalogPlan(
        searches=searches,
        sorted_lists=catalog.sorted_list_paths(CATEGORIES, PAGE_SIZE, seed),
        smart=catalog.smart_queries(ADJECTIVES, MATERIALS, NOUNS, PHRASES, seed),
        import_rows=import_rows,
    )


def lua_in_order(paths: Sequence[str]) -> str:
    """Each request the next of `paths` (wrk -t1: one counter for every connection), so none repeats
    before the list is used up."""
    table = "local paths = {\n" + ",\n".join(lua_string(path) for path in paths) + "\n}"
    return lua_script(
        request=table + "\nlocal next_path = 0\nrequest = function()\n  next_path = next_path % #paths + 1\n"
        "  return wrk.format(nil, paths[next_path])\nend"
    )


def check_search_kinds(base: str, searches: dict[str, list[str]]) -> None:
    """The first searches of each kind find what the kind says (scripts/bench_catalog.py)."""
    for kind, term, path in catalog.search_checks(searches):
        status, _, body = http("GET", base + path)
        problem = catalog.search_answer_problem(kind, term, status, body)
        if problem:
            raise BenchFailure(f"search_mix: {problem}")


def run_catalog_reads(
    result: ConfigResult, plan: Plan, api: Server, measure: Measure, uncached: int, *, only: Container[str]
) -> None:
    """Those of search_mix, search_<kind>, list_sorted, cursor_deep, smart_search that are in `only`: at
    `uncached` connections, no warm-up.

    The mix takes every other path of each kind and the per-kind runs the rest, so neither repeats the other's.
    """
    base, searches = api.base, plan.catalog.searches
    short = max(1, plan.duration // 2)
    if "search_mix" in only:
        check_search_kinds(base, searches)
        mixed = catalog.mix({kind: paths[::2] for kind, paths in searches.items()})
        measure("search_mix", api, base + "/", lua_in_order(mixed), warmup=False, connections=uncached)
    for kind in catalog.SEARCH_KINDS:
        if f"search_{kind}" in only:
            script = lua_in_order(searches[kind][1::2])
            measure(f"search_{kind}", api, base + "/", script, warmup=False, connections=uncached, duration=short)

    if "list_sorted" in only:
        lists = plan.catalog.sorted_lists
        preflight(base, lists[-3:], "list_sorted")  # the end: in-order requests reach it last
        measure("list_sorted", api, base + "/", lua_in_order(lists), warmup=False, connections=uncached)

    if "cursor_deep" in only:
        log(f"{result.name}: walking cursors for cursor_deep")
        api.wait_idle()
        try:
            walk = catalog.walk_cursors(lambda path: http("GET", base + path)[::2], plan.count, plan.seed)
        except ValueError as error:
            raise BenchFailure(str(error)) from error
        result.walk = walk
        preflight(base, walk.paths[-3:], "cursor_deep")
        measure("cursor_deep", api, base + "/", lua_in_order(walk.paths), warmup=False, connections=uncached)

    if "smart_search" in only:
        smart = plan.catalog.smart
        preflight(base, smart[-3:], "smart_search")
        measure("smart_search", api, base + "/", lua_in_order(smart), warmup=False, connections=uncached)


def run_transfers(
    result: ConfigResult,
    plan: Plan,
    api: Server,
    wrk: Wrk,
    token: str,
    detail: str,
    work: Path,
    *,
    only: Container[str],
) -> None:
    """When import_reads is in `only`: the export of the loaded catalogue, then the import of --import-rows
    new products with paced cached reads of `detail` alongside (import_reads), the same reads measured idle
    just before (idle_reads)."""
    if "import_reads" not in only:
        return
    name = result.name
    log(f"{name}: export")
    api.wait_idle()
    api.reset_peak_rss()
    result.transfers.append(catalog.export_all(api.port, token, api.process.pid))

    ndjson = work / "import.ndjson"
    products = generate(plan.catalog.import_rows, plan.seed + 1, plan.now)
    rows = catalog.write_ndjson(
        ndjson,
        (
            (p.name, p.description, p.price_cents, p.stock, p.category, f"{IMPORT_SKU_PREFIX}{index}")
            for index, p in enumerate(products)
        ),
    )
    # A shop's reads go on during an import; closed-loop reads at full speed would instead take the core
    # from the import and measure neither. Paced, they leave it most of the core.
    paced = lua_script(request=f"function delay() return {PACED_READ_DELAY_MS} end")
    connections = min(PACED_READ_CONNECTIONS, wrk.connections)
    log(f"{name}: idle_reads")
    warm(api.base, detail, "idle_reads")
    api.wait_idle()
    api.reset_peak_rss()
    idle = api.watch(
        lambda: wrk.run(f"{name}-idle_reads", api.base + detail, paced, plan.duration, connections=connections)
    )
    idle.peak_rss_kib = api.vm_hwm_kib()
    result.scenarios["idle_reads"] = idle

    log(f"{name}: import of {rows:,} products, with the same reads alongside (import_reads)")
    api.wait_idle()
    api.reset_peak_rss()
    reads = wrk.start(
        f"{name}-import_reads", api.base + detail, paced, catalog.TRANSFER_TIMEOUT_S, connections=connections
    )

    def import_then_stop_reads() -> WrkRun:
        try:
            result.transfers.append(catalog.import_file(api.port, token, ndjson, rows, api.process.pid))
        finally:
            reads.send_signal(signal.SIGINT)  # wrk stops and prints its summary
        return wrk.finish(f"{name}-import_reads", reads)

    outcome = api.watch(import_then_stop_reads, also_wrk=[reads.pid])
    outcome.peak_rss_kib = api.vm_hwm_kib()
    result.scenarios["import_reads"] = outcome
    ndjson.unlink()


# ------------------------------------------------------------------------------------------------
# Report.


def scenario_record(config: ConfigResult, scenario: str, outcome: WrkRun, connections: int) -> dict[str, Any]:
    hello = config.scenarios.get("hello")
    record: dict[str, Any] = {
        "configuration": config.name,
        "scenario": scenario,
        "requests": outcome.requests,
        "seconds": round(outcome.seconds, 3),
        "rps": round(outcome.rps, 1),
        "p50_ms": outcome.p50_ms,
        "p99_ms": outcome.p99_ms,
        "max_ms": outcome.max_ms,
        "errors": outcome.errors(),
        "statuses": {str(status): n for status, n in sorted(outcome.statuses.items())},
        "socket_errors": outcome.socket_errors,
        "cache": outcome.cache,
        "ratio_to_hello": round(outcome.rps / hello.rps, 4) if hello and hello.rps else None,
        "server_cpu_pct": outcome.server_cpu_pct,
        "peak_rss_kib": outcome.peak_rss_kib,
        "database_cpu_pct": outcome.database_cpu_pct,
        "other_cpu_pct": outcome.other_cpu_pct,
    }
    if scenario == "reads_under_logins":
        alone = config.scenarios.get("cached_detail")
        record["p99_ratio_to_cached_detail"] = (
            round(outcome.p99_ms / alone.p99_ms, 2) if alone and alone.p99_ms else None
        )
        if config.logins is not None:
            logins = config.logins
            record["logins"] = {
                "connections": connections,
                "answered": logins.requests,
                "ok": logins.count(range(200, 300)),
                "refused": logins.count(REFUSED_LOGIN_STATUSES),
                "errors": logins.errors(REFUSED_LOGIN_STATUSES),
                "rps": round(logins.rps, 2),
                "p50_ms": logins.p50_ms,
                "p99_ms": logins.p99_ms,
                "statuses": {str(status): n for status, n in sorted(logins.statuses.items())},
                "socket_errors": logins.socket_errors,
            }
    return record


def transfer_record(transfer: catalog.Transfer) -> dict[str, Any]:
    return {
        "operation": transfer.operation,
        "status": transfer.status,
        "rows": transfer.rows,
        "seconds": round(transfer.seconds, 3),
        "rows_per_s": round(transfer.rows_per_s, 1),
        "errors": transfer.errors,
        "rss_before_kib": transfer.rss_before_kib,
        "rss_peak_kib": transfer.rss_peak_kib,
        "report": transfer.report,
        "problem": transfer.problem,
    }


def print_catalog_summary(config: ConfigResult) -> None:
    """The cursor walk, the export and the import, and the import's cached reads against idle ones."""
    if config.walk:
        walk = config.walk
        print(
            f"{config.name}: cursor_deep: cursors reached by {walk.requests:,} next_cursor requests in"
            f" {walk.seconds:.1f} s, down to {walk.deepest:,} products deep"
        )
    for transfer in config.transfers:
        print(
            f"{config.name}: {transfer.operation}: {transfer.rows:,} rows in {transfer.seconds:.1f} s"
            f" ({transfer.rows_per_s:,.0f} rows/s), status {transfer.status}, {transfer.errors:,} errors;"
            f" worker RSS {transfer.rss_before_kib / 1024:.0f} MiB before, {transfer.rss_peak_kib / 1024:.0f} MiB"
            " at its peak meanwhile"
        )
    during, idle = config.scenarios.get("import_reads"), config.scenarios.get("idle_reads")
    if during and idle and during.requests and idle.p99_ms:
        print(
            f"{config.name}: paced cached reads during the import: p99 {during.p99_ms:.2f} ms ="
            f" {during.p99_ms / idle.p99_ms:.1f}× the same reads idle ({idle.p99_ms:.2f} ms)"
        )


def problems(results: Sequence[ConfigResult]) -> list[str]:
    found = []
    for config in results:
        if config.failure:
            found.append(f"{config.name}: {config.failure.splitlines()[0]}")
        for scenario, outcome in config.scenarios.items():
            if outcome.errors():
                found.append(f"{config.name}/{scenario}: {outcome.describe_errors()} of {outcome.requests:,} answers")
            elif outcome.requests == 0:
                found.append(
                    f"{config.name}/{scenario}: no answer within the {outcome.seconds:.0f} s run (server CPU"
                    f" {percent(outcome.server_cpu_pct)}): every request took longer"
                )
        found += [f"{config.name}/{t.operation}: {t.problem}" for t in config.transfers if t.problem]
        if config.logins is not None and config.logins.errors(REFUSED_LOGIN_STATUSES):
            logins = config.logins
            found.append(f"{config.name}/logins: {logins.describe_errors(REFUSED_LOGIN_STATUSES)}")
    return found


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def print_table(results: Sequence[ConfigResult], logins: int) -> None:
    header = (
        "configuration", "scenario", "req/s", "p50 ms", "p99 ms", "errors", "vs hello", "cache HIT", "server CPU",
        "db CPU", "other CPU", "peak RSS MiB",
    )  # fmt: skip
    rows: list[tuple[str, ...]] = []
    for config in results:
        hello = config.scenarios.get("hello")
        for scenario in SCENARIOS:
            outcome = config.scenarios.get(scenario)
            if outcome is None:
                continue
            share = outcome.hit_share()
            rows.append(
                (
                    config.name,
                    scenario,
                    f"{outcome.rps:,.0f}",
                    f"{outcome.p50_ms:.2f}" if outcome.requests else "-",
                    f"{outcome.p99_ms:.2f}" if outcome.requests else "-",
                    f"{outcome.errors():,}",
                    f"{outcome.rps / hello.rps:.3f}" if hello and hello.rps else "-",
                    "-" if share is None else f"{share:.0%}",
                    percent(outcome.server_cpu_pct),
                    percent(outcome.database_cpu_pct),
                    percent(outcome.other_cpu_pct),
                    "-" if outcome.peak_rss_kib is None else f"{outcome.peak_rss_kib / 1024:.0f}",
                )
            )
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for number, row in enumerate((header, *rows)):
        cells = [
            cell.ljust(w) if column < 2 else cell.rjust(w)
            for column, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print(
        "\nerrors: non-2xx answers and socket errors (connect, read, write, timeout)"
        "\nvs hello: req/s over the hello world's req/s in the same configuration"
        "\ncache HIT: the answers with X-Cache: HIT"
        "\nserver CPU: the serving process, % of one core (100%: saturated)"
        "\ndb CPU: every PostgreSQL and Redis process, % of one core"
        "\nother CPU: every other process but wrk, % of one core: noise that slowed the run"
        "\npeak RSS: the worker's VmHWM over the scenario (hello: the hello world's)\n"
    )
    for config in results:
        reads, alone, logs = (
            config.scenarios.get("reads_under_logins"),
            config.scenarios.get("cached_detail"),
            config.logins,
        )
        if reads and alone and logs:
            ratio = f"{reads.p99_ms / alone.p99_ms:.1f}× " if alone.p99_ms else ""
            print(
                f"{config.name}: reads under {logins} concurrent logins: p99 {reads.p99_ms:.2f} ms ="
                f" {ratio}the cached_detail p99 ({alone.p99_ms:.2f} ms); logins: {logs.count(range(200, 300)):,} ok"
                f" ({logs.count(range(200, 300)) / logs.seconds:.1f}/s), {logs.count(REFUSED_LOGIN_STATUSES):,} refused"
                f" (429/503), {logs.errors(REFUSED_LOGIN_STATUSES):,} errors, p50 {logs.p50_ms:.0f} ms,"
                f" p99 {logs.p99_ms:.0f} ms"
            )
    for config in results:
        print_catalog_summary(config)
    for config in results:
        parts = []
        if config.load_s is not None:
            parts.append(f"load {config.load_s:.1f} s (of which indexes and statistics {config.index_s:.1f} s)")
        if config.peak_rss_kib is not None:
            parts.append(f"API worker peak RSS (VmHWM) {config.peak_rss_kib / 1024:.0f} MiB")
        if parts:
            print(f"{config.name}: " + "; ".join(parts))


def draw_chart(results: Sequence[ConfigResult], path: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    scenarios = [s for s in SCENARIOS if s != "hello" and any(s in config.scenarios for config in results)]
    configs = [config for config in results if "hello" in config.scenarios and config.scenarios["hello"].rps]
    figure, axes = plt.subplots(figsize=(11, 5.5), layout="constrained")
    width = 0.8 / max(1, len(configs))
    highest: list[float] = []
    for number, config in enumerate(configs):
        hello = config.scenarios["hello"].rps
        values = [config.scenarios[s].rps / hello if s in config.scenarios else 0.0 for s in scenarios]
        offsets = [index + (number - (len(configs) - 1) / 2) * width for index in range(len(scenarios))]
        bars = axes.bar(offsets, values, width, label=config.name)
        highest.extend(values)
        axes.bar_label(bars, labels=[f"{v:.2f}" if v >= 0.1 else f"{v:.3f}" for v in values], fontsize=8, padding=2)
    axes.set_xticks(range(len(scenarios)), scenarios, rotation=20, ha="right")
    axes.set_ylabel("req/s ÷ hello world req/s (same configuration run)")
    axes.set_title(f"catalog-api throughput relative to a FastAPI hello world\n{subtitle}", fontsize=10)
    axes.axhline(1.0, color="grey", linestyle="--", linewidth=0.8, label="hello world")
    axes.legend(title="configuration")
    axes.set_ylim(0, max([0.05, *highest]) * 1.15)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for package in ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "asyncpg", "aiosqlite"):
        with suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    with suppress(OSError, IndexError):
        found["wrk"] = run(["wrk", "-v"], check=False).splitlines()[0]
    return found


def git(*args: str) -> str | None:
    try:
        return run(["git", *args]).strip()
    except (OSError, BenchFailure):
        return None


# ------------------------------------------------------------------------------------------------


def default_postgres_url() -> str:
    return f"postgresql+asyncpg://{pwd.getpwuid(os.getuid()).pw_name}@127.0.0.1:5432/postgres"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="scripts/bench search [--help]: the product-search benchmark on PostgreSQL (scripts/bench_search.py).",
    )
    add = parser.add_argument
    add("--products", type=int, metavar="N", help="products to load (default 100000; --smoke: 300)")
    add("--duration", type=int, metavar="S", help="seconds of load per scenario (default 10; --smoke: 1)")
    add("--connections", type=int, metavar="N", help="wrk connections (default 32; --smoke: 8)")
    add("--warmup", type=int, metavar="S", help="seconds of load before each cached scenario (default 2; --smoke: 0)")
    add("--config", choices=("embedded", "postgres", "both"), default="both", help="(default both)")
    add(
        "--postgres-url",
        metavar="URL",
        default=default_postgres_url(),
        help="server for the throwaway database (%(default)s)",
    )
    add("--redis-url", metavar="URL", default="redis://127.0.0.1:6379/0", help="Redis for postgres (%(default)s)")
    add("--out", type=Path, metavar="DIR", help="results folder (default bench-results/<UTC timestamp>)")
    add("--logins", type=int, metavar="N", default=8, help="concurrent logins in reads_under_logins (default 8)")
    add(
        "--import-rows",
        type=int,
        metavar="N",
        help=f"products the import scenario adds, last, to the loaded catalogue (default: --products, at most"
        f" {IMPORT_ROWS:,})",
    )
    add("--timeout", type=int, metavar="S", default=10, help="wrk counts a slower answer as an error (default 10)")
    add("--seed", type=int, default=1, help="data generator seed (default 1)")
    add(
        "--access-log",
        action="store_true",
        help="servers write their access log (default off: ACCESS_LOG=false and uvicorn's --no-access-log)",
    )
    add(
        "--otlp-endpoint",
        metavar="URL",
        help="trace the API: its OTEL_EXPORTER_OTLP_ENDPOINT (default: no tracing; OTEL_* of this shell not passed)",
    )
    add("--smoke", action="store_true", help="a quick check: 300 products, 1 s per scenario, 8 connections")
    add(
        "--scenarios",
        metavar="LIST",
        help="comma-separated scenarios to run (default all; hello always runs): " + ", ".join(SCENARIOS[1:]),
    )
    args = parser.parse_args(argv)
    if args.scenarios is None:
        args.scenarios = frozenset(SCENARIOS)
    else:
        named = {name.strip() for name in args.scenarios.split(",") if name.strip()}
        unknown = sorted(named - set(SCENARIOS))
        if unknown or not named:
            parser.error(f"--scenarios: unknown {', '.join(unknown) or '(none named)'}; known: {', '.join(SCENARIOS)}")
        args.scenarios = frozenset({"hello", *named})
    smoke = args.smoke
    args.products = args.products if args.products is not None else 300 if smoke else 100_000
    args.duration = args.duration if args.duration is not None else 1 if smoke else 10
    args.connections = args.connections if args.connections is not None else 8 if smoke else 32
    args.warmup = args.warmup if args.warmup is not None else 0 if smoke else 2
    args.import_rows = args.import_rows if args.import_rows is not None else min(args.products, IMPORT_ROWS)
    for option in ("products", "duration", "connections", "logins", "timeout", "import_rows"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be at least 0")
    return args


def on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        check_columns()
    except BenchFailure as failure:
        log(str(failure))
        return 1
    started = datetime.now(UTC)
    out: Path = args.out or ROOT / "bench-results" / started.strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    configs = CONFIGS if args.config == "both" else (args.config,)
    now = started.replace(microsecond=0)
    first = list(generate(min(args.products, 20_000), args.seed, now))
    sample = first[0]
    names = (product.name for product in first)
    plan = Plan(
        count=args.products,
        seed=args.seed,
        now=now,
        sample=sample,
        terms=search_terms(names, args.seed, SEARCH_TERMS),
        duration=args.duration,
        warmup=args.warmup,
        logins=args.logins,
        scenarios=args.scenarios,
        catalog=catalog_plan(first, args.seed, args.import_rows),
    )
    if CORES is None:
        log("not pinning (needs taskset and two cores): servers and wrk share the CPUs")
    log(f"{args.products:,} products; {args.duration} s per scenario; wrk -t1 -c{args.connections}; results in {out}")

    results: list[ConfigResult] = []
    work = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    try:
        wrk = Wrk(work, args.connections, args.timeout)
        for name in configs:
            result = ConfigResult(name)
            results.append(result)
            try:
                run_configuration(result, plan, args, work / name, wrk)
            except BenchFailure as failure:
                log(f"{name}: FAILED: {failure}")
                result.failure = str(failure)
            for log_file in (work / name).glob("*.log"):  # the servers' own lines: warnings explain odd numbers
                shutil.copy(log_file, out / f"{name}-{log_file.name}")
        for raw in work.glob("*.txt"):
            if not raw.name.endswith("-warmup.txt"):
                shutil.copy(raw, out / f"wrk-{raw.name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    subtitle = (
        f"{args.products:,} products, wrk -t1 -c{args.connections} -d{args.duration}s,"
        f" {'server on core ' + str(CORES[0]) + ', wrk on core ' + str(CORES[1]) if CORES else 'not pinned'}"
    )
    document = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "settings": {
            "products": args.products,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": 1,
            "timeout_s": args.timeout,
            "logins": args.logins,
            "import_rows": args.import_rows,
            "seed": args.seed,
            "smoke": args.smoke,
            "access_log": args.access_log,
            "otlp_endpoint": args.otlp_endpoint,
            "scenarios": sorted(args.scenarios, key=SCENARIOS.index),
            "cores": {"server": CORES[0], "wrk": CORES[1]} if CORES else None,
            "cpus": os.cpu_count(),
        },
        "versions": versions(),
        "configurations": [
            {
                "name": config.name,
                "failure": config.failure,
                "load_s": config.load_s,
                "index_s": config.index_s,
                "peak_rss_kib": config.peak_rss_kib,
                "versions": config.versions,
                "cursor_walk": (
                    {
                        "requests": config.walk.requests,
                        "seconds": round(config.walk.seconds, 3),
                        "deepest": config.walk.deepest,
                        "cursor_requests": len(config.walk.paths),
                    }
                    if config.walk
                    else None
                ),
                "transfers": [transfer_record(transfer) for transfer in config.transfers],
            }
            for config in results
        ],
        "results": [
            scenario_record(config, scenario, config.scenarios[scenario], args.logins)
            for config in results
            for scenario in SCENARIOS
            if scenario in config.scenarios
        ],
    }
    (out / "results.json").write_text(json.dumps(document, indent=2) + "\n")

    saved = [out / "results.json"]
    if any(config.scenarios for config in results):
        print(f"\ncatalog-api serving benchmark: {subtitle}\n")
        print_table(results, args.logins)
        draw_chart(results, out / "chart.png", subtitle)
        saved.append(out / "chart.png")
    print(f"\nresults: {', '.join(map(str, saved))}")
    noisy = [
        f"{config.name}/{scenario} {outcome.other_cpu_pct:.0f}%"
        for config in results
        for scenario, outcome in config.scenarios.items()
        if (outcome.other_cpu_pct or 0) >= NOISE_PCT
    ]
    if noisy:
        print(f"\nNOISE: other processes took {NOISE_PCT}% of a core or more during: {', '.join(noisy)}")
        print("  those numbers may be low: rerun on an idle machine")
    found = problems(results)
    if found:
        print("\nPROBLEMS:", *found, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
