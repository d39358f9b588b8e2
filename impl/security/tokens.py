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
    def __init__(self, *, secret: str, access_ttl: timedelta, refresh_ttl: timedelta, remembered: int = 4096) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        # Verified tokens by their exact text: a token is re-sent on every request, and
        # checking its signature again gives the same answer; only expiry moves.
        self._verified: dict[tuple[str, TokenType], TokenClaims] = {}
        self._remembered = remembered

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
        """The claims of a valid, unexpired token of the expected type, or None."""
        claims = self._verified.get((token, expected))
        if claims is not None:
            if claims.expires_at > datetime.now(UTC):
                return claims
            del self._verified[(token, expected)]
            return None
        claims = self._verify(token, expected=expected)
        if claims is not None:
            if len(self._verified) >= self._remembered:
                self._verified.clear()
            self._verified[(token, expected)] = claims
        return claims

    def _verify(self, token: str, *, expected: TokenType) -> TokenClaims | None:
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
        expires = payload["exp"]
        # bool is an int in Python: a `"ver": true` would pass for version 1.
        if not isinstance(version, int) or isinstance(version, bool) or not isinstance(payload["sub"], str):
            return None
        if not isinstance(expires, int) or isinstance(expires, bool):  # PyJWT also takes "123" and 1.5
            return None
        if expected == "refresh" and not isinstance(family, str):
            return None
        try:
            expires_at = datetime.fromtimestamp(expires, UTC)
        except (OverflowError, ValueError, OSError):  # e.g. exp=10**20: past any date Python knows
            return None
        return TokenClaims(
            subject=payload["sub"],
            token_type=expected,
            jti=str(payload["jti"]),
            version=version,
            family=family if isinstance(family, str) else None,
            expires_at=expires_at,
        )
