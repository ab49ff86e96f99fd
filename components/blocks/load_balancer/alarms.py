"""The standard alarms of a load-balanced service (:func:`standard_alarms`): unhealthy targets, and on an ALB the
target 5xx rate and p99 latency."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ...profiles import Profile
from .service import ServiceLoadBalancer

__all__ = ["ServiceAlarms", "standard_alarms"]


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
