# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `metrics` operations: the interface to implement. No web framework here.

Per operation: a method of `MetricsApi`, its typed query parameters, and one
result type per declared status that is not a problem (problems are raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, TypeAlias

from contract_runtime.results import RawBody, RawJson, Result

__all__ = [
    "MetricsApi",
    "GetMetrics200Response",
    "GetMetricsResponse",
]


@dataclass(frozen=True, slots=True)
class GetMetrics200Response(Result):
    """`getMetrics` 200: The metrics (Content-Type `text/plain; version=0.0.4; charset=utf-8`)."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "text/plain"
    body: RawBody
    # Parameters written after the declared media type in Content-Type, e.g. "charset=utf-8".
    media_type_parameters: str = ""


GetMetricsResponse: TypeAlias = GetMetrics200Response


class MetricsApi(Protocol):
    """Implement one method per `metrics` operation; the HTTP layer calls it with parsed, valid input."""

    async def get_metrics(
        self,
    ) -> GetMetricsResponse:
        """getMetrics: Prometheus metrics"""
        ...
