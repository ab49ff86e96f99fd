"""The ``docker`` pattern's args (:class:`DockerServiceArgs`, the keys of a catalog entry) and the settings
they resolve into once (:class:`DockerSettings`, whose fields hold the defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, Sequence, TypedDict
from urllib.parse import urlparse

from ..blocks.container import CONTAINER_KEYS, ContainerSettings, resolve_container
from ..blocks.container_image import ContainerImageArgs
from ..blocks.service import CORE_KEYS, CoreSpec, HealthCheckArgs, ScalingArgs, resolve_core
from ..profiles import Profile

__all__ = ["CPU_MAX", "CPU_MIN", "DOCKER_HOST_PATTERN", "DOCKER_KEYS", "DockerServiceArgs", "DockerSettings",
           "MEMORY_MIN", "RESTART_POLICIES", "replicas_of", "resolve_docker"]

DOCKER_KEYS = CORE_KEYS + CONTAINER_KEYS + ("cpu", "memory", "host_port", "docker_host", "restart")
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
DOCKER_HOST_PATTERN = r"(unix|tcp|ssh|npipe)://\S+"
CPU_MIN, CPU_MAX = 128, 196608
MEMORY_MIN = 6


class DockerServiceArgs(TypedDict):
    """A service on a Docker host: the core spec, how its container runs, and Docker's own settings."""

    port: NotRequired[int]
    """Port the container listens on, 1-65535. Default: 8080."""
    health_check: NotRequired[HealthCheckArgs]
    """Drives the container health check (interval, timeout, retries, start period). Default: see the core spec."""
    scaling: NotRequired[ScalingArgs]
    """``desired`` (else ``min``) is the number of replicas; Docker does not autoscale.
    Default: the profile's minimum (1 in ``local``)."""
    environment: NotRequired[Mapping[str, str]]
    """Plain environment variables. Default: none."""
    secrets: NotRequired[Mapping[str, str]]
    """Variable -> SSM/Secrets Manager ARN. On a Docker host the value comes from the stack's secret config
    ``secrets:<VARIABLE>`` (``pulumi config set --secret secrets:DB_PASSWORD ...``); unset ones are left out
    with a warning. Default: none."""
    secrets_kms_keys: NotRequired[Sequence[str]]
    """KMS keys encrypting ``secrets`` in the cloud (see ``vm``/``ecs``); unused on a Docker host. Default: none."""
    expose: NotRequired[str]
    """``public`` publishes the ports on every interface of the host, ``internal`` on 127.0.0.1 only,
    ``none`` not at all (reachable from the service network only). Default: ``internal``."""
    tags: NotRequired[Mapping[str, str]]
    """Extra container labels. Default: none."""
    routes: NotRequired[Sequence[str | Mapping[str, Any]]]
    """Routes of the stack's API gateway (``microservices:gateway``) that lead to this service: route keys
    (``GET /orders/{id}``, ``ANY /orders/{proxy+}``) or mappings with ``route``, ``throttle``, ``scopes`` and
    ``authorization`` (see ``components.gateway.RouteArgs``). A Docker host is not behind the gateway: the
    ``local`` profile ignores them, and a cloud stack refuses them. Default: none."""
    image: NotRequired[ContainerImageArgs]
    """``{context, dockerfile, build_args, platform}`` or ``{ref}``; built on the Docker host, never pushed.
    Default: ``{context: services/<name>}``."""
    user: NotRequired[str]
    """``user``, ``uid`` or ``uid:gid`` the process runs as; never root. Default: the image's ``USER``."""
    command: NotRequired[Sequence[str]]
    """Overrides the image's ``CMD``. Default: the image's."""
    health_command: NotRequired[Sequence[str]]
    """Container health check in Docker's form, ``["CMD", ...]``, ``["CMD-SHELL", "..."]`` or ``["NONE"]``.
    Default: ``wget`` of ``health_check.path`` on ``port``, so the image must ship ``wget`` (busybox and
    Alpine images do; Debian ``slim`` and distroless images do not: give a command of your own)."""
    read_only_root_filesystem: NotRequired[bool]
    """Mount the root filesystem read-only. Default: true."""
    writable_paths: NotRequired[Sequence[str]]
    """Absolute paths that stay writable (tmpfs on Docker, task volumes on ECS). Default: ``["/tmp"]``."""
    cpu: NotRequired[int]
    """CPU limit in CPU units (1024 = one CPU), 128-196608. Default: the profile's ``container_cpu`` (256)."""
    memory: NotRequired[int]
    """Memory limit in MiB, at least 6. Default: the profile's ``container_memory`` (512)."""
    host_port: NotRequired[int]
    """Host port of the first replica; replica ``i`` listens on ``host_port + i``. Default: Docker picks
    a free port for each replica (see the ``urls`` output)."""
    docker_host: NotRequired[str]
    """Docker host to run on: ``ssh://user@host``, ``tcp://host:2376`` or ``unix:///path``. Default: the
    provider's (``docker:host`` config or ``DOCKER_HOST``, else the local engine)."""
    restart: NotRequired[str]
    """Restart policy: ``no`` (a run-once job, which may exit), ``on-failure`` (up to 5 retries), ``always``
    or ``unless-stopped``. Default: ``unless-stopped``."""


@dataclass(frozen=True)
class DockerSettings:
    """One validated :class:`DockerServiceArgs`, resolved once: what :class:`~.component.DockerService` reads."""

    core: CoreSpec
    """The core spec (port, health check, scaling, environment, secrets, exposure, tags)."""
    container: ContainerSettings
    """How the container runs (image, user, command, health command, filesystem)."""
    cpu: int
    """CPU limit in CPU units (1024 per CPU): ``cpu``, else the profile's ``container_cpu``."""
    memory: int
    """Memory limit in MiB: ``memory``, else the profile's ``container_memory``."""
    replicas: int = 1
    """``scaling.desired`` (else ``scaling.min``, else the profile's minimum), at least one."""
    host_port: int | None = None
    """Host port of the first replica; None lets Docker pick a free port for each."""
    docker_host: str | None = None
    """The Docker host to run on; None is the provider's."""
    restart: str = "unless-stopped"
    """The restart policy."""
    retries_on_failure: int = 5
    """Restarts Docker tries with ``restart: on-failure``."""
    tmpfs_options: str = "rw,noexec,nosuid,size=64m"
    """Mount options of the tmpfs of each ``writable_paths`` entry."""

    @property
    def cpus(self) -> str:
        """The CPU limit as Docker's ``--cpus`` value."""
        return f"{self.cpu / 1024:g}"

    @property
    def bind_ip(self) -> str:
        """The host address ports are published on: every interface for ``public``, else loopback."""
        return "0.0.0.0" if self.core.expose == "public" else "127.0.0.1"

    @property
    def url_host(self) -> str:
        """The host of the ``urls`` output: the Docker host's name, ``localhost`` for a local engine."""
        if not self.docker_host or self.docker_host.startswith(("unix://", "npipe://")):
            return "localhost"
        return urlparse(self.docker_host).hostname or "localhost"

    @property
    def must_run(self) -> bool:
        """A container with restart ``no`` is a run-once job: it is not required to keep running."""
        return self.restart != "no"

    @property
    def max_retry_count(self) -> int | None:
        """Docker's ``max_retry_count``: only ``on-failure`` retries a bounded number of times."""
        return self.retries_on_failure if self.restart == "on-failure" else None


def _replicas(core: CoreSpec) -> int:
    return max(core.scaling.desired, 1)


def replicas_of(spec: Mapping[str, Any], profile: Profile) -> int:
    """Replicas on a Docker host: ``scaling.desired``, else ``scaling.min``, else the profile's minimum."""
    return _replicas(resolve_core(spec, profile))


def resolve_docker(name: str, spec: Mapping[str, Any], profile: Profile) -> DockerSettings:
    """The settings of a validated spec: explicit values win, then the profile, then the field defaults."""
    core = resolve_core(spec, profile)
    given = {key: spec[key] for key in ("docker_host", "restart") if spec.get(key)}
    if spec.get("host_port") is not None:
        given["host_port"] = int(spec["host_port"])
    return DockerSettings(
        core=core,
        container=resolve_container(name, spec, core),
        cpu=int(spec["cpu"]) if spec.get("cpu") is not None else profile.container_cpu,
        memory=int(spec["memory"]) if spec.get("memory") is not None else profile.container_memory,
        replicas=_replicas(core),
        **given,
    )
