"""Operations bound to the methods that implement them; a missing one stops the app.

A class that subclasses a generated Protocol inherits its `...` bodies, which
would answer an empty 200: such a method counts as missing, like an absent one.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .operations import Contract, Operation
from .principal import Authenticator

SUPPORTED_SCHEMES = ("oauth2", "http bearer")


class MissingImplementation(RuntimeError):
    """Operations of the spec that nothing implements."""


class UnsupportedSecurity(RuntimeError):
    """A security scheme the runtime cannot check, or one without an authenticator."""


@dataclass(frozen=True, slots=True)
class BoundOperation:
    operation: Operation
    handler: Callable[..., Awaitable[Any]]


def _implementation_of(implementations: object, operation: Operation) -> Callable[..., Awaitable[Any]] | None:
    implementation = getattr(implementations, operation.tag, None)
    if implementation is None:
        return None
    method = getattr(type(implementation), operation.function_name, None)
    stub = getattr(operation.interface, operation.function_name, None)
    if method is None or method is stub or not inspect.iscoroutinefunction(method):
        return None
    bound: Callable[..., Awaitable[Any]] = getattr(implementation, operation.function_name)
    return bound


def _check_security(contract: Contract, authenticators: Mapping[str, Authenticator]) -> None:
    used = {name for op in contract.operations for req in op.security for name in req.schemes}
    for name in sorted(used):
        scheme = contract.security_schemes[name]
        kind = scheme.type if scheme.type != "http" else f"http {(scheme.http_scheme or '').lower()}"
        if kind not in SUPPORTED_SCHEMES:
            raise UnsupportedSecurity(f"security scheme {name} ({kind}) is not supported: bearer tokens only")
        if name not in authenticators:
            raise UnsupportedSecurity(f"security scheme {name} has no authenticator")


def bind(
    contract: Contract, implementations: object, authenticators: Mapping[str, Authenticator]
) -> tuple[BoundOperation, ...]:
    """Every operation with its implementation; raises naming every operation that has none."""
    _check_security(contract, authenticators)
    bound: list[BoundOperation] = []
    missing: list[str] = []
    for operation in contract.operations:
        handler = _implementation_of(implementations, operation)
        if handler is None:
            owner = type(getattr(implementations, operation.tag, None)).__name__
            missing.append(
                f"{operation.operation_id} ({operation.method} {operation.path}, {owner}.{operation.function_name})"
            )
        else:
            bound.append(BoundOperation(operation, handler))
    if missing:
        raise MissingImplementation("operations without an implementation: " + "; ".join(missing))
    return tuple(bound)
