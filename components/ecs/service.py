"""One service on the stack's ECS cluster: :class:`EcsService`. Its tasks are built in :mod:`.task`, the
queue worker and scheduled task shapes in :mod:`.worker`; this module wires the image, the logs, the
security group, the load balancer, the ECS service and its autoscaling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.container_image import ContainerImage, ecr_repository_arn, platform_of
from ..blocks.load_balancer import ServiceLoadBalancer, network_value, service_security_group, standard_alarms
from ..blocks.logs import log_group
from ..blocks.service import standard_tags
from ..patterns import ValidationContext
from ..profiles import Profile, get_profile
from .args import PORT_NAME, EcsServiceArgs, EcsSettings, cluster_value, resolve_ecs
from .cluster import DYNAMIC_PORTS, EcsCluster, after
from .task import Placement, Task, TaskInputs, task_definition
from .validate import validate_ecs, validate_ecs_placement
from .worker import WorkerQueues, backlog_scaling, scheduled_task, worker_queues

__all__ = ["EcsService"]

#: ECS's capacity provider of each Fargate capacity (``ec2`` uses the cluster's own provider).
FARGATE_PROVIDERS = {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT"}


@dataclass(frozen=True)
class _Context:
    """What every part of one service is built from."""

    name: str
    settings: EcsSettings
    profile: Profile
    cluster: Any
    network: Any
    tags: Mapping[str, str]
    region: pulumi.Input[str]


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
        spec = dict(args or {})
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        problems = validate_ecs(name, spec, name, ValidationContext(profile=prof, project_dir=pdir))
        problems.extend_from(validate_ecs_placement(name, spec, prof, cluster))
        problems.raise_if_any()
        super().__init__("microservices:ecs:EcsService", name, None, opts)
        self.settings = settings = resolve_ecs(name, spec, prof, cluster)
        """The service's resolved settings."""
        # The cluster's ARN names its region, the one the service and its logs live in: no lookup needed.
        region = pulumi.Output.from_input(cluster_value(cluster, "arn")).apply(lambda arn: arn.split(":")[3])
        ctx = _Context(name, settings, prof, cluster, network, standard_tags(name, prof.name, settings.core.tags),
                       region)

        image_ref, pull_repository_arn = self._image(ctx, image, pdir)
        logs = log_group(f"{name}-logs", prof, tags=ctx.tags, opts=pulumi.ResourceOptions(parent=self))
        queues = worker_queues(self, name, settings.queue, prof, ctx.tags) if settings.queue is not None else None
        task = task_definition(self, TaskInputs(name=name, settings=settings, tags=ctx.tags, image_ref=image_ref,
                                                pull_repository_arn=pull_repository_arn, logs=logs, region=region,
                                                queue=queues.queue if queues is not None else None))
        placement = _placement(ctx, self._security_group(ctx) if settings.fargate else None)

        self.url = self.service_name = pulumi.Output.from_input(None)
        if settings.schedule is not None:
            scheduled_task(self, name, settings.schedule, task, placement, ctx.tags)
        else:
            self._service(ctx, task, placement, logs, shared_load_balancer, queues)
        self._register(image_ref, task, logs, placement.security_group, queues)

    def _register(self, image_ref: pulumi.Input[str], task: Task, logs: aws.cloudwatch.LogGroup,
                  sg: aws.ec2.SecurityGroup | None, queues: WorkerQueues | None) -> None:
        """The outputs, registered once as the constructor's last step."""
        none = pulumi.Output.from_input(None)
        self.image_ref = image_ref
        self.task_definition_arn = task.definition.arn
        self.security_group_id = sg.id if sg is not None else none
        self.task_role_arn = task.task_role.arn
        self.execution_role_arn = task.execution_role.arn
        self.log_group_name = logs.name
        self.queue_url = queues.queue.url if queues is not None else none
        self.queue_arn = queues.queue.arn if queues is not None else none
        self.dead_letter_queue_arn = queues.dead_letter_queue.arn if queues is not None else none
        self.register_outputs({
            "image_ref": self.image_ref, "task_definition_arn": self.task_definition_arn,
            "service_name": self.service_name, "url": self.url, "security_group_id": self.security_group_id,
            "task_role_arn": self.task_role_arn, "execution_role_arn": self.execution_role_arn,
            "log_group_name": self.log_group_name, "queue_url": self.queue_url, "queue_arn": self.queue_arn,
            "dead_letter_queue_arn": self.dead_letter_queue_arn,
        })

    def _image(self, ctx: _Context, image: ContainerImage | None,
               project_dir: Path) -> tuple[pulumi.Input[str], pulumi.Input[str | None]]:
        """The image the task runs and the ECR repository it is pulled from: the stack's shared build, a
        prebuilt ``ref``, or a build of the service's own."""
        image_spec = dict(ctx.settings.container.image)
        if "context" in image_spec:
            image_spec.setdefault("platform", platform_of(ctx.settings.architecture))
        if image is not None and "context" in image_spec:
            # The platform's image of this build, shared with every service that builds the same.
            return image.image_ref, image.pull_repository_arn
        if "ref" in image_spec:
            # A prebuilt image registers nothing, so it gets no component of its own either.
            return (pulumi.Output.from_input(image_spec["ref"]),
                    pulumi.Output.from_input(ecr_repository_arn(image_spec["ref"])))
        own = ContainerImage(ctx.name, image_spec, pulumi.ResourceOptions(parent=self), profile=ctx.profile,
                             project_dir=project_dir, push=True, tags=ctx.settings.core.tags)
        return own.image_ref, own.pull_repository_arn

    def _security_group(self, ctx: _Context) -> aws.ec2.SecurityGroup:
        """The Fargate tasks' own group; a service admits its port from the cluster's tasks (Service Connect)."""
        child = pulumi.ResourceOptions(parent=self)
        sg = service_security_group(ctx.name, vpc_id=network_value(ctx.network, "vpc_id"), tags=ctx.tags, opts=child)
        if ctx.settings.shape == "service":
            port = ctx.settings.core.port
            aws.vpc.SecurityGroupIngressRule(f"{ctx.name}-from-tasks", security_group_id=sg.id, ip_protocol="tcp",
                                             from_port=port, to_port=port,
                                             referenced_security_group_id=cluster_value(ctx.cluster,
                                                                                        "tasks_security_group_id"),
                                             description="service port from the cluster's tasks (Service Connect)",
                                             tags=dict(ctx.tags), opts=child)
        return sg

    def _service(self, ctx: _Context, task: Task, placement: Placement, logs: aws.cloudwatch.LogGroup,
                 shared_lb: Any, queues: WorkerQueues | None) -> None:
        """The ECS service (a long-running service or a queue worker), its load balancer and autoscaling."""
        name, settings = ctx.name, ctx.settings
        lb = None
        kwargs: dict[str, Any] = {}
        depends_on: list[pulumi.Resource] = []
        if settings.has_load_balancer:
            lb, kwargs = self._load_balancer(ctx, placement.security_group, shared_lb)
            depends_on.append(lb.attachment)
            self.url = lb.url
        if placement.network_configuration is not None:
            kwargs.update(network_configuration=placement.network_configuration, platform_version="LATEST")
        else:
            # Spread over AZs for availability, then fill each host's memory before using another.
            kwargs["ordered_placement_strategies"] = [
                {"type": "spread", "field": "attribute:ecs.availability-zone"},
                {"type": "binpack", "field": "memory"}]
        timeout = f"{settings.deployment_timeout}m"
        service = aws.ecs.Service(
            f"{name}-service", cluster=placement.cluster_arn, task_definition=task.definition.arn,
            desired_count=settings.core.scaling.desired, capacity_provider_strategies=placement.strategies,
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
            enable_execute_command=settings.enable_exec, enable_ecs_managed_tags=True,
            propagate_tags="SERVICE", service_connect_configuration=_service_connect(ctx, logs), tags=dict(ctx.tags),
            # Autoscaling owns the running count once the service exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on, ignore_changes=["desiredCount"],
                                        custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout)),
            **kwargs)
        self.service_name = service.name
        self._autoscaling(ctx, service, lb, queues)

    def _load_balancer(self, ctx: _Context, sg: aws.ec2.SecurityGroup | None,
                       shared_lb: Any) -> tuple[ServiceLoadBalancer, dict[str, Any]]:
        """The service's load balancer (or its rule on a shared one) and the ECS service arguments that
        register its tasks as targets and roll back on its alarms."""
        name, settings = ctx.name, ctx.settings
        child = pulumi.ResourceOptions(parent=self)
        core = settings.core
        lb = ServiceLoadBalancer(name, dict(settings.load_balancer), child, core=core, network=ctx.network,
                                 profile=ctx.profile, target_type="ip" if settings.fargate else "instance",
                                 port=core.port, target_security_group_id=sg.id if sg is not None else None,
                                 shared=shared_lb, tags=core.tags)
        target_rules = lb.target_rules if settings.fargate else self._open_hosts_to(ctx, lb, shared_lb)
        alarms = standard_alarms(name, lb, profile=ctx.profile, tags=ctx.tags, opts=child)
        # Targets register as tasks start: the rules letting the load balancer reach them come first,
        # or the first health checks time out and the circuit breaker counts healthy tasks as failed.
        return lb, {"load_balancers": [{"target_group_arn": after(lb.target_group_arn, target_rules),
                                        "container_name": name, "container_port": core.port}],
                    "health_check_grace_period_seconds": core.health_check.grace_period,
                    "alarms": {"alarm_names": alarms.names, "enable": True, "rollback": True}}

    def _open_hosts_to(self, ctx: _Context, lb: ServiceLoadBalancer, shared_lb: Any) -> list[pulumi.Resource]:
        """Bridge-mode targets listen on dynamic host ports: the hosts admit that range from the load
        balancer only. Rules for a shared ALB are created once and belong to it. Returns the rules."""
        cluster, tags = ctx.cluster, ctx.tags
        hosts_sg = cluster_value(cluster, "hosts_security_group_id")
        if shared_lb is not None:
            shared_name = getattr(shared_lb, "name", None) or ctx.settings.load_balancer.get("shared")
            owner, prefix = shared_lb, f"{shared_name}-ecs-hosts"
        else:
            owner, prefix = self, f"{ctx.name}-hosts"
        claim = getattr(cluster, "claim_host_rule", None)
        host_rules = getattr(cluster, "host_rules", None)
        if claim is not None and not claim(prefix):
            return list((host_rules or {}).get(prefix, []))
        opts = pulumi.ResourceOptions(parent=owner)
        ingress = aws.vpc.SecurityGroupIngressRule(f"{prefix}-from-lb", security_group_id=hosts_sg, ip_protocol="tcp",
                                                   from_port=DYNAMIC_PORTS[0], to_port=DYNAMIC_PORTS[1],
                                                   referenced_security_group_id=lb.security_group_id,
                                                   description="dynamic host ports from the load balancer",
                                                   tags=dict(tags), opts=opts)
        egress = aws.vpc.SecurityGroupEgressRule(f"{prefix}-lb-to-hosts", security_group_id=lb.security_group_id,
                                                 ip_protocol="tcp", from_port=DYNAMIC_PORTS[0],
                                                 to_port=DYNAMIC_PORTS[1], referenced_security_group_id=hosts_sg,
                                                 description="to ECS hosts' dynamic ports", tags=dict(tags),
                                                 opts=opts)
        rules: list[pulumi.Resource] = [ingress, egress]
        if isinstance(host_rules, dict):
            host_rules[prefix] = rules
        return rules

    def _autoscaling(self, ctx: _Context, service: aws.ecs.Service, lb: ServiceLoadBalancer | None,
                     queues: WorkerQueues | None) -> None:
        """Target tracking on CPU (and memory, ALB requests when asked), or on backlog for a queue worker."""
        name, settings = ctx.name, ctx.settings
        child = pulumi.ResourceOptions(parent=self)
        cluster_name = cluster_value(ctx.cluster, "name")
        target = aws.appautoscaling.Target(
            f"{name}-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster_name, "/", service.name),
            min_capacity=settings.core.scaling.min, max_capacity=settings.core.scaling.max, opts=child)

        def policy(suffix: str, config: Mapping[str, Any]) -> None:
            aws.appautoscaling.Policy(
                f"{name}-{suffix}", policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={"scale_in_cooldown": 300, "scale_out_cooldown": 60,
                                                              **config},
                opts=child)

        if queues is not None and settings.queue is not None:
            policy("backlog", backlog_scaling(settings.queue, queues.queue, cluster_name, service.name))
            return
        policy("cpu", {"target_value": settings.core.scaling.target_cpu,
                       "predefined_metric_specification": {
                           "predefined_metric_type": "ECSServiceAverageCPUUtilization"}})
        if settings.target_memory is not None:
            policy("memory", {"target_value": settings.target_memory, "predefined_metric_specification": {
                "predefined_metric_type": "ECSServiceAverageMemoryUtilization"}})
        if settings.target_requests is not None and lb is not None:
            policy("requests", {"target_value": settings.target_requests, "predefined_metric_specification": {
                "predefined_metric_type": "ALBRequestCountPerTarget",
                "resource_label": pulumi.Output.concat(lb.arn_suffix, "/", lb.target_group_arn_suffix)}})


def _placement(ctx: _Context, sg: aws.ec2.SecurityGroup | None) -> Placement:
    """The service's capacity provider and, on Fargate, its subnets and security groups."""
    cluster = ctx.cluster
    provider = FARGATE_PROVIDERS.get(ctx.settings.capacity) or cluster_value(cluster, "capacity_provider_name")
    network_configuration = None
    if sg is not None:
        network_configuration = {"subnets": network_value(ctx.network, "private_subnet_ids"),
                                 "security_groups": [sg.id, cluster_value(cluster, "tasks_security_group_id")],
                                 "assign_public_ip": False}
    return Placement(cluster_arn=cluster_value(cluster, "arn"),
                     strategies=[{"capacity_provider": provider, "weight": 1, "base": 0}],
                     security_group=sg, network_configuration=network_configuration)


def _service_connect(ctx: _Context, logs: aws.cloudwatch.LogGroup) -> dict[str, Any]:
    """Every service joins the cluster's namespace; a long-running service is reachable as
    ``http://<name>:<port>``. The Service Connect proxy logs beside the application."""
    name = ctx.name
    connect: dict[str, Any] = {"enabled": True, "namespace": cluster_value(ctx.cluster, "namespace_arn"),
                               "log_configuration": {"log_driver": "awslogs", "options": {
                                   "awslogs-group": logs.name, "awslogs-region": ctx.region,
                                   "awslogs-stream-prefix": f"{name}-service-connect"}}}
    if ctx.settings.shape == "service":
        connect["services"] = [{"port_name": PORT_NAME, "discovery_name": name,
                                "client_alias": [{"port": ctx.settings.core.port, "dns_name": name}]}]
    return connect
