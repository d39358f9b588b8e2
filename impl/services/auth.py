"""Register, log in, refresh tokens, `me`; and the Authenticator for access tokens."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from uuid import UUID

from databases.interfaces import Record

from generated.models import LoginForm, LoginJson, RefreshRequest, Role, TokenPair, User, UserRegister
from generated.routers.auth import (
    AuthApi,
    LoginFormResult,
    LoginJsonResult,
    RefreshTokensResult,
    RegisterUserResult,
)
from generated.runtime import Principal

from ..db import refresh_tokens as token_rows
from ..db import users as user_rows
from ..db.database import Db
from ..errors import Conflict, Unauthenticated
from ..security.passwords import PasswordHasher
from ..security.tokens import TokenCodec
from .accounts import scopes_for, to_user

BAD_CREDENTIALS = "Incorrect username or password."
BAD_REFRESH = "The refresh token is invalid, expired or already used."


class AccessTokenAuthenticator:
    """Access token -> principal, with scopes from the user's role now, not at login."""

    def __init__(self, db: Db, codec: TokenCodec) -> None:
        self._db = db
        self._codec = codec

    async def authenticate(self, token: str) -> Principal | None:
        claims = self._codec.decode(token, expected="access")
        if claims is None:
            return None
        try:
            user_id = UUID(claims.subject)
        except ValueError:
            return None
        row = await user_rows.get_live(self._db.database, user_id=user_id)
        if row is None or not row["is_active"] or row["token_version"] != claims.version:
            return None
        return Principal(subject=str(row["id"]), scopes=scopes_for(row["role"]))


class AuthService(AuthApi):
    def __init__(self, db: Db, hasher: PasswordHasher, codec: TokenCodec) -> None:
        self._db = db
        self._hasher = hasher
        self._codec = codec

    async def register_user(self, *, body: UserRegister) -> RegisterUserResult:
        password_hash = await self._hasher.hash(body.password)
        now = datetime.now(UTC)
        user_id = uuid.uuid4()
        async with self._db.write() as db:
            if await user_rows.email_taken(db, email=body.email):
                raise Conflict("An account with this email already exists.")
            if await user_rows.username_taken(db, username=body.username):
                raise Conflict("An account with this username already exists.")
            await user_rows.insert(
                db,
                values={
                    "id": user_id,
                    "email": body.email,
                    "username": body.username,
                    "password_hash": password_hash,
                    "role": Role.user.value,
                    "is_active": True,
                    "token_version": 0,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            row = await user_rows.get_live(db, user_id=user_id)
        assert row is not None
        return RegisterUserResult(body=to_user(row), location=f"/api/v1/users/{user_id}")

    async def login_form(self, *, body: LoginForm) -> LoginFormResult:
        # body.scope is ignored on purpose: scopes follow the role at every request.
        pair = await self._login(body.username, body.password)
        return LoginFormResult(body=pair, cache_control="no-store")

    async def login_json(self, *, body: LoginJson) -> LoginJsonResult:
        pair = await self._login(body.username, body.password)
        return LoginJsonResult(body=pair, cache_control="no-store")

    async def refresh_tokens(self, *, body: RefreshRequest) -> RefreshTokensResult:
        claims = self._codec.decode(body.refresh_token, expected="refresh")
        if claims is None or claims.family is None:
            raise Unauthenticated(BAD_REFRESH)
        now = datetime.now(UTC)
        async with self._db.write() as db:
            used = await token_rows.mark_used(db, jti=claims.jti, at=now)
            if used is None:
                known = await token_rows.get(db, jti=claims.jti)
                if known is not None and known["used_at"] is not None:
                    # A used token presented again: someone holds a copy. End the family.
                    await token_rows.revoke_family(db, family_id=known["family_id"], at=now)
                reuse = True
            else:
                reuse = False
                user = await user_rows.get_live(db, user_id=used["user_id"])
                if user is None or not user["is_active"] or user["token_version"] != claims.version:
                    await token_rows.revoke_family(db, family_id=used["family_id"], at=now)
                    user = None
                if user is not None:
                    pair = await self._issue(user, family=used["family_id"])
        if reuse or user is None:
            raise Unauthenticated(BAD_REFRESH)
        return RefreshTokensResult(body=pair, cache_control="no-store")

    async def get_current_user(self, *, principal: Principal) -> User:
        row = await user_rows.get_live(self._db.database, user_id=UUID(principal.subject))
        if row is None:
            raise Unauthenticated("Could not validate credentials.")
        return to_user(row)

    async def _login(self, login: str, password: str) -> TokenPair:
        row = await user_rows.find_by_login(self._db.database, login=login)
        if row is None:
            await self._hasher.verify_nothing(password)
            raise Unauthenticated(BAD_CREDENTIALS)
        if not await self._hasher.verify(password, row["password_hash"]) or not row["is_active"]:
            raise Unauthenticated(BAD_CREDENTIALS)
        async with self._db.write():
            return await self._issue(row, family=secrets.token_urlsafe(16))

    async def _issue(self, user: Record, *, family: str) -> TokenPair:
        subject = str(user["id"])
        version = int(user["token_version"])
        access, _ = self._codec.issue(subject=subject, token_type="access", version=version)
        refresh, claims = self._codec.issue(subject=subject, token_type="refresh", version=version, family=family)
        await token_rows.insert(
            self._db.database,
            jti=claims.jti,
            family_id=family,
            user_id=user["id"],
            expires_at=claims.expires_at,
            created_at=datetime.now(UTC),
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            token_type="bearer",
            expires_in=int(self._codec.access_ttl.total_seconds()),
        )
