"""Composition: build the app from settings and bind the implementations to the contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import FastAPI

from contract_runtime.asgi import ContractRouter, CorsPolicy, RequestLimits
from contract_runtime.binding import bind
from contract_runtime.validation import body_validator
from generated.implementations import Implementations
from generated.operations import CONTRACT

from .bootstrap import ensure_admin
from .cache import cache_from_url
from .db.database import Db, check_schema, is_unavailable
from .db.migrate import head_revision
from .db.notifications import ChangeListener
from .http.admission import AddressCeiling
from .http.docs import DOC_PATHS, install_spec_routes
from .http.problems import PROBLEM_TYPE_PREFIX, install_framework_handlers, map_error
from .limits.counters import counters_from_url
from .llm import ChatClient
from .observability import metrics, tracing_requested
from .observability.logs import configure_logging
from .security.passwords import PasswordHasher
from .security.tokens import TokenCodec
from .services.account_cache import AccountCache
from .services.ai import AiService
from .services.auth import AccessTokenAuthenticator, AuthService
from .services.health import HealthService
from .services.metrics import MetricsService
from .services.product_cache import ProductCache, local_layer
from .services.product_transfer import ProductTransfer
from .services.products import ProductService
from .services.semantic import SemanticIndex
from .services.throttle import LoginThrottle
from .services.users import UserService
from .services.views import ViewHistory
from .settings import Settings, load_settings
from .version import VERSION, source_revision

if TYPE_CHECKING:
    from .observability.tracing import Tracing

LISTENER_STOP_SECONDS = 2.0  # the longest shutdown waits for the invalidation listener
# The operations that hash a password or mint tokens: each is limited per address.
RATE_LIMITED_OPERATIONS = ("registerUser", "loginForm", "loginJson", "refreshTokens")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    tracing: Tracing | None = None
    if tracing_requested():
        # Only now: without an OTLP endpoint nothing of OpenTelemetry is imported or run.
        from .observability.tracing import Tracing

        tracing = Tracing.start(VERSION)
    configure_logging(
        settings.log_format,
        settings.log_level,
        access_log=settings.access_log,
        trace_ids=tracing.current_ids if tracing is not None else None,
    )
    db = Db(settings.resolved_database_url(), timeout=settings.database_timeout_seconds)
    cache = cache_from_url(
        settings.redis_url, prefix=settings.cache_prefix, memory_max_bytes=settings.cache_memory_max_bytes
    )
    hasher = PasswordHasher(
        rounds=settings.bcrypt_rounds,
        concurrency=settings.password_hash_concurrency,
        max_wait_seconds=settings.password_hash_max_wait_seconds,
        on_waiting=metrics.hashing_waiting,
    )
    codec = TokenCodec(
        secret=settings.resolved_secret(),
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
    )
    local = None
    if cache.shared and settings.cache_local_ttl_ms > 0:
        local = local_layer(ttl_seconds=settings.cache_local_ttl_ms / 1000, max_bytes=settings.cache_local_max_bytes)
    on_lookup: Callable[[bool, float], None] = metrics.cache_lookup
    if tracing is not None:
        traced = tracing

        def on_lookup(hit: bool, seconds: float) -> None:
            metrics.cache_lookup(hit, seconds)
            traced.cache_lookup(hit, seconds)

    # Replicas on PostgreSQL also hear of every committed product write from the database itself
    # (a writer that cannot reach Redis still invalidates everywhere: impl/db/notifications.py).
    changes = None if db.is_sqlite or not cache.shared else ChangeListener(db.url, timeout=db.timeout)
    semantic = SemanticIndex(db, cache, vectors=settings.smart_search_vectors)
    product_cache = ProductCache(
        cache,
        ttl_seconds=settings.cache_ttl_seconds,
        local=local,
        on_lookup=on_lookup,
        changes=changes,
        on_announced=semantic.announced,  # smart search follows the database's announcements too
    )
    sample_pool = metrics.pool_sampler(db.connections_in_use)

    def observe(operation_id: str | None, status: int | None, seconds: float) -> None:
        metrics.observe_request(operation_id, status, seconds)
        sample_pool()

    # One process by design without Redis: accounts may then be kept in memory (see AccountCache).
    accounts = AccountCache(enabled=not cache.shared)
    counters = counters_from_url(settings.redis_url, prefix=settings.cache_prefix + "limits:")
    throttle = LoginThrottle(
        counters,
        per_account_address=settings.login_failures_per_account_address,
        per_account=settings.login_failures_per_account,
        window_seconds=settings.login_failure_window_seconds,
        trust_seconds=settings.refresh_token_days * 86_400,
    )
    views = ViewHistory(db, cache, keep=settings.view_history_size)
    # Per user, under the user's views version; no local layer (a view must show at once in this process).
    recommendations_cache = ProductCache(cache, ttl_seconds=settings.recommendations_ttl_seconds)
    # An import's lines are judged one by one by the schema createProduct's body is judged by.
    product_create = body_validator(CONTRACT.validation_root, "createProduct", "application/json", frozenset())
    transfer = ProductTransfer(db, product_cache, judge_line=product_create.issues, index=semantic)
    llm = None
    if settings.llm_base_url and settings.llm_model:
        llm = ChatClient(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            timeout_seconds=settings.llm_timeout_seconds,
        )
    implementations = Implementations(
        auth=AuthService(
            db,
            hasher,
            codec,
            throttle,
            accounts=accounts,
            reuse_grace=timedelta(seconds=settings.refresh_reuse_grace_seconds),
        ),
        products=ProductService(db, product_cache, transfer, index=semantic, views=views),
        users=UserService(db, hasher, accounts),
        health=HealthService(db, cache.ping, version=VERSION, revision=source_revision(settings.build_revision)),
        metrics=MetricsService(metrics.exposition, parameters=metrics.EXPOSITION_PARAMETERS, before=sample_pool),
        ai=AiService(db, product_cache, semantic, views, recommendations_cache=recommendations_cache, llm=llm),
    )
    authenticators = {"OAuth2": AccessTokenAuthenticator(db, codec, accounts)}
    # Refuses to build an app that leaves an operation of the spec unimplemented.
    operations = bind(CONTRACT, implementations, authenticators)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await db.connect()
        try:
            await check_schema(db, head_revision())
            await ensure_admin(db, hasher, settings)
            invalidations = asyncio.create_task(product_cache.follow_invalidations())
            background = {invalidations, asyncio.create_task(semantic.follow())}
            if settings.smart_search_preload:
                background.add(asyncio.create_task(semantic.warm()))
            try:
                yield
            finally:
                for task in background:
                    task.cancel()
                semantic.close()
                # Bounded: a Redis call cut short inside redis-py can ignore the cancellation,
                # and shutdown must not wait on it forever (closing the cache ends it anyway).
                await asyncio.wait(background, timeout=LISTENER_STOP_SECONDS)
        finally:  # also when start-up fails: nothing is left open
            await db.disconnect()
            await cache.close()
            await counters.close()
            hasher.close()
            if tracing is not None:
                await tracing.close()  # the last spans exported, within FLUSH_SECONDS

    app = FastAPI(
        title=CONTRACT.title,
        version=CONTRACT.version,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        # FastAPI's own OpenTelemetry support stays off (even with FASTAPI_OTEL_AUTO_CONFIGURE): the contract
        # router serves every operation, and its span is the request's one SERVER span.
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.cache = cache
    app.state.operations = operations
    install_framework_handlers(app)
    install_spec_routes(app)
    # Every operation of the spec is served by this one layer; FastAPI serves the documentation.
    app.add_middleware(
        ContractRouter,
        contract=CONTRACT,
        operations=operations,
        authenticators=authenticators,
        map_error=map_error,
        problem_type_prefix=PROBLEM_TYPE_PREFIX,
        passthrough_paths=DOC_PATHS,
        limits=RequestLimits(
            max_body_bytes=settings.max_body_bytes,
            max_target_bytes=settings.max_url_bytes,
            max_header_bytes=settings.max_header_bytes,
            body_timeout_seconds=settings.body_timeout_seconds,
            max_stream_bytes=settings.import_max_bytes,
            max_in_flight=settings.max_in_flight,
        ),
        # Probes must see the process as it is, however busy.
        never_shed=("getLiveness", "getReadiness", "getMetrics"),
        observe=observe,
        trace=tracing.request if tracing is not None else None,
        unavailable=is_unavailable,
        cors=CorsPolicy(origins=settings.allowed_origins()),
        admission=AddressCeiling(
            counters, per_minute=settings.rate_limit_per_address_per_minute, limited=RATE_LIMITED_OPERATIONS
        ),
    )
    return app
