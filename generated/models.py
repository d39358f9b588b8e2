# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

from __future__ import annotations

from enum import StrEnum
from typing import List, Literal, Optional, Union
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    confloat,
    conint,
    constr,
)


class FieldError(BaseModel):
    loc: List[Union[str, int]] = Field(
        ...,
        description='Where the error is, for example `[body, price]` or `[query, page]`.',
    )
    msg: str
    type: str


class Role(StrEnum):
    admin = 'admin'
    user = 'user'


class UserRegister(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    email: EmailStr
    username: constr(pattern=r'^[A-Za-z0-9_.-]+$', min_length=3, max_length=32)
    password: constr(min_length=8, max_length=128) = Field(
        ..., description='Any Unicode, 8 to 128 characters.'
    )


class GrantType(StrEnum):
    password = 'password'


class LoginForm(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    grant_type: Optional[GrantType] = None
    username: constr(pattern=r'^[^\x00-\x1F]*$', min_length=1, max_length=254) = Field(
        ..., description='A username or an email.'
    )
    password: constr(min_length=1, max_length=128)
    scope: Optional[constr(max_length=1000)] = Field(
        None, description="Ignored; scopes follow the account's role."
    )
    client_id: Optional[constr(max_length=255)] = None
    client_secret: Optional[constr(max_length=255)] = None


class LoginJson(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    username: constr(pattern=r'^[^\x00-\x1F]*$', min_length=1, max_length=254) = Field(
        ..., description='A username or an email.'
    )
    password: constr(min_length=1, max_length=128)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    refresh_token: constr(min_length=1, max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal['bearer']
    expires_in: conint(ge=1) = Field(
        ..., description='Seconds until the access token expires.'
    )


class User(BaseModel):
    id: UUID
    email: constr(max_length=254)
    username: str
    role: Role
    is_active: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime


class UserUpdate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    email: Optional[EmailStr] = None
    username: Optional[
        constr(pattern=r'^[A-Za-z0-9_.-]+$', min_length=3, max_length=32)
    ] = None
    password: Optional[constr(min_length=8, max_length=128)] = Field(
        None, description='Any Unicode, 8 to 128 characters.'
    )
    current_password: Optional[constr(min_length=1, max_length=128)] = Field(
        None, description='Required when a user changes its own password.'
    )
    is_active: Optional[bool] = Field(None, description='Admins only.')


class RoleUpdate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    role: Role


class UserPage(BaseModel):
    items: List[User]
    total: conint(ge=0)
    page: conint(ge=1)
    page_size: conint(ge=1)
    pages: conint(ge=0)


class Product(BaseModel):
    id: UUID
    name: str
    description: Optional[str]
    price: confloat(multiple_of=0.01)
    stock: conint(ge=0)
    category: Optional[str]
    sku: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ProductCreate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    name: constr(pattern=r'^[^\x00-\x1F]*$', min_length=1, max_length=200)
    description: Optional[
        constr(pattern=r'^[^\x00-\x08\x0B\x0C\x0E-\x1F]*$', max_length=2000)
    ] = Field(
        None,
        description='Tabs and newlines are allowed; other control characters are not.',
    )
    price: confloat(ge=0.01, le=99999999.99, multiple_of=0.01)
    stock: Optional[conint(ge=0, le=2147483647)] = 0
    category: Optional[
        constr(pattern=r'^[^\x00-\x1F]*$', min_length=1, max_length=100)
    ] = None
    sku: constr(pattern=r'^[A-Za-z0-9_.-]+$', min_length=1, max_length=64)


class ProductUpdate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    name: Optional[constr(pattern=r'^[^\x00-\x1F]*$', min_length=1, max_length=200)] = (
        None
    )
    description: Optional[
        constr(pattern=r'^[^\x00-\x08\x0B\x0C\x0E-\x1F]*$', max_length=2000)
    ] = Field(
        None,
        description='Tabs and newlines are allowed; other control characters are not.',
    )
    price: Optional[confloat(ge=0.01, le=99999999.99, multiple_of=0.01)] = None
    stock: Optional[conint(ge=0, le=2147483647)] = None
    category: Optional[
        constr(pattern=r'^[^\x00-\x1F]*$', min_length=1, max_length=100)
    ] = None
    sku: Optional[constr(pattern=r'^[A-Za-z0-9_.-]+$', min_length=1, max_length=64)] = (
        None
    )


class ProductPage(BaseModel):
    items: List[Product]
    total: conint(ge=0)
    page: conint(ge=1)
    page_size: conint(ge=1)
    pages: conint(ge=0)


class ProductSortField(StrEnum):
    name = 'name'
    price = 'price'
    created_at = 'created_at'
    stock = 'stock'


class SortOrder(StrEnum):
    asc = 'asc'
    desc = 'desc'


class Liveness(BaseModel):
    status: Literal['ok']


class CheckStatus(StrEnum):
    ok = 'ok'
    unavailable = 'unavailable'


class Checks(BaseModel):
    database: CheckStatus
    cache: CheckStatus


class Readiness(BaseModel):
    status: CheckStatus
    checks: Checks


class Problem(BaseModel):
    type: str
    title: str
    status: conint(ge=400, le=599)
    detail: str
    errors: Optional[List[FieldError]] = Field(
        None, description='The offending fields, for validation errors.'
    )
