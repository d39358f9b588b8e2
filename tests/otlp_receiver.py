"""A loopback OTLP/HTTP trace receiver: POST /v1/traces, protobuf (gzip or not), spans kept in memory.

The tests point the API's `OTEL_EXPORTER_OTLP_ENDPOINT` at it. Also a sink for measuring the cost of
tracing: `python -m tests.otlp_receiver PORT` serves until interrupted (Ctrl-C, SIGTERM) and prints how
many spans came; it only counts them, so that it takes little CPU from the load generator.
"""

from __future__ import annotations

import gzip
import signal
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as the collector got it: ids in hex, attributes as plain Python values."""

    name: str
    kind: int  # opentelemetry.proto.trace.v1.Span.SpanKind: 2 is SERVER, 1 INTERNAL
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: int  # 0 unset, 1 ok, 2 error
    start_ns: int
    end_ns: int
    resource: dict[str, Any]


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return None if kind is None else getattr(any_value, kind)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


class OtlpReceiver:
    """Started on a free loopback port; `endpoint` is the base URL for OTEL_EXPORTER_OTLP_ENDPOINT."""

    def __init__(self, port: int = 0, *, keep: bool = True) -> None:
        self.spans: list[ReceivedSpan] = []
        self.keep = keep  # False: only count them (`counted`)
        self.counted = 0
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(404 if self.path != "/v1/traces" else 415)
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver._keep(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _keep(self, request: ExportTraceServiceRequest) -> None:
        if not self.keep:
            with self._lock:
                self.requests += 1
                self.counted += sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
            return
        found = [
            ReceivedSpan(
                name=span.name,
                kind=span.kind,
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_span_id=span.parent_span_id.hex(),
                attributes=_attributes(span.attributes),
                status_code=span.status.code,
                start_ns=span.start_time_unix_nano,
                end_ns=span.end_time_unix_nano,
                resource=_attributes(resource_spans.resource.attributes),
            )
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self._lock:
            self.requests += 1
            self.counted += len(found)
            self.spans.extend(found)

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, within: float = 15) -> list[ReceivedSpan]:
        """The spans received, once there are at least `count` (AssertionError after `within` seconds)."""
        deadline = time.monotonic() + within
        while True:
            with self._lock:
                spans = list(self.spans)
            if len(spans) >= count or time.monotonic() > deadline:
                assert len(spans) >= count, f"{len(spans)} spans arrived, not {count}: {[s.name for s in spans]}"
                return spans
            time.sleep(0.05)


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    receiver = OtlpReceiver(int(argv[0]) if argv else 0, keep=False).start()
    print(f"OTLP/HTTP receiver at {receiver.endpoint} (Ctrl-C or SIGTERM stops it)", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
        print(f"{receiver.counted} spans in {receiver.requests} exports", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
