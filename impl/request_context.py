"""What a service may know of the request it serves, without knowing HTTP."""

from __future__ import annotations

from contextvars import ContextVar

# The client's address as the server sees it (behind a trusted proxy: from its forwarding headers).
client_address: ContextVar[str] = ContextVar("client_address", default="unknown")
