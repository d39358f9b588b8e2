"""JWT access and refresh tokens: HS256 pinned, typed, with exp/iat/sub/jti checked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    token_type: TokenType
    jti: str
    version: int
    family: str | None
    expires_at: datetime


class TokenCodec:
    def __init__(self, *, secret: str, access_ttl: timedelta, refresh_ttl: timedelta) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def issue(
        self, *, subject: str, token_type: TokenType, version: int, family: str | None = None
    ) -> tuple[str, TokenClaims]:
        now = datetime.now(UTC)
        ttl = self.access_ttl if token_type == "access" else self.refresh_ttl
        claims = TokenClaims(
            subject=subject,
            token_type=token_type,
            jti=secrets.token_urlsafe(24),
            version=version,
            family=family,
            expires_at=now + ttl,
        )
        payload: dict[str, object] = {
            "sub": subject,
            "type": token_type,
            "jti": claims.jti,
            "ver": version,
            "iat": now,
            "exp": claims.expires_at,
        }
        if family is not None:
            payload["fam"] = family
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def decode(self, token: str, *, expected: TokenType) -> TokenClaims | None:
        """The claims of a valid token of the expected type, or None."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "jti", "type"]},
            )
        except jwt.PyJWTError:
            return None
        if payload.get("type") != expected:
            return None
        version = payload.get("ver")
        family = payload.get("fam")
        if not isinstance(version, int) or not isinstance(payload["sub"], str):
            return None
        if expected == "refresh" and not isinstance(family, str):
            return None
        return TokenClaims(
            subject=payload["sub"],
            token_type=expected,
            jti=str(payload["jti"]),
            version=version,
            family=family if isinstance(family, str) else None,
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
