"""Domain errors, and the one place that turns every error into problem+json.

DomainError
├── NotFound          404: unknown or deleted resources
├── Conflict          409: duplicates, the last active admin
├── Forbidden         403: object-level rules (who may do what)
└── Unauthenticated   401: bad credentials or tokens
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from generated.runtime import RequestRejected

from .db.database import UniqueViolation

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status = 500
    kind = "internal-error"
    title = "Internal server error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status, kind, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, kind, title = 409, "conflict", "Conflict"


class Forbidden(DomainError):
    status, kind, title = 403, "forbidden", "Forbidden"


class Unauthenticated(DomainError):
    status, kind, title = 401, "unauthorized", "Unauthorized"


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:catalog-api:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    return problem(exc.status, exc.kind, exc.title, exc.detail, headers=headers)


async def _unique_violation(_: Request, exc: Exception) -> JSONResponse:
    return problem(409, Conflict.kind, Conflict.title, "A resource with these unique values already exists.")


async def _rejected(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestRejected)
    errors = None
    if exc.errors is not None:
        errors = [{"loc": list(e.loc), "msg": e.msg, "type": e.type} for e in exc.errors]
    return problem(exc.status, exc.kind, exc.title, exc.detail, errors=errors, headers=exc.headers)


async def _framework_validation(_: Request, exc: Exception) -> JSONResponse:
    # Only reachable if FastAPI itself refuses a request (for example a form it cannot parse).
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    return problem(
        422, "validation-error", "Validation failed", "The request does not match the API's schema.", errors=errors
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    slug = {400: "malformed-body", 404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    title = {400: "Malformed request body", 404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
    return problem(exc.status_code, slug, title, str(exc.detail), headers=dict(exc.headers or {}))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem(500, "internal-error", "Internal server error", "The server failed to answer this request.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(UniqueViolation, _unique_violation)
    app.add_exception_handler(RequestRejected, _rejected)
    app.add_exception_handler(RequestValidationError, _framework_validation)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
