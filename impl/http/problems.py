"""The one mapping from errors to problem+json (RFC 9457).

Requests the contract refuses are answered by `contract_runtime` itself; this
maps what the implementation raises (`map_error`, for the contract router) and
what the framework raises on the documentation routes (`install_framework_handlers`).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from contract_runtime.problems import FieldIssue, Problem, problem_document

from ..db.database import UniqueViolation, is_statement_timeout, is_unavailable, one_line
from ..errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotConfigured,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamFailed,
    UpstreamTimeout,
)
from ..security.passwords import HasherBusy

logger = logging.getLogger(__name__)
PROBLEM_TYPE_PREFIX = "urn:catalog-api:problem:"
PROBLEM_JSON = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 2
# A query the database cancelled at its time limit: the database is up, the query was too slow.
STATEMENT_TIMEOUT = "statement-timeout"

_DOMAIN: dict[type[DomainError], tuple[int, str, str]] = {
    NotFound: (404, "not-found", "Not found"),
    Conflict: (409, "conflict", "Conflict"),
    Forbidden: (403, "forbidden", "Forbidden"),
    Unauthenticated: (401, "unauthorized", "Unauthorized"),
    NotConfigured: (503, "llm-not-configured", "Service unavailable"),
    UpstreamFailed: (502, "llm-failed", "Bad gateway"),
    UpstreamTimeout: (504, "llm-timeout", "Gateway timeout"),
}


def too_many_requests(detail: str, *, limit: int, retry_after_seconds: int) -> Problem:
    seconds = str(retry_after_seconds)
    headers = {"Retry-After": seconds, "RateLimit-Limit": str(limit), "RateLimit-Remaining": "0"}
    headers["RateLimit-Reset"] = seconds
    return Problem(429, "too-many-requests", "Too many requests", detail, headers=headers)


def map_error(exc: Exception) -> Problem | None:
    """The problem an implementation's error stands for; None for a bug (answered 500)."""
    if isinstance(exc, InvalidInput):
        # The shape of the runtime's own 422 (the spec's ValidationFailed), the offending field listed.
        loc = (exc.location,) if exc.field is None else (exc.location, exc.field)
        issue = FieldIssue(loc=loc, msg=exc.detail, type=exc.rule)
        return Problem(422, "validation-error", "Validation failed", exc.detail, errors=(issue,))
    if isinstance(exc, RateLimited):
        return too_many_requests(exc.detail, limit=exc.limit, retry_after_seconds=exc.retry_after_seconds)
    if isinstance(exc, DomainError):
        for kind, (status, slug, title) in _DOMAIN.items():
            if isinstance(exc, kind):
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
                return Problem(status, slug, title, exc.detail, headers=headers)
        return None
    if isinstance(exc, UniqueViolation):
        return Problem(409, "conflict", "Conflict", "A resource with these unique values already exists.")
    if is_statement_timeout(exc):
        logger.warning("a database statement ran past its time limit: %s", one_line(exc))
        return Problem(
            503,
            STATEMENT_TIMEOUT,
            "Service unavailable",
            "The database took too long to answer this request; try again, or narrow the request.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if is_unavailable(exc):
        # One line per failure: an outage must not flood the log with tracebacks.
        logger.warning("database unavailable: %s: %s", type(exc).__name__, one_line(exc) or "timed out")
        return Problem(
            503,
            "database-unavailable",
            "Service unavailable",
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, HasherBusy):
        return Problem(
            503,
            "service-busy",
            "Service busy",
            "Too many password checks at once; try again shortly.",
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    return None


def _response(request: Request, problem: Problem) -> JSONResponse:
    # The contract router gave the request its id; a 500 is written outside it, so the id comes along here.
    rid: str | None = request.scope.get("request_id")
    body = problem_document(problem, PROBLEM_TYPE_PREFIX, request_id=rid)
    headers = {**problem.headers, "X-Request-ID": rid} if rid is not None else problem.headers
    return JSONResponse(body, status_code=problem.status, headers=headers, media_type=PROBLEM_JSON)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    problem = Problem(exc.status_code, "http-error", "Error", str(exc.detail), headers=dict(exc.headers or {}))
    return _response(request, problem)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return _response(request, Problem(500, "internal-error", "Internal server error", "The server failed to answer."))


def install_framework_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
