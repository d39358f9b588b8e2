"""OpenTelemetry tracing, seen by a collector: the API as a process, its spans exported over OTLP/HTTP
to a loopback receiver of the test's own (tests/otlp_receiver.py), decoded from protobuf."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from impl.observability import tracing_requested
from impl.settings import Settings
from tests.conftest import ADMIN, TEST_REDIS_URL, free_port
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.servers import ApiServer

ROOT = Path(__file__).resolve().parent.parent
SERVER, INTERNAL = 2, 1  # opentelemetry.proto.trace.v1.Span.SpanKind
STATUS_UNSET, STATUS_ERROR = 0, 2
TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def api_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """This environment without the app's settings or OpenTelemetry's, plus the test's own."""
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names and not k.startswith("OTEL_")}
    env.update(
        ENVIRONMENT="test",
        DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.resolved_database_url(),
        CACHE_PREFIX=settings.cache_prefix,
        SECRET_KEY="tracing-test-secret-" + uuid.uuid4().hex,
        BCRYPT_ROUNDS="4",
        ADMIN_EMAIL=ADMIN["email"],
        ADMIN_USERNAME=ADMIN["username"],
        ADMIN_PASSWORD=ADMIN["password"],
        LOG_FORMAT="json",
        **extra,
    )
    if TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
    return env


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    started = OtlpReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def traced_api(settings: Settings, tmp_path: Path, receiver: OtlpReceiver) -> Iterator[ApiServer]:
    """The API as scripts/serve runs it, its spans going to `receiver`, at most one request served at once.

    The batch processor's default delay (5 s) is kept: the spans reach the receiver through the
    flush at shutdown, which the tests rely on by stopping the server before they look."""
    port = free_port()
    env = api_environment(settings, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, MAX_IN_FLIGHT="1")
    command = [sys.executable, "-m", "impl.serve", "--host", "127.0.0.1", "--port", str(port)]
    with ApiServer.running(command, env, tmp_path / "api.log", port) as server:
        yield server


def stopped(server: ApiServer) -> None:
    server.stop()
    assert server.process.returncode == 0, server.log.read_text()


def only(spans: list[ReceivedSpan], **wanted: Any) -> ReceivedSpan:
    found = [span for span in spans if all(getattr(span, k) == v for k, v in wanted.items())]
    assert len(found) == 1, (wanted, spans)
    return found[0]


def server_span(spans: list[ReceivedSpan], request_id: str) -> ReceivedSpan:
    found = [s for s in spans if s.kind == SERVER and s.attributes.get("catalog.request_id") == request_id]
    assert len(found) == 1, (request_id, [(s.name, s.attributes) for s in spans])
    return found[0]


def test_each_request_is_one_server_span_named_by_its_operation_that_joins_an_incoming_trace(
    traced_api: ApiServer, receiver: OtlpReceiver
) -> None:
    missing = uuid.uuid4()
    with httpx.Client(base_url=traced_api.url) as client:
        joined_headers = {"traceparent": TRACEPARENT, "X-Request-ID": "t-joined"}
        assert client.get("/health", headers=joined_headers).status_code == 200
        assert client.get(f"/api/v1/products/{missing}", headers={"X-Request-ID": "t-root"}).status_code == 404
        assert client.get("/nowhere", headers={"X-Request-ID": "t-outside"}).status_code == 404
        assert client.delete("/health", headers={"X-Request-ID": "t-method"}).status_code == 405
    stopped(traced_api)  # the spans are still in the batch: shutdown flushes them
    spans = receiver.wait_for(4, within=5)

    joined = server_span(spans, "t-joined")
    assert joined.name == "getLiveness"
    assert (joined.trace_id, joined.parent_span_id) == (TRACE_ID, PARENT_ID), "the caller's trace, under its span"
    assert joined.status_code == STATUS_UNSET
    assert joined.start_ns < joined.end_ns
    assert {k: joined.attributes.get(k) for k in ("http.request.method", "http.route", "url.path")} == {
        "http.request.method": "GET",
        "http.route": "/health",
        "url.path": "/health",
    }
    assert joined.attributes["http.response.status_code"] == 200
    assert joined.resource["service.name"] == "catalog-api"
    assert joined.resource["service.version"]

    root = server_span(spans, "t-root")
    assert root.name == "getProduct"
    assert root.parent_span_id == "", "no traceparent: a trace of its own"
    assert root.trace_id not in ("", TRACE_ID)
    assert root.attributes["http.route"] == "/api/v1/products/{product_id}"
    assert root.attributes["url.path"] == f"/api/v1/products/{missing}"
    assert (root.attributes["http.response.status_code"], root.status_code) == (404, STATUS_UNSET), "4xx: no error"

    outside = server_span(spans, "t-outside")
    assert outside.name == "GET"
    assert "http.route" not in outside.attributes
    assert outside.attributes["http.response.status_code"] == 404

    method = server_span(spans, "t-method")
    assert method.name == "DELETE /health"
    assert method.attributes["http.route"] == "/health"
    assert method.attributes["http.response.status_code"] == 405

    lines = [json.loads(line) for line in traced_api.log_lines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "contract_runtime.access"]
    by_id = {line["request_id"]: line for line in access}
    assert (by_id["t-joined"]["trace_id"], by_id["t-joined"]["span_id"]) == (TRACE_ID, joined.span_id)
    assert by_id["t-root"]["trace_id"] == root.trace_id
    assert all(line["trace_id"] is None for line in lines if line["logger"] == "uvicorn.error"), "outside a request"


def test_a_5xx_answer_marks_its_span_as_an_error(traced_api: ApiServer, receiver: OtlpReceiver) -> None:
    # MAX_IN_FLIGHT=1: a registration whose body is half sent holds the one place, so a read is shed (503).
    held = socket.create_connection(("127.0.0.1", traced_api.port))
    body = b'{"email": "held@example.com", "username": "held", "password": "Lunar-Kite-Orchard-58"}'
    head = "POST /api/v1/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    head += f"X-Request-ID: t-held\r\nContent-Length: {len(body)}\r\n\r\n"
    held.sendall(head.encode() + body[:10])
    try:
        with httpx.Client(base_url=traced_api.url) as client:
            for _ in range(50):  # until the held request is in flight
                shed = client.get(f"/api/v1/products/{uuid.uuid4()}", headers={"X-Request-ID": "t-shed"})
                if shed.status_code == 503:
                    break
        assert shed.status_code == 503, shed.text
    finally:
        held.close()
    stopped(traced_api)
    spans = receiver.wait_for(2, within=5)
    failed = [s for s in spans if s.kind == SERVER and s.attributes.get("http.response.status_code") == 503]
    assert failed, spans
    assert all(s.name == "getProduct" for s in failed)
    assert all(s.status_code == STATUS_ERROR and s.attributes["error.type"] == "503" for s in failed)


def test_product_cache_lookups_are_child_spans_of_their_request(traced_api: ApiServer, receiver: OtlpReceiver) -> None:
    with httpx.Client(base_url=traced_api.url) as client:
        login = client.post("/api/v1/auth/login", data={"username": ADMIN["username"], "password": ADMIN["password"]})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        created = client.post("/api/v1/products", json={"name": "Lamp", "price": 12.5, "sku": "LAMP-TRACE"})
        assert created.status_code == 201, created.text
        url = f"/api/v1/products/{created.json()['id']}"
        first = client.get(url, headers={"X-Request-ID": "t-miss"})
        second = client.get(url, headers={"X-Request-ID": "t-hit"})
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    stopped(traced_api)
    spans = receiver.wait_for(6, within=5)
    for request_id, hit in (("t-miss", False), ("t-hit", True)):
        parent = server_span(spans, request_id)
        child = only(spans, parent_span_id=parent.span_id)
        assert (child.name, child.kind, child.trace_id) == ("product_cache.fetch", INTERNAL, parent.trace_id)
        assert child.attributes == {"catalog.cache.hit": hit}
        assert parent.start_ns <= child.start_ns <= child.end_ns <= parent.end_ns


NOTHING_IMPORTED = """
import asyncio, json, sys
import httpx
from impl.app import create_app

async def main() -> None:
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/health")).status_code == 200

asyncio.run(main())
# FastAPI 0.165 imports opentelemetry-api, and redis-py 8.1 the SDK's metrics when it is installed; both
# stay idle without a provider. The trace SDK, the exporter and our tracing module are what tracing adds.
traced = ("opentelemetry.sdk.trace", "opentelemetry.exporter", "opentelemetry.proto", "impl.observability.tracing")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(traced))))
"""


def opentelemetry_modules_after_a_request(settings: Settings, **extra: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", NOTHING_IMPORTED],
        env=api_environment(settings, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def test_without_an_otlp_endpoint_neither_the_trace_sdk_nor_the_exporter_is_imported(settings: Settings) -> None:
    assert opentelemetry_modules_after_a_request(settings) == []
    # The check sees it when it is there (an endpoint nobody listens on: the spans are dropped).
    endpoint = f"http://127.0.0.1:{free_port()}"
    assert "opentelemetry.sdk.trace" in opentelemetry_modules_after_a_request(
        settings, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_TIMEOUT="1"
    )


@pytest.mark.parametrize(
    ("environment", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_tracing_is_on_only_with_an_otlp_endpoint(environment: dict[str, str], on: bool) -> None:
    assert tracing_requested(environment) is on
