"""Who is calling: the principal an access token stands for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller an access token stands for, with the scopes it holds now."""

    subject: str
    scopes: frozenset[str] = field(default_factory=frozenset)


class Authenticator(Protocol):
    """Checks the credentials of one security scheme of the spec."""

    async def authenticate(self, token: str) -> Principal | None:
        """The principal of a valid token, or None."""
        ...
