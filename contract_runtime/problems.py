"""Problems (RFC 9457) as plain data, and the refusals of the runtime itself.

Nothing here knows HTTP machinery: the ASGI layer writes a `Problem` as
`application/problem+json`; an implementation maps its own errors to one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One offending field: where it is, what is wrong, and the JSON Schema keyword."""

    loc: tuple[str | int, ...]
    msg: str
    type: str


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem: `kind` is the last part of its `type` URI."""

    status: int
    kind: str
    title: str
    detail: str
    errors: tuple[FieldIssue, ...] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def problem_document(problem: Problem, type_prefix: str, *, request_id: str | None = None) -> dict[str, Any]:
    """The RFC 9457 body of `problem`; its `type` is `type_prefix` + `kind`, with the request's id if known."""
    document: dict[str, Any] = {
        "type": type_prefix + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        document["errors"] = [{"loc": list(e.loc), "msg": e.msg, "type": e.type} for e in problem.errors]
    if request_id is not None:
        document["request_id"] = request_id
    return document


class RequestRejected(Exception):
    """A request the contract refuses before any implementation sees it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def unauthorized(detail: str, *, challenge: str = "Bearer") -> RequestRejected:
    return RequestRejected(
        Problem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": challenge})
    )


def forbidden(detail: str) -> RequestRejected:
    return RequestRejected(Problem(403, "forbidden", "Forbidden", detail))


def malformed(detail: str) -> RequestRejected:
    return RequestRejected(Problem(400, "malformed-body", "Malformed request body", detail))


def unsupported_media_type(expected: str) -> RequestRejected:
    return RequestRejected(
        Problem(415, "unsupported-media-type", "Unsupported media type", f"This operation takes {expected}.")
    )


def payload_too_large(limit: int) -> RequestRejected:
    return RequestRejected(
        Problem(413, "payload-too-large", "Payload too large", f"The request body exceeds {limit} bytes.")
    )


def request_timeout() -> RequestRejected:
    return RequestRejected(
        Problem(408, "request-timeout", "Request timeout", "The request body did not arrive in time.")
    )


def validation_failed(issues: list[FieldIssue]) -> RequestRejected:
    return RequestRejected(
        Problem(
            422,
            "validation-error",
            "Validation failed",
            "The request does not match the API's schema.",
            errors=tuple(issues),
        )
    )
