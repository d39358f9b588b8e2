"""Request ids, log lines and metrics, seen through the HTTP API."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any
from unittest.mock import patch

import anyio.lowlevel
import httpx
import pytest

from contract_runtime.asgi import AccessEntry
from impl.app import create_app
from impl.observability.logs import (
    TRACED_TEXT_FORMAT,
    AccessLog,
    JsonFormatter,
    LogFormat,
    RequestIdFilter,
    TraceIdFilter,
    configure_logging,
)
from impl.serve import clear_multiprocess_dir
from impl.services.health import HealthService
from impl.settings import Settings
from tests.conftest import TEST_REDIS_URL, client_for, free_port
from tests.helpers import samples, value
from tests.servers import ApiServer

pytestmark = pytest.mark.anyio

GENERATED_ID = re.compile(r"[0-9a-f]{32}\Z")
ACCESS = "contract_runtime.access"


async def test_a_sane_client_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "edge-7f3a.42:retry_1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "edge-7f3a.42:retry_1"


@pytest.mark.parametrize("sent", ["has space", "x" * 129, "semi;colon", "", "émoji"])
async def test_an_insane_client_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/health", headers={b"X-Request-ID": sent.encode()})
    assert GENERATED_ID.match(response.headers["x-request-id"]), response.headers["x-request-id"]


async def test_every_kind_of_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("/health"),
        await client.get("/no/such/path"),
        await client.delete("/health"),
        await client.get("/docs"),
        await client.get("/openapi.json"),
        await client.get(f"/api/v1/products/{uuid.uuid4()}"),
        await client.get("/api/v1/products?page=0"),
        await client.get("/api/v1/auth/me"),
    ]
    ids = [answer.headers.get("x-request-id") for answer in answers]
    assert all(ids), [(a.request.url.path, a.status_code) for a in answers if not a.headers.get("x-request-id")]
    assert len(set(ids)) == len(ids), "each request gets its own id"
    assert [answer.headers.get_list("x-request-id") for answer in answers] == [[i] for i in ids], "exactly one"


async def test_problem_bodies_carry_the_request_id(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/nowhere", headers={"X-Request-ID": "abc-1"}),
        await client.post("/health", headers={"X-Request-ID": "abc-2"}),
        await client.get("/api/v1/products?page=0", headers={"X-Request-ID": "abc-3"}),
        await client.get(f"/api/v1/products/{uuid.uuid4()}", headers={"X-Request-ID": "abc-4"}),
        await client.get("/api/v1/users", headers={"X-Request-ID": "abc-5"}),
    ):
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["x-request-id"]
        assert response.json()["request_id"].startswith("abc-")


def _access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ACCESS]


# The JSON access line's keys, in order (LOG_FORMAT=json; trace_id and span_id only with tracing).
ACCESS_KEYS = [
    "time", "level", "logger", "message", "request_id", "method", "route", "path", "operation_id", "status",
    "duration_ms",
]  # fmt: skip


async def test_one_access_line_per_request_with_route_operation_status_and_duration(
    make_app_settings: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    product_id = uuid.uuid4()
    app = create_app(make_app_settings(log_format="json"))
    try:
        async with app.router.lifespan_context(app), client_for(app) as client:
            capfd.readouterr()
            await client.get(f"/api/v1/products/{product_id}", headers={"X-Request-ID": "line-1"})
            await client.get('/missing/"quoted"/é', headers={"X-Request-ID": "line-2"})
        err = capfd.readouterr().err
    finally:
        configure_logging("text")
    first, second = [line for line in map(json.loads, err.splitlines()) if line["logger"] == ACCESS]
    assert list(first) == ACCESS_KEYS
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"]), first["time"]
    assert first["duration_ms"] >= 0
    assert {k: v for k, v in first.items() if k not in ("time", "duration_ms", "message")} == {
        "level": "INFO",
        "logger": ACCESS,
        "request_id": "line-1",
        "method": "GET",
        "route": "/api/v1/products/{product_id}",
        "path": f"/api/v1/products/{product_id}",
        "operation_id": "getProduct",
        "status": 404,
    }
    assert first["message"] == f"GET /api/v1/products/{{product_id}} getProduct 404 {first['duration_ms']:.2f} ms"
    assert (second["route"], second["operation_id"], second["status"]) == (None, None, 404)
    assert (second["path"], second["request_id"]) == ('/missing/"quoted"/é', "line-2")


async def test_access_log_false_turns_the_access_line_off_alone(
    make_app_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_app_settings(access_log=False))
    try:
        async with app.router.lifespan_context(app), client_for(app) as client:
            with caplog.at_level(logging.INFO):
                await client.get("/health", headers={"X-Request-ID": "quiet-1"})
                logging.getLogger("impl").info("an app line")
    finally:
        configure_logging("text")
    assert _access_records(caplog) == []
    assert [record.getMessage() for record in caplog.records if record.name == "impl"] == ["an app line"]
    assert logging.getLogger(ACCESS).getEffectiveLevel() == logging.INFO, "configure_logging('text') turns it on"


async def test_app_lines_carry_the_request_id(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A line written while serving (here the traceback of a bug) has the request's id, as its problem body."""

    async def broken(self: HealthService) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(HealthService, "get_liveness", broken)
    app = create_app(settings)
    caplog.handler.addFilter(RequestIdFilter())
    # Not the checking client: a bug's 500 is outside the spec by definition.
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        capfd.readouterr()
        with caplog.at_level(logging.INFO):
            response = await client.get("/health", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert response.json()["request_id"] == "bug-1"
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failures
    assert all(r.request_id == "bug-1" for r in failures)  # type: ignore[attr-defined]
    access = [line for line in capfd.readouterr().err.splitlines() if f" INFO {ACCESS} " in line]
    assert [line.split(f" INFO {ACCESS} ", 1)[1].split(" ms")[0].rsplit(" ", 1)[0] for line in access] == [
        "[bug-1] GET /health getLiveness 500"
    ]


def test_json_lines_are_one_object_each_with_the_access_fields() -> None:
    record = logging.LogRecord(ACCESS, logging.INFO, __file__, 1, "GET %s", ("/health",), None)
    for name, given in {"method": "GET", "route": "/health", "operation_id": "getLiveness", "status": 200}.items():
        setattr(record, name, given)
    record.duration_ms = 0.42
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    document = json.loads(line)
    assert document["message"] == "GET /health"
    assert document["request_id"] == "-"
    assert {k: document[k] for k in ("method", "route", "operation_id", "status", "duration_ms")} == {
        "method": "GET",
        "route": "/health",
        "operation_id": "getLiveness",
        "status": 200,
        "duration_ms": 0.42,
    }
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "\n" not in JsonFormatter().format(failed)
    assert "ValueError" in json.loads(JsonFormatter().format(failed))["exception"]


ODD_ENTRIES = [
    AccessEntry("GET", "/api/v1/products/{product_id}", "/api/v1/products/x", "getProduct", 200, 0.42, "rid-1"),
    AccessEntry("DELETE", None, '/a "quoted"\\path\n\t\x00\u2028é😀', None, None, 12345.67, "-"),
    AccessEntry("POST", "/api/v1/products", "/api/v1/products", "createProduct", 503, 0.0, "x" * 128),
]


@pytest.mark.parametrize("traced", [None, ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")])
@pytest.mark.parametrize("entry", ODD_ENTRIES)
def test_the_access_line_has_the_fields_the_logging_formatters_give_it(
    entry: AccessEntry, traced: tuple[str, str] | None
) -> None:
    """AccessLog writes without the logging machinery: its lines hold what a LogRecord of the line, through
    the formatters, would (every field, in order; text: the same line)."""
    record = logging.LogRecord(ACCESS, logging.INFO, __file__, 1, "%s", (entry.message,), None)
    record.__dict__.update(asdict(entry))
    record.created = 1_765_000_000.987654
    record.msecs = 987.0
    tracing = TraceIdFilter(lambda: traced)
    tracing.filter(record)

    def written(log_format: LogFormat) -> str:
        stream = io.StringIO()
        access = AccessLog(log_format, trace_ids=lambda: traced, stream=stream)
        with patch("impl.observability.logs.time.time", return_value=record.created):
            access(entry)  # no running loop here: written at once
        return stream.getvalue()

    line = written("json")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert list(json.loads(line).items()) == list(json.loads(JsonFormatter().format(record)).items())
    text = logging.Formatter(TRACED_TEXT_FORMAT).format(record)
    assert written("text") == text + "\n"


async def test_access_lines_of_one_loop_turn_are_written_together_and_flushed_at_shutdown() -> None:
    stream = io.StringIO()
    access = AccessLog("json", stream=stream)
    access(ODD_ENTRIES[0])
    access(ODD_ENTRIES[2])
    assert stream.getvalue() == "", "written at the end of the loop's turn"
    await anyio.lowlevel.checkpoint()  # one turn of the loop
    # Split on newlines only: a JSON line may hold U+2028 as is (json.dumps with ensure_ascii=False does too).
    assert [json.loads(line)["request_id"] for line in stream.getvalue().split("\n")[:-1]] == ["rid-1", "x" * 128]
    access(ODD_ENTRIES[1])
    access.flush()
    assert stream.getvalue().count("\n") == 3


async def test_log_format_json_writes_json_lines_to_stderr(
    make_app_settings: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    settings: Settings = make_app_settings(log_format="json")
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app), client_for(app) as client:
            capfd.readouterr()
            await client.get("/health", headers={"X-Request-ID": "json-1"})
        err = capfd.readouterr().err
    finally:
        configure_logging("text")
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == ACCESS]
    assert len(access) == 1, err
    assert list(access[0]) == ACCESS_KEYS
    assert access[0]["request_id"] == "json-1"
    assert access[0]["operation_id"] == "getLiveness"
    assert access[0]["status"] == 200
    assert access[0]["route"] == "/health"


@pytest.fixture
def make_app_settings(settings: Settings, tmp_path: Path) -> Any:
    def build(**overrides: Any) -> Settings:
        return settings.model_copy(update=overrides)

    return build


# --- metrics ----------------------------------------------------------------------------------------


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return samples(response.text)


async def test_metrics_count_requests_by_operation_and_status(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    await client.get("/health")
    await client.get("/health")
    await client.get(f"/api/v1/products/{uuid.uuid4()}")
    await client.get("/nowhere")
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("http_requests_total", operation="getLiveness", status="200") == 2
    assert grew("http_requests_total", operation="getProduct", status="404") == 1
    assert grew("http_requests_total", operation="none", status="404") == 1
    assert grew("http_requests_total", operation="getMetrics", status="200") == 1  # the first scrape
    assert grew("http_request_duration_seconds_count", operation="getLiveness") == 2
    assert grew("http_request_duration_seconds_bucket", operation="getLiveness", le="+Inf") == 2
    assert ("catalog_db_connections_in_use", frozenset()) in after
    assert value(after, "catalog_password_hash_waiting") == 0


async def test_metrics_count_cache_hits_and_misses(admin_client: httpx.AsyncClient) -> None:
    created = await admin_client.post("/api/v1/products", json={"name": "Lamp", "price": 12.5, "sku": "LAMP-1"})
    assert created.status_code == 201
    url = f"/api/v1/products/{created.json()['id']}"
    before = await scrape(admin_client)
    first, second = await admin_client.get(url), await admin_client.get(url)
    after = await scrape(admin_client)
    hits = value(after, "catalog_product_cache_lookups_total", result="hit") - value(
        before, "catalog_product_cache_lookups_total", result="hit"
    )
    misses = value(after, "catalog_product_cache_lookups_total", result="miss") - value(
        before, "catalog_product_cache_lookups_total", result="miss"
    )
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert (hits, misses) == (1, 1)


WORKER = """
import sys
from impl.observability import metrics
for _ in range(int(sys.argv[1])):
    metrics.observe_request("getLiveness", 200, 0.001)
metrics.hashing_waiting(int(sys.argv[1]))
"""
SCRAPER = "import sys; from impl.observability import metrics; sys.stdout.write(metrics.exposition().decode())"


def test_with_a_multiprocess_directory_one_scrape_reports_every_worker(tmp_path: Path) -> None:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parent.parent
    for count in ("2", "3"):
        subprocess.run([sys.executable, "-c", WORKER, count], env=environment, cwd=root, check=True)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPER], env=environment, cwd=root, check=True, capture_output=True, text=True
    ).stdout
    found = samples(scraped)
    assert value(found, "http_requests_total", operation="getLiveness", status="200") == 5
    assert value(found, "catalog_password_hash_waiting") == 5  # livesum: both "workers" are still on disk


def test_clearing_the_multiprocess_directory_creates_it_and_removes_only_metric_files(tmp_path: Path) -> None:
    folder = tmp_path / "missing" / "metrics"
    assert clear_multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": str(folder)}) == 0
    assert folder.is_dir()
    for name in ("counter_123.db", "gauge_livesum_123.db", "histogram_9.db"):
        (folder / name).write_bytes(b"stale")
    (folder / "README").write_text("not ours")
    assert clear_multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": str(folder)}) == 3
    assert sorted(path.name for path in folder.iterdir()) == ["README"]
    assert clear_multiprocess_dir({}) == 0


def test_a_server_started_on_a_stale_multiprocess_directory_reports_only_its_own_counts(
    settings: Settings, tmp_path: Path, redis_server: tuple[subprocess.Popen[bytes], str], postgres_database: str
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    root = Path(__file__).resolve().parent.parent
    stale_env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    subprocess.run([sys.executable, "-c", WORKER, "7"], env=stale_env, cwd=root, check=True)  # a dead run's counts
    assert list(folder.glob("*.db"))
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names and not k.startswith("OTEL_")}
    env.update(
        PROMETHEUS_MULTIPROC_DIR=str(folder),
        ENVIRONMENT="test",
        DATA_DIR=str(tmp_path),
        DATABASE_URL=postgres_database,  # two workers need PostgreSQL and Redis (impl.serve refuses otherwise)
        CACHE_PREFIX=settings.cache_prefix,
        SECRET_KEY="metrics-test-secret-" + uuid.uuid4().hex,
    )
    env["REDIS_URL"] = TEST_REDIS_URL or redis_server[1]
    port = free_port()
    command = [sys.executable, "-m", "impl.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with (
        ApiServer.running(command, env, tmp_path / "api.log", port) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        for _ in range(3):
            assert client.get("/health").status_code == 200
        found = samples(client.get("/metrics").text)
    assert value(found, "http_requests_total", operation="getLiveness", status="200") == 3, server.log.read_text()
    assert value(found, "catalog_password_hash_waiting") == 0
