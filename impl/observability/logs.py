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

The access line is the one line per request, so it skips the logging machinery
(a LogRecord, filters, a formatter, json.dumps, a flush per line cost about half
of a cached read): `AccessLog` formats it directly, with the same fields in the
same order as `JsonFormatter` (or `TEXT_FORMAT`) would, and writes the lines of
one event-loop turn in one write at the end of that turn, and what is left at
shutdown. A crash can lose the lines of the turn it happened in; an app line
written in the same turn may come out before an access line of a request that
ended earlier.

With tracing on, every line written inside a request's span carries its
`trace_id` (text: `[request id trace id]`; JSON: `trace_id` and `span_id`
fields, null outside a span).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, Literal, TextIO

from contract_runtime.asgi import AccessEntry
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


# A turn of the event loop that ends this many requests writes them in more than one write.
MAX_PENDING_LINES = 256


def _json_text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)  # what json.dumps(ensure_ascii=False) writes


class AccessLog:
    """The access line of each request, formatted directly and written once per event-loop turn."""

    def __init__(self, log_format: LogFormat, *, trace_ids: TraceIds | None = None, stream: TextIO | None = None):
        self._stream = stream if stream is not None else sys.stderr
        self._format = self._json if log_format == "json" else self._text
        self._trace_ids = trace_ids
        self._pending: list[str] = []
        self._second = -1  # the second `_stamp` holds, so the calendar is worked out once a second
        self._stamp = ""

    def __call__(self, entry: AccessEntry) -> None:
        self._pending.append(self._format(entry, time.time()))
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: nothing would flush later
                self.flush()
        elif len(self._pending) >= MAX_PENDING_LINES:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        try:
            self._stream.write("".join(lines))
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: as a logging handler, never fail the caller
            pass

    def _json(self, entry: AccessEntry, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        trace = ""
        if self._trace_ids is not None:
            ids = self._trace_ids()
            trace = (
                ', "trace_id": null, "span_id": null'
                if ids is None
                else f', "trace_id": "{ids[0]}", "span_id": "{ids[1]}"'
            )
        status = "null" if entry.status is None else str(entry.status)
        return (
            f'{{"time": "{self._stamp}.{int((now - second) * 1000):03d}+00:00", "level": "INFO", '
            f'"logger": "{ACCESS_LOGGER}", "message": {encode_basestring(entry.message)}, '
            f'"request_id": {encode_basestring(entry.request_id)}{trace}, "method": {encode_basestring(entry.method)}, '
            f'"route": {_json_text(entry.route)}, "path": {encode_basestring(entry.path)}, '
            f'"operation_id": {_json_text(entry.operation_id)}, "status": {status}, '
            f'"duration_ms": {entry.duration_ms!r}}}\n'
        )

    def _text(self, entry: AccessEntry, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second, self._stamp = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        ids = entry.request_id
        if self._trace_ids is not None:
            current = self._trace_ids()
            ids = f"{ids} {current[0] if current is not None else '-'}"
        return f"{self._stamp},{int((now - second) * 1000):03d} INFO {ACCESS_LOGGER} [{ids}] {entry.message}\n"


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (so a second setup replaces it instead of adding another)."""


def configure_logging(
    log_format: LogFormat = "text", level: str = "INFO", *, access_log: bool = True, trace_ids: TraceIds | None = None
) -> AccessLog | None:
    """Install the one handler on the root logger (idempotent), at `level`, in `log_format`; the access
    line only with `access_log`; each line with the current trace id when `trace_ids` is given.

    Returns the access line's writer, on the same stream in the same format (None when the line is off:
    `access_log` false or `level` above INFO)."""
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
    if not logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO):
        return None
    return AccessLog(log_format, trace_ids=trace_ids, stream=handler.stream)
