"""Template variables for our templates, read straight from the source spec.

fastapi-code-generator's own operation objects drop operationIds, security,
form bodies and response headers, and make optional parameters nullable, so the
templates take what they need from `parser.raw_obj` (the parsed openapi.yaml).
Everything here is spec data; the runtime that acts on it is `contract_runtime`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
PROBLEM_JSON = "application/problem+json"
CONVERTERS = {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}


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


def ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def is_streamed(spec: dict[str, Any], media_type: str, schema: dict[str, Any]) -> bool:
    """A request body the implementation reads as a stream of bytes: not JSON, not a form, a string schema."""
    if is_json(media_type) or media_type == "application/x-www-form-urlencoded":
        return False
    return resolve(spec, schema).get("type") == "string"


def python_type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """The Python type a parsed parameter value has."""
    name = ref_name(schema)
    if name is not None:
        target = resolve(spec, schema)
        return name if "enum" in target else python_type(spec, target)
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "uuid":
        return "UUID"
    if kind in CONVERTERS:
        return CONVERTERS[kind]
    raise ValueError(f"parameter schema not supported by the templates: {schema}")


def parameter_info(spec: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    param = resolve(spec, raw)
    schema = param["schema"]
    target = resolve(spec, schema)
    kind = python_type(spec, schema)
    default = target.get("default", schema.get("default"))
    required = bool(param.get("required", False))
    return {
        "name": param["name"],
        "location": param["in"],
        "python_name": snake_case(param["name"]),
        "required": required,
        "python_type": kind,
        "json_type": target.get("type", "string"),
        # A parameter with a default is never absent once parsed.
        "optional": not required and default is None,
        "default_repr": None if default is None else (f"{kind}({default!r})" if "enum" in target else repr(default)),
        "schema": schema,
    }


def header_type(spec: dict[str, Any], header: dict[str, Any]) -> tuple[str, str | None]:
    """(annotation, default) of a response header field."""
    schema = resolve(spec, resolve(spec, header).get("schema", {}))
    if "const" in schema:
        return f"Literal[{schema['const']!r}]", repr(schema["const"])
    if "enum" in schema:
        return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]", None
    return "str", None


def response_info(spec: dict[str, Any], class_prefix: str, status: str, raw: dict[str, Any]) -> dict[str, Any]:
    response = resolve(spec, raw)
    content = response.get("content", {})
    media_type = next(iter(content), None)
    schema = content[media_type].get("schema", {}) if media_type else {}
    model = ref_name(schema)
    # A body that is not JSON and whose schema is a string (text/plain metrics, say): bytes, sent as they are.
    raw_body = media_type is not None and not is_json(media_type) and resolve(spec, schema).get("type") == "string"
    if media_type is not None and model is None and not raw_body:
        raise ValueError(f"response body not supported by the templates ({class_prefix} {status}): {media_type}")
    headers = []
    for name, header in response.get("headers", {}).items():
        annotation, default = header_type(spec, header)
        required = bool(resolve(spec, header).get("required", False))
        if not required:
            annotation, default = f"{annotation} | None", "None"
        headers.append({"name": name, "python_name": snake_case(name), "annotation": annotation, "default": default})
    return {
        "status": int(status),
        "class_name": f"{class_prefix}{status}Response",
        "description": " ".join(str(response.get("description", "")).split()),
        "media_type": media_type,
        "model": model,
        "raw_body": raw_body,
        "headers": sorted(headers, key=lambda h: h["default"] is not None),
    }


def security_info(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    requirements = operation.get("security", spec.get("security", []))
    return {
        "requirements": [{name: list(scopes) for name, scopes in req.items()} for req in requirements],
        "secured": any(requirements),
        "principal_optional": any(not req for req in requirements),
    }


def operation_info(
    spec: dict[str, Any], path: str, method: str, operation: dict[str, Any], path_params: list[Any]
) -> dict[str, Any]:
    operation_id = operation["operationId"]
    class_prefix = pascal_case(operation_id)
    params = [parameter_info(spec, p) for p in [*path_params, *operation.get("parameters", [])]]
    by_location = {where: [p for p in params if p["location"] == where] for where in ("path", "query", "header")}

    # One entry per media type the operation takes (an OAuth2 endpoint may take JSON and a form).
    bodies = []
    for media_type, media in resolve(spec, operation.get("requestBody", {"content": {}}))["content"].items():
        properties = resolve(spec, media["schema"]).get("properties", {})
        # Not JSON, not a form, and a string schema (NDJSON, say): handed over as a stream, read as it arrives.
        streamed = is_streamed(spec, media_type, media["schema"])
        bodies.append(
            {
                "media_type": media_type,
                "model": None if streamed else ref_name(media["schema"]),
                "streamed": streamed,
                "schema": media["schema"],
                # writeOnly fields (passwords, refresh tokens) are never echoed in a 422.
                "secret_fields": sorted(
                    name for name, prop in properties.items() if resolve(spec, prop).get("writeOnly")
                ),
            }
        )

    # Every declared status that is not a problem gets a result type of its own;
    # problems are raised by the implementation and written by the HTTP layer.
    results = [
        response_info(spec, class_prefix, status, raw)
        for status, raw in operation["responses"].items()
        if resolve(spec, raw).get("content", {}).keys() != {PROBLEM_JSON}
    ]
    parameters_schema = {
        "type": "object",
        "properties": {
            where: {
                "type": "object",
                "properties": {p["name"]: p["schema"] for p in found},
                "required": [p["name"] for p in found if p["required"]],
            }
            for where, found in by_location.items()
        },
    }
    return {
        "operation_id": operation_id,
        "function_name": snake_case(operation_id),
        "class_prefix": class_prefix,
        "method": method.upper(),
        "path": path,
        "tag": operation["tags"][0],
        "tag_module": snake_case(operation["tags"][0]),
        "summary": operation.get("summary", ""),
        **security_info(spec, operation),
        "parameters": params,
        "path_params": by_location["path"],
        "query_params": by_location["query"],
        "header_params": by_location["header"],
        "bodies": bodies,
        "body_annotation": " | ".join(dict.fromkeys(b["model"] or "RequestStream" for b in bodies)),
        "streams_body": any(b["streamed"] for b in bodies),
        "results": results,
        "statuses": sorted(int(s) for s in operation["responses"]),
        "validation": {
            "parameters": parameters_schema,
            "bodies": {b["media_type"]: b["schema"] for b in bodies if not b["streamed"]},
        },
    }


def models_used(operations: list[dict[str, Any]]) -> list[str]:
    names: set[str] = set()
    for op in operations:
        names.update(r["model"] for r in op["results"] if r["model"])
        names.update(b["model"] for b in op["bodies"] if b["model"])
        names.update(
            p["python_type"] for p in op["parameters"] if p["python_type"] not in {*CONVERTERS.values(), "UUID"}
        )
    return sorted(names)


def visit(parser: Any, model_path: Path) -> dict[str, object]:
    spec: dict[str, Any] = parser.raw_obj
    operations: list[dict[str, Any]] = []
    for path, item in spec["paths"].items():
        for method in (m for m in HTTP_METHODS if m in item):
            operations.append(operation_info(spec, path, method, item[method], item.get("parameters", [])))

    tags = []
    for tag in (t["name"] for t in spec.get("tags", [])):
        tag_ops = [op for op in operations if op["tag"] == tag]
        tags.append(
            {
                "name": tag,
                "module": snake_case(tag),
                "class_name": pascal_case(tag) + "Api",
                "models": models_used(tag_ops),
                "uses_uuid": any(p["python_type"] == "UUID" for op in tag_ops for p in op["parameters"]),
                "uses_literal": any(
                    h["annotation"].startswith("Literal") for op in tag_ops for r in op["results"] for h in r["headers"]
                ),
                "uses_principal": any(op["secured"] for op in tag_ops),
                "uses_request_stream": any(op["streams_body"] for op in tag_ops),
                "uses_raw_body": any(r["raw_body"] for op in tag_ops for r in op["results"]),
            }
        )
    validation_root = {
        "$schema": SCHEMA_DIALECT,
        "components": spec.get("components", {}),
        "x-operations": {op["operation_id"]: op["validation"] for op in operations},
    }
    schemes = spec.get("components", {}).get("securitySchemes", {})
    return {
        "spec_operations": operations,
        "spec_tags": tags,
        "spec_validation_json": json.dumps(validation_root, sort_keys=True, separators=(",", ":")),
        "spec_security_schemes": [
            {"name": name, "type": s["type"], "http_scheme": s.get("scheme")} for name, s in schemes.items()
        ],
        "spec_title": spec["info"]["title"],
        "spec_version": spec["info"]["version"],
    }
