"""Text on the wire: a request's strings are Unicode scalar values, or the request is refused.

JSON Schema's strings, the database's text columns, password hashing and the
JSON the server writes all take Unicode scalar values only. Two ways to send
something else reach the runtime:

- a JSON escape of a lone surrogate (`"\\ud800"`), which Python's `json`
  decodes into a `str` that cannot be encoded again (so every later
  `.encode()` would fail, far from the request);
- percent-encoded (or raw) bytes in a path segment, query, form field or
  header parameter that are not UTF-8: the UTF-8 form of a surrogate
  (`%ED%A0%80`), a stray `%FF`. The usual decoders replace these with U+FFFD,
  which silently changes the value; here they are kept apart as `NOT_TEXT`.

Either is a 422 naming the field (`not_text_issue`), checked before the
schema judges anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from .problems import FieldIssue

_SURROGATE = re.compile(r"[\ud800-\udfff]")
NOT_TEXT_MESSAGE = "The value is not text: it holds a lone surrogate or bytes that are not UTF-8."


class NotText:
    """A parameter or form value whose bytes are not UTF-8 text."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_TEXT"


NOT_TEXT: Final = NotText()


def decode_component(raw: bytes, *, plus_is_space: bool = False) -> str | NotText:
    """A percent-encoded URL component (a path segment, a query or form name or value) as text."""
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT


def decode_header(raw: bytes) -> str | NotText:
    """A header parameter's value: its bytes as UTF-8 (HTTP leaves the encoding open; the spec's strings are text)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT


def decode_pairs(raw: bytes) -> dict[str, str | NotText]:
    """`application/x-www-form-urlencoded` pairs (a query string or a form body); a repeated name: the last wins.

    A name that is not text is kept with its bytes written as `\\xNN` escapes, with NOT_TEXT as its value.
    """
    pairs: dict[str, str | NotText] = {}
    for piece in raw.split(b"&"):
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition(b"=")
        name = decode_component(raw_name, plus_is_space=True)
        if isinstance(name, NotText):
            pairs[unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8", "backslashreplace")] = NOT_TEXT
            continue
        pairs[name] = decode_component(raw_value, plus_is_space=True)
    return pairs


def has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def printable(text: str) -> str:
    """`text` with anything that is not a scalar value written as a backslash escape (safe to put in JSON)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def surrogate_locations(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where a decoded JSON document holds a string with a lone surrogate, as a key or as a value."""
    if isinstance(value, str):
        if has_surrogate(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if has_surrogate(key):
                yield (*loc, printable(key))
            else:
                yield from surrogate_locations(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from surrogate_locations(item, (*loc, index))


def not_text_issue(loc: tuple[str | int, ...]) -> FieldIssue:
    return FieldIssue(loc, NOT_TEXT_MESSAGE, "not_text")


def json_value(raw: bytes | str) -> Any:
    """A JSON document as Python values; ValueError for what is not JSON (NaN and Infinity included,
    which Python's parser takes), RecursionError for nesting deeper than it can follow."""
    return json.loads(raw, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
