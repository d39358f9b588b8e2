# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""Request parsing, validation against openapi.yaml, security and responses.

The routers validate every parameter and body with the JSON Schema validator
schemathesis uses (jsonschema-rs), against the schemas of openapi.yaml itself,
then build the models: where pydantic and JSON Schema disagree, the spec wins.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Annotated, Any, Protocol, TypeVar, get_args

import jsonschema_rs
from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from pydantic import BaseModel

_VALIDATION_ROOT: dict[str, Any] = json.loads(
    r"""{"$schema":"https://json-schema.org/draft/2020-12/schema","components":{"examples":{"Product":{"value":{"category":null,"created_at":"2026-11-26T09:30:00Z","description":null,"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","name":"New Product","price":29.99,"sku":"SKU-001","stock":0,"updated_at":"2026-11-26T09:30:00Z"}},"TokenPair":{"value":{"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.access.signature","expires_in":900,"refresh_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.refresh.signature","token_type":"bearer"}},"User":{"value":{"created_at":"2026-11-26T09:30:00Z","email":"user@example.com","id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","is_active":true,"role":"user","updated_at":"2026-11-26T09:30:00Z","username":"user1"}}},"headers":{"ETag":{"description":"A strong validator of the representation; send it back in `If-None-Match`.","required":true,"schema":{"type":"string"}},"Location":{"description":"The URL of the created resource.","required":true,"schema":{"format":"uri-reference","type":"string"}},"NoStore":{"description":"Token responses are never cached.","required":true,"schema":{"const":"no-store","type":"string"}},"WwwAuthenticate":{"description":"The authentication scheme, `Bearer`.","required":true,"schema":{"type":"string"}},"XCache":{"description":"Whether the answer came from the cache (`HIT`) or was built from the database (`MISS`).","required":true,"schema":{"enum":["HIT","MISS"],"type":"string"}}},"parameters":{"IfNoneMatch":{"description":"An `ETag` from an earlier answer; when it is still current the answer is 304 with no body.","in":"header","name":"If-None-Match","schema":{"maxLength":1000,"type":"string"}},"Page":{"description":"Page number, from 1.","in":"query","name":"page","schema":{"default":1,"maximum":10000,"minimum":1,"type":"integer"}},"PageSize":{"description":"Items per page.","in":"query","name":"page_size","schema":{"default":10,"maximum":100,"minimum":1,"type":"integer"}},"ProductId":{"in":"path","name":"product_id","required":true,"schema":{"format":"uuid","type":"string"}},"UserId":{"in":"path","name":"user_id","required":true,"schema":{"format":"uuid","type":"string"}}},"responses":{"BadRequest":{"content":{"application/problem+json":{"example":{"detail":"The request body is not valid JSON.","status":400,"title":"Malformed request body","type":"urn:catalog-api:problem:malformed-body"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The body is not well-formed (for example, not valid JSON)."},"Conflict":{"content":{"application/problem+json":{"example":{"detail":"A product with this SKU already exists.","status":409,"title":"Conflict","type":"urn:catalog-api:problem:conflict"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request conflicts with the current state (a duplicate, or the last admin)."},"Forbidden":{"content":{"application/problem+json":{"example":{"detail":"This operation needs the admin scope.","status":403,"title":"Forbidden","type":"urn:catalog-api:problem:forbidden"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The caller may not do this."},"NotFound":{"content":{"application/problem+json":{"example":{"detail":"Product not found.","status":404,"title":"Not found","type":"urn:catalog-api:problem:not-found"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"No such resource (deleted resources are not found either)."},"NotModified":{"description":"The representation still has the `ETag` sent in `If-None-Match`.","headers":{"ETag":{"$ref":"#/components/headers/ETag"},"X-Cache":{"$ref":"#/components/headers/XCache"}}},"Unauthorized":{"content":{"application/problem+json":{"example":{"detail":"Could not validate credentials.","status":401,"title":"Unauthorized","type":"urn:catalog-api:problem:unauthorized"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"Missing, invalid or expired credentials.","headers":{"WWW-Authenticate":{"$ref":"#/components/headers/WwwAuthenticate"}}},"UnsupportedMediaType":{"content":{"application/problem+json":{"example":{"detail":"This operation takes application/json.","status":415,"title":"Unsupported media type","type":"urn:catalog-api:problem:unsupported-media-type"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The body's media type is not the one this operation takes."},"ValidationFailed":{"content":{"application/problem+json":{"example":{"detail":"The request does not match the API's schema.","errors":[{"loc":["body","price"],"msg":"0 is less than the minimum of 0.01","type":"minimum"}],"status":422,"title":"Validation failed","type":"urn:catalog-api:problem:validation-error"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request does not match this document."}},"schemas":{"CheckStatus":{"enum":["ok","unavailable"],"type":"string"},"FieldError":{"properties":{"loc":{"description":"Where the error is, for example `[body, price]` or `[query, page]`.","items":{"type":["string","integer"]},"type":"array"},"msg":{"type":"string"},"type":{"type":"string"}},"required":["loc","msg","type"],"type":"object"},"Liveness":{"properties":{"status":{"const":"ok","type":"string"}},"required":["status"],"type":"object"},"LoginForm":{"additionalProperties":false,"description":"An OAuth2 password grant request.","properties":{"client_id":{"maxLength":255,"type":"string"},"client_secret":{"maxLength":255,"type":"string"},"grant_type":{"enum":["password"],"type":"string"},"password":{"maxLength":128,"minLength":1,"type":"string"},"scope":{"description":"Ignored; scopes follow the account's role.","maxLength":1000,"type":"string"},"username":{"description":"A username or an email.","maxLength":254,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"}},"required":["username","password"],"type":"object"},"LoginJson":{"additionalProperties":false,"properties":{"password":{"maxLength":128,"minLength":1,"type":"string"},"username":{"description":"A username or an email.","maxLength":254,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"}},"required":["username","password"],"type":"object"},"Problem":{"description":"An RFC 9457 problem detail.","properties":{"detail":{"type":"string"},"errors":{"description":"The offending fields, for validation errors.","items":{"$ref":"#/components/schemas/FieldError"},"type":"array"},"status":{"maximum":599,"minimum":400,"type":"integer"},"title":{"type":"string"},"type":{"format":"uri-reference","type":"string"}},"required":["type","title","status","detail"],"type":"object"},"Product":{"properties":{"category":{"type":["string","null"]},"created_at":{"format":"date-time","type":"string"},"description":{"type":["string","null"]},"id":{"format":"uuid","type":"string"},"name":{"type":"string"},"price":{"description":"Exact to the cent (stored as integer cents; always two decimal places or fewer).","maximum":99999999.99,"minimum":0.01,"type":"number"},"sku":{"type":"string"},"stock":{"minimum":0,"type":"integer"},"updated_at":{"format":"date-time","type":"string"}},"required":["id","name","description","price","stock","category","sku","created_at","updated_at"],"type":"object"},"ProductCreate":{"additionalProperties":false,"properties":{"category":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"},"description":{"description":"Tabs and newlines are allowed; other control characters are not.","maxLength":2000,"pattern":"^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$","type":"string"},"name":{"maxLength":200,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"},"price":{"maximum":99999999.99,"minimum":0.01,"multipleOf":0.01,"type":"number"},"sku":{"maxLength":64,"minLength":1,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"},"stock":{"default":0,"maximum":2147483647,"minimum":0,"type":"integer"}},"required":["name","price","sku"],"type":"object"},"ProductPage":{"properties":{"items":{"items":{"$ref":"#/components/schemas/Product"},"type":"array"},"page":{"minimum":1,"type":"integer"},"page_size":{"minimum":1,"type":"integer"},"pages":{"minimum":0,"type":"integer"},"total":{"minimum":0,"type":"integer"}},"required":["items","total","page","page_size","pages"],"type":"object"},"ProductSortField":{"default":"created_at","enum":["name","price","created_at","stock"],"type":"string"},"ProductUpdate":{"additionalProperties":false,"description":"A partial update; at least one field.","minProperties":1,"properties":{"category":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"},"description":{"description":"Tabs and newlines are allowed; other control characters are not.","maxLength":2000,"pattern":"^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$","type":"string"},"name":{"maxLength":200,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"},"price":{"maximum":99999999.99,"minimum":0.01,"multipleOf":0.01,"type":"number"},"sku":{"maxLength":64,"minLength":1,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"},"stock":{"maximum":2147483647,"minimum":0,"type":"integer"}},"type":"object"},"Readiness":{"properties":{"checks":{"properties":{"cache":{"$ref":"#/components/schemas/CheckStatus"},"database":{"$ref":"#/components/schemas/CheckStatus"}},"required":["database","cache"],"type":"object"},"status":{"$ref":"#/components/schemas/CheckStatus"}},"required":["status","checks"],"type":"object"},"RefreshRequest":{"additionalProperties":false,"properties":{"refresh_token":{"maxLength":4096,"minLength":1,"type":"string"}},"required":["refresh_token"],"type":"object"},"Role":{"enum":["admin","user"],"type":"string"},"RoleUpdate":{"additionalProperties":false,"properties":{"role":{"$ref":"#/components/schemas/Role"}},"required":["role"],"type":"object"},"SortOrder":{"default":"desc","enum":["asc","desc"],"type":"string"},"TokenPair":{"properties":{"access_token":{"type":"string"},"expires_in":{"description":"Seconds until the access token expires.","minimum":1,"type":"integer"},"refresh_token":{"type":"string"},"token_type":{"const":"bearer","type":"string"}},"required":["access_token","refresh_token","token_type","expires_in"],"type":"object"},"User":{"properties":{"created_at":{"format":"date-time","type":"string"},"email":{"maxLength":254,"type":"string"},"id":{"format":"uuid","type":"string"},"is_active":{"type":"boolean"},"role":{"$ref":"#/components/schemas/Role"},"updated_at":{"format":"date-time","type":"string"},"username":{"type":"string"}},"required":["id","email","username","role","is_active","created_at","updated_at"],"type":"object"},"UserPage":{"properties":{"items":{"items":{"$ref":"#/components/schemas/User"},"type":"array"},"page":{"minimum":1,"type":"integer"},"page_size":{"minimum":1,"type":"integer"},"pages":{"minimum":0,"type":"integer"},"total":{"minimum":0,"type":"integer"}},"required":["items","total","page","page_size","pages"],"type":"object"},"UserRegister":{"additionalProperties":false,"properties":{"email":{"format":"email","maxLength":254,"type":"string"},"password":{"description":"Any Unicode, 8 to 128 characters.","maxLength":128,"minLength":8,"type":"string"},"username":{"maxLength":32,"minLength":3,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"}},"required":["email","username","password"],"type":"object"},"UserUpdate":{"additionalProperties":false,"dependentRequired":{"current_password":["password"]},"description":"A partial update; at least one field. `current_password` only goes with `password`.","minProperties":1,"properties":{"current_password":{"description":"Required when a user changes its own password (403 when missing or wrong).","maxLength":128,"minLength":1,"type":"string"},"email":{"format":"email","maxLength":254,"type":"string"},"is_active":{"description":"Admins only.","type":"boolean"},"password":{"description":"Any Unicode, 8 to 128 characters.","maxLength":128,"minLength":8,"type":"string"},"username":{"maxLength":32,"minLength":3,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"}},"type":"object"}},"securitySchemes":{"OAuth2":{"description":"OAuth2 password flow; send the access token as `Authorization: Bearer <token>`.","flows":{"password":{"refreshUrl":"/api/v1/auth/refresh","scopes":{"admin":"Manage products and all users."},"tokenUrl":"/api/v1/auth/login"}},"type":"oauth2"}}},"x-operations":{"createProduct":{"body":{"$ref":"#/components/schemas/ProductCreate"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"deleteProduct":{"body":null,"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"deleteUser":{"body":null,"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"getCurrentUser":{"body":null,"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"getLiveness":{"body":null,"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"getProduct":{"body":null,"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"getReadiness":{"body":null,"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"getUser":{"body":null,"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"listProducts":{"body":null,"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"category":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"},"in_stock_only":{"default":false,"type":"boolean"},"max_price":{"maximum":99999999.99,"minimum":0,"type":"number"},"min_price":{"maximum":99999999.99,"minimum":0,"type":"number"},"name":{"maxLength":200,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"},"page":{"default":1,"maximum":10000,"minimum":1,"type":"integer"},"page_size":{"default":10,"maximum":100,"minimum":1,"type":"integer"},"sort_by":{"$ref":"#/components/schemas/ProductSortField"},"sort_order":{"$ref":"#/components/schemas/SortOrder"}},"required":[],"type":"object"}},"listUsers":{"body":null,"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"page":{"default":1,"maximum":10000,"minimum":1,"type":"integer"},"page_size":{"default":10,"maximum":100,"minimum":1,"type":"integer"}},"required":[],"type":"object"}},"loginForm":{"body":{"$ref":"#/components/schemas/LoginForm"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"loginJson":{"body":{"$ref":"#/components/schemas/LoginJson"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"refreshTokens":{"body":{"$ref":"#/components/schemas/RefreshRequest"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"registerUser":{"body":{"$ref":"#/components/schemas/UserRegister"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"searchProducts":{"body":null,"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"page":{"default":1,"maximum":10000,"minimum":1,"type":"integer"},"page_size":{"default":10,"maximum":100,"minimum":1,"type":"integer"},"q":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F]*$","type":"string"}},"required":["q"],"type":"object"}},"updateProduct":{"body":{"$ref":"#/components/schemas/ProductUpdate"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"updateUser":{"body":{"$ref":"#/components/schemas/UserUpdate"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"updateUserRole":{"body":{"$ref":"#/components/schemas/RoleUpdate"},"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}}}}"""
)

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_MESSAGE_LIMIT = 200


@dataclass(frozen=True)
class FieldIssue:
    """One offending field: where it is, what is wrong, and the JSON Schema keyword."""

    loc: tuple[str | int, ...]
    msg: str
    type: str


class RequestRejected(Exception):
    """A request the contract refuses before the implementation sees it."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        errors: list[FieldIssue] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


@dataclass(frozen=True)
class Principal:
    """The caller an access token stands for, with the scopes it holds now."""

    subject: str
    scopes: frozenset[str] = field(default_factory=frozenset)


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Principal | None:
        """The principal of a valid access token, or None."""
        ...


oauth2_oauth2 = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/login",
    refreshUrl="/api/v1/auth/refresh",
    scopes={"admin": "Manage products and all users."},
    scheme_name="OAuth2",
    auto_error=False,
)


def security_dependency(authenticator: Authenticator) -> Any:
    """The dependency that enforces an operation's declared security and scopes."""

    async def require_principal(
        security_scopes: SecurityScopes,
        token: Annotated[str | None, Depends(oauth2_oauth2)],
    ) -> Principal:
        if not token:
            raise RequestRejected(
                401,
                "unauthorized",
                "Unauthorized",
                "Not authenticated: send an access token as a Bearer token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = await authenticator.authenticate(token)
        if principal is None:
            raise RequestRejected(
                401,
                "unauthorized",
                "Unauthorized",
                "Could not validate credentials.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        missing = sorted(set(security_scopes.scopes) - principal.scopes)
        if missing:
            raise RequestRejected(
                403,
                "forbidden",
                "Forbidden",
                f"This operation needs the {', '.join(missing)} scope.",
            )
        return principal

    return require_principal


@cache
def _validator(operation_id: str, part: str) -> Any:
    schema = dict(_VALIDATION_ROOT)
    schema["$ref"] = f"#/x-operations/{operation_id}/{part}"
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def _kind_name(error: Any) -> str:
    name = type(error.kind).__name__.rsplit("_", 1)[-1]
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _message(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def validate(operation_id: str, part: str, instance: Any) -> None:
    """Raise RequestRejected (422) listing every way `instance` breaks the spec."""
    try:
        errors = list(_validator(operation_id, part).iter_errors(instance))
    except (ValueError, OverflowError) as exc:
        errors = []
        issues = [FieldIssue((part,), _message(str(exc)), "invalid")]
    else:
        issues = []
    for error in errors:
        loc: list[str | int] = [part, *error.instance_path]
        kind = _kind_name(error)
        prop = getattr(error.kind, "property", None)
        if kind == "required" and isinstance(prop, str):
            loc.append(prop)
        unexpected = getattr(error.kind, "unexpected", None)
        if kind == "additional_properties" and unexpected:
            loc.append(str(unexpected[0]))
        issues.append(FieldIssue(tuple(loc), _message(error.message), kind))
    if issues:
        raise RequestRejected(
            422,
            "validation-error",
            "Validation failed",
            "The request does not match the API's schema.",
            errors=issues,
        )


def _coerce(value: str, json_type: str) -> Any:
    if json_type == "integer" and _INTEGER.fullmatch(value):
        return int(value)
    if json_type == "number" and _NUMBER.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else value
    if json_type == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def parse_parameters(
    operation_id: str, location: str, raw: dict[str, tuple[str | None, str]]
) -> dict[str, Any]:
    """Coerce `name -> (text, JSON type)` as the spec's types say, and validate."""
    values = {
        name: _coerce(text, kind)
        for name, (text, kind) in raw.items()
        if text is not None
    }
    validate(operation_id, location, values)
    return values


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _unsupported(expected: str) -> RequestRejected:
    return RequestRejected(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"This operation takes {expected}.",
    )


def _malformed(detail: str) -> RequestRejected:
    return RequestRejected(400, "malformed-body", "Malformed request body", detail)


async def read_json_body(request: Request, operation_id: str) -> dict[str, Any]:
    if _media_type(request) != "application/json":
        raise _unsupported("application/json")
    raw = await request.body()
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _malformed("The request body is not valid JSON.") from None
    validate(operation_id, "body", data)
    assert isinstance(data, dict)  # the body schemas are objects
    return data


async def read_form_body(request: Request, operation_id: str) -> dict[str, Any]:
    if _media_type(request) != "application/x-www-form-urlencoded":
        raise _unsupported("application/x-www-form-urlencoded")
    # FastAPI has parsed the form for the route's Form() parameters; Starlette
    # keeps it, so every field sent (not only the declared ones) is checked.
    form = await request.form()
    data = {name: value for name, value in form.multi_items() if isinstance(value, str)}
    validate(operation_id, "body", data)
    return data


ModelT = TypeVar("ModelT", bound=BaseModel)


def _enum_type(annotation: Any) -> type[Enum] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


def build_model(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """Build a model from data the spec already accepted, without re-validating.

    Only the fields present are set, so `model_fields_set` tells a partial
    update's fields apart from absent ones.
    """
    values: dict[str, Any] = {}
    for name, value in data.items():
        info = model.model_fields[name]
        enum = _enum_type(info.annotation)
        values[name] = enum(value) if enum is not None else value
    built = model.model_construct(**values)
    return built


def respond(
    status_code: int,
    body: BaseModel | None,
    headers: dict[str, str | None] | None = None,
) -> Response:
    sent = {name: value for name, value in (headers or {}).items() if value is not None}
    if body is None:
        return Response(status_code=status_code, headers=sent)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status_code, headers=sent
    )
