"""Opaque page cursors: the sort keys of the last row a page showed, bound to the query that made it.

    token = encode(fingerprint, keys)      # after a page: the last row's (sort key..., id)
    keys = decode(token, fingerprint)      # the next request; InvalidCursor when it is not ours

A token is base64url (no padding) of a version byte, a 12-byte check and a JSON
body: `{"q": <digest of the query's fingerprint>, "k": [[tag, value], ...]}`,
each key tagged with its type (`i` int, `s` str, `t` datetime, `u` UUID) so it
comes back as the type it left. The check is a SHA-256 over the body: a token
cut short, edited or made up fails it. The digest of the fingerprint (the
query's sort, order, filters or `q`) tells a cursor of another query from a
damaged one. The check is not a secret (no key): a client that rebuilds a token
by hand can only choose where a page of its own query starts, which any
cursor of that query does too; the values are bound as typed parameters.
Clients are told the token is opaque, so its layout may change with the version
byte.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

VERSION = 1
CHECK_BYTES = 12
_DOMAIN = b"catalog-api page cursor\x00"

KeyValue = int | str | datetime | UUID
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class InvalidCursor(ValueError):
    """A token this API did not issue for this query; the message says which, without repeating it."""


def encode(fingerprint: str, keys: Sequence[KeyValue]) -> str:
    body = json.dumps(
        {"q": _digest(fingerprint), "k": [_tagged(value) for value in keys]},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    raw = bytes([VERSION]) + _check(body) + body
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token: str, fingerprint: str) -> tuple[KeyValue, ...]:
    """The keys `token` carries, when it was issued for a query of this `fingerprint`."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursor("The cursor is not one this API issued (not base64url).") from None
    if len(raw) <= 1 + CHECK_BYTES or raw[0] != VERSION:
        raise InvalidCursor("The cursor is not one this API issued.")
    check, body = raw[1 : 1 + CHECK_BYTES], raw[1 + CHECK_BYTES :]
    if check != _check(body):
        raise InvalidCursor("The cursor is damaged or was not issued by this API.")
    try:
        document = json.loads(body)
    except ValueError:
        raise InvalidCursor("The cursor is not one this API issued.") from None
    if not isinstance(document, dict) or document.get("q") != _digest(fingerprint):
        raise InvalidCursor(
            "The cursor belongs to another query: send it with the same filters, q, sort_by and sort_order."
        )
    items = document.get("k")
    if not isinstance(items, list) or not items:
        raise InvalidCursor("The cursor is not one this API issued.")
    return tuple(_untagged(item) for item in items)


def _digest(fingerprint: str) -> str:
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def _check(body: bytes) -> bytes:
    return hashlib.sha256(_DOMAIN + body).digest()[:CHECK_BYTES]


def _tagged(value: KeyValue) -> list[Any]:
    # bool is an int to Python; no sort key is one, so it is refused rather than carried as 0 or 1.
    if isinstance(value, bool):
        raise TypeError("a cursor key is never a bool")
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("a cursor's datetime keys are timezone-aware")
        return ["t", value.isoformat()]
    if isinstance(value, UUID):
        return ["u", value.hex]
    raise TypeError(f"a cursor cannot carry a {type(value).__name__}")


def _untagged(item: object) -> KeyValue:
    if not isinstance(item, list) or len(item) != 2:
        raise InvalidCursor("The cursor is not one this API issued.")
    tag, value = item
    # A token rebuilt by hand passes the check: its values must still be ones a database takes as
    # parameters (a 64-bit integer, text without NUL, a moment that exists in UTC), never a 500.
    try:
        if tag == "i" and isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX:
            return value
        if tag == "s" and isinstance(value, str) and "\x00" not in value:
            return value
        if tag == "t" and isinstance(value, str):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
        if tag == "u" and isinstance(value, str):
            return UUID(hex=value)
    except (ValueError, OverflowError):
        pass
    raise InvalidCursor("The cursor is not one this API issued.")
