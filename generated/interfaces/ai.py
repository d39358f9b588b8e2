# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `ai` operations: the interface to implement. No web framework here.

Per operation: a method of `AiApi`, its typed query parameters, and one
result type per declared status that is not a problem (problems are raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, TypeAlias
from uuid import UUID

from contract_runtime.principal import Principal
from contract_runtime.results import RawJson, Result

from ..models import DescriptionDraft, ProductMatches, Recommendations

__all__ = [
    "AiApi",
    "GetSimilarProductsQuery",
    "GetSimilarProducts200Response",
    "GetSimilarProducts304Response",
    "GetSimilarProductsResponse",
    "GenerateProductDescription200Response",
    "GenerateProductDescriptionResponse",
    "SmartSearchQuery",
    "SmartSearch200Response",
    "SmartSearch304Response",
    "SmartSearchResponse",
    "GetRecommendationsQuery",
    "GetRecommendations200Response",
    "GetRecommendationsResponse",
]


@dataclass(frozen=True, slots=True)
class GetSimilarProductsQuery:
    """Query parameters of `getSimilarProducts`, parsed and validated."""

    limit: int = 10


@dataclass(frozen=True, slots=True)
class GetSimilarProducts200Response(Result):
    """`getSimilarProducts` 200: The nearest products, with their similarity."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    body: ProductMatches | RawJson[ProductMatches]
    etag: str
    x_cache: Literal['HIT', 'MISS']


@dataclass(frozen=True, slots=True)
class GetSimilarProducts304Response(Result):
    """`getSimilarProducts` 304: The representation still has the `ETag` sent in `If-None-Match`."""

    STATUS: ClassVar[int] = 304
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    etag: str
    x_cache: Literal['HIT', 'MISS']


GetSimilarProductsResponse: TypeAlias = (
    GetSimilarProducts200Response | GetSimilarProducts304Response
)


@dataclass(frozen=True, slots=True)
class GenerateProductDescription200Response(Result):
    """`generateProductDescription` 200: A draft description (not saved)."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: DescriptionDraft | RawJson[DescriptionDraft]
    cache_control: Literal['no-store'] = 'no-store'


GenerateProductDescriptionResponse: TypeAlias = GenerateProductDescription200Response


@dataclass(frozen=True, slots=True)
class SmartSearchQuery:
    """Query parameters of `smartSearch`, parsed and validated."""

    q: str
    limit: int = 10


@dataclass(frozen=True, slots=True)
class SmartSearch200Response(Result):
    """`smartSearch` 200: The best matches, with their similarity."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    body: ProductMatches | RawJson[ProductMatches]
    etag: str
    x_cache: Literal['HIT', 'MISS']


@dataclass(frozen=True, slots=True)
class SmartSearch304Response(Result):
    """`smartSearch` 304: The representation still has the `ETag` sent in `If-None-Match`."""

    STATUS: ClassVar[int] = 304
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    etag: str
    x_cache: Literal['HIT', 'MISS']


SmartSearchResponse: TypeAlias = SmartSearch200Response | SmartSearch304Response


@dataclass(frozen=True, slots=True)
class GetRecommendationsQuery:
    """Query parameters of `getRecommendations`, parsed and validated."""

    limit: int = 10


@dataclass(frozen=True, slots=True)
class GetRecommendations200Response(Result):
    """`getRecommendations` 200: Recommended products."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("x_cache", "X-Cache"),
        ("cache_control", "Cache-Control"),
    )
    body: Recommendations | RawJson[Recommendations]
    x_cache: Literal['HIT', 'MISS']
    cache_control: Literal['no-store'] = 'no-store'


GetRecommendationsResponse: TypeAlias = GetRecommendations200Response


class AiApi(Protocol):
    """Implement one method per `ai` operation; the HTTP layer calls it with parsed, valid input."""

    async def get_similar_products(
        self,
        *,
        product_id: UUID,
        query: GetSimilarProductsQuery,
        if_none_match: str | None,
    ) -> GetSimilarProductsResponse:
        """getSimilarProducts: Products similar to a product"""
        ...

    async def generate_product_description(
        self,
        *,
        principal: Principal,
        product_id: UUID,
    ) -> GenerateProductDescriptionResponse:
        """generateProductDescription: Draft a product description with a language model"""
        ...

    async def smart_search(
        self,
        *,
        query: SmartSearchQuery,
        if_none_match: str | None,
    ) -> SmartSearchResponse:
        """smartSearch: Search products by meaning"""
        ...

    async def get_recommendations(
        self,
        *,
        principal: Principal,
        query: GetRecommendationsQuery,
    ) -> GetRecommendationsResponse:
        """getRecommendations: Products recommended for the signed-in user"""
        ...
