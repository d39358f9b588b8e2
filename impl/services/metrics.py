"""The `metrics` operations: the process's Prometheus metrics, as the composition gathers them."""

from __future__ import annotations

from collections.abc import Callable

from generated.interfaces.metrics import GetMetrics200Response


class MetricsService:
    """Implements `generated.interfaces.metrics.MetricsApi`."""

    def __init__(self, exposition: Callable[[], bytes], *, parameters: str, before: Callable[[], None]) -> None:
        self._exposition = exposition
        self._parameters = parameters
        self._before = before  # refreshes sampled gauges

    async def get_metrics(self) -> GetMetrics200Response:
        self._before()
        return GetMetrics200Response(body=self._exposition(), media_type_parameters=self._parameters)
