"""Validation of the ``ecs`` pattern, one function per component, on the raw spec (it tolerates values not
known yet and wrong types): :func:`validate_ecs` (a service), :func:`validate_ecs_cluster` (the cluster, the
stack's ``microservices:ecs``), :func:`validate_ecs_catalog` (rules across services) and
:func:`validate_ecs_placement` (a service against the cluster it is given)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..blocks.architecture import ARCHITECTURES, instance_architecture
from ..blocks.container import validate_container
from ..blocks.container_image import image_architecture
from ..blocks.launch_template import AMI_ID_EXAMPLE, AMI_ID_PATTERN, INSTANCE_TYPE_PATTERN
from ..blocks.load_balancer import validate_load_balancer
from ..blocks.schedule import check_schedule
from ..blocks.service import validate_core, validate_tags
from ..patterns import ValidationContext
from ..profiles import Profile
from ..validation import Problems, is_unknown, join_path
from .args import (CAPACITIES, CLUSTER_KEYS, EC2_KEYS, ECS_KEYS, FARGATE_SIZES, QUEUE_KEYS, cluster_value,
                   effective_spec, explicit_architecture, resolve_capacity, shape_of)

__all__ = ["validate_ecs", "validate_ecs_catalog", "validate_ecs_cluster", "validate_ecs_placement"]

EC2_CPU_MIN, EC2_CPU_MAX = 128, 196608
EC2_MEMORY_MIN = 128
EPHEMERAL_MIN, EPHEMERAL_MAX = 21, 200
DEPLOYMENT_TIMEOUT_RANGE = (5, 180)
POLICY_ARN_PATTERN = r"arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[\w+=,.@/-]+"
NAMESPACE_PATTERN = r"[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?"


def _allowed_memory_text(cpu: int) -> str:
    values = FARGATE_SIZES[cpu]
    if len(values) <= 3:
        return ", ".join(str(v) for v in values)
    return f"{values[0]}-{values[-1]} in steps of {values[1] - values[0]}"


def validate_ecs(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    """Every problem of one ``ecs`` service spec (the catalog entry without ``pattern``)."""
    problems = Problems()
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return problems
    problems.check_known_keys(spec, ECS_KEYS, path)
    eff = effective_spec(spec)
    validate_core(eff, path, problems)
    validate_container(name, spec, path, problems, vctx)

    ok_cap = problems.check_enum(spec.get("capacity"), join_path(path, "capacity"), CAPACITIES)
    ok_arch = problems.check_enum(spec.get("architecture"), join_path(path, "architecture"), ARCHITECTURES)
    capacity = resolve_capacity(spec, vctx.profile) if ok_cap else None
    image_arch = image_architecture(spec["image"]) if isinstance(spec.get("image"), Mapping) else None
    if ok_arch and spec.get("architecture") and image_arch and spec["architecture"] != image_arch:
        problems.add(join_path(path, "architecture"), f"is {spec['architecture']!r} but image.platform builds "
                                                      f"{image_arch!r}: they must match")

    _validate_size(spec, path, problems, vctx.profile, capacity)
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
    _validate_load_balancer(spec, eff, path, problems)
    _validate_shape(spec, path, problems)
    _validate_queue(spec, path, problems)
    _validate_schedule(spec, path, problems)
    return problems


def _validate_load_balancer(spec: Mapping[str, Any], eff: Mapping[str, Any], path: str, problems: Problems) -> None:
    lb = spec.get("load_balancer")
    validate_load_balancer(lb, join_path(path, "load_balancer"), problems, core=eff)
    if spec.get("target_requests") is None:
        return
    lb_type = (lb.get("type") or "alb") if isinstance(lb, Mapping) else "alb"
    if (eff.get("expose") or "internal") == "none" or lb_type != "alb":
        problems.add(join_path(path, "target_requests"), "scales on ALB requests, but this service has no ALB")


def _validate_shape(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    """Queue workers and scheduled tasks take no traffic: no exposure, no scaling on memory or requests."""
    shape = shape_of(spec)
    if shape == "service":
        return
    what = "a scheduled task" if shape == "scheduled" else "a queue worker"
    if spec.get("expose") not in (None, "none"):
        problems.add(join_path(path, "expose"), f"must be 'none' for {what}: it takes no traffic")
    for key in ("target_memory", "target_requests"):
        if spec.get(key) is not None:
            problems.add(join_path(path, key), f"does not apply to {what}")


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
    """Every problem of :class:`~components.ecs.args.EcsClusterArgs`."""
    problems = Problems()
    if args is None or not problems.check_mapping(args, path) or not isinstance(args, Mapping):
        return problems
    problems.check_known_keys(args, CLUSTER_KEYS, path)
    problems.check_str(args.get("namespace"), join_path(path, "namespace"), NAMESPACE_PATTERN,
                       "a namespace name: letters, digits, '.', '_' and '-', at most 64 characters")
    problems.check_enum(args.get("container_insights"), join_path(path, "container_insights"), ("enabled", "enhanced"))
    validate_tags(args.get("tags"), join_path(path, "tags"), problems)
    _validate_ec2(args.get("ec2"), join_path(path, "ec2"), problems)
    return problems


def _validate_ec2(ec2: Any, path: str, problems: Problems) -> None:
    if ec2 is None or not problems.check_mapping(ec2, path) or not isinstance(ec2, Mapping):
        return
    problems.check_known_keys(ec2, EC2_KEYS, path)
    problems.check_str(ec2.get("instance_type"), join_path(path, "instance_type"), INSTANCE_TYPE_PATTERN,
                       "an EC2 instance type such as 't4g.medium'")
    ok = problems.check_int(ec2.get("min_size"), join_path(path, "min_size"), 0, 1000) & \
        problems.check_int(ec2.get("max_size"), join_path(path, "max_size"), 1, 1000)
    lo, hi = ec2.get("min_size"), ec2.get("max_size")
    if ok and isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        problems.add(join_path(path, "min_size"), f"must be at most max_size ({hi}), got {lo}")
    problems.check_int(ec2.get("root_volume_size"), join_path(path, "root_volume_size"), 30, 16384, "GiB")
    problems.check_int(ec2.get("target_capacity"), join_path(path, "target_capacity"), 1, 100, "percent")
    problems.check_str(ec2.get("ami_id"), join_path(path, "ami_id"), AMI_ID_PATTERN, AMI_ID_EXAMPLE)


def validate_ecs_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
    """Rules across the stack's ``ecs`` services: EC2 tasks whose architecture differs from the cluster's
    instances. (Shared ALB rules are checked across every pattern by the catalog.)"""
    problems = Problems()
    host_arch = instance_architecture(vctx.profile.instance_type)
    for name in sorted(specs):
        spec = specs[name]
        if not isinstance(spec, Mapping) or spec.get("capacity") != "ec2":
            continue
        arch = explicit_architecture(spec)
        if arch and arch != host_arch:
            problems.add(join_path("services", name, "architecture"),
                         f"is {arch!r} but the cluster's EC2 instances ({vctx.profile.instance_type}) are "
                         f"{host_arch!r}: EC2 tasks run on the cluster's instances")
    return problems


def validate_ecs_placement(name: str, spec: Mapping[str, Any], profile: Profile, cluster: Any) -> Problems:
    """A service against the cluster it is given (an ``EcsCluster`` or a mapping of its outputs): EC2 tasks
    need the cluster's EC2 capacity, of their own architecture."""
    problems = Problems()
    if not isinstance(spec, Mapping) or resolve_capacity(spec, profile) != "ec2":
        return problems
    host_arch = cluster_value(cluster, "architecture")
    arch = explicit_architecture(spec)
    if not cluster_value(cluster, "capacity_provider_name"):
        problems.add(join_path(name, "capacity"), "is 'ec2' but the cluster has no EC2 capacity "
                                                  "(EcsCluster args ec2: {...})")
    elif host_arch and arch not in (None, host_arch):
        problems.add(join_path(name, "architecture"), f"is {arch!r} but the cluster's EC2 instances are "
                                                      f"{host_arch!r}")
    return problems
