"""`python -m impl.serve [uvicorn options]`: the API under uvicorn, with the settings' connection limits.

`scripts/serve` and the image start the API this way (adding `--host` and
`--port`), so they share one command line: uvicorn's own, with

- `--timeout-graceful-shutdown SHUTDOWN_TIMEOUT_SECONDS`: on SIGTERM uvicorn
  stops accepting connections (new ones are refused), closes idle ones, lets the
  requests in flight finish and answer (with `Connection: close`), and cancels
  what is still running after this long;
- `--timeout-keep-alive KEEP_ALIVE_TIMEOUT_SECONDS`: an idle keep-alive
  connection is closed after this long;
- `--limit-concurrency LIMIT_CONCURRENCY`: past this many connections and
  requests at once uvicorn answers 503 itself (as a problem, below), a backstop
  above the app's own MAX_IN_FLIGHT;
- `--http impl.http.head_timeout:HeadTimeoutProtocol`: uvicorn's httptools
  protocol with HEADER_TIMEOUT_SECONDS on each request head, so connections that
  trickle headers cannot hold those slots for long, and with the 400s of its
  parser and its 503 written as problem+json (impl/http/protocol.py);
- `--timeout-worker-healthcheck 60`: with `--workers`, a worker still importing
  the app is not killed after uvicorn's default 5 s (a busy machine took longer);
- `--no-proxy-headers`: X-Forwarded-For is the app's to read, from
  TRUSTED_PROXIES only (impl/http/forwarding.py); uvicorn's FORWARDED_ALLOW_IPS
  plays no part.

Options given on the command line come after these and win. A request the
shutdown timeout cuts before it was answered gets a 503 problem (uvicorn would
send a bare 500). A shutdown that SIGTERM asked for exits 0 (uvicorn re-raises
the signal once it has drained, which would end the process as killed by it).

More than one worker (`--workers N`, or WEB_CONCURRENCY, which uvicorn reads)
is refused in one line without `REDIS_URL` (each worker would keep its own
cache, counters and accounts) and on SQLite (the product change feed that keeps
caches and the smart search index coherent crosses processes through
PostgreSQL's NOTIFY; on SQLite it stays in its one process).

With `PROMETHEUS_MULTIPROC_DIR` set, the directory is created if missing and
emptied of the metric files (`*.db`) of earlier runs before any worker starts,
so a restart never reports dead workers' counts. This module imports the app
only in the workers (`create_served_app`): importing the metrics creates files
in that directory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import make_url
from uvicorn.main import main as uvicorn_main

from contract_runtime.asgi import ASGIApp, Message, Receive, Scope, Send
from contract_runtime.problems import Problem, problem_document

from .db.migrate import database_revision, head_revision
from .http.problems import PROBLEM_JSON, PROBLEM_TYPE_PREFIX
from .limits.eviction import check_counters_redis
from .observability.logs import configure_logging
from .settings import Settings, load_settings

logger = logging.getLogger(__name__)

APP = "impl.serve:create_served_app"
WORKER_HEALTHCHECK_SECONDS = 60
HTTP_PROTOCOL = "impl.http.head_timeout:HeadTimeoutProtocol"
SHUTTING_DOWN = Problem(
    503,
    "shutting-down",
    "Service unavailable",
    "The server is shutting down and could not finish this request; try again.",
    headers={"Retry-After": "1"},
)


class AnswerWhenCut:
    """ASGI middleware: a request cancelled before its answer started (uvicorn's graceful-shutdown
    timeout is what cancels requests) is answered 503, not uvicorn's text/plain 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if started:
                raise
            rid: str | None = scope.get("request_id")  # the contract router's, when it got that far
            content = json.dumps(problem_document(SHUTTING_DOWN, PROBLEM_TYPE_PREFIX, request_id=rid)).encode()
            headers = [(name.lower().encode(), value.encode()) for name, value in SHUTTING_DOWN.headers.items()]
            if rid is not None:
                headers.append((b"x-request-id", rid.encode()))
            headers += [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(content)).encode())]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": content})


def create_served_app() -> ASGIApp:
    """The app as uvicorn serves it (a factory: each worker builds its own)."""
    from .app import create_app  # here, not at the top: see the module's docstring

    return AnswerWhenCut(create_app())


def uvicorn_arguments(settings: Settings) -> list[str]:
    """uvicorn's command line for the app, before any options of the caller's."""
    return [
        APP,
        "--factory",
        # The app reads X-Forwarded-For itself, from TRUSTED_PROXIES only (impl/http/forwarding.py):
        # uvicorn's own reading (on by default, trusting FORWARDED_ALLOW_IPS) would be a second rule.
        "--no-proxy-headers",
        "--http",
        HTTP_PROTOCOL,
        "--no-server-header",
        "--no-access-log",  # the app writes one access line per request (impl.observability.logs)
        "--timeout-graceful-shutdown",
        str(settings.shutdown_timeout_seconds),
        "--timeout-keep-alive",
        str(settings.keep_alive_timeout_seconds),
        "--limit-concurrency",
        str(settings.limit_concurrency),
        # A worker that has not answered its supervisor within this long is killed and started again. Importing
        # the app takes seconds (the model, the spec's validators), and on a busy machine past uvicorn's 5 s
        # default: every worker was then killed mid-start, over and over.
        "--timeout-worker-healthcheck",
        str(WORKER_HEALTHCHECK_SECONDS),
    ]


def check_database(settings: Settings) -> None:
    """Before uvicorn starts: a database that cannot be reached, or is not at the newest migration,
    ends the start in one line (the app's own start-up would end in uvicorn's traceback)."""
    url = settings.resolved_database_url()
    revision = database_revision(url, settings.database_timeout_seconds)
    head = head_revision()
    if revision is None:
        raise SystemExit("catalog-api: the database has no schema yet: run scripts/migrate (python -m impl.db.migrate)")
    if revision != head:
        raise SystemExit(
            f"catalog-api: the database is at revision {revision}, not {head}: "
            "run scripts/migrate (python -m impl.db.migrate)"
        )


def clear_multiprocess_dir(environ: Mapping[str, str] = os.environ) -> int:
    """Create PROMETHEUS_MULTIPROC_DIR if missing and remove the metric files (`*.db`) left in it by
    earlier runs (other files stay); how many were removed. Nothing without the variable."""
    folder = environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not folder:
        return 0
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    stale = [file for file in path.glob("*.db") if file.is_file()]
    for file in stale:
        file.unlink(missing_ok=True)
    return len(stale)


def worker_count(arguments: list[str], environ: Mapping[str, str] = os.environ) -> int:
    """The worker processes uvicorn will start: the last `--workers N` (or `--workers=N`) on the command
    line, else WEB_CONCURRENCY, else one. A value that is not a number counts as one: uvicorn refuses it."""
    given: str | None = environ.get("WEB_CONCURRENCY")
    for index, argument in enumerate(arguments):
        if argument == "--workers" and index + 1 < len(arguments):
            given = arguments[index + 1]
        elif argument.startswith("--workers="):
            given = argument.partition("=")[2]
    try:
        return int(given or 1)
    except ValueError:
        return 1


def check_workers(settings: Settings, workers: int) -> None:
    """Without Redis each process keeps its own cache, counters and accounts: several workers would
    answer old and new data in turn and accept a revoked token on some of them. On SQLite no worker would hear
    of another's product writes (impl/services/changes.py). Refused in one line."""
    if workers <= 1:
        return
    if not settings.redis_url:
        raise SystemExit(
            f"catalog-api: {workers} workers (--workers or WEB_CONCURRENCY) need REDIS_URL: without it each worker "
            "keeps its own cache, rate-limit counters and accounts, and they disagree; set REDIS_URL or run one worker"
        )
    # Not resolved_database_url(): it creates the data directory, and a refused start leaves nothing behind.
    if not settings.database_url or make_url(settings.database_url).get_backend_name() == "sqlite":
        raise SystemExit(
            f"catalog-api: {workers} workers (--workers or WEB_CONCURRENCY) need PostgreSQL (DATABASE_URL): on SQLite "
            "a worker never hears of another's product writes (its smart search would miss them); "
            "use PostgreSQL or run one worker"
        )


def _drained(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    if any(argument in ("-h", "--help") for argument in arguments):
        uvicorn_main.main(args=["--help"], prog_name="python -m impl.serve [uvicorn options]")
    settings = load_settings()  # a refused setting stops here, in one line
    check_workers(settings, worker_count(arguments))
    check_database(settings)  # so does a database that cannot be used
    configure_logging(settings.log_format, settings.log_level, access_log=settings.access_log)
    # Lockouts that a cache flood could evict: production stops here in one line, development warns.
    check_counters_redis(settings.counters_redis_url(), production=settings.environment == "production")
    removed = clear_multiprocess_dir()  # before any worker writes there
    if removed:
        logger.info("metrics: removed %d files of an earlier run from PROMETHEUS_MULTIPROC_DIR", removed)
    # uvicorn handles SIGTERM while it serves; the signal it re-raises after draining lands here.
    signal.signal(signal.SIGTERM, _drained)
    uvicorn_main.main(args=[*uvicorn_arguments(settings), *arguments], prog_name="uvicorn")


if __name__ == "__main__":
    main()
