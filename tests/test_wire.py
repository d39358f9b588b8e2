"""What the server answers on the wire before the app, or instead of it, through a real uvicorn process.

The parser's refusals (uvicorn would write `400` text/plain) and the answers
past `--limit-concurrency` (uvicorn's `503` text/plain) are problem+json, as
openapi.yaml's description declares; HEAD and a WebSocket upgrade are served
by the app. Raw sockets: an HTTP client library would not send these bytes.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from impl.settings import Settings
from tests.conftest import TEST_REDIS_URL, free_port, fresh_database, make_settings
from tests.servers import ApiServer
from tests.spec_responses import problem_schema_errors

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes

    def problem(self, status: int, kind: str) -> dict[str, object]:
        assert self.status == status, self
        assert self.headers["content-type"] == PROBLEM_JSON
        assert self.headers["x-content-type-options"] == "nosniff"
        assert int(self.headers["content-length"]) == len(self.content)
        document: dict[str, object] = json.loads(self.content)
        assert problem_schema_errors(document) == []
        assert document["type"] == f"urn:catalog-api:problem:{kind}"
        assert document["status"] == status
        assert document["request_id"] == self.headers["x-request-id"]
        return document


def exchange(port: int, raw: bytes) -> Answer:
    """Send `raw` on a new connection; the one answer, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for field in fields:
        name, _, value = field.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split(" ")[1]), headers, content)


def start(settings: Settings, workdir: Path, *options: str) -> ApiServer:
    port = free_port()
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update(
        ENVIRONMENT="test",
        DATA_DIR=str(workdir),
        DATABASE_URL=settings.resolved_database_url(),
        CACHE_PREFIX=settings.cache_prefix,
        SECRET_KEY="wire-test-secret-" + uuid.uuid4().hex,
        BCRYPT_ROUNDS="4",
    )
    if TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
    command = [sys.executable, "-m", "impl.serve", "--host", "127.0.0.1", "--port", str(port), *options]
    server = ApiServer(command, env, workdir / "api.log", port)
    try:
        server.wait_until_up()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One server for the tests that only read (a start takes seconds on a busy machine)."""
    workdir = tmp_path_factory.mktemp("wire")
    settings = make_settings(
        workdir,
        database_url=fresh_database(database_url, workdir),
        redis_url=TEST_REDIS_URL,
        cache_prefix=f"test:{uuid.uuid4().hex}:",
    )
    server = start(settings, workdir)
    try:
        yield server
    finally:
        server.stop()


HOST = b"Host: api\r\n"
MALFORMED = {
    "a request line that is not one": b"GARBAGE\r\n\r\n",
    "an unknown HTTP version": b"GET /health HTTP/9.9\r\n" + HOST + b"\r\n",
    "a space in a header field name": b"GET /health HTTP/1.1\r\n" + HOST + b"Bad Name: 1\r\n\r\n",
    "a control character in a header field value": b"GET /health HTTP/1.1\r\n" + HOST + b"X-A: a\x01b\r\n\r\n",
    "a folded header field": b"GET /health HTTP/1.1\r\n" + HOST + b"X-A: a\r\n b\r\n\r\n",
    "a byte that is not ASCII in the target": b"GET /h\xc3\xa9alth HTTP/1.1\r\n" + HOST + b"\r\n",
    "Content-Length and Transfer-Encoding both": (
        b"POST /api/v1/auth/login/json HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "a Content-Length that is not a number": b"POST /api/v1/auth/login/json HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: x\r\n\r\n",
    "a chunk size that is not hexadecimal": (
        b"POST /api/v1/auth/login/json HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n"
    ),
    "a TLS handshake on the plain port": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40,
}


def test_malformed_requests_are_a_400_problem_and_the_connection_is_closed(api: ApiServer) -> None:
    for name, raw in MALFORMED.items():
        answer = exchange(api.port, raw)
        assert answer.headers["connection"] == "close", name
        assert answer.problem(400, "malformed-request")["title"] == "Bad request", name
    # The server is still serving, and its log ties each refusal to the id its answer carried.
    assert exchange(api.port, b"GET /health HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n").status == 200
    assert sum("malformed request answered 400" in line for line in api.log_lines()) == len(MALFORMED)


def test_head_over_the_wire_has_gets_fields_and_no_content(api: ApiServer) -> None:
    get = exchange(api.port, b"GET /api/v1/products HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    head = exchange(api.port, b"HEAD /api/v1/products HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert get.status == head.status == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(get.content) > 0
    assert head.headers["etag"] == get.headers["etag"]
    options = exchange(api.port, b"OPTIONS /api/v1/products HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    options.problem(405, "method-not-allowed")
    assert options.headers["allow"] == "GET, HEAD, POST"


def test_a_websocket_upgrade_is_served_as_plain_http(api: ApiServer) -> None:
    answer = exchange(
        api.port,
        b"GET /health HTTP/1.1\r\n" + HOST + b"Upgrade: websocket\r\nConnection: Upgrade, close\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    assert answer.status == 200
    assert json.loads(answer.content)["status"] == "ok"


def test_past_the_concurrency_limit_the_answer_is_a_503_problem(settings: Settings, tmp_path: Path) -> None:
    server = start(settings, tmp_path, "--limit-concurrency", "2")
    try:
        # One connection kept open after a full exchange: with it, the next connection is the limit's second.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as held:
            held.sendall(b"GET /health HTTP/1.1\r\n" + HOST + b"\r\n")
            assert held.recv(65536).startswith(b"HTTP/1.1 200 ")
            answer = exchange(server.port, b"GET /health HTTP/1.1\r\n" + HOST + b"X-Request-ID: over-the-limit\r\n\r\n")
            document = answer.problem(503, "overloaded")
            assert answer.headers["retry-after"] == "1"
            assert answer.headers["connection"] == "close"
            assert document["request_id"] == "over-the-limit"
    finally:
        server.stop()
