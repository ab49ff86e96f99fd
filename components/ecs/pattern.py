"""The ``ecs`` pattern's registration: the stack's one cluster (prepared once), each service on it, and
each service on a Docker host in the ``local`` profile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from ..blocks.container_image import default_image_spec, platform_of, shared_image
from ..blocks.load_balancer import prepare_shared_load_balancers, shared_load_balancer
from ..patterns import BuildContext, Pattern, ValidationContext, run_on_docker_host
from ..validation import Problems
from .args import resolve_capacity, shape_of, task_architecture
from .cluster import EcsCluster
from .service import EcsService
from .validate import validate_ecs, validate_ecs_catalog, validate_ecs_cluster

__all__ = ["PATTERN"]


def prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    """The stack's one cluster (``ctx.clusters["ecs"]``), with EC2 capacity only when a service
    asks for it, and any shared ALB the services name. :class:`~components.ecs.args.EcsClusterArgs` given
    to the platform as ``ctx.settings["ecs"]`` (a stack's ``microservices:ecs``) shape the cluster."""
    prepare_shared_load_balancers(specs, ctx)
    if "ecs" in ctx.clusters or not specs:
        return
    args = dict(ctx.settings.get("ecs") or {})
    if any(resolve_capacity(spec, ctx.profile) == "ec2" for spec in specs.values()):
        args.setdefault("ec2", {})
    ctx.clusters["ecs"] = EcsCluster("ecs", args, pulumi.ResourceOptions(parent=ctx.parent),
                                     network=ctx.network, profile=ctx.profile)


def build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> EcsService:
    """One service on the stack's cluster, its image shared with every service built from the same context."""
    if "ecs" not in ctx.clusters:
        prepare({name: spec}, ctx)
    cluster = ctx.clusters["ecs"]
    image = None
    problems = validate_ecs(name, spec, name, ValidationContext(profile=ctx.profile, project_dir=ctx.project_dir))
    if not problems:
        image = shared_image(ctx, spec.get("image") or default_image_spec(name),
                             platform=platform_of(task_architecture(spec, ctx.profile, cluster)), push=True)
    service = EcsService(name, spec, pulumi.ResourceOptions(parent=ctx.parent), cluster=cluster,
                         network=ctx.network, profile=ctx.profile, project_dir=ctx.project_dir,
                         shared_load_balancer=shared_load_balancer(spec, ctx), image=image)
    settings = service.settings
    outputs = {"image": service.image_ref, "task_definition": service.task_definition_arn,
               "logs": service.log_group_name}
    if settings.shape != "scheduled":
        outputs["service"] = service.service_name
    if settings.core.expose != "none":
        outputs["url"] = service.url
    if settings.shape == "worker":
        outputs["queue_url"] = service.queue_url
    ctx.outputs[name] = outputs
    return service


def build_local(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> pulumi.Resource:
    """On a Docker host: a service as it is; a worker without a published port; a scheduled task as a
    run-once container (Docker has no scheduler)."""
    shape = shape_of(spec)
    overrides: dict[str, Any] = {}
    if shape != "service":
        overrides["expose"] = "none"
        if spec.get("health_command") is None:
            overrides["health_command"] = ["NONE"]
    if shape == "scheduled":
        overrides["restart"] = "no"
    return run_on_docker_host(name, spec, ctx, overrides=overrides)


def _validate_section(section: str, settings: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    """The stack's ``microservices:ecs``: the cluster's args."""
    return validate_ecs_cluster(settings, path)


PATTERN = Pattern(
    name="ecs",
    validate=validate_ecs,
    validate_catalog=validate_ecs_catalog,
    validate_section=_validate_section,
    prepare=prepare,
    build=build,
    build_local=build_local,
    needs_network=True,
)
