"""Failed-login limits: per account and address first, then per account from unknown addresses.

A brute force of one account from one address stops after `per_account_address`
failures in a window. Failures spread over many addresses stop at `per_account`,
but that limit never applies to an address the account has signed in from
(within `trust_seconds`): other people's failures cannot lock its owner out.
A success clears the failures of that account from that address.
"""

from __future__ import annotations

from ..errors import RateLimited
from ..limits.counters import Count, Counters

TOO_MANY_FAILURES = "Too many failed logins for this account; try again in {seconds} seconds."


class LoginThrottle:
    def __init__(
        self,
        counters: Counters,
        *,
        per_account_address: int,
        per_account: int,
        window_seconds: int,
        trust_seconds: int,
    ) -> None:
        self._counters = counters
        self._per_account_address = per_account_address
        self._per_account = per_account
        self._window = window_seconds
        self._trust = trust_seconds

    async def check(self, account: str, address: str) -> None:
        """Refuse (RateLimited) before the password is even checked when a limit is used up."""
        if self._per_account_address:
            here = await self._counters.peek(_failures(account, address))
            if here.value >= self._per_account_address:
                raise _limited(here, self._per_account_address)
        if self._per_account:
            everywhere = await self._counters.peek(_failures(account))
            if everywhere.value >= self._per_account and not await self._trusted(account, address):
                raise _limited(everywhere, self._per_account)

    async def failed(self, account: str, address: str) -> None:
        if self._per_account_address:
            await self._counters.hit(_failures(account, address), window_seconds=self._window)
        if self._per_account:
            await self._counters.hit(_failures(account), window_seconds=self._window)

    async def succeeded(self, account: str, address: str) -> None:
        await self._counters.clear(_failures(account, address))
        if self._per_account:
            await self._counters.clear(_trust(account, address))
            await self._counters.hit(_trust(account, address), window_seconds=self._trust)

    async def _trusted(self, account: str, address: str) -> bool:
        return (await self._counters.peek(_trust(account, address))).value > 0


def _failures(account: str, address: str | None = None) -> str:
    return f"login-failures:{account}" if address is None else f"login-failures:{account}:{address}"


def _trust(account: str, address: str) -> str:
    return f"login-trusted:{account}:{address}"


def _limited(count: Count, limit: int) -> RateLimited:
    return RateLimited(
        TOO_MANY_FAILURES.format(seconds=count.reset_seconds), limit=limit, retry_after_seconds=count.reset_seconds
    )
