"""Liveness and readiness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from generated.models import Checks, CheckStatus, Liveness, Readiness
from generated.routers.health import GetReadinessResult, HealthApi

from ..db.database import Db


def _status(ok: bool) -> CheckStatus:
    return CheckStatus.ok if ok else CheckStatus.unavailable


class HealthService(HealthApi):
    def __init__(self, db: Db, cache_ping: Callable[[], Awaitable[bool]]) -> None:
        self._db = db
        self._cache_ping = cache_ping

    async def get_liveness(self) -> Liveness:
        return Liveness(status="ok")

    async def get_readiness(self) -> GetReadinessResult:
        database_ok = await self._db.ping()
        cache_ok = await self._cache_ping()
        body = Readiness(
            status=_status(database_ok),
            checks=Checks(database=_status(database_ok), cache=_status(cache_ok)),
        )
        return GetReadinessResult(body=body, status_code=200 if database_ok else 503)
