"""The ``docker`` pattern's registration: each service on the stack's Docker host (one shared network, one
local build per image context), and :func:`build_docker_local`, which runs any container pattern's service
(``ecs``, ``eks``) the same way in the ``local`` profile, reached through the registry
(:func:`~components.patterns.run_on_docker_host`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from ..blocks.container import CONTAINER_KEYS, validate_container_runtime
from ..blocks.container_image import default_image_spec, shared_image
from ..blocks.service import CORE_KEYS
from ..patterns import BuildContext, Pattern, ValidationContext
from ..validation import Problems
from .args import CPU_MAX, CPU_MIN, MEMORY_MIN
from .component import DockerService, docker_labels
from .validate import validate_docker, validate_docker_catalog

__all__ = ["DockerState", "PATTERN", "build_docker_local", "build_service", "docker_args_from", "shared_network"]


@dataclass
class DockerState:
    """What the ``docker`` services of one stack share while building."""

    network: docker.Network | None = None
    """The stack's one bridge network on the default Docker host, created on first use."""


def shared_network(ctx: BuildContext) -> pulumi.Output[str]:
    """The stack's one Docker network on the default host, created on first use."""
    state = ctx.state(DockerState)
    if state.network is None:
        state.network = docker.Network("docker-network", driver="bridge",
                                       labels=docker_labels("docker-network", ctx.environment),
                                       opts=pulumi.ResourceOptions(parent=ctx.parent))
    return state.network.name


def build_service(name: str, args: Mapping[str, Any], ctx: BuildContext) -> DockerService:
    """``build`` (and ``build_local``) of a ``docker`` service: on the stack's network unless it names a
    ``docker_host`` of its own."""
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
    """The :class:`~.args.DockerServiceArgs` that run any container service's spec on a Docker host: the core
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
    ``overrides`` (:class:`~.args.DockerServiceArgs` keys) let a pattern adapt its own shapes, e.g. a run-once job."""
    vctx = ValidationContext(profile=ctx.profile, project_dir=ctx.project_dir)
    return build_service(name, {**docker_args_from(name, spec, vctx), **(overrides or {})}, ctx)


PATTERN = Pattern(
    name="docker",
    validate=validate_docker,
    validate_catalog=validate_docker_catalog,
    build=build_service,
    build_local=build_service,
    run_container=build_docker_local,
    needs_network=False,
)
