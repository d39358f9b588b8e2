"""Assertions and small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from contract_runtime.operations import Operation

PROBLEM_JSON = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns the body without its `request_id`
    (checked against `X-Request-ID`), so two answers compare by what they say."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:catalog-api:problem:")
    for field in ("title", "detail"):
        assert isinstance(body[field], str)
        assert body[field]
    assert body.pop("request_id") == response.headers["x-request-id"]
    return body


def make_operation(
    operation_id: str, function_name: str, method: str, path: str, interface: type, **extra: Any
) -> Operation:
    """An operation of a small test contract: no parameters, body or security unless given."""
    values: dict[str, Any] = {
        "operation_id": operation_id,
        "tag": "things",
        "interface": interface,
        "method": method,
        "path": path,
        "function_name": function_name,
        "parameters": (),
        "query_type": None,
        "bodies": (),
        "security": (),
        "statuses": frozenset({200}),
    }
    values.update(extra)
    return Operation(**values)


def link_targets(response: httpx.Response) -> dict[str, str]:
    """rel -> target of the RFC 8288 Link header."""
    found: dict[str, str] = {}
    for part in response.headers["link"].split(", "):
        target, rel = part.split("; ")
        found[rel.removeprefix('rel="').removesuffix('"')] = target.strip("<>")
    return found


def empty_page(page_size: int = 10) -> dict[str, Any]:
    """The body of a list or search that matches nothing."""
    return {
        "items": [],
        "total": 0,
        "total_exact": True,
        "page": 1,
        "page_size": page_size,
        "pages": 0,
        "next_cursor": None,
    }


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus exposition (GET /metrics), by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)
