# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""What the app binds: one implementation per tag of catalog-api 1.0.0."""

from __future__ import annotations

from dataclasses import dataclass

from .interfaces.ai import AiApi
from .interfaces.auth import AuthApi
from .interfaces.health import HealthApi
from .interfaces.metrics import MetricsApi
from .interfaces.products import ProductsApi
from .interfaces.users import UsersApi


@dataclass(frozen=True, slots=True)
class Implementations:
    """One implementation per tag; `contract_runtime.binding.bind` refuses any operation left out."""

    auth: AuthApi
    products: ProductsApi
    users: UsersApi
    health: HealthApi
    metrics: MetricsApi
    ai: AiApi
