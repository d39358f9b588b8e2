"""Accounts: the user record as the API shows it, and the rules shared by auth and users."""

from __future__ import annotations

from dataclasses import dataclass

from contract_runtime.principal import Principal
from generated.models import Role, User

from ..db.users import UserRecord

ADMIN_SCOPES = frozenset({"admin"})


@dataclass(frozen=True, slots=True)
class AccountPrincipal(Principal):
    """A principal with the account row read to authenticate it (this request only)."""

    account: UserRecord | None = None


def to_user(record: UserRecord) -> User:
    return User.model_construct(
        id=record.id,
        email=record.email,
        username=record.username,
        role=Role(record.role),
        is_active=record.is_active,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def scopes_for(role: str) -> frozenset[str]:
    return ADMIN_SCOPES if role == Role.admin else frozenset()
