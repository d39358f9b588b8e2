"""Client addresses, without HTTP: trusted proxy networks (TRUSTED_PROXIES), the rightmost untrusted
X-Forwarded-For hop, and the key the per-address limits count a client by.

- each proxy appends the address it received the request from, so the list is read from
  the right: trusted proxies are skipped and the first address that is not one of them
  is the client. What a client writes into the header itself stays to the left of that
  and is never believed (uvicorn's ProxyHeadersMiddleware and Werkzeug's ProxyFix read
  it the same way);
- an entry there that is not an address (a proxy that writes `unknown`, or obfuscated
  names) is no client: the nearest trusted proxy stands for it, so a header can never
  mint a fresh identity per request;
- IPv6 clients are keyed by their /64 (`address_key`): one subscriber usually holds a
  whole /64, and counting each of its addresses apart would make every limit per request.

impl/settings.py validates TRUSTED_PROXIES with `parse_networks`; impl/http/forwarding.py
applies the rule to each request.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV6_CLIENT_PREFIX = 64


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


@functools.lru_cache(maxsize=4096)
def address_key(address: str) -> str:
    """The identity the per-address limits count: an IPv4 address as it is, an IPv6 address as its /64.

    Every request asks it, and parsing costs more than the rest of a cached read's bookkeeping: the
    answers for the addresses seen lately are kept (a pure function of the text)."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed) if parsed is not None else address
