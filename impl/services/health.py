"""Liveness and readiness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from generated.interfaces.health import GetLiveness200Response, GetReadiness200Response, GetReadiness503Response
from generated.models import Checks, CheckStatus, Liveness, Readiness

from ..db.database import Db


def _status(ok: bool) -> CheckStatus:
    return CheckStatus.ok if ok else CheckStatus.unavailable


class HealthService:
    """Implements `generated.interfaces.health.HealthApi`."""

    def __init__(
        self, db: Db, cache_ping: Callable[[], Awaitable[bool]], *, version: str, revision: str | None
    ) -> None:
        self._db = db
        self._cache_ping = cache_ping
        self._liveness = Liveness.model_construct(status="ok", version=version, revision=revision)

    async def get_liveness(self) -> GetLiveness200Response:
        return GetLiveness200Response(body=self._liveness)

    async def get_readiness(self) -> GetReadiness200Response | GetReadiness503Response:
        database_ok = await self._db.ping()
        cache_ok = await self._cache_ping()
        body = Readiness.model_construct(
            status=_status(database_ok),
            checks=Checks.model_construct(database=_status(database_ok), cache=_status(cache_ok)),
        )
        return GetReadiness200Response(body=body) if database_ok else GetReadiness503Response(body=body)
