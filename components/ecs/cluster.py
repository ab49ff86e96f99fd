"""The stack's ECS cluster: :class:`EcsCluster`, with Fargate and Fargate Spot, a Service Connect namespace,
the security group every task joins and, optionally, EC2 capacity (an Auto Scaling Group of ECS-optimized
instances behind a capacity provider)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Sequence

import pulumi
import pulumi_aws as aws

from ..blocks.launch_template import LaunchSettings, instance_role, launch_template
from ..blocks.load_balancer import network_value, service_security_group
from ..blocks.service import standard_tags
from ..profiles import Profile, get_profile
from .args import ClusterSettings, Ec2Capacity, EcsClusterArgs, resolve_cluster
from .validate import validate_ecs_cluster

__all__ = ["DYNAMIC_PORTS", "EcsCluster", "after"]

#: Docker's dynamic host ports on ECS hosts: the kernel's ephemeral range (32768-60999 on Amazon
#: Linux 2023) and Docker's fallback (49153-65535) both fall inside it.
DYNAMIC_PORTS = (32768, 65535)
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
ECS_AMI_PARAMETERS = {
    "arm64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
    "x86_64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
}


def after(value: pulumi.Input[Any], resources: Sequence[pulumi.Resource]) -> pulumi.Input[Any]:
    """``value`` once every resource of ``resources`` exists: an ordering carried by the output that needs
    it, rather than a ``depends_on`` on a whole component."""
    if not resources:
        return value
    return pulumi.Output.all(value, *[r.id for r in resources]).apply(lambda v: v[0])


def _physical_name(*parts: str) -> str:
    """``<project>-<stack>-<parts>`` with what AWS names refuse replaced by ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", "-".join((pulumi.get_project(), pulumi.get_stack(), *parts)))


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
        settings = resolve_cluster(args, prof)
        tags = standard_tags(name, prof.name, settings.tags)
        self.profile = prof
        self.settings = settings
        """The cluster's resolved settings."""
        self._host_rules: set[str] = set()
        self.host_rules: dict[str, list[pulumi.Resource]] = {}
        """The security group rules opening the hosts to each load balancer, by :meth:`claim_host_rule` key."""
        self.ec2 = settings.ec2 is not None
        self.instance_type = settings.ec2.instance_type if settings.ec2 is not None else None
        self.architecture = settings.ec2.architecture if settings.ec2 is not None else None
        """Architecture of the EC2 hosts (None without EC2 capacity)."""

        namespace, cluster = self._cluster(name, settings, tags)
        tasks_sg = service_security_group(f"{name}-tasks", vpc_id=network_value(network, "vpc_id"), tags=tags,
                                          opts=pulumi.ResourceOptions(parent=self))
        providers: list[pulumi.Input[str]] = ["FARGATE", "FARGATE_SPOT"]
        self.hosts_security_group_id = self.capacity_provider_name = pulumi.Output.from_input(None)
        if settings.ec2 is not None:
            hosts_sg, provider = self._ec2_capacity(f"{name}-hosts", settings.ec2, cluster, tasks_sg, network, tags)
            providers.append(provider.name)
            self.hosts_security_group_id = hosts_sg.id
            self.capacity_provider_name = provider.name

        association = aws.ecs.ClusterCapacityProviders(
            f"{name}-providers", cluster_name=cluster.name, capacity_providers=providers,
            default_capacity_provider_strategies=[{"capacity_provider": "FARGATE_SPOT" if prof.spot else "FARGATE",
                                                   "weight": 1, "base": 0}],
            opts=pulumi.ResourceOptions(parent=self))
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

    def _cluster(self, name: str, settings: ClusterSettings,
                 tags: Mapping[str, str]) -> tuple[aws.servicediscovery.HttpNamespace, aws.ecs.Cluster]:
        """The Service Connect namespace and the cluster that uses it by default."""
        namespace_name = settings.namespace or _physical_name(name)[:64].strip("-._")
        namespace = aws.servicediscovery.HttpNamespace(f"{name}-ns", name=namespace_name,
                                                       description=f"Service Connect of {name}", tags=tags,
                                                       opts=pulumi.ResourceOptions(parent=self))
        cluster = aws.ecs.Cluster(
            f"{name}-cluster", settings=[{"name": "containerInsights", "value": settings.container_insights}],
            service_connect_defaults={"namespace": namespace.arn}, tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=self.profile.protect))
        return namespace, cluster

    def _ec2_capacity(self, hosts: str, ec2: Ec2Capacity, cluster: aws.ecs.Cluster, tasks_sg: aws.ec2.SecurityGroup,
                      network: Any, tags: Mapping[str, str]) -> tuple[aws.ec2.SecurityGroup, aws.ecs.CapacityProvider]:
        """The hosts (``hosts`` names them): their security group, role and launch template, the Auto
        Scaling Group and the capacity provider that scales it."""
        child = pulumi.ResourceOptions(parent=self)
        hosts_sg = service_security_group(hosts, vpc_id=network_value(network, "vpc_id"), tags=tags, opts=child)
        # Service Connect and Fargate callers reach bridge-mode tasks on their dynamic host ports.
        aws.vpc.SecurityGroupIngressRule(f"{hosts}-from-tasks", security_group_id=hosts_sg.id, ip_protocol="tcp",
                                         from_port=DYNAMIC_PORTS[0], to_port=DYNAMIC_PORTS[1],
                                         referenced_security_group_id=tasks_sg.id,
                                         description="dynamic host ports from the cluster's tasks", tags=dict(tags),
                                         opts=child)
        role = instance_role(hosts, tags=tags, managed_policy_arns=[ECS_INSTANCE_POLICY], opts=child)
        # Hop limit 1 keeps the instance role away from bridge-mode containers: tasks use their task roles.
        # Hosts register with the cluster and pull images as they boot: the profile they launch with waits for
        # the role's policies (IAM is eventually consistent), carried by the output the template needs.
        launch = LaunchSettings(image_id=self._image_id(ec2), instance_type=ec2.instance_type,
                                security_group_ids=[hosts_sg.id, tasks_sg.id],
                                instance_profile_arn=after(role.profile.arn, role.policies),
                                user_data=cluster.name.apply(_user_data), hop_limit=1,
                                root_volume_size=ec2.root_volume_size)
        lt = launch_template(hosts, launch, tags=tags, opts=child)
        asg = self._auto_scaling_group(hosts, ec2, lt, network_value(network, "private_subnet_ids"), tags)
        # AWS rejects capacity provider names starting with "aws", "ecs" or "fargate", and the
        # platform's cluster is named "ecs": auto-naming ("ecs-hosts-cp-1a2b3c4") would fail.
        provider = aws.ecs.CapacityProvider(
            f"{hosts}-cp", name=("cp-" + _physical_name(hosts))[:255],
            auto_scaling_group_provider={
                "auto_scaling_group_arn": asg.arn, "managed_termination_protection": "ENABLED",
                "managed_draining": "ENABLED",
                "managed_scaling": {"status": "ENABLED", "target_capacity": ec2.target_capacity,
                                    "minimum_scaling_step_size": 1, "maximum_scaling_step_size": 10,
                                    "instance_warmup_period": 60}},
            # A fixed name cannot exist twice: a replacement deletes the old provider first.
            tags=tags, opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True))
        return hosts_sg, provider

    def _image_id(self, ec2: Ec2Capacity) -> pulumi.Input[str]:
        """The pinned AMI, else the recommended ECS-optimized AMI of the hosts' architecture."""
        if ec2.ami_id is not None:
            return ec2.ami_id
        return aws.ssm.get_parameter_output(name=ECS_AMI_PARAMETERS[ec2.architecture],
                                            opts=pulumi.InvokeOutputOptions(parent=self)).value

    def _auto_scaling_group(self, hosts: str, ec2: Ec2Capacity, lt: aws.ec2.LaunchTemplate,
                            subnet_ids: pulumi.Input[Sequence[str]], tags: Mapping[str, str]) -> aws.autoscaling.Group:
        asg_tags = [{"key": k, "value": v, "propagate_at_launch": True}
                    for k, v in sorted({**tags, "Name": hosts, "AmazonECSManaged": "true"}.items())]
        return aws.autoscaling.Group(
            f"{hosts}-asg", min_size=ec2.min_size, max_size=ec2.max_size, vpc_zone_identifiers=subnet_ids,
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

    def claim_host_rule(self, key: str) -> bool:
        """True the first time ``key`` (a load balancer) asks to open the hosts' dynamic ports to itself,
        so two EC2 services behind one shared ALB do not create the same security group rule twice."""
        if key in self._host_rules:
            return False
        self._host_rules.add(key)
        return True


def _user_data(cluster_name: str) -> str:
    """The hosts' boot script: join the cluster, drain on a Spot interruption, keep Docker's dynamic ports
    in :data:`DYNAMIC_PORTS`."""
    return "\n".join([
        "#!/bin/bash",
        "cat >> /etc/ecs/ecs.config <<'EOF'",
        f"ECS_CLUSTER={cluster_name}",
        "ECS_ENABLE_CONTAINER_METADATA=true",
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
        f"ECS_DYNAMIC_HOST_PORT_RANGE={DYNAMIC_PORTS[0]}-{DYNAMIC_PORTS[1]}",
        "EOF",
        "",
    ])
