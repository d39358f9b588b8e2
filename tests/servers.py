"""Servers the tests start and stop themselves, never the machine's shared ones.

`PostgresCluster` is a throwaway PostgreSQL cluster (initdb into a temporary
folder, its own port) that a test can crash, freeze and restart. PostgreSQL
refuses to run as root: when the tests do, the server runs as the `postgres`
OS user (through `runuser`), in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from impl.settings import Settings

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_SECONDS = 30


def postgres_bin_dir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres (POSTGRES_BIN overrides), or None."""
    candidates = [os.environ.get("POSTGRES_BIN", "")]
    candidates += sorted(glob.glob(POSTGRES_BIN_GLOB), key=lambda path: int(Path(path).parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    return None


def _as_server_user() -> list[str]:
    """The command prefix that runs a PostgreSQL binary: as `postgres` when we are root."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class PostgresCluster:
    """A PostgreSQL cluster of one test: start, crash (immediate stop), freeze, thaw, restart."""

    def __init__(self, bin_dir: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="catalog-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*_as_server_user(), *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=START_TIMEOUT_SECONDS,
        )

    def initdb(self) -> None:
        initdb = str(self.bin_dir / "initdb")
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        """Start (or restart after a crash) on the same port; returns once it accepts connections."""
        # fsync off: the tests crash the server process, never the machine, so the
        # page cache keeps every committed write; the folder is thrown away after.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self._wait_until_accepting()

    def crash(self) -> None:
        """Stop at once, as a crash does: no checkpoint, every backend gone, connections cut."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.thaw()
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def processes(self) -> list[int]:
        """The postmaster and its children (backends and auxiliary processes), by pid."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [postmaster, *(int(pid) for pid in children)]

    def freeze(self) -> None:
        """SIGSTOP every process of the cluster: connections stay open and nothing answers."""
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


class ApiServer:
    """The API in a process of its own, started as `command` (e.g. `python -m impl.serve`), its output in a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command, env=env, cwd=Path(__file__).resolve().parent.parent, stdout=output, stderr=subprocess.STDOUT
            )

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the API exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"the API did not start:\n{self.log.read_text()}") from None
                time.sleep(0.05)

    @classmethod
    @contextlib.contextmanager
    def running(cls, command: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[ApiServer]:
        """Started and answering for the `with` block, stopped after it (also when the start fails)."""
        server = cls(command, env, log, port)
        try:
            server.wait_until_up()
            yield server
        finally:
            server.stop()

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for_port(port: int, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Stoppable:
    """A process of a test's own that it can freeze (SIGSTOP: connections stay open, nothing answers),
    thaw and kill."""

    process: subprocess.Popen[bytes]

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def remove(self) -> None:
        if self.process.poll() is None:
            self.thaw()
            self.process.kill()
        self.process.wait()


class RedisServer(Stoppable):
    """A redis-server of a test's own on `port` (no persistence), files in `folder`; `options` are more of
    redis-server's (`"--maxmemory", "2mb"`)."""

    def __init__(self, binary: str, port: int, folder: Path, *options: str) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--dir", str(folder), *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(port)


class TcpProxy(Stoppable):
    """`tests/tcp_proxy.py` from `port` to `target_port`: freeze it and whoever connects through it
    loses that server, while everyone else still reaches it."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.tcp_proxy", str(port), str(target_port)],
            cwd=Path(__file__).resolve().parent.parent,
        )
        wait_for_port(port)


def haproxy_binary() -> str:
    """haproxy's path (Debian installs it in /usr/sbin); the test fails under CI_REQUIRE_SERVERS=1 without it."""
    import pytest  # here: the cluster scripts import this module too, without pytest

    binary = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if binary is None:
        if os.environ.get("CI_REQUIRE_SERVERS") == "1":  # CI installs it: a missing binary is a failure there
            pytest.fail("haproxy is not installed, and CI_REQUIRE_SERVERS=1")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    return binary


class HaProxy(Stoppable):
    """An haproxy of a test's own on 127.0.0.1:`port`, passing HTTP to 127.0.0.1:`target_port` the way the
    documented deployments do (docs/proxies.md): it appends the client's address to X-Forwarded-For and gives
    a request head `head_timeout_seconds` to arrive before the API sees any of it."""

    def __init__(self, binary: str, folder: Path, port: int, target_port: int, head_timeout_seconds: float) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = folder / "haproxy.cfg"
        config.write_text(
            f"""\
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request {int(head_timeout_seconds * 1000)}ms

frontend api
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend api

backend api
    server api 127.0.0.1:{target_port}
"""
        )
        subprocess.run([binary, "-c", "-q", "-f", str(config)], check=True, capture_output=True)
        self.process = subprocess.Popen(
            [binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(port)


@contextlib.contextmanager
def serving(
    settings: Settings, workdir: Path, *, arguments: tuple[str, ...] = (), **environment: str
) -> Iterator[ApiServer]:
    """`python -m impl.serve` (uvicorn as the image runs it, then `arguments`) on 127.0.0.1 and a free port,
    on the test's database, Redis (if any) and key prefix, with these settings on top; stopped after the
    `with` block."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(workdir),
        "DATABASE_URL": settings.resolved_database_url(),
        "CACHE_PREFIX": settings.cache_prefix,
        "SECRET_KEY": "served-test-secret-" + uuid.uuid4().hex,
        "BCRYPT_ROUNDS": str(settings.bcrypt_rounds),
        "SMART_SEARCH_PRELOAD": "false",
        **environment,
    }
    for name in ("REDIS_URL", "ADMIN_EMAIL", "ADMIN_USERNAME", "ADMIN_PASSWORD", "TRUSTED_PROXIES"):
        if name not in environment:
            env.pop(name, None)
    if settings.redis_url and "REDIS_URL" not in environment:
        env["REDIS_URL"] = settings.redis_url
    command = [sys.executable, "-m", "impl.serve", "--host", "127.0.0.1", "--port", str(port), *arguments]
    with ApiServer.running(command, env, workdir / "api.log", port) as server:
        yield server
