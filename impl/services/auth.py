"""Register, log in, refresh tokens, `me`; and the Authenticator for access tokens."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from contract_runtime.principal import Principal
from generated.interfaces.auth import (
    GetCurrentUser200Response,
    LoginForm200Response,
    LoginJson200Response,
    RefreshTokens200Response,
    RegisterUser201Response,
)
from generated.models import LoginForm, LoginJson, RefreshForm, RefreshRequest, Role, TokenPair, UserRegister

from ..db import refresh_tokens as token_rows
from ..db import users as user_rows
from ..db.database import Db, Session
from ..db.users import UserRecord
from ..errors import Conflict, Unauthenticated
from ..request_context import client_address
from ..security.passwords import PasswordHasher, Requester
from ..security.tokens import TokenCodec
from .account_cache import AccountCache
from .accounts import AccountPrincipal, scopes_for, to_user
from .password_rules import ensure_acceptable
from .throttle import LoginThrottle

BAD_CREDENTIALS = "Incorrect username or password."
BAD_REFRESH = "The refresh token is invalid, expired or already used."
EMAIL_TAKEN = "An account with this email already exists."
USERNAME_TAKEN = "An account with this username already exists."
DEFAULT_REUSE_GRACE = timedelta(seconds=5)  # the default of the REFRESH_REUSE_GRACE_SECONDS setting


class AccessTokenAuthenticator:
    """Access token -> principal, with scopes from the user's role now, not at login."""

    def __init__(self, db: Db, codec: TokenCodec, accounts: AccountCache) -> None:
        self._db = db
        self._codec = codec
        self._accounts = accounts

    async def authenticate(self, token: str) -> Principal | None:
        claims = self._codec.decode(token, expected="access")
        if claims is None:
            return None
        try:
            user_id = UUID(claims.subject)
        except ValueError:
            return None
        record = self._accounts.get(user_id)
        if record is None:
            epoch, started = self._accounts.epoch, time.monotonic()  # its age counts from before the read
            record = await user_rows.get_live(self._db.database, user_id=user_id)
            if record is not None:
                self._accounts.put(record, epoch=epoch, read_at=started)
        if record is None or not record.is_active or record.token_version != claims.version:
            return None
        return AccountPrincipal(subject=str(record.id), scopes=scopes_for(record.role), account=record)


class AuthService:
    """Implements `generated.interfaces.auth.AuthApi`."""

    def __init__(
        self,
        db: Db,
        hasher: PasswordHasher,
        codec: TokenCodec,
        throttle: LoginThrottle,
        *,
        accounts: AccountCache | None = None,
        reuse_grace: timedelta = DEFAULT_REUSE_GRACE,
    ) -> None:
        self._db = db
        self._hasher = hasher
        self._codec = codec
        self._throttle = throttle
        # Ending a user's tokens must also drop its cached account (embedded mode), or the
        # authenticator keeps honouring access tokens of the old version.
        self._accounts = accounts
        self._reuse_grace = reuse_grace

    async def register_user(self, *, body: UserRegister) -> RegisterUser201Response:
        # Duplicates are refused before the slow hash; the unique indexes catch a racing twin (409).
        await self._ensure_free(self._db.database, body.email, body.username)
        requester = Requester(address=client_address.get())
        await ensure_acceptable(
            self._hasher, body.password, username=body.username, email=body.email, requester=requester
        )
        password_hash = await self._hasher.hash(body.password, requester=requester)
        now = datetime.now(UTC)
        async with self._db.write() as db:
            record = await user_rows.insert(
                db,
                values={
                    "id": uuid.uuid4(),
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
        return RegisterUser201Response(body=to_user(record), location=f"/api/v1/users/{record.id}")

    async def login_form(self, *, body: LoginForm) -> LoginForm200Response:
        # body.scope is ignored on purpose: scopes follow the role at every request.
        return LoginForm200Response(body=await self._login(body.username, body.password))

    async def login_json(self, *, body: LoginJson) -> LoginJson200Response:
        return LoginJson200Response(body=await self._login(body.username, body.password))

    async def refresh_tokens(self, *, body: RefreshRequest | RefreshForm) -> RefreshTokens200Response:
        claims = self._codec.decode(body.refresh_token, expected="refresh")
        if claims is None or claims.family is None:
            raise Unauthenticated(BAD_REFRESH)
        pair: TokenPair | None = None
        ended_tokens = False
        async with self._db.write() as db:
            now = datetime.now(UTC)  # inside the transaction: waiting for the write lock does not eat the window
            used = await token_rows.mark_used(db, jti=claims.jti, at=now)
            if used is None and self._reuse_grace > timedelta(0):
                # Two tabs refreshing with one token at once: the later one gets a pair of the same family.
                used = await token_rows.reuse_within(db, jti=claims.jti, at=now, since=now - self._reuse_grace)
            if used is None:
                known = await token_rows.get(db, jti=claims.jti)
                if known is not None and known.used:
                    ended_tokens = await self._end_everything(db, known, at=now)
            else:
                user = await user_rows.get_live(db, user_id=used.user_id)
                if user is None or not user.is_active or user.token_version != claims.version:
                    await token_rows.revoke_family(db, family_id=used.family_id, at=now)
                else:
                    pair = await self._issue(db, user, family=used.family_id)
        if ended_tokens and self._accounts is not None:
            self._accounts.invalidate()  # after the commit, before the answer (see AccountCache)
        if pair is None:
            raise Unauthenticated(BAD_REFRESH)
        return RefreshTokens200Response(body=pair)

    async def _end_everything(self, db: Session, known: token_rows.KnownToken, *, at: datetime) -> bool:
        """A used token presented after the grace window: someone holds a copy; end the user's tokens.

        The family is revoked and the user's token version moves on, which ends its access
        tokens (the thief's newest one included) and its other refresh tokens. Only the first
        replay does so: whoever holds a token of a family revoked already must not be able to
        log the user out again and again. True when tokens were ended.
        """
        if not await token_rows.revoke_family(db, family_id=known.family_id, at=at):
            return False
        await user_rows.update_live(db, user_id=known.user_id, values={}, end_tokens=True)
        return True

    async def get_current_user(self, *, principal: Principal) -> GetCurrentUser200Response:
        # The authenticator has just read this account (and checked it is live, active and current).
        if isinstance(principal, AccountPrincipal) and principal.account is not None:
            return GetCurrentUser200Response(body=to_user(principal.account))
        record = await user_rows.get_live(self._db.database, user_id=UUID(principal.subject))
        if record is None:
            raise Unauthenticated("Could not validate credentials.")
        return GetCurrentUser200Response(body=to_user(record))

    async def _ensure_free(self, db: Session, email: str, username: str) -> None:
        if await user_rows.email_taken(db, email=email):
            raise Conflict(EMAIL_TAKEN)
        if await user_rows.username_taken(db, username=username):
            raise Conflict(USERNAME_TAKEN)

    async def _login(self, login: str, password: str) -> TokenPair:
        address = client_address.get()
        record = await user_rows.find_by_login(self._db.database, login=login)
        # Unknown names are limited too (under the name sent), so a 429 tells nothing about who exists.
        account = str(record.id) if record is not None else "name:" + login.lower()
        requester = Requester(account=account, address=address)

        async def check() -> bool:
            if record is None:
                await self._hasher.verify_nothing(password, requester=requester)
                return False
            return await self._hasher.verify(password, record.password_hash, requester=requester) and record.is_active

        if not await self._throttle.attempt(account, address, check) or record is None:
            raise Unauthenticated(BAD_CREDENTIALS)
        async with self._db.write() as db:
            return await self._issue(db, record, family=secrets.token_urlsafe(16))

    async def _issue(self, db: Session, user: UserRecord, *, family: str) -> TokenPair:
        subject = str(user.id)
        access, _ = self._codec.issue(subject=subject, token_type="access", version=user.token_version)
        refresh, claims = self._codec.issue(
            subject=subject, token_type="refresh", version=user.token_version, family=family
        )
        await token_rows.insert(
            db,
            jti=claims.jti,
            family_id=family,
            user_id=user.id,
            expires_at=claims.expires_at,
            created_at=datetime.now(UTC),
        )
        return TokenPair.model_construct(
            access_token=access,
            refresh_token=refresh,
            token_type="bearer",
            expires_in=int(self._codec.access_ttl.total_seconds()),
        )
