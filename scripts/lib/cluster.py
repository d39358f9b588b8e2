"""A local cluster: N API replicas on one PostgreSQL database and one Redis, behind HAProxy.

Each replica is the API as `scripts/serve` runs it (`python -m impl.serve`,
uvicorn) on a port of its own; the migrations run once, before any replica
starts; HAProxy (from Debian's packages) spreads requests over the replicas and
checks each one's `/health/ready` every second, taking a replica out after
two failed checks and back after two good ones.

`scripts/cluster start|stop|status|restart` is the command line (`--help`). The
module is also a library, for the tests and for fault drills that start their
own PostgreSQL and Redis and stop or restart one replica:

    cluster = Cluster(ClusterConfig(database_url=..., redis_url=..., run_dir=tmp))
    cluster.start()                 # migrations, the replicas, then the load balancer
    cluster.url                     # the load balancer, http://127.0.0.1:PORT
    cluster.replicas[1].url         # one replica, addressed directly (its .port, .pid, .log)
    cluster.restart(1)              # SIGTERM it (it drains), wait, start it again on its port
    cluster.stop()

It imports nothing of `impl`: the replicas are processes, driven over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUN_DIR = ROOT / ".cluster"
DEFAULT_LB_PORT = 8080
DEFAULT_REPLICAS = 3
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE = "catalog_cluster"
START_TIMEOUT_SECONDS = 90.0  # cold imports of several replicas on a loaded 2-core machine are slow
STOP_TIMEOUT_SECONDS = 20.0  # above the API's SHUTDOWN_TIMEOUT_SECONDS (8 s) drain
STATE_FILE = "cluster.json"


class ClusterError(RuntimeError):
    """A part of the cluster did not start or stop as it should (the message says which, with its log)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status `url` answers a GET with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own http:// URLs)
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child that exited but was not reaped yet is still "there": ask /proc whether it is a zombie.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Replica:
    """One API process: `name` (replica-1...), its port, its log, its pid (a Popen when we started it)."""

    name: str
    host: str
    port: int
    log: Path
    pid: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return alive(self.pid)

    def ready(self) -> bool:
        return http_status(self.url + "/health/ready") == 200


@dataclass
class ClusterConfig:
    database_url: str
    redis_url: str
    run_dir: Path
    replicas: int = DEFAULT_REPLICAS
    host: str = "127.0.0.1"
    lb_port: int | None = None  # a free port when None
    replica_ports: Sequence[int] = ()  # free ports when empty
    load_balancer: bool = True
    env: Mapping[str, str] = field(default_factory=dict)  # for every replica, over the caller's environment
    replica_env: Mapping[int, Mapping[str, str]] = field(default_factory=dict)  # per replica index, over `env`
    secret_key: str | None = None  # shared by every replica (tokens work on all); SECRET_KEY or generated
    detach: bool = False  # processes in sessions of their own, to outlive the command that started them
    migrate: bool = True


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.run_dir = config.run_dir
        ports = list(config.replica_ports) or [free_port(config.host) for _ in range(config.replicas)]
        if len(ports) != config.replicas:
            raise ClusterError(f"{config.replicas} replicas but {len(ports)} ports")
        self.replicas = [
            Replica(f"replica-{index + 1}", config.host, port, config.run_dir / f"replica-{index + 1}.log")
            for index, port in enumerate(ports)
        ]
        self.lb_port = config.lb_port or free_port(config.host)
        self.lb_pid: int | None = None
        self._lb_process: subprocess.Popen[bytes] | None = None
        self.secret_key = config.secret_key or os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)

    @property
    def url(self) -> str:
        """The load balancer's address (a replica's own when there is no load balancer)."""
        if not self.config.load_balancer:
            return self.replicas[0].url
        return f"http://{self.config.host}:{self.lb_port}"

    # Starting and stopping.

    def start(self) -> None:
        """Migrations once, then every replica (until each is ready), then the load balancer."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.config.migrate:
                self.run_migrations()
            for index in range(len(self.replicas)):
                self._spawn(index)
            for index in range(len(self.replicas)):
                self.wait_ready(index)
            if self.config.load_balancer:
                self._start_load_balancer()
            self.save_state()
        except BaseException:
            self.stop()
            raise

    def run_migrations(self) -> None:
        # The replicas' key too: in production the settings (read by the migrations as well) require one.
        env = {**os.environ, "SECRET_KEY": self.secret_key, **self.config.env, "DATABASE_URL": self.config.database_url}
        done = subprocess.run(
            [sys.executable, "-m", "impl.db.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ClusterError(f"the migrations failed:\n{done.stdout}{done.stderr}".rstrip())

    def replica_environment(self, index: int) -> dict[str, str]:
        data_dir = self.run_dir / self.replicas[index].name
        data_dir.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "DATABASE_URL": self.config.database_url,
            "REDIS_URL": self.config.redis_url,
            "SECRET_KEY": self.secret_key,
            "DATA_DIR": str(data_dir),
            # HAProxy runs on this machine and connects from the replicas' own address: its X-Forwarded-For
            # (and nobody else's) is believed, so the per-address limits count the clients, not HAProxy.
            "TRUSTED_PROXIES": self.proxy_address(),
            **self.config.env,
            **self.config.replica_env.get(index, {}),
        }

    def proxy_address(self) -> str:
        """Where HAProxy's connections to the replicas come from: their host, or loopback for a wildcard."""
        host = self.config.host
        return "127.0.0.1" if host in ("localhost", "0.0.0.0", "") else host  # noqa: S104 - compared, not bound

    def _spawn(self, index: int) -> None:
        replica = self.replicas[index]
        command = [sys.executable, "-m", "impl.serve", "--host", replica.host, "--port", str(replica.port)]
        with replica.log.open("ab") as log:  # appended: a restart keeps the earlier run's lines
            replica.process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                command,
                cwd=ROOT,
                env=self.replica_environment(index),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=self.config.detach,
            )
        replica.pid = replica.process.pid

    def wait_ready(self, index: int, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Until the replica's /health/ready answers 200 (database and Redis reached)."""
        replica = self.replicas[index]
        deadline = time.monotonic() + timeout
        while not replica.ready():
            if not replica.running():
                raise ClusterError(f"{replica.name} exited while starting:\n{_log_tail(replica.log)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"{replica.name} was not ready within {timeout:.0f} s:\n{_log_tail(replica.log)}")
            time.sleep(0.1)

    def stop_replica(self, index: int, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Send `sig` (SIGTERM: the replica drains and exits) and wait; SIGKILL after `timeout`."""
        replica = self.replicas[index]
        _stop(replica.pid, replica.process, sig, timeout)
        replica.process = None
        replica.pid = None

    def start_replica(self, index: int, *, wait: bool = True) -> None:
        """Start a stopped replica again, on its port."""
        if self.replicas[index].running():
            raise ClusterError(f"{self.replicas[index].name} is running")
        self._spawn(index)
        if wait:
            self.wait_ready(index)
        self.save_state()

    def restart(self, index: int, sig: int = signal.SIGTERM) -> None:
        self.stop_replica(index, sig)
        self.start_replica(index)

    def stop(self) -> None:
        """Everything: the load balancer first (no new requests), then every replica (each drains)."""
        _stop(self.lb_pid, self._lb_process, signal.SIGTERM, 5.0)
        self.lb_pid, self._lb_process = None, None
        for replica in self.replicas:  # SIGTERM all first: they drain at the same time
            if replica.running() and replica.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(replica.pid, signal.SIGTERM)
        for index in range(len(self.replicas)):
            self.stop_replica(index)
        (self.run_dir / STATE_FILE).unlink(missing_ok=True)

    # The load balancer.

    def haproxy_config(self) -> str:
        servers = "\n".join(f"    server {r.name} {r.host}:{r.port} check" for r in self.replicas)
        # The same replicas again as backups, unchecked: when every replica fails its readiness check
        # (the database is down), requests still reach them, and each answers for itself (a cached
        # read, or its declared 503 with Retry-After) instead of the load balancer's bare 503.
        fallbacks = "\n".join(f"    server {r.name}-fallback {r.host}:{r.port} backup" for r in self.replicas)
        return f"""\
# Written by scripts/lib/cluster.py; regenerated on every start.
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 15s
    # A replica that refuses the connection (stopping, restarting) is retried on another one.
    retries 3
    option redispatch

frontend api
    bind {self.config.host}:{self.lb_port}
    # Appends the client's address to X-Forwarded-For; the replicas believe it from HAProxy's
    # address only (TRUSTED_PROXIES), so the per-address limits see the client, not the load balancer.
    option forwardfor
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health/ready
    http-check expect status 200
    default-server inter 1s fastinter 250ms downinter 500ms fall 2 rise 2
    option allbackups
{servers}
{fallbacks}
"""

    def _start_load_balancer(self) -> None:
        binary = ensure_haproxy()
        config = self.run_dir / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        checked = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [binary, "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False
        )
        if checked.returncode != 0:
            raise ClusterError(f"haproxy refused {config}:\n{checked.stdout}{checked.stderr}")
        log = self.run_dir / "haproxy.log"
        with log.open("ab") as output:
            self._lb_process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                [binary, "-db", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=self.config.detach,
            )
        self.lb_pid = self._lb_process.pid
        deadline = time.monotonic() + 15
        # Ready once it passes a request on (its checks have found a replica up).
        while http_status(self.url + "/health/ready") != 200:
            if self._lb_process.poll() is not None:
                raise ClusterError(f"haproxy exited:\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"haproxy did not pass requests on within 15 s:\n{_log_tail(log)}")
            time.sleep(0.1)

    # State, for the command line: `start` writes it, `stop`, `status` and `restart` read it.

    def save_state(self) -> None:
        # What `restart` needs to start a replica as `start` did (a secret: the file is the owner's only).
        state = {
            "database_url": self.config.database_url,
            "redis_url": self.config.redis_url,
            "secret_key": self.secret_key,
            "load_balancer": {"port": self.lb_port, "pid": self.lb_pid} if self.config.load_balancer else None,
            "replicas": [{"name": r.name, "port": r.port, "pid": r.pid} for r in self.replicas],
        }
        path = self.run_dir / STATE_FILE
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, run_dir: Path, config: ClusterConfig | None = None) -> Cluster | None:
        """The cluster `start` left in `run_dir` (its pids and ports), or None."""
        path = run_dir / STATE_FILE
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        lb = state["load_balancer"]
        config = config or ClusterConfig(
            database_url=state["database_url"],
            redis_url=state["redis_url"],
            run_dir=run_dir,
            secret_key=state["secret_key"],
            detach=True,
        )
        config.replicas = len(state["replicas"])
        config.replica_ports = [r["port"] for r in state["replicas"]]
        config.load_balancer = lb is not None
        config.lb_port = lb["port"] if lb else None
        cluster = cls(config)
        cluster.lb_pid = lb["pid"] if lb else None
        for replica, saved in zip(cluster.replicas, state["replicas"], strict=True):
            replica.pid = saved["pid"]
        return cluster

    def status(self) -> list[tuple[str, str, int | None, bool, int | None]]:
        """(name, url, pid, running, /health/ready status) of the load balancer and each replica."""
        rows: list[tuple[str, str, int | None, bool, int | None]] = []
        if self.config.load_balancer:
            running = alive(self.lb_pid)
            rows.append(("haproxy", self.url, self.lb_pid, running, http_status(self.url + "/health/ready")))
        for r in self.replicas:
            rows.append((r.name, r.url, r.pid, r.running(), http_status(r.url + "/health/ready")))
        return rows


def _stop(pid: int | None, process: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (process.poll() is not None) if process is not None else not alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if process is not None:
        process.wait()


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


# Creating the database when it does not exist yet (the command line's default one).


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database `url` names when it is missing; True when it was created."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    name = parsed.database
    server = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    async def create() -> bool:
        connection = await asyncpg.connect(server, timeout=5)
        try:
            if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                return False
            await connection.execute(f'CREATE DATABASE "{name}"')
            return True
        finally:
            await connection.close()

    return asyncio.run(create())


def ensure_haproxy() -> str:
    """haproxy's path, installed from Debian's packages when missing (as root, or through sudo)."""
    binary = _haproxy_path()
    if binary is not None:
        return binary
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    print("cluster: installing haproxy (apt-get install haproxy) ...", file=sys.stderr)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([*apt, "update", "-qq"], [*apt, "install", "-y", "-qq", "--no-install-recommends", "haproxy"]):
        installing = subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, check=False)  # noqa: S603
        if installing.returncode != 0:
            raise ClusterError(f"could not install haproxy ({' '.join(command)} failed); install it and start again")
    binary = _haproxy_path()
    if binary is None:
        raise ClusterError("haproxy was installed but cannot be found")
    return binary


def _haproxy_path() -> str | None:
    # Debian installs it in /usr/sbin, which a normal user's PATH often lacks.
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")


# The command line: scripts/cluster.


def _default_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"postgresql+asyncpg://{getpass.getuser()}@127.0.0.1:5432/{DEFAULT_DATABASE}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/cluster",
        description="Several API replicas on one PostgreSQL and one Redis, behind HAProxy (README: "
        "'Running several replicas').",
    )
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="state, logs, haproxy.cfg (./.cluster)")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="run the migrations once, start the replicas and HAProxy, print the URL")
    start.add_argument("--replicas", type=int, default=DEFAULT_REPLICAS, help="how many API processes (3)")
    start.add_argument("--port", type=int, default=DEFAULT_LB_PORT, help="the load balancer's port (8080)")
    start.add_argument(
        "--database-url",
        default=_default_database_url(),
        help="PostgreSQL (default: DATABASE_URL, else postgresql+asyncpg://$USER@127.0.0.1:5432/catalog_cluster, "
        "created when missing)",
    )
    start.add_argument("--redis-url", default=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL), help="(REDIS_URL)")
    commands.add_parser("stop", help="stop HAProxy and every replica (each drains its requests first)")
    commands.add_parser("status", help="each process, its URL and its /health/ready status; exit 1 unless all ready")
    restart = commands.add_parser("restart", help="SIGTERM one replica, wait for it to drain, start it again")
    restart.add_argument("replica", type=int, help="its number, 1 to N")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    run_dir: Path = arguments.run_dir.resolve()
    existing = Cluster.load(run_dir)
    try:
        if arguments.command == "start":
            if existing is not None and any(running for *_, running, _ in existing.status()):
                print(f"cluster: already running (scripts/cluster status; state in {run_dir})", file=sys.stderr)
                return 1
            if arguments.replicas < 1:
                print("cluster: --replicas must be at least 1", file=sys.stderr)
                return 2
            ensure_haproxy()
            if ensure_database(arguments.database_url):
                print(f"cluster: created the database {_without_password(arguments.database_url)}", file=sys.stderr)
            # One secret for every replica and every start: tokens stay valid across them.
            run_dir.mkdir(parents=True, exist_ok=True)
            key_file = run_dir / "secret_key"
            if not os.environ.get("SECRET_KEY") and not key_file.exists():
                key_file.write_text(secrets.token_urlsafe(48))
                key_file.chmod(0o600)
            config = ClusterConfig(
                database_url=arguments.database_url,
                redis_url=arguments.redis_url,
                run_dir=run_dir,
                replicas=arguments.replicas,
                lb_port=arguments.port,
                secret_key=os.environ.get("SECRET_KEY") or key_file.read_text().strip(),
                detach=True,
            )
            cluster = Cluster(config)
            print(f"cluster: migrations, then {config.replicas} replicas and haproxy ...", file=sys.stderr)
            cluster.start()
            for replica in cluster.replicas:
                print(f"  {replica.name}  {replica.url}  pid {replica.pid}  log {replica.log}")
            print(f"API: {cluster.url}   (scripts/cluster status | stop)")
            return 0
        if existing is None:
            print(f"cluster: not running (no {run_dir / STATE_FILE})", file=sys.stderr)
            return 3
        if arguments.command == "stop":
            existing.stop()
            print("cluster: stopped")
            return 0
        if arguments.command == "restart":
            index = arguments.replica - 1
            if not 0 <= index < len(existing.replicas):
                print(f"cluster: no replica {arguments.replica} (1 to {len(existing.replicas)})", file=sys.stderr)
                return 2
            existing.restart(index)
            replica = existing.replicas[index]
            print(f"cluster: {replica.name} restarted: {replica.url} pid {replica.pid}")
            return 0
        ready = True
        for name, url, pid, running, status in existing.status():
            state = "ready" if status == 200 else ("running" if running else "stopped")
            ready = ready and status == 200
            print(f"{name:<10} {url:<24} pid {pid or '-':<8} {state} (/health/ready: {status or 'no answer'})")
        return 0 if ready else 1
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
