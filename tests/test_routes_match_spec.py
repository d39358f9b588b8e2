"""The routes the app really has are exactly the operations of openapi.yaml."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase

from impl.spec import DOC_PATHS, SPEC_PATH

pytestmark = pytest.mark.anyio


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def spec_operations() -> dict[tuple[str, str], dict[str, Any]]:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    operations: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            params = [_resolve(spec, p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
            form: list[str] = []
            body = operation.get("requestBody")
            if body:
                content = _resolve(spec, body)["content"]
                if "application/x-www-form-urlencoded" in content:
                    schema = _resolve(spec, content["application/x-www-form-urlencoded"]["schema"])
                    form = sorted(schema["properties"])
            security = operation.get("security", spec.get("security", []))
            operations[(path, method.upper())] = {
                "operation_id": operation["operationId"],
                "query": sorted(p["name"] for p in params if p["in"] == "query"),
                "path": sorted(p["name"] for p in params if p["in"] == "path"),
                "form": form,
                "security": {name: sorted(scopes) for requirement in security for name, scopes in requirement.items()},
            }
    return operations


def _walk(dependant: Dependant) -> list[Dependant]:
    found = [dependant]
    for sub in dependant.dependencies:
        found.extend(_walk(sub))
    return found


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, looking inside included routers (the routers add no path prefix)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def app_operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    operations: dict[tuple[str, str], dict[str, Any]] = {}
    for route in api_routes(app.routes):
        if not isinstance(route, APIRoute) or route.path in DOC_PATHS:
            continue
        dependants = _walk(route.dependant)
        schemes = [str(getattr(d.call, "scheme_name", "")) for d in dependants if isinstance(d.call, SecurityBase)]
        scopes = sorted({s for d in dependants for s in (d.own_oauth_scopes or [])})
        for method in route.methods or set():
            operations[(route.path, method)] = {
                "operation_id": route.operation_id,
                "query": sorted(f.alias for d in dependants for f in d.query_params),
                "path": sorted(f.alias for d in dependants for f in d.path_params),
                "form": sorted(f.alias for d in dependants for f in d.body_params),
                "security": {name: scopes for name in schemes},
            }
    return operations


async def test_app_routes_are_exactly_the_spec_operations(app: FastAPI) -> None:
    assert app_operations(app) == spec_operations()


async def test_only_documentation_routes_exist_outside_the_spec(app: FastAPI) -> None:
    extra = {
        route.path
        for route in api_routes(app.routes)
        if not any((route.path, method) in spec_operations() for method in route.methods or set())
    }
    assert extra == set(DOC_PATHS)


async def test_openapi_json_is_the_parsed_yaml(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == yaml.safe_load(SPEC_PATH.read_text())


async def test_openapi_yaml_is_served_verbatim(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.text == SPEC_PATH.read_text()


async def test_docs_pages_render_the_spec(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc"):
        response = await client.get(path)
        assert response.status_code == 200
        assert "/openapi.json" in response.text


async def test_unknown_path_is_a_problem_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_trailing_slash_is_not_redirected(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/products/")
    assert response.status_code == 404


async def test_wrong_method_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/v1/products/7c9e6679-7425-40de-944b-e07fc1f90ae7")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT, DELETE"
    assert response.headers["content-type"] == "application/problem+json"


async def test_concrete_path_wins_over_template(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/products/search", json={"name": "x"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


async def test_options_and_head_are_not_declared_so_405(client: httpx.AsyncClient) -> None:
    for method in ("OPTIONS", "HEAD"):
        response = await client.request(method, "/health")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET"
