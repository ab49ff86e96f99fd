"""The ``eks`` catalog pattern: one :class:`EksCluster` per stack (its ``microservices:eks`` section), shared by
every ``eks`` service, each deployed as a :class:`KubernetesService`; in the ``local`` profile the ``docker``
pattern runs the services instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ..blocks.architecture import is_arm64 as is_arm
from ..patterns import BuildContext, Pattern, ValidationContext, run_on_docker_host
from ..validation import Problems
from .cluster import EksCluster
from .manifests import namespace_labels
from .service import KubernetesService
from .validate import validate_catalog, validate_eks_cluster, validate_kubernetes_service

__all__ = ["EksState", "PATTERN"]


@dataclass
class EksState:
    """What the ``eks`` services of one stack share while building."""

    namespaces: dict[str, str] = field(default_factory=dict)
    """Each service's namespace, by service name."""
    shared_namespaces: dict[str, Any] = field(default_factory=dict)
    """Namespaces several services use, created once by the pattern (none of them owns it), by name."""


def _namespace_of(name: str, spec: Mapping[str, Any]) -> str:
    return spec.get("namespace", name)


def _prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    if not specs:
        return
    import pulumi_kubernetes as k8s
    cluster = EksCluster("eks", ctx.settings.get("eks") or {}, pulumi.ResourceOptions(parent=ctx.parent),
                         network=ctx.network, profile=ctx.profile)
    ctx.clusters["eks"] = cluster
    state = ctx.state(EksState)
    users: dict[str, list[str]] = {}
    for svc, spec in specs.items():
        users.setdefault(_namespace_of(svc, spec), []).append(svc)
    state.namespaces = {svc: _namespace_of(svc, spec) for svc, spec in specs.items()}
    # A namespace shared by several services is created once, here, so none of them owns it.
    state.shared_namespaces = {
        ns: k8s.core.v1.Namespace(f"eks-ns-{ns}", metadata={"name": ns, "labels": namespace_labels(ns)},
                                  opts=pulumi.ResourceOptions(parent=cluster, provider=cluster.provider))
        for ns, members in sorted(users.items()) if len(members) > 1}


def _build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> pulumi.Resource:
    cluster = ctx.clusters["eks"]
    state = ctx.state(EksState)
    namespaces = state.namespaces
    args = dict(spec)
    deps = []
    shared_ns = state.shared_namespaces.get(_namespace_of(name, spec))
    if shared_ns is not None:
        args["create_namespace"] = False
        deps.append(shared_ns)
    if args.get("allow_from"):
        args["allow_from"] = [ref if "/" in ref else f"{namespaces.get(ref, ref)}/{ref}" for ref in args["allow_from"]]
    image = _shared_image(name, spec, ctx, cluster)
    if image is not None:
        args["image"] = {"ref": image.image_ref}
    # Without the controller in this program, an Ingress has no address until one is installed.
    managed_lbc = cluster.settings.load_balancer_controller is not None
    service = KubernetesService(name, args, pulumi.ResourceOptions(parent=ctx.parent, depends_on=deps),
                                cluster=cluster, network=ctx.network, profile=ctx.profile, project_dir=ctx.project_dir,
                                await_load_balancer=managed_lbc)
    ctx.outputs[name] = {"namespace": service.namespace, "url": service.url, "cluster": cluster.cluster_name}
    return service


def _shared_image(name: str, spec: Mapping[str, Any], ctx: BuildContext, cluster: EksCluster) -> Any:
    """The stack's shared build of the service's image (see ``shared_image``), for its nodes' architecture."""
    from ..blocks.container_image import default_image_spec, shared_image
    archs = {is_arm(t) for group in cluster.settings.node_groups for t in group.size.instance_types}
    platform = None if len(archs) != 1 else ("linux/arm64" if archs.pop() else "linux/amd64")
    return shared_image(ctx, spec.get("image") or default_image_spec(name), platform=platform, push=True)


def _build_local(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> pulumi.Resource:
    """In the ``local`` profile: the ``docker`` pattern runs the service, with the keys a Docker host understands."""
    return run_on_docker_host(name, spec, ctx)


def _validate_section(section: str, settings: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_eks_cluster(settings, path, profile=vctx.profile)


PATTERN = Pattern(name="eks", validate=validate_kubernetes_service, build=_build, validate_catalog=validate_catalog,
                  validate_section=_validate_section, prepare=_prepare, build_local=_build_local, needs_network=True)
