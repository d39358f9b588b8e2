"""The routes the app really has are exactly the operations of openapi.yaml."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute

from contract_runtime.asgi import ContractRouter
from impl.http.docs import DOC_PATHS, SPEC_PATH
from tests.spec_responses import resolve

pytestmark = pytest.mark.anyio


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def spec_operations() -> dict[tuple[str, str], dict[str, Any]]:
    """Read from openapi.yaml directly, never through the generator this checks."""
    spec = yaml.safe_load(SPEC_PATH.read_text())
    operations: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            params = [resolve(p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
            body = None
            if "requestBody" in operation:
                content = resolve(operation["requestBody"])["content"]
                body = sorted(content)
            security = operation.get("security", spec.get("security", []))
            operations[(path, method.upper())] = {
                "operation_id": operation["operationId"],
                "path": sorted(p["name"] for p in params if p["in"] == "path"),
                "query": sorted(p["name"] for p in params if p["in"] == "query"),
                "header": sorted(p["name"] for p in params if p["in"] == "header"),
                "body": body,
                "security": [{name: sorted(scopes) for name, scopes in req.items()} for req in security],
                "statuses": sorted(int(status) for status in operation["responses"]),
            }
    return operations


def contract_router(app: FastAPI) -> ContractRouter:
    """The layer that really parses requests, found in the app's own middleware stack."""
    layer: Any = app.build_middleware_stack()
    while not isinstance(layer, ContractRouter):
        layer = layer.app
    return layer


def served_operations(router: ContractRouter) -> dict[tuple[str, str], dict[str, Any]]:
    operations: dict[tuple[str, str], dict[str, Any]] = {}
    for op in router.operations:
        operations[(op.path, op.method)] = {
            "operation_id": op.operation_id,
            "path": sorted(p.name for p in op.parameters if p.location == "path"),
            "query": sorted(p.name for p in op.parameters if p.location == "query"),
            "header": sorted(p.name for p in op.parameters if p.location == "header"),
            "body": None if not op.bodies else [body.media_type for body in op.bodies],
            "security": [{name: sorted(scopes) for name, scopes in req.schemes.items()} for req in op.security],
            "statuses": sorted(op.statuses),
        }
    return operations


async def test_the_router_serves_exactly_the_spec_operations(app: FastAPI) -> None:
    assert served_operations(contract_router(app)) == spec_operations()


async def test_framework_routes_are_only_the_documentation(app: FastAPI) -> None:
    paths = {route.path for route in app.routes if isinstance(route, APIRoute)}
    assert paths == set(DOC_PATHS)


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


async def test_documentation_works_with_no_network(client: httpx.AsyncClient) -> None:
    """Every script, stylesheet and image the pages load comes from this server."""
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        page = await client.get(path)
        assert re.findall(r"(?:src|href)=[\"'](https?:)?//", page.text) == [], path
        policy = page.headers["content-security-policy"]
        assert "http" not in policy, policy  # no other origin is admitted
        for asset in re.findall(r"(?:src|href)=[\"'](/[^\"']+)[\"']", page.text):
            loaded = await client.get(asset)
            assert loaded.status_code == 200, asset
            assert loaded.headers["content-type"].split(";")[0] in {"text/javascript", "text/css", "image/png"}
            assert len(loaded.content) > 1000, asset


async def test_the_root_leads_to_the_documentation(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/docs"


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
    assert response.headers["allow"] == "GET, HEAD, PUT, DELETE"
    assert response.headers["content-type"] == "application/problem+json"


async def test_concrete_path_wins_over_template(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/products/search", json={"name": "x"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_options_is_not_declared_so_405_and_head_comes_with_get(client: httpx.AsyncClient) -> None:
    response = await client.options("/health")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    head = await client.head("/health")
    assert head.status_code == 200
    assert head.content == b""


async def test_every_405_allow_is_the_paths_methods_with_head_after_get(client: httpx.AsyncClient) -> None:
    expected = {
        "/api/v1/products": "GET, HEAD, POST",
        "/api/v1/products/7c9e6679-7425-40de-944b-e07fc1f90ae7": "GET, HEAD, PUT, DELETE",
        "/api/v1/users/7c9e6679-7425-40de-944b-e07fc1f90ae7/role": "PUT",
        "/api/v1/auth/login": "POST",
        "/metrics": "GET, HEAD",
        "/docs": "GET, HEAD",
    }
    for path, allow in expected.items():
        response = await client.request("PATCH", path)
        assert response.status_code == 405, path
        assert response.headers["allow"] == allow, path
        assert response.headers["content-type"] == "application/problem+json"
    # HEAD is only where GET is: a path without GET refuses it like any other method.
    head = await client.head("/api/v1/auth/login")
    assert head.status_code == 405
    assert head.headers["allow"] == "POST"
    assert head.content == b""


async def test_the_spec_states_that_every_get_answers_head() -> None:
    description = yaml.safe_load(SPEC_PATH.read_text())["info"]["description"]
    assert "Every `GET` operation also answers `HEAD`" in description
