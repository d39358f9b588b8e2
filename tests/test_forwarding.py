"""Client addresses behind reverse proxies: X-Forwarded-For is believed from TRUSTED_PROXIES only, read from
the right (the rightmost hop that is not a trusted proxy is the client), and IPv6 clients are counted by /64.

The end-to-end tests put a real HAProxy (`option forwardfor`, as docs/proxies.md configures it) in front of
a real API process (`python -m impl.serve`), and clients on other loopback addresses (127.0.0.2, 127.0.0.3)
than the proxy's (127.0.0.1), so the API can tell the proxy from its clients.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from contract_runtime.asgi import Message, Receive, Scope, Send
from impl.addresses import address_key, forwarded_client, parse_networks
from impl.app import create_app
from impl.http.forwarding import ForwardedClient
from impl.settings import InvalidSettings, Settings, load_settings
from tests.conftest import free_port
from tests.servers import HaProxy, haproxy_binary, serving
from tests.spec_responses import check_async_response

pytestmark = pytest.mark.anyio

LOGIN = "/api/v1/auth/login"
LIMIT = 5  # RATE_LIMIT_PER_ADDRESS_PER_MINUTE in these tests
PROXY = "127.0.0.1"  # where HAProxy connects to the API from
CLIENT_A, CLIENT_B = "127.0.0.2", "127.0.0.3"
TRUSTED = parse_networks("10.0.0.0/8, 192.0.2.7, 2001:db8:ff::/48")


# The rightmost untrusted hop, and the /64 keys.


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # Not from a trusted proxy: whatever the header says, the peer is the client.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("203.0.113.9", [], "203.0.113.9"),
        # One trusted proxy: the entry it appended; what the client wrote to the left is ignored.
        ("10.1.2.3", ["1.1.1.1", "203.0.113.9"], "203.0.113.9"),
        ("10.1.2.3", ["1.1.1.1, 8.8.8.8", "203.0.113.9"], "203.0.113.9"),
        # A chain of trusted proxies is skipped, and a client naming a trusted address gains nothing.
        ("10.1.2.3", ["10.9.9.9", "203.0.113.9", "192.0.2.7", "10.0.0.1"], "203.0.113.9"),
        # Only trusted hops (the client is a proxy itself): the leftmost.
        ("10.1.2.3", ["10.0.0.8", "192.0.2.7"], "10.0.0.8"),
        # No header: the proxy is the client.
        ("10.1.2.3", [], "10.1.2.3"),
        # What proxies write besides bare addresses: ports, brackets, IPv4-mapped IPv6.
        ("10.1.2.3", ["203.0.113.9:5123"], "203.0.113.9"),
        ("10.1.2.3", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("::ffff:10.1.2.3", ["::ffff:203.0.113.9"], "203.0.113.9"),
        ("2001:db8:ff:1::2", ["2001:db8:1::5"], "2001:db8:1::5"),
        # Not an address right of the trusted hops: the nearest trusted proxy stands for its client, so
        # nobody mints a new identity per request by writing garbage.
        ("10.1.2.3", ["203.0.113.9", "unknown"], "10.1.2.3"),
        ("10.1.2.3", ["203.0.113.9", "garbage", "10.0.0.4"], "10.0.0.4"),
    ],
)
def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy(
    peer: str, forwarded_for: list[str], client: str
) -> None:
    entries = [part.strip() for line in forwarded_for for part in line.split(",")]
    assert forwarded_client(peer, entries, TRUSTED) == client


def test_nothing_is_trusted_by_default() -> None:
    assert parse_networks("") == ()
    assert forwarded_client("127.0.0.1", ["203.0.113.9"], parse_networks("")) == "127.0.0.1"


def test_ipv6_clients_are_keyed_by_their_64() -> None:
    home = address_key("2001:db8:1:2::1")
    assert home == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == home
    assert address_key("2001:db8:1:3::1") != home
    assert address_key("203.0.113.9") == "203.0.113.9"
    assert address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key("unknown") == "unknown"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "'*' is not an IP address or CIDR network"),
        ("10.0.0.1/8", "'10.0.0.1/8' is not an IP address or CIDR network"),
        ("10.0.0.0/8, proxy.internal", "'proxy.internal' is not an IP address or CIDR network"),
        ("0.0.0.0/0", "'0.0.0.0/0' trusts every address"),
        ("::/0", "'::/0' trusts every address"),
    ],
)
def test_a_bad_trusted_proxies_value_is_refused_at_start_in_one_line(
    value: str, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    text = str(refused.value)
    assert text.startswith(f"catalog-api: invalid settings: TRUSTED_PROXIES: {message}")
    assert "\n" not in text


def test_addresses_and_networks_are_accepted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, trusted_proxies=" 10.0.0.5, 172.30.0.0/24 ,2001:db8::/64 ")
    assert [str(network) for network in settings.trusted_proxy_networks()] == [
        "10.0.0.5/32",
        "172.30.0.0/24",
        "2001:db8::/64",
    ]


async def seen_by_the_app(peer: str, headers: list[tuple[bytes, bytes]]) -> tuple[object, object]:
    """`scope["client"]` and `scope["scheme"]` as the app behind ForwardedClient sees them."""
    seen: dict[str, object] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.update(client=scope["client"], scheme=scope["scheme"])

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        raise AssertionError(message)

    scope = {"type": "http", "client": (peer, 5123), "scheme": "http", "headers": headers}
    await ForwardedClient(app, trusted=TRUSTED)(scope, receive, send)
    return seen["client"], seen["scheme"]


async def test_the_middleware_rewrites_the_scope_for_trusted_peers_only() -> None:
    headers = [
        (b"x-forwarded-for", b"198.51.100.1"),  # the client's own line, then the proxy's
        (b"x-forwarded-for", b"203.0.113.9"),
        (b"x-forwarded-proto", b"https"),
    ]
    assert await seen_by_the_app("10.1.2.3", headers) == (("203.0.113.9", 0), "https")
    assert await seen_by_the_app("203.0.113.50", headers) == (("203.0.113.50", 5123), "http")
    assert await seen_by_the_app("10.1.2.3", [(b"x-forwarded-proto", b"gopher")]) == (("10.1.2.3", 0), "http")


# Through the app (in process): the limit counts what the rules above say.


@asynccontextmanager
async def app_with(settings: Settings, **overrides: object) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update={"rate_limit_per_address_per_minute": LIMIT, **overrides}))
    async with application.router.lifespan_context(application):
        yield application


def from_peer(app: FastAPI, peer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
        base_url="http://testserver",
        event_hooks={"response": [check_async_response]},
    )


async def login_statuses(client: httpx.AsyncClient, count: int, forwarded_for: list[str] | None = None) -> list[int]:
    statuses = []
    for index in range(count):
        headers = {"X-Forwarded-For": forwarded_for[index % len(forwarded_for)]} if forwarded_for else {}
        response = await client.post(
            LOGIN, data={"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "Wrong-Pass-2026"}, headers=headers
        )
        statuses.append(response.status_code)
    return statuses


def limited_after(limit: int, extra: int) -> list[int]:
    return [401] * limit + [429] * extra


async def test_ipv6_addresses_of_one_64_share_a_limit(settings: Settings) -> None:
    async with app_with(settings) as app:
        for index in range(LIMIT):  # each request from another address of the same /64
            async with from_peer(app, f"2001:db8:1:2::{index + 1:x}") as client:
                assert await login_statuses(client, 1) == [401]
        async with from_peer(app, "2001:db8:1:2:abcd::1") as client:
            assert await login_statuses(client, 1) == [429]
        async with from_peer(app, "2001:db8:1:3::1") as neighbour:  # the next /64 is someone else
            assert await login_statuses(neighbour, 1) == [401]


async def test_behind_a_trusted_proxy_ipv6_clients_are_counted_by_their_64(settings: Settings) -> None:
    async with app_with(settings, trusted_proxies="10.0.0.0/8") as app, from_peer(app, "10.0.0.5") as proxy:
        prefix = ipaddress.IPv6Network("2001:db8:7:7::/64")
        hops = [f"198.51.100.{index}, {prefix[index * 4099 + 1]}" for index in range(LIMIT + 2)]
        assert await login_statuses(proxy, LIMIT + 2, hops) == limited_after(LIMIT, 2)
        assert await login_statuses(proxy, 1, ["2001:db8:7:8::1"]) == [401]


# End to end: HAProxy in front of the API process.


@pytest.fixture
def haproxy() -> str:
    return haproxy_binary()


@asynccontextmanager
async def client_at(address: str, url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose connections come from `address` (any 127.x address is this machine's)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(
        transport=transport, base_url=url, event_hooks={"response": [check_async_response]}
    ) as client:
        yield client


@pytest.fixture
def behind_haproxy(haproxy: str, settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The API behind HAProxy; the test's parameter says whether the API trusts HAProxy's address."""
    trusted: bool = request.param
    with serving(
        settings, tmp_path, RATE_LIMIT_PER_ADDRESS_PER_MINUTE=str(LIMIT), TRUSTED_PROXIES=PROXY if trusted else ""
    ) as api:
        proxy = HaProxy(haproxy, tmp_path, free_port(), api.port, head_timeout_seconds=10)
        try:
            yield proxy.url
        finally:
            proxy.remove()


@pytest.mark.parametrize("behind_haproxy", [True], indirect=True)
async def test_behind_haproxy_a_forged_x_forwarded_for_buys_no_extra_logins(behind_haproxy: str) -> None:
    forged = ["198.51.100.1", "127.0.0.1", "127.0.0.1, 127.0.0.1", "203.0.113.5, 10.0.0.1", "::1"]
    async with client_at(CLIENT_A, behind_haproxy) as client:
        assert await login_statuses(client, LIMIT + 3, forged) == limited_after(LIMIT, 3)
    # Real addresses reach the limits: another client behind the same proxy has its own.
    async with client_at(CLIENT_B, behind_haproxy) as other:
        assert await login_statuses(other, 1) == [401]


@pytest.mark.parametrize("behind_haproxy", [False], indirect=True)
async def test_without_trusted_proxies_x_forwarded_for_is_ignored(behind_haproxy: str) -> None:
    async with client_at(CLIENT_A, behind_haproxy) as client:
        assert await login_statuses(client, LIMIT + 2, ["198.51.100.1", "203.0.113.5"]) == limited_after(LIMIT, 2)
    # Every client is the proxy's address to the API: the header, HAProxy's entry included, counts for nothing.
    async with client_at(CLIENT_B, behind_haproxy) as other:
        assert await login_statuses(other, 1) == [429]


async def test_without_trusted_proxies_a_local_client_cannot_forge_its_address(
    settings: Settings, tmp_path: Path
) -> None:
    """The probe's case: 127.0.0.1 used to be believed by default (uvicorn's FORWARDED_ALLOW_IPS)."""
    with serving(settings, tmp_path, RATE_LIMIT_PER_ADDRESS_PER_MINUTE=str(LIMIT)) as api:
        async with client_at(PROXY, api.url) as client:
            forged = [f"198.51.100.{index}" for index in range(LIMIT + 3)]
            assert await login_statuses(client, LIMIT + 3, forged) == limited_after(LIMIT, 3)
