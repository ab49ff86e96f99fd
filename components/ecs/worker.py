"""The two worker shapes of an ``ecs`` service: a queue worker (an SQS queue with a dead-letter queue, scaled
on backlog per task) and a scheduled task (run by an EventBridge rule)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.access import Account
from ..blocks.iam import policy_document, scoped_trust_policy, statement
from ..profiles import Profile
from .args import QueueSettings
from .task import Placement, Task

__all__ = ["WorkerQueues", "backlog_scaling", "scheduled_task", "worker_queues"]

#: Days the dead-letter queue keeps a message (SQS's longest).
DLQ_RETENTION_DAYS = 14


@dataclass(frozen=True)
class WorkerQueues:
    queue: aws.sqs.Queue
    dead_letter_queue: aws.sqs.Queue


def worker_queues(owner: pulumi.Resource, name: str, settings: QueueSettings, profile: Profile,
                  tags: Mapping[str, str]) -> WorkerQueues:
    """A queue worker's queue, its dead-letter queue (both protected in profiles that protect stateful
    resources), and an alarm on messages waiting in the dead-letter queue."""
    stateful = pulumi.ResourceOptions(parent=owner, protect=profile.protect)
    dlq = aws.sqs.Queue(f"{name}-dlq", message_retention_seconds=DLQ_RETENTION_DAYS * 86400,
                        sqs_managed_sse_enabled=True, tags=dict(tags), opts=stateful)
    queue = aws.sqs.Queue(
        f"{name}-queue", visibility_timeout_seconds=settings.visibility_timeout,
        message_retention_seconds=settings.retention_days * 86400, receive_wait_time_seconds=20,
        sqs_managed_sse_enabled=True,
        redrive_policy=dlq.arn.apply(lambda arn: json.dumps(
            {"deadLetterTargetArn": arn, "maxReceiveCount": settings.max_receive_count}, sort_keys=True)),
        tags=dict(tags), opts=stateful)
    aws.sqs.RedriveAllowPolicy(f"{name}-dlq", queue_url=dlq.url, redrive_allow_policy=queue.arn.apply(
        lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]}, sort_keys=True)),
        opts=pulumi.ResourceOptions(parent=owner))
    actions = list(profile.alarm_actions)
    aws.cloudwatch.MetricAlarm(
        f"{name}-dlq-messages", alarm_description=f"{name}: messages failed {settings.max_receive_count} "
                                                  "times and wait in the dead-letter queue",
        namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": dlq.name},
        statistic="Maximum", period=300, evaluation_periods=1, comparison_operator="GreaterThanThreshold",
        threshold=0, treat_missing_data="notBreaching", alarm_actions=actions, ok_actions=actions,
        tags=dict(tags), opts=pulumi.ResourceOptions(parent=owner))
    return WorkerQueues(queue, dlq)


def backlog_scaling(settings: QueueSettings, queue: aws.sqs.Queue, cluster_name: pulumi.Input[str],
                    service_name: pulumi.Input[str]) -> dict[str, Any]:
    """The target tracking configuration that holds ``messages_per_task`` visible messages per running task."""
    def stat(metric_id: str, namespace: str, metric: str, dims: dict[str, Any], stat_name: str) -> dict:
        return {"id": metric_id, "return_data": False, "metric_stat": {
            "stat": stat_name, "metric": {"namespace": namespace, "metric_name": metric,
                                          "dimensions": [{"name": k, "value": v} for k, v in dims.items()]}}}
    return {"target_value": settings.messages_per_task,
            "customized_metric_specification": {"metrics": [
                stat("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue.name}, "Sum"),
                stat("tasks", "ECS/ContainerInsights", "RunningTaskCount",
                     {"ClusterName": cluster_name, "ServiceName": service_name}, "Average"),
                {"id": "backlog", "label": "messages per task", "expression": "visible / tasks",
                 "return_data": True}]}}


def scheduled_task(owner: pulumi.Resource, name: str, schedule: str, task: Task, placement: Placement,
                   tags: Mapping[str, str]) -> None:
    """An EventBridge rule that runs one task of ``task`` on ``schedule``, with a role that may run only it."""
    child = pulumi.ResourceOptions(parent=owner)
    cluster_arn = placement.cluster_arn
    account = Account(owner)
    trust = scoped_trust_policy("events.amazonaws.com", account.id, account.arn("events", "rule/*"))
    role = aws.iam.Role(f"{name}-events", assume_role_policy=trust,
                        description=f"{name}: EventBridge runs the scheduled task", tags=dict(tags), opts=child)
    aws.iam.RolePolicy(f"{name}-events", role=role.id, policy=policy_document([
        statement(["ecs:RunTask"], [pulumi.Output.concat(task.definition.arn_without_revision, ":*")],
                  sid="RunTask", conditions={"ArnEquals": {"ecs:cluster": cluster_arn}}),
        statement(["iam:PassRole"], [task.execution_role.arn, task.task_role.arn], sid="PassTaskRoles",
                  conditions={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        # The target propagates tags to the task it starts: RunTask then needs TagResource on it.
        statement(["ecs:TagResource"], [pulumi.Output.from_input(cluster_arn).apply(
            lambda arn: arn.replace(":cluster/", ":task/", 1) + "/*")], sid="TagTask",
                  conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}}),
    ]), opts=child)
    rule = aws.cloudwatch.EventRule(f"{name}-schedule", schedule_expression=schedule, state="ENABLED",
                                    description=f"runs {name}", tags=dict(tags), opts=child)
    target: dict[str, Any] = {"task_definition_arn": task.definition.arn, "task_count": 1,
                              "capacity_provider_strategies": placement.strategies, "enable_ecs_managed_tags": True,
                              "propagate_tags": "TASK_DEFINITION"}
    if placement.network_configuration is not None:
        target.update(network_configuration=placement.network_configuration, platform_version="LATEST")
    aws.cloudwatch.EventTarget(f"{name}-schedule", rule=rule.name, arn=cluster_arn, role_arn=role.arn,
                               ecs_target=target, retry_policy={"maximum_retry_attempts": 2,
                                                                "maximum_event_age_in_seconds": 3600},
                               opts=child)
