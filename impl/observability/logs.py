"""Logging for the app and uvicorn: one handler on the root logger, text or JSON, the request's id on every line.

`LOG_FORMAT=text` (the default) writes `time level logger [request id] message`;
`LOG_FORMAT=json` writes one JSON object per line with `time`, `level`,
`logger`, `message` and `request_id`, plus, on the access line the contract
router writes once per request (logger `contract_runtime.access`), `method`,
`route` (the spec's path template, null outside the spec), `path`,
`operation_id`, `status` and `duration_ms`. App INFO lines are shown by
default (`LOG_LEVEL`). uvicorn's own lines go through the same handler; its
access log is turned off where it is started (`impl.serve`), the router's line
replaces it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from contract_runtime.context import request_id

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
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
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                document[name] = getattr(record, name)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (so a second setup replaces it instead of adding another)."""


def configure_logging(log_format: LogFormat = "text", level: str = "INFO") -> None:
    """Install the one handler on the root logger (idempotent), at `level`, in `log_format`."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    handler = _Handler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
