# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `auth` operations: the interface to implement. No web framework here.

Per operation: a method of `AuthApi`, its typed query parameters, and one
result type per declared status that is not a problem (problems are raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, TypeAlias

from contract_runtime.principal import Principal
from contract_runtime.results import RawJson, Result

from ..models import (
    LoginForm,
    LoginJson,
    RefreshForm,
    RefreshRequest,
    TokenPair,
    User,
    UserRegister,
)

__all__ = [
    "AuthApi",
    "RegisterUser201Response",
    "RegisterUserResponse",
    "LoginForm200Response",
    "LoginFormResponse",
    "LoginJson200Response",
    "LoginJsonResponse",
    "RefreshTokens200Response",
    "RefreshTokensResponse",
    "GetCurrentUser200Response",
    "GetCurrentUserResponse",
]


@dataclass(frozen=True, slots=True)
class RegisterUser201Response(Result):
    """`registerUser` 201: The account was created."""

    STATUS: ClassVar[int] = 201
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("location", "Location"),
        ("cache_control", "Cache-Control"),
    )
    body: User | RawJson[User]
    location: str
    cache_control: Literal['no-store'] = 'no-store'


RegisterUserResponse: TypeAlias = RegisterUser201Response


@dataclass(frozen=True, slots=True)
class LoginForm200Response(Result):
    """`loginForm` 200: Access and refresh tokens."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: TokenPair | RawJson[TokenPair]
    cache_control: Literal['no-store'] = 'no-store'


LoginFormResponse: TypeAlias = LoginForm200Response


@dataclass(frozen=True, slots=True)
class LoginJson200Response(Result):
    """`loginJson` 200: Access and refresh tokens."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: TokenPair | RawJson[TokenPair]
    cache_control: Literal['no-store'] = 'no-store'


LoginJsonResponse: TypeAlias = LoginJson200Response


@dataclass(frozen=True, slots=True)
class RefreshTokens200Response(Result):
    """`refreshTokens` 200: A new access and refresh token."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: TokenPair | RawJson[TokenPair]
    cache_control: Literal['no-store'] = 'no-store'


RefreshTokensResponse: TypeAlias = RefreshTokens200Response


@dataclass(frozen=True, slots=True)
class GetCurrentUser200Response(Result):
    """`getCurrentUser` 200: The account the access token belongs to."""

    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("cache_control", "Cache-Control"),
    )
    body: User | RawJson[User]
    cache_control: Literal['no-store'] = 'no-store'


GetCurrentUserResponse: TypeAlias = GetCurrentUser200Response


class AuthApi(Protocol):
    """Implement one method per `auth` operation; the HTTP layer calls it with parsed, valid input."""

    async def register_user(
        self,
        *,
        body: UserRegister,
    ) -> RegisterUserResponse:
        """registerUser: Register a new account"""
        ...

    async def login_form(
        self,
        *,
        body: LoginForm,
    ) -> LoginFormResponse:
        """loginForm: Log in with the OAuth2 password flow"""
        ...

    async def login_json(
        self,
        *,
        body: LoginJson,
    ) -> LoginJsonResponse:
        """loginJson: Log in with a JSON body"""
        ...

    async def refresh_tokens(
        self,
        *,
        body: RefreshRequest | RefreshForm,
    ) -> RefreshTokensResponse:
        """refreshTokens: Exchange a refresh token for a new token pair"""
        ...

    async def get_current_user(
        self,
        *,
        principal: Principal,
    ) -> GetCurrentUserResponse:
        """getCurrentUser: The signed-in account"""
        ...
