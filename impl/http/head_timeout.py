"""uvicorn's HTTP protocols with a deadline on the request head (HEADER_TIMEOUT_SECONDS).

uvicorn 0.54 times out nothing before a request's head is complete: a client that
opens a connection and trickles header bytes (slowloris) holds it for as long as it
likes, and past `--limit-concurrency` such connections every request, `/health`
included, gets uvicorn's 503. Here a connection has HEADER_TIMEOUT_SECONDS from the
moment it waits for a request head (opened, or the previous answer sent) to the
head's end; past it, the connection is closed, with a 408 problem when part of a
head had come (RFC 9110: the server SHOULD say why it closes), silently when
nothing had. Bytes that keep trickling do not extend the deadline; a request whose
head is complete is the app's (its body has BODY_TIMEOUT_SECONDS).

`impl.serve` runs uvicorn with `--http impl.http.head_timeout:HeadTimeoutProtocol`:
httptools (a dependency) with `impl.http.protocol`'s problem answers; H11HeadTimeout
is the same deadline on h11, for tests that drive both parsers. The
timeout bounds how long one connection holds a slot; a buffering reverse proxy in
front (HAProxy's `timeout http-request`, nginx's `client_header_timeout`) keeps
slow heads away from the server altogether (docs/proxies.md).
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from contract_runtime.problems import Problem, problem_document

from ..settings import load_settings
from .problems import PROBLEM_JSON, PROBLEM_TYPE_PREFIX
from .protocol import ProblemHttpProtocol

HEAD_TIMED_OUT = Problem(
    408, "request-timeout", "Request timeout", "The request's head (request line and headers) did not arrive in time."
)


@functools.cache
def head_timeout_seconds() -> float:
    """HEADER_TIMEOUT_SECONDS, read once per worker (impl.serve has already refused bad settings)."""
    return load_settings().header_timeout_seconds


def _timed_out_answer() -> bytes:
    rid = uuid.uuid4().hex
    body = json.dumps(problem_document(HEAD_TIMED_OUT, PROBLEM_TYPE_PREFIX, request_id=rid)).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        f"content-type: {PROBLEM_JSON}\r\n"
        f"content-length: {len(body)}\r\n"
        "x-content-type-options: nosniff\r\n"
        f"x-request-id: {rid}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class HeadDeadline:
    """Mixin for uvicorn's protocol classes (first in the bases): one deadline per wait for a head."""

    transport: asyncio.Transport
    cycle: Any  # uvicorn's RequestResponseCycle of the latest request whose head was complete
    loop: asyncio.AbstractEventLoop
    _head_timer: asyncio.TimerHandle | None = None
    _head_begun = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._await_head()

    def data_received(self, data: bytes) -> None:
        if data and self._waiting_for_head():
            self._head_begun = True
        super().data_received(data)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _waiting_for_head(self) -> bool:
        # No request yet, or the last one answered (a pipelined one whose head is complete is `cycle`).
        return self.cycle is None or bool(self.cycle.response_complete)

    def _await_head(self) -> None:
        self._cancel_head_timer()
        self._head_begun = False
        self._head_timer = self.loop.call_later(head_timeout_seconds(), self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._waiting_for_head():
            return
        if self._head_begun:
            self.transport.write(_timed_out_answer())
        self.transport.close()


class H11HeadTimeout(HeadDeadline, H11Protocol):
    """h11 with the head deadline (uvicorn's own 400 and 503 answers: httptools is what the image runs)."""


class HttpToolsHeadTimeout(HeadDeadline, ProblemHttpProtocol):
    """httptools with the head deadline, and uvicorn's own 400 and 503 as problems (impl.http.protocol)."""


HeadTimeoutProtocol: type[asyncio.Protocol] = HttpToolsHeadTimeout
