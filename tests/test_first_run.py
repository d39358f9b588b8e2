"""A first run without surprises: every script answers --help and does nothing else, configuration
mistakes end in one readable line, and `migrate current` says where an empty database stands."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from impl.settings import Settings, load_settings
from tests.conftest import _admin_sql

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(path.name for path in (ROOT / "scripts").iterdir() if path.is_file() and os.access(path, os.X_OK))
# scripts/contract passes its arguments to schemathesis after starting servers: it has no --help of its own yet.
WITHOUT_HELP = {"contract"}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any catalog-api setting, plus these."""
    settings = {name.upper() for name in Settings.model_fields}
    env = {name: value for name, value in os.environ.items() if name.upper() not in settings}
    return {**env, "DATA_DIR": str(data_dir), **extra}


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *phrases: str) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("script", [name for name in SCRIPTS if name not in WITHOUT_HELP])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_script_answers_help_with_its_usage(script: str, flag: str, tmp_path: Path) -> None:
    result = run([str(ROOT / "scripts" / script), flag], clean_env(tmp_path / "data"), timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"scripts/{script}" in result.stdout
    assert not (tmp_path / "data").exists()  # nothing migrated, served or written


def test_generate_help_leaves_generated_alone(tmp_path: Path) -> None:
    before = tree_digest(ROOT / "generated")
    result = run([str(ROOT / "scripts" / "generate"), "--help"], clean_env(tmp_path))
    assert result.returncode == 0
    assert "wrote" not in result.stdout
    assert tree_digest(ROOT / "generated") == before


def test_serve_help_starts_nothing(tmp_path: Path) -> None:
    port = free_port()
    result = run([str(ROOT / "scripts" / "serve"), "--help"], clean_env(tmp_path / "data", PORT=str(port)), timeout=30)
    assert result.returncode == 0
    assert "usage" not in result.stderr.lower()
    assert not (tmp_path / "data").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/catalog", "postgresql+asyncpg://u:p@db:5432/catalog"),
        ("postgres://u@db/catalog", "postgresql+asyncpg://u@db/catalog"),
        ("postgresql+asyncpg://u@db/catalog", "postgresql+asyncpg://u@db/catalog"),
        ("sqlite:////tmp/catalog.db", "sqlite+aiosqlite:////tmp/catalog.db"),
        ("sqlite+aiosqlite:////tmp/catalog.db", "sqlite+aiosqlite:////tmp/catalog.db"),
    ],
)
def test_database_url_gets_the_async_driver(given: str, expected: str, tmp_path: Path) -> None:
    assert Settings(database_url=given, data_dir=tmp_path).database_url == expected


@pytest.mark.parametrize(
    "url", ["mysql://u:hunter2-secret@db/catalog", "postgresql+psycopg2://u:hunter2-secret@db/x", "db"]
)
def test_an_unsupported_database_url_is_one_line_that_never_repeats_it(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("catalog-api: invalid settings: DATABASE_URL:")
    assert "postgresql+asyncpg://" in message
    assert "hunter2" not in message
    assert "\n" not in message


def test_every_invalid_setting_is_listed_in_one_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path, CACHE_TTL_SECONDS="soon", BCRYPT_ROUNDS="2", DATABASE_URL="mysql://x@y/z")
    result = run([sys.executable, "-m", "impl.db.migrate"], env)
    line = assert_one_line_refusal(result, "invalid settings", "CACHE_TTL_SECONDS", "BCRYPT_ROUNDS", "DATABASE_URL")
    assert line.startswith("catalog-api:")


def test_no_server_at_the_address_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/catalog"
    for command in (["impl.db.migrate"], ["impl.db.migrate", "current"], ["impl.serve"]):
        result = run([sys.executable, "-m", *command], clean_env(tmp_path, DATABASE_URL=url))
        assert_one_line_refusal(result, 'database "catalog"', "connection refused")


def test_a_missing_sqlite_folder_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/catalog.db"
    result = run([sys.executable, "-m", "impl.db.migrate"], clean_env(tmp_path, DATABASE_URL=url))
    assert_one_line_refusal(result, f"{tmp_path}/missing", "does not exist")


def test_migrate_current_says_no_revision_on_an_empty_database_then_head(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    empty = run([sys.executable, "-m", "impl.db.migrate", "current"], env)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.startswith("no revision")
    assert run([sys.executable, "-m", "impl.db.migrate"], env).returncode == 0
    current = run([sys.executable, "-m", "impl.db.migrate", "current"], env)
    assert current.stdout.strip().endswith("(head)")


def test_serving_an_unmigrated_database_is_one_line(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "impl.serve", "--port", str(free_port())], clean_env(tmp_path))
    assert_one_line_refusal(result, "no schema yet", "scripts/migrate")


@pytest.mark.skipif(TEST_DATABASE_URL is None, reason="needs TEST_DATABASE_URL (a PostgreSQL server)")
def test_a_missing_postgresql_database_is_named_in_one_line(tmp_path: Path) -> None:
    server = make_url(TEST_DATABASE_URL or "")
    # Without +asyncpg, as people write it: normalized, then the missing database named.
    url = server.set(drivername="postgresql", database="catalog_first_run_missing").render_as_string(
        hide_password=False
    )
    for command in (["impl.db.migrate"], ["impl.db.migrate", "current"], ["impl.serve"]):
        result = run([sys.executable, "-m", *command], clean_env(tmp_path, DATABASE_URL=url))
        assert_one_line_refusal(result, '"catalog_first_run_missing" does not exist', "createdb")


@pytest.mark.skipif(TEST_DATABASE_URL is None, reason="needs TEST_DATABASE_URL (a PostgreSQL server)")
def test_migrate_current_on_an_empty_postgresql_database_says_no_revision(tmp_path: Path) -> None:
    server = make_url(TEST_DATABASE_URL or "")
    name = f"catalog_first_run_empty_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_sql(server, f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        result = run([sys.executable, "-m", "impl.db.migrate", "current"], clean_env(tmp_path, DATABASE_URL=url))
    finally:
        asyncio.run(_admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no revision"), result.stdout
