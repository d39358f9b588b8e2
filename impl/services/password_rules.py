"""The one place a new password is judged: registration and password changes (the admin's at start-up is settings')."""

from __future__ import annotations

from ..errors import InvalidInput
from ..security.password_policy import account_words
from ..security.passwords import PasswordHasher, Requester

POLICY_RULE = "password-policy"


async def ensure_acceptable(
    hasher: PasswordHasher, password: str, *, username: str, email: str, requester: Requester
) -> None:
    """Refuse (422) a password that is whitespace, common or easy to guess for this account."""
    words = account_words(username=username, email=email)
    reason = await hasher.refusal(password, requester=requester, user_inputs=words)
    if reason is not None:
        raise InvalidInput("password", f"The password {reason}.", rule=POLICY_RULE)
