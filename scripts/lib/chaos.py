"""Fault drills under load: `scripts/chaos` (README: "Faults under load").

It starts a cluster of its own (a throwaway PostgreSQL cluster, a redis-server,
three replicas behind HAProxy: nothing of the machine's shared servers is
touched), sends a constant-rate mixed load through the load balancer (reads,
writes, logins) and injects one fault at a time:

    redis-kill         Redis SIGKILLed, started again after `--down-seconds`
    redis-stop         Redis frozen (SIGSTOP) for 10 s, then SIGCONT
    postgres-kill      every PostgreSQL process SIGKILLed, the cluster started again after `--down-seconds`
    rolling-restart    one replica SIGTERMed (it drains), started again, then the next one

Each fault gets a window: the fault itself, then `--after-seconds` of recovery.
The load is open-loop (a request leaves at its scheduled time whether or not
earlier ones answered), so a stall shows as latency and errors, not as fewer
requests. At the end every acknowledged write (a 201 create, a 200 update) is
looked up in the database itself.

The table: per fault, requests sent, errors by status (`conn` is a dropped or
refused connection, `timeout` no answer within `--timeout`, `saturated` not
sent because 256 requests were already waiting), p50/p99 during the
fault and after it, the time from the fault's end to the last error, and the
acknowledged writes lost. The targets (exit 1 when one is missed): no error
for the Redis faults and the rolling restart, only 503 with `Retry-After`
while PostgreSQL is down, recovery within 5 s, no acknowledged write lost.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from scripts.lib.cluster import Cluster, ClusterConfig, free_port
from tests.servers import PostgresCluster, RedisServer, postgres_bin_dir

API = "/api/v1"
FAULTS = ("redis-kill", "redis-stop", "postgres-kill", "rolling-restart")
RECOVERY_TARGET_SECONDS = 5.0
REDIS_FREEZE_SECONDS = 10.0
ADMIN = {"username": "chaos-admin", "email": "chaos-admin@example.com"}
USERS = 5
SEED_PRODUCTS = 40
# Requests in flight at most: past it a due request is not sent and counts as an error ("saturated"), so a
# stalled cluster shows as errors rather than as an ever longer queue in this client (httpx's pool slows
# down with the number of requests waiting in it).
MAX_IN_FLIGHT = 256
# Share of each kind of request in the load (they add up to 1).
MIX = (("detail", 0.40), ("list", 0.15), ("search", 0.10), ("create", 0.12), ("update", 0.11), ("login", 0.12))


@dataclass(frozen=True)
class Outcome:
    """One request: what it was, when it left (seconds from the start), its answer and how long it took."""

    kind: str
    sent_at: float
    status: int | str  # an HTTP status, or "conn" / "timeout"
    seconds: float
    retry_after: bool


@dataclass
class Window:
    """One fault's window: [start, fault_end) is the fault, [fault_end, end) the recovery."""

    fault: str
    start: float
    fault_end: float = 0.0
    end: float = 0.0


@dataclass
class Ledger:
    """Acknowledged writes: the price each product must have now (cents), by id."""

    prices: dict[str, int] = field(default_factory=dict)
    acknowledged_at: dict[str, float] = field(default_factory=dict)  # seconds from the start, by id
    updatable: list[str] = field(default_factory=list)  # created and never updated: each is updated once at most


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Load:
    """The constant-rate mixed load, and what it saw."""

    def __init__(self, base_url: str, rate: float, timeout: float, users: list[tuple[str, str]]) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=64),
        )
        self.rate = rate
        self.users = users
        self.admin_token = ""
        self.products: list[str] = []
        self.outcomes: list[Outcome] = []
        self.ledger = Ledger()
        self.started = 0.0
        self.random = random.Random(20261126)  # noqa: S311 - a load pattern, not a secret
        self.serial = itertools.count()
        self.in_flight: set[asyncio.Task[None]] = set()
        self.transport_errors: list[str] = []  # what each dropped or refused connection said
        self.server_errors: list[str] = []  # 5xx other than 503, with their request ids

    def now(self) -> float:
        return time.monotonic() - self.started

    async def run(self, until: asyncio.Event) -> None:
        """Send `rate` requests a second until `until` is set."""
        self.started = time.monotonic()
        kinds = [kind for kind, _ in MIX]
        weights = [weight for _, weight in MIX]
        for index in itertools.count():
            if until.is_set():
                break
            due = self.started + index / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            kind = self.random.choices(kinds, weights)[0]
            if len(self.in_flight) >= MAX_IN_FLIGHT:
                self.outcomes.append(Outcome(kind, self.now(), "saturated", 0.0, False))
                continue
            task = asyncio.create_task(self.one(kind))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
        if self.in_flight:
            await asyncio.wait(self.in_flight)

    async def one(self, kind: str) -> None:
        sent = self.now()
        started = time.monotonic()
        status: int | str
        retry_after = False
        try:
            response, on_success = await self.request(kind)
            status = response.status_code
            if status >= 500 and status != 503:  # the request id finds the replica's log line
                self.server_errors.append(f"{self.now():.1f} s {kind}: {status} {response.headers.get('x-request-id')}")
            if status >= 500 and response.headers.get("content-type", "").startswith("application/problem+json"):
                status = f"{status} {response.json().get('type', '').rsplit('/', 1)[-1]}"  # e.g. 503 overloaded
            retry_after = "retry-after" in response.headers
            if on_success is not None and response.is_success:
                on_success(response)
        except httpx.TimeoutException:
            status = "timeout"
        except httpx.TransportError as error:
            status = "conn"
            self.transport_errors.append(f"{self.now():.1f} s {kind}: {type(error).__name__}: {error}")
        self.outcomes.append(Outcome(kind, sent, status, time.monotonic() - started, retry_after))

    async def request(self, kind: str) -> tuple[httpx.Response, Callable[[httpx.Response], None] | None]:
        admin = {"Authorization": f"Bearer {self.admin_token}"}
        if kind == "detail":
            return await self.client.get(f"{API}/products/{self.random.choice(self.products)}"), None
        if kind == "list":
            return await self.client.get(
                f"{API}/products", params={"page": self.random.randint(1, 3), "limit": 20}
            ), None
        if kind == "search":
            return await self.client.get(f"{API}/products/search", params={"q": self.random.choice("aeiou")}), None
        if kind == "login":
            username, password = self.random.choice(self.users)
            return await self.client.post(
                f"{API}/auth/login/json", json={"username": username, "password": password}
            ), None
        if kind == "update" and self.ledger.updatable:
            product_id = self.ledger.updatable.pop(self.random.randrange(len(self.ledger.updatable)))
            cents = 100_000 + next(self.serial)
            body = {"price": cents / 100}

            def updated(_: httpx.Response) -> None:
                self.ledger.prices[product_id] = cents
                self.ledger.acknowledged_at[product_id] = self.now()

            return await self.client.put(f"{API}/products/{product_id}", json=body, headers=admin), updated
        # A create (also an update's stand-in while nothing created is left to update).
        serial = next(self.serial)
        cents = 1_000 + serial
        product: dict[str, object] = {
            "name": f"chaos product {serial}",
            "sku": f"CHAOS-{serial:07d}",
            "price": cents / 100,
        }

        def created(response: httpx.Response) -> None:
            product_id = response.json()["id"]
            self.ledger.prices[product_id] = cents
            self.ledger.acknowledged_at[product_id] = self.now()
            self.ledger.updatable.append(product_id)

        return await self.client.post(f"{API}/products", json=product, headers=admin), created


@dataclass(frozen=True)
class Row:
    fault: str
    requests: int
    errors: Counter[str]
    p50_during: float
    p99_during: float
    p50_after: float
    p99_after: float
    recovery: float  # seconds from the fault's end to the last error; 0 when none came after it
    problems: list[str]


def ok(outcome: Outcome) -> bool:
    return isinstance(outcome.status, int) and outcome.status < 500


def summarize(window: Window, outcomes: Sequence[Outcome]) -> Row:
    inside = [o for o in outcomes if window.start <= o.sent_at < window.end]
    during = [o for o in inside if o.sent_at < window.fault_end]
    after = [o for o in inside if o.sent_at >= window.fault_end]
    failed = [o for o in inside if not ok(o)]
    errors = Counter(str(o.status) for o in failed)
    last_error = max((o.sent_at + o.seconds for o in failed), default=window.fault_end)
    recovery = max(0.0, last_error - window.fault_end)
    problems: list[str] = []
    if window.fault == "postgres-kill":
        wrong = [o for o in failed if not str(o.status).startswith("503") or not o.retry_after]
        if wrong:
            kinds = Counter(str(o.status) + ("" if o.retry_after else " without Retry-After") for o in wrong)
            problems.append(f"errors other than 503 + Retry-After: {dict(kinds)}")
    elif failed:
        problems.append(f"{len(failed)} errors seen by clients")
    if recovery > RECOVERY_TARGET_SECONDS:
        problems.append(f"recovered {recovery:.1f} s after the fault ended (target {RECOVERY_TARGET_SECONDS:.0f} s)")
    unexpected = Counter(str(o.status) for o in inside if isinstance(o.status, int) and 400 <= o.status < 500)
    if unexpected:
        problems.append(f"client errors {dict(unexpected)}")

    def ms(values: list[float], share: float) -> float:
        return percentile(values, share) * 1000

    return Row(
        window.fault,
        len(inside),
        errors,
        ms([o.seconds for o in during], 0.5),
        ms([o.seconds for o in during], 0.99),
        ms([o.seconds for o in after], 0.5),
        ms([o.seconds for o in after], 0.99),
        recovery,
        problems,
    )


def table(rows: Sequence[Row], lost: dict[str, int]) -> str:
    header = (
        "| fault | requests | errors by status | p50 / p99 during (ms) | p50 / p99 after (ms) "
        "| recovered after | acknowledged writes lost |"
    )
    lines = [header, "|---|---:|---|---:|---:|---:|---:|"]
    for row in rows:
        errors = ", ".join(f"{status}: {count}" for status, count in sorted(row.errors.items())) or "none"
        lines.append(
            f"| {row.fault} | {row.requests} | {errors} | {row.p50_during:.0f} / {row.p99_during:.0f} "
            f"| {row.p50_after:.0f} / {row.p99_after:.0f} | {row.recovery:.1f} s | {lost.get(row.fault, 0)} |"
        )
    return "\n".join(lines)


class Drill:
    """Everything of one run: the servers it owns, the load, the windows."""

    def __init__(self, arguments: argparse.Namespace) -> None:
        self.arguments = arguments
        self.root = Path(tempfile.mkdtemp(prefix="catalog-chaos-"))
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise SystemExit("chaos: PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        redis_binary = shutil.which("redis-server")
        if redis_binary is None:
            raise SystemExit("chaos: redis-server is not installed")
        self.redis_binary = redis_binary
        self.postgres = PostgresCluster(bin_dir, free_port())
        self.redis_port = free_port()
        self.redis: RedisServer | None = None
        self.cluster: Cluster | None = None
        self.admin_password = secrets.token_urlsafe(18)
        self.users = [(f"chaos-user-{n}", secrets.token_urlsafe(18)) for n in range(USERS)]
        self.windows: list[Window] = []
        self.load: Load | None = None
        self.phase = "starting"
        self.missed = False

    # The servers.

    def start_servers(self) -> None:
        say(f"chaos: PostgreSQL (port {self.postgres.port}), Redis (port {self.redis_port}), in {self.root}")
        self.postgres.initdb()
        self.postgres.start()
        self.start_redis()
        config = ClusterConfig(
            database_url=self.postgres.url,
            redis_url=f"redis://127.0.0.1:{self.redis_port}/0",
            run_dir=self.root / "cluster",
            replicas=self.arguments.replicas,
            secret_key=secrets.token_urlsafe(48),
            env={
                "ENVIRONMENT": "production",
                "LOG_LEVEL": "WARNING",  # the replicas' logs keep the faults, not one line per request
                "BCRYPT_ROUNDS": str(self.arguments.bcrypt_rounds),
                "ADMIN_USERNAME": ADMIN["username"],
                "ADMIN_EMAIL": ADMIN["email"],
                "ADMIN_PASSWORD": self.admin_password,
                # One client address sends everything here: per-address ceilings would starve the drill.
                "RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "1000000",
                "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": "1000000",
                "LOGIN_FAILURES_PER_ACCOUNT": "1000000",
            },
        )
        self.cluster = Cluster(config)
        say(f"chaos: migrations, {config.replicas} replicas, HAProxy ...")
        self.cluster.start()
        say(f"chaos: load balancer {self.cluster.url}")

    def start_redis(self) -> None:
        folder = self.root / "redis"
        folder.mkdir(exist_ok=True)
        self.redis = RedisServer(self.redis_binary, self.redis_port, folder)

    def stop_servers(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
        if self.redis is not None:
            self.redis.remove()
        self.postgres.remove()

    # Data for the load: an admin token, users that log in, products to read.

    async def seed(self, client: httpx.AsyncClient) -> tuple[str, list[str]]:
        login = await client.post(
            f"{API}/auth/login/json", json={"username": ADMIN["username"], "password": self.admin_password}
        )
        login.raise_for_status()
        token = login.json()["access_token"]
        for username, password in self.users:
            user = {"username": username, "email": f"{username}@example.com", "password": password}
            (await client.post(f"{API}/auth/register", json=user)).raise_for_status()
        products = []
        for n in range(SEED_PRODUCTS):
            body = {"name": f"seed {'aeiou'[n % 5]} lamp {n}", "sku": f"SEED-{n:04d}", "price": 10 + n}
            created = await client.post(f"{API}/products", json=body, headers={"Authorization": f"Bearer {token}"})
            created.raise_for_status()
            products.append(created.json()["id"])
        return token, products

    # The faults: each returns once the fault has ended (the server is back, or thawed).

    async def redis_kill(self) -> None:
        assert self.redis is not None
        self.redis.remove()  # SIGKILL
        await asyncio.sleep(self.arguments.down_seconds)
        await asyncio.to_thread(self.start_redis)

    async def redis_stop(self) -> None:
        assert self.redis is not None
        self.redis.freeze()
        await asyncio.sleep(REDIS_FREEZE_SECONDS)
        self.redis.thaw()

    async def postgres_kill(self) -> None:
        for pid in self.postgres.processes():
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(self.arguments.down_seconds)
        await asyncio.to_thread(self.postgres.start)

    async def rolling_restart(self) -> None:
        assert self.cluster is not None
        for index in range(len(self.cluster.replicas)):
            self.phase = f"rolling-restart: replica {index + 1}"
            await asyncio.to_thread(self.cluster.restart, index)
            await asyncio.sleep(2)  # the load balancer's checks find it ready (rise 2, every 250 ms)

    # The run.

    async def run(self) -> int:
        assert self.cluster is not None
        faults: dict[str, Callable[[], Awaitable[None]]] = {
            "redis-kill": self.redis_kill,
            "redis-stop": self.redis_stop,
            "postgres-kill": self.postgres_kill,
            "rolling-restart": self.rolling_restart,
        }
        async with httpx.AsyncClient(base_url=self.cluster.url, timeout=30) as client:
            token, products = await self.seed(client)
        load = Load(self.cluster.url, self.arguments.rate, self.arguments.timeout, self.users)
        load.admin_token, load.products = token, products
        self.load = load
        done = asyncio.Event()
        sending = asyncio.create_task(load.run(done))
        progress = asyncio.create_task(self.report_progress())
        try:
            await asyncio.sleep(self.arguments.after_seconds)  # a calm start, outside every window
            for fault in self.arguments.faults:
                window = Window(fault, load.now())
                self.windows.append(window)
                self.phase = f"{fault}: fault"
                await faults[fault]()
                window.fault_end = load.now()
                self.phase = f"{fault}: recovery"
                await asyncio.sleep(self.arguments.after_seconds)
                window.end = load.now()
        finally:
            done.set()
            await sending
            progress.cancel()
        lost = await self.lost_writes(load)
        rows = [summarize(window, load.outcomes) for window in self.windows]
        print()
        print(
            f"{len(load.outcomes)} requests at {self.arguments.rate:g}/s through {len(self.cluster.replicas)} replicas"
        )
        print(table(rows, lost))
        failures = [f"{row.fault}: {problem}" for row in rows for problem in row.problems]
        failures += [f"{fault}: {count} acknowledged writes lost" for fault, count in lost.items() if count]
        for line in load.transport_errors[:10]:
            print(f"connection error at {line}")
        for line in load.server_errors[:10]:
            print(f"server error at {line} (request id)")
        for failure in failures:
            print(f"MISSED  {failure}")
        if not failures:
            print(
                "every target met: no client error for the Redis faults and the rolling restart, only 503 with "
                "Retry-After while PostgreSQL was down, recovery within 5 s, no acknowledged write lost"
            )
        self.missed = bool(failures)
        return 1 if failures else 0

    async def report_progress(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self.load is None:
                continue
            outcomes = self.load.outcomes
            recent = [o for o in outcomes if o.sent_at >= self.load.now() - 5]
            errors = sum(1 for o in recent if not ok(o))
            say(
                f"[{self.load.now():6.1f} s] {self.phase:<34} {len(outcomes):>6} answered, last 5 s: "
                f"{len(recent)} ({errors} errors), {len(self.load.in_flight)} in flight"
            )

    async def lost_writes(self, load: Load) -> dict[str, int]:
        """Acknowledged writes missing from the database, by the window they were acknowledged in."""
        dsn = self.postgres.url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch("SELECT id::text AS id, price_cents FROM products WHERE deleted_at IS NULL")
        finally:
            await connection.close()
        stored = {row["id"]: row["price_cents"] for row in rows}
        missing = [product_id for product_id, cents in load.ledger.prices.items() if stored.get(product_id) != cents]
        if not missing:
            return {}
        say(f"chaos: {len(missing)} acknowledged writes are not in the database: {missing[:5]} ...")

        def window_of(product_id: str) -> str:
            at = load.ledger.acknowledged_at[product_id]
            return next((w.fault for w in self.windows if w.start <= at < w.end), "(before the first fault)")

        return dict(Counter(window_of(product_id) for product_id in missing))


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/chaos",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rate", type=float, default=60.0, help="requests a second through the load balancer (60)")
    parser.add_argument("--replicas", type=int, default=3, help="API replicas (3)")
    parser.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS), help="which, in order (all)")
    parser.add_argument("--down-seconds", type=float, default=10.0, help="how long a killed server stays down (10)")
    parser.add_argument("--after-seconds", type=float, default=15.0, help="the recovery part of each window (15)")
    parser.add_argument("--timeout", type=float, default=10.0, help="a request without an answer by then fails (10)")
    parser.add_argument(
        "--bcrypt-rounds", type=int, default=4, help="cost of the logins' hashes (4: the load is CPU-bound)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the replicas' and HAProxy's logs (their folder is printed)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    drill = Drill(arguments)
    try:
        drill.start_servers()
        return asyncio.run(drill.run())
    finally:
        drill.stop_servers()
        if arguments.keep or drill.missed:
            say(f"chaos: the replicas' and HAProxy's logs are in {drill.root / 'cluster'}")
        else:
            shutil.rmtree(drill.root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
