"""What a service may know of the request it serves, without knowing HTTP."""

from __future__ import annotations

from contextvars import ContextVar

# The key the per-address limits count the client by: its address as the server sees it (behind trusted
# proxies, from X-Forwarded-For: impl/http/forwarding.py), an IPv6 address as its /64.
client_address: ContextVar[str] = ContextVar("client_address", default="unknown")
