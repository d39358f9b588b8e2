"""What an operator sees of the running API: log lines (`logs`), Prometheus metrics (`metrics`) and,
when an OTLP endpoint is set, OpenTelemetry traces (`tracing`, imported only then)."""

from __future__ import annotations

import os
from collections.abc import Mapping

# Either names where spans go (the SDK appends /v1/traces to the first, not to the second).
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Tracing is on when an OTLP endpoint is set, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(environ.get(name, "").strip() for name in OTLP_ENDPOINT_VARIABLES)
