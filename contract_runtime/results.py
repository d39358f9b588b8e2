"""What an implementation returns: one generated dataclass per declared status.

Each generated response class subclasses `Result` and states, as class
variables, its status, its media type and which of its fields are headers, so
the HTTP layer can write any of them without knowing the operation.

A body is a pydantic model (or `RawJson`), serialized as JSON; or, for a media
type that is not JSON with a `type: string` schema, a `RawBody`: `bytes` written
as they are, or an async iterator of byte chunks streamed as it yields them
(without Content-Length), with Content-Type the declared media type plus the
result's `media_type_parameters` (`version=0.0.4; charset=utf-8`) when it has any.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar, Generic, TypeAlias, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)
# A body that is not JSON: all of it at once, or chunks as they are made (a stream of any length).
RawBody: TypeAlias = bytes | AsyncIterator[bytes]


class RawJson(Generic[ModelT]):
    """A body already serialized as `ModelT` (for example, bytes from the cache): sent as is."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"RawJson({self.data[:40]!r}...)"


class Result:
    """The base of every generated per-status response."""

    __slots__ = ()

    STATUS: ClassVar[int]
    MEDIA_TYPE: ClassVar[str | None] = None
    # (field name, header name) for every header the status declares.
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = ()
