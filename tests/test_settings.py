"""Unsafe configuration is refused at start-up, in one line, with a non-zero exit."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from impl.settings import GENERATE_HINT, InvalidSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = next(
    line.split("=", 1)[1] for line in (ROOT / ".env.example").read_text().splitlines() if line.startswith("SECRET_KEY=")
)
RANDOM_KEY = "kJ8v2Qp7Lr0sXw3ZyT6uNb9Mc4Hd1Fg5Ae8Ri2Oq7Vt"


@pytest.mark.parametrize("environment", ["development", "test", "production"])
@pytest.mark.parametrize("key", ["", "x", "y" * 31])
def test_every_environment_refuses_a_key_shorter_than_32_bytes(environment: str, key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Settings(environment=environment, secret_key=key, data_dir=tmp_path)


@pytest.mark.parametrize("key", [PLACEHOLDER, "z" * 48, "<your-secret-key-of-at-least-32-bytes-here>"])
def test_production_refuses_a_placeholder_or_a_key_that_looks_like_one(key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        Settings(environment="production", secret_key=key, data_dir=tmp_path)


@pytest.mark.parametrize(
    "key",
    [
        "correct-horse-battery-staple-1234",  # four dictionary words and a sequence: about 82 bits
        "0123456789abcdef0123456789abcdef",  # a sequence, repeated: about 15 bits
        "3a7bd3e2360a3d29eeb4f5c1a8b06f7c" * 2,  # 64 hex characters, the second half repeating the first
    ],
)
def test_production_refuses_a_key_that_is_long_but_easy_to_guess_naming_how_to_generate_one(
    key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("catalog-api: invalid settings: SECRET_KEY is too easy to guess (about ")
    assert "at least 128 needed" in message
    assert message.endswith(GENERATE_HINT)
    assert "\n" not in message
    assert key not in message
    # Outside production such a key is still taken (tests and development use memorable ones).
    assert Settings(environment="development", secret_key=key, data_dir=tmp_path).secret_key is not None


@pytest.mark.parametrize(
    "make_key", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32)]
)
def test_production_takes_keys_the_secrets_module_generates(make_key: Callable[[], str], tmp_path: Path) -> None:
    for _ in range(20):  # fresh keys each time: none of them happens to look guessable
        key = make_key()
        settings = Settings(environment="production", secret_key=key, data_dir=tmp_path)
        assert settings.resolved_secret() == key


def test_production_takes_a_random_key_and_development_keeps_its_generated_default(tmp_path: Path) -> None:
    assert Settings(environment="production", secret_key=RANDOM_KEY, data_dir=tmp_path).secret_key is not None
    development = Settings(environment="development", data_dir=tmp_path)
    assert len(development.resolved_secret()) >= 32


def test_a_refusal_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", PLACEHOLDER)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("catalog-api: invalid settings: SECRET_KEY looks like a placeholder")
    assert "\n" not in message
    assert PLACEHOLDER not in message


def test_the_server_started_with_the_documented_placeholder_exits_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": PLACEHOLDER, "DATA_DIR": str(tmp_path)}
    server = [sys.executable, "-m", "uvicorn", "impl.app:create_app", "--factory", "--port", "0"]
    result = subprocess.run(server, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "catalog-api: invalid settings: SECRET_KEY looks like a placeholder, not a random key; "
        "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
    ]


@pytest.mark.parametrize("password", ["short", "x" * 129])
def test_the_bootstrap_admin_password_obeys_the_password_rules(password: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ADMIN_PASSWORD must be 8 to 128 characters"):
        Settings(environment="test", data_dir=tmp_path, admin_password=password)
