"""``Platform``: the network, then every catalog service through its pattern's component."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi

from .catalog import Catalog, load_catalog
from .network import Network, NetworkArgs
from .patterns import PATTERN_MODULES, BuildContext, load_feature

__all__ = ["Platform", "PlatformArgs"]


class PlatformArgs(TypedDict):
    """The catalog, as in a stack file's ``microservices:*`` config (without the namespace)."""

    environment: NotRequired[str]
    """Profile of defaults: ``dev`` | ``staging`` | ``prod`` | ``local``. Default: ``dev``."""
    services: NotRequired[Mapping[str, Mapping[str, Any]]]
    """Service name -> spec (``pattern`` plus that pattern component's args). The name is a stable key:
    renaming a service replaces its resources. Default: no services beyond the shared catalog."""
    network: NotRequired[NetworkArgs]
    """Args of the stack's :class:`~components.Network`. Default: a new VPC shaped by the profile."""
    ecs: NotRequired[Mapping[str, Any]]
    """Args of the stack's ECS cluster, shared by every ``ecs`` service. Default: the profile's."""
    eks: NotRequired[Mapping[str, Any]]
    """Args of the stack's EKS cluster, shared by every ``eks`` service. Default: the profile's."""
    gateway: NotRequired[Mapping[str, Any]]
    """Args of the stack's :class:`~components.ApiGateway`, one HTTP API in front of every service that lists
    ``routes``. Default: no gateway (a service with routes is then an error; the ``local`` profile ignores both)."""
    profile: NotRequired[Mapping[str, Any]]
    """Overrides of the profile's defaults (``log_retention_days: 90``, ...). Default: none."""
    catalog_dir: NotRequired[str]
    """Folder of shared catalog files (``*.yaml`` with ``services:``) that ``services`` is merged over,
    relative to the project. Default: ``catalog``; empty to use none."""


class Platform(pulumi.ComponentResource):
    """Everything a stack deploys: validates the whole catalog first, then builds the network and each service."""

    network: Network | None
    """The stack's network (None in the ``local`` profile, which runs on a Docker host)."""
    services: dict[str, pulumi.Resource]
    """Each service's component, by name."""
    service_outputs: dict[str, dict[str, Any]]
    """What each service exports (URLs, ARNs, names), by service name."""
    skipped: dict[str, str]
    """Services not deployed in this profile, with the reason."""
    clusters: dict[str, pulumi.Resource]
    """The stack's shared clusters by pattern (``ecs``: an ``EcsCluster``, ``eks``: an ``EksCluster``)."""
    gateway: pulumi.Resource | None
    """The stack's :class:`~components.ApiGateway` (None without ``microservices:gateway``, and in ``local``)."""

    def __init__(self, name: str, args: PlatformArgs | Catalog, opts: pulumi.ResourceOptions | None = None, *,
                 project_dir: Path | str | None = None):
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        catalog = args if isinstance(args, Catalog) else load_catalog(args, pdir)
        super().__init__("microservices:platform:Platform", name, None, opts)
        self.catalog = catalog
        for warning in catalog.warnings:
            pulumi.log.warn(str(warning), resource=self)
        profile = catalog.profile
        needs_network = profile.cloud and any(
            catalog.patterns[spec["pattern"]].wants_network(spec) for spec in catalog.services.values())
        self.network = Network(name, catalog.network, pulumi.ResourceOptions(parent=self), profile=profile) \
            if needs_network or (profile.cloud and catalog.network) else None
        ctx = BuildContext(parent=self, profile=profile, network=self.network, project_dir=pdir,
                           settings=dict(catalog.clusters))
        self.services, self.skipped = {}, {}
        ctx.components = self.services
        features = {key: load_feature(key) for key in catalog.features}
        for key, feature in features.items():
            if profile.cloud:
                feature.create(catalog.features[key], catalog.services, ctx)
            else:
                self.skipped[f"microservices:{key}"] = feature.local_skip_reason
        ordered = [p for p in PATTERN_MODULES if p in catalog.patterns]
        if profile.cloud:
            # Shared ALBs first, from every service that names them: vm and ecs services may share one, and a
            # pattern's own prepare sees only its own services, so the first to prepare would otherwise create
            # the ALB without the other pattern's settings (its domain or certificate_arn, allowed_cidrs, ...).
            from .blocks.load_balancer import prepare_shared_load_balancers
            prepare_shared_load_balancers(catalog.services, ctx)
            for kind in ordered:
                pattern = catalog.patterns[kind]
                if pattern.prepare is not None:
                    pattern.prepare(catalog.services_of(kind), ctx)
        for kind in ordered:
            pattern = catalog.patterns[kind]
            for svc, spec in catalog.services_of(kind).items():
                if profile.cloud:
                    self.services[svc] = pattern.build(svc, spec, ctx)
                elif pattern.build_local is not None:
                    self.services[svc] = pattern.build_local(svc, spec, ctx)
                else:
                    self.skipped[svc] = f"pattern {kind!r}: {pattern.local_skip_reason}"
        if profile.cloud:
            for kind in ordered:
                if catalog.patterns[kind].finalize is not None:
                    catalog.patterns[kind].finalize(ctx)
            for feature in features.values():
                feature.finish(ctx)
        self.service_outputs = dict(sorted(ctx.outputs.items()))
        self.clusters = dict(sorted(ctx.clusters.items()))
        self.gateway = ctx.gateway
        self.register_outputs({"services": self.service_outputs, "skipped": self.skipped})

