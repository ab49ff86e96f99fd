"""Profiles: the named sets of defaults for each environment, all in one place.

A profile only supplies defaults. Any value given explicitly in a component's args (or a
stack file's catalog entry) always wins over the profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pulumi

__all__ = ["PROFILES", "Profile", "current_environment", "get_profile"]

#: The retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)


@dataclass(frozen=True)
class Profile:
    """Defaults for one environment. Field docs state what each one drives."""

    name: str
    availability_zones: int
    """How many AZs the network spans."""
    nat: str
    """NAT strategy: ``none`` | ``single`` | ``per_az``."""
    flow_logs: bool
    """VPC flow logs to CloudWatch."""
    log_retention_days: int
    """Retention of every log group we create."""
    protect: bool
    """Pulumi ``protect`` on stateful resources (tables, buckets, streams, queues, repositories, clusters)."""
    deletion_protection: bool
    """Cloud-side deletion protection (load balancers, EKS clusters, DynamoDB tables)."""
    min_capacity: int
    """Default minimum number of instances, tasks or pods of a service."""
    max_capacity: int
    """Default maximum number of instances, tasks or pods of a service."""
    spot: bool
    """Prefer Spot / FARGATE_SPOT capacity."""
    deploy_strategy: str
    """``all_at_once`` | ``canary`` | ``linear``: how new code reaches traffic (Lambda via CodeDeploy)."""
    lambda_deployment_config: str | None
    """CodeDeploy config for Lambda; None deploys all at once without CodeDeploy."""
    access_logs: bool
    """Load balancer and API access logs to S3 (API Gateway access logs are always on)."""
    versioning: bool
    """S3 versioning on the buckets we create."""
    on_demand_streams: bool
    """Kinesis streams in ON_DEMAND mode (else PROVISIONED with one shard)."""
    instance_type: str = "t4g.small"
    """Default EC2 instance type for VM services and container hosts."""
    container_cpu: int = 256
    """Default CPU units of a container (1024 = one vCPU): Fargate task size, Kubernetes requests."""
    container_memory: int = 512
    """Default memory (MiB) of a container: Fargate task size, Kubernetes requests and limits."""
    node_instance_types: tuple[str, ...] = ("t4g.medium",)
    """Default instance types of EKS managed node groups."""
    node_count: int = 2
    """Default desired (and minimum) size of an EKS managed node group."""
    alarm_actions: tuple[str, ...] = field(default_factory=tuple)
    """SNS topic ARNs notified by alarms. Default: none (alarms still drive rollbacks)."""
    cloud: bool = True
    """False for ``local``: only patterns that run on a Docker host are deployed."""

    def with_overrides(self, **values) -> "Profile":
        return replace(self, **values)


PROFILES: dict[str, Profile] = {
    "dev": Profile(
        name="dev", availability_zones=2, nat="single", flow_logs=False, log_retention_days=7,
        protect=False, deletion_protection=False, min_capacity=1, max_capacity=2, spot=True,
        deploy_strategy="all_at_once", lambda_deployment_config=None, access_logs=False,
        versioning=False, on_demand_streams=True,
        # Spot nodes: three Graviton types of one size (2 vCPU, 4 GiB), so a reclaimed type is replaced.
        node_instance_types=("t4g.medium", "c7g.large", "c6g.large"),
    ),
    "staging": Profile(
        name="staging", availability_zones=2, nat="single", flow_logs=True, log_retention_days=30,
        protect=False, deletion_protection=False, min_capacity=2, max_capacity=4, spot=False,
        deploy_strategy="canary", lambda_deployment_config="CodeDeployDefault.LambdaCanary10Percent5Minutes",
        access_logs=False, versioning=True, on_demand_streams=True, instance_type="t4g.medium",
        container_cpu=512, container_memory=1024,
    ),
    "prod": Profile(
        name="prod", availability_zones=3, nat="per_az", flow_logs=True, log_retention_days=365,
        protect=True, deletion_protection=True, min_capacity=2, max_capacity=10, spot=False,
        deploy_strategy="canary", lambda_deployment_config="CodeDeployDefault.LambdaCanary10Percent5Minutes",
        access_logs=True, versioning=True, on_demand_streams=False, instance_type="m7g.large",
        container_cpu=512, container_memory=1024, node_instance_types=("m7g.large",), node_count=3,
    ),
    "local": Profile(
        name="local", availability_zones=0, nat="none", flow_logs=False, log_retention_days=1,
        protect=False, deletion_protection=False, min_capacity=1, max_capacity=1, spot=False,
        deploy_strategy="all_at_once", lambda_deployment_config=None, access_logs=False,
        versioning=False, on_demand_streams=True, cloud=False,
    ),
}

ENVIRONMENTS = tuple(PROFILES)


def current_environment() -> str:
    """The stack's ``microservices:environment`` config. Default: ``dev``."""
    return pulumi.Config("microservices").get("environment") or "dev"


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``; default: the stack's environment (see :func:`current_environment`)."""
    key = name or current_environment()
    if key not in PROFILES:
        raise ValueError(f"environment: must be one of {', '.join(PROFILES)}, got {key!r}")
    return PROFILES[key]
