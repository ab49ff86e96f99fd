"""The args of the ``ecs`` pattern (the stack file's keys, one docstring per field stating its default) and
the frozen settings each spec resolves into once: :class:`EcsSettings` for a service, :class:`ClusterSettings`
for the cluster. Components read their fields; the fields carry the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Sequence, TypedDict

import pulumi

from ..blocks.architecture import ARCHITECTURES, instance_architecture
from ..blocks.container import CONTAINER_KEYS, ContainerSettings, resolve_container
from ..blocks.container_image import ContainerImageArgs, image_architecture
from ..blocks.load_balancer import LoadBalancerArgs
from ..blocks.service import CORE_KEYS, CoreSpec, HealthCheckArgs, ScalingArgs, resolve_core
from ..profiles import Profile

__all__ = [
    "CAPACITIES",
    "CLUSTER_KEYS",
    "ClusterSettings",
    "DEFAULT_DEPLOYMENT_TIMEOUT",
    "EC2_KEYS",
    "ECS_KEYS",
    "Ec2Capacity",
    "Ec2CapacityArgs",
    "EcsClusterArgs",
    "EcsServiceArgs",
    "EcsSettings",
    "FARGATE_SIZES",
    "PORT_NAME",
    "QUEUE_KEYS",
    "QueueArgs",
    "QueueSettings",
    "Shape",
    "cluster_value",
    "effective_spec",
    "explicit_architecture",
    "resolve_capacity",
    "resolve_cluster",
    "resolve_ec2",
    "resolve_ecs",
    "resolve_queue",
    "shape_of",
    "task_architecture",
]

CAPACITIES = ("fargate", "fargate_spot", "ec2")
QUEUE_KEYS = ("visibility_timeout", "max_receive_count", "retention_days", "messages_per_task")
ECS_KEYS = CORE_KEYS + CONTAINER_KEYS + (
    "cpu", "memory", "capacity", "architecture", "ephemeral_storage", "enable_exec", "target_memory",
    "target_requests", "load_balancer", "policy_arns", "queue", "schedule", "deployment_timeout")
EC2_KEYS = ("instance_type", "min_size", "max_size", "root_volume_size", "target_capacity", "ami_id")
CLUSTER_KEYS = ("ec2", "namespace", "container_insights", "tags")

#: Fargate task sizes: CPU units -> the memory values (MiB) allowed with them.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
#: Minutes `pulumi up` waits for a deployment (the provider's own default is 20).
DEFAULT_DEPLOYMENT_TIMEOUT = 30
#: The name of the container's port mapping, which Service Connect refers to.
PORT_NAME = "http"
#: The port a service's container listens on, and its health check grace period, unless the spec says.
DEFAULT_PORT, DEFAULT_GRACE_PERIOD = 8080, 60

Shape = Literal["service", "worker", "scheduled"]


class QueueArgs(TypedDict):
    """``queue``: the service is a queue worker, fed by an SQS queue with a dead-letter queue."""

    visibility_timeout: NotRequired[int]
    """Seconds a received message stays hidden, 0-43200: longer than a message takes. Default: 60."""
    max_receive_count: NotRequired[int]
    """Receives before a message moves to the dead-letter queue, 1-1000. Default: 5."""
    retention_days: NotRequired[int]
    """Days a message is kept, 1-14 (the dead-letter queue keeps 14). Default: 4."""
    messages_per_task: NotRequired[int]
    """Backlog per running task that target tracking holds, 1-100000. Default: 10."""


class EcsServiceArgs(TypedDict):
    """An ``ecs`` service: the core spec, how its container runs, and ECS's own settings."""

    port: NotRequired[int]
    """Port the container listens on, 1-65535. Default: 8080."""
    health_check: NotRequired[HealthCheckArgs]
    """Load balancer and container health checks; ``grace_period`` is the service's health check grace
    period. Default: see the core spec (grace period 60 s)."""
    scaling: NotRequired[ScalingArgs]
    """Tasks: ``min``/``max`` bound autoscaling, ``desired`` the count at creation, ``target_cpu`` the CPU
    target. Default: the profile's capacity."""
    environment: NotRequired[Mapping[str, str]]
    """Plain environment variables. Default: none."""
    secrets: NotRequired[Mapping[str, str]]
    """Variable -> SSM parameter or Secrets Manager ARN, injected by ECS (``valueFrom``); only the
    execution role may read them. Default: none."""
    secrets_kms_keys: NotRequired[Sequence[str]]
    """ARNs of the customer-managed KMS keys that encrypt ``secrets``: the role may ``kms:Decrypt`` with them,
    only through Secrets Manager or SSM. Default: none (secrets under AWS managed keys need no grant)."""
    expose: NotRequired[str]
    """``public`` (internet-facing load balancer), ``internal`` (load balancer inside the VPC) or ``none``
    (Service Connect only). Default: ``internal``; ``none`` for queue workers and scheduled tasks."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Default: none."""
    routes: NotRequired[Sequence[str | Mapping[str, Any]]]
    """Routes of the stack's API gateway (``microservices:gateway``) that lead to this service: route keys
    (``GET /orders/{id}``, ``ANY /orders/{proxy+}``) or mappings with ``route``, ``throttle``, ``scopes`` and
    ``authorization`` (see ``components.gateway.RouteArgs``). The service is then a rule on the gateway's
    internal ALB instead of having a load balancer of its own. Default: none."""
    image: NotRequired[ContainerImageArgs]
    """``{context, dockerfile, build_args, platform}`` or ``{ref}``. Default: ``{context: services/<name>}``."""
    user: NotRequired[str]
    """Non-root ``user``, ``uid`` or ``uid:gid`` of the container. Default: the image's ``USER``."""
    command: NotRequired[Sequence[str]]
    """Overrides the image's ``CMD``. Default: the image's."""
    health_command: NotRequired[Sequence[str]]
    """Container health check (``["CMD-SHELL", "..."]``), or ``["NONE"]`` for none (the load balancer's check
    still replaces unhealthy tasks; ECS ignores an image's own ``HEALTHCHECK``). Default: ``wget`` of
    ``health_check.path``, so the image must ship ``wget`` (busybox and Alpine images do; Debian ``slim``
    and distroless images do not: give a command of your own); none for queue workers and scheduled tasks."""
    read_only_root_filesystem: NotRequired[bool]
    """Read-only root filesystem. Default: true."""
    writable_paths: NotRequired[Sequence[str]]
    """Absolute paths mounted as writable task volumes. Default: ``["/tmp"]``."""
    cpu: NotRequired[int]
    """Task CPU units. Fargate: 256, 512, 1024, 2048, 4096, 8192 or 16384; EC2: 128-196608.
    Default: the profile's ``container_cpu`` (dev 256, staging/prod 512)."""
    memory: NotRequired[int]
    """Task memory in MiB. Fargate: a value the CPU allows (256: 512/1024/2048; 512: 1024-4096; 1024: 2048-8192;
    2048: 4096-16384, all in steps of 1024; 4096: 8192-30720 step 1024; 8192: 16384-61440 step 4096;
    16384: 32768-122880 step 8192); EC2: at least 128. Default: the profile's ``container_memory``."""
    capacity: NotRequired[str]
    """``fargate``, ``fargate_spot`` or ``ec2`` (the cluster's instances, bin-packed).
    Default: ``fargate_spot`` when the profile prefers Spot (dev), else ``fargate``."""
    architecture: NotRequired[str]
    """``arm64`` or ``x86_64``. Default: the image's ``platform``; else the stack's architecture, that of the
    cluster's EC2 instances (the profile's Graviton types: ``arm64``), on Fargate and Fargate Spot too, so
    every service of a stack shares one image per build."""
    ephemeral_storage: NotRequired[int]
    """Fargate task storage in GiB, 21-200. Default: Fargate's 20 GiB."""
    enable_exec: NotRequired[bool]
    """ECS Exec (``aws ecs execute-command``) into running tasks. The root filesystem stays read-only: the
    paths its SSM agent writes (``/var/lib/amazon``, ``/var/log/amazon``) become task volumes. Default: false."""
    target_memory: NotRequired[int]
    """Also scale on average memory utilisation (percent, 10-90). Default: CPU only."""
    target_requests: NotRequired[int]
    """Also scale on ALB requests per task per minute, 1-1000000 (needs an ALB). Default: CPU only."""
    load_balancer: NotRequired[LoadBalancerArgs]
    """The load balancer (see the load balancer block). Default: an ALB of its own unless ``expose: none``."""
    policy_arns: NotRequired[Sequence[str]]
    """IAM policies attached to the task role (what the application may call). Default: none."""
    queue: NotRequired[QueueArgs]
    """Make the service a queue worker. Default: none."""
    schedule: NotRequired[str]
    """Make it a scheduled task: ``rate(5 minutes)`` or ``cron(0 3 * * ? *)``. Default: none."""
    deployment_timeout: NotRequired[int]
    """Minutes ``pulumi up`` waits for a deployment to reach a steady state before it fails, 5-180 (a
    failing deployment usually trips the circuit breaker sooner). Default: 30."""


class Ec2CapacityArgs(TypedDict):
    """``ec2`` of a cluster: an Auto Scaling Group of ECS-optimized instances behind a capacity provider."""

    instance_type: NotRequired[str]
    """Instance type; Graviton (``t4g``, ``m7g``) runs arm64 tasks, others x86_64. Default: the profile's."""
    min_size: NotRequired[int]
    """Fewest instances, 0-1000. Default: the profile's ``min_capacity``."""
    max_size: NotRequired[int]
    """Most instances, 1-1000, at least ``min_size``. Default: the larger of ``min_size`` and twice the
    profile's ``max_capacity``."""
    root_volume_size: NotRequired[int]
    """Root volume (images and container layers) in GiB, 30-16384. Default: 30."""
    target_capacity: NotRequired[int]
    """Percent of the instances' capacity that managed scaling fills, 1-100. Default: 100 (pack tightly)."""
    ami_id: NotRequired[pulumi.Input[str]]
    """Pin the hosts' AMI. Default: the recommended ECS-optimized Amazon Linux 2023 AMI of the instance
    type's architecture, read from its public SSM parameter at each deployment: a newly published AMI shows
    as a launch template change and replaces the hosts by a rolling instance refresh (new hosts first,
    the old ones drained of their tasks)."""


class EcsClusterArgs(TypedDict):
    """The stack's ECS cluster, shared by its ``ecs`` services."""

    ec2: NotRequired[Ec2CapacityArgs]
    """EC2 capacity for services with ``capacity: ec2``. Default: none (Fargate and Fargate Spot only)."""
    namespace: NotRequired[str]
    """Name of the Service Connect (Cloud Map HTTP) namespace. Default: ``<project>-<stack>-<name>``."""
    container_insights: NotRequired[str]
    """``enabled`` or ``enhanced`` (per-task and per-container metrics, at a higher cost). Default: ``enabled``."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Default: none."""




# -- settings -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueSettings:
    """``queue`` resolved: a queue worker's SQS queue and its backlog target."""

    visibility_timeout: int = 60
    max_receive_count: int = 5
    retention_days: int = 4
    messages_per_task: int = 10


@dataclass(frozen=True)
class EcsSettings:
    """One ``ecs`` service spec resolved once (:func:`resolve_ecs`): what its components read."""

    core: CoreSpec
    """The core spec; ``expose`` is ``none`` for queue workers and scheduled tasks unless given."""
    container: ContainerSettings
    cpu: int
    memory: int
    architecture: str
    """The task's architecture (:func:`task_architecture`)."""
    capacity: str
    """``fargate``, ``fargate_spot`` or ``ec2`` (:func:`resolve_capacity`)."""
    shape: Shape = "service"
    ephemeral_storage: int | None = None
    """GiB of Fargate task storage; None for Fargate's own 20 GiB (and on EC2)."""
    enable_exec: bool = False
    target_memory: int | None = None
    target_requests: int | None = None
    load_balancer: Mapping[str, Any] = field(default_factory=dict)
    policy_arns: tuple[str, ...] = ()
    queue: QueueSettings | None = None
    schedule: str | None = None
    deployment_timeout: int = DEFAULT_DEPLOYMENT_TIMEOUT
    """Minutes ``pulumi up`` waits for a deployment."""

    @property
    def fargate(self) -> bool:
        """Fargate or Fargate Spot (``awsvpc`` networking), not the cluster's EC2 hosts (``bridge``)."""
        return self.capacity != "ec2"

    @property
    def has_load_balancer(self) -> bool:
        return self.shape == "service" and self.core.expose != "none"


@dataclass(frozen=True)
class Ec2Capacity:
    """``ec2`` of a cluster resolved (:func:`resolve_ec2`)."""

    instance_type: str
    min_size: int
    max_size: int
    root_volume_size: int = 30
    target_capacity: int = 100
    ami_id: pulumi.Input[str] | None = None
    """None: the recommended ECS-optimized AMI of the architecture, read from SSM."""

    @property
    def architecture(self) -> str:
        return instance_architecture(self.instance_type)


@dataclass(frozen=True)
class ClusterSettings:
    """:class:`EcsClusterArgs` resolved (:func:`resolve_cluster`)."""

    namespace: str | None = None
    """None: ``<project>-<stack>-<name>``."""
    container_insights: str = "enabled"
    tags: Mapping[str, str] = field(default_factory=dict)
    ec2: Ec2Capacity | None = None


# -- resolution ---------------------------------------------------------------------------------

def shape_of(spec: Mapping[str, Any]) -> Shape:
    """``scheduled``, ``worker`` (a queue worker) or ``service``."""
    if spec.get("schedule") is not None:
        return "scheduled"
    if spec.get("queue") is not None:
        return "worker"
    return "service"


def effective_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Workers and scheduled tasks take no traffic: ``expose`` defaults to ``none`` for them."""
    out = dict(spec)
    if shape_of(spec) != "service":
        out.setdefault("expose", "none")
    return out


def explicit_architecture(spec: Mapping[str, Any]) -> str | None:
    """The architecture a spec names, itself or through its image's ``platform``; None when it names none."""
    arch = spec.get("architecture")
    if isinstance(arch, str) and arch in ARCHITECTURES:
        return arch
    image = spec.get("image")
    return image_architecture(image) if isinstance(image, Mapping) else None


def resolve_capacity(spec: Mapping[str, Any], profile: Profile) -> str:
    """The capacity a service runs on: explicit; else Spot when the profile prefers it; ``fargate`` for a
    value not known yet. Fargate Spot runs ARM64 tasks too (platform version 1.4.0, which ``LATEST`` is),
    so the architecture never changes it."""
    capacity = spec.get("capacity")
    if capacity in CAPACITIES:
        return capacity
    if capacity is None:
        return "fargate_spot" if profile.spot else "fargate"
    return "fargate"


def cluster_value(cluster: Any, key: str) -> Any:
    """An output of the cluster a service runs on: an :class:`~components.ecs.EcsCluster`, or a mapping of
    its outputs."""
    if isinstance(cluster, Mapping):
        return cluster.get(key)
    return getattr(cluster, key, None)


def task_architecture(spec: Mapping[str, Any], profile: Profile, cluster: Any = None) -> str:
    """The architecture a service's tasks run (see ``EcsServiceArgs.architecture``): explicit, else that of
    the cluster's EC2 instances (Fargate tasks included), else that of the profile's instance type, so one
    image per build serves every service of the stack."""
    host_arch = cluster_value(cluster, "architecture") if cluster is not None else None
    return explicit_architecture(spec) or host_arch or instance_architecture(profile.instance_type)


def _given(spec: Mapping[str, Any], keys: Sequence[str]) -> dict[str, int]:
    """The integer ``keys`` a spec sets: what it leaves out takes the settings field's default."""
    return {key: int(spec[key]) for key in keys if spec.get(key) is not None}


def resolve_queue(spec: Mapping[str, Any]) -> QueueSettings:
    return QueueSettings(**_given(spec, QUEUE_KEYS))


def resolve_ecs(name: str, spec: Mapping[str, Any], profile: Profile, cluster: Any = None) -> EcsSettings:
    """The settings of a validated service spec, with the defaults of the pattern and ``profile``; the
    architecture follows ``cluster``'s EC2 instances when it has them."""
    shape = shape_of(spec)
    core = resolve_core(effective_spec(spec), profile, default_port=DEFAULT_PORT,
                        default_grace_period=DEFAULT_GRACE_PERIOD)
    optional: dict[str, Any] = _given(spec, ("ephemeral_storage", "target_memory", "target_requests",
                                             "deployment_timeout"))
    if spec.get("enable_exec") is not None:
        optional["enable_exec"] = bool(spec["enable_exec"])
    if shape == "worker":
        optional["queue"] = resolve_queue(spec["queue"])
    if shape == "scheduled":
        optional["schedule"] = spec["schedule"]
    return EcsSettings(
        core=core,
        container=resolve_container(name, spec, core, serves_http=shape == "service"),
        cpu=int(spec["cpu"]) if spec.get("cpu") is not None else profile.container_cpu,
        memory=int(spec["memory"]) if spec.get("memory") is not None else profile.container_memory,
        architecture=task_architecture(spec, profile, cluster),
        shape=shape,
        capacity=resolve_capacity(spec, profile),
        load_balancer=dict(spec.get("load_balancer") or {}),
        policy_arns=tuple(spec.get("policy_arns") or ()),
        **optional)


def resolve_ec2(spec: Mapping[str, Any], profile: Profile) -> Ec2Capacity:
    """``ec2`` of a cluster: the profile's instance type and ``min_capacity``; at most the larger of
    ``min_size`` and twice the profile's ``max_capacity`` instances."""
    instance_type = spec.get("instance_type") or profile.instance_type
    lo = int(spec["min_size"]) if spec.get("min_size") is not None else profile.min_capacity
    hi = int(spec["max_size"]) if spec.get("max_size") is not None else max(lo, 2 * profile.max_capacity)
    extra: dict[str, Any] = _given(spec, ("root_volume_size", "target_capacity"))
    if spec.get("ami_id") is not None:
        extra["ami_id"] = spec["ami_id"]
    return Ec2Capacity(instance_type=instance_type, min_size=lo, max_size=hi, **extra)


def resolve_cluster(args: Mapping[str, Any], profile: Profile) -> ClusterSettings:
    """The settings of validated :class:`EcsClusterArgs`."""
    given: dict[str, Any] = {key: args[key] for key in ("namespace", "container_insights") if args.get(key)}
    ec2 = args.get("ec2")
    return ClusterSettings(tags=dict(args.get("tags") or {}),
                           ec2=resolve_ec2(ec2, profile) if ec2 is not None else None, **given)
