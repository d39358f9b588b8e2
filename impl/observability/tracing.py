"""OpenTelemetry tracing (opentelemetry-sdk, OTLP over HTTP/protobuf), on only when an OTLP endpoint is set.

`impl.app` imports this module only when `tracing_requested()` says so
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set):
otherwise neither the trace SDK nor the exporter is imported, and nothing of
OpenTelemetry runs per request. (FastAPI 0.165 imports opentelemetry-api
itself, and redis-py 8.1 the SDK's metrics module when it is installed: both
stay idle without a provider, and FastAPI's own telemetry is off in `impl.app`.)

Each request is one SERVER span, opened by the contract router's `trace` hook
as the request arrives. It joins the trace of an incoming W3C `traceparent`
(the propagators of `OTEL_PROPAGATORS`, W3C trace context and baggage by
default), is named by the operationId (else `METHOD route`, else `METHOD`),
and carries the HTTP semantic conventions' attributes (`http.request.method`,
`url.path`, `url.scheme`, `http.route`, `http.response.status_code`, ...) plus
`catalog.request_id`; a 5xx answer sets the span's status to ERROR and
`error.type` to the status code. While the request is served the span is
current: log lines carry its trace id, and product-cache lookups become child
spans (`product_cache.fetch`, after the fact, from the cache's `on_lookup`
callback: the layers below never import OpenTelemetry).

The SDK reads the standard variables itself: `OTEL_SERVICE_NAME` (default here
`catalog-api`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`,
`OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`/`TIMEOUT`/`COMPRESSION`, `OTEL_BSP_*`.
Spans are exported in batches from a background thread (BatchSpanProcessor),
flushed at shutdown within `FLUSH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from contract_runtime.asgi import Scope

logger = logging.getLogger(__name__)

DEFAULT_SERVICE_NAME = "catalog-api"
FLUSH_SECONDS = 5.0  # the longest shutdown waits for the last spans to reach the collector
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
REQUEST_ID_ATTRIBUTE = "catalog.request_id"


def resource(version: str, environ: Mapping[str, str] = os.environ) -> Resource:
    """The process's resource: the SDK's detectors (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) over ours."""
    detected = Resource.create({SERVICE_VERSION: version})
    if str(detected.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        detected = detected.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return detected


class RequestSpan:
    """One request's SERVER span, current from its start until `end`."""

    __slots__ = ("_method", "_span", "_token")

    def __init__(self, span: trace.Span, token: object, method: str) -> None:
        self._span = span
        self._token = token
        self._method = method

    def end(self, route: str | None, operation_id: str | None, status: int | None) -> None:
        span = self._span
        try:
            if route is not None:
                span.set_attribute("http.route", route)
            span.update_name(operation_id or (f"{self._method} {route}" if route else self._method))
            if status is not None:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_attribute("error.type", str(status))
                    span.set_status(Status(StatusCode.ERROR))
            span.end()
        finally:
            otel_context.detach(self._token)  # type: ignore[arg-type]


class Tracing:
    """The process's tracer provider and the callbacks the composition hands the router and the cache."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("catalog-api")
        self._fields = tuple(field.encode("latin-1") for field in propagate.get_global_textmap().fields)

    @classmethod
    def start(cls, version: str, exporter: SpanExporter | None = None) -> Tracing:
        """Spans exported in batches to the OTLP/HTTP endpoint of the environment (or to `exporter`)."""
        # The provider is ours, not the global one: a second app in one process (the tests) gets its own.
        provider = TracerProvider(resource=resource(version), shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter()))
        return cls(provider)

    def request(self, scope: Scope, request_id: str) -> RequestSpan:
        """The router's `trace` hook: a SERVER span for this request, made current."""
        carrier = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"] if name in self._fields
        }
        parent = propagate.extract(carrier) if carrier else None
        method: str = scope["method"]
        attributes: dict[str, str | int] = {
            "http.request.method": method if method in KNOWN_METHODS else "_OTHER",
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
            REQUEST_ID_ATTRIBUTE: request_id,
        }
        if method not in KNOWN_METHODS:
            attributes["http.request.method_original"] = method
        client = scope.get("client")
        if client:
            attributes["client.address"] = client[0]
        server = scope.get("server")
        if server:
            attributes["server.address"], attributes["server.port"] = server[0], server[1]
        for name, value in scope["headers"]:
            if name == b"user-agent":
                attributes["user_agent.original"] = value.decode("latin-1")
        span = self._tracer.start_span(
            method if method in KNOWN_METHODS else "HTTP", context=parent, kind=SpanKind.SERVER, attributes=attributes
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return RequestSpan(span, token, method)

    def cache_lookup(self, hit: bool, seconds: float) -> None:
        """The product cache's `on_lookup`: a child span of the request, laid where the lookup ran."""
        end = time.time_ns()
        span = self._tracer.start_span(
            "product_cache.fetch",
            kind=SpanKind.INTERNAL,
            attributes={"catalog.cache.hit": hit},
            start_time=end - int(seconds * 1e9),
        )
        span.end(end_time=end)

    @staticmethod
    def current_ids() -> tuple[str, str] | None:
        """The current span's trace and span ids (hex), for log lines; None outside a span."""
        span_context = trace.get_current_span().get_span_context()
        if not span_context.is_valid:
            return None
        return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")

    async def close(self, within: float = FLUSH_SECONDS) -> None:
        """Export what is queued and stop, waiting at most `within` seconds (a collector that does not answer
        holds the shutdown no longer: the flush goes on in a daemon thread that the exit abandons)."""
        flushing = threading.Thread(target=self.provider.shutdown, name="otel-shutdown", daemon=True)
        flushing.start()
        await asyncio.to_thread(flushing.join, within)
        if flushing.is_alive():
            logger.warning("tracing: the last spans were not exported within %.0f s", within)
