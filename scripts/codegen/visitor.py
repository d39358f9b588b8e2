"""Template variables for our templates, read straight from the source spec.

fastapi-code-generator's own operation objects drop operationIds, security,
form bodies and response headers, and make optional parameters nullable, so the
templates take what they need from `parser.raw_obj` (the parsed openapi.yaml).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def snake_case(name: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.strip("_").lower()


def pascal_case(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name) if part)


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def python_type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """The Python type a parsed parameter value has."""
    if "$ref" in schema:
        name: str = schema["$ref"].rsplit("/", 1)[-1]
        target = resolve(spec, schema)
        if "enum" in target:
            return name
        return python_type(spec, target)
    kind = schema.get("type")
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if kind == "boolean":
        return "bool"
    if kind == "string" and schema.get("format") == "uuid":
        return "UUID"
    if kind == "string":
        return "str"
    raise ValueError(f"parameter schema not supported by the templates: {schema}")


def schema_default(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    if "default" in schema:
        return schema["default"]
    if "$ref" in schema:
        return resolve(spec, schema).get("default")
    return None


def parameter_info(spec: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    param = resolve(spec, raw)
    schema = param["schema"]
    kind = python_type(spec, schema)
    default = schema_default(spec, schema)
    required = bool(param.get("required", False))
    target = resolve(spec, schema)
    return {
        "name": param["name"],
        "location": param["in"],
        "python_name": snake_case(param["name"]),
        "required": required,
        "python_type": kind,
        "json_type": target.get("type", "string"),
        "is_enum": "enum" in target,
        # A parameter with a default is never absent once parsed.
        "optional": not required and default is None,
        "default_repr": None if default is None else (f"{kind}({default!r})" if "enum" in target else repr(default)),
        "schema": schema,
    }


def object_schema(params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in params},
        "required": [p["name"] for p in params if p["required"]],
    }


def response_info(spec: dict[str, Any], status: str, raw: dict[str, Any]) -> dict[str, Any]:
    response = resolve(spec, raw)
    content = response.get("content", {})
    model = None
    media_type = next(iter(content), None)
    if media_type is not None:
        ref = content[media_type].get("schema", {}).get("$ref")
        model = ref.rsplit("/", 1)[-1] if ref else None
    headers = [
        {
            "name": name,
            "python_name": snake_case(name),
            "required": bool(resolve(spec, header).get("required", False)),
        }
        for name, header in response.get("headers", {}).items()
    ]
    return {"status": int(status), "model": model, "media_type": media_type, "headers": headers}


def operation_info(
    spec: dict[str, Any], path: str, method: str, operation: dict[str, Any], path_params: list[Any]
) -> dict[str, Any]:
    operation_id = operation["operationId"]
    raw_params = [*path_params, *operation.get("parameters", [])]
    params = [parameter_info(spec, p) for p in raw_params]
    security = operation.get("security", spec.get("security", []))
    requirement = security[0] if security else None
    scheme, scopes = next(iter(requirement.items())) if requirement else (None, [])

    body = None
    if "requestBody" in operation:
        request_body = resolve(spec, operation["requestBody"])
        media_type, media = next(iter(request_body["content"].items()))
        model = media["schema"]["$ref"].rsplit("/", 1)[-1]
        target = resolve(spec, media["schema"])
        body = {
            "media_type": media_type,
            "model": model,
            "fields": list(target.get("properties", {})),
            "schema": media["schema"],
        }

    # What the implementation returns: every declared response that is not a
    # problem+json error (successes, 304, and a 503 with its own body).
    results = [
        response_info(spec, status, raw)
        for status, raw in operation["responses"].items()
        if response_info(spec, status, raw)["media_type"] != "application/problem+json"
    ]
    success = min(results, key=lambda r: r["status"])
    models = sorted({r["model"] for r in results if r["model"]})
    headers: dict[str, dict[str, Any]] = {}
    for result in results:
        for header in result["headers"]:
            headers.setdefault(header["name"], dict(header, required=header["required"] and len(results) == 1))
    needs_envelope = len(results) > 1 or bool(headers)
    function_name = snake_case(operation_id)
    return {
        "operation_id": operation_id,
        "function_name": function_name,
        "class_prefix": pascal_case(operation_id),
        "method": method,
        "path": path,
        "tag": operation["tags"][0],
        "summary": operation.get("summary", ""),
        "secured": requirement is not None,
        "security_scheme": scheme,
        "scopes": list(scopes),
        "path_params": [p for p in params if p["location"] == "path"],
        "query_params": [p for p in params if p["location"] == "query"],
        "header_params": [p for p in params if p["location"] == "header"],
        "body": body,
        "success_status": success["status"],
        "result_statuses": sorted(r["status"] for r in results),
        "result_models": models,
        "result_headers": list(headers.values()),
        "needs_envelope": needs_envelope,
        "status_codes": sorted(int(s) for s in operation["responses"]),
        "request_schemas": {
            "path": object_schema([p for p in params if p["location"] == "path"]),
            "query": object_schema([p for p in params if p["location"] == "query"]),
            "header": object_schema([p for p in params if p["location"] == "header"]),
            "body": body["schema"] if body else None,
        },
    }


def visit(parser: Any, model_path: Path) -> dict[str, object]:
    spec: dict[str, Any] = parser.raw_obj
    operations: list[dict[str, Any]] = []
    path_methods: dict[str, list[str]] = {}
    for path, item in spec["paths"].items():
        path_params = item.get("parameters", [])
        methods = [m for m in HTTP_METHODS if m in item]
        path_methods[path] = [m.upper() for m in methods]
        for method in methods:
            operations.append(operation_info(spec, path, method, item[method], path_params))

    tags = [t["name"] for t in spec.get("tags", [])]
    request_schemas = {op["operation_id"]: op["request_schemas"] for op in operations}
    validation_root = {
        "$schema": SCHEMA_DIALECT,
        "components": spec.get("components", {}),
        "x-operations": request_schemas,
    }
    schemes = spec.get("components", {}).get("securitySchemes", {})
    oauth2 = [
        {
            "name": name,
            "token_url": s["flows"]["password"]["tokenUrl"],
            "refresh_url": s["flows"]["password"].get("refreshUrl"),
            "scopes": s["flows"]["password"].get("scopes", {}),
        }
        for name, s in schemes.items()
        if s.get("type") == "oauth2" and "password" in s.get("flows", {})
    ]
    return {
        "spec_operations": operations,
        "spec_tags": [{"name": tag, "module": snake_case(tag), "class_name": pascal_case(tag) + "Api"} for tag in tags],
        "spec_path_methods": path_methods,
        "spec_validation_json": json.dumps(validation_root, sort_keys=True, separators=(",", ":")),
        "spec_oauth2": oauth2,
        "spec_title": spec["info"]["title"],
        "spec_version": spec["info"]["version"],
    }
