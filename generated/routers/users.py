# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `users` operations: the interface to implement and its router."""

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
    "UsersApi",
    "build_router",
    "ListUsersQuery",
]


@dataclass(frozen=True)
class ListUsersQuery:
    """Query parameters of `listUsers`, parsed and validated."""

    page: int = 1
    page_size: int = 10


class UsersApi(Protocol):
    """Implement one method per `users` operation; the router calls it."""

    async def list_users(
        self,
        *,
        principal: Principal,
        query: ListUsersQuery,
    ) -> UserPage:
        """listUsers: List users"""
        ...

    async def get_user(
        self,
        *,
        principal: Principal,
        user_id: UUID,
    ) -> User:
        """getUser: Get a user (admin, or the user itself)"""
        ...

    async def update_user(
        self,
        *,
        principal: Principal,
        user_id: UUID,
        body: UserUpdate,
    ) -> User:
        """updateUser: Update a user (partial; admin, or the user itself)"""
        ...

    async def delete_user(
        self,
        *,
        principal: Principal,
        user_id: UUID,
    ) -> None:
        """deleteUser: Delete a user (soft)"""
        ...

    async def update_user_role(
        self,
        *,
        principal: Principal,
        user_id: UUID,
        body: RoleUpdate,
    ) -> User:
        """updateUserRole: Change a user's role"""
        ...


def build_router(api: UsersApi, authenticator: Authenticator) -> APIRouter:
    """Routes for the `users` operations, bound to `api`."""
    router = APIRouter(tags=["users"])
    require = security_dependency(authenticator)

    @router.get(
        "/api/v1/users",
        operation_id="listUsers",
        summary="List users",
        status_code=200,
        response_class=Response,
    )
    async def list_users(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=["admin"])],
        page: Annotated[str | None, Query(alias="page")] = None,
        page_size: Annotated[str | None, Query(alias="page_size")] = None,
    ) -> Response:
        query_values = parse_parameters(
            "listUsers",
            "query",
            {
                "page": (page, "integer"),
                "page_size": (page_size, "integer"),
            },
        )
        query = ListUsersQuery(
            page=int(query_values.get("page", 1)),
            page_size=int(query_values.get("page_size", 10)),
        )
        result = await api.list_users(
            principal=principal,
            query=query,
        )
        return respond(200, result)

    @router.get(
        "/api/v1/users/{user_id}",
        operation_id="getUser",
        summary="Get a user (admin, or the user itself)",
        status_code=200,
        response_class=Response,
    )
    async def get_user(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=[])],
        user_id: Annotated[str, Path(alias="user_id")],
    ) -> Response:
        path_values = parse_parameters(
            "getUser",
            "path",
            {
                "user_id": (user_id, "string"),
            },
        )
        result = await api.get_user(
            principal=principal,
            user_id=UUID(path_values["user_id"]),
        )
        return respond(200, result)

    @router.put(
        "/api/v1/users/{user_id}",
        operation_id="updateUser",
        summary="Update a user (partial; admin, or the user itself)",
        status_code=200,
        response_class=Response,
    )
    async def update_user(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=[])],
        user_id: Annotated[str, Path(alias="user_id")],
    ) -> Response:
        path_values = parse_parameters(
            "updateUser",
            "path",
            {
                "user_id": (user_id, "string"),
            },
        )
        body = build_model(UserUpdate, await read_json_body(request, "updateUser"))
        result = await api.update_user(
            principal=principal,
            user_id=UUID(path_values["user_id"]),
            body=body,
        )
        return respond(200, result)

    @router.delete(
        "/api/v1/users/{user_id}",
        operation_id="deleteUser",
        summary="Delete a user (soft)",
        status_code=204,
        response_class=Response,
    )
    async def delete_user(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=["admin"])],
        user_id: Annotated[str, Path(alias="user_id")],
    ) -> Response:
        path_values = parse_parameters(
            "deleteUser",
            "path",
            {
                "user_id": (user_id, "string"),
            },
        )
        await api.delete_user(
            principal=principal,
            user_id=UUID(path_values["user_id"]),
        )
        return respond(204, None)

    @router.put(
        "/api/v1/users/{user_id}/role",
        operation_id="updateUserRole",
        summary="Change a user\u0027s role",
        status_code=200,
        response_class=Response,
    )
    async def update_user_role(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=["admin"])],
        user_id: Annotated[str, Path(alias="user_id")],
    ) -> Response:
        path_values = parse_parameters(
            "updateUserRole",
            "path",
            {
                "user_id": (user_id, "string"),
            },
        )
        body = build_model(RoleUpdate, await read_json_body(request, "updateUserRole"))
        result = await api.update_user_role(
            principal=principal,
            user_id=UUID(path_values["user_id"]),
            body=body,
        )
        return respond(200, result)

    return router
