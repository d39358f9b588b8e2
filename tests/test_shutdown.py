"""SIGTERM, as `docker stop` and orchestrators send it, to the API started by scripts/serve.

The requests in flight finish and get their whole answer; a connection opened
after the shutdown began is refused (never accepted and then cut); the process
exits 0 well within SHUTDOWN_TIMEOUT_SECONDS. A client that never finishes its
request holds the shutdown no longer than that timeout.

The requests are held in flight by their bodies: each client sends its headers
and half its body, the signal goes out, then the clients send the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from impl.settings import Settings
from tests.conftest import TEST_REDIS_URL, free_port
from tests.servers import ApiServer

pytestmark = pytest.mark.anyio

SERVE = Path(__file__).resolve().parent.parent / "scripts" / "serve"
IN_FLIGHT = 20
EXIT_MARGIN_SECONDS = 5  # closing the pools after the drain, on a busy machine


def serve(settings: Settings, workdir: Path, **environment: str) -> ApiServer:
    """scripts/serve itself, on a free port, with the test's database and these settings."""
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ENVIRONMENT": "test",
        "DATA_DIR": str(workdir),
        "DATABASE_URL": settings.resolved_database_url(),
        "CACHE_PREFIX": settings.cache_prefix,
        "SECRET_KEY": "shutdown-test-secret-" + uuid.uuid4().hex,
        "BCRYPT_ROUNDS": "4",
        **environment,
    }
    for name in ("REDIS_URL", "ADMIN_EMAIL", "ADMIN_USERNAME", "ADMIN_PASSWORD"):
        env.pop(name, None)
    if TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
    server = ApiServer([str(SERVE)], env, workdir / "api.log", port)
    server.wait_until_up()
    return server


@pytest.fixture
def stopping(settings: Settings, tmp_path: Path) -> Iterator[list[ApiServer]]:
    """Servers a test starts, stopped (killed if need be) whatever the test did."""
    servers: list[ApiServer] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


class Registration:
    """One registration sent in two halves over a raw connection, so it can be held in flight."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.username = f"drain{uuid.uuid4().hex[:10]}"
        body = {"email": f"{self.username}@example.com", "username": self.username, "password": "Lunar-Kite-Orchard-58"}
        self.body = json.dumps(body).encode()
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def start(self) -> None:
        """The headers and the first half of the body: the server is now waiting for the rest."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (
            f"POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + self.body[: len(self.body) // 2])
        await self.writer.drain()

    async def finish(self) -> tuple[int, dict[str, str], bytes]:
        """The rest of the body; then the whole answer (status, headers, a body of its Content-Length)."""
        self.writer.write(self.body[len(self.body) // 2 :])
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        headers: dict[str, str] = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers["content-length"]))
        self.writer.close()
        return int(status_line.split()[1]), headers, body


def refused(port: int) -> bool:
    """Whether a new connection to the port is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


async def until_refused(port: int, within: float) -> float:
    started = time.monotonic()
    with anyio.fail_after(within):
        while not await asyncio.to_thread(refused, port):  # noqa: ASYNC110 (a port, polled)
            await asyncio.sleep(0.02)
    return time.monotonic() - started


def wait_exit(process: subprocess.Popen[bytes], within: float) -> tuple[int, float]:
    """The process's exit status and how long after now it exited."""
    started = time.monotonic()
    code = process.wait(timeout=within)
    return code, time.monotonic() - started


async def test_sigterm_lets_requests_in_flight_answer_refuses_new_connections_and_exits_0(
    settings: Settings, tmp_path: Path, stopping: list[ApiServer]
) -> None:
    shutdown_timeout = 10
    server = serve(settings, tmp_path, SHUTDOWN_TIMEOUT_SECONDS=str(shutdown_timeout), BODY_TIMEOUT_SECONDS="60")
    stopping.append(server)
    registrations = [Registration(server.port) for _ in range(IN_FLIGHT)]
    await asyncio.gather(*(registration.start() for registration in registrations))
    await asyncio.sleep(0.5)  # every request head parsed: the server is reading their bodies

    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    # New connections are refused once the shutdown has begun, while the requests are still in flight.
    await until_refused(server.port, within=5)
    assert server.process.poll() is None, "exited with requests in flight"

    answers = await asyncio.gather(*(registration.finish() for registration in registrations))
    for registration, (status, headers, body) in zip(registrations, answers, strict=True):
        assert status == 201, body
        assert json.loads(body)["username"] == registration.username
        assert headers["connection"] == "close"  # answered, then the connection is closed

    code, _ = await asyncio.to_thread(wait_exit, server.process, shutdown_timeout)
    assert code == 0, server.log.read_text()
    assert time.monotonic() - signalled < shutdown_timeout
    assert "Traceback" not in server.log.read_text()


async def test_sigterm_stops_waiting_for_a_client_that_never_finishes_at_the_shutdown_timeout(
    settings: Settings, tmp_path: Path, stopping: list[ApiServer]
) -> None:
    shutdown_timeout = 2
    # No body timeout: only the shutdown timeout bounds the stalled client.
    server = serve(settings, tmp_path, SHUTDOWN_TIMEOUT_SECONDS=str(shutdown_timeout), BODY_TIMEOUT_SECONDS="0")
    stopping.append(server)
    stalled = Registration(server.port)
    await stalled.start()  # and never sends the rest
    half_head_reader, half_head = await asyncio.open_connection("127.0.0.1", server.port)
    half_head.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never ends its header fields
    await half_head.drain()
    await asyncio.sleep(0.5)

    server.process.send_signal(signal.SIGTERM)
    code, took = await asyncio.to_thread(wait_exit, server.process, shutdown_timeout + EXIT_MARGIN_SECONDS)
    assert code == 0, server.log.read_text()
    assert took >= shutdown_timeout - 0.5, "the stalled request was not given the shutdown timeout"
    # Cut at the timeout with a declared answer (not uvicorn's bare 500), then the connection closed.
    answer = await stalled.reader.read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), answer
    assert b"content-type: application/problem+json" in head.lower()
    assert b"retry-after: 1" in head.lower()
    assert json.loads(body)["type"] == "urn:catalog-api:problem:shutting-down"
    assert await half_head_reader.read() == b"", "a request never received in full got an answer"
    log = server.log.read_text()
    assert "timeout graceful shutdown exceeded" in log
    assert "Traceback" not in log
    for writer in (stalled.writer, half_head):
        writer.close()
