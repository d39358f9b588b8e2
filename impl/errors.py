"""Domain errors: what a service refuses, in its own words. No web framework here.

DomainError
├── NotFound          unknown or deleted resources
├── Conflict          duplicates, the last active admin
├── Forbidden         object-level rules (who may do what)
├── InvalidInput      a value the schema allows but a rule refuses (a weak password)
├── Unauthenticated   bad credentials or tokens
├── RateLimited       too many attempts (failed logins)
├── NotConfigured     a feature whose settings are absent (the language model)
├── UpstreamFailed    a provider the API calls failed or answered something unusable
└── UpstreamTimeout   a provider the API calls did not answer in time

The HTTP layer (`impl/http/problems.py`) turns each into its problem+json answer.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Forbidden(DomainError):
    pass


class InvalidInput(DomainError):
    """`field` of the request (`location`: body or query; None: the whole of it) breaks a rule the schema
    cannot state.

    `rule` names the rule; `detail` says why in words that never repeat the value (it may be a secret).
    """

    def __init__(self, field: str | None, detail: str, *, rule: str, location: str = "body") -> None:
        super().__init__(detail)
        self.field = field
        self.rule = rule
        self.location = location


class Unauthenticated(DomainError):
    pass


class RateLimited(DomainError):
    """Too many attempts: `limit` per window were used; the window ends in `retry_after_seconds`."""

    def __init__(self, detail: str, *, limit: int, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds


class NotConfigured(DomainError):
    pass


class UpstreamFailed(DomainError):
    pass


class UpstreamTimeout(DomainError):
    pass
