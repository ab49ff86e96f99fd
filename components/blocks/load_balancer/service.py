"""The load balancing of one service (:class:`ServiceLoadBalancer`): a target group with the core spec's health
check, and either a load balancer of its own or a rule on a shared ALB."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ...profiles import Profile, get_profile
from ...validation import Problems
from ..certificate import TLS_REQUIRED_IN, has_tls, missing_tls_message
from ..service import CoreSpec, HealthCheck, standard_tags
from .args import LoadBalancerArgs, LoadBalancerSettings, SharedRule, resolve_load_balancer
from .create import Frontend, create_load_balancer, network_value
from .validate import validate_load_balancer

__all__ = ["ServiceLoadBalancer"]


@dataclass(frozen=True)
class _Targets:
    """What the target group registers: the port, instances or IPs, in which VPC."""

    port: int
    type: str
    vpc_id: pulumi.Input[str]


class ServiceLoadBalancer(pulumi.ComponentResource):
    """The load balancing of one service: a target group with validated health checks, and either an
    ALB/NLB of its own (security group, listeners, access logs in prod) or a rule on a shared ALB."""

    target_group_arn: pulumi.Output[str]
    """ARN of the target group (ASG ``target_group_arns`` or ECS ``load_balancers``)."""
    target_group_arn_suffix: pulumi.Output[str]
    """ARN suffix of the target group (the ``TargetGroup`` dimension of its metrics)."""
    arn: pulumi.Output[str]
    """ARN of the load balancer (the shared one when attached to a shared ALB)."""
    arn_suffix: pulumi.Output[str]
    """ARN suffix of the load balancer (the ``LoadBalancer`` dimension of its metrics)."""
    dns_name: pulumi.Output[str]
    """DNS name clients connect to."""
    zone_id: pulumi.Output[str]
    """Route 53 hosted zone id of the load balancer (for alias records)."""
    security_group_id: pulumi.Output[str]
    """The load balancer's security group (the only source the service's security group admits)."""
    url: pulumi.Output[str]
    """``https://<domain>`` with a ``domain``, else ``http(s)://<dns_name>``; plus the rule's path prefix on a
    shared ALB."""
    attachment: pulumi.Resource
    """The listener (own load balancer) or listener rule (shared ALB) that attaches the target group to
    its load balancer. ECS refuses a target group without a load balancer; VM groups and ECS services
    depend on this."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None, *,
                 core: CoreSpec, network: Any, profile: Profile | str | None = None,
                 target_type: str = "instance", port: int | None = None,
                 target_security_group_id: pulumi.Input[str] | None = None,
                 shared: Any = None, tags: Mapping[str, str] | None = None):
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        _validate_service(name, dict(args or {}), core, prof, target_type, shared)
        super().__init__("microservices:lb:ServiceLoadBalancer", name, None, opts)
        settings = resolve_load_balancer(args)
        tags = standard_tags(name, prof.name, tags or core.tags)
        port = int(port or core.port)
        targets = _Targets(port, target_type, network_value(network, "vpc_id"))
        tg = self._target_group(name, settings, core.health_check, targets, tags)
        forward = {"type": "forward", "target_group_arn": tg.arn}
        if shared is not None:
            lb_sg = self._attach_to_shared(name, settings, shared, forward, tags)
        else:
            lb_sg = self._create_own(name, Frontend(name, settings, core.expose, prof, tags), network, forward)
        # The rules that let the load balancer reach target_security_group_id: targets that register before
        # they exist fail their first health checks, so whatever registers targets waits for these.
        self.target_rules: list[pulumi.Resource] = []
        if target_security_group_id is not None:
            self.target_rules = self._admit(name, port, lb_sg, target_security_group_id, tags)
        self.lb_type = settings.type
        self.target_group_arn = tg.arn
        self.target_group_arn_suffix = tg.arn_suffix
        self.security_group_id = pulumi.Output.from_input(lb_sg)
        self.register_outputs({"target_group_arn": self.target_group_arn,
                               "target_group_arn_suffix": self.target_group_arn_suffix, "arn": self.arn,
                               "arn_suffix": self.arn_suffix, "dns_name": self.dns_name, "zone_id": self.zone_id,
                               "security_group_id": self.security_group_id, "url": self.url})

    def _target_group(self, name: str, settings: LoadBalancerSettings, hc: HealthCheck, targets: _Targets,
                      tags: Mapping[str, str]) -> aws.lb.TargetGroup:
        health_check = {"enabled": True, "path": hc.path, "protocol": "HTTP", "port": "traffic-port",
                        "interval": hc.interval, "timeout": hc.timeout, "healthy_threshold": hc.healthy_threshold,
                        "unhealthy_threshold": hc.unhealthy_threshold, "matcher": settings.matcher}
        tg_kwargs: dict[str, Any] = {}
        if settings.type == "nlb":
            tg_kwargs.update(protocol="TCP", connection_termination=True)
        else:
            tg_kwargs.update(protocol="HTTP", protocol_version="HTTP1",
                             load_balancing_algorithm_type="least_outstanding_requests")
        return aws.lb.TargetGroup(f"{name}-tg", port=targets.port, target_type=targets.type, vpc_id=targets.vpc_id,
                                  deregistration_delay=settings.deregistration_delay, health_check=health_check,
                                  tags={**tags, "Name": f"{name}-tg"}, opts=pulumi.ResourceOptions(parent=self),
                                  **tg_kwargs)

    def _attach_to_shared(self, name: str, settings: LoadBalancerSettings, shared: Any,
                          forward: Mapping[str, Any], tags: Mapping[str, str]) -> pulumi.Input[str]:
        """A listener rule on ``shared`` forwarding to the target group; returns the ALB's security group."""
        lb_name = settings.shared or shared.name
        rule = shared.rule_for(name, settings) if hasattr(shared, "rule_for") else SharedRule.of(name, settings)
        if hasattr(shared, "claim"):
            shared.claim(name, rule.host, ",".join(rule.paths) or None, rule.priority)
        conditions = []
        if rule.host is not None:
            conditions.append({"host_header": {"values": [rule.host]}})
        if rule.paths:
            conditions.append({"path_pattern": {"values": list(rule.paths)}})
        if rule.header is not None:
            conditions.append({"http_header": {"http_header_name": rule.header[0], "values": [rule.header[1]]}})
        self.attachment = aws.lb.ListenerRule(f"{name}-rule", listener_arn=shared.listener_arn,
                                              priority=rule.priority, conditions=conditions, actions=[forward],
                                              tags={**tags, "SharedAlb": lb_name},
                                              opts=pulumi.ResourceOptions(parent=self))
        self.arn, self.arn_suffix = shared.arn, shared.arn_suffix
        self.dns_name, self.zone_id = shared.dns_name, shared.zone_id
        scheme = "https" if getattr(shared, "https", False) or settings.tls else "http"
        prefix = (rule.paths[0] if rule.paths else "/").rstrip("*")
        host = rule.host or getattr(shared, "domain", None)
        self.url = (pulumi.Output.from_input(f"{scheme}://{host}{prefix}") if host
                    else pulumi.Output.concat(f"{scheme}://", shared.dns_name, prefix))
        return shared.security_group_id

    def _create_own(self, name: str, front: Frontend, network: Any,
                    forward: Mapping[str, Any]) -> pulumi.Input[str]:
        """A load balancer of the service's own whose listener forwards to the target group; returns its
        security group."""
        lb, sg, listeners = create_load_balancer(self, front, network, forward)
        self.arn, self.arn_suffix, self.dns_name, self.zone_id = lb.arn, lb.arn_suffix, lb.dns_name, lb.zone_id
        scheme = "https" if front.settings.tls else "http"
        self.url = pulumi.Output.concat(f"{scheme}://", front.settings.domain or lb.dns_name)
        self.attachment = listeners.main
        return sg.id

    def _admit(self, name: str, port: int, lb_sg: pulumi.Input[str], target_sg: pulumi.Input[str],
               tags: Mapping[str, str]) -> list[pulumi.Resource]:
        """The service port of ``target_sg`` open to the load balancer's security group, and its egress to it."""
        child = pulumi.ResourceOptions(parent=self)
        return [aws.vpc.SecurityGroupIngressRule(f"{name}-from-lb", security_group_id=target_sg, ip_protocol="tcp",
                                                 from_port=port, to_port=port, referenced_security_group_id=lb_sg,
                                                 description="service port from its load balancer", tags=dict(tags),
                                                 opts=child),
                aws.vpc.SecurityGroupEgressRule(f"{name}-to-targets", security_group_id=lb_sg, ip_protocol="tcp",
                                                from_port=port, to_port=port, referenced_security_group_id=target_sg,
                                                description=f"to {name} targets", tags=dict(tags), opts=child)]


def _validate_service(name: str, args: Mapping[str, Any], core: CoreSpec, profile: Profile, target_type: str,
                      shared: Any) -> None:
    """The service's ``load_balancer``, its exposure, the target type, the shared ALB it names, and TLS when prod
    exposes it publicly."""
    problems = Problems()
    validate_load_balancer(args, f"{name}.load_balancer", problems, core={"expose": core.expose})
    if core.expose == "none":
        problems.add(f"{name}.expose", "is 'none': a service without exposure has no load balancer")
    if target_type not in ("instance", "ip"):
        problems.add(f"{name}.target_type", f"must be 'instance' or 'ip', got {target_type!r}")
    if args.get("shared") is not None and shared is None:
        problems.add(f"{name}.load_balancer.shared", f"names shared ALB {args['shared']!r} but none was passed "
                                                     "(shared=SharedLoadBalancer(...), or let the platform's "
                                                     "prepare step create it)")
    tls = getattr(shared, "https", False) if shared is not None else has_tls(args)
    if core.expose == "public" and profile.name == TLS_REQUIRED_IN and not tls:
        problems.add(f"{name}.load_balancer", missing_tls_message(profile.name))
    problems.raise_if_any()
