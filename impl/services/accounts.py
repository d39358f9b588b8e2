"""Accounts: the user record as the API shows it, and the rules shared by auth and users."""

from __future__ import annotations

from databases.interfaces import Record

from generated.models import Role, User

ADMIN_SCOPES = frozenset({"admin"})


def to_user(row: Record) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        username=row["username"],
        role=Role(row["role"]),
        is_active=row["is_active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def scopes_for(role: str) -> frozenset[str]:
    return ADMIN_SCOPES if role == Role.admin else frozenset()
