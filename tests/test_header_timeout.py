"""Slow request heads (slowloris): HEADER_TIMEOUT_SECONDS closes a connection whose head has not arrived in
time, however steadily it trickles, so slow clients cannot hold the server's LIMIT_CONCURRENCY slots; behind
HAProxy (`timeout http-request`) they never reach the server at all.

Real processes: the API as `python -m impl.serve` runs it, with a small LIMIT_CONCURRENCY, and many raw
sockets that each send a request line and then one more header line every quarter second, never the end.
The deadlines below only stop a test that would otherwise hang; nothing here measures speed.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from impl.settings import Settings
from tests.conftest import free_port
from tests.servers import ApiServer, HaProxy, haproxy_binary, serving

HEAD_TIMEOUT_SECONDS = 3
LIMIT_CONCURRENCY = 8
SLOW_CLIENTS = 3 * LIMIT_CONCURRENCY
TRICKLE_SECONDS = 0.25
GUARD_SECONDS = 60  # a server that never closes them fails here instead of hanging


class Trickler:
    """A client that starts a request and never finishes its head."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.sock.setblocking(False)
        self.answer = b""
        self.closed = False

    def step(self) -> None:
        """Read what the server sent, and, while the connection is open, one more header line."""
        if self.closed:
            return
        try:
            while chunk := self.sock.recv(65536):
                self.answer += chunk
            self.closed = True  # an orderly close by the server
        except BlockingIOError:
            pass
        except OSError:
            self.closed = True  # reset: the server closed while this client was still sending
        if not self.closed:
            try:
                self.sock.send(b"X-Slow: still-coming\r\n")
            except BlockingIOError:
                pass
            except OSError:
                self.closed = True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def tricklers() -> Iterator[list[Trickler]]:
    opened: list[Trickler] = []
    yield opened
    for trickler in opened:
        trickler.close()


# impl.serve's choice (httptools, installed here), and h11, which uvicorn uses without httptools.
@pytest.fixture(params=["impl.http.head_timeout:HeadTimeoutProtocol", "impl.http.head_timeout:H11HeadTimeout"])
def api(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ApiServer]:
    with serving(
        settings,
        tmp_path,
        arguments=("--http", request.param),
        HEADER_TIMEOUT_SECONDS=str(HEAD_TIMEOUT_SECONDS),
        LIMIT_CONCURRENCY=str(LIMIT_CONCURRENCY),
        MAX_IN_FLIGHT=str(LIMIT_CONCURRENCY),
    ) as server:
        yield server


def health(url: str) -> int:
    with httpx.Client(timeout=10) as client:
        return client.get(url + "/health").status_code


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body) from a blocking socket."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole head: {answer!r}"
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the whole body: {answer!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def assert_timed_out(answer: bytes) -> None:
    """What a slow client that had sent part of a head reads before the close: a 408 problem, or nothing
    if the close reset the connection before the client read it."""
    if not answer:
        return
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    problem = json.loads(body)
    assert problem["type"] == "urn:catalog-api:problem:request-timeout"
    assert problem["status"] == 408


def test_slow_heads_are_closed_and_everyone_else_is_answered(api: ApiServer, tricklers: list[Trickler]) -> None:
    tricklers += [Trickler(api.port) for _ in range(SLOW_CLIENTS)]
    statuses: list[int] = []
    deadline = time.monotonic() + GUARD_SECONDS
    # Every slow client keeps trickling until the server closes it; a legitimate client asks meanwhile.
    while not all(trickler.closed for trickler in tricklers) or 200 not in statuses:
        assert time.monotonic() < deadline, (
            f"{sum(not t.closed for t in tricklers)} of {SLOW_CLIENTS} slow connections still open; "
            f"/health answered {statuses}"
        )
        for trickler in tricklers:
            trickler.step()
        statuses.append(health(api.url))
        time.sleep(TRICKLE_SECONDS)
    for trickler in tricklers:
        assert_timed_out(trickler.answer)
    assert any(trickler.answer for trickler in tricklers)  # the 408 problem itself was read, not only resets
    # Past LIMIT_CONCURRENCY uvicorn turns requests away while the slow connections hold the slots; then
    # every answer is the server's own again.
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[-1] == 200
    assert health(api.url) == 200


def test_a_slow_head_after_an_answer_on_a_kept_alive_connection_is_closed(api: ApiServer) -> None:
    with socket.create_connection(("127.0.0.1", api.port), timeout=GUARD_SECONDS) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = read_answer(sock)
        assert first.startswith(b"HTTP/1.1 200 "), first
        trickler = Trickler.__new__(Trickler)
        trickler.sock, trickler.answer, trickler.closed = sock, b"", False
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        sock.setblocking(False)
        deadline = time.monotonic() + GUARD_SECONDS
        while not trickler.closed:
            assert time.monotonic() < deadline, "the second, trickled head was never timed out"
            trickler.step()
            time.sleep(TRICKLE_SECONDS)
        assert_timed_out(trickler.answer)


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(api: ApiServer) -> None:
    with socket.create_connection(("127.0.0.1", api.port), timeout=GUARD_SECONDS) as sock:
        assert sock.recv(65536) == b""


def test_a_head_sent_in_pieces_within_the_timeout_is_answered(api: ApiServer) -> None:
    with socket.create_connection(("127.0.0.1", api.port), timeout=GUARD_SECONDS) as sock:
        for piece in (b"GET /hea", b"lth HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(0.1)
        assert read_answer(sock).startswith(b"HTTP/1.1 200 ")


def test_behind_haproxy_slow_heads_never_reach_the_server(
    settings: Settings, tmp_path: Path, tricklers: list[Trickler]
) -> None:
    """HAProxy holds incomplete heads itself (up to its `timeout http-request`) and passes a request on only
    once its head is complete: with more slow clients than the server's LIMIT_CONCURRENCY, every
    legitimate request is answered while all of them are still connected."""
    binary = haproxy_binary()
    with serving(settings, tmp_path, LIMIT_CONCURRENCY=str(LIMIT_CONCURRENCY)) as server:
        proxy = HaProxy(binary, tmp_path, free_port(), server.port, head_timeout_seconds=GUARD_SECONDS)
        try:
            tricklers += [Trickler(proxy.port) for _ in range(SLOW_CLIENTS)]
            for _ in range(4):
                for trickler in tricklers:
                    trickler.step()
                assert health(proxy.url) == 200
                time.sleep(TRICKLE_SECONDS)
            assert not any(trickler.closed for trickler in tricklers)
        finally:
            proxy.remove()
