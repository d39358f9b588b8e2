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
from contract_runtime.problems import Problem
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
from .http.forwarding import ForwardedClient
from .http.problems import PROBLEM_TYPE_PREFIX, STATEMENT_TIMEOUT, install_framework_handlers, map_error
from .limits.counters import counters_from_url
from .llm import ChatClient
from .observability import metrics, tracing_requested
from .observability.logs import configure_logging
from .security.passwords import PasswordHasher
from .security.tokens import TokenCodec
from .services.account_cache import AccountCache
from .services.ai import MAX_MATCHES, AiService
from .services.auth import AccessTokenAuthenticator, AuthService
from .services.changes import ProductChanges
from .services.health import HealthService
from .services.metrics import MetricsService
from .services.popular import Popularity
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

LISTENER_STOP_SECONDS = 2.0  # the longest shutdown waits for the product change feed's listener
# The operations that hash a password or mint tokens: each is limited per address.
RATE_LIMITED_OPERATIONS = ("registerUser", "loginForm", "loginJson", "refreshTokens")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    tracing: Tracing | None = None
    if tracing_requested():
        # Only now: without an OTLP endpoint nothing of OpenTelemetry is imported or run.
        from .observability.tracing import Tracing

        tracing = Tracing.start(VERSION)
    access_log = configure_logging(
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
    secret = settings.resolved_secret()
    codec = TokenCodec(
        secret=secret,
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

    # The one product change feed: every process hears of every committed write from PostgreSQL itself
    # (impl/services/changes.py). Without Redis, or on SQLite, the API is one process: the feed stays in it.
    listener = None if db.is_sqlite or not cache.shared else ChangeListener(db.url, timeout=db.timeout)
    changes = ProductChanges(listener)
    semantic = SemanticIndex(db, vectors=settings.smart_search_vectors)
    product_cache = ProductCache(cache, ttl_seconds=settings.cache_ttl_seconds, local=local, on_lookup=on_lookup)
    changes.subscribe(product_cache.changed, product_cache.following)
    changes.subscribe(semantic.changed, semantic.following)
    sample_pool = metrics.pool_sampler(db.connections_in_use)

    def counted_map_error(exc: Exception) -> Problem | None:
        problem = map_error(exc)
        if problem is not None and problem.kind == STATEMENT_TIMEOUT:
            metrics.statement_timed_out()
        return problem

    def observe(operation_id: str | None, status: int | None, seconds: float) -> None:
        metrics.observe_request(operation_id, status, seconds)
        sample_pool()

    # One process by design without Redis: accounts are kept until a write; with Redis, for CACHE_LOCAL_TTL_MS.
    accounts = AccountCache(
        enabled=not cache.shared or settings.cache_local_ttl_ms > 0,
        max_age_seconds=settings.cache_local_ttl_ms / 1000 if cache.shared else None,
    )
    counters = counters_from_url(settings.counters_redis_url(), prefix=settings.cache_prefix + "limits:")
    throttle = LoginThrottle(
        counters,
        per_account_address=settings.login_failures_per_account_address,
        per_account=settings.login_failures_per_account,
        window_seconds=settings.login_failure_window_seconds,
        trust_seconds=settings.refresh_token_days * 86_400,
    )
    views = ViewHistory(
        db,
        cache,
        keep=settings.view_history_size,
        queue_size=settings.view_queue_size,
        on_dropped=metrics.views_dropped,
    )
    popularity = Popularity(
        db,
        min_viewers=settings.popular_min_viewers,
        min_account_age=timedelta(hours=settings.popular_min_account_age_hours),
        period=timedelta(hours=settings.popular_period_hours),
        noise=settings.popular_threshold_noise,
        secret=secret,
        size=MAX_MATCHES + settings.view_history_size,  # room for the user's own views, which are left out
    )
    # Per user, under the user's views version; no local layer (a view must show at once in this process).
    recommendations_cache = ProductCache(cache, ttl_seconds=settings.recommendations_ttl_seconds)
    # An import's lines are judged one by one by the schema createProduct's body is judged by.
    product_create = body_validator(CONTRACT.validation_root, "createProduct", "application/json", frozenset())
    transfer = ProductTransfer(db, changes, judge_line=product_create.issues, index=semantic)
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
        products=ProductService(db, product_cache, transfer, changes, index=semantic, views=views),
        users=UserService(db, hasher, accounts, throttle),
        health=HealthService(db, cache.ping, version=VERSION, revision=source_revision(settings.build_revision)),
        metrics=MetricsService(metrics.exposition, parameters=metrics.EXPOSITION_PARAMETERS, before=sample_pool),
        ai=AiService(
            db,
            product_cache,
            semantic,
            views,
            popularity=popularity,
            recommendations_cache=recommendations_cache,
            llm=llm,
        ),
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
            background = {asyncio.create_task(changes.follow())}
            view_writer = asyncio.create_task(views.run())
            if settings.smart_search_preload:
                background.add(asyncio.create_task(semantic.warm()))
            try:
                yield
            finally:
                for task in background:
                    task.cancel()
                semantic.close()
                # Not cancelled: the views it holds are written first (a batch cut short would be lost).
                await views.close(within_seconds=settings.database_timeout_seconds)
                # Bounded: a Redis call cut short inside redis-py can ignore the cancellation,
                # and shutdown must not wait on it forever (closing the cache ends it anyway).
                await asyncio.wait({*background, view_writer}, timeout=LISTENER_STOP_SECONDS)
                view_writer.cancel()
        finally:  # also when start-up fails: nothing is left open
            await db.disconnect()
            await cache.close()
            await counters.close()
            hasher.close()
            if access_log is not None:
                access_log.flush()  # the last turn's lines
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
    app.state.views = views  # tests wait for the queued views to be written (views.flush())
    app.state.product_cache = product_cache
    app.state.operations = operations
    install_framework_handlers(app)
    install_spec_routes(app)
    # Every operation of the spec is served by this one layer; FastAPI serves the documentation.
    app.add_middleware(
        ContractRouter,
        contract=CONTRACT,
        operations=operations,
        authenticators=authenticators,
        map_error=counted_map_error,
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
        access=access_log,
        cors=CorsPolicy(origins=settings.allowed_origins()),
        admission=AddressCeiling(
            counters, per_minute=settings.rate_limit_per_address_per_minute, limited=RATE_LIMITED_OPERATIONS
        ),
    )
    trusted_proxies = settings.trusted_proxy_networks()
    if trusted_proxies:
        # Added last, so it runs first: the router, the limits, the logs and the traces see the client.
        app.add_middleware(ForwardedClient, trusted=trusted_proxies)
    return app
