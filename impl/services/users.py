"""Users: list, get, partial update, soft delete, role. Admin, or the user itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from contract_runtime.principal import Principal
from generated.interfaces.users import (
    DeleteUser204Response,
    GetUser200Response,
    ListUsers200Response,
    ListUsersQuery,
    UpdateUser200Response,
    UpdateUserRole200Response,
)
from generated.models import Role, RoleUpdate, UserPage, UserUpdate

from ..db import users as user_rows
from ..db.database import Db, Session
from ..db.users import UserRecord
from ..errors import Conflict, Forbidden, NotFound
from ..request_context import client_address
from ..security.passwords import PasswordHasher, Requester
from .account_cache import AccountCache
from .accounts import to_user
from .pagination import Paging, offset_of, page_count, page_links
from .password_rules import ensure_acceptable
from .throttle import LoginThrottle

USER_NOT_FOUND = "User not found."
USERS_PATH = "/api/v1/users"
LAST_ADMIN = "The last active admin cannot be demoted, deactivated or deleted."


def is_admin(principal: Principal) -> bool:
    return "admin" in principal.scopes


def may_see(principal: Principal, user_id: UUID) -> bool:
    """Object-level rule, the one place it lives: admins see everyone, users themselves."""
    return is_admin(principal) or principal.subject == str(user_id)


def is_active_admin(record: UserRecord) -> bool:
    return record.role == Role.admin and record.is_active


class UserService:
    """Implements `generated.interfaces.users.UsersApi`."""

    def __init__(self, db: Db, hasher: PasswordHasher, accounts: AccountCache, throttle: LoginThrottle) -> None:
        self._db = db
        self._hasher = hasher
        self._accounts = accounts  # every committed change below invalidates it before answering
        self._throttle = throttle  # a wrong current_password is a failed login (see LoginThrottle)

    async def list_users(self, *, principal: Principal, query: ListUsersQuery) -> ListUsers200Response:
        db = self._db.database
        total = await user_rows.count_live(db)
        records = await user_rows.page(db, limit=query.page_size, offset=offset_of(query.page, query.page_size))
        pages = page_count(total, query.page_size)
        page = UserPage.model_construct(
            items=[to_user(r) for r in records],
            total=total,
            page=query.page,
            page_size=query.page_size,
            pages=pages,
        )
        link = page_links(USERS_PATH, query, Paging(last=pages, has_next=query.page < pages))
        return ListUsers200Response(body=page, link=link)

    async def get_user(self, *, principal: Principal, user_id: UUID) -> GetUser200Response:
        if not may_see(principal, user_id):
            raise NotFound(USER_NOT_FOUND)
        return GetUser200Response(body=to_user(await self._live(self._db.database, user_id)))

    async def update_user(self, *, principal: Principal, user_id: UUID, body: UserUpdate) -> UpdateUser200Response:
        if not may_see(principal, user_id):
            raise NotFound(USER_NOT_FOUND)
        fields = body.model_fields_set
        if "is_active" in fields and not is_admin(principal):
            raise Forbidden("Only an admin may set is_active.")
        # A stolen session must not be enough to take the account: own password or email needs the password.
        changing_own_credentials = principal.subject == str(user_id) and bool(fields & {"password", "email"})
        address = client_address.get()
        requester = Requester(account=str(user_id), address=address)
        current: UserRecord | None = None
        if changing_own_credentials:
            if body.current_password is None:
                raise Forbidden("Give current_password to change your own password or email.")
            # Checked before the transaction: hashing is slow and must not hold the write lock.
            current = await self._live(self._db.database, user_id)
            given, known = body.current_password, current.password_hash
            # Same account key as a login's: guesses here and at /auth/login share one limit.
            if not await self._throttle.attempt(
                str(user_id), address, lambda: self._hasher.verify(given, known, requester=requester)
            ):
                raise Forbidden("current_password is not correct.")
        if body.password is not None:
            # Judged against the account's words as they will be after this change.
            current = current or await self._live(self._db.database, user_id)
            username, email = body.username or current.username, body.email or current.email
            await ensure_acceptable(self._hasher, body.password, username=username, email=email, requester=requester)

        changes: dict[str, Any] = {"updated_at": datetime.now(UTC)}
        if body.email is not None:
            changes["email"] = body.email
        if body.username is not None:
            changes["username"] = body.username
        if body.password is not None:
            changes["password_hash"] = await self._hasher.hash(body.password, requester=requester)
        if body.is_active is not None:
            changes["is_active"] = body.is_active
        ends_tokens = body.password is not None or body.is_active is False

        async with self._db.write() as db:
            if body.is_active is False:  # may deactivate an admin: the admins' locks first (lock_active_admins)
                await user_rows.lock_active_admins(db)
            row = await self._live(db, user_id, for_update=True)
            if body.email is not None and await user_rows.email_taken(db, email=body.email, except_id=user_id):
                raise Conflict("An account with this email already exists.")
            if body.username is not None and await user_rows.username_taken(
                db, username=body.username, except_id=user_id
            ):
                raise Conflict("An account with this username already exists.")
            if body.is_active is False and is_active_admin(row):
                await self._ensure_other_admin(db, user_id)
            updated = await user_rows.update_live(db, user_id=user_id, values=changes, end_tokens=ends_tokens)
        self._accounts.invalidate()
        if updated is None:  # unreachable while the row is locked; kept so a change of locking cannot 500
            raise NotFound(USER_NOT_FOUND)
        return UpdateUser200Response(body=to_user(updated))

    async def delete_user(self, *, principal: Principal, user_id: UUID) -> DeleteUser204Response:
        async with self._db.write() as db:
            await user_rows.lock_active_admins(db)  # before the target's: one lock order for every such change
            row = await self._live(db, user_id, for_update=True)
            if is_active_admin(row):
                await self._ensure_other_admin(db, user_id)
            now = datetime.now(UTC)
            await user_rows.update_live(
                db, user_id=user_id, values={"deleted_at": now, "updated_at": now}, end_tokens=True
            )
        self._accounts.invalidate()
        return DeleteUser204Response()

    async def update_user_role(
        self, *, principal: Principal, user_id: UUID, body: RoleUpdate
    ) -> UpdateUserRole200Response:
        async with self._db.write() as db:
            await user_rows.lock_active_admins(db)  # before the target's: one lock order for every such change
            row = await self._live(db, user_id, for_update=True)
            if row.role == body.role:
                return UpdateUserRole200Response(body=to_user(row))
            if is_active_admin(row):
                await self._ensure_other_admin(db, user_id)
            values = {"role": body.role.value, "updated_at": datetime.now(UTC)}
            updated = await user_rows.update_live(db, user_id=user_id, values=values, end_tokens=True)
        self._accounts.invalidate()
        if updated is None:  # unreachable while the row is locked; kept so a change of locking cannot 500
            raise NotFound(USER_NOT_FOUND)
        return UpdateUserRole200Response(body=to_user(updated))

    async def _live(self, db: Session, user_id: UUID, *, for_update: bool = False) -> UserRecord:
        record = await user_rows.get_live(db, user_id=user_id, for_update=for_update)
        if record is None:
            raise NotFound(USER_NOT_FOUND)
        return record

    async def _ensure_other_admin(self, db: Session, user_id: UUID) -> None:
        if await user_rows.other_active_admins(db, user_id=user_id) == 0:
            raise Conflict(LAST_ADMIN)
