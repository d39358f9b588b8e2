from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
import pytest
import yaml

from impl.app import create_app
from impl.settings import Settings
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.anyio


async def test_liveness_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["version"]) == ("ok", "1.0.0")
    assert body["revision"] is None or len(body["revision"]) >= 7  # git's short HEAD in a checkout


def test_the_package_version_is_the_spec_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert project["version"] == spec["info"]["version"]


async def test_liveness_reports_the_recorded_build_revision(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"build_revision": "0123abc"}))
    async with application.router.lifespan_context(application), client_for(application) as client:
        assert (await client.get("/health")).json()["revision"] == "0123abc"


async def test_admin_can_read_own_profile(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["role"] == "admin"


async def test_user_fixture_is_a_plain_user(user_client: httpx.AsyncClient) -> None:
    response = await user_client.get("/api/v1/auth/me")
    assert response.json()["username"] == "alice"
    assert response.json()["role"] == "user"
