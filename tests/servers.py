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
from collections.abc import Iterator
from pathlib import Path

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
