"""What the gateway reaches ``vm``, ``ecs`` and ``eks`` services through: one internal ALB and one VPC link.

Request path: client -> HTTP API (route) -> HTTP_PROXY integration -> VPC link (its ENIs in the ALB's subnets,
its security group allowed to the ALB's listener only) -> the shared internal ALB -> one listener rule per
service, whose path patterns come from the service's routes and which requires the ``X-Gateway-Service``
header the service's integration sets -> the service's target group.

- ``vm`` and ``ecs`` services attach to the ALB themselves, exactly as a service with ``load_balancer.shared``
  does: :func:`~components.blocks.load_balancer.shared_load_balancer` hands a service with ``routes`` this ALB
  (``ctx.load_balancers["gateway"]``), whose ``rules`` assign each its rule.
- ``eks`` services get a target group (target type ``ip``) and rule here, plus a ``TargetGroupBinding``
  (``elbv2.k8s.aws/v1beta1``) in the service's namespace, which the AWS Load Balancer Controller serves by
  registering the pods behind the service's Kubernetes Service; and a NetworkPolicy that admits the ALB's
  subnets to the pods' port.

One VPC link for the whole stack: an account has 10 VPC links per region by default (HTTP API quotas). VPC links
for HTTP APIs run only in some Availability Zones (API Gateway developer guide, "Set up VPC links for HTTP APIs",
Availability by Region): a subnet elsewhere fails CreateVpcLink ("Subnet ... is in Availability Zone 'use1-az3'
where service is not available"), so the link takes only the ALB subnets in supported zones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.load_balancer import (GATEWAY_ALB, HTTP, ServiceLoadBalancer, SharedLoadBalancer, SharedRule,
                                    network_value, rule_priority)
from ..blocks.service import resolve_core, standard_tags
from ..profiles import Profile
from .validate import alb_path_patterns

__all__ = ["GatewayBackends", "SERVICE_HEADER", "TARGET_GROUP_BINDING_API", "VPC_LINK_ZONE_IDS", "alb_rules",
           "alb_subnets", "bind_kubernetes_service", "create_backends", "vpc_link_subnets"]

TARGET_GROUP_BINDING_API = "elbv2.k8s.aws/v1beta1"
#: The header each service's integration sets (overwriting whatever the client sent) and its ALB rule requires:
#: the ALB evaluates rules by priority, so path patterns alone would let `/orders/*` of one service shadow
#: `/orders/special` of another; with the header a request reaches the service whose route API Gateway matched.
SERVICE_HEADER = "X-Gateway-Service"
#: The AZ IDs where VPC links for HTTP APIs run, for the regions whose list the developer guide gives ("Set up VPC
#: links for HTTP APIs", Availability by Region). Subnets of a region not listed here are all used.
VPC_LINK_ZONE_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-1": ("usw1-az1", "usw1-az3"),
}


@dataclass
class GatewayBackends:
    """The ALB every ``vm``/``ecs``/``eks`` route reaches, and the VPC link the API reaches it through."""

    load_balancer: SharedLoadBalancer
    vpc_link: aws.apigatewayv2.VpcLink
    security_group: aws.ec2.SecurityGroup
    """The VPC link's security group: egress to the ALB's listener port only."""
    subnet_cidrs: pulumi.Input[Sequence[str]] | None
    """CIDRs of the ALB's subnets (what a NetworkPolicy admits), None when the network does not name them."""


def alb_subnets(network: Any) -> tuple[pulumi.Input[Sequence[str]], pulumi.Input[Sequence[str]] | None]:
    """(subnet ids, CIDRs) for the gateway's ALB and VPC link: the network's internal load balancer subnets when
    it has them, else its private subnets (CIDRs unknown: None)."""
    if isinstance(network, Mapping):
        if network.get("load_balancer_subnet_ids"):
            return network["load_balancer_subnet_ids"], network.get("load_balancer_subnet_cidrs")
        return network_value(network, "private_subnet_ids"), None
    if "internal" in getattr(network, "load_balancer_tiers", ()):
        return network.load_balancer_subnet_ids, network.load_balancer_subnet_cidrs
    return network_value(network, "private_subnet_ids"), None


def vpc_link_subnets(subnet_ids: Sequence[str], subnet_zones: Sequence[str], region: str,
                     zone_names: Sequence[str], zone_ids: Sequence[str]) -> list[str]:
    """The subnets the VPC link may use: ``subnet_ids`` (in the order of their AZ names ``subnet_zones``) whose AZ
    ID supports VPC links in ``region`` (``zone_names``/``zone_ids``: the region's AZ name -> ID mapping, which
    differs between accounts). Unfiltered when the zones are unknown (an existing network) or the region has no
    list; an error when no subnet is left."""
    supported = VPC_LINK_ZONE_IDS.get(region)
    if supported is None or not subnet_zones or len(subnet_zones) != len(subnet_ids):
        return list(subnet_ids)
    zone_id = dict(zip(zone_names, zone_ids, strict=False))
    kept = [sid for sid, zone in zip(subnet_ids, subnet_zones, strict=True) if zone_id.get(zone, "") in supported]
    if not kept:
        raise ValueError(f"gateway: none of the load balancer subnets' zones ({', '.join(subnet_zones)}: "
                         f"{', '.join(zone_id.get(z, '?') for z in subnet_zones)}) runs VPC links for HTTP APIs in "
                         f"{region} (only {', '.join(supported)}); set network.availability_zone_names to zones that do")
    return kept


def _link_subnet_ids(network: Any, subnet_ids: pulumi.Input[Sequence[str]],
                     opts: pulumi.ResourceOptions) -> pulumi.Input[Sequence[str]]:
    zones = getattr(network, "availability_zones", None)
    if zones is None or isinstance(network, Mapping):
        return subnet_ids
    azs = aws.get_availability_zones_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent))
    region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent)).region
    return pulumi.Output.all(subnet_ids, zones, region, azs.names, azs.zone_ids).apply(
        lambda v: vpc_link_subnets(v[0], v[1], v[2], v[3], v[4]))


def alb_rules(routed: Mapping[str, Sequence[str]]) -> dict[str, SharedRule]:
    """Each service's listener rule on the gateway's ALB, from its route keys (service -> route keys)."""
    return {svc: SharedRule(priority=rule_priority(svc, {}), paths=tuple(alb_path_patterns(routes)),
                            header=(SERVICE_HEADER, svc))
            for svc, routes in sorted(routed.items())}


def create_backends(owner: pulumi.Resource, name: str, routed: Mapping[str, Sequence[str]], *, network: Any,
                    profile: Profile, tags: Mapping[str, str]) -> GatewayBackends:
    """The internal ALB (:data:`GATEWAY_ALB`, its rules assigned from ``routed``) and the VPC link, children of
    ``owner``."""
    child = pulumi.ResourceOptions(parent=owner)
    subnet_ids, subnet_cidrs = alb_subnets(network)
    alb = SharedLoadBalancer(GATEWAY_ALB, {}, child, expose="internal", network=network, profile=profile,
                             tags=tags, rules=alb_rules(routed), subnet_ids=subnet_ids,
                             # Only the VPC link may reach the listener: an in-VPC caller could otherwise set
                             # X-Gateway-Service itself and skip the gateway's authorizer and throttling.
                             admit_cidrs=False)
    sg = aws.ec2.SecurityGroup(f"{name}-vpc-link-sg", vpc_id=network_value(network, "vpc_id"),
                               description=f"{name} VPC link to the gateway ALB",
                               tags={**tags, "Name": f"{name}-vpc-link-sg"}, opts=child)
    aws.vpc.SecurityGroupEgressRule(f"{name}-vpc-link-to-alb", security_group_id=sg.id, ip_protocol="tcp",
                                    from_port=HTTP, to_port=HTTP, referenced_security_group_id=alb.security_group_id,
                                    description="the gateway ALB listener", tags=dict(tags), opts=child)
    aws.vpc.SecurityGroupIngressRule(f"{name}-alb-from-vpc-link", security_group_id=alb.security_group_id,
                                     ip_protocol="tcp", from_port=HTTP, to_port=HTTP,
                                     referenced_security_group_id=sg.id, description="from the gateway VPC link",
                                     tags=dict(tags), opts=child)
    vpc_link = aws.apigatewayv2.VpcLink(f"{name}-vpc-link", security_group_ids=[sg.id],
                                        subnet_ids=_link_subnet_ids(network, subnet_ids, child),
                                        tags=dict(tags), opts=child)
    return GatewayBackends(load_balancer=alb, vpc_link=vpc_link, security_group=sg, subnet_cidrs=subnet_cidrs)


def bind_kubernetes_service(owner: pulumi.Resource, service: str, spec: Mapping[str, Any], component: Any, *,
                            cluster: Any, backends: GatewayBackends, network: Any, profile: Profile) -> ServiceLoadBalancer:
    """An ``eks`` service behind the gateway: its target group and rule on the ALB (the ALB may reach the cluster's
    security group on the service's port), a ``TargetGroupBinding`` to its Kubernetes Service and a NetworkPolicy
    admitting the ALB's subnets; the Kubernetes objects use the cluster's provider."""
    import pulumi_kubernetes as k8s

    if backends.subnet_cidrs is None:
        raise ValueError(f"{service}: an eks service behind the gateway needs a network that names its load balancer "
                         "subnets (load_balancer_subnet_ids and load_balancer_subnet_cidrs) for its NetworkPolicy")
    # The service is reached through the gateway's internal ALB whatever its own `expose` (none: no Ingress).
    core = dataclasses.replace(resolve_core(spec, profile), expose="internal")
    lb = ServiceLoadBalancer(service, {}, pulumi.ResourceOptions(parent=owner), core=core, network=network,
                             profile=profile, target_type="ip", shared=backends.load_balancer,
                             target_security_group_id=cluster.cluster_security_group_id,
                             tags=standard_tags(service, profile.name, core.tags))
    # Placed by the Service's name and namespace (outputs that wait for them), not after the whole component:
    # the binding need not wait for the Deployment's rollout or the Ingress's load balancer.
    kopts = pulumi.ResourceOptions(parent=owner, provider=cluster.provider)
    labels = {"app.kubernetes.io/name": service, "app.kubernetes.io/component": "gateway-binding",
              "app.kubernetes.io/managed-by": "pulumi"}
    selector = {"app.kubernetes.io/name": service, "app.kubernetes.io/instance": f"{service}-{profile.name}"}
    netpol = k8s.networking.v1.NetworkPolicy(
        f"{service}-gw-netpol", metadata={"name": f"{service}-from-gateway", "namespace": component.namespace,
                                          "labels": labels},
        spec={"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"],
              "ingress": [{"from": pulumi.Output.from_input(backends.subnet_cidrs).apply(
                  lambda cidrs: _ip_blocks(service, cidrs)),
                  "ports": [{"port": core.port, "protocol": "TCP"}]}]},
        opts=kopts)
    k8s.apiextensions.CustomResource(
        f"{service}-gw-binding", api_version=TARGET_GROUP_BINDING_API, kind="TargetGroupBinding",
        metadata={"name": f"{service}-gateway", "namespace": component.namespace, "labels": labels},
        spec={"serviceRef": {"name": component.service_name, "port": "http"},
              "targetGroupARN": lb.target_group_arn, "targetType": "ip"},
        # Targets register once the rules letting the ALB reach them exist (security groups and the pods'
        # NetworkPolicy), so their first health checks can pass.
        opts=pulumi.ResourceOptions.merge(kopts, pulumi.ResourceOptions(
            depends_on=[lb.attachment, *lb.target_rules, netpol])))
    return lb


def _ip_blocks(service: str, cidrs: Sequence[str]) -> list[dict[str, Any]]:
    # An empty `from` admits every source: refuse rather than open the pods to the whole cluster.
    if not cidrs:
        raise ValueError(f"{service}: the network names no load balancer subnet CIDRs for the gateway's NetworkPolicy")
    return [{"ipBlock": {"cidr": c}} for c in cidrs]
