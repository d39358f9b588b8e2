"""Prometheus metrics of the process (prometheus-client), multi-process safe.

With `PROMETHEUS_MULTIPROC_DIR` set before the process starts (as for
`--workers N`: a directory shared by the workers, which `impl.serve` empties of
earlier runs' files at each start), every worker writes its values there and a scrape of any worker
reports all of them (gauges summed over live workers, `livesum`). Without it,
the process reports its own.

The layers below the services never import this: the composition hands them
callbacks (`on_lookup`, `on_waiting`) and a sampler of the database pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

# The exposition format's own Content-Type parameters (prometheus_client.CONTENT_TYPE_LATEST).
EXPOSITION_PARAMETERS = "version=0.0.4; charset=utf-8"
OUTSIDE_OPERATIONS = "none"  # the `operation` of 404s, 405s and the documentation routes

REQUESTS = Counter("http_requests_total", "Requests answered, by operationId and status.", ["operation", "status"])
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the request's arrival to its answer, by operationId.",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CACHE_LOOKUPS = Counter(
    "catalog_product_cache_lookups_total", "Product answers looked up in the cache, by result.", ["result"]
)
DB_IN_USE = Gauge(
    "catalog_db_connections_in_use",
    "Database connections checked out of the pool (sampled as each request ends and at each scrape).",
    multiprocess_mode="livesum",
)
STATEMENT_TIMEOUTS = Counter(
    "catalog_db_statement_timeouts_total",
    "Database statements the server cancelled at the time limit (DATABASE_TIMEOUT_SECONDS) that a request met.",
)
VIEWS_DROPPED = Counter(
    "catalog_views_dropped_total",
    "Product views not recorded: dropped from a full queue, or in a batch the database refused.",
)
HASH_WAITING = Gauge(
    "catalog_password_hash_waiting",
    "Requests waiting for a password-hashing slot.",
    multiprocess_mode="livesum",
)


def observe_request(operation_id: str | None, status: int | None, seconds: float) -> None:
    """The contract router's `observe` callback."""
    operation = operation_id or OUTSIDE_OPERATIONS
    REQUESTS.labels(operation, str(status) if status is not None else "none").inc()
    DURATION.labels(operation).observe(seconds)


def statement_timed_out() -> None:
    STATEMENT_TIMEOUTS.inc()


def cache_lookup(hit: bool, seconds: float) -> None:
    """The product cache's `on_lookup` callback (the time is the tracing's, not counted here)."""
    CACHE_LOOKUPS.labels("hit" if hit else "miss").inc()


def views_dropped(count: int) -> None:
    """The view recorder's `on_dropped` callback."""
    VIEWS_DROPPED.inc(count)


def hashing_waiting(count: int) -> None:
    HASH_WAITING.set(count)


def exposition() -> bytes:
    """Every metric in the text format: this process's, or every worker's in multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def pool_sampler(in_use: Callable[[], int]) -> Callable[[], None]:
    def sample() -> None:
        DB_IN_USE.set(in_use())

    return sample
