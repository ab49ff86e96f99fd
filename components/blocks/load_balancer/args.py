"""The load balancer's arguments: :class:`LoadBalancerArgs` (a service's ``load_balancer``, one docstring per key
stating its default) and :class:`LoadBalancerSettings`, what it resolves into once (:func:`resolve_load_balancer`,
after validation); the rule a service takes on a shared ALB (:class:`SharedRule`) and the catalog's grouping of
services by shared ALB."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi

from ..certificate import DEFAULT_SSL_POLICY

__all__ = [
    "GATEWAY_ALB",
    "HTTP",
    "HTTPS",
    "LB_KEYS",
    "LB_TYPES",
    "LoadBalancerArgs",
    "LoadBalancerSettings",
    "SHARED_SETTINGS",
    "SharedRule",
    "CERTIFICATE_ARN_PATTERN",
    "HOST_RULE_PATTERN",
    "MATCHER_PATTERN",
    "PATH_RULE_PATTERN",
    "PRIORITY_MAX",
    "RULE_VALUE_MAX",
    "SSL_POLICY_PATTERN",
    "explicit_shared",
    "resolve_load_balancer",
    "rule_priority",
    "shared_groups",
]

LB_TYPES = ("alb", "nlb")
LB_KEYS = ("type", "certificate_arn", "domain", "zone", "ssl_policy", "allowed_cidrs", "deregistration_delay",
           "matcher", "idle_timeout", "shared", "path", "host", "priority")
#: Keys that configure the shared ALB itself: every service on one shared ALB must agree on them.
SHARED_SETTINGS = ("certificate_arn", "domain", "zone", "ssl_policy", "allowed_cidrs", "idle_timeout")
CERTIFICATE_ARN_PATTERN = r"arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+"
SSL_POLICY_PATTERN = r"ELBSecurityPolicy-[A-Za-z0-9-]+"
MATCHER_PATTERN = r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*"
PATH_RULE_PATTERN = r"[A-Za-z0-9_\-.$/~\"'@:+&*?]+"
HOST_RULE_PATTERN = r"[A-Za-z0-9_\-.*?]*\.[A-Za-z*?]+"
RULE_VALUE_MAX = 128
PRIORITY_MAX = 50000
#: The shared internal ALB behind the stack's API gateway: a ``vm`` or ``ecs`` service with ``routes`` attaches
#: to it as a service with ``load_balancer.shared`` attaches to a shared ALB, with a rule derived from its routes.
GATEWAY_ALB = "gateway"
HTTP, HTTPS = 80, 443


class LoadBalancerArgs(TypedDict):
    """``load_balancer`` of a service: which load balancer fronts it and how. The core spec's
    ``expose`` decides whether there is one (``none``: no load balancer) and where it sits."""

    type: NotRequired[str]
    """``alb`` (HTTP, layer 7) or ``nlb`` (TCP/TLS, layer 4). Default: ``alb``."""
    certificate_arn: NotRequired[pulumi.Input[str]]
    """An existing ACM certificate's ARN. Default: none (a certificate for ``domain`` when it is set, else
    plain HTTP on port 80, which prod refuses for ``expose: public``). With a certificate: an HTTPS (ALB) or
    TLS (NLB) listener on 443, and an ALB's port 80 only redirects to HTTPS."""
    domain: NotRequired[str]
    """Host name clients use (``shop.example.com``, at most 64 characters): an ACM certificate for it,
    validated through DNS in ``zone``, serves the HTTPS/TLS listener, and an alias record in ``zone`` points
    it at the load balancer. Not with ``certificate_arn``. Default: none."""
    zone: NotRequired[str]
    """With ``domain``: the public Route 53 hosted zone holding its records, by id (``Z...``) or by name
    (``example.com``: ``domain`` or one of its parents). Default: none."""
    ssl_policy: NotRequired[str]
    """TLS policy of the HTTPS/TLS listener (``ELBSecurityPolicy-...``), with ``certificate_arn`` or
    ``domain``. Default:
    ``ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09`` (TLS 1.3 and 1.2, the policy AWS recommends)."""
    allowed_cidrs: NotRequired[Sequence[str]]
    """IPv4 CIDRs allowed to reach the listeners. Default: anywhere (``0.0.0.0/0``) when ``expose: public``,
    the VPC's CIDR when ``expose: internal``."""
    deregistration_delay: NotRequired[int]
    """Seconds a deregistering target keeps its in-flight requests, 0-3600. Default: 30."""
    matcher: NotRequired[str]
    """HTTP codes that mean healthy, each 200-499: ``200``, ``200,204`` or ``200-299``. Default: ``200-399``."""
    idle_timeout: NotRequired[int]
    """ALB idle connection timeout in seconds, 1-4000. Default: 60."""
    shared: NotRequired[str]
    """Name of a shared ALB to attach to with a ``path`` and/or ``host`` rule instead of a load balancer
    of its own. The shared ALB is created once per stack. Default: none (the service gets its own)."""
    path: NotRequired[str]
    """With ``shared``: path pattern routed to this service (``/orders/*``), at most 128 characters.
    Default: none (a ``host`` rule alone); one of ``path`` and ``host`` is required with ``shared``."""
    host: NotRequired[str]
    """With ``shared``: host header routed to this service (``orders.example.com``), at most 128 characters.
    Default: none (a ``path`` rule alone)."""
    priority: NotRequired[int]
    """With ``shared``: rule priority 1-50000 (lower is evaluated first; set it when rules overlap).
    Default: derived from the service name, stable across deployments."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerSettings:
    """``load_balancer`` resolved once (:func:`resolve_load_balancer`); the fields carry the defaults."""

    type: str = "alb"
    certificate_arn: pulumi.Input[str] | None = None
    domain: str | None = None
    zone: str | None = None
    ssl_policy: str = DEFAULT_SSL_POLICY
    allowed_cidrs: tuple[Any, ...] = ()
    """Empty: anywhere when ``expose: public``, the VPC's CIDR when ``internal``."""
    deregistration_delay: int = 30
    matcher: str = "200-399"
    idle_timeout: int = 60
    shared: str | None = None
    path: str | None = None
    host: str | None = None
    priority: int | None = None

    @property
    def tls(self) -> bool:
        """True with an HTTPS/TLS listener: a ``certificate_arn``, or a ``domain`` (a certificate is requested)."""
        return self.certificate_arn is not None or self.domain is not None


def resolve_load_balancer(spec: Mapping[str, Any] | LoadBalancerSettings | None) -> LoadBalancerSettings:
    """The settings of a validated ``load_balancer`` spec: what it leaves out (or sets to null) takes the
    field's default."""
    if isinstance(spec, LoadBalancerSettings):
        return spec
    given = {key: value for key in LB_KEYS if (value := (spec or {}).get(key)) is not None}
    for key in ("deregistration_delay", "idle_timeout", "priority"):
        if key in given:
            given[key] = int(given[key])
    if "matcher" in given:
        given["matcher"] = str(given["matcher"])
    if "allowed_cidrs" in given:
        given["allowed_cidrs"] = tuple(given["allowed_cidrs"])
    return LoadBalancerSettings(**given)


@dataclass(frozen=True)
class SharedRule:
    """One service's listener rule on a shared ALB: its priority, and the path patterns, host and/or HTTP header
    (name, value) it takes."""

    priority: int
    paths: tuple[str, ...] = ()
    host: str | None = None
    header: tuple[str, str] | None = None

    @classmethod
    def of(cls, service: str, settings: LoadBalancerSettings) -> SharedRule:
        """The rule ``service``'s own ``load_balancer`` settings ask for (``path``, ``host``, ``priority``)."""
        priority = settings.priority if settings.priority is not None else _name_priority(service)
        return cls(priority=priority, paths=(settings.path,) if settings.path is not None else (), host=settings.host)


def rule_priority(service: str, spec: Mapping[str, Any]) -> int:
    """The listener rule priority of ``service`` on a shared ALB: explicit, else stable from its name."""
    if spec.get("priority") is not None:
        return int(spec["priority"])
    return _name_priority(service)


def _name_priority(service: str) -> int:
    """A priority stable across deployments, derived from the service name."""
    return 1 + int(hashlib.sha256(service.encode()).hexdigest(), 16) % (PRIORITY_MAX - 1)


def explicit_shared(spec: Mapping[str, Any]) -> str | None:
    """The shared ALB a service's raw ``spec`` names in ``load_balancer.shared`` (None when ``expose: none``)."""
    lb = spec.get("load_balancer")
    if isinstance(lb, Mapping) and isinstance(lb.get("shared"), str) and spec.get("expose") != "none":
        return lb["shared"]
    return None


def shared_groups(specs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """The services (sorted) that name each shared ALB in ``load_balancer.shared``, by ALB name."""
    groups: dict[str, list[str]] = {}
    for service in sorted(specs):
        spec = specs[service]
        if isinstance(spec, Mapping) and explicit_shared(spec):
            groups.setdefault(spec["load_balancer"]["shared"], []).append(service)
    return groups

