"""uvicorn's HTTP/1.1 protocol (httptools), answering in problem+json where uvicorn answers by itself.

Two answers never reach the app, so the app cannot shape them:

- a request the parser refuses (a bad request line, a header field name with a
  space, a control character in a value, both `Content-Length` and
  `Transfer-Encoding`, a bad chunk, bytes that are not HTTP at all): uvicorn
  writes `400` text/plain and closes the connection. Here the `400` is the
  problem `malformed-request`, with `X-Request-ID` and `nosniff` as every answer has.
- a request past `--limit-concurrency` (connections or requests at once):
  uvicorn answers it with its own `503` text/plain app. Here it is the problem
  `overloaded` with `Retry-After`, as the contract router's own shedding is.

And the API has no WebSocket: a `Upgrade: websocket` request is served as the
plain HTTP request it also is (uvicorn would hand it to a WebSocket protocol,
which the app refuses with a bare `403`).

uvicorn is started with `--http impl.http.head_timeout:HeadTimeoutProtocol`
(impl.serve), which subclasses this class with the request-head deadline, so
one `--http` keeps both; an `--http` given on the command line wins, and
uvicorn's own protocols answer as uvicorn does. The hooks overridden (`send_400_response`, `_start_asgi_task`,
`_unsupported_upgrade_warning`) are uvicorn's, as pinned in uv.lock;
tests/test_wire.py drives a real server through each of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any, cast

from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from contract_runtime.asgi import SANE_REQUEST_ID
from contract_runtime.problems import Problem, problem_document

from .problems import PROBLEM_JSON, PROBLEM_TYPE_PREFIX

logger = logging.getLogger(__name__)

MALFORMED = Problem(400, "malformed-request", "Bad request", "The request is not valid HTTP/1.1.")
RETRY_AFTER_SECONDS = 1
OVERLOADED = Problem(
    503,
    "overloaded",
    "Service unavailable",
    "The server has too many connections and requests at once; try again shortly.",
    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
)


def _problem_answer(problem: Problem, request_id: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header fields and content of `problem` as an answer that closes the connection."""
    document = problem_document(problem, PROBLEM_TYPE_PREFIX, request_id=request_id)
    content = json.dumps(document, separators=(",", ":")).encode()
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in problem.headers.items()]
    headers += [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(content)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-request-id", request_id.encode()),
        (b"connection", b"close"),
    ]
    return headers, content


async def answer_overloaded(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """What uvicorn serves instead of the app past its concurrency limit: a 503 problem."""
    headers_sent = cast("Iterable[tuple[bytes, bytes]]", scope.get("headers", ()))
    sent = next((value.decode("latin-1") for name, value in headers_sent if name == b"x-request-id"), "")
    rid = sent if SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex
    headers, content = _problem_answer(OVERLOADED, rid)
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": content, "more_body": False})


class ProblemHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, its own answers written as problems (see the module's docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.ws_protocol_class = None

    def send_400_response(self, msg: str) -> None:
        rid = uuid.uuid4().hex
        headers, content = _problem_answer(MALFORMED, rid)
        lines = [b"HTTP/1.1 400 Bad Request\r\n"]
        lines += [name + b": " + value + b"\r\n" for name, value in [*self.server_state.default_headers, *headers]]
        self.transport.write(b"".join([*lines, b"\r\n", content]))
        self.transport.close()
        # uvicorn has just warned "Invalid HTTP request received."; this line carries the id the client got.
        logger.info("malformed request answered 400", extra={"request_id": rid})

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        super()._start_asgi_task(cycle, answer_overloaded if app is service_unavailable else app)

    def _unsupported_upgrade_warning(self) -> None:
        # uvicorn would warn twice per request and suggest installing a WebSocket library; there is no
        # WebSocket here by design, and the request is answered as plain HTTP.
        logger.debug("Upgrade request served as plain HTTP/1.1")
