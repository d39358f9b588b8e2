# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `health` operations: the interface to implement and its router."""

# Annotations stay evaluated: FastAPI must see the Security() dependencies built in build_router.

from dataclasses import dataclass
from typing import Annotated, Literal, Protocol
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Security
from fastapi.responses import Response

from ..models import *  # noqa: F403
from ..runtime import (
    Authenticator,
    Principal,
    build_model,
    parse_parameters,
    read_form_body,
    read_json_body,
    respond,
    security_dependency,
)

__all__ = [
    "HealthApi",
    "build_router",
    "GetReadinessResult",
]


@dataclass(frozen=True)
class GetReadinessResult:
    """What `getReadiness` answers: status, body and response headers."""

    body: Readiness | None
    status_code: Literal[200, 503] = 200


class HealthApi(Protocol):
    """Implement one method per `health` operation; the router calls it."""

    async def get_liveness(
        self,
    ) -> Liveness:
        """getLiveness: Liveness"""
        ...

    async def get_readiness(
        self,
    ) -> GetReadinessResult:
        """getReadiness: Readiness"""
        ...


def build_router(api: HealthApi, authenticator: Authenticator) -> APIRouter:
    """Routes for the `health` operations, bound to `api`."""
    router = APIRouter(tags=["health"])
    require = security_dependency(authenticator)

    @router.get(
        "/health",
        operation_id="getLiveness",
        summary="Liveness",
        status_code=200,
        response_class=Response,
    )
    async def get_liveness(
        request: Request,
    ) -> Response:
        result = await api.get_liveness()
        return respond(200, result)

    @router.get(
        "/health/ready",
        operation_id="getReadiness",
        summary="Readiness",
        status_code=200,
        response_class=Response,
    )
    async def get_readiness(
        request: Request,
    ) -> Response:
        result = await api.get_readiness()
        return respond(
            result.status_code,
            result.body,
            {},
        )

    return router
