"""Whether the abuse counters' Redis may evict them, checked once before the server starts.

A lockout is a counter key in Redis. On a Redis whose `maxmemory-policy` evicts
(`allkeys-lru`, the usual cache setting, and every `volatile-*` policy: each
counter has a TTL), anyone can push lockouts out by filling memory, e.g. with
distinct cached queries, and guess passwords without limit. So the counters need
a Redis of their own with `noeviction` (LIMITS_REDIS_URL), or a shared one that
never evicts. With `noeviction` a full Redis refuses the counters' writes and
they count in process meanwhile (impl/limits/counters.py): weaker, never unlimited.

The policy is read with `CONFIG GET maxmemory-policy`, else from `INFO memory`
(managed services often disable CONFIG but answer INFO). What follows:

| the counters' Redis | production | development, test |
|---|---|---|
| `noeviction` | starts | starts |
| any other policy | refuses to start, one line | starts, one warning line |
| answers neither CONFIG GET nor INFO | refuses to start, one line (unverifiable) | starts, one warning line |
| unreachable | starts, one warning line | starts, one warning line |

An unreachable Redis does not stop the start: the counters then count in process
until it answers (as during any outage), and Redis is never a start-up
dependency. No line repeats the URL: it may hold a password.
"""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError, ResponseError

logger = logging.getLogger(__name__)

NON_EVICTING = "noeviction"
CHECK_TIMEOUT_SECONDS = 2.0
WHICH = "the rate-limit counters' Redis (LIMITS_REDIS_URL, else REDIS_URL)"
FIX = "give the counters a Redis of their own with maxmemory-policy noeviction in LIMITS_REDIS_URL"


class Unverifiable(Exception):
    """The server answers, but neither CONFIG GET nor INFO tells its policy."""


def eviction_policy(url: str, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> str:
    """The server's maxmemory-policy. Raises Unverifiable, or redis-py's connection errors."""
    client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        try:
            answer = client.config_get("maxmemory-policy")
            if isinstance(answer, dict) and answer.get("maxmemory-policy"):
                return str(answer["maxmemory-policy"])
        except ResponseError:  # an unknown (renamed, disabled) command, or an ACL's NOPERM
            pass
        try:
            memory = client.info("memory")
        except ResponseError as exc:
            raise Unverifiable("CONFIG GET and INFO are refused") from exc
        policy = memory.get("maxmemory_policy") if isinstance(memory, dict) else None
        if not policy:
            raise Unverifiable("INFO memory does not report maxmemory_policy")
        return str(policy)
    finally:
        client.close()


def check_counters_redis(url: str | None, *, production: bool, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Refuse (production: SystemExit with one line) or warn (one log line) when the counters may be evicted."""
    if not url:
        return  # in-process counters: nothing evicts them but their own bound
    try:
        policy = eviction_policy(url, timeout=timeout)
    except Unverifiable:
        problem = (
            f"{WHICH} answers neither CONFIG GET maxmemory-policy nor INFO memory, so whether it evicts "
            "lockouts cannot be checked; allow the app's Redis user INFO (or CONFIG GET) and use noeviction"
        )
    except (RedisError, OSError) as exc:  # connection refused, timed out, a wrong password
        logger.warning(
            "%s did not answer (%s): its eviction policy is unchecked; the counters count in process until it does",
            WHICH,
            type(exc).__name__,
        )
        return
    else:
        if policy == NON_EVICTING:
            return
        problem = f"{WHICH} has maxmemory-policy {policy}: filling it (e.g. with cached queries) evicts lockouts; {FIX}"
    if production:
        raise SystemExit(f"catalog-api: {problem}")
    logger.warning("%s (production refuses to start)", problem)
