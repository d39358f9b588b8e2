"""Composition: build the app from settings and bind the implementations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from generated.main import PATH_METHODS, Implementations, include_routers

from .bootstrap import ensure_admin
from .cache import cache_from_url
from .db.database import Db, check_schema
from .db.migrate import head_revision
from .errors import install_error_handlers
from .routing import SpecRouting
from .security.passwords import PasswordHasher
from .security.tokens import TokenCodec
from .services.auth import AccessTokenAuthenticator, AuthService
from .services.health import HealthService
from .services.product_cache import ProductCache
from .services.products import ProductService
from .services.users import UserService
from .settings import Settings
from .spec import DOC_PATHS, install_spec_routes, spec_document


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    db = Db(settings.resolved_database_url())
    cache = cache_from_url(settings.redis_url, prefix=settings.cache_prefix)
    hasher = PasswordHasher(rounds=settings.bcrypt_rounds, concurrency=settings.password_hash_concurrency)
    codec = TokenCodec(
        secret=settings.resolved_secret(),
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await db.connect()
        await check_schema(db, head_revision())
        await ensure_admin(db, hasher, settings)
        try:
            yield
        finally:
            await db.disconnect()
            await cache.close()

    info = spec_document()["info"]
    app = FastAPI(
        title=info["title"],
        version=info["version"],
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.cache = cache
    install_error_handlers(app)
    app.add_middleware(SpecRouting, path_methods=PATH_METHODS, extra_get_paths=DOC_PATHS)
    install_spec_routes(app)
    include_routers(
        app,
        Implementations(
            auth=AuthService(db, hasher, codec),
            products=ProductService(db, ProductCache(cache, ttl_seconds=settings.cache_ttl_seconds)),
            users=UserService(db, hasher),
            health=HealthService(db, cache.ping),
        ),
        AccessTokenAuthenticator(db, codec),
    )
    return app
