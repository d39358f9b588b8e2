"""Users: list, get, partial update, soft delete, role. Admin, or the user itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from databases import Database
from databases.interfaces import Record

from generated.models import Role, RoleUpdate, User, UserPage, UserUpdate
from generated.routers.users import ListUsersQuery, UsersApi
from generated.runtime import Principal

from ..db import users as user_rows
from ..db.database import Db
from ..errors import Conflict, Forbidden, NotFound
from ..security.passwords import PasswordHasher
from .accounts import to_user
from .pagination import offset_of, page_count

USER_NOT_FOUND = "User not found."
LAST_ADMIN = "The last active admin cannot be demoted, deactivated or deleted."


def is_admin(principal: Principal) -> bool:
    return "admin" in principal.scopes


def may_see(principal: Principal, user_id: UUID) -> bool:
    """Object-level rule, the one place it lives: admins see everyone, users themselves."""
    return is_admin(principal) or principal.subject == str(user_id)


class UserService(UsersApi):
    def __init__(self, db: Db, hasher: PasswordHasher) -> None:
        self._db = db
        self._hasher = hasher

    async def list_users(self, *, principal: Principal, query: ListUsersQuery) -> UserPage:
        db = self._db.database
        total = await user_rows.count_live(db)
        rows = await user_rows.page(db, limit=query.page_size, offset=offset_of(query.page, query.page_size))
        return UserPage(
            items=[to_user(r) for r in rows],
            total=total,
            page=query.page,
            page_size=query.page_size,
            pages=page_count(total, query.page_size),
        )

    async def get_user(self, *, principal: Principal, user_id: UUID) -> User:
        if not may_see(principal, user_id):
            raise NotFound(USER_NOT_FOUND)
        return to_user(await self._live(self._db.database, user_id))

    async def update_user(self, *, principal: Principal, user_id: UUID, body: UserUpdate) -> User:
        if not may_see(principal, user_id):
            raise NotFound(USER_NOT_FOUND)
        fields = body.model_fields_set
        if "is_active" in fields and not is_admin(principal):
            raise Forbidden("Only an admin may set is_active.")
        changing_own_password = "password" in fields and principal.subject == str(user_id)
        if changing_own_password and "current_password" not in fields:
            raise Forbidden("Give current_password to change your own password.")

        current = await self._live(self._db.database, user_id)
        if changing_own_password:
            assert body.current_password is not None
            if not await self._hasher.verify(body.current_password, current["password_hash"]):
                raise Forbidden("current_password is not correct.")
        new_hash = await self._hasher.hash(body.password) if body.password is not None else None

        now = datetime.now(UTC)
        changes: dict[str, Any] = {"updated_at": now}
        ends_tokens = False
        if body.email is not None:
            changes["email"] = body.email
        if body.username is not None:
            changes["username"] = body.username
        if new_hash is not None:
            changes["password_hash"] = new_hash
            ends_tokens = True
        if body.is_active is not None:
            changes["is_active"] = body.is_active
            ends_tokens = ends_tokens or not body.is_active

        async with self._db.write() as db:
            row = await self._live(db, user_id)
            if body.email is not None and await user_rows.email_taken(db, email=body.email, except_id=user_id):
                raise Conflict("An account with this email already exists.")
            if body.username is not None and await user_rows.username_taken(
                db, username=body.username, except_id=user_id
            ):
                raise Conflict("An account with this username already exists.")
            if body.is_active is False and row["role"] == Role.admin and row["is_active"]:
                await self._ensure_other_admin(db, user_id)
            if ends_tokens:
                changes["token_version"] = row["token_version"] + 1
            await user_rows.update_live(db, user_id=user_id, values=changes)
            updated = await self._live(db, user_id)
        return to_user(updated)

    async def delete_user(self, *, principal: Principal, user_id: UUID) -> None:
        async with self._db.write() as db:
            row = await self._live(db, user_id)
            if row["role"] == Role.admin and row["is_active"]:
                await self._ensure_other_admin(db, user_id)
            now = datetime.now(UTC)
            await user_rows.update_live(
                db,
                user_id=user_id,
                values={"deleted_at": now, "updated_at": now, "token_version": row["token_version"] + 1},
            )

    async def update_user_role(self, *, principal: Principal, user_id: UUID, body: RoleUpdate) -> User:
        async with self._db.write() as db:
            row = await self._live(db, user_id)
            if row["role"] != body.role:
                if row["role"] == Role.admin and row["is_active"]:
                    await self._ensure_other_admin(db, user_id)
                await user_rows.update_live(
                    db,
                    user_id=user_id,
                    values={
                        "role": body.role.value,
                        "token_version": row["token_version"] + 1,
                        "updated_at": datetime.now(UTC),
                    },
                )
            updated = await self._live(db, user_id)
        return to_user(updated)

    async def _live(self, db: Database, user_id: UUID) -> Record:
        row = await user_rows.get_live(db, user_id=user_id)
        if row is None:
            raise NotFound(USER_NOT_FOUND)
        return row

    async def _ensure_other_admin(self, db: Database, user_id: UUID) -> None:
        if await user_rows.other_active_admins(db, user_id=user_id) == 0:
            raise Conflict(LAST_ADMIN)
