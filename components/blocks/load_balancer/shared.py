"""Shared ALBs: one ALB several services of a stack attach to, each with a listener rule
(:class:`SharedLoadBalancer`), created once per stack by :func:`prepare_shared_load_balancers`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from ...profiles import Profile, get_profile
from ...validation import CatalogError, Problem, Problems
from ..certificate import TLS_REQUIRED_IN, has_tls, missing_tls_message
from ..service import standard_tags
from .args import (GATEWAY_ALB, SHARED_SETTINGS, LoadBalancerSettings, SharedRule, explicit_shared,
                   resolve_load_balancer, shared_groups)
from .create import Frontend, create_load_balancer
from .validate import DEFAULT_EXPOSE, rule_text, validate_load_balancer

__all__ = ["SharedLoadBalancer", "prepare_shared_load_balancers", "shared_load_balancer", "shared_name"]

#: The default action of a shared ALB: a request no service's rule takes.
NOT_FOUND = {"type": "fixed-response",
             "fixed_response": {"content_type": "text/plain", "status_code": "404", "message_body": "not found"}}


class SharedLoadBalancer(pulumi.ComponentResource):
    """An ALB shared by several services of a stack; each service adds a listener rule.

    Created once per stack by :func:`prepare_shared_load_balancers`; its default action answers 404.
    """

    arn: pulumi.Output[str]
    """ARN of the ALB."""
    arn_suffix: pulumi.Output[str]
    """ARN suffix of the ALB (the ``LoadBalancer`` dimension of its CloudWatch metrics)."""
    dns_name: pulumi.Output[str]
    """DNS name of the ALB."""
    zone_id: pulumi.Output[str]
    """Route 53 hosted zone id of the ALB (for alias records)."""
    security_group_id: pulumi.Output[str]
    """The ALB's security group, which services admit on their port."""
    listener_arn: pulumi.Output[str]
    """The listener services add rules to (HTTPS when a certificate is set, else HTTP)."""

    def __init__(self, name: str, settings: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None, *,
                 expose: str, network: Any, profile: Profile | str | None = None,
                 tags: Mapping[str, str] | None = None, rules: Mapping[str, SharedRule] | None = None,
                 subnet_ids: pulumi.Input[Sequence[str]] | None = None, admit_cidrs: bool = True):
        """``rules`` assigns services their rule up front (the gateway's ALB derives each from the service's
        ``routes``); any other service's rule comes from its ``load_balancer`` (``path``, ``host``, ``priority``).
        ``subnet_ids``: where the ALB sits. Default: the network's public subnets (``expose: public``) or private
        subnets (``internal``). ``admit_cidrs=False``: the listener admits no CIDR (not even the VPC's); the caller
        adds the security-group rules of its own sources."""
        own = {k: v for k, v in settings.items() if k in SHARED_SETTINGS}
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        _validate_shared(name, own, expose, prof)
        super().__init__("microservices:lb:SharedLoadBalancer", name, None, opts)
        resolved = resolve_load_balancer(own)
        self._tags = standard_tags(name, prof.name, tags)
        self.https = resolved.tls
        """True when the ALB listens on HTTPS (``certificate_arn`` or ``domain`` is set)."""
        self.domain: str | None = resolved.domain
        """The host name clients reach the ALB by (``domain``), or None."""
        self._claims: dict[tuple[Any, Any], str] = {}
        self._priorities: dict[int, str] = {}
        self.name = name
        """The shared ALB's name (``load_balancer.shared``, or :data:`GATEWAY_ALB`)."""
        self.rules: dict[str, SharedRule] = dict(rules or {})
        front = Frontend(name, resolved, expose, prof, self._tags, subnet_ids, admit_cidrs)
        lb, sg, listeners = create_load_balancer(self, front, network, NOT_FOUND)
        self.arn, self.arn_suffix, self.dns_name, self.zone_id = lb.arn, lb.arn_suffix, lb.dns_name, lb.zone_id
        self.security_group_id = sg.id
        self.listener_arn = listeners.main.arn
        self.register_outputs({"arn": self.arn, "arn_suffix": self.arn_suffix, "dns_name": self.dns_name,
                               "zone_id": self.zone_id, "security_group_id": self.security_group_id,
                               "listener_arn": self.listener_arn})

    def rule_for(self, service: str, args: Mapping[str, Any] | LoadBalancerSettings) -> SharedRule:
        """The rule of ``service``: assigned by ``rules``, else from its ``load_balancer`` args."""
        if service in self.rules:
            return self.rules[service]
        return SharedRule.of(service, resolve_load_balancer(args))

    def claim(self, service: str, host: str | None, path: str | None, priority: int) -> None:
        """Record that ``service`` routes ``host``/``path`` at ``priority``; a second claim is an error
        (this also catches claims across patterns, which each pattern's catalog check cannot see)."""
        key = (host, path)
        where = f"services.{service}.load_balancer"
        if key in self._claims and self._claims[key] != service:
            raise CatalogError([Problem(where, f"the rule {rule_text({'host': host, 'path': path})} on shared ALB "
                                               f"{self.name!r} is already claimed by service {self._claims[key]!r}")])
        if priority in self._priorities and self._priorities[priority] != service:
            raise CatalogError([Problem(f"{where}.priority", f"priority {priority} on shared ALB {self.name!r} is "
                                                             f"already used by service {self._priorities[priority]!r}")])
        self._claims[key] = service
        self._priorities[priority] = service


def _validate_shared(name: str, settings: Mapping[str, Any], expose: str, profile: Profile) -> None:
    """The shared ALB's own settings, its ``expose``, and TLS when prod exposes it publicly."""
    problems = Problems()
    validate_load_balancer(settings, name, problems, core={"expose": expose})
    if expose not in ("public", "internal"):
        problems.add(f"{name}.expose", f"must be 'public' or 'internal', got {expose!r}")
    if expose == "public" and profile.name == TLS_REQUIRED_IN and not has_tls(settings):
        problems.add(name, missing_tls_message(profile.name))
    problems.raise_if_any()


def shared_name(spec: Mapping[str, Any]) -> str | None:
    """The name of the shared ALB ``spec`` attaches to: ``load_balancer.shared``, else :data:`GATEWAY_ALB` for a
    service with ``routes`` (the gateway's ALB), else None (a load balancer of its own)."""
    explicit = explicit_shared(spec)
    if explicit is not None:
        return explicit
    if spec.get("routes") and spec.get("expose", DEFAULT_EXPOSE) != "none":
        return GATEWAY_ALB
    return None


def shared_load_balancer(spec: Mapping[str, Any], ctx: Any) -> SharedLoadBalancer | None:
    """The stack's :class:`SharedLoadBalancer` ``spec`` attaches to (created by
    :func:`prepare_shared_load_balancers`), or None when it has its own."""
    name = shared_name(spec)
    return ctx.load_balancers.get(name) if name else None


def prepare_shared_load_balancers(specs: Mapping[str, Mapping[str, Any]], ctx: Any) -> None:
    """Create each shared ALB named by ``specs`` (service -> catalog entry) once per stack, in
    ``ctx.load_balancers[name]`` (a :class:`SharedLoadBalancer` parented to ``ctx.parent``). Patterns call
    this from ``prepare``; an ALB another pattern already created is reused as it is."""
    for lb_name, services in shared_groups(specs).items():
        if lb_name in ctx.load_balancers:
            continue
        settings: dict[str, Any] = {}
        for service in services:
            for setting in SHARED_SETTINGS:
                value = specs[service]["load_balancer"].get(setting)
                if value is not None:
                    settings.setdefault(setting, value)
        expose = specs[services[0]].get("expose", DEFAULT_EXPOSE)
        ctx.load_balancers[lb_name] = SharedLoadBalancer(lb_name, settings, pulumi.ResourceOptions(parent=ctx.parent),
                                                         expose=expose, network=ctx.network, profile=ctx.profile)
