"""404 and 405 from the spec's own paths, before FastAPI routes anything.

Starlette would answer a wrong method with the `Allow` of one route only, send
`PUT /products/search` into `/products/{product_id}`, and add HEAD to every GET.
Here a request reaches the routers only if the spec declares its path and method;
concrete paths win over templated ones, as OpenAPI says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import problem

_SEGMENT = re.compile(r"\{[^/{}]+\}")


def _pattern(path: str) -> re.Pattern[str]:
    """`/products/{product_id}` -> a regex where each template segment is one non-empty segment."""
    literal_parts = [re.escape(part) for part in _SEGMENT.split(path)]
    return re.compile("[^/]+".join(literal_parts) + r"\Z")


class SpecRouting:
    def __init__(
        self, app: ASGIApp, *, path_methods: Mapping[str, Iterable[str]], extra_get_paths: Iterable[str]
    ) -> None:
        self.app = app
        table = {path: tuple(methods) for path, methods in path_methods.items()}
        for path in extra_get_paths:
            table[path] = ("GET",)
        # Concrete paths first: fewer templated segments sort first.
        self._routes = sorted(
            ((path, _pattern(path), methods) for path, methods in table.items()),
            key=lambda route: len(_SEGMENT.findall(route[0])),
        )

    def allowed(self, path: str) -> tuple[str, ...] | None:
        for _, pattern, methods in self._routes:
            if pattern.match(path):
                return methods
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        methods = self.allowed(scope["path"])
        if methods is None:
            response = problem(404, "not-found", "Not found", "No such path.")
        elif scope["method"] not in methods:
            response = problem(
                405,
                "method-not-allowed",
                "Method not allowed",
                f"{scope['method']} is not allowed here.",
                headers={"Allow": ", ".join(methods)},
            )
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
