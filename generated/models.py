# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, List, Literal, Optional, Union
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, RootModel


class FieldError(BaseModel):
    loc: Annotated[
        List[Union[str, int]],
        Field(
            description='Where the error is, for example `[body, price]` or `[query, page]`.'
        ),
    ]
    msg: str
    type: str


class Score(RootModel[float]):
    root: Annotated[float, Field(ge=-1.0, le=1.0)]


class RecommendationSource(StrEnum):
    history = 'history'
    popular = 'popular'


class DescriptionDraft(BaseModel):
    product_id: UUID
    description: Annotated[
        str,
        Field(
            description='The draft, trimmed to what `ProductUpdate.description` accepts.',
            max_length=2000,
            min_length=1,
            pattern='^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$',
        ),
    ]
    model: Annotated[
        str, Field(description='The model that wrote it, as the provider named it.')
    ]


class Role(StrEnum):
    admin = 'admin'
    user = 'user'


class UserRegister(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    email: Annotated[EmailStr, Field(max_length=254)]
    username: Annotated[
        str, Field(max_length=32, min_length=3, pattern='^[A-Za-z0-9_.-]+$')
    ]
    password: Annotated[
        str,
        Field(
            description='Any Unicode, 8 to 128 characters, not whitespace only; a common or easily guessed password (NIST SP 800-63B) is refused with a 422 of type `password-policy`.',
            max_length=128,
            min_length=8,
        ),
    ]


class GrantType(StrEnum):
    password = 'password'


class LoginForm(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    grant_type: Optional[GrantType] = None
    username: Annotated[
        str,
        Field(
            description='A username or an email.',
            max_length=254,
            min_length=1,
            pattern='^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$',
        ),
    ]
    password: Annotated[str, Field(max_length=128, min_length=1)]
    scope: Annotated[
        Optional[str],
        Field(
            description="Ignored; scopes follow the account's role.", max_length=1000
        ),
    ] = None
    client_id: Annotated[Optional[str], Field(max_length=255)] = None
    client_secret: Annotated[Optional[str], Field(max_length=255)] = None


class LoginJson(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    username: Annotated[
        str,
        Field(
            description='A username or an email.',
            max_length=254,
            min_length=1,
            pattern='^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$',
        ),
    ]
    password: Annotated[str, Field(max_length=128, min_length=1)]


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    refresh_token: Annotated[str, Field(max_length=4096, min_length=1)]


class GrantType1(StrEnum):
    refresh_token = 'refresh_token'


class RefreshForm(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    grant_type: GrantType1
    refresh_token: Annotated[str, Field(max_length=4096, min_length=1)]
    scope: Annotated[
        Optional[str],
        Field(
            description="Ignored; scopes follow the account's role.", max_length=1000
        ),
    ] = None
    client_id: Annotated[Optional[str], Field(max_length=255)] = None
    client_secret: Annotated[Optional[str], Field(max_length=255)] = None


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal['bearer']
    expires_in: Annotated[
        int, Field(description='Seconds until the access token expires.', ge=1)
    ]


class User(BaseModel):
    id: UUID
    email: Annotated[str, Field(max_length=254)]
    username: str
    role: Role
    is_active: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime


class UserUpdate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    email: Annotated[Optional[EmailStr], Field(max_length=254)] = None
    username: Annotated[
        Optional[str], Field(max_length=32, min_length=3, pattern='^[A-Za-z0-9_.-]+$')
    ] = None
    password: Annotated[
        Optional[str],
        Field(
            description='Any Unicode, 8 to 128 characters, not whitespace only; a common or easily guessed password (NIST SP 800-63B) is refused with a 422 of type `password-policy`.',
            max_length=128,
            min_length=8,
        ),
    ] = None
    current_password: Annotated[
        Optional[str],
        Field(
            description='Required when a user changes its own password (403 when missing or wrong).',
            max_length=128,
            min_length=1,
        ),
    ] = None
    is_active: Annotated[Optional[bool], Field(description='Admins only.')] = None


class RoleUpdate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    role: Role


class UserPage(BaseModel):
    items: List[User]
    total: Annotated[int, Field(ge=0)]
    page: Annotated[int, Field(ge=1)]
    page_size: Annotated[int, Field(ge=1)]
    pages: Annotated[int, Field(ge=0)]


class Product(BaseModel):
    id: UUID
    name: str
    description: Optional[str]
    price: Annotated[
        float,
        Field(
            description='Exact to the cent (stored as integer cents; always two decimal places or fewer).',
            ge=0.01,
            le=99999999.99,
            multiple_of=0.01,
        ),
    ]
    stock: Annotated[int, Field(ge=0)]
    category: Optional[str]
    sku: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ProductCreate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    name: Annotated[
        str,
        Field(
            max_length=200,
            min_length=1,
            pattern='^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$',
        ),
    ]
    description: Annotated[
        Optional[str],
        Field(
            description='Tabs and newlines are allowed; other control characters are not.',
            max_length=2000,
            pattern='^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$',
        ),
    ] = None
    price: Annotated[float, Field(ge=0.01, le=99999999.99, multiple_of=0.01)]
    stock: Annotated[
        Optional[int],
        Field(description='Units in stock; 0 when omitted.', ge=0, le=2147483647),
    ] = None
    category: Annotated[
        Optional[str],
        Field(
            max_length=100,
            min_length=1,
            pattern='^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$',
        ),
    ] = None
    sku: Annotated[str, Field(max_length=64, min_length=1, pattern='^[A-Za-z0-9_.-]+$')]


class ProductUpdate(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    name: Annotated[
        Optional[str],
        Field(
            max_length=200,
            min_length=1,
            pattern='^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$',
        ),
    ] = None
    description: Annotated[
        Optional[str],
        Field(
            description='Tabs and newlines are allowed; other control characters are not.',
            max_length=2000,
            pattern='^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$',
        ),
    ] = None
    price: Annotated[
        Optional[float], Field(ge=0.01, le=99999999.99, multiple_of=0.01)
    ] = None
    stock: Annotated[Optional[int], Field(ge=0, le=2147483647)] = None
    category: Annotated[
        Optional[str],
        Field(
            max_length=100,
            min_length=1,
            pattern='^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$',
        ),
    ] = None
    sku: Annotated[
        Optional[str], Field(max_length=64, min_length=1, pattern='^[A-Za-z0-9_.-]+$')
    ] = None


class ProductPage(BaseModel):
    items: List[Product]
    total: Annotated[
        int,
        Field(description='The number of matches, counted up to 1,000.', ge=0, le=1000),
    ]
    total_exact: Annotated[
        bool,
        Field(
            description='False when there are more than 1,000 matches and `total` stops at 1,000.'
        ),
    ]
    page: Annotated[
        Optional[int],
        Field(
            description='The page number; null on a page asked for by `cursor`.', ge=1
        ),
    ]
    page_size: Annotated[int, Field(ge=1)]
    pages: Annotated[
        Optional[int],
        Field(
            description='The number of pages; null when `total_exact` is false (it would understate).',
            ge=0,
        ),
    ]
    next_cursor: Annotated[
        Optional[str],
        Field(
            description='Send as `cursor` (with the same query) for the next page; null on the last page.',
            max_length=2048,
            pattern='^[A-Za-z0-9_-]+$',
        ),
    ]


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
    version: Annotated[
        str,
        Field(
            description="The API's version (this document's `info.version`, which is the package's)."
        ),
    ]
    revision: Annotated[
        Optional[str],
        Field(
            description='The source revision (git) the running build was made from; null when unknown.'
        ),
    ]


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
    status: Annotated[int, Field(ge=400, le=599)]
    detail: str
    errors: Annotated[
        Optional[List[FieldError]],
        Field(description='The offending fields, for validation errors.'),
    ] = None
    request_id: Annotated[
        Optional[str],
        Field(
            description="The request's id, as in its `X-Request-ID` header (quote it when reporting a problem)."
        ),
    ] = None


class ImportLineError(BaseModel):
    line: Annotated[
        int, Field(description="The line's number in the body, counting from 1.", ge=1)
    ]
    errors: Annotated[List[FieldError], Field(min_length=1)]


class ProductMatches(BaseModel):
    items: Annotated[List[Product], Field(max_length=50)]
    scores: Annotated[List[Score], Field(max_length=50)]


class Recommendations(BaseModel):
    items: Annotated[List[Product], Field(max_length=50)]
    source: RecommendationSource


class ImportReport(BaseModel):
    created: Annotated[int, Field(ge=0)]
    updated: Annotated[int, Field(ge=0)]
    rejected: Annotated[int, Field(ge=0)]
    errors: Annotated[
        List[ImportLineError],
        Field(
            description='The first 100 rejected lines, in line order.', max_length=100
        ),
    ]
