"""Before an operation reads anything: who is asking (for the services), and the per-address ceiling."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from contract_runtime.operations import Operation
from contract_runtime.problems import Problem

from ..limits.counters import Counters
from ..request_context import client_address
from .problems import too_many_requests

WINDOW_SECONDS = 60


class AddressCeiling:
    """At most `per_minute` requests a minute from one address to the `limited` operations (0: no ceiling)."""

    def __init__(self, counters: Counters, *, per_minute: int, limited: Iterable[str]) -> None:
        self._counters = counters
        self._per_minute = per_minute
        self._limited = frozenset(limited)

    async def __call__(self, operation: Operation, scope: MutableMapping[str, Any]) -> Problem | None:
        # Every operation's services learn the address (a wrong current_password counts per address too);
        # only the `limited` ones are under the ceiling.
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        client_address.set(address)
        if operation.operation_id not in self._limited or not self._per_minute:
            return None
        count = await self._counters.hit(f"address:{address}", window_seconds=WINDOW_SECONDS)
        if count.value <= self._per_minute:
            return None
        return too_many_requests(
            f"Too many requests from this address; try again in {count.reset_seconds} seconds.",
            limit=self._per_minute,
            retry_after_seconds=count.reset_seconds,
        )
