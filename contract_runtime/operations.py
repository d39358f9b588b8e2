"""The data the generator writes for each operation of the spec.

Generated code builds these from openapi.yaml; the ASGI layer reads them to
route, parse, authorize and answer. Nothing here does any work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

ParameterLocation = Literal["path", "query", "header"]
JsonType = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True, slots=True)
class Parameter:
    """A path, query or header parameter."""

    name: str  # as the spec spells it
    location: ParameterLocation
    python_name: str  # the keyword (or Query field) the implementation receives
    json_type: JsonType  # how the text on the wire becomes JSON before validation
    convert: Callable[[Any], Any]  # validated JSON value -> the Python value (UUID, an enum, ...)


@dataclass(frozen=True, slots=True)
class RequestBody:
    media_type: str  # application/json, application/x-www-form-urlencoded, or a streamed one
    model: Any  # the pydantic model class the implementation receives; None for a streamed body
    secret_fields: frozenset[str] = frozenset()  # writeOnly properties: their values never appear in a 422
    # Not JSON, not a form, a string schema: the implementation receives a `streams.RequestStream`.
    streamed: bool = False


@dataclass(frozen=True, slots=True)
class SecurityRequirement:
    """One entry of an operation's `security`: every scheme listed, with its scopes.

    An empty mapping is the anonymous alternative (`{}` in the spec).
    """

    schemes: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    name: str
    type: str  # the spec's type: oauth2, http (with scheme bearer), apiKey, ...
    http_scheme: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    tag: str  # the field of the implementations object that implements it
    interface: type  # the generated Protocol the implementation satisfies
    method: str  # upper case
    path: str  # the spec's path template
    function_name: str  # the method of the implementation
    parameters: tuple[Parameter, ...]
    query_type: Callable[..., Any] | None  # the generated Query dataclass, if any query parameter
    bodies: tuple[RequestBody, ...]  # one per media type it takes; empty: no request body
    security: tuple[SecurityRequirement, ...]  # any one satisfies; empty: anonymous
    statuses: frozenset[int]  # every status the spec declares for it


@dataclass(frozen=True, slots=True)
class Contract:
    """Everything generated from one spec that the HTTP layer needs."""

    title: str
    version: str
    operations: tuple[Operation, ...]
    security_schemes: Mapping[str, SecurityScheme]
    # The spec's components plus, per operation, the request schemas under
    # `x-operations/<operationId>/{parameters,body}`: validation reads the spec itself.
    validation_root: Mapping[str, Any]
