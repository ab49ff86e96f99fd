"""The ``vm`` pattern's arguments: what a stack file or a program may give (the ``...Args`` TypedDicts, one
docstring per key stating its default) and the settings they resolve into once (frozen dataclasses whose fields
carry those defaults). :func:`resolve_vm` runs after validation; the components read settings, never the spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NotRequired, TypedDict

import pulumi

from ..blocks.architecture import instance_architecture
from ..blocks.launch_template import LAUNCH_KEYS
from ..blocks.load_balancer import LoadBalancerArgs
from ..blocks.service import CoreSpec, HealthCheckArgs, ScalingArgs, resolve_core
from ..profiles import Profile

__all__ = ["AL2023_PARAMETER", "AmiArgs", "AmiSource", "Autoscaling", "AutoscalingArgs", "Bake", "BakeArgs",
           "DEFAULT_GRACE_PERIOD", "DEFAULT_PORT", "DEFAULT_ROLLOUT_MARGIN", "Lookup", "LookupArgs", "Rollout",
           "RolloutArgs", "Schedule", "ScheduleArgs", "VmServiceArgs", "VmSettings", "WarmPool", "WarmPoolArgs",
           "instance_types", "resolve_vm", "spot_percentage"]

DEFAULT_PORT = 8080
DEFAULT_GRACE_PERIOD = 300
#: A rollout waits this long beyond the health check grace period for the new instances to be healthy.
DEFAULT_ROLLOUT_MARGIN = 600
#: The parent image of a bake without ``parent_parameter``: the current Amazon Linux 2023 of the architecture.
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
#: A scheduled action's size that the schedule leaves unchanged (the provider's "not set").
UNCHANGED = -1


class LookupArgs(TypedDict):
    version: str
    """Value of the AMI's ``Version`` tag (required). The AMI must also carry ``Service: <name>``."""
    tags: NotRequired[Mapping[str, str]]
    """More tags the AMI must carry. Default: none."""


class BakeArgs(TypedDict):
    version: str
    """Semantic version ``major.minor.patch`` of the service (required); a new version bakes a new AMI."""
    document: NotRequired[str]
    """Image Builder component document in ``services/<name>/`` that installs the service as a systemd
    unit called ``<name>``. Default: ``component.yaml``."""
    parent_parameter: NotRequired[str]
    """SSM parameter holding the parent AMI id, resolved by Image Builder when it builds. Default: the
    current Amazon Linux 2023 AMI for the instance type's architecture
    (``/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arch>``)."""
    build_instance_type: NotRequired[str]
    """Instance type that builds the image. Default: the service's (first) instance type."""
    schedule: NotRequired[str]
    """Image Builder schedule (``cron(0 3 ? * MON *)``) re-baking when the parent image or components
    have updates; the next ``pulumi up`` rolls out the newest AMI the pipeline built for this version.
    Default: none, the pipeline runs when started by hand."""
    keep: NotRequired[int]
    """How many of this version's newest AMIs to keep, 2-100; older ones are deregistered with their
    snapshots by an Image Builder lifecycle policy, unless an instance launched from them in the last 30
    days. Default: 5."""
    timeout: NotRequired[int]
    """Minutes ``pulumi up`` waits for the bake (build and tests) before failing, 60-1440. Default: 120."""


class AmiArgs(TypedDict):
    """Exactly one of ``id``, ``lookup`` or ``bake`` (a plain string is taken as ``id``)."""

    id: NotRequired[pulumi.Input[str]]
    """An explicit AMI id. Default: none (one of the three sources is required)."""
    lookup: NotRequired[LookupArgs]
    """The newest AMI owned by this account tagged ``Service: <name>`` and ``Version: <version>``. Default: none."""
    bake: NotRequired[BakeArgs]
    """Bake the AMI with EC2 Image Builder. Default: none."""


class RolloutArgs(TypedDict):
    timeout: NotRequired[int]
    """Seconds ``pulumi up`` waits for the instance refresh of a new version (and, on the first deploy, for
    the new group's instances to be healthy in the load balancer) before it fails, 300-7200, more than
    ``health_check.grace_period``. Default: the grace period plus 600 (900 s with the VM default grace period)."""
    instance_warmup: NotRequired[int]
    """Seconds after a new instance is in service before its metrics count for scaling and before the
    refresh considers it ready, 0-3600. Default: the health check grace period."""


class ScheduleArgs(TypedDict):
    recurrence: str
    """Cron expression (five fields, ``0 8 * * 1-5``). Required."""
    min: NotRequired[int]
    """New minimum size, 0-1000. Default: unchanged."""
    max: NotRequired[int]
    """New maximum size, 0-1000. Default: unchanged."""
    desired: NotRequired[int]
    """New desired capacity, 0-1000. Default: unchanged."""
    time_zone: NotRequired[str]
    """IANA time zone of ``recurrence``. Default: UTC."""


class WarmPoolArgs(TypedDict):
    min_size: NotRequired[int]
    """Instances kept in the warm pool, 0-1000. Default: 0."""
    max_prepared_capacity: NotRequired[int]
    """Most instances in the group and the pool together, 0-1000. Default: the group's ``max``."""
    pool_state: NotRequired[str]
    """``Stopped`` (pay only for volumes) or ``Running``. Default: ``Stopped``."""
    reuse_on_scale_in: NotRequired[bool]
    """Return instances to the pool on scale in instead of terminating them. Default: false."""


class AutoscalingArgs(TypedDict):
    requests_per_target: NotRequired[int]
    """Also track ALB requests per instance (per minute) at this value, 1-1000000. Default: CPU tracking only."""
    schedules: NotRequired[Mapping[str, ScheduleArgs]]
    """Scheduled capacity changes by name (lowercase letters, digits, ``-``). Default: none."""
    warm_pool: NotRequired[WarmPoolArgs]
    """Pre-initialised instances for fast scale out (not with Spot or several instance types). Default: none."""


class VmServiceArgs(TypedDict):
    """A service on EC2 instances: the core spec plus the VM's own keys."""

    port: NotRequired[int]
    """Port the service listens on, 1-65535. Default: 8080."""
    health_check: NotRequired[HealthCheckArgs]
    """Target group health check. Default: the core spec's (``/health`` every 30 s), with a ``grace_period``
    of 300 s for VMs."""
    scaling: NotRequired[ScalingArgs]
    """Group size and CPU target. Default: the profile's capacity (dev 1-2, prod 2-10), 60% CPU.
    ``desired`` only sets the size of the group when it is created: later the scaling policies own it."""
    environment: NotRequired[Mapping[str, str]]
    """Plain environment variables, written to ``/etc/<name>/environment`` by user data. Default: none."""
    secrets: NotRequired[Mapping[str, str]]
    """Variable name -> SSM parameter or Secrets Manager ARN, fetched by the instance role into
    ``/run/<name>/secrets.env`` (tmpfs) before every start of the unit; never in user data. Default: none."""
    secrets_kms_keys: NotRequired[Sequence[str]]
    """ARNs of the customer-managed KMS keys that encrypt ``secrets``: the role may ``kms:Decrypt`` with them,
    only through Secrets Manager or SSM. Default: none (secrets under AWS managed keys need no grant)."""
    expose: NotRequired[str]
    """``public`` (internet-facing load balancer), ``internal`` (in the VPC) or ``none``. Default: ``internal``."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every resource. Default: none."""
    routes: NotRequired[Sequence[str | Mapping[str, Any]]]
    """Routes of the stack's API gateway (``microservices:gateway``) that lead to this service: route keys
    (``GET /orders/{id}``, ``ANY /orders/{proxy+}``) or mappings with ``route``, ``throttle``, ``scopes`` and
    ``authorization`` (see ``components.gateway.RouteArgs``). The service is then a rule on the gateway's
    internal ALB instead of having a load balancer of its own. Default: none."""
    ami: AmiArgs | str
    """The image (required): an AMI id, ``{lookup: {version}}`` or ``{bake: {version}}``."""
    instance_type: NotRequired[str]
    """EC2 instance type. Default: the profile's (``t4g.small`` in dev, ``m7g.large`` in prod)."""
    instance_types: NotRequired[Sequence[str]]
    """Several instance types of one architecture, in order of preference (a mixed instances policy).
    Default: just ``instance_type``."""
    spot_percentage: NotRequired[int]
    """Share of capacity above ``on_demand_base_capacity`` on Spot, 0-100; Spot turns on capacity
    rebalancing. Default: 100 when the profile prefers Spot (dev) and there is no warm pool, else 0."""
    on_demand_base_capacity: NotRequired[int]
    """Instances always On-Demand before the Spot share applies, 0-1000. Default: 0."""
    root_volume_size: NotRequired[int]
    """Root volume (gp3, encrypted) in GiB, 8-16384. Default: 20."""
    key_name: NotRequired[str]
    """EC2 key pair for SSH. Default: none (use SSM Session Manager)."""
    metadata_hop_limit: NotRequired[int]
    """IMDSv2 response hop limit, 1-64. Default: 1 (containers on the host cannot reach instance credentials)."""
    load_balancer: NotRequired[LoadBalancerArgs]
    """Load balancer settings (see ``components.blocks.load_balancer``). Default: an ALB of its own."""
    rollout: NotRequired[RolloutArgs]
    """How a new launch template version (new AMI, new user data, other instance types) is rolled out: an
    instance refresh launches new instances before terminating old ones and is rolled back to the serving
    version if it fails. Default: a timeout of the grace period plus 600 s, warm-up of the grace period."""
    autoscaling: NotRequired[AutoscalingArgs]
    """Request-based scaling, schedules and a warm pool. Default: CPU target tracking only."""



# ---------------------------------------------------------------------------------------------
# Settings: the args with every default resolved
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    """The newest AMI of this account tagged ``Service: <name>``, ``Version: <version>`` and ``tags``."""

    version: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bake:
    """An AMI baked by EC2 Image Builder. The two fields without a default depend on the fleet and are
    resolved by :func:`resolve_vm`: ``build_instance_type`` (the first instance type) and ``parent_parameter``
    (:data:`AL2023_PARAMETER` for the build instance type's architecture)."""

    version: str
    build_instance_type: str
    parent_parameter: str
    document: str = "component.yaml"
    schedule: str | None = None
    keep: int = 5
    timeout: int = 120
    """Minutes ``pulumi up`` waits for the bake (the provider's own default is 60)."""


@dataclass(frozen=True)
class AmiSource:
    """Exactly one of the three is set (validation sees to it)."""

    id: pulumi.Input[str] | None = None
    lookup: Lookup | None = None
    bake: Bake | None = None


@dataclass(frozen=True)
class Rollout:
    """Both default from the health check grace period (resolved by :func:`resolve_vm`): ``timeout`` to the
    grace period plus :data:`DEFAULT_ROLLOUT_MARGIN`, ``instance_warmup`` to the grace period."""

    timeout: int
    instance_warmup: int


@dataclass(frozen=True)
class Schedule:
    recurrence: str
    min: int = UNCHANGED
    max: int = UNCHANGED
    desired: int = UNCHANGED
    time_zone: str = "UTC"


@dataclass(frozen=True)
class WarmPool:
    """``max_prepared_capacity`` defaults to the group's ``max`` (resolved by :func:`resolve_vm`)."""

    max_prepared_capacity: int
    min_size: int = 0
    pool_state: str = "Stopped"
    reuse_on_scale_in: bool = False


@dataclass(frozen=True)
class Autoscaling:
    requests_per_target: int | None = None
    """``None``: CPU target tracking only."""
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    warm_pool: WarmPool | None = None


@dataclass(frozen=True)
class VmSettings:
    """A ``vm`` service with every default resolved: the core spec plus the VM's own settings."""

    core: CoreSpec
    ami: AmiSource
    instance_types: tuple[str, ...]
    """In order of preference; one architecture."""
    spot_percentage: int
    """Default: 100 when the profile prefers Spot and there is no warm pool, else 0."""
    rollout: Rollout
    on_demand_base_capacity: int = 0
    root_volume_size: int = 20
    key_name: str | None = None
    metadata_hop_limit: int = 1
    load_balancer: Mapping[str, Any] = field(default_factory=dict)
    """As given: :class:`~components.blocks.load_balancer.ServiceLoadBalancer` resolves its own settings."""
    autoscaling: Autoscaling = field(default_factory=Autoscaling)

    @property
    def instance_type(self) -> str:
        """The first (preferred) instance type: the launch template's, and the bake's default builder."""
        return self.instance_types[0]

    @property
    def architecture(self) -> str:
        return instance_architecture(self.instance_type)


# ---------------------------------------------------------------------------------------------
# Resolution (after validation) and the two defaults validation needs as well
# ---------------------------------------------------------------------------------------------

def instance_types(spec: Mapping[str, Any], profile: Profile) -> list[str]:
    """``instance_types``, else ``[instance_type]``, else the profile's instance type."""
    types = spec.get("instance_types")
    if isinstance(types, (list, tuple)) and types:
        return [str(t) for t in types]
    return [str(spec.get("instance_type") or profile.instance_type)]


def spot_percentage(spec: Mapping[str, Any], profile: Profile) -> int:
    """``spot_percentage``, else 100 when the profile prefers Spot and there is no warm pool, else 0."""
    if spec.get("spot_percentage") is not None:
        return int(spec["spot_percentage"])
    auto = spec.get("autoscaling")
    warm = auto.get("warm_pool") if isinstance(auto, Mapping) else None
    return 100 if profile.spot and warm is None else 0


def _given(cls: type, values: Any, **resolved: Any) -> Any:
    """A ``cls`` settings object from the keys ``values`` sets (``None`` counts as not set), the dataclass
    defaults for the others, ``resolved`` for fields whose default depends on other settings. Whole numbers
    written ``20.0`` become ints (validation has accepted only whole numbers for int keys)."""
    values = values if isinstance(values, Mapping) else {}
    set_keys = {f.name: values[f.name] for f in fields(cls) if values.get(f.name) is not None}
    return cls(**{**resolved, **{k: int(v) if isinstance(v, float) else v for k, v in set_keys.items()}})


def _ami(ami: Any, fleet: Sequence[str]) -> AmiSource:
    if isinstance(ami, (str, pulumi.Output)):
        return AmiSource(id=ami)
    if ami.get("id") is not None:
        return AmiSource(id=ami["id"])
    if ami.get("lookup") is not None:
        lookup = ami["lookup"]
        return AmiSource(lookup=Lookup(version=str(lookup["version"]),
                                       tags={str(k): str(v) for k, v in (lookup.get("tags") or {}).items()}))
    bake = dict(ami["bake"], version=str(ami["bake"]["version"]))
    builder = bake.get("build_instance_type") or fleet[0]
    parent = bake.get("parent_parameter") or AL2023_PARAMETER.format(arch=instance_architecture(builder))
    return AmiSource(bake=_given(Bake, bake, build_instance_type=builder, parent_parameter=parent))


def _autoscaling(auto: Any, core: CoreSpec) -> Autoscaling:
    auto = auto if isinstance(auto, Mapping) else {}
    warm = auto.get("warm_pool")
    return Autoscaling(
        requests_per_target=auto.get("requests_per_target"),
        schedules={key: _given(Schedule, sched) for key, sched in (auto.get("schedules") or {}).items()},
        warm_pool=None if warm is None else _given(WarmPool, warm, max_prepared_capacity=core.scaling.max))


def resolve_vm(spec: Mapping[str, Any], profile: Profile) -> VmSettings:
    """The settings of a validated ``vm`` spec: explicit values win over the profile's and the pattern's."""
    core = resolve_core(spec, profile, default_port=DEFAULT_PORT, default_grace_period=DEFAULT_GRACE_PERIOD)
    fleet = tuple(instance_types(spec, profile))
    grace = core.health_check.grace_period
    # The launch settings and the On-Demand base as given; every other field is resolved here.
    as_given = {key: spec.get(key) for key in (*LAUNCH_KEYS, "on_demand_base_capacity")}
    return _given(
        VmSettings, as_given, core=core, ami=_ami(spec["ami"], fleet), instance_types=fleet,
        spot_percentage=spot_percentage(spec, profile),
        rollout=_given(Rollout, spec.get("rollout"), timeout=grace + DEFAULT_ROLLOUT_MARGIN, instance_warmup=grace),
        load_balancer=dict(spec.get("load_balancer") or {}), autoscaling=_autoscaling(spec.get("autoscaling"), core))
