"""The args of :class:`~components.network.Network` (one docstring per key stating its default) and the
frozen :class:`NetworkSettings` they resolve into once; the fields carry the defaults, the profile gives the rest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, Sequence, TypedDict

import pulumi

from ..profiles import Profile

__all__ = ["BYO_LB_KEYS", "ENDPOINT_SERVICES", "MAX_AZS", "MAX_VPC_PREFIX", "NAT_STRATEGIES", "NETWORK_KEYS",
           "NetworkArgs", "NetworkSettings", "PROFILE_KEYS", "profile_value", "resolve_network"]

NAT_STRATEGIES = ("none", "single", "per_az")
MAX_AZS = 6
NETWORK_KEYS = ("cidr", "availability_zones", "availability_zone_names", "nat", "isolated_subnets",
                "flow_logs", "log_retention_days", "vpc_id", "vpc_cidr", "public_subnet_ids",
                "private_subnet_ids", "isolated_subnet_ids", "public_subnet_cidrs", "load_balancer_subnet_ids",
                "load_balancer_subnet_cidrs", "tags", "endpoints")
#: Bring-your-own keys naming load balancer subnets: ids and CIDRs go together.
BYO_LB_KEYS = (("public_subnet_ids", "public_subnet_cidrs"), ("load_balancer_subnet_ids", "load_balancer_subnet_cidrs"))
#: Interface endpoints a new VPC may get (``com.amazonaws.<region>.<name>``), for private subnets without NAT.
ENDPOINT_SERVICES = ("autoscaling", "ec2", "ec2messages", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry",
                     "eks", "eks-auth", "elasticloadbalancing", "imagebuilder", "kms", "lambda", "logs", "monitoring",
                     "secretsmanager", "sns", "sqs", "ssm", "ssmmessages", "sts", "xray")
#: The largest VPC prefix whose public subnets (1/64 of the VPC) are still /27, the smallest size AWS
#: recommends for a load balancer's subnets so that it can scale.
MAX_VPC_PREFIX = 21
BYO_KEYS = ("vpc_id", "public_subnet_ids", "private_subnet_ids")


class NetworkArgs(TypedDict):
    """Arguments of :class:`Network`. Either the settings of a new VPC, or ``vpc_id`` with subnet ids."""

    cidr: NotRequired[str]
    """IPv4 CIDR of a new VPC, prefix /16 to /22. Default: ``10.0.0.0/16``."""
    availability_zones: NotRequired[int]
    """How many AZs to span, 1-6. Default: the profile's (dev 2, staging 2, prod 3)."""
    availability_zone_names: NotRequired[Sequence[str]]
    """Explicit AZ names. Default: the first available AZs of the region, from ``aws.get_availability_zones``."""
    nat: NotRequired[str]
    """``none`` (private subnets have no internet route), ``single`` (one NAT gateway) or ``per_az``
    (one per AZ, survives an AZ outage). Default: the profile's (dev/staging ``single``, prod ``per_az``)."""
    isolated_subnets: NotRequired[bool]
    """Also create isolated subnets (no internet route at all) for databases. Default: false."""
    flow_logs: NotRequired[bool]
    """VPC flow logs to CloudWatch Logs. Default: the profile's (dev off, staging and prod on)."""
    log_retention_days: NotRequired[int]
    """Retention of the flow log group (a CloudWatch retention value). Default: the profile's."""
    vpc_id: NotRequired[pulumi.Input[str]]
    """Bring your own: an existing VPC id. Default: a new VPC is created."""
    vpc_cidr: NotRequired[pulumi.Input[str]]
    """With ``vpc_id``: the VPC's CIDR (for internal security group rules). Default: looked up with ``aws.ec2.get_vpc``."""
    public_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: its public subnets. Default: none."""
    private_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: its private subnets, where services run; required with ``vpc_id``. Default: none."""
    isolated_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: its isolated subnets. Default: none."""
    public_subnet_cidrs: NotRequired[Sequence[str]]
    """With ``vpc_id`` and ``public_subnet_ids``: their CIDRs, so Kubernetes NetworkPolicies admit exactly the
    internet-facing load balancers. Default: none (exposed Kubernetes services then need ``load_balancer_cidrs``)."""
    load_balancer_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: subnets holding only internal load balancers (nothing else runs there). Default: none."""
    load_balancer_subnet_cidrs: NotRequired[Sequence[str]]
    """With ``load_balancer_subnet_ids``: their CIDRs. Default: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every resource. Default: none."""
    endpoints: NotRequired[Sequence[str]]
    """Interface VPC endpoints to create in the private subnets, by service (``ssm``, ``secretsmanager``,
    ``ecr.api``, ``ecr.dkr``, ``logs``...), with private DNS and a security group admitting HTTPS from the
    VPC. Required for what services need when ``nat`` is ``none``. Default: none (the S3 gateway endpoint
    is always created)."""


#: Keys whose default is the profile's field of the same name.
PROFILE_KEYS = ("availability_zones", "nat", "flow_logs", "log_retention_days")


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """:class:`NetworkArgs` resolved once (:func:`resolve_network`): the shape of a new VPC, or the ids of an
    existing one. The fields carry the defaults; those without one come from the profile (:data:`PROFILE_KEYS`)."""

    cidr: str = "10.0.0.0/16"
    availability_zones: int
    availability_zone_names: tuple[str, ...] = ()
    """Empty: the first available AZs of the region."""
    nat: str
    isolated_subnets: bool = False
    flow_logs: bool
    log_retention_days: int
    vpc_id: pulumi.Input[str] | None = None
    """None: a new VPC is created."""
    vpc_cidr: pulumi.Input[str] | None = None
    """None: looked up with ``aws.ec2.get_vpc``."""
    public_subnet_ids: pulumi.Input[Sequence[str]] = field(default_factory=list)
    private_subnet_ids: pulumi.Input[Sequence[str]] | None = None
    isolated_subnet_ids: pulumi.Input[Sequence[str]] = field(default_factory=list)
    public_subnet_cidrs: tuple[str, ...] = ()
    load_balancer_subnet_ids: pulumi.Input[Sequence[str]] = field(default_factory=list)
    load_balancer_subnet_cidrs: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    endpoints: tuple[str, ...] = ()

    @property
    def existing(self) -> bool:
        """Bring your own: the VPC ``vpc_id`` is used as it is."""
        return self.vpc_id is not None


def profile_value(args: Mapping[str, Any], key: str, profile: Profile) -> Any:
    """``args[key]`` as given (even if invalid: validation reads this), or the profile's when left out or null."""
    value = args.get(key)
    return getattr(profile, key) if value is None else value


def resolve_network(args: Mapping[str, Any], profile: Profile) -> NetworkSettings:
    """The :class:`NetworkSettings` of validated :class:`NetworkArgs`; what they leave out (or set to null)
    takes the field's default, or the profile's."""
    given = {key: value for key, value in args.items() if key in NETWORK_KEYS and value is not None}
    for key in ("availability_zone_names", "public_subnet_cidrs", "load_balancer_subnet_cidrs", "endpoints"):
        if key in given:
            given[key] = tuple(given[key])
    for key in ("isolated_subnets", "flow_logs"):
        if key in given:
            given[key] = bool(given[key])
    if "tags" in given:
        given["tags"] = dict(given["tags"])
    profiled = {key: profile_value(args, key, profile) for key in PROFILE_KEYS}
    profiled["availability_zones"] = int(profiled["availability_zones"])
    profiled["log_retention_days"] = int(profiled["log_retention_days"])
    return NetworkSettings(**{**given, **profiled})
