"""Service instance per container on ECS: ``EcsCluster`` (one per stack) and ``EcsService``.

An ``ecs`` service runs on Fargate (``awsvpc``: each task has its own network interface and
security group, target type ``ip``) or on the cluster's EC2 capacity (``bridge`` networking with
dynamic host ports, target type ``instance``, bin-packed on memory so several instances of several
services share each host). Every service joins the cluster's Service Connect namespace, so the
others call it as ``http://<name>:<port>``. Besides a long-running service, two worker shapes:
``queue`` (an SQS queue with a dead-letter queue, scaled on backlog per task) and ``schedule``
(a task run by an EventBridge rule).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NotRequired, Sequence, TypedDict

import pulumi
import pulumi_aws as aws

from .blocks.access import Account
from .blocks.architecture import ARCHITECTURES, instance_architecture
from .blocks.container import CONTAINER_KEYS, ContainerSettings, resolve_container, validate_container
from .blocks.iam import policy_document, scoped_trust_policy, secret_read_statements, statement
from .blocks.launch_template import (AMI_ID_EXAMPLE, AMI_ID_PATTERN, INSTANCE_TYPE_PATTERN, instance_role,
                                     launch_template)
from .blocks.load_balancer import (LoadBalancerArgs, ServiceLoadBalancer, network_value,
                                   prepare_shared_load_balancers, service_security_group, shared_load_balancer,
                                   standard_alarms, validate_load_balancer)
from .blocks.logs import log_group
from .blocks.schedule import check_schedule
from .blocks.container_image import (ECR_REF_PATTERN, ContainerImage, ContainerImageArgs, default_image_spec,
                              ecr_repository_arn, image_architecture, platform_of, shared_image)
from .patterns import BuildContext, Pattern, ValidationContext, run_on_docker_host
from .profiles import Profile, get_profile
from .blocks.service import (CORE_KEYS, CoreSpec, HealthCheckArgs, ScalingArgs, resolve_core, standard_tags,
                           validate_core, validate_tags)
from .validation import Problems, is_unknown, join_path

__all__ = [
    "CAPACITIES",
    "ECS_KEYS",
    "EcsCluster",
    "EcsClusterArgs",
    "EcsService",
    "EcsServiceArgs",
    "FARGATE_SIZES",
    "PATTERN",
    "QueueArgs",
    "instance_architecture",
    "validate_ecs",
    "validate_ecs_cluster",
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
EC2_CPU_MIN, EC2_CPU_MAX = 128, 196608
EC2_MEMORY_MIN = 128
EPHEMERAL_MIN, EPHEMERAL_MAX = 21, 200
#: Docker's dynamic host ports on ECS hosts: the kernel's ephemeral range (32768-60999 on Amazon
#: Linux 2023) and Docker's fallback (49153-65535) both fall inside it.
DYNAMIC_PORTS = (32768, 65535)
POLICY_ARN_PATTERN = r"arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[\w+=,.@/-]+"
NAMESPACE_PATTERN = r"[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?"
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
ECS_AMI_PARAMETERS = {
    "arm64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
    "x86_64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
}
#: Where the SSM agent that ECS Exec starts in the container keeps its state and logs: writable task volumes,
#: so Exec works on a read-only root filesystem.
EXEC_WRITABLE_PATHS = ("/var/lib/amazon", "/var/log/amazon")
EXEC_ACTIONS = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
#: Minutes `pulumi up` waits for a deployment (the provider's own default is 20).
DEFAULT_DEPLOYMENT_TIMEOUT = 30
DEPLOYMENT_TIMEOUT_RANGE = (5, 180)
PORT_NAME = "http"


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


# -- resolution ---------------------------------------------------------------------------------

def shape_of(spec: Mapping[str, Any]) -> str:
    """``scheduled``, ``worker`` (a queue worker) or ``service``."""
    if spec.get("schedule") is not None:
        return "scheduled"
    if spec.get("queue") is not None:
        return "worker"
    return "service"


def _explicit_architecture(spec: Mapping[str, Any]) -> str | None:
    arch = spec.get("architecture")
    if isinstance(arch, str) and arch in ARCHITECTURES:
        return arch
    image = spec.get("image")
    return image_architecture(image) if isinstance(image, Mapping) else None


def resolve_capacity(spec: Mapping[str, Any], profile: Profile) -> str:
    """The capacity a service runs on (explicit, else Spot when the profile prefers it). Fargate Spot runs
    ARM64 tasks too (platform version 1.4.0, which ``LATEST`` is), so the architecture never changes it."""
    if spec.get("capacity") in CAPACITIES:
        return spec["capacity"]
    return "fargate_spot" if profile.spot else "fargate"


def resolve_architecture(spec: Mapping[str, Any], profile: Profile, instance_type: str | None = None) -> str:
    """The CPU architecture of a service's task (see ``EcsServiceArgs.architecture``): explicit, else the
    stack's, that of the cluster's EC2 instances (``instance_type``, else the profile's), on Fargate too, so
    one image per build serves every service of the stack."""
    return _explicit_architecture(spec) or instance_architecture(instance_type or profile.instance_type)


def task_architecture(spec: Mapping[str, Any], profile: Profile, cluster: Any = None) -> str:
    """The architecture a service's tasks run: explicit, else the cluster's EC2 instances' (Fargate tasks
    included), else the profile's (:func:`resolve_architecture`)."""
    host_arch = _cluster_value(cluster, "architecture") if cluster is not None else None
    return _explicit_architecture(spec) or host_arch or resolve_architecture(spec, profile)


def _effective(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Workers and scheduled tasks take no traffic: ``expose`` defaults to ``none`` for them."""
    out = dict(spec)
    if shape_of(spec) != "service":
        out.setdefault("expose", "none")
    return out


def _allowed_memory_text(cpu: int) -> str:
    values = FARGATE_SIZES[cpu]
    if len(values) <= 3:
        return ", ".join(str(v) for v in values)
    return f"{values[0]}-{values[-1]} in steps of {values[1] - values[0]}"


# -- validation ---------------------------------------------------------------------------------

def validate_ecs(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    """Every problem of one ``ecs`` service spec (the catalog entry without ``pattern``)."""
    problems = Problems()
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return problems
    problems.check_known_keys(spec, ECS_KEYS, path)
    shape = shape_of(spec)
    eff = _effective(spec)
    validate_core(eff, path, problems)
    validate_container(name, spec, path, problems, vctx)
    profile = vctx.profile

    ok_cap = problems.check_enum(spec.get("capacity"), join_path(path, "capacity"), CAPACITIES)
    ok_arch = problems.check_enum(spec.get("architecture"), join_path(path, "architecture"), ARCHITECTURES)
    capacity = resolve_capacity(spec, profile) if ok_cap else None
    image_arch = image_architecture(spec["image"]) if isinstance(spec.get("image"), Mapping) else None
    if ok_arch and spec.get("architecture") and image_arch and spec["architecture"] != image_arch:
        problems.add(join_path(path, "architecture"), f"is {spec['architecture']!r} but image.platform builds "
                                                      f"{image_arch!r}: they must match")

    _validate_size(spec, path, problems, profile, capacity)
    eph = spec.get("ephemeral_storage")
    if problems.check_int(eph, join_path(path, "ephemeral_storage"), EPHEMERAL_MIN, EPHEMERAL_MAX, "GiB") \
            and eph is not None and capacity == "ec2":
        problems.add(join_path(path, "ephemeral_storage"), "applies to Fargate only; EC2 tasks use the host's disk")
    problems.check_bool(spec.get("enable_exec"), join_path(path, "enable_exec"))
    problems.check_int(spec.get("target_memory"), join_path(path, "target_memory"), 10, 90, "percent")
    problems.check_int(spec.get("deployment_timeout"), join_path(path, "deployment_timeout"),
                       *DEPLOYMENT_TIMEOUT_RANGE, "minutes")
    problems.check_int(spec.get("target_requests"), join_path(path, "target_requests"), 1, 1_000_000)
    policies = spec.get("policy_arns")
    if problems.check_list(policies, join_path(path, "policy_arns")) and isinstance(policies, (list, tuple)):
        for i, arn in enumerate(policies):
            problems.check_str(arn, join_path(path, "policy_arns", i), POLICY_ARN_PATTERN,
                               "an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)")

    lb = spec.get("load_balancer")
    validate_load_balancer(lb, join_path(path, "load_balancer"), problems, core=eff)
    if spec.get("target_requests") is not None:
        lb_type = lb.get("type", "alb") if isinstance(lb, Mapping) else "alb"
        if eff.get("expose", "internal") == "none" or lb_type != "alb":
            problems.add(join_path(path, "target_requests"), "scales on ALB requests, but this service has no ALB")

    if shape != "service":
        what = "a scheduled task" if shape == "scheduled" else "a queue worker"
        if spec.get("expose", "none") != "none":
            problems.add(join_path(path, "expose"), f"must be 'none' for {what}: it takes no traffic")
        for key in ("target_memory", "target_requests"):
            if spec.get(key) is not None:
                problems.add(join_path(path, key), f"does not apply to {what}")
    _validate_queue(spec, path, problems)
    _validate_schedule(spec, path, problems)
    return problems


def _validate_size(spec: Mapping[str, Any], path: str, problems: Problems, profile: Profile,
                   capacity: str | None) -> None:
    cpu, memory = spec.get("cpu"), spec.get("memory")
    cpu_path, mem_path = join_path(path, "cpu"), join_path(path, "memory")
    if capacity == "ec2":
        problems.check_int(cpu, cpu_path, EC2_CPU_MIN, EC2_CPU_MAX, "CPU units")
        problems.check_int(memory, mem_path, EC2_MEMORY_MIN, None, "MiB")
        return
    if not (problems.check_int(cpu, cpu_path) and problems.check_int(memory, mem_path)):
        return
    if is_unknown(cpu) or is_unknown(memory):
        return
    eff_cpu = int(cpu) if cpu is not None else profile.container_cpu
    eff_mem = int(memory) if memory is not None else profile.container_memory
    if eff_cpu not in FARGATE_SIZES:
        given = "" if cpu is not None else f" (the {profile.name} profile's default)"
        problems.add(cpu_path, f"must be a Fargate CPU size ({', '.join(str(c) for c in FARGATE_SIZES)}), "
                               f"got {eff_cpu}{given}")
        return
    if eff_mem not in FARGATE_SIZES[eff_cpu]:
        given = "" if memory is not None else f" (the {profile.name} profile's default)"
        with_cpu = f"cpu {eff_cpu}" + ("" if cpu is not None else f" (the {profile.name} profile's default)")
        problems.add(mem_path, f"must be one of the values Fargate allows with {with_cpu}: "
                               f"{_allowed_memory_text(eff_cpu)} MiB, got {eff_mem}{given}")


def _validate_queue(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    queue = spec.get("queue")
    q_path = join_path(path, "queue")
    if queue is None or not problems.check_mapping(queue, q_path) or not isinstance(queue, Mapping):
        return
    problems.check_known_keys(queue, QUEUE_KEYS, q_path)
    problems.check_int(queue.get("visibility_timeout"), join_path(q_path, "visibility_timeout"), 0, 43200, "seconds")
    problems.check_int(queue.get("max_receive_count"), join_path(q_path, "max_receive_count"), 1, 1000)
    problems.check_int(queue.get("retention_days"), join_path(q_path, "retention_days"), 1, 14, "days")
    problems.check_int(queue.get("messages_per_task"), join_path(q_path, "messages_per_task"), 1, 100000)
    scaling = spec.get("scaling")
    lo = scaling.get("min") if isinstance(scaling, Mapping) else None
    if isinstance(lo, int) and lo < 1:
        problems.add(join_path(path, "scaling", "min"), "must be at least 1 for a queue worker: scaling on backlog "
                                                        "per task needs a running task to measure, got 0")


def _validate_schedule(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    schedule = spec.get("schedule")
    if schedule is None:
        return
    check_schedule(schedule, join_path(path, "schedule"), problems)
    if spec.get("queue") is not None:
        problems.add(join_path(path, "queue"), "cannot be combined with schedule: a service is a queue worker "
                                               "or a scheduled task, not both")
    if spec.get("scaling") is not None:
        problems.add(join_path(path, "scaling"), "does not apply to a scheduled task: one task runs per schedule")
    if spec.get("deployment_timeout") is not None:
        problems.add(join_path(path, "deployment_timeout"), "does not apply to a scheduled task: it has no "
                                                            "deployments to wait for")


def validate_ecs_cluster(args: Any, path: str) -> Problems:
    """Every problem of :class:`EcsClusterArgs`."""
    problems = Problems()
    if args is None or not problems.check_mapping(args, path) or not isinstance(args, Mapping):
        return problems
    problems.check_known_keys(args, CLUSTER_KEYS, path)
    problems.check_str(args.get("namespace"), join_path(path, "namespace"), NAMESPACE_PATTERN,
                       "a namespace name: letters, digits, '.', '_' and '-', at most 64 characters")
    problems.check_enum(args.get("container_insights"), join_path(path, "container_insights"), ("enabled", "enhanced"))
    validate_tags(args.get("tags"), join_path(path, "tags"), problems)
    ec2 = args.get("ec2")
    e_path = join_path(path, "ec2")
    if ec2 is not None and problems.check_mapping(ec2, e_path) and isinstance(ec2, Mapping):
        problems.check_known_keys(ec2, EC2_KEYS, e_path)
        problems.check_str(ec2.get("instance_type"), join_path(e_path, "instance_type"), INSTANCE_TYPE_PATTERN,
                           "an EC2 instance type such as 't4g.medium'")
        ok = problems.check_int(ec2.get("min_size"), join_path(e_path, "min_size"), 0, 1000) & \
            problems.check_int(ec2.get("max_size"), join_path(e_path, "max_size"), 1, 1000)
        lo, hi = ec2.get("min_size"), ec2.get("max_size")
        if ok and isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            problems.add(join_path(e_path, "min_size"), f"must be at most max_size ({hi}), got {lo}")
        problems.check_int(ec2.get("root_volume_size"), join_path(e_path, "root_volume_size"), 30, 16384, "GiB")
        problems.check_int(ec2.get("target_capacity"), join_path(e_path, "target_capacity"), 1, 100, "percent")
        problems.check_str(ec2.get("ami_id"), join_path(e_path, "ami_id"), AMI_ID_PATTERN,
                           AMI_ID_EXAMPLE)
    return problems


def validate_ecs_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
    """Rules across the stack's ``ecs`` services: EC2 tasks whose architecture differs from the cluster's
    instances. (Shared ALB rules are checked across every pattern by the catalog.)"""
    problems = Problems()
    host_arch = instance_architecture(vctx.profile.instance_type)
    for name in sorted(specs):
        spec = specs[name]
        if not isinstance(spec, Mapping) or spec.get("capacity") != "ec2":
            continue
        arch = _explicit_architecture(spec)
        if arch and arch != host_arch:
            problems.add(join_path("services", name, "architecture"),
                         f"is {arch!r} but the cluster's EC2 instances ({vctx.profile.instance_type}) are "
                         f"{host_arch!r}: EC2 tasks run on the cluster's instances")
    return problems


# -- cluster ------------------------------------------------------------------------------------

class EcsCluster(pulumi.ComponentResource):
    """An ECS cluster with Container Insights, the FARGATE and FARGATE_SPOT capacity providers (Spot
    first in profiles that prefer it), a Service Connect namespace, a security group every task joins
    (so services admit each other by group, not by CIDR), and optional EC2 capacity: an Auto Scaling
    Group of ECS-optimized instances (IMDSv2, encrypted gp3) behind a capacity provider with managed
    scaling, managed draining and termination protection."""

    arn: pulumi.Output[str]
    """ARN of the cluster (resolves once its capacity providers are associated)."""
    name: pulumi.Output[str]
    """Name of the cluster."""
    namespace_arn: pulumi.Output[str]
    """ARN of the Service Connect namespace."""
    namespace_name: pulumi.Output[str]
    """Name of the Service Connect namespace."""
    tasks_security_group_id: pulumi.Output[str]
    """Security group every task (and EC2 host) of the cluster joins; services admit their port from it."""
    hosts_security_group_id: pulumi.Output[str | None]
    """Security group of the EC2 hosts; None without EC2 capacity."""
    capacity_provider_name: pulumi.Output[str | None]
    """The EC2 capacity provider; None without EC2 capacity."""

    def __init__(self, name: str, args: EcsClusterArgs | None = None, opts: pulumi.ResourceOptions | None = None, *,
                 network: Any, profile: Profile | str | None = None):
        args = dict(args or {})
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        validate_ecs_cluster(args, name).raise_if_any()
        super().__init__("microservices:ecs:EcsCluster", name, None, opts)
        tags = standard_tags(name, prof.name, args.get("tags"))
        child = pulumi.ResourceOptions(parent=self)
        self.profile = prof
        self._host_rules: set[str] = set()
        self.host_rules: dict[str, list[pulumi.Resource]] = {}
        """The security group rules opening the hosts to each load balancer, by :meth:`claim_host_rule` key."""

        namespace_name = args.get("namespace") or re.sub(
            r"[^A-Za-z0-9._-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}")[:64].strip("-._")
        namespace = aws.servicediscovery.HttpNamespace(f"{name}-ns", name=namespace_name,
                                                       description=f"Service Connect of {name}", tags=tags, opts=child)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[{"name": "containerInsights", "value": args.get("container_insights", "enabled")}],
            service_connect_defaults={"namespace": namespace.arn}, tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=prof.protect))
        vpc_id = network_value(network, "vpc_id")
        tasks_sg = service_security_group(f"{name}-tasks", vpc_id=vpc_id, tags=tags, opts=child)

        providers = ["FARGATE", "FARGATE_SPOT"]
        self.ec2 = args.get("ec2") is not None
        self.instance_type = None
        self.hosts_security_group_id = self.capacity_provider_name = pulumi.Output.from_input(None)
        if self.ec2:
            ec2 = dict(args["ec2"])
            self.instance_type = ec2.get("instance_type", prof.instance_type)
            hosts_sg, provider = self._ec2_capacity(name, ec2, prof, cluster, tasks_sg, network, tags)
            providers.append(provider.name)
            self.hosts_security_group_id = hosts_sg.id
            self.capacity_provider_name = provider.name
        self.architecture = instance_architecture(self.instance_type) if self.instance_type else None
        """Architecture of the EC2 hosts (None without EC2 capacity)."""

        default = "FARGATE_SPOT" if prof.spot else "FARGATE"
        association = aws.ecs.ClusterCapacityProviders(
            f"{name}-providers", cluster_name=cluster.name, capacity_providers=providers,
            default_capacity_provider_strategies=[{"capacity_provider": default, "weight": 1, "base": 0}],
            opts=child)
        # Services name capacity providers in their strategies: they must wait for the association.
        self.arn = pulumi.Output.all(cluster.arn, association.id).apply(lambda v: v[0])
        self.name = association.cluster_name
        self.namespace_arn = namespace.arn
        self.namespace_name = namespace.name
        self.tasks_security_group_id = tasks_sg.id
        self.register_outputs({"arn": self.arn, "name": self.name, "namespace_arn": self.namespace_arn,
                               "namespace_name": self.namespace_name,
                               "tasks_security_group_id": self.tasks_security_group_id,
                               "hosts_security_group_id": self.hosts_security_group_id,
                               "capacity_provider_name": self.capacity_provider_name})

    def _ec2_capacity(self, name: str, ec2: Mapping[str, Any], prof: Profile, cluster: aws.ecs.Cluster,
                      tasks_sg: aws.ec2.SecurityGroup, network: Any, tags: Mapping[str, str]):
        child = pulumi.ResourceOptions(parent=self)
        hosts = f"{name}-hosts"
        arch = instance_architecture(self.instance_type)
        hosts_sg = service_security_group(hosts, vpc_id=network_value(network, "vpc_id"), tags=tags, opts=child)
        # Service Connect and Fargate callers reach bridge-mode tasks on their dynamic host ports.
        aws.vpc.SecurityGroupIngressRule(f"{hosts}-from-tasks", security_group_id=hosts_sg.id, ip_protocol="tcp",
                                         from_port=DYNAMIC_PORTS[0], to_port=DYNAMIC_PORTS[1],
                                         referenced_security_group_id=tasks_sg.id,
                                         description="dynamic host ports from the cluster's tasks", tags=dict(tags),
                                         opts=child)
        role = instance_role(hosts, tags=tags, managed_policy_arns=[ECS_INSTANCE_POLICY], opts=child)
        if ec2.get("ami_id") is not None:
            image_id = ec2["ami_id"]
        else:
            image_id = aws.ssm.get_parameter_output(name=ECS_AMI_PARAMETERS[arch],
                                                    opts=pulumi.InvokeOutputOptions(parent=self)).value
        user_data = cluster.name.apply(lambda cluster_name: "\n".join([
            "#!/bin/bash",
            "cat >> /etc/ecs/ecs.config <<'EOF'",
            f"ECS_CLUSTER={cluster_name}",
            "ECS_ENABLE_CONTAINER_METADATA=true",
            "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
            f"ECS_DYNAMIC_HOST_PORT_RANGE={DYNAMIC_PORTS[0]}-{DYNAMIC_PORTS[1]}",
            "EOF",
            "",
        ]))
        # Hop limit 1 keeps the instance role away from bridge-mode containers: tasks use their task roles.
        # Hosts register with the cluster and pull images as they boot: the profile they launch with waits for
        # the role's policies (IAM is eventually consistent), carried by the output the template needs.
        lt = launch_template(hosts, image_id=image_id, instance_type=self.instance_type,
                             security_group_ids=[hosts_sg.id, tasks_sg.id],
                             instance_profile_arn=_after(role.profile.arn, role.policies),
                             user_data=user_data, tags=tags, hop_limit=1,
                             root_volume_size=int(ec2.get("root_volume_size", 30)), opts=child)
        lo = int(ec2.get("min_size", prof.min_capacity))
        hi = int(ec2.get("max_size", max(lo, 2 * prof.max_capacity)))
        asg_tags = [{"key": k, "value": v, "propagate_at_launch": True}
                    for k, v in sorted({**tags, "Name": hosts, "AmazonECSManaged": "true"}.items())]
        asg = aws.autoscaling.Group(
            f"{hosts}-asg", min_size=lo, max_size=hi, vpc_zone_identifiers=network_value(network, "private_subnet_ids"),
            launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
            # Managed termination protection needs scale-in protection: ECS decides which host may go.
            protect_from_scale_in=True, health_check_type="EC2", health_check_grace_period=60,
            default_instance_warmup=60, tags=asg_tags,
            # A new launch template version (a newly published ECS-optimized AMI, new user data) replaces the
            # hosts: new ones first (never below the running count), then the old ones, whose scale-in
            # protection ECS holds while they run tasks, drained by managed draining before they stop.
            instance_refresh={"strategy": "Rolling", "preferences": {
                "min_healthy_percentage": 100, "max_healthy_percentage": 200, "instance_warmup": "60",
                "skip_matching": True, "auto_rollback": True, "scale_in_protected_instances": "Refresh"}},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]))
        # AWS rejects capacity provider names starting with "aws", "ecs" or "fargate", and the
        # platform's cluster is named "ecs": auto-naming ("ecs-hosts-cp-1a2b3c4") would fail.
        provider_name = "cp-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{hosts}")
        provider = aws.ecs.CapacityProvider(
            f"{hosts}-cp", name=provider_name[:255],
            auto_scaling_group_provider={
                "auto_scaling_group_arn": asg.arn, "managed_termination_protection": "ENABLED",
                "managed_draining": "ENABLED",
                "managed_scaling": {"status": "ENABLED", "target_capacity": int(ec2.get("target_capacity", 100)),
                                    "minimum_scaling_step_size": 1, "maximum_scaling_step_size": 10,
                                    "instance_warmup_period": 60}},
            # A fixed name cannot exist twice: a replacement deletes the old provider first.
            tags=tags, opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True))
        return hosts_sg, provider

    def claim_host_rule(self, key: str) -> bool:
        """True the first time ``key`` (a load balancer) asks to open the hosts' dynamic ports to itself,
        so two EC2 services behind one shared ALB do not create the same security group rule twice."""
        if key in self._host_rules:
            return False
        self._host_rules.add(key)
        return True


def _after(value: pulumi.Input[Any], resources: Sequence[pulumi.Resource]) -> pulumi.Input[Any]:
    """``value`` once every resource of ``resources`` exists: an ordering carried by the output that needs
    it, rather than a ``depends_on`` on a whole component."""
    if not resources:
        return value
    return pulumi.Output.all(value, *[r.id for r in resources]).apply(lambda v: v[0])


def _cluster_value(cluster: Any, key: str) -> Any:
    if isinstance(cluster, Mapping):
        return cluster.get(key)
    return getattr(cluster, key, None)


# -- service ------------------------------------------------------------------------------------

class EcsService(pulumi.ComponentResource):
    """One service on the stack's :class:`EcsCluster`: its image and repository, a task definition with
    separate least-privilege execution and task roles, logs with retention, and (by shape) an ECS
    service behind a load balancer with Service Connect, rollback on failed deployments and
    autoscaling; a queue worker scaled on backlog; or a task run on a schedule."""

    image_ref: pulumi.Output[str]
    """The image the task runs."""
    task_definition_arn: pulumi.Output[str]
    """ARN of the task definition revision."""
    service_name: pulumi.Output[str | None]
    """Name of the ECS service; None for a scheduled task."""
    url: pulumi.Output[str | None]
    """URL of the load balancer; None without one."""
    security_group_id: pulumi.Output[str | None]
    """The tasks' own security group (Fargate); None on EC2 capacity, where the hosts' group applies."""
    task_role_arn: pulumi.Output[str]
    """ARN of the role the application runs as."""
    execution_role_arn: pulumi.Output[str]
    """ARN of the role ECS uses to pull the image, write logs and read secrets."""
    log_group_name: pulumi.Output[str]
    """The container's log group."""
    queue_url: pulumi.Output[str | None]
    """URL of a queue worker's queue (also in the container's ``QUEUE_URL``); else None."""
    queue_arn: pulumi.Output[str | None]
    """ARN of a queue worker's queue; else None."""
    dead_letter_queue_arn: pulumi.Output[str | None]
    """ARN of a queue worker's dead-letter queue; else None."""

    def __init__(self, name: str, args: EcsServiceArgs, opts: pulumi.ResourceOptions | None = None, *,
                 cluster: EcsCluster | Mapping[str, Any], network: Any, profile: Profile | str | None = None,
                 project_dir: str | Path | None = None, shared_load_balancer: Any = None,
                 image: ContainerImage | None = None):
        """``cluster`` is an :class:`EcsCluster` or a mapping with its outputs (``arn``, ``name``,
        ``namespace_arn``, ``tasks_security_group_id`` and, for EC2 capacity, ``hosts_security_group_id``,
        ``capacity_provider_name``, ``architecture``). ``shared_load_balancer`` is the
        ``SharedLoadBalancer`` named by ``load_balancer.shared``. ``image`` is the stack's shared build of
        this service's ``image`` spec (see :func:`~components.blocks.container_image.shared_image`), built for the
        task's architecture. Default: the service builds and pushes its own image and repository."""
        args = dict(args or {})
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        problems = validate_ecs(name, args, name, ValidationContext(profile=prof, project_dir=pdir))
        capacity = resolve_capacity(args, prof) if args.get("capacity", "fargate") in CAPACITIES else "fargate"
        host_arch = _cluster_value(cluster, "architecture")
        if capacity == "ec2" and not _cluster_value(cluster, "capacity_provider_name"):
            problems.add(join_path(name, "capacity"), "is 'ec2' but the cluster has no EC2 capacity "
                                                      "(EcsCluster args ec2: {...})")
        elif capacity == "ec2" and host_arch and _explicit_architecture(args) not in (None, host_arch):
            problems.add(join_path(name, "architecture"), f"is {_explicit_architecture(args)!r} but the cluster's "
                                                          f"EC2 instances are {host_arch!r}")
        problems.raise_if_any()
        super().__init__("microservices:ecs:EcsService", name, None, opts)

        shape = shape_of(args)
        eff = _effective(args)
        core = resolve_core(eff, prof, default_port=8080, default_grace_period=60)
        settings = resolve_container(name, args, core, serves_http=shape == "service")
        arch = task_architecture(args, prof, cluster)
        fargate = capacity != "ec2"
        tags = standard_tags(name, prof.name, core.tags)
        child = pulumi.ResourceOptions(parent=self)
        # The cluster's ARN names its region, the one the service and its logs live in: no lookup needed.
        region = pulumi.Output.from_input(_cluster_value(cluster, "arn")).apply(lambda arn: arn.split(":")[3])

        image_spec = dict(settings.image)
        if "context" in image_spec:
            image_spec.setdefault("platform", platform_of(arch))
        if image is not None and "context" in image_spec:
            # The platform's image of this build, shared with every service that builds the same.
            image_ref, pull_repository_arn = image.image_ref, image.pull_repository_arn
        elif "ref" in image_spec:
            # A prebuilt image registers nothing, so it gets no component of its own either.
            image_ref = pulumi.Output.from_input(image_spec["ref"])
            pull_repository_arn = pulumi.Output.from_input(ecr_repository_arn(image_spec["ref"]))
        else:
            image = ContainerImage(name, image_spec, child, profile=prof, project_dir=pdir, push=True,
                                   tags=core.tags)
            image_ref, pull_repository_arn = image.image_ref, image.pull_repository_arn
        logs = log_group(f"{name}-logs", prof, tags=tags, opts=child)

        environment = dict(core.environment)
        queue = dlq = None
        if shape == "worker":
            queue, dlq = self._queues(name, dict(args["queue"]), prof, tags)
            environment["QUEUE_URL"] = queue.url

        execution_role, task_role, role_policies = self._roles(name, args, settings, pull_repository_arn, logs, queue,
                                                               core, tags)
        volumes = {path: f"writable-{i}" for i, path in enumerate(settings.writable_paths)}
        if args.get("enable_exec"):
            for path in EXEC_WRITABLE_PATHS:
                volumes.setdefault(path, "exec-" + path.strip("/").replace("/", "-"))
        container = {
            "name": name, "image": image_ref, "essential": True,
            "readonlyRootFilesystem": settings.read_only_root_filesystem,
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(core.secrets.items())],
            "mountPoints": [{"sourceVolume": vol, "containerPath": path, "readOnly": False}
                            for path, vol in volumes.items()],
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": logs.name, "awslogs-region": region, "awslogs-stream-prefix": name}},
        }
        if shape == "service":
            container["portMappings"] = [{"name": PORT_NAME, "containerPort": core.port,
                                          "hostPort": core.port if fargate else 0, "protocol": "tcp",
                                          "appProtocol": "http"}]
        if settings.user:
            container["user"] = settings.user
        if settings.command:
            container["command"] = settings.command
        if settings.health_command and settings.health_command[0] != "NONE":
            hc = core.health_check
            # ECS's container health check allows a 60 s timeout and a 300 s start period at most.
            container["healthCheck"] = {"command": settings.health_command, "interval": hc.interval,
                                        "timeout": min(hc.timeout, 60), "retries": hc.unhealthy_threshold,
                                        "startPeriod": min(hc.grace_period, 300)}

        cpu = int(args.get("cpu", prof.container_cpu))
        memory = int(args.get("memory", prof.container_memory))
        family = re.sub(r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}")[:255]
        td_kwargs: dict[str, Any] = {}
        if fargate and args.get("ephemeral_storage") is not None:
            td_kwargs["ephemeral_storage"] = {"size_in_gib": int(args["ephemeral_storage"])}
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-taskdef", family=family, cpu=str(cpu), memory=str(memory),
            network_mode="awsvpc" if fargate else "bridge",
            requires_compatibilities=["FARGATE" if fargate else "EC2"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": arch.upper()},
            # Tasks start as soon as the service exists: the roles they run under must carry their policies
            # by then (IAM is eventually consistent), or the first tasks fail to pull, log or read secrets.
            execution_role_arn=_after(execution_role.arn, role_policies["execution"]),
            task_role_arn=_after(task_role.arn, role_policies["task"]),
            container_definitions=pulumi.Output.from_input([container]).apply(
                lambda defs: json.dumps(defs, sort_keys=True)),
            volumes=[{"name": vol} for vol in volumes.values()], tags=tags, opts=child, **td_kwargs)

        tasks_sg_id = _cluster_value(cluster, "tasks_security_group_id")
        sg = None
        if fargate:
            sg = service_security_group(name, vpc_id=network_value(network, "vpc_id"), tags=tags, opts=child)
            if shape == "service":
                aws.vpc.SecurityGroupIngressRule(f"{name}-from-tasks", security_group_id=sg.id, ip_protocol="tcp",
                                                 from_port=core.port, to_port=core.port,
                                                 referenced_security_group_id=tasks_sg_id,
                                                 description="service port from the cluster's tasks (Service Connect)",
                                                 tags=dict(tags), opts=child)
        strategies = [{"capacity_provider": {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT"}.get(capacity)
                       or _cluster_value(cluster, "capacity_provider_name"), "weight": 1, "base": 0}]
        network_configuration = None
        if fargate:
            network_configuration = {"subnets": network_value(network, "private_subnet_ids"),
                                     "security_groups": [sg.id, tasks_sg_id], "assign_public_ip": False}
        cluster_arn = _cluster_value(cluster, "arn")

        self.url = self.service_name = pulumi.Output.from_input(None)
        if shape == "scheduled":
            self._schedule(name, args["schedule"], cluster_arn, task_definition, execution_role, task_role,
                           strategies, network_configuration, fargate, tags)
        else:
            self._service(name, args, shape, core, prof, cluster, task_definition, strategies, network_configuration,
                          fargate, sg, queue, tags, network, shared_load_balancer, logs, region)

        self.image_ref = image_ref
        self.task_definition_arn = task_definition.arn
        self.security_group_id = sg.id if sg is not None else pulumi.Output.from_input(None)
        self.task_role_arn = task_role.arn
        self.execution_role_arn = execution_role.arn
        self.log_group_name = logs.name
        self.queue_url = queue.url if queue is not None else pulumi.Output.from_input(None)
        self.queue_arn = queue.arn if queue is not None else pulumi.Output.from_input(None)
        self.dead_letter_queue_arn = dlq.arn if dlq is not None else pulumi.Output.from_input(None)
        self.register_outputs({
            "image_ref": self.image_ref, "task_definition_arn": self.task_definition_arn,
            "service_name": self.service_name, "url": self.url, "security_group_id": self.security_group_id,
            "task_role_arn": self.task_role_arn, "execution_role_arn": self.execution_role_arn,
            "log_group_name": self.log_group_name, "queue_url": self.queue_url, "queue_arn": self.queue_arn,
            "dead_letter_queue_arn": self.dead_letter_queue_arn,
        })

    def _queues(self, name: str, spec: Mapping[str, Any], prof: Profile, tags: Mapping[str, str]):
        stateful = pulumi.ResourceOptions(parent=self, protect=prof.protect)
        dlq = aws.sqs.Queue(f"{name}-dlq", message_retention_seconds=14 * 86400, sqs_managed_sse_enabled=True,
                            tags=dict(tags), opts=stateful)
        queue = aws.sqs.Queue(
            f"{name}-queue", visibility_timeout_seconds=int(spec.get("visibility_timeout", 60)),
            message_retention_seconds=int(spec.get("retention_days", 4)) * 86400, receive_wait_time_seconds=20,
            sqs_managed_sse_enabled=True,
            redrive_policy=dlq.arn.apply(lambda arn: json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": int(spec.get("max_receive_count", 5))},
                sort_keys=True)),
            tags=dict(tags), opts=stateful)
        aws.sqs.RedriveAllowPolicy(f"{name}-dlq", queue_url=dlq.url, redrive_allow_policy=queue.arn.apply(
            lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]}, sort_keys=True)),
            opts=pulumi.ResourceOptions(parent=self))
        actions = list(prof.alarm_actions)
        aws.cloudwatch.MetricAlarm(
            f"{name}-dlq-messages", alarm_description=f"{name}: messages failed {spec.get('max_receive_count', 5)} "
                                                      "times and wait in the dead-letter queue",
            namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": dlq.name},
            statistic="Maximum", period=300, evaluation_periods=1, comparison_operator="GreaterThanThreshold",
            threshold=0, treat_missing_data="notBreaching", alarm_actions=actions, ok_actions=actions,
            tags=dict(tags), opts=pulumi.ResourceOptions(parent=self))
        return queue, dlq

    def _roles(self, name: str, args: Mapping[str, Any], settings: ContainerSettings,
               pull_repository_arn: pulumi.Output[str | None],
               logs: aws.cloudwatch.LogGroup, queue: aws.sqs.Queue | None, core: CoreSpec,
               tags: Mapping[str, str]) -> tuple[aws.iam.Role, aws.iam.Role, dict[str, list[pulumi.Resource]]]:
        child = pulumi.ResourceOptions(parent=self)
        account = Account(self)
        trust = scoped_trust_policy("ecs-tasks.amazonaws.com", account.id, account.arn("ecs", "*"))
        execution = aws.iam.Role(f"{name}-execution", assume_role_policy=trust,
                                 description=f"{name}: ECS pulls the image, writes logs, reads secrets",
                                 tags=dict(tags), opts=child)
        statements = [statement(["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.Output.concat(logs.arn, ":*")],
                                sid="WriteLogs")]
        ref = settings.image.get("ref")
        if "context" in settings.image or (isinstance(ref, str) and re.match(ECR_REF_PATTERN, ref)):
            # GetAuthorizationToken has no resource-level permissions; the pull itself is scoped to one repository.
            statements.append(statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"))
            statements.append(statement(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                         "ecr:GetDownloadUrlForLayer"], [pull_repository_arn], sid="PullImage"))
        statements.extend(secret_read_statements(core.secrets.values(), kms_keys=core.secrets_kms_keys))
        policies: dict[str, list[pulumi.Resource]] = {"execution": [aws.iam.RolePolicy(
            f"{name}-execution", role=execution.id, policy=policy_document(statements), opts=child)], "task": []}

        task = aws.iam.Role(f"{name}-task", assume_role_policy=trust, description=f"{name}: the application",
                            tags=dict(tags), opts=child)
        task_statements = []
        if args.get("enable_exec"):
            # The SSM message channels of ECS Exec have no resource-level permissions.
            task_statements.append(statement(EXEC_ACTIONS, ["*"], sid="EcsExec"))
        if queue is not None:
            task_statements.append(statement(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                              "sqs:GetQueueAttributes"], [queue.arn], sid="ConsumeQueue"))
        if task_statements:
            policies["task"].append(aws.iam.RolePolicy(f"{name}-task", role=task.id,
                                                       policy=policy_document(task_statements), opts=child))
        for i, arn in enumerate(args.get("policy_arns") or []):
            policies["task"].append(aws.iam.RolePolicyAttachment(f"{name}-task-{i}", role=task.name, policy_arn=arn,
                                                                 opts=child))
        return execution, task, policies

    def _service(self, name: str, args: Mapping[str, Any], shape: str, core: CoreSpec, prof: Profile, cluster: Any,
                 task_definition: aws.ecs.TaskDefinition, strategies: list[dict[str, Any]],
                 network_configuration: dict[str, Any] | None, fargate: bool, sg: aws.ec2.SecurityGroup | None,
                 queue: aws.sqs.Queue | None, tags: Mapping[str, str], network: Any, shared_lb: Any,
                 logs: aws.cloudwatch.LogGroup, region: pulumi.Input[str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        lb = None
        kwargs: dict[str, Any] = {}
        depends_on: list[pulumi.Resource] = []
        if shape == "service" and core.expose != "none":
            lb = ServiceLoadBalancer(name, dict(args.get("load_balancer") or {}), child, core=core, network=network,
                                     profile=prof, target_type="ip" if fargate else "instance", port=core.port,
                                     target_security_group_id=sg.id if fargate else None, shared=shared_lb,
                                     tags=core.tags)
            if not fargate:
                shared_name = getattr(shared_lb, "name", None) or (args.get("load_balancer") or {}).get("shared")
                target_rules = self._open_hosts_to(name, lb, cluster, shared_lb, shared_name, tags)
            else:
                target_rules = lb.target_rules
            alarms = standard_alarms(name, lb, profile=prof, tags=tags, opts=child)
            # Targets register as tasks start: the rules letting the load balancer reach them come first,
            # or the first health checks time out and the circuit breaker counts healthy tasks as failed.
            kwargs.update(load_balancers=[{"target_group_arn": _after(lb.target_group_arn, target_rules),
                                           "container_name": name,
                                           "container_port": core.port}],
                          health_check_grace_period_seconds=core.health_check.grace_period,
                          alarms={"alarm_names": alarms.names, "enable": True, "rollback": True})
            depends_on.append(lb.attachment)
            self.url = lb.url
        if network_configuration is not None:
            kwargs.update(network_configuration=network_configuration, platform_version="LATEST")
        else:
            # Spread over AZs for availability, then fill each host's memory before using another.
            kwargs["ordered_placement_strategies"] = [
                {"type": "spread", "field": "attribute:ecs.availability-zone"},
                {"type": "binpack", "field": "memory"}]
        connect: dict[str, Any] = {"enabled": True, "namespace": _cluster_value(cluster, "namespace_arn"),
                                   # The Service Connect proxy's logs, beside the application's.
                                   "log_configuration": {"log_driver": "awslogs", "options": {
                                       "awslogs-group": logs.name, "awslogs-region": region,
                                       "awslogs-stream-prefix": f"{name}-service-connect"}}}
        if shape == "service":
            connect["services"] = [{"port_name": PORT_NAME, "discovery_name": name,
                                    "client_alias": [{"port": core.port, "dns_name": name}]}]
        timeout = f"{int(args.get('deployment_timeout', DEFAULT_DEPLOYMENT_TIMEOUT))}m"
        service = aws.ecs.Service(
            f"{name}-service", cluster=_cluster_value(cluster, "arn"), task_definition=task_definition.arn,
            desired_count=core.scaling.desired, capacity_provider_strategies=strategies,
            # The provider refuses to change a capacity provider strategy (fargate_spot -> fargate, a new EC2
            # provider) without a new deployment; any other change rolls the tasks anyway.
            force_new_deployment=True,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            # `pulumi up` waits for the deployment's outcome and fails with ECS's reason when the circuit
            # breaker or an alarm rolls it back (the refresh of the next `up` is the backstop: see README).
            # No `sigint_rollback`: terraform-provider-aws 6.53-6.54 rolled back every healthy deployment with
            # it ("Service deployment rolled back by user", hashicorp/terraform-provider-aws#49031, #49077),
            # and a Ctrl-C of `pulumi up` is not the provider's SIGINT it was built for.
            wait_for_steady_state=True,
            enable_execute_command=bool(args.get("enable_exec", False)), enable_ecs_managed_tags=True,
            propagate_tags="SERVICE", service_connect_configuration=connect, tags=dict(tags),
            # Autoscaling owns the running count once the service exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on, ignore_changes=["desiredCount"],
                                        custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout)),
            **kwargs)
        self.service_name = service.name
        self._autoscaling(name, args, core, cluster, service, lb, queue)

    def _open_hosts_to(self, name: str, lb: ServiceLoadBalancer, cluster: Any, shared_lb: Any,
                       shared_name: str | None, tags: Mapping[str, str]) -> list[pulumi.Resource]:
        """Bridge-mode targets listen on dynamic host ports: the hosts admit that range from the load
        balancer only. Rules for a shared ALB are created once and belong to it. Returns the rules."""
        hosts_sg = _cluster_value(cluster, "hosts_security_group_id")
        owner, prefix = (shared_lb, f"{shared_name}-ecs-hosts") if shared_lb is not None else (self, f"{name}-hosts")
        claim = getattr(cluster, "claim_host_rule", None)
        host_rules = getattr(cluster, "host_rules", None)
        if claim is not None and not claim(prefix):
            return list((host_rules or {}).get(prefix, []))
        opts = pulumi.ResourceOptions(parent=owner)
        ingress = aws.vpc.SecurityGroupIngressRule(f"{prefix}-from-lb", security_group_id=hosts_sg, ip_protocol="tcp",
                                         from_port=DYNAMIC_PORTS[0], to_port=DYNAMIC_PORTS[1],
                                         referenced_security_group_id=lb.security_group_id,
                                         description="dynamic host ports from the load balancer", tags=dict(tags),
                                         opts=opts)
        egress = aws.vpc.SecurityGroupEgressRule(f"{prefix}-lb-to-hosts", security_group_id=lb.security_group_id,
                                                 ip_protocol="tcp", from_port=DYNAMIC_PORTS[0],
                                                 to_port=DYNAMIC_PORTS[1], referenced_security_group_id=hosts_sg,
                                                 description="to ECS hosts' dynamic ports", tags=dict(tags),
                                                 opts=opts)
        rules: list[pulumi.Resource] = [ingress, egress]
        if isinstance(host_rules, dict):
            host_rules[prefix] = rules
        return rules

    def _autoscaling(self, name: str, args: Mapping[str, Any], core: CoreSpec, cluster: Any,
                     service: aws.ecs.Service, lb: ServiceLoadBalancer | None, queue: aws.sqs.Queue | None) -> None:
        child = pulumi.ResourceOptions(parent=self)
        cluster_name = _cluster_value(cluster, "name")
        target = aws.appautoscaling.Target(
            f"{name}-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster_name, "/", service.name),
            min_capacity=core.scaling.min, max_capacity=core.scaling.max, opts=child)

        def policy(suffix: str, config: Mapping[str, Any]) -> None:
            aws.appautoscaling.Policy(
                f"{name}-{suffix}", policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={"scale_in_cooldown": 300, "scale_out_cooldown": 60,
                                                              **config},
                opts=child)

        if queue is not None:
            def stat(metric_id: str, namespace: str, metric: str, dims: dict[str, Any], stat_name: str) -> dict:
                return {"id": metric_id, "return_data": False, "metric_stat": {
                    "stat": stat_name, "metric": {"namespace": namespace, "metric_name": metric,
                                                  "dimensions": [{"name": k, "value": v} for k, v in dims.items()]}}}
            policy("backlog", {"target_value": int(args["queue"].get("messages_per_task", 10)),
                               "customized_metric_specification": {"metrics": [
                                   stat("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                        {"QueueName": queue.name}, "Sum"),
                                   stat("tasks", "ECS/ContainerInsights", "RunningTaskCount",
                                        {"ClusterName": cluster_name, "ServiceName": service.name}, "Average"),
                                   {"id": "backlog", "label": "messages per task", "expression": "visible / tasks",
                                    "return_data": True}]}})
            return
        policy("cpu", {"target_value": core.scaling.target_cpu,
                       "predefined_metric_specification": {
                           "predefined_metric_type": "ECSServiceAverageCPUUtilization"}})
        if args.get("target_memory") is not None:
            policy("memory", {"target_value": int(args["target_memory"]), "predefined_metric_specification": {
                "predefined_metric_type": "ECSServiceAverageMemoryUtilization"}})
        if args.get("target_requests") is not None and lb is not None:
            policy("requests", {"target_value": int(args["target_requests"]), "predefined_metric_specification": {
                "predefined_metric_type": "ALBRequestCountPerTarget",
                "resource_label": pulumi.Output.concat(lb.arn_suffix, "/", lb.target_group_arn_suffix)}})

    def _schedule(self, name: str, schedule: str, cluster_arn: Any, task_definition: aws.ecs.TaskDefinition,
                  execution_role: aws.iam.Role, task_role: aws.iam.Role, strategies: list[dict[str, Any]],
                  network_configuration: dict[str, Any] | None, fargate: bool, tags: Mapping[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        account = Account(self)
        trust = scoped_trust_policy("events.amazonaws.com", account.id, account.arn("events", "rule/*"))
        role = aws.iam.Role(f"{name}-events", assume_role_policy=trust,
                            description=f"{name}: EventBridge runs the scheduled task", tags=dict(tags), opts=child)
        aws.iam.RolePolicy(f"{name}-events", role=role.id, policy=policy_document([
            statement(["ecs:RunTask"], [pulumi.Output.concat(task_definition.arn_without_revision, ":*")],
                      sid="RunTask", conditions={"ArnEquals": {"ecs:cluster": cluster_arn}}),
            statement(["iam:PassRole"], [execution_role.arn, task_role.arn], sid="PassTaskRoles",
                      conditions={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            # The target propagates tags to the task it starts: RunTask then needs TagResource on it.
            statement(["ecs:TagResource"], [pulumi.Output.from_input(cluster_arn).apply(
                lambda arn: arn.replace(":cluster/", ":task/", 1) + "/*")], sid="TagTask",
                      conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}}),
        ]), opts=child)
        rule = aws.cloudwatch.EventRule(f"{name}-schedule", schedule_expression=schedule, state="ENABLED",
                                        description=f"runs {name}", tags=dict(tags), opts=child)
        target: dict[str, Any] = {"task_definition_arn": task_definition.arn, "task_count": 1,
                                  "capacity_provider_strategies": strategies, "enable_ecs_managed_tags": True,
                                  "propagate_tags": "TASK_DEFINITION"}
        if fargate:
            target.update(network_configuration=network_configuration, platform_version="LATEST")
        aws.cloudwatch.EventTarget(f"{name}-schedule", rule=rule.name, arn=cluster_arn, role_arn=role.arn,
                                   ecs_target=target, retry_policy={"maximum_retry_attempts": 2,
                                                                    "maximum_event_age_in_seconds": 3600},
                                   opts=child)


# -- pattern ------------------------------------------------------------------------------------

def _prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    """The stack's one cluster (``ctx.clusters["ecs"]``), with EC2 capacity only when a service
    asks for it, and any shared ALB the services name. :class:`EcsClusterArgs` given to the platform as
    ``ctx.settings["ecs"]`` (a stack's ``microservices:ecs``) shape the cluster."""
    prepare_shared_load_balancers(specs, ctx)
    if "ecs" in ctx.clusters or not specs:
        return
    args = dict(ctx.settings.get("ecs") or {})
    if any(resolve_capacity(spec, ctx.profile) == "ec2" for spec in specs.values()):
        args.setdefault("ec2", {})
    ctx.clusters["ecs"] = EcsCluster("ecs", args, pulumi.ResourceOptions(parent=ctx.parent),
                                         network=ctx.network, profile=ctx.profile)


def _build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> EcsService:
    if "ecs" not in ctx.clusters:
        _prepare({name: spec}, ctx)
    cluster = ctx.clusters["ecs"]
    image = None
    problems = validate_ecs(name, spec, name, ValidationContext(profile=ctx.profile, project_dir=ctx.project_dir))
    if not problems:
        image = shared_image(ctx, spec.get("image") or default_image_spec(name),
                             platform=platform_of(task_architecture(spec, ctx.profile, cluster)), push=True)
    service = EcsService(name, spec, pulumi.ResourceOptions(parent=ctx.parent), cluster=cluster,
                         network=ctx.network, profile=ctx.profile, project_dir=ctx.project_dir,
                         shared_load_balancer=shared_load_balancer(spec, ctx), image=image)
    outputs = {"image": service.image_ref, "task_definition": service.task_definition_arn,
               "logs": service.log_group_name}
    if shape_of(spec) != "scheduled":
        outputs["service"] = service.service_name
    if _effective(spec).get("expose", "internal") != "none":
        outputs["url"] = service.url
    if shape_of(spec) == "worker":
        outputs["queue_url"] = service.queue_url
    ctx.outputs[name] = outputs
    return service


def _build_local(name: str, spec: Mapping[str, Any], ctx: BuildContext):
    """On a Docker host: a service as it is; a worker without a published port; a scheduled task as a
    run-once container (Docker has no scheduler)."""
    shape = shape_of(spec)
    overrides: dict[str, Any] = {}
    if shape != "service":
        overrides["expose"] = "none"
        if spec.get("health_command") is None:
            overrides["health_command"] = ["NONE"]
    if shape == "scheduled":
        overrides["restart"] = "no"
    return run_on_docker_host(name, spec, ctx, overrides=overrides)


def _validate_section(section: str, settings: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_ecs_cluster(settings, path)


PATTERN = Pattern(
    name="ecs",
    validate=validate_ecs,
    validate_catalog=validate_ecs_catalog,
    validate_section=_validate_section,
    prepare=_prepare,
    build=_build,
    build_local=_build_local,
    needs_network=True,
)
