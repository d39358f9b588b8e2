"""Every response a test receives, checked against openapi.yaml's own schemas.

The test clients call `check_response` after each answer: the status must be
declared for the operation, a declared body must match the declared media type
and validate against the spec's JSON Schema for that status (jsonschema-rs, the
validator schemathesis uses, not pydantic's reading), an undeclared body must
be empty, and every required header must be there. HEAD on a GET operation is
checked as that GET, with no content. Answers outside the spec (404 for unknown
paths, 405 for undeclared methods, the documentation routes) are checked for
what they are.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema_rs
import yaml

from impl.http.docs import DOC_PATHS, SPEC_PATH

PROBLEM_JSON = "application/problem+json"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{[^/{}]+\}")


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """`node` with its `$ref`s followed, within openapi.yaml."""
    while "$ref" in node:
        target: Any = _spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@cache
def _paths() -> list[tuple[re.Pattern[str], str]]:
    templates = sorted(_spec()["paths"], key=lambda path: len(_TEMPLATE.findall(path)))
    return [(re.compile("[^/]+".join(re.escape(p) for p in _TEMPLATE.split(t)) + r"\Z"), t) for t in templates]


def _template_of(path: str) -> str | None:
    return next((template for pattern, template in _paths() if pattern.match(path)), None)


@cache
def _validator(pointer: str) -> Any:
    # The whole document is the root, so a pointer can reach into `paths` as well as `components`.
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "paths": _spec()["paths"]}
    root["components"] = _spec()["components"]
    return jsonschema_rs.validator_for({**root, "$ref": pointer}, validate_formats=True)


def _schema_pointer(template: str, method: str, status: str, media_type: str) -> str:
    response = _spec()["paths"][template][method]["responses"][status]
    if "$ref" in response:
        base = response["$ref"]
    else:
        escaped = quote(template.replace("~", "~0").replace("/", "~1"), safe="~")  # `{` is not allowed in a URI
        base = f"#/paths/{escaped}/{method}/responses/{status}"
    return f"{base}/content/{media_type.replace('/', '~1')}/schema"


def allowed_methods(item: dict[str, Any]) -> list[str]:
    """A path's `Allow`: its declared methods, and HEAD after GET (every GET also answers HEAD)."""
    methods = [m.upper() for m in HTTP_METHODS if m in item]
    if "get" in item and "head" not in item:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return methods


def check_response(response: httpx.Response) -> None:
    method = response.request.method.lower()
    path = response.request.url.path
    status = response.status_code
    where = f"{method.upper()} {path} -> {status}"
    template = _template_of(path)
    if template is None:
        if path in DOC_PATHS:
            return
        assert status == 404, f"{where}: a path outside the spec must be 404"
        assert response.headers["content-type"] == PROBLEM_JSON, where
        return
    item = _spec()["paths"][template]
    if method == "options" and status == 204:  # a CORS preflight (the spec's description: CORS_ORIGINS)
        requested = response.request.headers["access-control-request-method"].upper()
        assert requested in allowed_methods(item), (
            f"{where}: a preflight granted for a method the spec does not declare"
        )
        assert response.headers["access-control-allow-origin"] == response.request.headers["origin"], where
        assert response.content == b"", where
        return
    head_as_get = method == "head" and "head" not in item and "get" in item
    if method not in item and not head_as_get:
        assert status == 405, f"{where}: a method the spec does not declare must be 405"
        assert response.headers["allow"] == ", ".join(allowed_methods(item)), where
        return
    responses = item["get" if head_as_get else method]["responses"]
    assert str(status) in responses, f"{where}: status not declared in openapi.yaml ({sorted(responses)})"
    declared_response = resolve(responses[str(status)])
    for name, header in declared_response.get("headers", {}).items():
        if resolve(header).get("required"):
            assert name.lower() in response.headers, f"{where}: required header {name} missing"
    content = declared_response.get("content")
    if head_as_get:  # GET's status and header fields, no content (the spec's description: HEAD)
        assert response.content == b"", f"{where}: HEAD sends no content"
        if content:
            media_type = response.headers.get("content-type", "").split(";")[0]
            assert media_type in content, f"{where}: content-type {media_type} not declared ({sorted(content)})"
        return
    if not content:
        assert response.content == b"", f"{where}: the spec declares no body"
        return
    media_type = response.headers.get("content-type", "").split(";")[0]
    assert media_type in content, f"{where}: content-type {media_type} not declared ({sorted(content)})"
    validator = _validator(_schema_pointer(template, method, str(status), media_type))
    # JSON bodies are validated as JSON; any other media type's body (a `type: string` schema) as its text.
    is_json = media_type == "application/json" or media_type.endswith("+json")
    document = json.loads(response.content) if is_json else response.content.decode("utf-8")
    errors = [e.message for e in validator.iter_errors(document)]
    assert not errors, f"{where}: the body breaks the spec's schema: {errors}"


async def check_async_response(response: httpx.Response) -> None:
    await response.aread()
    check_response(response)


def problem_schema_errors(document: Any) -> list[str]:
    """How `document` breaks the spec's Problem schema (answers given before any operation is chosen)."""
    return [error.message for error in _validator("#/components/schemas/Problem").iter_errors(document)]
