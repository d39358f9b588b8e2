# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `health` operations: the interface to implement. No web framework here.

Per operation: a method of `HealthApi`, its typed query parameters, and one
result type per declared status that is not a problem (problems are raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, TypeAlias

from contract_runtime.results import RawJson, Result

from ..models import Liveness, Readiness

__all__ = [
    "HealthApi",
    "GetLiveness200Response",
    "GetLivenessResponse",
    "GetReadiness200Response",
    "GetReadiness503Response",
    "GetReadinessResponse",
]


@dataclass(frozen=True, slots=True)
class GetLiveness200Response(Result):
    """`getLiveness` 200: The process is up."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    body: Liveness | RawJson[Liveness]


GetLivenessResponse: TypeAlias = GetLiveness200Response


@dataclass(frozen=True, slots=True)
class GetReadiness200Response(Result):
    """`getReadiness` 200: Ready to serve."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    body: Readiness | RawJson[Readiness]


@dataclass(frozen=True, slots=True)
class GetReadiness503Response(Result):
    """`getReadiness` 503: The database is unreachable."""

    STATUS: ClassVar[int] = 503
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    body: Readiness | RawJson[Readiness]


GetReadinessResponse: TypeAlias = GetReadiness200Response | GetReadiness503Response


class HealthApi(Protocol):
    """Implement one method per `health` operation; the HTTP layer calls it with parsed, valid input."""

    async def get_liveness(
        self,
    ) -> GetLivenessResponse:
        """getLiveness: Liveness"""
        ...

    async def get_readiness(
        self,
    ) -> GetReadinessResponse:
        """getReadiness: Readiness"""
        ...
