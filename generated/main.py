# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""All operations of catalog-api 1.0.0: bind implementations, mount routers."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from .routers.auth import AuthApi
from .routers.auth import build_router as build_auth_router
from .routers.health import HealthApi
from .routers.health import build_router as build_health_router
from .routers.products import ProductsApi
from .routers.products import build_router as build_products_router
from .routers.users import UsersApi
from .routers.users import build_router as build_users_router
from .runtime import Authenticator

# Every path of the spec with the methods it declares, for 404 and 405 answers.
PATH_METHODS: dict[str, tuple[str, ...]] = {
    "/api/v1/auth/register": ("POST",),
    "/api/v1/auth/login": ("POST",),
    "/api/v1/auth/login/json": ("POST",),
    "/api/v1/auth/refresh": ("POST",),
    "/api/v1/auth/me": ("GET",),
    "/api/v1/products": (
        "GET",
        "POST",
    ),
    "/api/v1/products/search": ("GET",),
    "/api/v1/products/{product_id}": (
        "GET",
        "PUT",
        "DELETE",
    ),
    "/api/v1/users": ("GET",),
    "/api/v1/users/{user_id}": (
        "GET",
        "PUT",
        "DELETE",
    ),
    "/api/v1/users/{user_id}/role": ("PUT",),
    "/health": ("GET",),
    "/health/ready": ("GET",),
}


@dataclass(frozen=True)
class Implementations:
    """One implementation per tag."""

    auth: AuthApi
    products: ProductsApi
    users: UsersApi
    health: HealthApi


def include_routers(
    app: FastAPI, implementations: Implementations, authenticator: Authenticator
) -> None:
    """Mount every operation of the spec on `app`."""
    app.include_router(build_auth_router(implementations.auth, authenticator))
    app.include_router(build_products_router(implementations.products, authenticator))
    app.include_router(build_users_router(implementations.users, authenticator))
    app.include_router(build_health_router(implementations.health, authenticator))
