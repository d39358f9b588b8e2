# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The `auth` operations: the interface to implement and its router."""

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
    "AuthApi",
    "build_router",
    "RegisterUserResult",
    "LoginFormResult",
    "LoginJsonResult",
    "RefreshTokensResult",
]


@dataclass(frozen=True)
class RegisterUserResult:
    """What `registerUser` answers: status, body and response headers."""

    body: User
    location: str
    status_code: Literal[201] = 201


@dataclass(frozen=True)
class LoginFormResult:
    """What `loginForm` answers: status, body and response headers."""

    body: TokenPair
    cache_control: str
    status_code: Literal[200] = 200


@dataclass(frozen=True)
class LoginJsonResult:
    """What `loginJson` answers: status, body and response headers."""

    body: TokenPair
    cache_control: str
    status_code: Literal[200] = 200


@dataclass(frozen=True)
class RefreshTokensResult:
    """What `refreshTokens` answers: status, body and response headers."""

    body: TokenPair
    cache_control: str
    status_code: Literal[200] = 200


class AuthApi(Protocol):
    """Implement one method per `auth` operation; the router calls it."""

    async def register_user(
        self,
        *,
        body: UserRegister,
    ) -> RegisterUserResult:
        """registerUser: Register a new account"""
        ...

    async def login_form(
        self,
        *,
        body: LoginForm,
    ) -> LoginFormResult:
        """loginForm: Log in with the OAuth2 password flow"""
        ...

    async def login_json(
        self,
        *,
        body: LoginJson,
    ) -> LoginJsonResult:
        """loginJson: Log in with a JSON body"""
        ...

    async def refresh_tokens(
        self,
        *,
        body: RefreshRequest,
    ) -> RefreshTokensResult:
        """refreshTokens: Exchange a refresh token for a new token pair"""
        ...

    async def get_current_user(
        self,
        *,
        principal: Principal,
    ) -> User:
        """getCurrentUser: The signed-in account"""
        ...


def build_router(api: AuthApi, authenticator: Authenticator) -> APIRouter:
    """Routes for the `auth` operations, bound to `api`."""
    router = APIRouter(tags=["auth"])
    require = security_dependency(authenticator)

    @router.post(
        "/api/v1/auth/register",
        operation_id="registerUser",
        summary="Register a new account",
        status_code=201,
        response_class=Response,
    )
    async def register_user(
        request: Request,
    ) -> Response:
        body = build_model(UserRegister, await read_json_body(request, "registerUser"))
        result = await api.register_user(
            body=body,
        )
        return respond(
            result.status_code,
            result.body,
            {
                "Location": result.location,
            },
        )

    @router.post(
        "/api/v1/auth/login",
        operation_id="loginForm",
        summary="Log in with the OAuth2 password flow",
        status_code=200,
        response_class=Response,
    )
    async def login_form(
        request: Request,
        form_grant_type: Annotated[str | None, Form(alias="grant_type")] = None,
        form_username: Annotated[str | None, Form(alias="username")] = None,
        form_password: Annotated[str | None, Form(alias="password")] = None,
        form_scope: Annotated[str | None, Form(alias="scope")] = None,
        form_client_id: Annotated[str | None, Form(alias="client_id")] = None,
        form_client_secret: Annotated[str | None, Form(alias="client_secret")] = None,
    ) -> Response:
        body = build_model(LoginForm, await read_form_body(request, "loginForm"))
        result = await api.login_form(
            body=body,
        )
        return respond(
            result.status_code,
            result.body,
            {
                "Cache-Control": result.cache_control,
            },
        )

    @router.post(
        "/api/v1/auth/login/json",
        operation_id="loginJson",
        summary="Log in with a JSON body",
        status_code=200,
        response_class=Response,
    )
    async def login_json(
        request: Request,
    ) -> Response:
        body = build_model(LoginJson, await read_json_body(request, "loginJson"))
        result = await api.login_json(
            body=body,
        )
        return respond(
            result.status_code,
            result.body,
            {
                "Cache-Control": result.cache_control,
            },
        )

    @router.post(
        "/api/v1/auth/refresh",
        operation_id="refreshTokens",
        summary="Exchange a refresh token for a new token pair",
        status_code=200,
        response_class=Response,
    )
    async def refresh_tokens(
        request: Request,
    ) -> Response:
        body = build_model(
            RefreshRequest, await read_json_body(request, "refreshTokens")
        )
        result = await api.refresh_tokens(
            body=body,
        )
        return respond(
            result.status_code,
            result.body,
            {
                "Cache-Control": result.cache_control,
            },
        )

    @router.get(
        "/api/v1/auth/me",
        operation_id="getCurrentUser",
        summary="The signed-in account",
        status_code=200,
        response_class=Response,
    )
    async def get_current_user(
        request: Request,
        principal: Annotated[Principal, Security(require, scopes=[])],
    ) -> Response:
        result = await api.get_current_user(
            principal=principal,
        )
        return respond(200, result)

    return router
