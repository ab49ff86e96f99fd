"""How the platform runs the gateway: a stack feature (``microservices:gateway``), not a service pattern.

Before the patterns prepare, :func:`_create` builds the :class:`~components.ApiGateway` (``ctx.gateway``) and,
when ``vm``/``ecs``/``eks`` services have routes, its internal ALB (``ctx.load_balancers["gateway"]``), which
those ``vm`` and ``ecs`` services then attach to like any shared ALB. Once every service is built,
:func:`_finish` adds each service's integration and routes, then the stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ..blocks.load_balancer import GATEWAY_ALB
from ..patterns import BuildContext, StackFeature
from .args import resolve_routes, route_key
from .component import ApiGateway
from .validate import ALB_PATTERNS, gateway_warnings, validate_gateway, validate_routes

__all__ = ["FEATURE", "GatewayState"]

NAME = "gateway"


@dataclass
class GatewayState:
    """The services with routes, by name: (pattern, spec)."""

    routed: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)


def _create(settings: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    state = ctx.state(GatewayState)
    state.routed = {svc: (spec["pattern"], {k: v for k, v in spec.items() if k != "pattern"})
                    for svc, spec in sorted(services.items()) if spec.get("routes")}
    load_balanced = {svc: [route_key(e) for e in spec["routes"]] for svc, (kind, spec) in state.routed.items()
                     if kind in ALB_PATTERNS}
    ctx.gateway = ApiGateway(NAME, dict(settings or {}), pulumi.ResourceOptions(parent=ctx.parent),
                             profile=ctx.profile, network=ctx.network, load_balanced=load_balanced or None)
    if ctx.gateway.backends is not None:
        ctx.load_balancers[GATEWAY_ALB] = ctx.gateway.backends.load_balancer


def _finish(ctx: BuildContext) -> None:
    gateway: ApiGateway = ctx.gateway
    for svc, (kind, spec) in ctx.state(GatewayState).routed.items():
        routes = resolve_routes(spec, gateway.settings)
        # A copy: a pattern may have handed its component's own outputs dict to the platform.
        exported = dict(ctx.outputs.get(svc) or {})
        exported["routes"] = [route.key for route in routes]
        component = ctx.components[svc]
        if kind == "lambda":
            gateway.add_lambda(svc, routes, function_name=component.function_name, alias_arn=component.alias_arn)
        elif kind == "eks":
            gateway.add_kubernetes(svc, routes, spec, component, cluster=ctx.clusters["eks"], network=ctx.network)
        else:
            gateway.add_load_balanced(svc, routes)
            # Its own `url` names the gateway's internal ALB, which answers only the VPC link (and only with the
            # header the gateway sets): what clients call is the gateway.
            exported["url"] = gateway.url
        ctx.outputs[svc] = exported
    gateway.finish()


FEATURE = StackFeature(name=NAME, validate=validate_gateway, validate_catalog=validate_routes, create=_create,
                       finish=_finish, warn=gateway_warnings,
                       local_skip_reason="the local profile runs no API gateway: services' routes are ignored and "
                                         "each service is reached on its own published port")
