"""``DockerService``: N replicas of a container service on one Docker host, and the ``local`` stack.

Pattern ``docker`` runs a service's containers on the user's Docker engine (or a remote host,
``docker_host: ssh://user@host``), built locally without a push. :func:`build_docker_local` runs any
container service (``ecs``, ``eks``) the same way in the ``local`` profile, from its core spec and
``image``: ``pulumi up -s local`` needs no cloud account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, Sequence, TypedDict
from urllib.parse import urlparse

import pulumi
import pulumi_docker as docker

from .blocks.container import (CONTAINER_KEYS, ContainerSettings, default_health_command, resolve_container,
                               validate_container, validate_container_runtime)
from .blocks.container_image import (ContainerImage, ContainerImageArgs, default_image_spec, docker_host_platform,
                              remote_docker_engine, shared_image)
from .patterns import BuildContext, Pattern, ValidationContext
from .profiles import Profile, get_profile
from .blocks.service import (CORE_KEYS, CoreSpec, HealthCheckArgs, ScalingArgs, resolve_core, standard_tags,
                           validate_core)
from .validation import Problems, is_unknown, join_path

__all__ = [
    "CONTAINER_KEYS",
    "ContainerSettings",
    "DOCKER_KEYS",
    "DockerService",
    "DockerServiceArgs",
    "PATTERN",
    "build_docker_local",
    "default_health_command",
    "resolve_container",
    "validate_container",
    "validate_docker",
]

DOCKER_KEYS = CORE_KEYS + CONTAINER_KEYS + ("cpu", "memory", "host_port", "docker_host", "restart")
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
DOCKER_HOST_PATTERN = r"(unix|tcp|ssh|npipe)://\S+"
CPU_MIN, CPU_MAX = 128, 196608
MEMORY_MIN = 6
TMPFS_OPTIONS = "rw,noexec,nosuid,size=64m"


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


def replicas_of(spec: Mapping[str, Any], profile: Profile) -> int:
    """Replicas on a Docker host: ``scaling.desired``, else ``scaling.min``, else the profile's minimum."""
    return max(resolve_core(spec, profile).scaling.desired, 1)


def _safe_replicas(spec: Mapping[str, Any], profile: Profile) -> int:
    """Replicas for cross-checks; an invalid scaling block counts as one (its own validation reports it)."""
    try:
        return replicas_of(spec, profile)
    except (TypeError, ValueError, AttributeError):
        return 1


def validate_docker(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    """Every problem of one ``docker`` service spec."""
    problems = Problems()
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return problems
    problems.check_known_keys(spec, DOCKER_KEYS, path)
    validate_core(spec, path, problems)
    validate_container(name, spec, path, problems, vctx)
    problems.check_int(spec.get("cpu"), join_path(path, "cpu"), CPU_MIN, CPU_MAX, "CPU units")
    problems.check_int(spec.get("memory"), join_path(path, "memory"), MEMORY_MIN, None, "MiB")
    if problems.check_int(spec.get("host_port"), join_path(path, "host_port"), 1, 65535) \
            and isinstance(spec.get("host_port"), int):
        last = spec["host_port"] + _safe_replicas(spec, vctx.profile) - 1
        if last > 65535:
            problems.add(join_path(path, "host_port"), f"leaves no room for every replica: the last would "
                                                       f"listen on {last}, above 65535")
    if spec.get("host_port") is not None and spec.get("expose") == "none":
        problems.add(join_path(path, "host_port"), "is set but expose is 'none': nothing is published on the host")
    if problems.check_str(spec.get("docker_host"), join_path(path, "docker_host"), DOCKER_HOST_PATTERN,
                          "a Docker host URL: ssh://user@host, tcp://host:2376 or unix:///var/run/docker.sock") \
            and isinstance(spec.get("docker_host"), str) and remote_docker_engine(spec["docker_host"]):
        image = spec.get("image")
        if not (isinstance(image, Mapping) and image.get("platform")) and docker_host_platform(remote=True) is None:
            problems.add(join_path(path, "image", "platform"),
                         f"is required with docker_host {spec['docker_host']!r} (linux/arm64 or linux/amd64, or "
                         "set DOCKER_DEFAULT_PLATFORM): a remote engine's architecture is not known here, and "
                         "pulumi-docker would build and pull for this machine's")
    problems.check_enum(spec.get("restart"), join_path(path, "restart"), RESTART_POLICIES)
    return problems


def validate_docker_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
    """Two services on one Docker host cannot publish the same host port."""
    problems = Problems()
    taken: dict[tuple[str, int], str] = {}
    for name in sorted(specs):
        spec = specs[name]
        port = spec.get("host_port") if isinstance(spec, Mapping) else None
        if not isinstance(port, int) or isinstance(port, bool):
            continue
        host = spec.get("docker_host") or ""
        for p in range(port, port + _safe_replicas(spec, vctx.profile)):
            other = taken.get((host, p))
            if other is not None:
                problems.add(join_path("services", name, "host_port"),
                             f"host port {p} is already published by service {other!r} on the same Docker host")
                break
            taken[(host, p)] = name
    return problems


def _host_of(docker_host: str | None) -> str:
    if not docker_host or docker_host.startswith(("unix://", "npipe://")):
        return "localhost"
    return urlparse(docker_host).hostname or "localhost"


class DockerService(pulumi.ComponentResource):
    """Replicas of one service on a Docker host: the image built there (no push), a user-defined network
    (shared when ``network_name`` is given), and containers with distinct host ports, a health check, a
    restart policy, memory and CPU limits, a read-only root filesystem (tmpfs for ``writable_paths``), no
    capabilities and no privilege escalation."""

    urls: pulumi.Output[list[str]]
    """``http://<host>:<port>`` of each replica, in replica order (empty with ``expose: none``)."""
    container_names: pulumi.Output[list[str]]
    """Names of the containers, in replica order."""
    image_ref: pulumi.Output[str]
    """The image the containers run."""
    network_name: pulumi.Output[str]
    """The Docker network the containers join; other services on it reach this one as ``<name>:<port>``."""

    def __init__(self, name: str, args: DockerServiceArgs, opts: pulumi.ResourceOptions | None = None, *,
                 profile: Profile | str | None = None, project_dir: str | Path | None = None,
                 network_name: pulumi.Input[str] | None = None, image: ContainerImage | None = None):
        """``network_name`` joins an existing Docker network (default: a network of its own). ``image`` is the
        stack's shared local build of the ``image`` spec (see :func:`~components.blocks.container_image.shared_image`).
        Default: the service builds its own on its Docker host."""
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        args = dict(args or {})
        validate_docker(name, args, name, ValidationContext(profile=prof, project_dir=pdir)).raise_if_any()
        super().__init__("microservices:docker:DockerService", name, None, opts)
        core = resolve_core(args, prof)
        settings = resolve_container(name, args, core)
        labels = [{"label": k, "value": v} for k, v in sorted(standard_tags(name, prof.name, core.tags).items())]
        child = pulumi.ResourceOptions(parent=self)
        if args.get("docker_host"):
            host_provider = docker.Provider(f"{name}-docker", host=args["docker_host"], opts=child)
            child = pulumi.ResourceOptions(parent=self, provider=host_provider)
            image_opts = pulumi.ResourceOptions(parent=self, providers={"docker": host_provider})
        else:
            image_opts = pulumi.ResourceOptions(parent=self)
        if image is None or "context" not in settings.image:
            image = ContainerImage(name, settings.image, image_opts, profile=prof, project_dir=pdir, push=False,
                                   docker_host=args.get("docker_host"))
        if network_name is None:
            network = docker.Network(f"{name}-net", driver="bridge", labels=labels, opts=child)
            network_name = network.name

        envs = _container_env(name, core)
        replicas = replicas_of(args, prof)
        host_port = args.get("host_port")
        bind_ip = "0.0.0.0" if core.expose == "public" else "127.0.0.1"
        hc = core.health_check
        healthcheck = None
        if settings.health_command:
            healthcheck = {"tests": settings.health_command, "interval": f"{hc.interval}s", "timeout": f"{hc.timeout}s",
                           "retries": hc.unhealthy_threshold, "start_period": f"{hc.grace_period}s"}
        restart = args.get("restart", "unless-stopped")
        host = _host_of(args.get("docker_host"))
        containers, urls = [], []
        for i in range(replicas):
            ports = None
            if core.expose != "none":
                port: dict[str, Any] = {"internal": core.port, "ip": bind_ip, "protocol": "tcp"}
                if host_port is not None:
                    port["external"] = int(host_port) + i
                ports = [port]
            container = docker.Container(
                f"{name}-{i}", image=image.image_ref, envs=envs, ports=ports, healthcheck=healthcheck,
                restart=restart, max_retry_count=5 if restart == "on-failure" else None,
                memory=int(args.get("memory", prof.container_memory)),
                cpus=_cpus(int(args.get("cpu", prof.container_cpu))),
                read_only=settings.read_only_root_filesystem,
                tmpfs={p: TMPFS_OPTIONS for p in settings.writable_paths} or None,
                user=settings.user, command=settings.command, init=True,
                capabilities={"drops": ["ALL"]}, security_opts=["no-new-privileges:true"],
                networks_advanced=[{"name": network_name, "aliases": [name]}],
                log_driver="json-file", log_opts={"max-size": "10m", "max-file": "3"},
                # A container with restart 'no' is a run-once job: it is not required to keep running.
                labels=labels, must_run=restart != "no", opts=child)
            containers.append(container)
            if ports is not None:
                urls.append(container.ports.apply(lambda ps, h=host: _url(h, ps)))

        self.urls = pulumi.Output.all(*urls) if urls else pulumi.Output.from_input([])
        self.container_names = pulumi.Output.all(*[c.name for c in containers])
        self.image_ref = image.image_ref
        self.network_name = pulumi.Output.from_input(network_name)
        self.register_outputs({"urls": self.urls, "container_names": self.container_names,
                               "image_ref": self.image_ref, "network_name": self.network_name})


def _cpus(units: int) -> str:
    """CPU units (1024 per CPU) as Docker's ``--cpus`` value."""
    return f"{units / 1024:g}"


def _url(host: str, ports: Any) -> str | None:
    if not ports:
        return None
    first = ports[0]
    external = first.get("external") if isinstance(first, Mapping) else getattr(first, "external", None)
    return f"http://{host}:{int(external)}" if external else None


def _container_env(name: str, core: CoreSpec) -> pulumi.Output[list[str]] | list[str]:
    """``KEY=value`` pairs, sorted. Secrets come from the stack's secret config ``secrets:<VARIABLE>``,
    since a Docker host has no access to SSM or Secrets Manager."""
    env = {**core.environment}
    if not core.secrets:
        return [f"{k}={v}" for k, v in sorted(env.items())]
    config = pulumi.Config("secrets")
    values: dict[str, Any] = dict(env)
    for var, arn in sorted(core.secrets.items()):
        value = config.get_secret(var)
        if value is None:
            pulumi.log.warn(f"{name}: secret {var} ({arn}) is not set on this Docker host; set it with "
                            f"`pulumi config set --secret secrets:{var} <value>`")
            continue
        values[var] = value
    if not any(is_unknown(v) for v in values.values()):
        return [f"{k}={v}" for k, v in sorted(values.items())]
    return pulumi.Output.all(**values).apply(lambda resolved: [f"{k}={v}" for k, v in sorted(resolved.items())])


# -- the docker pattern and the local stack ----------------------------------------------------

@dataclass
class DockerState:
    """What the ``docker`` services of one stack share while building."""

    network: docker.Network | None = None
    """The stack's one bridge network on the default Docker host, created on first use."""


def shared_network(ctx: BuildContext) -> pulumi.Output[str]:
    """The stack's one Docker network on the default host, created on first use."""
    state = ctx.state(DockerState)
    if state.network is None:
        network = docker.Network("docker-network", driver="bridge",
                                 labels=[{"label": k, "value": v}
                                         for k, v in sorted(standard_tags("docker-network", ctx.environment).items())],
                                 opts=pulumi.ResourceOptions(parent=ctx.parent))
        state.network = network
    return state.network.name


def _service(name: str, args: Mapping[str, Any], ctx: BuildContext) -> DockerService:
    network_name = None if args.get("docker_host") else shared_network(ctx)
    image = None
    vctx = ValidationContext(profile=ctx.profile, project_dir=ctx.project_dir)
    if not args.get("docker_host") and not validate_docker(name, args, name, vctx):
        # Services on the stack's own engine share one local build per context and platform.
        image = shared_image(ctx, args.get("image") or default_image_spec(name), push=False)
    service = DockerService(name, args, pulumi.ResourceOptions(parent=ctx.parent), profile=ctx.profile,
                            project_dir=ctx.project_dir, network_name=network_name, image=image)
    ctx.outputs[name] = {"urls": service.urls, "image": service.image_ref, "containers": service.container_names}
    return service


#: Kubernetes quantity suffixes, as CPU units (1024 per CPU) and as MiB.
CPU_SUFFIXES = {"": 1024, "m": 1024 / 1000}
MEMORY_SUFFIXES = {"": 2**-20, "Ki": 2**-10, "Mi": 1, "Gi": 2**10, "Ti": 2**20,
                   "k": 10**3 / 2**20, "M": 10**6 / 2**20, "G": 10**9 / 2**20, "T": 10**12 / 2**20}


def _quantity(value: Any, suffixes: Mapping[str, float], minimum: int) -> int | None:
    """An int as it is (CPU units or MiB), or a Kubernetes quantity (``250m``, ``0.5``, ``512Mi``, ``1Gi``)
    converted with ``suffixes``; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", value.strip())
        if m and m.group(2) in suffixes:
            return max(minimum, int(float(m.group(1)) * suffixes[m.group(2)]))
    return None


def docker_args_from(name: str, spec: Mapping[str, Any], vctx: ValidationContext) -> dict[str, Any]:
    """The :class:`DockerServiceArgs` that run any container service's spec on a Docker host: the core
    spec, ``image``, the container keys that are valid as they stand, and ``cpu``/``memory`` as limits
    (ints, or Kubernetes quantities). Everything else is the pattern's own business and is left out.
    ``expose: public`` publishes on 127.0.0.1 only, like ``internal``."""
    args: dict[str, Any] = {k: spec[k] for k in CORE_KEYS if k in spec}
    if "image" in spec:
        args["image"] = spec["image"]
    for key in CONTAINER_KEYS:
        if key in spec and key != "image":
            trial = Problems()
            validate_container_runtime({key: spec[key]}, "", trial)
            if not trial:
                args[key] = spec[key]
    if args.get("expose") == "public":
        # Public means an internet-facing load balancer in the cloud; on a workstation, loopback only.
        args["expose"] = "internal"
    cpu = _quantity(spec.get("cpu"), CPU_SUFFIXES, CPU_MIN)
    memory = _quantity(spec.get("memory"), MEMORY_SUFFIXES, MEMORY_MIN)
    if cpu is not None and CPU_MIN <= cpu <= CPU_MAX:
        args["cpu"] = cpu
    if memory is not None and memory >= MEMORY_MIN:
        args["memory"] = memory
    return args


def build_docker_local(name: str, spec: Mapping[str, Any], ctx: BuildContext, *,
                       overrides: Mapping[str, Any] | None = None) -> DockerService:
    """``build_local`` of every container pattern: run the service on the stack's Docker host, on the
    shared network, so services reach each other by name as they do through Service Connect or Kubernetes.
    ``overrides`` (:class:`DockerServiceArgs` keys) let a pattern adapt its own shapes, e.g. a run-once job."""
    vctx = ValidationContext(profile=ctx.profile, project_dir=ctx.project_dir)
    return _service(name, {**docker_args_from(name, spec, vctx), **(overrides or {})}, ctx)


PATTERN = Pattern(
    name="docker",
    validate=validate_docker,
    validate_catalog=validate_docker_catalog,
    build=_service,
    build_local=_service,
    run_container=build_docker_local,
    needs_network=False,
)
