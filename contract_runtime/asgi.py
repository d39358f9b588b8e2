"""The HTTP side of the contract, as one ASGI layer in front of the web framework.

For every request whose path the spec declares, this layer does the whole walk
once: route by the spec's own path table (concrete paths before templates, 405
with the exact `Allow` set), enforce `security` and scopes, turn parameters
into JSON values and validate them with the spec's schemas in one call, read
and validate the body, call the bound implementation with typed values, and
write the typed result it returns. Errors become `application/problem+json`.

Every GET operation also answers HEAD (RFC 9110 9.3.2): the same status and
header fields, without content; `Allow` lists HEAD after GET. Paths outside the
spec go to the wrapped app only when listed as passthrough (the documentation
routes, GET and HEAD only); anything else is a 404.

Every answer carries `X-Request-ID` (the client's when it is sane, else a new
one), problem bodies carry it as `request_id`, and `context.request_id` holds it
while the request is served, for log lines. Each request ends in one access log
line and one call of the `observe` callback, for metrics: the line goes to an
`access` writer when one is given (it is told an `AccessEntry`), else to the
logger `contract_runtime.access` at INFO. A `trace` callback, when given, opens a span around each
request (it is current while the request is served and its access line written)
and is told the route, operation and status as the request ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Protocol, get_args
from urllib.parse import unquote

from pydantic import BaseModel

from .binding import BoundOperation
from .context import request_id
from .operations import Contract, Operation, RequestBody
from .principal import Authenticator, Principal
from .problems import (
    FieldIssue,
    Problem,
    RequestRejected,
    forbidden,
    malformed,
    payload_too_large,
    problem_document,
    request_timeout,
    unauthorized,
    unsupported_media_type,
    validation_failed,
)
from .results import RawJson, Result
from .streams import ClientDisconnected, RequestStream
from .text import (
    NotText,
    decode_component,
    decode_header,
    decode_pairs,
    json_value,
    not_text_issue,
    surrogate_locations,
)
from .validation import Validator, body_validator, coerce, parameters_validator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorMapper = Callable[[Exception], Problem | None]
# Called for every request routed to an operation, before anything is read: a Problem refuses it.
Admission = Callable[[Operation, Scope], Awaitable[Problem | None]]
# Called once per request as it ends: (operationId or None outside the spec's operations, status or None
# when nothing was sent, seconds).
Observer = Callable[[str | None, int | None, float], None]


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One request as it ended: what its access line says."""

    method: str
    route: str | None  # the spec's path template; None outside the spec
    path: str
    operation_id: str | None
    status: int | None  # None when nothing was sent
    duration_ms: float  # rounded to 0.01 ms
    request_id: str

    @property
    def message(self) -> str:
        return (
            f"{self.method} {self.route or self.path} {self.operation_id or '-'} {self.status or '-'}"
            f" {self.duration_ms:.2f} ms"
        )


# Writes the access line of each request as it ends (called on the event loop, once per request).
AccessWriter = Callable[[AccessEntry], None]


class RequestTrace(Protocol):
    """What a `Tracer` opened for one request: told how the request ended, once its access line is written."""

    def end(self, route: str | None, operation_id: str | None, status: int | None) -> None: ...


# Called as each request arrives, with its scope and request id, before anything is routed or read.
Tracer = Callable[[Scope, str], RequestTrace]

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("contract_runtime.access")

_TEMPLATE_SEGMENT = re.compile(r"\{([^/{}]+)\}")
_PROBLEM_JSON = b"application/problem+json"
_NO_BODY_STATUSES = frozenset({204, 304})


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_REQUEST_ID_HEADER = b"x-request-id"
# A client's X-Request-ID is kept only when it is this sane; otherwise one is generated.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """Cross-origin access for browsers on `origins` (exact `scheme://host[:port]` values)."""

    origins: frozenset[str]
    allow_headers: tuple[str, ...] = ("Authorization", "Content-Type", "If-None-Match", "X-Request-ID")
    expose_headers: tuple[str, ...] = (
        "ETag",
        "Link",
        "Location",
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "WWW-Authenticate",
        "X-Cache",
        "X-Request-ID",
    )
    max_age_seconds: int = 600


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """Bounds checked before a request is read (0 turns a bound off)."""

    max_body_bytes: int = 64 * 1024
    max_target_bytes: int = 8 * 1024  # path and query
    max_header_bytes: int = 16 * 1024  # names and values of every header field
    body_timeout_seconds: float = 10.0  # the whole body, from the first read; a streamed one: between chunks
    max_stream_bytes: int = 1024**3  # a streamed request body (NDJSON, say), read as it arrives
    max_in_flight: int = 0  # requests served at once, beyond which operations that declare 503 are shed
    retry_after_seconds: int = 1


def _path_pattern(template: str) -> re.Pattern[str]:
    """`/products/{product_id}` -> a regex where each template is one non-empty segment, captured."""
    parts: list[str] = []
    position = 0
    for index, match in enumerate(_TEMPLATE_SEGMENT.finditer(template)):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(f"(?P<p{index}>[^/]+)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts) + r"\Z")


async def read_body(receive: Receive, *, max_bytes: int = 0) -> bytes:
    """The whole body; `RequestRejected` (413) as soon as it grows past `max_bytes` (0: unbounded)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if max_bytes and size > max_bytes:
            raise payload_too_large(max_bytes)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _enum_fields(model: Any) -> dict[str, Callable[[Any], Any]]:
    found: dict[str, Callable[[Any], Any]] = {}
    for name, info in model.model_fields.items():
        for candidate in (info.annotation, *get_args(info.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, Enum):
                found[name] = candidate
    return found


@dataclass(frozen=True, slots=True)
class _Body:
    """One media type an operation takes: how to check it, and the model it becomes."""

    spec: RequestBody
    validator: Validator | None  # None for a streamed body: its content is the implementation's to judge
    enums: Mapping[str, Callable[[Any], Any]]


class _Endpoint:
    """One operation, ready to serve: its validators and its parameters by location."""

    __slots__ = (
        "accepted",
        "bodies",
        "handler",
        "header_params",
        "operation",
        "parameters_validator",
        "path_params",
        "query_params",
        "query_type",
    )

    def __init__(self, bound: BoundOperation, root: Mapping[str, Any]) -> None:
        op = bound.operation
        self.operation = op
        self.handler = bound.handler
        self.path_params = [p for p in op.parameters if p.location == "path"]
        self.query_params = [p for p in op.parameters if p.location == "query"]
        self.header_params = [p for p in op.parameters if p.location == "header"]
        self.query_type = op.query_type
        self.parameters_validator: Validator | None = (
            parameters_validator(root, op.operation_id) if op.parameters else None
        )
        self.bodies = {
            body.media_type: _Body(spec=body, validator=None, enums={})
            if body.streamed
            else _Body(
                spec=body,
                validator=body_validator(root, op.operation_id, body.media_type, body.secret_fields),
                enums=_enum_fields(body.model),
            )
            for body in op.bodies
        }
        self.accepted = " or ".join(self.bodies)


@dataclass(frozen=True, slots=True)
class _Path:
    template: str
    pattern: re.Pattern[str] | None  # None: a concrete path, matched by equality
    names: tuple[str, ...]  # the template's parameter names, in order
    endpoints: Mapping[str, _Endpoint]  # method -> endpoint, as the spec declares them
    routes: Mapping[str, _Endpoint]  # method -> the endpoint serving it: the declared ones, and HEAD by GET's
    allow: str


class ContractRouter:
    """ASGI middleware serving every operation of `contract` from `operations`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        contract: Contract,
        operations: Iterable[BoundOperation],
        authenticators: Mapping[str, Authenticator],
        map_error: ErrorMapper,
        problem_type_prefix: str,
        passthrough_paths: Iterable[str] = (),
        limits: RequestLimits | None = None,
        never_shed: Iterable[str] = (),
        admission: Admission | None = None,
        cors: CorsPolicy | None = None,
        observe: Observer | None = None,
        trace: Tracer | None = None,
        unavailable: Callable[[Exception], bool] | None = None,
        access: AccessWriter | None = None,
    ) -> None:
        self.app = app
        self._access = access
        # Tells an error meaning "cannot be checked right now" (the accounts' store is down) from a bug:
        # an operation open to anyone then serves the caller as an anonymous one.
        self._unavailable = unavailable
        self._observe = observe
        self._trace = trace
        self._admission = admission
        self._cors = cors if cors is not None and cors.origins else None
        self._limits = limits or RequestLimits()
        self._never_shed = frozenset(never_shed)  # operationIds served however busy (health probes)
        self._in_flight = 0
        self._authenticators = dict(authenticators)
        self._map_error = map_error
        self._problem_prefix = problem_type_prefix
        self._passthrough = frozenset(passthrough_paths)
        by_path: dict[str, dict[str, _Endpoint]] = {}
        for bound in operations:
            by_path.setdefault(bound.operation.path, {})[bound.operation.method] = _Endpoint(
                bound, contract.validation_root
            )
        self._concrete: dict[str, _Path] = {}
        templated: list[_Path] = []
        for template, endpoints in by_path.items():
            names = tuple(_TEMPLATE_SEGMENT.findall(template))
            routes = _with_implicit_head(endpoints)
            entry = _Path(
                template=template,
                pattern=_path_pattern(template) if names else None,
                names=names,
                endpoints=endpoints,
                routes=routes,
                allow=", ".join(routes),
            )
            if names:
                templated.append(entry)
            else:
                self._concrete[template] = entry
        # Fewer templated segments first: `/products/search` before `/products/{id}` (OpenAPI's rule).
        self._templated = sorted(templated, key=lambda entry: len(entry.names))
        self._header_names: dict[type, list[tuple[str, bytes]]] = {}

    @property
    def operations(self) -> list[Operation]:
        """What this router serves: the operations it parses requests for."""
        paths = [*self._concrete.values(), *self._templated]
        return [endpoint.operation for entry in paths for endpoint in entry.endpoints.values()]

    def match(self, path: str) -> tuple[_Path, dict[str, str]] | None:
        entry = self._concrete.get(path)
        if entry is not None:
            return entry, {}
        for entry in self._templated:
            assert entry.pattern is not None
            found = entry.pattern.match(path)
            if found is not None:
                return entry, dict(zip(entry.names, found.groups(), strict=True))
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = _header(scope, _REQUEST_ID_HEADER)
        rid = sent if sent is not None and SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex
        scope["request_id"] = rid  # for layers outside this one (their answers carry it too)
        token = request_id.set(rid)
        answer = _Answer((_REQUEST_ID_HEADER, rid.encode("latin-1")), send)
        span = self._trace(scope, rid) if self._trace is not None else None
        try:
            await self._route(scope, receive, answer.send, answer)
        finally:
            self._record(scope, answer, time.perf_counter() - started, rid)
            if span is not None:
                operation = answer.operation
                span.end(answer.route, operation.operation_id if operation is not None else None, answer.status)
            request_id.reset(token)

    def _record(self, scope: Scope, answer: _Answer, seconds: float, rid: str) -> None:
        operation_id = answer.operation.operation_id if answer.operation is not None else None
        if self._observe is not None:
            self._observe(operation_id, answer.status, seconds)
        access = self._access
        if access is None and not access_logger.isEnabledFor(logging.INFO):
            return
        entry = AccessEntry(
            scope["method"], answer.route, scope["path"], operation_id, answer.status, round(seconds * 1000, 2), rid
        )
        if access is not None:
            access(entry)
            return
        access_logger.info("%s", entry.message, extra=asdict(entry))

    async def _route(self, scope: Scope, receive: Receive, send: Send, answer: _Answer) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        oversized = self._oversized(scope)
        if oversized is not None:
            await self._send_problem(send, oversized)
            return
        matched = self.match(path)
        if matched is None:
            if path in self._passthrough:
                if method == "GET":
                    await self.app(scope, receive, _with_nosniff(send))
                    return
                if method == "HEAD":
                    await self.app({**scope, "method": "GET"}, receive, _without_body(_with_nosniff(send)))
                    return
                await self._send_problem(send, self._not_allowed(method, "GET, HEAD"))
                return
            await self._send_problem(send, Problem(404, "not-found", "Not found", "No such path."))
            return
        entry, decoded = matched
        path_values = _path_texts(entry, scope, decoded) if decoded else decoded
        answer.route = entry.template
        if self._cors is not None:
            origin = _header(scope, b"origin")
            if origin is not None and origin in self._cors.origins:
                if method == "OPTIONS" and _header(scope, b"access-control-request-method") in entry.routes:
                    await self._send_preflight(send, origin, entry.allow)
                    return
                send = _with_cors(send, origin, self._cors)
        endpoint = entry.routes.get(method)
        if endpoint is None:
            await self._send_problem(send, self._not_allowed(method, entry.allow))
            return
        if method == "HEAD" and endpoint.operation.method == "GET":
            send = _without_body(send)
        answer.operation = endpoint.operation
        limits = self._limits
        if limits.max_in_flight and self._in_flight >= limits.max_in_flight and self._sheddable(endpoint):
            await self._send_problem(send, self._overloaded())
            return
        self._in_flight += 1
        try:
            if self._admission is not None:
                refusal = await self._admission(endpoint.operation, scope)
                if refusal is not None:
                    await self._send_problem(send, refusal)
                    return
            await self._answer(endpoint, scope, receive, send, path_values)
        finally:
            self._in_flight -= 1

    async def _answer(
        self, endpoint: _Endpoint, scope: Scope, receive: Receive, send: Send, path_values: Mapping[str, str | NotText]
    ) -> None:
        try:
            result = await self._serve(endpoint, scope, receive, path_values)
        except ClientDisconnected:
            return
        except RequestRejected as exc:
            await self._send_problem(send, exc.problem)
            return
        except Exception as exc:
            problem = self._map_error(exc)
            if problem is None:
                logger.exception("unhandled error in %s", endpoint.operation.operation_id)
                problem = Problem(500, "internal-error", "Internal server error", "The server failed to answer.")
            await self._send_problem(send, problem)
            return
        await self._send_result(send, result, head=scope["method"] == "HEAD")

    async def _send_preflight(self, send: Send, origin: str, allow: str) -> None:
        assert self._cors is not None
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", allow.encode("latin-1")),
            (b"access-control-allow-headers", ", ".join(self._cors.allow_headers).encode("latin-1")),
            (b"access-control-max-age", str(self._cors.max_age_seconds).encode("latin-1")),
            (b"vary", b"Origin"),
            _NOSNIFF,
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def _oversized(self, scope: Scope) -> Problem | None:
        """414 or 431 for a request whose target or header fields pass the limits."""
        limits = self._limits
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        if limits.max_target_bytes and target > limits.max_target_bytes:
            return Problem(
                414, "uri-too-long", "URI too long", f"The request target exceeds {limits.max_target_bytes} bytes."
            )
        if limits.max_header_bytes:
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > limits.max_header_bytes:
                return Problem(
                    431,
                    "headers-too-large",
                    "Request header fields too large",
                    f"The request header fields exceed {limits.max_header_bytes} bytes.",
                )
        return None

    def _sheddable(self, endpoint: _Endpoint) -> bool:
        op = endpoint.operation
        return 503 in op.statuses and op.operation_id not in self._never_shed

    def _overloaded(self) -> Problem:
        return Problem(
            503,
            "overloaded",
            "Service unavailable",
            "Too many requests are in flight; try again shortly.",
            headers={"Retry-After": str(self._limits.retry_after_seconds)},
        )

    @staticmethod
    def _not_allowed(method: str, allow: str) -> Problem:
        return Problem(
            405, "method-not-allowed", "Method not allowed", f"{method} is not allowed here.", headers={"Allow": allow}
        )

    async def _serve(
        self, endpoint: _Endpoint, scope: Scope, receive: Receive, path_values: Mapping[str, str | NotText]
    ) -> Any:
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        op = endpoint.operation
        kwargs: dict[str, Any] = {}
        if op.security:
            principal = await self._authorize(op, headers)
            kwargs["principal"] = principal
        if endpoint.parameters_validator is not None:
            self._parse_parameters(endpoint, scope, path_values, kwargs)
        if endpoint.bodies:
            kwargs["body"] = await self._parse_body(endpoint, headers, receive)
        return await endpoint.handler(**kwargs)

    def _parse_parameters(
        self,
        endpoint: _Endpoint,
        scope: Scope,
        path_values: Mapping[str, str | NotText],
        kwargs: dict[str, Any],
    ) -> None:
        texts: dict[str, Mapping[str, str | NotText]] = {"path": path_values, "query": {}, "header": {}}
        if endpoint.query_params:
            texts["query"] = decode_pairs(scope["query_string"])
        if endpoint.header_params:
            wanted = {p.name.lower().encode("latin-1") for p in endpoint.header_params}
            texts["header"] = {
                name.decode("latin-1"): decode_header(value) for name, value in scope["headers"] if name in wanted
            }
        instance: dict[str, dict[str, Any]] = {}
        not_text: list[FieldIssue] = []
        params_at = {"path": endpoint.path_params, "query": endpoint.query_params, "header": endpoint.header_params}
        for where, params in params_at.items():
            sent = texts[where]
            instance[where] = values = {}
            for p in params:
                text = sent.get(p.name.lower() if where == "header" else p.name)
                if isinstance(text, NotText):
                    not_text.append(not_text_issue((where, p.name)))
                elif text is not None:
                    values[p.name] = coerce(text, p.json_type)
        assert endpoint.parameters_validator is not None
        if not_text:
            # The schema judges text only; what it says about a field that is not text (say, "required") is moot.
            bad = {issue.loc for issue in not_text}
            issues = [i for i in endpoint.parameters_validator.issues(instance) if i.loc[:2] not in bad]
            raise validation_failed([*not_text, *issues])
        endpoint.parameters_validator.check(instance)
        for where in ("path", "header"):
            values = instance[where]
            for p in params_at[where]:
                value = values.get(p.name)
                kwargs[p.python_name] = None if value is None else p.convert(value)
        if endpoint.query_type is not None:
            query = instance["query"]
            fields = {p.python_name: p.convert(query[p.name]) for p in endpoint.query_params if p.name in query}
            kwargs["query"] = endpoint.query_type(**fields)

    async def _parse_body(
        self, endpoint: _Endpoint, headers: Mapping[str, str], receive: Receive
    ) -> BaseModel | RequestStream:
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        body = endpoint.bodies.get(media_type)
        if body is None:
            raise unsupported_media_type(endpoint.accepted)
        if body.validator is None:
            return self._stream(headers, receive)
        raw = await self._read_bounded(headers, receive)
        data: Any
        if media_type == "application/x-www-form-urlencoded":
            fields = decode_pairs(raw)
            not_text = [not_text_issue(("body", name)) for name, value in fields.items() if isinstance(value, NotText)]
            data = fields
        else:
            try:
                data = json_value(raw)
            except (ValueError, RecursionError):
                raise malformed("The request body is not valid JSON.") from None
            not_text = [not_text_issue(("body", *loc)) for loc in surrogate_locations(data)]
        if not_text:
            raise validation_failed(not_text)
        body.validator.check(data)
        # The spec accepted it: build the model without a second validation by a
        # library that reads the schema differently; only the fields sent are set.
        enums = body.enums
        values = {name: enums[name](value) if name in enums else value for name, value in data.items()}
        model: BaseModel = body.spec.model.model_construct(**values)
        return model

    def _stream(self, headers: Mapping[str, str], receive: Receive) -> RequestStream:
        """A streamed body: refused at once when its declared length is too large, else bounded as it is read."""
        limits = self._limits
        declared = headers.get("content-length", "")
        if limits.max_stream_bytes and declared.isdigit() and int(declared) > limits.max_stream_bytes:
            raise payload_too_large(limits.max_stream_bytes)
        return RequestStream(
            receive, max_bytes=limits.max_stream_bytes, idle_timeout_seconds=limits.body_timeout_seconds
        )

    async def _read_bounded(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        """The body, refused before reading when its declared length is too large, and when it is slow."""
        limits = self._limits
        declared = headers.get("content-length", "")
        if limits.max_body_bytes and declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise payload_too_large(limits.max_body_bytes)
        if not limits.body_timeout_seconds:
            return await read_body(receive, max_bytes=limits.max_body_bytes)
        try:
            async with asyncio.timeout(limits.body_timeout_seconds):
                return await read_body(receive, max_bytes=limits.max_body_bytes)
        except TimeoutError:
            raise request_timeout() from None

    async def _authorize(self, op: Operation, headers: Mapping[str, str]) -> Principal | None:
        token = _bearer_token(headers.get("authorization"))
        principals: dict[str, Principal | None] = {}
        open_to_anyone = any(not requirement.schemes for requirement in op.security)
        anonymous_allowed = False
        lacking: set[str] = set()
        for requirement in op.security:
            if not requirement.schemes:
                anonymous_allowed = True
                continue
            principal: Principal | None = None
            for scheme, scopes in requirement.schemes.items():
                if scheme not in principals:
                    principals[scheme] = await self._authenticate(scheme, token, open_to_anyone=open_to_anyone)
                principal = principals[scheme]
                if principal is None:
                    break
                missing = set(scopes) - principal.scopes
                if missing:
                    lacking |= missing
                    principal = None
                    break
            if principal is not None:
                return principal
        if anonymous_allowed:
            return None
        if token is None:
            raise unauthorized("Not authenticated: send an access token as a Bearer token.")
        if lacking:
            raise forbidden(f"This operation needs the {', '.join(sorted(lacking))} scope.")
        raise unauthorized("Could not validate credentials.", challenge='Bearer error="invalid_token"')

    async def _authenticate(self, scheme: str, token: str | None, *, open_to_anyone: bool) -> Principal | None:
        if not token:
            return None
        try:
            return await self._authenticators[scheme].authenticate(token)
        except Exception as exc:
            # An operation open to anyone stays open while credentials cannot be checked: the caller is
            # served as an anonymous one, not refused.
            if open_to_anyone and self._unavailable is not None and self._unavailable(exc):
                return None
            raise

    def _result_headers(self, result_type: type) -> list[tuple[str, bytes]]:
        names = self._header_names.get(result_type)
        if names is None:
            names = [(field, header.lower().encode("latin-1")) for field, header in result_type.HEADERS]  # type: ignore[attr-defined]
            self._header_names[result_type] = names
        return names

    async def _send_result(self, send: Send, result: Result, *, head: bool = False) -> None:
        status = result.STATUS
        headers: list[tuple[bytes, bytes]] = [_NOSNIFF]
        for field, name in self._result_headers(type(result)):
            value = getattr(result, field)
            if value is not None:
                headers.append((name, str(value).encode("latin-1")))
        content = b""
        stream: AsyncIterator[bytes] | None = None
        if result.MEDIA_TYPE is not None:
            body = result.body  # type: ignore[attr-defined]
            media_type = result.MEDIA_TYPE
            if isinstance(body, bytes):  # a non-JSON body, sent as it is
                content = body
            elif isinstance(body, AsyncIterator):  # a non-JSON body, streamed as it is made
                stream = body
            else:
                content = body.data if isinstance(body, RawJson) else body.__pydantic_serializer__.to_json(body)
            parameters: str = getattr(result, "media_type_parameters", "")
            media_type = f"{media_type}; {parameters}" if parameters else media_type
            headers.append((b"content-type", media_type.encode("latin-1")))
        if stream is not None:
            await self._send_stream(send, status, headers, stream, head=head)
            return
        if status not in _NO_BODY_STATUSES:
            headers.append((b"content-length", str(len(content)).encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    @staticmethod
    async def _send_stream(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], stream: AsyncIterator[bytes], *, head: bool
    ) -> None:
        """Chunks as the implementation makes them (no Content-Length: the server frames them); HEAD makes none.
        A failure after the first chunk can only cut the answer short: it is logged, and the body ends there."""
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            if not head:
                try:
                    async for chunk in stream:
                        if chunk:
                            await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except Exception as exc:
                    # One line here; the server that cuts the connection logs the traceback.
                    logger.warning("a streamed answer failed after it started; its body is cut short: %r", exc)
                    raise
            await send({"type": "http.response.body", "body": b""})
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _send_problem(self, send: Send, problem: Problem) -> None:
        document = problem_document(problem, self._problem_prefix, request_id=request_id.get())
        content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in problem.headers.items()]
        headers.append((b"content-type", _PROBLEM_JSON))
        headers.append((b"content-length", str(len(content)).encode("latin-1")))
        headers.append(_NOSNIFF)
        await send({"type": "http.response.start", "status": problem.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class _Answer:
    """What one request was answered: its route and operation once known, the status sent; `send`
    adds the request's id to the answer (unless a layer inside already did)."""

    __slots__ = ("_id_header", "_send", "operation", "route", "status")

    def __init__(self, id_header: tuple[bytes, bytes], send: Send) -> None:
        self._id_header = id_header
        self._send = send
        self.operation: Operation | None = None
        self.route: str | None = None
        self.status: int | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = message.get("headers", [])
            if not any(name.lower() == _REQUEST_ID_HEADER for name, _ in headers):
                message["headers"] = [*headers, self._id_header]
        await self._send(message)


def _with_cors(send: Send, origin: str, cors: CorsPolicy) -> Send:
    added = [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-expose-headers", ", ".join(cors.expose_headers).encode("latin-1")),
        (b"vary", b"Origin"),
    ]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *added]
        await send(message)

    return sending


def _with_implicit_head(endpoints: Mapping[str, _Endpoint]) -> dict[str, _Endpoint]:
    """`endpoints` with HEAD, unless declared, served by GET's endpoint, listed right after GET (RFC 9110 9.3.2)."""
    routes: dict[str, _Endpoint] = {}
    for method, endpoint in endpoints.items():
        routes[method] = endpoint
        if method == "GET" and "HEAD" not in endpoints:
            routes["HEAD"] = endpoint
    return routes


def _without_body(send: Send) -> Send:
    """GET's answer as HEAD's: the same status and header fields (`Content-Length` included), no content."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return sending


def _with_nosniff(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), _NOSNIFF]
        await send(message)

    return sending


def _path_texts(entry: _Path, scope: Scope, decoded: dict[str, str]) -> Mapping[str, str | NotText]:
    """The path parameters decoded from the raw path, strictly (the server's decoded `path` has already
    turned bytes that are not UTF-8 into U+FFFD); the decoded values when the raw path cannot tell."""
    raw: bytes | None = scope.get("raw_path")
    found = entry.pattern.match(raw.decode("latin-1")) if entry.pattern is not None and raw is not None else None
    if found is None:
        return decoded
    strict: dict[str, str | NotText] = {}
    for name, value in zip(entry.names, found.groups(), strict=True):
        if unquote(value) != decoded[name]:  # an encoded `/` split the path differently: the route's values stand
            return decoded
        strict[name] = decode_component(value.encode("latin-1"))
    return strict


def _bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token
