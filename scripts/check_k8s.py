"""Checks on the rendered Kubernetes manifests that a schema cannot make.

    python -m scripts.check_k8s VARIANT=RENDERED.yaml ...   (scripts/check-k8s runs it)
    python -m scripts.check_k8s --self-test RENDERED.yaml     each check fails on a manifest broken on purpose

kubernetes-validate proves each object is well formed; this proves the objects
fit this application: the probes hit the spec's health paths, the pods run as the
image's uid on a read-only root with a writable emptyDir only where the app
writes, the grace period outlasts the server's drain, every configured name is a
real setting, secrets come only from existing Secrets, the migration runs (with
the same image) before a new pod serves, the scaling objects select the right
pods, and the PostgreSQL connections stay within the declared budget.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from impl.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

# Names the server reads from the environment outside impl/settings.py, and who reads them.
OUTSIDE_SETTINGS = {
    "WEB_CONCURRENCY": "uvicorn: worker processes",
    "PROMETHEUS_MULTIPROC_DIR": "prometheus-client: the directory the workers share their metrics in",
    "PORT": "the image's CMD: where uvicorn listens",
}
# Never a literal value nor a ConfigMap entry: only a secretKeyRef to an existing Secret.
SECRET_NAMES = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LIMITS_REDIS_URL", "ADMIN_PASSWORD")
# What the API container must get from a Secret (production refuses to start without SECRET_KEY;
# without DATABASE_URL it would write SQLite into the read-only DATA_DIR; REDIS_URL makes replicas one cache;
# LIMITS_REDIS_URL keeps the abuse counters where the cache's evictions cannot reach them).
REQUIRED_SECRETS = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LIMITS_REDIS_URL")
# A URL with a password in it: scheme://user:password@host.
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
# Python's and the libraries' temporary files (TMPDIR unset): the one place the app may write.
TMP = "/tmp"  # noqa: S108  (a mount path, not a file this script creates)
# databases 0.9 passes no pool size to asyncpg, whose pool opens min_size=10 connections at start-up
# and holds max_size=10 at most, per process (DATABASE_URL's query cannot change it: the migration's
# SQLAlchemy engine would pass min_size/max_size to asyncpg.connect, which refuses them); plus the one
# connection that LISTENs for product changes (impl/db/notifications.py).
POOL_SIZE_PER_PROCESS = 11
# After SIGTERM: uvicorn drains for SHUTDOWN_TIMEOUT_SECONDS, then the lifespan waits at most this long
# for the Redis invalidation listener and at most DATABASE_TIMEOUT_SECONDS for the pool to close.
LISTENER_WAIT_SECONDS = 2
# The endpoints controller and every node's proxy need a moment to drop a terminating pod.
MIN_PRESTOP_SLEEP_SECONDS = 3
BUDGET_ANNOTATION = "catalog-api/database-connections-budget"


class Failed(Exception):
    """A check's finding: one line naming the object and what is wrong."""


@dataclass(frozen=True)
class Repository:
    """What the manifests must agree with, read from the repository."""

    uid: int
    gid: int
    port: int
    readiness_path: str
    liveness_path: str
    get_paths: frozenset[str]
    migrate_command: list[str]
    settings: frozenset[str]

    @classmethod
    def read(cls) -> Repository:
        dockerfile = (ROOT / "Dockerfile").read_text()
        user = re.search(r"^USER\s+(\d+)(?::(\d+))?\s*$", dockerfile, re.MULTILINE)
        port = re.search(r"\bPORT=(\d+)", dockerfile)
        if user is None or port is None:
            raise SystemExit("check_k8s: the Dockerfile has no numeric USER uid[:gid] or no PORT=")
        spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
        by_operation = {
            operation["operationId"]: path
            for path, item in spec["paths"].items()
            for method, operation in item.items()
            if method == "get"
        }
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        return cls(
            uid=int(user[1]),
            gid=int(user[2] or user[1]),
            port=int(port[1]),
            readiness_path=by_operation["getReadiness"],
            liveness_path=by_operation["getLiveness"],
            get_paths=frozenset(by_operation.values()),
            migrate_command=list(compose["services"]["migrate"]["command"]),
            settings=frozenset(name.upper() for name in Settings.model_fields),
        )


def setting_default(name: str) -> Any:
    return Settings.model_fields[name.lower()].default


@dataclass
class Variant:
    """One rendered variant (the base, an overlay): its objects by kind and name."""

    name: str
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, name: str, path: Path) -> Variant:
        variant = cls(name)
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                variant.objects[(document["kind"], document["metadata"]["name"])] = document
        return variant

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for (k, _), obj in self.objects.items() if k == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        if len(found) != 1:
            raise Failed(f"expected one {kind}, found {len(found)}")
        return found[0]

    def config_map(self, name: str) -> dict[str, str]:
        obj = self.objects.get(("ConfigMap", name))
        if obj is None:
            raise Failed(f"envFrom names ConfigMap {name}, which is not in the manifests")
        return dict(obj.get("data", {}))


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every container of a workload (init containers too), named `Kind/name container`."""
    spec = pod_spec(workload)
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        yield f"{workload['kind']}/{workload['metadata']['name']} container {container['name']}", container


def api_container(deployment: dict[str, Any]) -> dict[str, Any]:
    found: list[dict[str, Any]] = pod_spec(deployment)["containers"]
    if len(found) != 1:
        raise Failed(f"the Deployment runs {len(found)} containers, expected the API alone")
    return found[0]


@dataclass(frozen=True)
class EnvValue:
    """Where one environment variable of a container comes from."""

    literal: str | None = None
    secret: tuple[str, str] | None = None  # (Secret name, key)
    optional: bool = False
    config_map: str | None = None


def environment(variant: Variant, container: dict[str, Any]) -> dict[str, EnvValue]:
    env: dict[str, EnvValue] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" not in source:
            raise Failed(f"envFrom {sorted(source)}: only configMapRef is expected (secrets one key at a time)")
        name = source["configMapRef"]["name"]
        for key, value in variant.config_map(name).items():
            env[key] = EnvValue(literal=str(value), config_map=name)
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = EnvValue(literal=str(entry["value"]))
        elif "secretKeyRef" in entry.get("valueFrom", {}):
            ref = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = EnvValue(secret=(ref["name"], ref["key"]), optional=bool(ref.get("optional")))
        else:
            env[entry["name"]] = EnvValue()
    return env


def literal_number(env: dict[str, EnvValue], name: str) -> float:
    """A numeric setting as the container gets it, else the setting's default."""
    value = env.get(name)
    if value is None or value.literal is None:
        return float(setting_default(name))
    return float(value.literal)


def web_concurrency(env: dict[str, EnvValue]) -> int:
    """uvicorn's worker processes (WEB_CONCURRENCY; one when unset)."""
    value = env.get("WEB_CONCURRENCY")
    return 1 if value is None or value.literal is None else int(value.literal)


def workloads(variant: Variant) -> list[dict[str, Any]]:
    return [variant.one("Deployment"), variant.one("Job")]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


# --- the checks: each raises Failed with every finding, or returns what it verified -------------


def check_objects(variant: Variant, repo: Repository) -> str:
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job", "ConfigMap"):
        variant.one(kind)
    if variant.of_kind("Secret"):
        raise Failed("a Secret is in the manifests: secrets are only referenced, the operator creates them")
    return "one Deployment, Service, HPA, PDB, migration Job and ConfigMap; no Secret"


def check_image(variant: Variant, repo: Repository) -> str:
    images = {where: container["image"] for workload in workloads(variant) for where, container in containers(workload)}
    if len(set(images.values())) != 1:
        raise Failed(f"the containers run different images: {images}")
    image = next(iter(images.values()))
    if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
        raise Failed(f"image {image} has no tag or digest, or :latest: a rollout would not know what it runs")
    return f"every container (API, init, migration) runs {image}"


def check_uid(variant: Variant, repo: Repository) -> str:
    problems: list[str] = []
    for workload in workloads(variant):
        pod = pod_spec(workload).get("securityContext", {})
        for where, container in containers(workload):
            own = container.get("securityContext", {})
            effective = {**pod, **own}
            if effective.get("runAsNonRoot") is not True:
                problems.append(f"{where}: runAsNonRoot is not true")
            if effective.get("runAsUser") != repo.uid or effective.get("runAsGroup") != repo.gid:
                problems.append(
                    f"{where}: runs as {effective.get('runAsUser')}:{effective.get('runAsGroup')}, "
                    f"the Dockerfile's USER is {repo.uid}:{repo.gid}"
                )
            if own.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if own.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: capabilities are not dropped (drop: [ALL])")
            if effective.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                problems.append(f"{where}: no RuntimeDefault seccomp profile")
    if problems:
        raise Failed("; ".join(problems))
    return f"every container runs as the Dockerfile's {repo.uid}:{repo.gid}, non-root, no escalation, no capabilities"


def check_filesystem(variant: Variant, repo: Repository) -> str:
    problems: list[str] = []
    for workload in workloads(variant):
        volumes = {volume["name"]: volume for volume in pod_spec(workload).get("volumes", [])}
        for where, container in containers(workload):
            env = environment(variant, container)
            if container.get("securityContext", {}).get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            expected = {TMP}
            multiproc = env.get("PROMETHEUS_MULTIPROC_DIR")
            if multiproc is not None and multiproc.literal:
                expected.add(multiproc.literal)
            if web_concurrency(env) > 1 and len(expected) == 1:
                problems.append(f"{where}: WEB_CONCURRENCY > 1 without PROMETHEUS_MULTIPROC_DIR (/metrics: one worker)")
            writable: set[str] = set()
            for mount in container.get("volumeMounts", []):
                if mount.get("readOnly"):
                    continue
                volume = volumes.get(mount["name"], {})
                if "emptyDir" not in volume:
                    problems.append(f"{where}: {mount['mountPath']} is writable and not an emptyDir")
                elif "sizeLimit" not in (volume["emptyDir"] or {}):
                    problems.append(f"{where}: the emptyDir at {mount['mountPath']} has no sizeLimit")
                writable.add(mount["mountPath"])
            if writable != expected:
                problems.append(f"{where}: writable {sorted(writable)}, the app writes to {sorted(expected)}")
            for name in ("DATABASE_URL", "SECRET_KEY"):
                if name not in env:
                    # Without them the app writes catalog.db or secret_key into DATA_DIR, read-only here.
                    problems.append(f"{where}: no {name}, so the app would write into DATA_DIR")
    if problems:
        raise Failed("; ".join(problems))
    return f"read-only root everywhere; writable only emptyDirs (with size limits) at {TMP}"


def check_probes(variant: Variant, repo: Repository) -> str:
    deployment = variant.one("Deployment")
    api = api_container(deployment)
    env = environment(variant, api)
    port = int(env["PORT"].literal or repo.port) if "PORT" in env else repo.port
    ports = {p.get("name"): p["containerPort"] for p in api.get("ports", [])}
    problems: list[str] = []
    if port not in ports.values():
        problems.append(f"the container declares ports {sorted(ports.values())}, the server listens on {port}")
    wanted = {
        "readinessProbe": repo.readiness_path,
        "livenessProbe": repo.liveness_path,
        "startupProbe": None,  # optional; any path the spec serves with GET
    }
    for probe_name, path in wanted.items():
        probe = api.get(probe_name)
        if probe is None:
            if path is not None:
                problems.append(f"no {probe_name}")
            continue
        http = probe.get("httpGet")
        if http is None:
            problems.append(f"{probe_name} is not an httpGet")
            continue
        if path is not None and http["path"] != path:
            problems.append(f"{probe_name} asks {http['path']}, the spec's is {path}")
        if http["path"] not in repo.get_paths:
            problems.append(f"{probe_name} asks {http['path']}, which openapi.yaml does not serve with GET")
        target = http["port"]
        if ports.get(target, target) != port:
            problems.append(f"{probe_name} probes port {target}, the server listens on {port}")
    service = variant.one("Service")
    for service_port in service["spec"]["ports"]:
        target = service_port.get("targetPort", service_port["port"])
        if ports.get(target, target) != port:
            problems.append(f"Service port {service_port['port']} targets {target}, the server listens on {port}")
    if problems:
        raise Failed("; ".join(problems))
    return f"readiness {repo.readiness_path} and liveness {repo.liveness_path} (the spec's), on port {port}"


def prestop_sleep(container: dict[str, Any]) -> int:
    pre_stop = container.get("lifecycle", {}).get("preStop")
    if pre_stop is None:
        raise Failed("the API container has no preStop hook: the pod would stop accepting before it leaves endpoints")
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"]["seconds"])
    command = pre_stop.get("exec", {}).get("command", [])
    if len(command) == 2 and command[0] in ("sleep", "/bin/sleep"):
        return int(command[1])
    raise Failed(f"the preStop hook is not a sleep: {pre_stop}")


def check_termination(variant: Variant, repo: Repository) -> str:
    deployment = variant.one("Deployment")
    api = api_container(deployment)
    env = environment(variant, api)
    sleep = prestop_sleep(api)
    if sleep < MIN_PRESTOP_SLEEP_SECONDS:
        raise Failed(f"the preStop sleep is {sleep} s, less than {MIN_PRESTOP_SLEEP_SECONDS} s")
    drain = math.ceil(literal_number(env, "SHUTDOWN_TIMEOUT_SECONDS"))
    close = math.ceil(literal_number(env, "DATABASE_TIMEOUT_SECONDS"))
    needed = sleep + drain + LISTENER_WAIT_SECONDS + close
    grace = int(pod_spec(deployment).get("terminationGracePeriodSeconds", 30))
    if grace <= needed:
        raise Failed(
            f"terminationGracePeriodSeconds {grace} <= preStop {sleep} + SHUTDOWN_TIMEOUT_SECONDS {drain} "
            f"+ listener {LISTENER_WAIT_SECONDS} + DATABASE_TIMEOUT_SECONDS {close} = {needed}"
        )
    return f"grace {grace} s > preStop {sleep} + drain {drain} + listener {LISTENER_WAIT_SECONDS} + pool close {close}"


def check_settings(variant: Variant, repo: Repository) -> str:
    problems: list[str] = []
    known = repo.settings | set(OUTSIDE_SETTINGS)
    checked: set[str] = set()
    for workload in workloads(variant):
        for where, container in containers(workload):
            env = environment(variant, container)
            unknown = sorted(set(env) - known)
            if unknown:
                problems.append(f"{where}: {unknown} are neither settings (impl/settings.py) nor read by the server")
            literals = {name.lower(): v.literal for name, v in env.items() if v.literal is not None}
            values: dict[str, Any] = {key: value for key, value in literals.items() if key.upper() in repo.settings}
            # Stand-ins for what the Secret provides: the literal settings are validated as the app would.
            values.update(secret_key=secrets.token_urlsafe(48), database_url="postgresql+asyncpg://app@db/catalog")
            try:
                Settings.model_validate(values)
            except ValidationError as exc:
                problems.append(f"{where}: the app would refuse these settings: {exc.errors()[0]['msg']}")
            concurrency = literals.get("web_concurrency")
            if concurrency is not None and not (concurrency.isdigit() and int(concurrency) >= 1):
                problems.append(f"{where}: WEB_CONCURRENCY={concurrency} is not a positive integer")
            checked |= set(env)
    if problems:
        raise Failed("; ".join(problems))
    return f"{len(checked)} names, each a setting of impl/settings.py or read by uvicorn/the image; values accepted"


def check_secrets(variant: Variant, repo: Repository) -> str:
    problems: list[str] = []
    for config_map in variant.of_kind("ConfigMap"):
        for key, value in config_map.get("data", {}).items():
            if key in SECRET_NAMES:
                problems.append(f"ConfigMap {config_map['metadata']['name']} holds {key}")
            if URL_WITH_PASSWORD.search(str(value)):
                problems.append(f"ConfigMap {config_map['metadata']['name']}: {key} is a URL with a password")
    for workload in workloads(variant):
        for where, container in containers(workload):
            for name, source in environment(variant, container).items():
                if name in SECRET_NAMES and source.secret is None:
                    problems.append(f"{where}: {name} does not come from a secretKeyRef")
                if source.literal is not None and URL_WITH_PASSWORD.search(source.literal):
                    problems.append(f"{where}: {name} is a literal URL with a password")
    api = environment(variant, api_container(variant.one("Deployment")))
    for name in REQUIRED_SECRETS:
        required = api.get(name)
        if required is None or required.secret is None or required.optional:
            problems.append(f"the API container does not require {name} from a Secret")
    if problems:
        raise Failed("; ".join(problems))
    names = sorted({s.secret[0] for s in api.values() if s.secret is not None})
    return f"{', '.join(REQUIRED_SECRETS)} only by secretKeyRef (Secret {', '.join(names)}); no secret in a ConfigMap"


def check_counters(variant: Variant, repo: Repository) -> str:
    env = environment(variant, api_container(variant.one("Deployment")))
    counters, cache = env.get("LIMITS_REDIS_URL"), env.get("REDIS_URL")
    if counters is None or counters.secret is None:
        raise Failed("the API has no LIMITS_REDIS_URL from a Secret: the counters would share the cache's Redis")
    if cache is not None and counters.secret == cache.secret:
        raise Failed(
            f"LIMITS_REDIS_URL reads the cache's own Secret key {counters.secret}: its evictions reach lockouts"
        )
    return f"counters in Secret key {counters.secret[1]}, apart from the cache's (the server checks it never evicts)"


def check_migrations(variant: Variant, repo: Repository) -> str:
    job = variant.one("Job")
    deployment = variant.one("Deployment")
    problems: list[str] = []
    job_containers = pod_spec(job)["containers"]
    if len(job_containers) != 1:
        problems.append(f"the Job runs {len(job_containers)} containers")
    migrate = job_containers[0]
    command = [*migrate.get("command", []), *migrate.get("args", [])]
    if command != repo.migrate_command:
        problems.append(f"the Job runs {command}, docker-compose.yml's migrate service runs {repo.migrate_command}")
    if pod_spec(job).get("restartPolicy") not in ("Never", "OnFailure"):
        problems.append("the Job's restartPolicy is neither Never nor OnFailure")
    if "backoffLimit" not in job["spec"] or "activeDeadlineSeconds" not in job["spec"]:
        problems.append(
            "the Job has no backoffLimit or activeDeadlineSeconds (a failing migration would retry forever)"
        )
    database = environment(variant, migrate).get("DATABASE_URL")
    waits = [
        init
        for init in pod_spec(deployment).get("initContainers", [])
        if "head_revision" in " ".join([*init.get("command", []), *init.get("args", [])])
    ]
    if not waits:
        problems.append("no init container of the Deployment waits for the database to reach its image's head revision")
    for init in waits:
        if environment(variant, init).get("DATABASE_URL") != database:
            problems.append(f"init container {init['name']} reads another DATABASE_URL than the Job migrates")
    if environment(variant, api_container(deployment)).get("DATABASE_URL") != database:
        problems.append("the API reads another DATABASE_URL than the Job migrates")
    if problems:
        raise Failed("; ".join(problems))
    return (
        f"Job runs {' '.join(command)} (as compose's migrate); init container {waits[0]['name']} "
        "holds each new pod until the database is at its image's head"
    )


def rolling_surge(deployment: dict[str, Any], replicas: int) -> int:
    update = deployment["spec"].get("strategy", {}).get("rollingUpdate", {})
    surge = update.get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        return math.ceil(replicas * int(surge[:-1]) / 100)
    return int(surge)


def check_scaling(variant: Variant, repo: Repository) -> str:
    deployment = variant.one("Deployment")
    hpa = variant.one("HorizontalPodAutoscaler")
    pdb = variant.one("PodDisruptionBudget")
    service = variant.one("Service")
    job = variant.one("Job")
    problems: list[str] = []
    target = hpa["spec"]["scaleTargetRef"]
    if (target["apiVersion"], target["kind"], target["name"]) != (
        "apps/v1",
        "Deployment",
        deployment["metadata"]["name"],
    ):
        problems.append(f"the HPA scales {target}, not the Deployment")
    if "replicas" in deployment["spec"]:
        problems.append("the Deployment sets replicas: every apply would reset what the HPA chose")
    minimum = int(hpa["spec"].get("minReplicas", 1))
    if minimum < 2:
        problems.append(f"the HPA's minReplicas is {minimum}: one pod, no availability through a drain or a crash")
    api = api_container(deployment)
    for metric in hpa["spec"].get("metrics", []):
        resource = metric.get("resource", {}).get("name")
        if resource and resource not in api.get("resources", {}).get("requests", {}):
            problems.append(f"the HPA scales on {resource}, which the API container does not request")
    update = deployment["spec"].get("strategy", {}).get("rollingUpdate", {})
    if update.get("maxUnavailable") not in (0, "0%"):
        problems.append("the rolling update may take serving pods away before new ones are ready (maxUnavailable)")
    pods = deployment["spec"]["template"]["metadata"]["labels"]
    migrators = job["spec"]["template"]["metadata"]["labels"]
    if not selects(deployment["spec"]["selector"]["matchLabels"], pods):
        problems.append("the Deployment's selector does not match its pods")
    for kind, selector in (
        ("Service", service["spec"]["selector"]),
        ("PodDisruptionBudget", pdb["spec"]["selector"]["matchLabels"]),
    ):
        if not selects(selector, pods):
            problems.append(f"the {kind}'s selector does not select the API pods")
        if selects(selector, migrators):
            problems.append(f"the {kind}'s selector also selects the migration Job's pods")
    if "maxUnavailable" in pdb["spec"]:
        allowed = int(pdb["spec"]["maxUnavailable"])
    else:
        allowed = minimum - int(pdb["spec"].get("minAvailable", minimum))
    if allowed < 1:
        problems.append(f"at {minimum} replicas the PDB allows no disruption: node drains would block")
    if problems:
        raise Failed("; ".join(problems))
    return f"HPA {minimum}..{hpa['spec']['maxReplicas']} on the Deployment; PDB lets {allowed} go; selectors agree"


def check_connections(variant: Variant, repo: Repository) -> str:
    deployment = variant.one("Deployment")
    hpa = variant.one("HorizontalPodAutoscaler")
    budget = deployment["metadata"].get("annotations", {}).get(BUDGET_ANNOTATION)
    if budget is None:
        raise Failed(f"the Deployment has no {BUDGET_ANNOTATION} annotation (PostgreSQL connections it may hold)")
    env = environment(variant, api_container(deployment))
    processes = web_concurrency(env)
    maximum = int(hpa["spec"]["maxReplicas"])
    surge = rolling_surge(deployment, maximum)
    # At the HPA's maximum during a rollout: the surging pods, and as many old ones still draining.
    pods = maximum + 2 * surge
    needed = POOL_SIZE_PER_PROCESS * processes * pods + 1  # + the migration Job's one connection
    if needed > int(budget):
        raise Failed(
            f"{POOL_SIZE_PER_PROCESS} connections x {processes} process(es) x ({maximum} + 2 x {surge} surge) pods "
            f"+ 1 = {needed}, over the budget of {budget}"
        )
    return f"{POOL_SIZE_PER_PROCESS} x {processes} x ({maximum} + 2 x {surge}) + 1 = {needed} <= budget {budget}"


def check_forwarded(variant: Variant, repo: Repository) -> str:
    """TRUSTED_PROXIES names whose X-Forwarded-For is believed: in a cluster that is a pod network, so only
    a NetworkPolicy that lets nothing but the ingress controller (and the scrapers) in makes it safe."""
    env = environment(variant, api_container(variant.one("Deployment")))
    source = env.get("TRUSTED_PROXIES")
    trusted = (source.literal if source is not None else None) or ""
    if not trusted.strip():
        return "X-Forwarded-For ignored (TRUSTED_PROXIES empty): the limits count each connection's peer"
    pods = variant.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    for policy in variant.of_kind("NetworkPolicy"):
        spec = policy["spec"]
        rules = spec.get("ingress", [])
        if (
            selects(spec["podSelector"].get("matchLabels", {}), pods)
            and "Ingress" in spec.get("policyTypes", ["Ingress"])
            and all(rule.get("from") for rule in rules)
        ):
            return f"X-Forwarded-For believed from {trusted}, which NetworkPolicy {policy['metadata']['name']} limits"
    raise Failed(
        f"TRUSTED_PROXIES={trusted} believes X-Forwarded-For, but no NetworkPolicy limits who reaches the pods"
    )


def check_resources(variant: Variant, repo: Repository) -> str:
    problems: list[str] = []
    for workload in workloads(variant):
        for where, container in containers(workload):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                missing = {"cpu", "memory"} - set(resources.get(kind, {}))
                if missing:
                    problems.append(f"{where}: no {kind} for {sorted(missing)}")
    if problems:
        raise Failed("; ".join(problems))
    return "cpu and memory requests and limits on every container"


CHECKS: list[tuple[str, Callable[[Variant, Repository], str]]] = [
    ("objects", check_objects),
    ("image", check_image),
    ("uid", check_uid),
    ("filesystem", check_filesystem),
    ("probes", check_probes),
    ("termination", check_termination),
    ("settings", check_settings),
    ("secrets", check_secrets),
    ("counters", check_counters),
    ("migrations", check_migrations),
    ("scaling", check_scaling),
    ("connections", check_connections),
    ("forwarded headers", check_forwarded),
    ("resources", check_resources),
]


# --- the self-test: each check must catch a manifest broken the way it guards against ----------


def api_of(objects: Variant) -> dict[str, Any]:
    return api_container(objects.one("Deployment"))


def config_of(objects: Variant) -> dict[str, str]:
    data: dict[str, str] = objects.of_kind("ConfigMap")[0].setdefault("data", {})
    return data


def pod_of(objects: Variant, kind: str) -> dict[str, Any]:
    return pod_spec(objects.one(kind))


def add_secret(v: Variant) -> None:
    v.objects[("Secret", "catalog-api")] = {"kind": "Secret", "metadata": {"name": "catalog-api"}}


def env_entry(v: Variant, name: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(entry for entry in api_of(v)["env"] if entry["name"] == name)
    return entry


def trust_without_policy(v: Variant) -> None:
    config_of(v)["TRUSTED_PROXIES"] = "10.0.0.0/8"
    for key in [key for key in v.objects if key[0] == "NetworkPolicy"]:
        del v.objects[key]


BREAKAGES: list[tuple[str, str, Callable[[Variant], None]]] = [
    ("objects", "a Secret with values in the manifests", add_secret),
    ("image", "the Job migrates with another image", lambda v: pod_of(v, "Job")["containers"][0].update(image="x:2")),
    ("uid", "the pods run as root", lambda v: pod_of(v, "Deployment")["securityContext"].update(runAsUser=0)),
    ("uid", "another uid than the Dockerfile's", lambda v: pod_of(v, "Job")["securityContext"].update(runAsUser=1000)),
    (
        "filesystem",
        "a writable root filesystem",
        lambda v: api_of(v)["securityContext"].update(readOnlyRootFilesystem=False),
    ),
    (
        "filesystem",
        "a writable mount where the app does not write",
        lambda v: api_of(v)["volumeMounts"].append({"name": "tmp", "mountPath": "/app/data"}),
    ),
    (
        "probes",
        "readiness on a path the spec lacks",
        lambda v: api_of(v)["readinessProbe"]["httpGet"].update(path="/ready"),
    ),
    (
        "probes",
        "liveness on the readiness path",
        lambda v: api_of(v)["livenessProbe"]["httpGet"].update(path="/health/ready"),
    ),
    ("probes", "probes on another port", lambda v: api_of(v)["livenessProbe"]["httpGet"].update(port=9000)),
    (
        "termination",
        "a grace period shorter than the drain",
        lambda v: pod_of(v, "Deployment").update(terminationGracePeriodSeconds=10),
    ),
    ("termination", "no preStop sleep", lambda v: api_of(v).pop("lifecycle")),
    (
        "termination",
        "a drain longer than the grace period",
        lambda v: config_of(v).update(SHUTDOWN_TIMEOUT_SECONDS="25"),
    ),
    ("settings", "a name that is no setting", lambda v: config_of(v).update(SHUTDOWN_TIMEOUT="8")),
    ("settings", "a value the app refuses", lambda v: config_of(v).update(LOG_LEVEL="verbose")),
    (
        "secrets",
        "SECRET_KEY as a literal",
        lambda v: api_of(v)["env"].append({"name": "SECRET_KEY", "value": "k" * 48}),
    ),
    (
        "secrets",
        "a Redis password in the ConfigMap",
        lambda v: config_of(v).update(CACHE_URL="redis://:pw@redis:6379/0"),
    ),
    ("counters", "no LIMITS_REDIS_URL", lambda v: api_of(v)["env"].remove(env_entry(v, "LIMITS_REDIS_URL"))),
    (
        "counters",
        "the counters read the cache's Redis",
        lambda v: env_entry(v, "LIMITS_REDIS_URL")["valueFrom"]["secretKeyRef"].update(key="REDIS_URL"),
    ),
    ("migrations", "the Job runs something else", lambda v: pod_of(v, "Job")["containers"][0].update(command=["true"])),
    ("migrations", "new pods do not wait for the migration", lambda v: pod_of(v, "Deployment").pop("initContainers")),
    ("scaling", "the Deployment fixes replicas", lambda v: v.one("Deployment")["spec"].update(replicas=3)),
    ("scaling", "a PDB that blocks drains", lambda v: v.one("PodDisruptionBudget")["spec"].update(maxUnavailable=0)),
    (
        "scaling",
        "a Service that also selects the migration pods",
        lambda v: v.one("Service")["spec"].update(selector={"app.kubernetes.io/name": "catalog-api"}),
    ),
    (
        "connections",
        "more replicas than connections",
        lambda v: v.one("HorizontalPodAutoscaler")["spec"].update(maxReplicas=50),
    ),
    ("forwarded headers", "X-Forwarded-For believed from a pod network anyone can connect from", trust_without_policy),
    (
        "settings",
        "uvicorn's FORWARDED_ALLOW_IPS=* again (the server no longer reads it)",
        lambda v: config_of(v).update(FORWARDED_ALLOW_IPS="*"),
    ),
    (
        "settings",
        "a TRUSTED_PROXIES that trusts every address",
        lambda v: config_of(v).update(TRUSTED_PROXIES="0.0.0.0/0"),
    ),
    ("resources", "no limits", lambda v: api_of(v)["resources"].pop("limits")),
]


def self_test(path: Path, repo: Repository) -> int:
    """Each breakage must make its check fail, and only the pristine variant passes them all."""
    pristine = Variant.load("self-test", path)
    missed = []
    for check_name, description, breakage in BREAKAGES:
        check = dict(CHECKS)[check_name]
        check(pristine, repo)  # passes before the breakage
        broken = copy.deepcopy(pristine)
        breakage(broken)
        try:
            check(broken, repo)
        except Failed:  # a check that crashes on the broken manifest (KeyError...) has not caught it
            continue
        missed.append(f"{check_name}: {description}")
    for line in missed:
        print(f"self-test: NOT caught: {line}")
    untested = sorted(set(dict(CHECKS)) - {name for name, _, _ in BREAKAGES})
    print(f"self-test: {len(BREAKAGES) - len(missed)} of {len(BREAKAGES)} broken manifests caught", end="")
    print(f" (checks without a breakage: {', '.join(untested)})" if untested else "")
    return 1 if missed or untested else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(argv) == 2 and argv[0] == "--self-test":
        return self_test(Path(argv[1]), Repository.read())
    if not argv or any("=" not in arg for arg in argv):
        print(__doc__, file=sys.stderr)
        return 2
    repo = Repository.read()
    failures = 0
    for arg in argv:
        name, _, path = arg.partition("=")
        variant = Variant.load(name, Path(path))
        for check_name, check in CHECKS:
            try:
                print(f"{name}: {check_name}: ok: {check(variant, repo)}")
            except (Failed, KeyError) as exc:
                failures += 1
                print(f"{name}: {check_name}: FAILED: {exc}")
    total = len(CHECKS) * len(argv)
    print(f"check_k8s: {total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
