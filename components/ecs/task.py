"""What an ``ecs`` service's tasks are: the execution and task roles (least privilege each), the container
definition and the task definition, plus where the tasks run (:class:`Placement`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.access import Account
from ..blocks.container_image import ECR_REF_PATTERN
from ..blocks.iam import policy_document, scoped_trust_policy, secret_read_statements, statement
from .args import PORT_NAME, EcsSettings
from .cluster import after

__all__ = ["EXEC_WRITABLE_PATHS", "Placement", "Task", "TaskInputs", "container_definition", "task_definition",
           "task_volumes"]

#: Where the SSM agent that ECS Exec starts in the container keeps its state and logs: writable task volumes,
#: so Exec works on a read-only root filesystem.
EXEC_WRITABLE_PATHS = ("/var/lib/amazon", "/var/log/amazon")
EXEC_ACTIONS = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]


@dataclass(frozen=True)
class TaskInputs:
    """What a service's task definition is built from besides its settings."""

    name: str
    settings: EcsSettings
    tags: Mapping[str, str]
    image_ref: pulumi.Input[str]
    pull_repository_arn: pulumi.Input[str | None]
    """The ECR repository the execution role may pull from (None for an image outside ECR)."""
    logs: aws.cloudwatch.LogGroup
    region: pulumi.Input[str]
    queue: aws.sqs.Queue | None = None
    """A queue worker's queue: its URL is the container's ``QUEUE_URL``, the task role consumes it."""


@dataclass(frozen=True)
class Task:
    """A service's task definition and the two roles it names."""

    definition: aws.ecs.TaskDefinition
    execution_role: aws.iam.Role
    task_role: aws.iam.Role


@dataclass(frozen=True)
class Placement:
    """Where a service's tasks run: the cluster, the capacity provider strategy, and on Fargate the tasks'
    own security group and network configuration (None on EC2 hosts, whose tasks use ``bridge`` networking
    and the hosts' group)."""

    cluster_arn: pulumi.Input[str]
    strategies: list[dict[str, Any]]
    security_group: aws.ec2.SecurityGroup | None = None
    network_configuration: dict[str, Any] | None = None


def task_definition(owner: pulumi.Resource, inputs: TaskInputs) -> Task:
    """The roles and the task definition of ``inputs.name``, children of ``owner``."""
    name, settings = inputs.name, inputs.settings
    execution_role, task_role, role_policies = _roles(owner, inputs)
    volumes = task_volumes(settings)
    family = re.sub(r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}")[:255]
    extra: dict[str, Any] = {}
    if settings.fargate and settings.ephemeral_storage is not None:
        extra["ephemeral_storage"] = {"size_in_gib": settings.ephemeral_storage}
    definition = aws.ecs.TaskDefinition(
        f"{name}-taskdef", family=family, cpu=str(settings.cpu), memory=str(settings.memory),
        network_mode="awsvpc" if settings.fargate else "bridge",
        requires_compatibilities=["FARGATE" if settings.fargate else "EC2"],
        runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": settings.architecture.upper()},
        # Tasks start as soon as the service exists: the roles they run under must carry their policies
        # by then (IAM is eventually consistent), or the first tasks fail to pull, log or read secrets.
        execution_role_arn=after(execution_role.arn, role_policies["execution"]),
        task_role_arn=after(task_role.arn, role_policies["task"]),
        container_definitions=pulumi.Output.from_input([container_definition(inputs, volumes)]).apply(
            lambda defs: json.dumps(defs, sort_keys=True)),
        volumes=[{"name": vol} for vol in volumes.values()], tags=inputs.tags,
        opts=pulumi.ResourceOptions(parent=owner), **extra)
    return Task(definition, execution_role, task_role)


def task_volumes(settings: EcsSettings) -> dict[str, str]:
    """Writable task volumes by container path: ``writable_paths``, and the SSM agent's paths with ECS Exec."""
    volumes = {path: f"writable-{i}" for i, path in enumerate(settings.container.writable_paths)}
    if settings.enable_exec:
        for path in EXEC_WRITABLE_PATHS:
            volumes.setdefault(path, "exec-" + path.strip("/").replace("/", "-"))
    return volumes


def container_definition(inputs: TaskInputs, volumes: Mapping[str, str]) -> dict[str, Any]:
    """The service's one container, as ECS's ``containerDefinitions`` names its fields."""
    name, settings = inputs.name, inputs.settings
    core, container = settings.core, settings.container
    environment: dict[str, pulumi.Input[str]] = dict(core.environment)
    if inputs.queue is not None:
        environment["QUEUE_URL"] = inputs.queue.url
    definition: dict[str, Any] = {
        "name": name, "image": inputs.image_ref, "essential": True,
        "readonlyRootFilesystem": container.read_only_root_filesystem,
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(core.secrets.items())],
        "mountPoints": [{"sourceVolume": vol, "containerPath": path, "readOnly": False}
                        for path, vol in volumes.items()],
        "linuxParameters": {"initProcessEnabled": True},
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": inputs.logs.name, "awslogs-region": inputs.region, "awslogs-stream-prefix": name}},
    }
    if settings.shape == "service":
        definition["portMappings"] = [{"name": PORT_NAME, "containerPort": core.port,
                                       "hostPort": core.port if settings.fargate else 0, "protocol": "tcp",
                                       "appProtocol": "http"}]
    if container.user:
        definition["user"] = container.user
    if container.command:
        definition["command"] = container.command
    if container.health_command and container.health_command[0] != "NONE":
        hc = core.health_check
        # ECS's container health check allows a 60 s timeout and a 300 s start period at most.
        definition["healthCheck"] = {"command": container.health_command, "interval": hc.interval,
                                     "timeout": min(hc.timeout, 60), "retries": hc.unhealthy_threshold,
                                     "startPeriod": min(hc.grace_period, 300)}
    return definition


def _roles(owner: pulumi.Resource,
           inputs: TaskInputs) -> tuple[aws.iam.Role, aws.iam.Role, dict[str, list[pulumi.Resource]]]:
    """The execution role (ECS pulls the image, writes logs, reads secrets) and the task role (the
    application), with the policies each must carry before a task starts."""
    name, tags = inputs.name, inputs.tags
    child = pulumi.ResourceOptions(parent=owner)
    account = Account(owner)
    trust = scoped_trust_policy("ecs-tasks.amazonaws.com", account.id, account.arn("ecs", "*"))
    execution = aws.iam.Role(f"{name}-execution", assume_role_policy=trust,
                             description=f"{name}: ECS pulls the image, writes logs, reads secrets",
                             tags=dict(tags), opts=child)
    policies: dict[str, list[pulumi.Resource]] = {"execution": [aws.iam.RolePolicy(
        f"{name}-execution", role=execution.id, policy=policy_document(_execution_statements(inputs)),
        opts=child)], "task": []}

    task = aws.iam.Role(f"{name}-task", assume_role_policy=trust, description=f"{name}: the application",
                        tags=dict(tags), opts=child)
    task_statements = []
    if inputs.settings.enable_exec:
        # The SSM message channels of ECS Exec have no resource-level permissions.
        task_statements.append(statement(EXEC_ACTIONS, ["*"], sid="EcsExec"))
    if inputs.queue is not None:
        task_statements.append(statement(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                          "sqs:GetQueueAttributes"], [inputs.queue.arn], sid="ConsumeQueue"))
    if task_statements:
        policies["task"].append(aws.iam.RolePolicy(f"{name}-task", role=task.id,
                                                   policy=policy_document(task_statements), opts=child))
    for i, arn in enumerate(inputs.settings.policy_arns):
        policies["task"].append(aws.iam.RolePolicyAttachment(f"{name}-task-{i}", role=task.name, policy_arn=arn,
                                                             opts=child))
    return execution, task, policies


def _execution_statements(inputs: TaskInputs) -> list[dict[str, Any]]:
    """Write the service's logs; pull its image when it lives in ECR; read its secrets."""
    core, image = inputs.settings.core, inputs.settings.container.image
    statements = [statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                            [pulumi.Output.concat(inputs.logs.arn, ":*")], sid="WriteLogs")]
    ref = image.get("ref")
    if "context" in image or (isinstance(ref, str) and re.match(ECR_REF_PATTERN, ref)):
        # GetAuthorizationToken has no resource-level permissions; the pull itself is scoped to one repository.
        statements.append(statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"))
        statements.append(statement(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                     "ecr:GetDownloadUrlForLayer"], [inputs.pull_repository_arn], sid="PullImage"))
    statements.extend(secret_read_statements(core.secrets.values(), kms_keys=core.secrets_kms_keys))
    return statements
