"""Logging for the app and uvicorn: one handler on the root logger, text or JSON, the request's id on every line.

`LOG_FORMAT=text` (the default) writes `time level logger [request id] message`;
`LOG_FORMAT=json` writes one JSON object per line with `time`, `level`,
`logger`, `message` and `request_id`, plus, on the access line the contract
router writes once per request (logger `contract_runtime.access`), `method`,
`route` (the spec's path template, null outside the spec), `path`,
`operation_id`, `status` and `duration_ms`. App INFO lines are shown by
default (`LOG_LEVEL`); `ACCESS_LOG=false` turns the access line off alone.
uvicorn's own lines go through the same handler; its access log is turned off
where it is started (`impl.serve`), the router's line replaces it.

With tracing on, every line written inside a request's span carries its
`trace_id` (text: `[request id trace id]`; JSON: `trace_id` and `span_id`
fields, null outside a span).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from contract_runtime.context import request_id

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
TRACED_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(trace_id)s] %(message)s"
ACCESS_LOGGER = "contract_runtime.access"
# The current span's (trace id, span id) in hex, or None outside a span (impl.observability.tracing).
TraceIds = Callable[[], tuple[str, str] | None]
# Fields of the access line, copied into its JSON object when present.
ACCESS_FIELDS = ("method", "route", "path", "operation_id", "status", "duration_ms")
# uvicorn configures these with handlers of its own: they go through ours instead.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error")


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request being served (`-` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class TraceIdFilter(logging.Filter):
    """Gives every record the current span's `trace_id` and `span_id` (`-` outside a span)."""

    def __init__(self, current: TraceIds) -> None:
        super().__init__()
        self._current = current

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "trace_id"):
            ids = self._current()
            record.trace_id, record.span_id = ids if ids is not None else ("-", "-")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback is a string field, `exception`)."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if hasattr(record, "trace_id"):
            document["trace_id"] = record.trace_id if record.trace_id != "-" else None
            document["span_id"] = getattr(record, "span_id", "-") if record.trace_id != "-" else None
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                document[name] = getattr(record, name)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (so a second setup replaces it instead of adding another)."""


def configure_logging(
    log_format: LogFormat = "text", level: str = "INFO", *, access_log: bool = True, trace_ids: TraceIds | None = None
) -> None:
    """Install the one handler on the root logger (idempotent), at `level`, in `log_format`; the access
    line only with `access_log`; each line with the current trace id when `trace_ids` is given."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    handler = _Handler(sys.stderr)
    text_format = TRACED_TEXT_FORMAT if trace_ids is not None else TEXT_FORMAT
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(text_format))
    handler.addFilter(RequestIdFilter())
    if trace_ids is not None:
        handler.addFilter(TraceIdFilter(trace_ids))
    root.addHandler(handler)
    root.setLevel(level)
    # Off: the router's `isEnabledFor(INFO)` check skips the line before anything is formatted.
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access_log else logging.WARNING)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
