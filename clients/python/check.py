"""Uses a Python SDK that openapi-python-client generated from openapi.yaml (scripts/check-clients).

The README's request bodies are built with the SDK's models and must serialize to
exactly what the README sends; every example in the spec must parse into the
model of its schema and serialize back to itself.

    python clients/python/check.py SDK_PARENT_DIR openapi.yaml
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

README_BODIES: dict[str, dict[str, Any]] = {
    "UserRegister": {"email": "user@example.com", "username": "user1", "password": "SecurePass123"},
    "LoginJson": {"username": "user1", "password": "SecurePass123"},
    "ProductCreate": {"name": "New Product", "price": 29.99, "sku": "SKU-001", "category": "Electronics"},
    "ProductUpdate": {"price": 24.99, "stock": 5},
}


_UTC_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.]+Z$")


def normalized(value: Any) -> Any:
    """`Z` and `+00:00` are one instant; the SDK writes the second."""
    if isinstance(value, dict):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    if isinstance(value, str) and _UTC_TIMESTAMP.match(value):
        return value[:-1] + "+00:00"
    return value


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def model(package: str, schema: str) -> Any:
    return getattr(importlib.import_module(f"{package}.models.{snake(schema)}"), schema)


def examples(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(schema name, example) for every JSON response example that names its schema by $ref."""
    found: list[tuple[str, dict[str, Any]]] = []
    named = spec["components"]["examples"]
    responses = [
        response
        for path in spec["paths"].values()
        for op in path.values()
        if isinstance(op, dict)
        for response in op.get("responses", {}).values()
    ]
    responses += list(spec["components"]["responses"].values())
    for response in responses:
        for media in response.get("content", {}).values():
            ref = media.get("schema", {}).get("$ref", "")
            if not ref.startswith("#/components/schemas/"):
                continue
            schema = ref.rsplit("/", 1)[1]
            if "example" in media:
                found.append((schema, media["example"]))
            for example in media.get("examples", {}).values():
                value = named[example["$ref"].rsplit("/", 1)[1]]["value"] if "$ref" in example else example["value"]
                found.append((schema, value))
    return found


def main(sdk_parent: str, spec_path: str) -> int:
    sys.path.insert(0, sdk_parent)
    spec = yaml.safe_load(Path(spec_path).read_text())
    failures = []
    for schema, body in README_BODIES.items():
        built = model("sdk", schema)(**body).to_dict()
        if built != body:
            failures.append(f"README {schema}: the SDK sends {json.dumps(built)}, the README {json.dumps(body)}")
    checked = examples(spec)
    for schema, example in checked:
        parsed = model("sdk", schema).from_dict(example)
        if parsed.to_dict() != normalized(example):
            failures.append(f"example of {schema}: parses to {json.dumps(parsed.to_dict())}")
    for failure in failures:
        print(failure, file=sys.stderr, flush=True)
    print(f"python sdk: {len(README_BODIES)} README bodies, {len(checked)} spec examples, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
