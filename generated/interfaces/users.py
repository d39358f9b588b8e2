# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `users` operations: the interface to implement. No web framework here.

Per operation: a method of `UsersApi`, its typed query parameters, and one
result type per declared status that is not a problem (problems are raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, TypeAlias
from uuid import UUID

from contract_runtime.principal import Principal
from contract_runtime.results import RawJson, Result

from ..models import RoleUpdate, User, UserPage, UserUpdate

__all__ = [
    "UsersApi",
    "ListUsersQuery",
    "ListUsers200Response",
    "ListUsersResponse",
    "GetUser200Response",
    "GetUserResponse",
    "UpdateUser200Response",
    "UpdateUserResponse",
    "DeleteUser204Response",
    "DeleteUserResponse",
    "UpdateUserRole200Response",
    "UpdateUserRoleResponse",
]


@dataclass(frozen=True, slots=True)
class ListUsersQuery:
    """Query parameters of `listUsers`, parsed and validated."""

    page: int = 1
    page_size: int = 10


@dataclass(frozen=True, slots=True)
class ListUsers200Response(Result):
    """`listUsers` 200: One page of live users, newest first."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("link", "Link"),
        ("cache_control", "Cache-Control"),
    )
    body: UserPage | RawJson[UserPage]
    link: str
    cache_control: Literal['no-store'] = 'no-store'


ListUsersResponse: TypeAlias = ListUsers200Response


@dataclass(frozen=True, slots=True)
class GetUser200Response(Result):
    """`getUser` 200: The user."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: User | RawJson[User]
    cache_control: Literal['no-store'] = 'no-store'


GetUserResponse: TypeAlias = GetUser200Response


@dataclass(frozen=True, slots=True)
class UpdateUser200Response(Result):
    """`updateUser` 200: The updated user."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: User | RawJson[User]
    cache_control: Literal['no-store'] = 'no-store'


UpdateUserResponse: TypeAlias = UpdateUser200Response


@dataclass(frozen=True, slots=True)
class DeleteUser204Response(Result):
    """`deleteUser` 204: The user was deleted."""

    STATUS: ClassVar[int] = 204


DeleteUserResponse: TypeAlias = DeleteUser204Response


@dataclass(frozen=True, slots=True)
class UpdateUserRole200Response(Result):
    """`updateUserRole` 200: The user with its new role."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: User | RawJson[User]
    cache_control: Literal['no-store'] = 'no-store'


UpdateUserRoleResponse: TypeAlias = UpdateUserRole200Response


class UsersApi(Protocol):
    """Implement one method per `users` operation; the HTTP layer calls it with parsed, valid input."""

    async def list_users(
        self,
        *,
        principal: Principal,
        query: ListUsersQuery,
    ) -> ListUsersResponse:
        """listUsers: List users"""
        ...

    async def get_user(
        self,
        *,
        principal: Principal,
        user_id: UUID,
    ) -> GetUserResponse:
        """getUser: Get a user (admin, or the user itself)"""
        ...

    async def update_user(
        self,
        *,
        principal: Principal,
        user_id: UUID,
        body: UserUpdate,
    ) -> UpdateUserResponse:
        """updateUser: Update a user (partial; admin, or the user itself)"""
        ...

    async def delete_user(
        self,
        *,
        principal: Principal,
        user_id: UUID,
    ) -> DeleteUserResponse:
        """deleteUser: Delete a user (soft)"""
        ...

    async def update_user_role(
        self,
        *,
        principal: Principal,
        user_id: UUID,
        body: RoleUpdate,
    ) -> UpdateUserRoleResponse:
        """updateUserRole: Change a user's role"""
        ...
