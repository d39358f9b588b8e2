"""What every layer may know of the request being served, without knowing HTTP."""

from __future__ import annotations

from contextvars import ContextVar

# The request's id (the client's `X-Request-ID` when sane, else generated); "-" outside a request.
request_id: ContextVar[str] = ContextVar("request_id", default="-")
