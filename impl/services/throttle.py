"""Failed-login limits: per account and address first, then per account from unknown addresses.

A brute force of one account from one address stops after `per_account_address`
failures in a window. Failures spread over many addresses stop at `per_account`,
but that limit never applies to an address the account has signed in from
(within `trust_seconds`): other people's failures cannot lock its owner out.
A success clears the failures of that account from that address.

Every check of an account's password goes through `attempt`: the logins and the
`current_password` of a change to the account alike. The attempt is counted as a
failure before the password is checked (an atomic hit, refused when it passes the
limit), so however many arrive at once, at most the limit are ever checked. The
count is taken back when the attempt is refused, when the check could not finish
(no hashing slot: the caller gets a 503, not a failure), and, for the per-account
count, when the password was right.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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

    async def attempt(self, account: str, address: str, check: Callable[[], Awaitable[bool]]) -> bool:
        """Whether `check` (a password verification for `account`) passed; RateLimited before it runs.

        `check` is not run at all when this attempt would pass a limit. An exception from it
        (every hashing slot busy) takes the attempt back and propagates; a cancellation does
        not, since the verification it started still runs.
        """
        counted = await self._count(account, address)
        try:
            passed = await check()
        except Exception:
            await self._take_back(counted)
            raise
        if passed:
            await self._succeeded(account, address)
        return passed

    async def _count(self, account: str, address: str) -> list[str]:
        counted: list[str] = []
        try:
            if self._per_account_address:
                here = await self._hit(_failures(account, address), counted)
                if here.value > self._per_account_address:
                    raise _limited(here, self._per_account_address)
            if self._per_account:
                everywhere = await self._hit(_failures(account), counted)
                if everywhere.value > self._per_account and not await self._trusted(account, address):
                    raise _limited(everywhere, self._per_account)
        except RateLimited:
            # A refused attempt checked nothing: the counts stay at the failures checked (or being checked).
            await self._take_back(counted)
            raise
        return counted

    async def _hit(self, key: str, counted: list[str]) -> Count:
        count = await self._counters.hit(key, window_seconds=self._window)
        counted.append(key)
        return count

    async def _take_back(self, counted: list[str]) -> None:
        for key in counted:
            await self._counters.undo(key)

    async def _succeeded(self, account: str, address: str) -> None:
        await self._counters.clear(_failures(account, address))
        if self._per_account:
            await self._counters.undo(_failures(account))
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
