"""ASGI middleware: who the client is, when the connection comes from a trusted reverse proxy.

One rule, the app's own (uvicorn's `--proxy-headers` is off, impl/serve.py):
`X-Forwarded-For` and `X-Forwarded-Proto` count only when the connection's peer is in
TRUSTED_PROXIES (none by default, so by default the headers are ignored), and the
client is the rightmost X-Forwarded-For hop that is not a trusted proxy
(impl/addresses.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from contract_runtime.asgi import ASGIApp, Receive, Scope, Send

from ..addresses import Network, forwarded_client, is_trusted, parse_address

FORWARDED_FOR = b"x-forwarded-for"
FORWARDED_PROTO = b"x-forwarded-proto"
SCHEMES = frozenset({"http", "https"})


def _header_entries(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every comma-separated entry of every `name` header line, in order (repeated lines are one list)."""
    entries: list[str] = []
    for key, value in headers:
        if key == name:
            entries += [part.strip() for part in value.decode("latin-1").split(",") if part.strip()]
    return entries


class ForwardedClient:
    """ASGI middleware: `scope["client"]` (and `scope["scheme"]`) as the trusted proxies forwarded them."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[Network]) -> None:
        self.app = app
        self._trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client:
            peer = str(client[0])
            if is_trusted(parse_address(peer), self._trusted):
                headers = scope["headers"]
                address = forwarded_client(peer, _header_entries(headers, FORWARDED_FOR), self._trusted)
                scope = dict(scope)
                # The port is the proxy's connection's, not the client's: none is known.
                scope["client"] = (address, 0)
                protos = _header_entries(headers, FORWARDED_PROTO)
                # The proxy nearest to us appended last: its view of the scheme is the one to believe.
                if protos and protos[-1].lower() in SCHEMES:
                    scope["scheme"] = protos[-1].lower()
        await self.app(scope, receive, send)
