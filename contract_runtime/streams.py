"""Bodies read and written as they go: a request body handed to the implementation as a stream, a response
body as an async iterator of byte chunks.

An operation whose request body is not JSON, not a form, and has a string schema
(`application/x-ndjson`, say) receives a `RequestStream` instead of a model: the
implementation pulls chunks, or lines, while the client is still sending, so a
body of any size is never held whole. The stream enforces the limits the router
would have enforced on a buffered body, as it reads:

- more than `max_bytes` in all: `RequestRejected` (413) from the read that passed it;
- no bytes for `idle_timeout_seconds` (0: no limit): `RequestRejected` (408);
- the client went away: `ClientDisconnected` (the router answers nothing).

What the implementation did with the chunks before one of these is its own to
keep or undo.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from .problems import payload_too_large, request_timeout

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class ClientDisconnected(Exception):
    """The client went away before its body arrived."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a body, without its `\\n` (and a `\\r` before it); `data` is None when the line was longer
    than the limit (its bytes were skipped, not kept)."""

    number: int  # counting from 1
    data: bytes | None


class RequestStream:
    """A request body, read as it arrives; iterate once, by `chunks()` or by `lines()`."""

    def __init__(self, receive: Receive, *, max_bytes: int = 0, idle_timeout_seconds: float = 0) -> None:
        self._receive = receive
        self._max_bytes = max_bytes
        self._idle_timeout = idle_timeout_seconds
        self._read = 0
        self._done = False

    @property
    def bytes_read(self) -> int:
        return self._read

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's chunks as the server receives them (empty ones skipped)."""
        while not self._done:
            message = await self._next_message()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            chunk: bytes = message.get("body", b"")
            self._done = not message.get("more_body", False)
            self._read += len(chunk)
            if self._max_bytes and self._read > self._max_bytes:
                raise payload_too_large(self._max_bytes)
            if chunk:
                yield chunk

    async def lines(self, *, max_line_bytes: int) -> AsyncIterator[Line]:
        """The body's lines, split on `\\n` (a `\\r` before it dropped); a final line without `\\n` counts.
        A line longer than `max_line_bytes` is reported with `data=None`, and only that much of it is held."""
        number = 0
        pending = bytearray()
        too_long = False
        async for chunk in self.chunks():
            start = 0
            while True:
                end = chunk.find(b"\n", start)
                if end < 0:
                    if not too_long:
                        pending += chunk[start:]
                        if len(pending) > max_line_bytes:
                            too_long = True
                            pending.clear()
                    break
                number += 1
                if too_long or len(pending) + end - start > max_line_bytes:
                    yield Line(number, None)
                else:
                    pending += chunk[start:end]
                    yield Line(number, bytes(pending.removesuffix(b"\r")))
                pending.clear()
                too_long = False
                start = end + 1
        if too_long:
            yield Line(number + 1, None)
        elif pending:
            yield Line(number + 1, bytes(pending.removesuffix(b"\r")))

    async def _next_message(self) -> MutableMapping[str, Any]:
        if not self._idle_timeout:
            return await self._receive()
        try:
            async with asyncio.timeout(self._idle_timeout):
                return await self._receive()
        except TimeoutError:
            raise request_timeout() from None
