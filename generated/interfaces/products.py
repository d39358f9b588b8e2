# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `products` operations: the interface to implement. No web framework here.

Per operation: a method of `ProductsApi`, its typed query parameters, and one
result type per declared status that is not a problem (problems are raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, TypeAlias
from uuid import UUID

from contract_runtime.principal import Principal
from contract_runtime.results import RawBody, RawJson, Result
from contract_runtime.streams import RequestStream

from ..models import (
    ImportReport,
    Product,
    ProductCreate,
    ProductPage,
    ProductSortField,
    ProductUpdate,
    SortOrder,
)

__all__ = [
    "ProductsApi",
    "ListProductsQuery",
    "ListProducts200Response",
    "ListProducts304Response",
    "ListProductsResponse",
    "CreateProduct201Response",
    "CreateProductResponse",
    "SearchProductsQuery",
    "SearchProducts200Response",
    "SearchProducts304Response",
    "SearchProductsResponse",
    "ImportProducts200Response",
    "ImportProductsResponse",
    "ExportProducts200Response",
    "ExportProductsResponse",
    "GetProduct200Response",
    "GetProduct304Response",
    "GetProductResponse",
    "UpdateProduct200Response",
    "UpdateProductResponse",
    "DeleteProduct204Response",
    "DeleteProductResponse",
]


@dataclass(frozen=True, slots=True)
class ListProductsQuery:
    """Query parameters of `listProducts`, parsed and validated."""

    page: int = 1
    page_size: int = 10
    cursor: str | None = None
    name: str | None = None
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock_only: bool = False
    sort_by: ProductSortField = ProductSortField('created_at')
    sort_order: SortOrder = SortOrder('desc')


@dataclass(frozen=True, slots=True)
class ListProducts200Response(Result):
    """`listProducts` 200: One page of products."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("link", "Link"),
        ("x_cache", "X-Cache"),
    )
    body: ProductPage | RawJson[ProductPage]
    etag: str
    link: str
    x_cache: Literal['HIT', 'MISS']


@dataclass(frozen=True, slots=True)
class ListProducts304Response(Result):
    """`listProducts` 304: The representation still has the `ETag` sent in `If-None-Match`."""

    STATUS: ClassVar[int] = 304
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    etag: str
    x_cache: Literal['HIT', 'MISS']


ListProductsResponse: TypeAlias = ListProducts200Response | ListProducts304Response


@dataclass(frozen=True, slots=True)
class CreateProduct201Response(Result):
    """`createProduct` 201: The product was created."""

    STATUS: ClassVar[int] = 201
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (("location", "Location"),)
    body: Product | RawJson[Product]
    location: str


CreateProductResponse: TypeAlias = CreateProduct201Response


@dataclass(frozen=True, slots=True)
class SearchProductsQuery:
    """Query parameters of `searchProducts`, parsed and validated."""

    q: str
    page: int = 1
    page_size: int = 10
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SearchProducts200Response(Result):
    """`searchProducts` 200: One page of matching products."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("link", "Link"),
        ("x_cache", "X-Cache"),
    )
    body: ProductPage | RawJson[ProductPage]
    etag: str
    link: str
    x_cache: Literal['HIT', 'MISS']


@dataclass(frozen=True, slots=True)
class SearchProducts304Response(Result):
    """`searchProducts` 304: The representation still has the `ETag` sent in `If-None-Match`."""

    STATUS: ClassVar[int] = 304
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    etag: str
    x_cache: Literal['HIT', 'MISS']


SearchProductsResponse: TypeAlias = (
    SearchProducts200Response | SearchProducts304Response
)


@dataclass(frozen=True, slots=True)
class ImportProducts200Response(Result):
    """`importProducts` 200: The body was read to its end: what was created, updated and rejected."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    body: ImportReport | RawJson[ImportReport]


ImportProductsResponse: TypeAlias = ImportProducts200Response


@dataclass(frozen=True, slots=True)
class ExportProducts200Response(Result):
    """`exportProducts` 200: The catalog, one product per line."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/x-ndjson"
    body: RawBody
    # Parameters written after the declared media type in Content-Type, e.g. "charset=utf-8".
    media_type_parameters: str = ""


ExportProductsResponse: TypeAlias = ExportProducts200Response


@dataclass(frozen=True, slots=True)
class GetProduct200Response(Result):
    """`getProduct` 200: The product."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    body: Product | RawJson[Product]
    etag: str
    x_cache: Literal['HIT', 'MISS']


@dataclass(frozen=True, slots=True)
class GetProduct304Response(Result):
    """`getProduct` 304: The representation still has the `ETag` sent in `If-None-Match`."""

    STATUS: ClassVar[int] = 304
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("etag", "ETag"),
        ("x_cache", "X-Cache"),
    )
    etag: str
    x_cache: Literal['HIT', 'MISS']


GetProductResponse: TypeAlias = GetProduct200Response | GetProduct304Response


@dataclass(frozen=True, slots=True)
class UpdateProduct200Response(Result):
    """`updateProduct` 200: The updated product."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    body: Product | RawJson[Product]


UpdateProductResponse: TypeAlias = UpdateProduct200Response


@dataclass(frozen=True, slots=True)
class DeleteProduct204Response(Result):
    """`deleteProduct` 204: The product was deleted."""

    STATUS: ClassVar[int] = 204


DeleteProductResponse: TypeAlias = DeleteProduct204Response


class ProductsApi(Protocol):
    """Implement one method per `products` operation; the HTTP layer calls it with parsed, valid input."""

    async def list_products(
        self,
        *,
        query: ListProductsQuery,
        if_none_match: str | None,
    ) -> ListProductsResponse:
        """listProducts: List products"""
        ...

    async def create_product(
        self,
        *,
        principal: Principal,
        body: ProductCreate,
    ) -> CreateProductResponse:
        """createProduct: Create a product"""
        ...

    async def search_products(
        self,
        *,
        query: SearchProductsQuery,
        if_none_match: str | None,
    ) -> SearchProductsResponse:
        """searchProducts: Search products"""
        ...

    async def import_products(
        self,
        *,
        principal: Principal,
        body: RequestStream,
    ) -> ImportProductsResponse:
        """importProducts: Import products from NDJSON (upsert by SKU)"""
        ...

    async def export_products(
        self,
        *,
        principal: Principal,
    ) -> ExportProductsResponse:
        """exportProducts: Export every live product as NDJSON"""
        ...

    async def get_product(
        self,
        *,
        principal: Principal | None,
        product_id: UUID,
        if_none_match: str | None,
    ) -> GetProductResponse:
        """getProduct: Get a product"""
        ...

    async def update_product(
        self,
        *,
        principal: Principal,
        product_id: UUID,
        body: ProductUpdate,
    ) -> UpdateProductResponse:
        """updateProduct: Update a product (partial)"""
        ...

    async def delete_product(
        self,
        *,
        principal: Principal,
        product_id: UUID,
    ) -> DeleteProductResponse:
        """deleteProduct: Delete a product (soft)"""
        ...
