"""Who the client is: the connection's peer, or, behind trusted reverse proxies, what they forwarded.

One rule, the app's own (uvicorn's `--proxy-headers` is off, impl/serve.py):

- `X-Forwarded-For` and `X-Forwarded-Proto` count only when the connection comes from a
  trusted proxy (TRUSTED_PROXIES: addresses or CIDR networks; none by default, so by
  default the headers are ignored);
- each proxy appends the address it received the request from, so the list is read from
  the right: trusted proxies are skipped and the first address that is not one of them
  is the client. What a client writes into the header itself stays to the left of that
  and is never believed (uvicorn's ProxyHeadersMiddleware and Werkzeug's ProxyFix read
  it the same way);
- an entry there that is not an address (a proxy that writes `unknown`, or obfuscated
  names) is no client: the nearest trusted proxy stands for it, so a header can never
  mint a fresh identity per request.

The per-address limits key IPv6 clients by their /64 (`address_key`): one subscriber
usually holds a whole /64, and counting each of its 2^64 addresses apart would make
every limit per request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from contract_runtime.asgi import ASGIApp, Receive, Scope, Send

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV6_CLIENT_PREFIX = 64
FORWARDED_FOR = b"x-forwarded-for"
FORWARDED_PROTO = b"x-forwarded-proto"
SCHEMES = frozenset({"http", "https"})


def parse_networks(value: str) -> tuple[Network, ...]:
    """TRUSTED_PROXIES as networks; a ValueError naming the entry that is not an address or network."""
    networks: list[Network] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError as exc:
            raise ValueError(
                f"{entry!r} is not an IP address or CIDR network ({exc}); "
                "list the reverse proxies' addresses, e.g. 10.0.0.5,10.244.0.0/16"
            ) from None
        if network.prefixlen == 0:
            raise ValueError(
                f"{entry!r} trusts every address, so any client could name its own address; "
                "list the reverse proxies' addresses or networks"
            )
        networks.append(network)
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An address as proxies write it: bare, `[v6]`, `[v6]:port` or `v4:port`; None if it is not one."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def forwarded_client(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: the peer itself unless it is a trusted proxy, else the rightmost
    X-Forwarded-For entry that is not a trusted proxy (`forwarded_for` in order, left to right)."""
    nearest = parse_address(peer)
    if not is_trusted(nearest, trusted):
        return str(nearest) if nearest is not None else peer
    assert nearest is not None  # trusted, hence parsed
    for entry in reversed(forwarded_for):
        address = parse_address(entry)
        if address is None:
            break  # not an address: the proxy that wrote it stands for its client
        if not is_trusted(address, trusted):
            return str(address)
        nearest = address
    return str(nearest)


def address_key(address: str) -> str:
    """The identity the per-address limits count: an IPv4 address as it is, an IPv6 address as its /64."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed) if parsed is not None else address


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
