# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `products` operations: the interface to implement and its router."""

# Annotations stay evaluated: FastAPI must see the Security() dependencies built in build_router.

from dataclasses import dataclass
from typing import Annotated, Literal, Protocol
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Security
from fastapi.responses import Response

from ..models import *  # noqa: F403
from ..runtime import (
    Authenticator,
    Principal,
    build_model,
    parse_parameters,
    read_form_body,
    read_json_body,
    respond,
    security_dependency,
)

__all__ = [
    "ProductsApi",
    "build_router",
    "ListProductsQuery",
    "ListProductsResult",
    "CreateProductResult",
    "SearchProductsQuery",
    "SearchProductsResult",
    "GetProductResult",
]


@dataclass(frozen=True)
class ListProductsQuery:
    """Query parameters of `listProducts`, parsed and validated."""

    page: int = 1
    page_size: int = 10
    name: str | None = None
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock_only: bool = False
    sort_by: ProductSortField = ProductSortField('created_at')
    sort_order: SortOrder = SortOrder('desc')


@dataclass(frozen=True)
class ListProductsResult:
    """What `listProducts` answers: status, body and response headers."""

    body: ProductPage | None
    status_code: Literal[200, 304] = 200
    etag: str | None = None
    x_cache: str | None = None


@dataclass(frozen=True)
class CreateProductResult:
    """What `createProduct` answers: status, body and response headers."""

    body: Product
    location: str
    status_code: Literal[201] = 201


@dataclass(frozen=True)
class SearchProductsQuery:
    """Query parameters of `searchProducts`, parsed and validated."""

    q: str
    page: int = 1
    page_size: int = 10


@dataclass(frozen=True)
class SearchProductsResult:
    """What `searchProducts` answers: status, body and response headers."""

    body: ProductPage | None
    status_code: Literal[200, 304] = 200
    etag: str | None = None
    x_cache: str | None = None


@dataclass(frozen=True)
class GetProductResult:
    """What `getProduct` answers: status, body and response headers."""

    body: Product | None
    status_code: Literal[200, 304] = 200
    etag: str | None = None
    x_cache: str | None = None


class ProductsApi(Protocol):
    """Implement one method per `products` operation; the router calls it."""

    async def list_products(
        self,
        *,
        query: ListProductsQuery,
        if_none_match: str | None,
    ) -> ListProductsResult:
        """listProducts: List products"""
        ...

    async def create_product(
        self,
        *,
        principal: Principal,
        body: ProductCreate,
    ) -> CreateProductResult:
        """createProduct: Create a product"""
        ...

    async def search_products(
        self,
        *,
        query: SearchProductsQuery,
        if_none_match: str | None,
    ) -> SearchProductsResult:
        """searchProducts: Search products"""
        ...

    async def get_product(
        self,
        *,
        product_id: UUID,
        if_none_match: str | None,
    ) -> GetProductResult:
        """getProduct: Get a product"""
        ...

    async def update_product(
        self,
        *,
        principal: Principal,
        product_id: UUID,
        body: ProductUpdate,
    ) -> Product:
        """updateProduct: Update a product (partial)"""
        ...

    async def delete_product(
        self,
        *,
        principal: Principal,
        product_id: UUID,
    ) -> None:
        """deleteProduct: Delete a product (soft)"""
        ...


def build_router(api: ProductsApi, authenticator: Authenticator) -> APIRouter:
    """Routes for the `products` operations, bound to `api`."""
    router = APIRouter(tags=["products"])
    require = security_dependency(authenticator)

    @router.get(
        "/api/v1/products",
        operation_id="listProducts",
        summary="List products",
        status_code=200,
        response_class=Response,
    )
    async def list_products(
        request: Request,
        page: Annotated[str | None, Query(alias="page")] = None,
        page_size: Annotated[str | None, Query(alias="page_size")] = None,
        name: Annotated[str | None, Query(alias="name")] = None,
        category: Annotated[str | None, Query(alias="category")] = None,
        min_price: Annotated[str | None, Query(alias="min_price")] = None,
        max_price: Annotated[str | None, Query(alias="max_price")] = None,
        in_stock_only: Annotated[str | None, Query(alias="in_stock_only")] = None,
        sort_by: Annotated[str | None, Query(alias="sort_by")] = None,
        sort_order: Annotated[str | None, Query(alias="sort_order")] = None,
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    ) -> Response:
        query_values = parse_parameters(
            "listProducts",
            "query",
            {
                "page": (page, "integer"),
                "page_size": (page_size, "integer"),
                "name": (name, "string"),
                "category": (category, "string"),
                "min_price": (min_price, "number"),
                "max_price": (max_price, "number"),
                "in_stock_only": (in_stock_only, "boolean"),
                "sort_by": (sort_by, "string"),
                "sort_order": (sort_order, "string"),
            },
        )
        query = ListProductsQuery(
            page=int(query_values.get("page", 1)),
            page_size=int(query_values.get("page_size", 10)),
            name=(None if "name" not in query_values else str(query_values["name"])),
            category=(
                None
                if "category" not in query_values
                else str(query_values["category"])
            ),
            min_price=(
                None
                if "min_price" not in query_values
                else float(query_values["min_price"])
            ),
            max_price=(
                None
                if "max_price" not in query_values
                else float(query_values["max_price"])
            ),
            in_stock_only=bool(query_values.get("in_stock_only", False)),
            sort_by=ProductSortField(
                query_values.get("sort_by", ProductSortField('created_at'))
            ),
            sort_order=SortOrder(query_values.get("sort_order", SortOrder('desc'))),
        )
        header_values = parse_parameters(
            "listProducts",
            "header",
            {
                "If-None-Match": (if_none_match, "string"),
            },
        )
        result = await api.list_products(
            query=query,
            if_none_match=header_values.get("If-None-Match"),
        )
        return respond(
            result.status_code,
            result.body,
            {
                "ETag": result.etag,
                "X-Cache": result.x_cache,
            },
        )

    @router.post(
        "/api/v1/products",
        operation_id="createProduct",
        summary="Create a product",
        status_code=201,
        response_class=Response,
    )
    async def create_product(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=["admin"])],
    ) -> Response:
        body = build_model(
            ProductCreate, await read_json_body(request, "createProduct")
        )
        result = await api.create_product(
            principal=principal,
            body=body,
        )
        return respond(
            result.status_code,
            result.body,
            {
                "Location": result.location,
            },
        )

    @router.get(
        "/api/v1/products/search",
        operation_id="searchProducts",
        summary="Search products",
        status_code=200,
        response_class=Response,
    )
    async def search_products(
        request: Request,
        q: Annotated[str | None, Query(alias="q")] = None,
        page: Annotated[str | None, Query(alias="page")] = None,
        page_size: Annotated[str | None, Query(alias="page_size")] = None,
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    ) -> Response:
        query_values = parse_parameters(
            "searchProducts",
            "query",
            {
                "q": (q, "string"),
                "page": (page, "integer"),
                "page_size": (page_size, "integer"),
            },
        )
        query = SearchProductsQuery(
            q=str(query_values.get("q", None)),
            page=int(query_values.get("page", 1)),
            page_size=int(query_values.get("page_size", 10)),
        )
        header_values = parse_parameters(
            "searchProducts",
            "header",
            {
                "If-None-Match": (if_none_match, "string"),
            },
        )
        result = await api.search_products(
            query=query,
            if_none_match=header_values.get("If-None-Match"),
        )
        return respond(
            result.status_code,
            result.body,
            {
                "ETag": result.etag,
                "X-Cache": result.x_cache,
            },
        )

    @router.get(
        "/api/v1/products/{product_id}",
        operation_id="getProduct",
        summary="Get a product",
        status_code=200,
        response_class=Response,
    )
    async def get_product(
        request: Request,
        product_id: Annotated[str, Path(alias="product_id")],
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    ) -> Response:
        path_values = parse_parameters(
            "getProduct",
            "path",
            {
                "product_id": (product_id, "string"),
            },
        )
        header_values = parse_parameters(
            "getProduct",
            "header",
            {
                "If-None-Match": (if_none_match, "string"),
            },
        )
        result = await api.get_product(
            product_id=UUID(path_values["product_id"]),
            if_none_match=header_values.get("If-None-Match"),
        )
        return respond(
            result.status_code,
            result.body,
            {
                "ETag": result.etag,
                "X-Cache": result.x_cache,
            },
        )

    @router.put(
        "/api/v1/products/{product_id}",
        operation_id="updateProduct",
        summary="Update a product (partial)",
        status_code=200,
        response_class=Response,
    )
    async def update_product(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=["admin"])],
        product_id: Annotated[str, Path(alias="product_id")],
    ) -> Response:
        path_values = parse_parameters(
            "updateProduct",
            "path",
            {
                "product_id": (product_id, "string"),
            },
        )
        body = build_model(
            ProductUpdate, await read_json_body(request, "updateProduct")
        )
        result = await api.update_product(
            principal=principal,
            product_id=UUID(path_values["product_id"]),
            body=body,
        )
        return respond(200, result)

    @router.delete(
        "/api/v1/products/{product_id}",
        operation_id="deleteProduct",
        summary="Delete a product (soft)",
        status_code=204,
        response_class=Response,
    )
    async def delete_product(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=["admin"])],
        product_id: Annotated[str, Path(alias="product_id")],
    ) -> Response:
        path_values = parse_parameters(
            "deleteProduct",
            "path",
            {
                "product_id": (product_id, "string"),
            },
        )
        await api.delete_product(
            principal=principal,
            product_id=UUID(path_values["product_id"]),
        )
        return respond(204, None)

    return router
