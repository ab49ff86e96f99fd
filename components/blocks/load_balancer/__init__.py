"""Load balancers in front of a service: an ALB or NLB of its own, or a rule on a shared ALB.

The package: ``args`` (:class:`LoadBalancerArgs`, the :class:`LoadBalancerSettings` they resolve into once),
``validate`` (the service's ``load_balancer``, the catalog rule of shared ALBs), ``create`` (a load balancer of
its own: security group, listeners, access logs), ``shared`` (:class:`SharedLoadBalancer`), ``service``
(:class:`ServiceLoadBalancer`) and ``alarms`` (:func:`standard_alarms`).

Used by the ``vm`` and ``ecs`` patterns (and anything else that puts targets behind ELB)::

    from components.blocks.load_balancer import (
        LB_KEYS, ServiceLoadBalancer, prepare_shared_load_balancers, service_security_group,
        standard_alarms, validate_load_balancer, validate_shared_rules)

    # validation (in the pattern's validate / validate_catalog):
    validate_load_balancer(spec.get("load_balancer"), f"{path}.load_balancer", problems, core=spec)
    problems.extend(validate_shared_rules(specs))    # a path/host rule claimed twice is an error

    # prepare(specs, ctx): create every shared ALB once, in ctx.load_balancers[<name>]
    prepare_shared_load_balancers(specs, ctx)

    # build: the service's security group, then its load balancer, then its alarms
    sg = service_security_group(name, vpc_id=net["vpc_id"], tags=tags, opts=child)
    lb = ServiceLoadBalancer(name, spec.get("load_balancer") or {}, opts=child, core=core,
                             network=net, profile=profile, target_type="ip",
                             target_security_group_id=sg.id, tags=tags,
                             shared=shared_load_balancer(spec, ctx))   # None unless load_balancer.shared
    alarms = standard_alarms(name, lb, profile=profile, tags=tags, opts=child)
    alarms.names   # -> ECS deployment alarms

The load balancer's security group opens only the listener ports to ``allowed_cidrs``; the
service's security group admits the service port only from the load balancer's security group.
"""

from ..certificate import DEFAULT_SSL_POLICY
from .alarms import ServiceAlarms, standard_alarms
from .args import (CERTIFICATE_ARN_PATTERN, GATEWAY_ALB, HTTP, HTTPS, LB_KEYS, PATH_RULE_PATTERN, RULE_VALUE_MAX,
                   SHARED_SETTINGS, LoadBalancerArgs, LoadBalancerSettings, SharedRule, resolve_load_balancer,
                   rule_priority)
from .create import access_log_bucket, network_value, service_security_group
from .service import ServiceLoadBalancer
from .shared import SharedLoadBalancer, prepare_shared_load_balancers, shared_load_balancer, shared_name
from .validate import validate_load_balancer, validate_shared_rules

__all__ = [
    "CERTIFICATE_ARN_PATTERN",
    "DEFAULT_SSL_POLICY",
    "GATEWAY_ALB",
    "HTTP",
    "HTTPS",
    "LB_KEYS",
    "LoadBalancerArgs",
    "LoadBalancerSettings",
    "PATH_RULE_PATTERN",
    "RULE_VALUE_MAX",
    "SHARED_SETTINGS",
    "ServiceAlarms",
    "ServiceLoadBalancer",
    "SharedLoadBalancer",
    "SharedRule",
    "access_log_bucket",
    "network_value",
    "prepare_shared_load_balancers",
    "resolve_load_balancer",
    "rule_priority",
    "service_security_group",
    "shared_load_balancer",
    "shared_name",
    "standard_alarms",
    "validate_load_balancer",
    "validate_shared_rules",
]
