"""``DockerService``: N replicas of a container service on one Docker host, built there without a push."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker as docker

from ..blocks.container_image import ContainerImage
from ..blocks.service import CoreSpec, standard_tags
from ..patterns import ValidationContext
from ..profiles import Profile, get_profile
from ..validation import is_unknown
from .args import DockerServiceArgs, DockerSettings, resolve_docker
from .validate import validate_docker

__all__ = ["DockerService", "docker_labels"]

#: Docker's json-file log driver, rotated so a chatty service cannot fill the host's disk.
LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}


def docker_labels(name: str, environment: str, extra: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The standard tags as Docker labels, sorted by key."""
    return [{"label": k, "value": v} for k, v in sorted(standard_tags(name, environment, extra).items())]


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
        settings = resolve_docker(name, args, prof)
        labels = docker_labels(name, prof.name, settings.core.tags)
        child, image_opts = self._options(name, settings)
        if image is None or "context" not in settings.container.image:
            image = ContainerImage(name, settings.container.image, image_opts, profile=prof, project_dir=pdir,
                                   push=False, docker_host=settings.docker_host)
        if network_name is None:
            network_name = docker.Network(f"{name}-net", driver="bridge", labels=labels, opts=child).name
        shared = _container_args(name, settings, image.image_ref, network_name, labels)
        containers = [docker.Container(f"{name}-{i}", ports=_ports(settings, i), **shared, opts=child)
                      for i in range(settings.replicas)]
        urls = [c.ports.apply(lambda ps, h=settings.url_host: _url(h, ps))
                for c in containers] if settings.core.expose != "none" else []

        self.urls = pulumi.Output.all(*urls) if urls else pulumi.Output.from_input([])
        self.container_names = pulumi.Output.all(*[c.name for c in containers])
        self.image_ref = image.image_ref
        self.network_name = pulumi.Output.from_input(network_name)
        self.register_outputs({"urls": self.urls, "container_names": self.container_names,
                               "image_ref": self.image_ref, "network_name": self.network_name})

    def _options(self, name: str, settings: DockerSettings) -> tuple[pulumi.ResourceOptions, pulumi.ResourceOptions]:
        """Options of the containers and network, and of the image build: on ``docker_host``'s provider
        when one is given, else the caller's."""
        if not settings.docker_host:
            return pulumi.ResourceOptions(parent=self), pulumi.ResourceOptions(parent=self)
        host_provider = docker.Provider(f"{name}-docker", host=settings.docker_host,
                                        opts=pulumi.ResourceOptions(parent=self))
        return (pulumi.ResourceOptions(parent=self, provider=host_provider),
                pulumi.ResourceOptions(parent=self, providers={"docker": host_provider}))


def _ports(settings: DockerSettings, i: int) -> list[dict[str, Any]] | None:
    """What replica ``i`` publishes: the port on ``host_port + i`` when a host port is given (else one Docker
    picks), nothing with ``expose: none``."""
    if settings.core.expose == "none":
        return None
    port: dict[str, Any] = {"internal": settings.core.port, "ip": settings.bind_ip, "protocol": "tcp"}
    if settings.host_port is not None:
        port["external"] = settings.host_port + i
    return [port]


def _container_args(name: str, settings: DockerSettings, image_ref: pulumi.Input[str],
                    network_name: pulumi.Input[str], labels: list[dict[str, str]]) -> dict[str, Any]:
    """The ``docker.Container`` inputs every replica shares: hardened (read-only root, tmpfs for
    ``writable_paths``, no capabilities, no privilege escalation, an init process), limited and labelled."""
    container = settings.container
    return dict(
        image=image_ref, envs=_container_env(name, settings.core), healthcheck=_healthcheck(settings),
        restart=settings.restart, max_retry_count=settings.max_retry_count, must_run=settings.must_run,
        memory=settings.memory, cpus=settings.cpus, read_only=container.read_only_root_filesystem,
        tmpfs={p: settings.tmpfs_options for p in container.writable_paths} or None,
        user=container.user, command=container.command, init=True,
        capabilities={"drops": ["ALL"]}, security_opts=["no-new-privileges:true"],
        networks_advanced=[{"name": network_name, "aliases": [name]}],
        log_driver="json-file", log_opts=LOG_OPTIONS, labels=labels)


def _healthcheck(settings: DockerSettings) -> dict[str, Any] | None:
    """Docker's health check: the container's command, timed by the core spec's ``health_check``."""
    command = settings.container.health_command
    if not command:
        return None
    hc = settings.core.health_check
    return {"tests": command, "interval": f"{hc.interval}s", "timeout": f"{hc.timeout}s",
            "retries": hc.unhealthy_threshold, "start_period": f"{hc.grace_period}s"}


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
