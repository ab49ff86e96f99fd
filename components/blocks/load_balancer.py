"""Load balancers in front of a service: an ALB or NLB of its own, or a rule on a shared ALB.

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

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ..profiles import Profile, get_profile
from .certificate import (DEFAULT_SSL_POLICY, TLS_REQUIRED_IN, alias_record, dns_validated_certificate, has_tls,
                          hosted_zone_id, missing_tls_message, validate_tls_settings)
from .service import CoreSpec, SERVICE_NAME_MAX, SERVICE_NAME_PATTERN, standard_tags
from ..validation import CatalogError, Problem, Problems, is_unknown, join_path

__all__ = [
    "DEFAULT_SSL_POLICY",
    "LB_KEYS",
    "LoadBalancerArgs",
    "ServiceAlarms",
    "ServiceLoadBalancer",
    "GATEWAY_ALB",
    "SharedLoadBalancer",
    "SharedRule",
    "access_log_bucket",
    "network_value",
    "prepare_shared_load_balancers",
    "service_security_group",
    "shared_load_balancer",
    "shared_name",
    "standard_alarms",
    "validate_load_balancer",
    "validate_shared_rules",
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


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def validate_load_balancer(spec: Any, path: str, problems: Problems, core: Mapping[str, Any] | None = None) -> None:
    """Validate ``load_balancer`` at ``path`` (e.g. ``services.orders.load_balancer``).

    ``core`` is the service's whole spec (for ``expose``). Records problems in ``problems``.
    """
    if spec is None or not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return
    problems.check_known_keys(spec, LB_KEYS, path)
    expose = (core or {}).get("expose", "internal")
    if expose == "none" and spec:
        problems.add(path, "is set but expose is 'none': the service has no load balancer "
                           "(set expose to 'public' or 'internal', or remove load_balancer)")
    lb_type = spec.get("type", "alb")
    problems.check_enum(spec.get("type"), join_path(path, "type"), LB_TYPES)
    problems.check_str(spec.get("certificate_arn"), join_path(path, "certificate_arn"), CERTIFICATE_ARN_PATTERN,
                       "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)")
    problems.check_str(spec.get("ssl_policy"), join_path(path, "ssl_policy"), SSL_POLICY_PATTERN,
                       f"an ELB security policy name such as {DEFAULT_SSL_POLICY!r}")
    validate_tls_settings(spec, path, problems)
    if spec.get("ssl_policy") is not None and not has_tls(spec):
        problems.add(join_path(path, "ssl_policy"), "is only used with certificate_arn or domain (an HTTPS/TLS "
                                                    "listener)")
    _check_cidrs(spec.get("allowed_cidrs"), join_path(path, "allowed_cidrs"), problems)
    problems.check_int(spec.get("deregistration_delay"), join_path(path, "deregistration_delay"), 0, 3600, "seconds")
    _check_matcher(spec.get("matcher"), join_path(path, "matcher"), problems)
    problems.check_int(spec.get("idle_timeout"), join_path(path, "idle_timeout"), 1, 4000, "seconds")
    if spec.get("idle_timeout") is not None and lb_type == "nlb":
        problems.add(join_path(path, "idle_timeout"), "applies to an ALB only (type: alb)")

    shared = spec.get("shared")
    if shared is None:
        for key in ("path", "host", "priority"):
            if spec.get(key) is not None:
                problems.add(join_path(path, key), "is only used with shared (a rule on a shared ALB)")
        return
    if not is_unknown(shared) and (not isinstance(shared, str) or len(shared) > SERVICE_NAME_MAX
                                   or not re.fullmatch(SERVICE_NAME_PATTERN, shared)):
        problems.add(join_path(path, "shared"), f"must be a DNS-1123 label of at most {SERVICE_NAME_MAX} "
                                                f"characters naming the shared ALB, got {shared!r}")
    if lb_type == "nlb":
        problems.add(join_path(path, "type"), "a shared load balancer is an ALB: remove type: nlb or shared")
    if spec.get("path") is None and spec.get("host") is None:
        problems.add(path, "with shared needs a path and/or a host rule (which requests reach this service)")
    rule_path = spec.get("path")
    if problems.check_str(rule_path, join_path(path, "path"), max_len=RULE_VALUE_MAX) and isinstance(rule_path, str):
        if not rule_path.startswith("/"):
            problems.add(join_path(path, "path"), f"must start with '/', got {rule_path!r}")
        elif not re.fullmatch(PATH_RULE_PATTERN, rule_path):
            problems.add(join_path(path, "path"), "may contain only letters, digits, _-.$/~\"'@:+& and the "
                                                  f"wildcards * and ?, got {rule_path!r}")
    host = spec.get("host")
    if problems.check_str(host, join_path(path, "host"), max_len=RULE_VALUE_MAX) and isinstance(host, str) \
            and not re.fullmatch(HOST_RULE_PATTERN, host):
        problems.add(join_path(path, "host"), "must be a host name such as 'orders.example.com' (letters, digits, "
                                              f"-_. and the wildcards * and ?, with at least one '.'), got {host!r}")
    problems.check_int(spec.get("priority"), join_path(path, "priority"), 1, PRIORITY_MAX)


def _check_cidrs(cidrs: Any, path: str, problems: Problems) -> None:
    if not problems.check_list(cidrs, path) or not isinstance(cidrs, (list, tuple)):
        return
    if not cidrs:
        problems.add(path, "must list at least one CIDR (omit it for the default)")
    for i, cidr in enumerate(cidrs):
        if is_unknown(cidr):
            continue
        try:
            if ipaddress.ip_network(str(cidr)).version != 4:
                raise ValueError
        except ValueError:
            problems.add(join_path(path, i), f"must be an IPv4 CIDR such as 10.0.0.0/16, got {cidr!r}")


def _check_matcher(matcher: Any, path: str, problems: Problems) -> None:
    if matcher is None or is_unknown(matcher):
        return
    if isinstance(matcher, int) and not isinstance(matcher, bool):
        matcher = str(matcher)
    if not isinstance(matcher, str) or not re.fullmatch(MATCHER_PATTERN, matcher):
        problems.add(path, f"must be HTTP codes such as '200', '200,204' or '200-299', got {matcher!r}")
        return
    for part in matcher.split(","):
        lo, _, hi = part.partition("-")
        codes = (int(lo), int(hi or lo))
        if not all(200 <= c <= 499 for c in codes) or codes[0] > codes[1]:
            problems.add(path, f"codes must be between 200 and 499 inclusive (ranges low-high), got {matcher!r}")
            return


@dataclass(frozen=True)
class SharedRule:
    """One service's listener rule on a shared ALB: its priority, and the path patterns, host and/or HTTP header
    (name, value) it takes."""

    priority: int
    paths: tuple[str, ...] = ()
    host: str | None = None
    header: tuple[str, str] | None = None


def rule_priority(service: str, spec: Mapping[str, Any]) -> int:
    """The listener rule priority of ``service`` on a shared ALB: explicit, else stable from its name."""
    if spec.get("priority") is not None:
        return int(spec["priority"])
    return 1 + int(hashlib.sha256(service.encode()).hexdigest(), 16) % (PRIORITY_MAX - 1)


def _explicit_shared(spec: Mapping[str, Any]) -> str | None:
    lb = spec.get("load_balancer")
    if isinstance(lb, Mapping) and isinstance(lb.get("shared"), str) and spec.get("expose", "internal") != "none":
        return lb["shared"]
    return None


def shared_name(spec: Mapping[str, Any]) -> str | None:
    """The name of the shared ALB ``spec`` attaches to: ``load_balancer.shared``, else :data:`GATEWAY_ALB` for a
    service with ``routes`` (the gateway's ALB), else None (a load balancer of its own)."""
    explicit = _explicit_shared(spec)
    if explicit is not None:
        return explicit
    if spec.get("routes") and spec.get("expose", "internal") != "none":
        return GATEWAY_ALB
    return None


def shared_load_balancer(spec: Mapping[str, Any], ctx: Any) -> SharedLoadBalancer | None:
    """The stack's :class:`SharedLoadBalancer` ``spec`` attaches to (created by
    :func:`prepare_shared_load_balancers`), or None when it has its own."""
    name = shared_name(spec)
    return ctx.load_balancers.get(name) if name else None


def _shared_groups(specs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for service in sorted(specs):
        spec = specs[service]
        if isinstance(spec, Mapping) and _explicit_shared(spec):
            groups.setdefault(spec["load_balancer"]["shared"], []).append(service)
    return groups


def validate_shared_rules(specs: Mapping[str, Mapping[str, Any]], ctx: Any = None, *,
                          path: str = "services") -> Problems:
    """Cross-service rules of shared ALBs (a catalog rule, ``(specs, ctx) -> Problems``): a (host, path)
    rule or a priority claimed twice on one ALB is an error, and services on one ALB must agree on its
    ``expose`` and listener settings."""
    problems = Problems()
    for lb_name, services in _shared_groups(specs).items():
        rules: dict[tuple[Any, Any], str] = {}
        priorities: dict[int, str] = {}
        first = services[0]
        for service in services:
            spec = specs[service]
            lb = spec["load_balancer"]
            lb_path = join_path(path, service, "load_balancer")
            key = (lb.get("host"), lb.get("path"))
            if key in rules:
                problems.add(lb_path, f"the rule {_rule_text(lb)} on shared ALB {lb_name!r} is already claimed "
                                      f"by service {rules[key]!r}")
            else:
                rules[key] = service
            if isinstance(lb.get("priority", 0), int):
                prio = rule_priority(service, lb)
                if prio in priorities:
                    problems.add(join_path(lb_path, "priority"),
                                 f"priority {prio} on shared ALB {lb_name!r} is already used by service "
                                 f"{priorities[prio]!r}; set a different priority")
                else:
                    priorities[prio] = service
            if service == first:
                continue
            first_spec = specs[first]
            if spec.get("expose", "internal") != first_spec.get("expose", "internal"):
                problems.add(join_path(path, service, "expose"),
                             f"services on shared ALB {lb_name!r} must agree on expose: {first!r} has "
                             f"{first_spec.get('expose', 'internal')!r}, this one {spec.get('expose', 'internal')!r}")
            for setting in SHARED_SETTINGS:
                mine, theirs = lb.get(setting), first_spec["load_balancer"].get(setting)
                if mine is not None and theirs is not None and mine != theirs:
                    problems.add(join_path(lb_path, setting),
                                 f"services on shared ALB {lb_name!r} must agree on {setting}: {first!r} has "
                                 f"{theirs!r}, this one {mine!r}")
        # With a domain the ALB's one certificate names only that domain: a host rule for another name would
        # be served a certificate that does not match it (and no record points that name at the ALB).
        domains = [specs[s]["load_balancer"]["domain"] for s in services
                   if isinstance(specs[s]["load_balancer"].get("domain"), str)]
        for service in services if domains else ():
            host = specs[service]["load_balancer"].get("host")
            if isinstance(host, str) and host != domains[0]:
                problems.add(join_path(path, service, "load_balancer", "host"),
                             f"is {host!r} but shared ALB {lb_name!r} has the certificate of domain {domains[0]!r} "
                             f"only: use a path rule (or host {domains[0]!r}), or give the ALB a certificate_arn "
                             "that covers every host")
        given = {key: [s for s in services if specs[s]["load_balancer"].get(key) is not None]
                 for key in ("certificate_arn", "domain")}
        if all(given.values()) and given["certificate_arn"] != given["domain"]:
            problems.add(join_path(path, given["domain"][0], "load_balancer", "domain"),
                         f"shared ALB {lb_name!r} gets certificate_arn from {given['certificate_arn'][0]!r} and domain "
                         f"from {given['domain'][0]!r}: its services give one of them, not both")
    return problems


def _rule_text(lb: Mapping[str, Any]) -> str:
    parts = []
    if lb.get("host") is not None:
        parts.append(f"host {lb['host']!r}")
    if lb.get("path") is not None:
        parts.append(f"path {lb['path']!r}")
    return " and ".join(parts)


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------

def network_value(network: Any, key: str) -> Any:
    """``network.<key>`` of a :class:`~components.Network` or a dict with the same keys."""
    if network is None:
        raise ValueError(f"a network is required (pass network=Network(...) or a dict with {key})")
    if isinstance(network, Mapping):
        if key not in network:
            raise ValueError(f"network: missing {key!r}")
        return network[key]
    return getattr(network, key)


def service_security_group(name: str, *, vpc_id: pulumi.Input[str], tags: Mapping[str, str],
                           opts: pulumi.ResourceOptions | None = None) -> aws.ec2.SecurityGroup:
    """The security group of a service's instances or tasks: no ingress until a load balancer admits
    itself (:class:`ServiceLoadBalancer` with ``target_security_group_id``); all egress, because services
    reach AWS APIs, package mirrors and their own dependencies through NAT or VPC endpoints."""
    sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=vpc_id, description=f"{name} instances or tasks",
                               tags={**tags, "Name": f"{name}-sg"}, opts=opts)
    aws.vpc.SecurityGroupEgressRule(f"{name}-sg-egress", security_group_id=sg.id, ip_protocol="-1",
                                    cidr_ipv4="0.0.0.0/0", description="outbound", tags=dict(tags), opts=opts)
    return sg


def access_log_bucket(name: str, profile: Profile, *, tags: Mapping[str, str], prefix: str = "",
                      opts: pulumi.ResourceOptions | None = None) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
    """An S3 bucket for load balancer access logs: private, owner-enforced, SSE-S3 (the only encryption
    ELB log delivery supports), expiring after the profile's log retention, protected in prod.
    ``prefix`` must be the load balancer's ``access_logs.prefix``: ELB writes under
    ``<prefix>/AWSLogs/<account>/`` and the policy grants exactly that."""
    protected = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=profile.protect))
    bucket = aws.s3.Bucket(f"{name}-logs", force_destroy=not profile.protect, tags=dict(tags), opts=protected)
    aws.s3.BucketPublicAccessBlock(f"{name}-logs", bucket=bucket.id, block_public_acls=True,
                                   block_public_policy=True, ignore_public_acls=True,
                                   restrict_public_buckets=True, opts=opts)
    aws.s3.BucketOwnershipControls(f"{name}-logs", bucket=bucket.id,
                                   rule={"object_ownership": "BucketOwnerEnforced"}, opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-logs", bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=opts)
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-logs", bucket=bucket.id,
        rules=[{"id": "expire", "status": "Enabled", "filter": {},
                "expiration": {"days": profile.log_retention_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1}}], opts=opts)
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent if opts else None)
    account = aws.get_caller_identity_output(opts=invoke).account_id
    # Not aws.elb.get_service_account: it fails with "Unknown region" in regions opened since August 2022.
    region = aws.get_region_output(opts=invoke).region
    objects = pulumi.Output.concat(bucket.arn, f"/{prefix}" if prefix else "", "/AWSLogs/", account, "/*")
    policy_json = pulumi.Output.all(objects, bucket.arn, region).apply(
        lambda a: _log_policy(a[0], a[1], elb_account_principal(a[2], a[1])))
    policy = aws.s3.BucketPolicy(f"{name}-logs", bucket=bucket.id, policy=policy_json, opts=opts)
    return bucket, policy


#: The regional Elastic Load Balancing accounts that deliver access logs in regions opened before
#: August 2022 (ELB user guide, "Attach a policy to your S3 bucket"). Newer regions deliver as the
#: ``logdelivery.elasticloadbalancing.amazonaws.com`` service principal, which the policy always grants.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}


def elb_account_principal(region: str | None, bucket_arn: str) -> str | None:
    """ARN of the ELB account delivering access logs in ``region``, or None in newer regions."""
    account = ELB_LOG_ACCOUNTS.get(region or "")
    if account is None:
        return None
    partition = bucket_arn.split(":")[1] if bucket_arn and bucket_arn.count(":") >= 2 else "aws"
    return f"arn:{partition}:iam::{account}:root"


def _log_policy(objects: str, bucket_arn: str, elb_account: str | None) -> str:
    statements = [
        {"Sid": "ElbLogDelivery", "Effect": "Allow", "Action": "s3:PutObject", "Resource": objects,
         "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}},
        {"Sid": "LogDeliveryWrite", "Effect": "Allow", "Action": "s3:PutObject", "Resource": objects,
         "Principal": {"Service": "delivery.logs.amazonaws.com"}},
        {"Sid": "LogDeliveryAclCheck", "Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": bucket_arn,
         "Principal": {"Service": "delivery.logs.amazonaws.com"}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Action": "s3:*", "Principal": "*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    if elb_account:
        statements.insert(0, {"Sid": "ElbAccountDelivery", "Effect": "Allow", "Action": "s3:PutObject",
                              "Resource": objects, "Principal": {"AWS": elb_account}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def _cidr_key(cidr: Any, index: int) -> str:
    """``10.0.0.0-16`` for ``10.0.0.0/16``; the position only for a CIDR not known yet."""
    return cidr.replace("/", "-") if isinstance(cidr, str) else str(index)


@dataclass
class _Listeners:
    """What a load balancer hands to the services behind it."""

    main: aws.lb.Listener
    """The listener rules and default actions forward from (HTTPS/TLS when there is a certificate)."""
    all: list[aws.lb.Listener] = field(default_factory=list)


def _create_load_balancer(owner: pulumi.Resource, name: str, *, lb_type: str, expose: str,
                          settings: Mapping[str, Any], network: Any, profile: Profile, tags: Mapping[str, str],
                          default_action: Mapping[str, Any] | pulumi.Output,
                          subnet_ids: pulumi.Input[Sequence[str]] | None = None,
                          admit_cidrs: bool = True) -> tuple[aws.lb.LoadBalancer,
                                                                                        aws.ec2.SecurityGroup,
                                                                                        _Listeners]:
    """A load balancer, its security group and listeners, all children of ``owner``. ``admit_cidrs=False``: no
    CIDR ingress at all (the caller admits its own sources, as the gateway admits only its VPC link)."""
    child = pulumi.ResourceOptions(parent=owner)
    public = expose == "public"
    vpc_id = network_value(network, "vpc_id")
    domain = settings.get("domain")
    zone_id = hosted_zone_id(settings["zone"], child) if domain is not None else None
    cert = settings.get("certificate_arn") if domain is None else \
        dns_validated_certificate(name, domain=domain, zone=zone_id, tags=tags, opts=child)
    ports = [HTTP, HTTPS] if cert is not None and lb_type == "alb" else [HTTPS] if cert is not None else [HTTP]
    sg = aws.ec2.SecurityGroup(f"{name}-lb-sg", vpc_id=vpc_id, description=f"{name} load balancer",
                               tags={**tags, "Name": f"{name}-lb-sg"}, opts=child)
    cidrs = settings.get("allowed_cidrs")
    # Rules are named after their CIDR, not its position: adding a CIDR to the front of the list must not
    # rewrite every other rule (and collide with the one still holding the same CIDR).
    sources = ({} if not admit_cidrs else {_cidr_key(c, i): c for i, c in enumerate(cidrs)} if cidrs
               else {"any": "0.0.0.0/0"} if public else {"vpc": network_value(network, "vpc_cidr")})
    for port in ports:
        for key, cidr in sources.items():
            aws.vpc.SecurityGroupIngressRule(f"{name}-lb-{port}-{key}", security_group_id=sg.id, ip_protocol="tcp",
                                             from_port=port, to_port=port, cidr_ipv4=cidr,
                                             description=f"listener {port}", tags=dict(tags), opts=child)

    subnets = subnet_ids if subnet_ids is not None else \
        network_value(network, "public_subnet_ids" if public else "private_subnet_ids")
    access_logs = None
    lb_opts = child
    if profile.access_logs:
        bucket, policy = access_log_bucket(f"{name}-lb", profile, tags=tags, prefix=name, opts=child)
        access_logs = {"bucket": bucket.bucket, "enabled": True, "prefix": name}
        # ELB checks it can write to the bucket when access logs are switched on.
        lb_opts = pulumi.ResourceOptions(parent=owner, depends_on=[policy])
    lb_kwargs: dict[str, Any] = {}
    if lb_type == "alb":
        lb_kwargs.update(drop_invalid_header_fields=True, idle_timeout=int(settings.get("idle_timeout", 60)),
                         desync_mitigation_mode="defensive")
    else:
        lb_kwargs.update(enable_cross_zone_load_balancing=True)
    lb = aws.lb.LoadBalancer(
        f"{name}-lb", load_balancer_type="application" if lb_type == "alb" else "network",
        internal=not public, subnets=subnets, security_groups=[sg.id],
        enable_deletion_protection=profile.deletion_protection, access_logs=access_logs,
        tags={**tags, "Name": f"{name}-lb"}, opts=lb_opts, **lb_kwargs)
    if domain is not None:
        alias_record(name, domain=domain, zone=zone_id, target_dns_name=lb.dns_name, target_zone_id=lb.zone_id,
                     opts=child)
    return lb, sg, _create_listeners(name, lb, lb_type=lb_type, cert=cert, settings=settings, tags=tags, opts=child,
                                     default_action=default_action)


def _create_listeners(name: str, lb: aws.lb.LoadBalancer, *, lb_type: str, cert: pulumi.Input[str] | None,
                      settings: Mapping[str, Any], tags: Mapping[str, str], opts: pulumi.ResourceOptions,
                      default_action: Mapping[str, Any] | pulumi.Output) -> _Listeners:
    """The listeners of ``lb``: with a certificate, HTTPS (ALB) or TLS (NLB) on 443, and an ALB's port 80
    only redirecting to HTTPS; without, plain HTTP (ALB) or TCP (NLB) on 80."""
    child = opts
    listeners: list[aws.lb.Listener] = []
    ssl_policy = settings.get("ssl_policy", DEFAULT_SSL_POLICY)
    if lb_type == "alb":
        if cert is not None:
            main = aws.lb.Listener(f"{name}-https", load_balancer_arn=lb.arn, port=HTTPS, protocol="HTTPS",
                                   certificate_arn=cert, ssl_policy=ssl_policy, default_actions=[default_action],
                                   tags=dict(tags), opts=child)
            redirect = aws.lb.Listener(
                f"{name}-http", load_balancer_arn=lb.arn, port=HTTP, protocol="HTTP",
                default_actions=[{"type": "redirect",
                                  "redirect": {"port": str(HTTPS), "protocol": "HTTPS", "status_code": "HTTP_301"}}],
                tags=dict(tags), opts=child)
            listeners = [main, redirect]
        else:
            main = aws.lb.Listener(f"{name}-http", load_balancer_arn=lb.arn, port=HTTP, protocol="HTTP",
                                   default_actions=[default_action], tags=dict(tags), opts=child)
            listeners = [main]
    else:
        if cert is not None:
            main = aws.lb.Listener(f"{name}-tls", load_balancer_arn=lb.arn, port=HTTPS, protocol="TLS",
                                   certificate_arn=cert, ssl_policy=ssl_policy, default_actions=[default_action],
                                   tags=dict(tags), opts=child)
        else:
            main = aws.lb.Listener(f"{name}-tcp", load_balancer_arn=lb.arn, port=HTTP, protocol="TCP",
                                   default_actions=[default_action], tags=dict(tags), opts=child)
        listeners = [main]
    return _Listeners(main=main, all=listeners)


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
        problems = Problems()
        validate_load_balancer({k: v for k, v in settings.items() if k in SHARED_SETTINGS}, name, problems,
                               core={"expose": expose})
        if expose not in ("public", "internal"):
            problems.add(f"{name}.expose", f"must be 'public' or 'internal', got {expose!r}")
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        if expose == "public" and prof.name == TLS_REQUIRED_IN and not has_tls(settings):
            problems.add(name, missing_tls_message(prof.name))
        problems.raise_if_any()
        super().__init__("microservices:lb:SharedLoadBalancer", name, None, opts)
        self._tags = standard_tags(name, prof.name, tags)
        self.https = has_tls(settings)
        """True when the ALB listens on HTTPS (``certificate_arn`` or ``domain`` is set)."""
        self.domain: str | None = settings.get("domain")
        """The host name clients reach the ALB by (``domain``), or None."""
        self._claims: dict[tuple[Any, Any], str] = {}
        self._priorities: dict[int, str] = {}
        self.name = name
        """The shared ALB's name (``load_balancer.shared``, or :data:`GATEWAY_ALB`)."""
        self.rules: dict[str, SharedRule] = dict(rules or {})
        not_found = {"type": "fixed-response",
                     "fixed_response": {"content_type": "text/plain", "status_code": "404", "message_body": "not found"}}
        lb, sg, listeners = _create_load_balancer(self, name, lb_type="alb", expose=expose, settings=settings,
                                                  network=network, profile=prof, tags=self._tags,
                                                  default_action=not_found, subnet_ids=subnet_ids,
                                                  admit_cidrs=admit_cidrs)
        self.arn, self.arn_suffix, self.dns_name, self.zone_id = lb.arn, lb.arn_suffix, lb.dns_name, lb.zone_id
        self.security_group_id = sg.id
        self.listener_arn = listeners.main.arn
        self.register_outputs({"arn": self.arn, "arn_suffix": self.arn_suffix, "dns_name": self.dns_name,
                               "zone_id": self.zone_id, "security_group_id": self.security_group_id,
                               "listener_arn": self.listener_arn})

    def rule_for(self, service: str, args: Mapping[str, Any]) -> SharedRule:
        """The rule of ``service``: assigned by ``rules``, else from its ``load_balancer`` args."""
        if service in self.rules:
            return self.rules[service]
        return _rule_from_args(service, args)

    def claim(self, service: str, host: str | None, path: str | None, priority: int) -> None:
        """Record that ``service`` routes ``host``/``path`` at ``priority``; a second claim is an error
        (this also catches claims across patterns, which each pattern's catalog check cannot see)."""
        key = (host, path)
        where = f"services.{service}.load_balancer"
        if key in self._claims and self._claims[key] != service:
            raise CatalogError([Problem(where, f"the rule {_rule_text({'host': host, 'path': path})} on shared ALB "
                                               f"{self._name!r} is already claimed by service {self._claims[key]!r}")])
        if priority in self._priorities and self._priorities[priority] != service:
            raise CatalogError([Problem(f"{where}.priority", f"priority {priority} on shared ALB {self._name!r} is "
                                                             f"already used by service {self._priorities[priority]!r}")])
        self._claims[key] = service
        self._priorities[priority] = service


def _rule_from_args(service: str, args: Mapping[str, Any]) -> SharedRule:
    path = args.get("path")
    return SharedRule(priority=rule_priority(service, args), paths=(path,) if path is not None else (),
                      host=args.get("host"))


def prepare_shared_load_balancers(specs: Mapping[str, Mapping[str, Any]], ctx: Any) -> None:
    """Create each shared ALB named by ``specs`` (service -> catalog entry) once per stack, in
    ``ctx.load_balancers[name]`` (a :class:`SharedLoadBalancer` parented to ``ctx.parent``). Patterns call
    this from ``prepare``; an ALB another pattern already created is reused as it is."""
    for lb_name, services in _shared_groups(specs).items():
        if lb_name in ctx.load_balancers:
            continue
        settings: dict[str, Any] = {}
        for service in services:
            for setting in SHARED_SETTINGS:
                value = specs[service]["load_balancer"].get(setting)
                if value is not None:
                    settings.setdefault(setting, value)
        expose = specs[services[0]].get("expose", "internal")
        ctx.load_balancers[lb_name] = SharedLoadBalancer(lb_name, settings, pulumi.ResourceOptions(parent=ctx.parent),
                                             expose=expose, network=ctx.network, profile=ctx.profile)


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
        args = dict(args or {})
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
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        tls = getattr(shared, "https", False) if shared is not None else has_tls(args)
        if core.expose == "public" and prof.name == TLS_REQUIRED_IN and not tls:
            problems.add(f"{name}.load_balancer", missing_tls_message(prof.name))
        problems.raise_if_any()
        super().__init__("microservices:lb:ServiceLoadBalancer", name, None, opts)
        tags = standard_tags(name, prof.name, tags or core.tags)
        child = pulumi.ResourceOptions(parent=self)
        lb_type = args.get("type", "alb")
        port = int(port or core.port)
        hc = core.health_check
        health_check = {"enabled": True, "path": hc.path, "protocol": "HTTP", "port": "traffic-port",
                        "interval": hc.interval, "timeout": hc.timeout, "healthy_threshold": hc.healthy_threshold,
                        "unhealthy_threshold": hc.unhealthy_threshold, "matcher": str(args.get("matcher", "200-399"))}
        tg_kwargs: dict[str, Any] = {}
        if lb_type == "nlb":
            tg_kwargs.update(protocol="TCP", connection_termination=True)
        else:
            tg_kwargs.update(protocol="HTTP", protocol_version="HTTP1",
                             load_balancing_algorithm_type="least_outstanding_requests")
        tg = aws.lb.TargetGroup(f"{name}-tg", port=port, target_type=target_type,
                                vpc_id=network_value(network, "vpc_id"),
                                deregistration_delay=int(args.get("deregistration_delay", 30)),
                                health_check=health_check, tags={**tags, "Name": f"{name}-tg"}, opts=child, **tg_kwargs)
        forward = {"type": "forward", "target_group_arn": tg.arn}
        scheme = "https" if has_tls(args) else "http"

        if shared is not None:
            lb_name = args.get("shared") or shared.name
            rule = shared.rule_for(name, args) if hasattr(shared, "rule_for") else _rule_from_args(name, args)
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
                                                  tags={**tags, "SharedAlb": lb_name}, opts=child)
            lb_sg = shared.security_group_id
            self.arn, self.arn_suffix = shared.arn, shared.arn_suffix
            self.dns_name, self.zone_id = shared.dns_name, shared.zone_id
            shared_scheme = "https" if getattr(shared, "https", False) else scheme
            prefix = (rule.paths[0] if rule.paths else "/").rstrip("*")
            host = rule.host or getattr(shared, "domain", None)
            self.url = (pulumi.Output.from_input(f"{shared_scheme}://{host}{prefix}") if host
                        else pulumi.Output.concat(f"{shared_scheme}://", shared.dns_name, prefix))
        else:
            lb, sg, listeners = _create_load_balancer(self, name, lb_type=lb_type, expose=core.expose, settings=args,
                                                      network=network, profile=prof, tags=tags,
                                                      default_action=forward)
            lb_sg = sg.id
            self.arn, self.arn_suffix, self.dns_name, self.zone_id = lb.arn, lb.arn_suffix, lb.dns_name, lb.zone_id
            self.url = pulumi.Output.concat(f"{scheme}://", args.get("domain") or lb.dns_name)

        # The rules that let the load balancer reach target_security_group_id: targets that register before
        # they exist fail their first health checks, so whatever registers targets waits for these.
        self.target_rules: list[pulumi.Resource] = []
        if target_security_group_id is not None:
            self.target_rules = [aws.vpc.SecurityGroupIngressRule(f"{name}-from-lb", security_group_id=target_security_group_id,
                                             ip_protocol="tcp", from_port=port, to_port=port,
                                             referenced_security_group_id=lb_sg,
                                             description="service port from its load balancer", tags=dict(tags),
                                             opts=child),
                aws.vpc.SecurityGroupEgressRule(f"{name}-to-targets", security_group_id=lb_sg, ip_protocol="tcp",
                                                from_port=port, to_port=port,
                                                referenced_security_group_id=target_security_group_id,
                                                description=f"to {name} targets", tags=dict(tags), opts=child)]
        self.lb_type = lb_type
        if shared is None:
            self.attachment = listeners.main
        self.target_group_arn = tg.arn
        self.target_group_arn_suffix = tg.arn_suffix
        self.security_group_id = pulumi.Output.from_input(lb_sg)
        self.register_outputs({"target_group_arn": self.target_group_arn,
                               "target_group_arn_suffix": self.target_group_arn_suffix, "arn": self.arn,
                               "arn_suffix": self.arn_suffix, "dns_name": self.dns_name, "zone_id": self.zone_id,
                               "security_group_id": self.security_group_id, "url": self.url})


@dataclass
class ServiceAlarms:
    """The standard alarms of a load-balanced service."""

    alarms: list[aws.cloudwatch.MetricAlarm]
    names: list[pulumi.Output[str]]
    """Alarm names (ECS deployment ``alarms``)."""
    arns: list[pulumi.Output[str]]
    """Alarm ARNs (CodeDeploy and other rollback triggers)."""


def standard_alarms(name: str, lb: ServiceLoadBalancer, *, profile: Profile, tags: Mapping[str, str],
                    opts: pulumi.ResourceOptions | None = None, p99_latency_seconds: float = 1.0,
                    error_rate_percent: float = 5.0) -> ServiceAlarms:
    """Alarms on the service's targets: any unhealthy host for 3 minutes; target 5xx above
    ``error_rate_percent`` of requests and p99 latency above ``p99_latency_seconds`` for 3 of 5 minutes
    (these two on an ALB only: an NLB does not see HTTP). Missing data is not breaching, so an idle
    service stays OK. Notifies the profile's ``alarm_actions``."""
    namespace = "AWS/ApplicationELB" if lb.lb_type == "alb" else "AWS/NetworkELB"
    dims = {"LoadBalancer": lb.arn_suffix, "TargetGroup": lb.target_group_arn_suffix}
    actions = list(profile.alarm_actions)
    common = {"alarm_actions": actions, "ok_actions": actions, "treat_missing_data": "notBreaching",
              "tags": dict(tags)}
    alarms = [aws.cloudwatch.MetricAlarm(
        f"{name}-unhealthy", alarm_description=f"{name}: targets failing health checks",
        namespace=namespace, metric_name="UnHealthyHostCount", dimensions=dims, statistic="Maximum", period=60,
        evaluation_periods=3, datapoints_to_alarm=3, comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1, opts=opts, **common)]
    if lb.lb_type == "alb":
        def metric(metric_id: str, metric_name: str) -> dict[str, Any]:
            return {"id": metric_id, "return_data": False,
                    "metric": {"namespace": namespace, "metric_name": metric_name, "dimensions": dims,
                               "period": 60, "stat": "Sum"}}
        alarms.append(aws.cloudwatch.MetricAlarm(
            f"{name}-5xx-rate", alarm_description=f"{name}: target 5xx above {error_rate_percent}% of requests",
            metric_queries=[metric("errors", "HTTPCode_Target_5XX_Count"), metric("requests", "RequestCount"),
                            {"id": "rate", "label": "5xx rate (%)", "return_data": True,
                             "expression": "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)"}],
            evaluation_periods=5, datapoints_to_alarm=3, comparison_operator="GreaterThanThreshold",
            threshold=error_rate_percent, opts=opts, **common))
        alarms.append(aws.cloudwatch.MetricAlarm(
            f"{name}-p99-latency", alarm_description=f"{name}: p99 target response time above {p99_latency_seconds}s",
            namespace=namespace, metric_name="TargetResponseTime", dimensions=dims, extended_statistic="p99",
            period=60, evaluation_periods=5, datapoints_to_alarm=3, comparison_operator="GreaterThanThreshold",
            threshold=p99_latency_seconds, opts=opts, **common))
    return ServiceAlarms(alarms=alarms, names=[a.name for a in alarms], arns=[a.arn for a in alarms])
