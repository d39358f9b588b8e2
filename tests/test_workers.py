"""Several uvicorn workers in one server: refused without Redis (each worker would keep its own cache,
counters and accounts) and on SQLite (no worker would hear of another's product writes), coherent with both.
Started as scripts/serve starts the API: `python -m impl.serve`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, free_port
from tests.helpers import assert_problem, bearer
from tests.servers import ApiServer
from tests.spec_responses import check_async_response
from tests.test_first_run import assert_one_line_refusal, clean_env, run

PASSWORD = "Quill-Sparrow-64"
CALLS = 20  # as many /auth/me calls as the probe made, each on a connection of its own
SERVE = [sys.executable, "-m", "impl.serve", "--host", "127.0.0.1"]


@pytest.mark.parametrize(
    ("arguments", "environment"),
    [
        (["--workers", "2"], {}),
        (["--workers=4"], {}),
        ([], {"WEB_CONCURRENCY": "2"}),
        (["--workers", "3"], {"WEB_CONCURRENCY": "1"}),  # the command line wins, as in uvicorn
    ],
)
def test_more_than_one_worker_without_redis_is_refused_in_one_line(
    arguments: list[str], environment: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = clean_env(tmp_path / "data")
    env.pop("WEB_CONCURRENCY", None)
    env.update(environment)
    result = run([*SERVE, "--port", str(port), *arguments], env)
    line = assert_one_line_refusal(result, "workers", "need REDIS_URL", "set REDIS_URL or run one worker")
    assert line.startswith("catalog-api: ")
    assert not (tmp_path / "data").exists()  # refused before anything was migrated, generated or served


def test_more_than_one_worker_on_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data", REDIS_URL="redis://127.0.0.1:1/0")  # never reached: refused before
    env.pop("WEB_CONCURRENCY", None)
    result = run([*SERVE, "--port", str(free_port()), "--workers", "2"], env)
    line = assert_one_line_refusal(result, "2 workers", "need PostgreSQL", "use PostgreSQL or run one worker")
    assert line.startswith("catalog-api: ")
    assert not (tmp_path / "data").exists()


def test_one_worker_without_redis_is_not_refused(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data", WEB_CONCURRENCY="2")
    # `--workers 1` after WEB_CONCURRENCY=2: one process, so the start goes on (to the database check,
    # which refuses an unmigrated database: the workers check let it through).
    result = run([*SERVE, "--port", str(free_port()), "--workers", "1"], env)
    line = assert_one_line_refusal(result, "the database has no schema yet")
    assert "REDIS_URL" not in line


def worker_processes(parent: int) -> int:
    """The uvicorn workers under `parent` (multiprocessing's spawned children; not its resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return sum(b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children)


@pytest.mark.anyio
async def test_two_workers_with_redis_start_and_a_deactivated_users_token_is_refused_by_every_worker(
    postgres_database: str, redis_server: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> None:
    _, redis_url = redis_server
    port = free_port()
    # No SECRET_KEY: both workers must sign with the one key generated into DATA_DIR.
    env = clean_env(
        tmp_path / "data",
        ENVIRONMENT="test",
        DATABASE_URL=postgres_database,
        REDIS_URL=redis_url,
        CACHE_PREFIX=f"workers:{uuid.uuid4().hex}:",
        BCRYPT_ROUNDS="4",
        SMART_SEARCH_PRELOAD="false",
        LOG_LEVEL="WARNING",
        ADMIN_EMAIL=ADMIN["email"],
        ADMIN_USERNAME=ADMIN["username"],
        ADMIN_PASSWORD=ADMIN["password"],
    )
    env.pop("WEB_CONCURRENCY", None)
    command = [*SERVE, "--port", str(port), "--workers", "2"]  # impl.serve gives workers 60 s to start
    with ApiServer.running(command, env, tmp_path / "api.log", port) as api:
        # No keep-alive: every request opens a connection, which either worker may accept.
        async with httpx.AsyncClient(
            base_url=api.url,
            limits=httpx.Limits(max_keepalive_connections=0),
            event_hooks={"response": [check_async_response]},
            timeout=30,
        ) as client:
            body = {"email": "bob@example.com", "username": "bob", "password": PASSWORD}
            registered = await client.post("/api/v1/auth/register", json=body)
            assert registered.status_code == 201, registered.text
            tokens = []
            for username, password in (("bob", PASSWORD), (ADMIN["username"], ADMIN["password"])):
                signed_in = await client.post("/api/v1/auth/login", data={"username": username, "password": password})
                assert signed_in.status_code == 200, signed_in.text
                tokens.append(signed_in.json()["access_token"])
            bob, admin = tokens
            before = [(await client.get("/api/v1/auth/me", headers=bearer(bob))).status_code for _ in range(CALLS)]
            assert before == [200] * CALLS
            off = await client.put(
                f"/api/v1/users/{registered.json()['id']}", json={"is_active": False}, headers=bearer(admin)
            )
            assert off.status_code == 200, off.text
            # Another worker may use the account it read within CACHE_LOCAL_TTL_MS (100 ms, the stated bound).
            await asyncio.sleep(0.2)
            for _ in range(CALLS):
                assert_problem(await client.get("/api/v1/auth/me", headers=bearer(bob)), 401)
        assert worker_processes(api.process.pid) == 2
