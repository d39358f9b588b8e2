"""No operation ships without an implementation: the app refuses to start and names what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from contract_runtime.binding import MissingImplementation, UnsupportedSecurity, bind
from contract_runtime.operations import Contract, Operation, SecurityRequirement, SecurityScheme
from contract_runtime.principal import Principal
from tests.helpers import make_operation

ROOT = Path(__file__).resolve().parent.parent


class ThingsApi(Protocol):
    async def get_thing(self) -> object: ...

    async def put_thing(self) -> object: ...


def operation(operation_id: str, function_name: str, method: str, **extra: Any) -> Operation:
    return make_operation(operation_id, function_name, method, "/things", ThingsApi, **extra)


CONTRACT = Contract(
    title="things",
    version="1",
    operations=(operation("getThing", "get_thing", "GET"), operation("putThing", "put_thing", "PUT")),
    security_schemes={},
    validation_root={},
)


class Implementations:
    def __init__(self, things: object) -> None:
        self.things = things


class Complete:
    async def get_thing(self) -> object:
        return "thing"

    async def put_thing(self) -> object:
        return "thing"


class Partial:
    async def get_thing(self) -> object:
        return "thing"


class InheritsTheStubs(ThingsApi):
    async def get_thing(self) -> object:
        return "thing"


class Tokens:
    async def authenticate(self, token: str) -> Principal | None:
        return None


def test_a_complete_implementation_binds_every_operation() -> None:
    bound = bind(CONTRACT, Implementations(Complete()), {})
    assert [b.operation.operation_id for b in bound] == ["getThing", "putThing"]


def test_an_absent_method_is_refused_by_name() -> None:
    with pytest.raises(MissingImplementation, match=r"putThing \(PUT /things, Partial.put_thing\)"):
        bind(CONTRACT, Implementations(Partial()), {})


def test_a_method_inherited_from_the_protocol_counts_as_missing() -> None:
    with pytest.raises(MissingImplementation, match=r"putThing \(PUT /things, InheritsTheStubs.put_thing\)"):
        # mypy refuses this class too; the server must refuse it as well, for code no type checker saw.
        bind(CONTRACT, Implementations(InheritsTheStubs()), {})  # type: ignore[abstract]


def test_a_secured_operation_needs_an_authenticator_for_its_scheme() -> None:
    secured = Contract(
        title="things",
        version="1",
        operations=(operation("getThing", "get_thing", "GET", security=(SecurityRequirement({"Key": ()}),)),),
        security_schemes={"Key": SecurityScheme("Key", "oauth2")},
        validation_root={},
    )
    with pytest.raises(UnsupportedSecurity, match="Key has no authenticator"):
        bind(secured, Implementations(Complete()), {})
    assert len(bind(secured, Implementations(Complete()), {"Key": Tokens()})) == 1


def test_a_scheme_the_runtime_cannot_check_is_refused() -> None:
    secured = Contract(
        title="things",
        version="1",
        operations=(operation("getThing", "get_thing", "GET", security=(SecurityRequirement({"Key": ()}),)),),
        security_schemes={"Key": SecurityScheme("Key", "apiKey")},
        validation_root={},
    )
    with pytest.raises(UnsupportedSecurity, match="not supported"):
        bind(secured, Implementations(Complete()), {"Key": Tokens()})


EXTRA_OPERATION = {
    "get": {
        "operationId": "listProductReviews",
        "tags": ["products"],
        "summary": "Reviews of a product",
        "security": [],
        "responses": {
            "200": {
                "description": "The product, again.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Product"}}},
            },
            "404": {"$ref": "#/components/responses/NotFound"},
        },
    },
    "parameters": [{"$ref": "#/components/parameters/ProductId"}],
}


def test_the_server_refuses_to_start_with_an_operation_generated_but_not_implemented(tmp_path: Path) -> None:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    spec["paths"]["/api/v1/products/{product_id}/reviews"] = EXTRA_OPERATION
    (tmp_path / "openapi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    generate = [str(ROOT / "scripts/generate"), "--spec", str(tmp_path / "openapi.yaml")]
    subprocess.run(
        [*generate, "--out", str(tmp_path / "generated")],
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert "listProductReviews" in (tmp_path / "generated/operations.py").read_text()

    # The working directory comes first on sys.path: this `generated` package, the project's `impl`.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
        "ENVIRONMENT": "test",
        "SECRET_KEY": "s" * 48,
    }
    server = [sys.executable, "-m", "uvicorn", "impl.app:create_app", "--factory", "--port", "0"]
    result = subprocess.run(server, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "contract_runtime.binding.MissingImplementation: operations without an implementation: "
        "listProductReviews (GET /api/v1/products/{product_id}/reviews, ProductService.list_product_reviews)"
    )
