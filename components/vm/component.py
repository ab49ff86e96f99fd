"""``VmService``: one service per VM, from an AMI per service, in an Auto Scaling Group behind a load balancer.

Catalog pattern ``vm``. The entry is the core service spec (port, health check, scaling, environment,
secrets, expose) plus the keys of :class:`~components.vm.args.VmServiceArgs`. The AMI is an explicit id, the
newest AMI of the account tagged with the service and a version (``lookup``), or baked by EC2 Image Builder
from ``services/<name>/<document>`` (``bake``; :mod:`components.vm.ami`). A new launch template version (new
AMI, new user data) is rolled out by an instance refresh started with that version as its desired
configuration, without updating the group first (:mod:`components.vm.refresh`): a failed refresh is rolled
back to the version that was serving, and ``pulumi up`` fails with its reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.access import Account
from ..blocks.aws_api import stack_settings
from ..blocks.iam import secret_read_statements
from ..blocks.launch_template import InstanceRole, LaunchSettings, instance_role, launch_template
from ..blocks.load_balancer import ServiceLoadBalancer, network_value, service_security_group, standard_alarms
from ..blocks.service import standard_tags
from ..profiles import Profile, get_profile
from .ami import service_ami
from .args import VmServiceArgs, VmSettings, resolve_vm
from .refresh import InstanceRefresh
from .user_data import render_user_data
from .validate import validate_vm

__all__ = ["GROUP_IGNORED", "VmService", "mixed_instances"]

#: What the group ignores after creation: the instance refresh moves the launch template version (Auto Scaling
#: saves it on the group when the refresh succeeds), and autoscaling owns the size.
GROUP_IGNORED = ("launchTemplate", "mixedInstancesPolicy", "desiredCapacity")
GROUP_METRICS = ["GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
                 "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances"]


class VmService(pulumi.ComponentResource):
    """A service on EC2: an AMI per service, a launch template, an Auto Scaling Group across the private
    subnets, rolled to every new launch template version by an instance refresh, a load balancer, scaling
    policies and alarms."""

    asg_name: pulumi.Output[str]
    """Name of the Auto Scaling Group."""
    launch_template_id: pulumi.Output[str]
    """Id of the launch template."""
    launch_template_version: pulumi.Output[str]
    """The launch template version the group runs once this ``up`` has rolled it out."""
    rollout: InstanceRefresh
    """The rollout of the launch template version to the group (an instance refresh, waited for)."""
    ami_id: pulumi.Output[str]
    """The AMI the instances launch from."""
    security_group_id: pulumi.Output[str]
    """Security group of the instances."""
    role_arn: pulumi.Output[str]
    """ARN of the instance role."""
    url: pulumi.Output[str | None]
    """URL of the service through its load balancer (None with ``expose: none``)."""
    alarm_names: pulumi.Output[list[str]]
    """Names of the service's alarms (unhealthy hosts, 5xx rate, p99 latency)."""

    def __init__(self, name: str, args: VmServiceArgs, opts: pulumi.ResourceOptions | None = None, *,
                 network: Any = None, profile: Profile | str | None = None, project_dir: Path | str | None = None,
                 shared_load_balancer: Any = None):
        spec = dict(args or {})
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        problems = validate_vm(name, spec, name, project_dir=pdir, profile=prof)
        if network is None:
            problems.add(f"{name}.network", "is required: pass network=Network(...) or a dict of its outputs")
        problems.raise_if_any()
        super().__init__("microservices:vm:VmService", name, None, opts)
        settings = resolve_vm(spec, prof)
        child = pulumi.ResourceOptions(parent=self)
        tags = standard_tags(name, prof.name, settings.core.tags)
        private_subnets = network_value(network, "private_subnet_ids")

        sg = service_security_group(name, vpc_id=network_value(network, "vpc_id"), tags=tags, opts=child)
        ami_id = service_ami(self, name, settings, tags=tags, network=network, project_dir=pdir, opts=child)
        role, lt = self._launch_template(name, settings, prof.name, ami_id, sg, tags, child)
        lb = alarms = None
        if settings.core.expose != "none":
            lb = ServiceLoadBalancer(name, settings.load_balancer, child, core=settings.core, network=network,
                                     profile=prof, target_type="instance", target_security_group_id=sg.id,
                                     shared=shared_load_balancer, tags=settings.core.tags)
            alarms = standard_alarms(name, lb, profile=prof, tags=tags, opts=child)
        group = self._group(name, settings, lt, private_subnets, lb, tags, child, role.policies)
        self._scaling(name, settings, group, lb, child)
        self.rollout = self._rollout(name, settings, lt, group, alarms, lb, child)

        self.asg_name = group.name
        self.launch_template_id = lt.id
        self.launch_template_version = pulumi.Output.all(self.rollout.status, lt.latest_version).apply(
            lambda v: str(v[1]))
        self.ami_id = pulumi.Output.from_input(ami_id)
        self.security_group_id = sg.id
        self.role_arn = role.role.arn
        self.url = lb.url if lb is not None else pulumi.Output.from_input(None)
        self.alarm_names = pulumi.Output.all(*(alarms.names if alarms else []))
        self.register_outputs({"asg_name": self.asg_name, "launch_template_id": self.launch_template_id,
                               "launch_template_version": self.launch_template_version, "ami_id": self.ami_id,
                               "security_group_id": self.security_group_id, "role_arn": self.role_arn,
                               "url": self.url, "alarm_names": self.alarm_names})

    def _launch_template(self, name: str, settings: VmSettings, environment: str, ami_id: pulumi.Input[str],
                         sg: aws.ec2.SecurityGroup, tags: dict[str, str], child: pulumi.ResourceOptions,
                         ) -> tuple[InstanceRole, aws.ec2.LaunchTemplate]:
        """The instance role (reading the service's secrets) and the launch template of the first instance type."""
        core = settings.core
        role = instance_role(name, tags=tags, statements=secret_read_statements(core.secrets.values(),
                                                                                  kms_keys=core.secrets_kms_keys),
                             opts=child)
        user_data = render_user_data(name, environment, core.port, core.environment, core.secrets)
        launch = LaunchSettings(image_id=ami_id, instance_type=settings.instance_type, security_group_ids=[sg.id],
                                instance_profile_arn=role.profile.arn, user_data=user_data,
                                hop_limit=settings.metadata_hop_limit, root_volume_size=settings.root_volume_size,
                                key_name=settings.key_name)
        lt = launch_template(name, launch, tags=tags, opts=child)
        return role, lt

    # -- the group --------------------------------------------------------------------------------
    def _group(self, name: str, settings: VmSettings, lt: aws.ec2.LaunchTemplate, subnets: Any,
               lb: ServiceLoadBalancer | None, tags: dict[str, str], child: pulumi.ResourceOptions,
               role_policies: list[pulumi.Resource]) -> aws.autoscaling.Group:
        scaling, grace = settings.core.scaling, settings.core.health_check.grace_period
        kwargs = _group_instances(settings, lt)
        warm = settings.autoscaling.warm_pool
        if warm is not None:
            kwargs["warm_pool"] = {
                "min_size": warm.min_size, "max_group_prepared_capacity": warm.max_prepared_capacity,
                "pool_state": warm.pool_state, "instance_reuse_policy": {"reuse_on_scale_in": warm.reuse_on_scale_in},
            }
        if lb is not None:
            kwargs["target_group_arns"] = [lb.target_group_arn]
            # The first deploy waits until the first instances are healthy in the load balancer. Only on
            # creation: wait_for_elb_capacity would wait for exactly that many on every later update of the
            # group, whatever size autoscaling has moved it to since.
            kwargs["min_elb_capacity"] = scaling.desired
        return aws.autoscaling.Group(
            f"{name}-asg",
            min_size=scaling.min, max_size=scaling.max, desired_capacity=scaling.desired,
            vpc_zone_identifiers=subnets,
            health_check_type="ELB" if lb is not None else "EC2",
            health_check_grace_period=grace,
            default_instance_warmup=settings.rollout.instance_warmup,
            wait_for_capacity_timeout=f"{settings.rollout.timeout}s",
            # One failed launch (no Spot capacity in one pool, an AZ out of an instance type) would otherwise
            # fail the first deploy's wait at once (terraform-provider-aws#29753, #33665), though the group
            # retries other pools and AZs. The timeout still bounds the wait.
            ignore_failed_scaling_activities=True,
            enabled_metrics=GROUP_METRICS,
            metrics_granularity="1Minute",
            termination_policies=["OldestLaunchTemplate", "Default"],
            tags=[{"key": k, "value": v, "propagate_at_launch": False} for k, v in sorted(tags.items())],
            # One group for the service's life. Pulumi never moves its launch template version: the
            # instance refresh (self._rollout) does, and Auto Scaling saves the new version on the group only
            # when the refresh succeeds, so a failed one rolls back to the serving version. Updating the group
            # first (the provider's instance_refresh block) would roll back to the new version
            # (terraform-provider-aws#34189).
            # A target group on no listener yet does not health-check its targets ("unused"): create the
            # group, which relies on ELB health checks, once the listener or shared ALB rule exists.
            # The first instances fetch their secrets at boot: the role's policies must exist by then.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                ignore_changes=list(GROUP_IGNORED),
                depends_on=[*role_policies, *([lb.attachment] if lb is not None else [])])),
            **kwargs)

    def _rollout(self, name: str, settings: VmSettings, lt: aws.ec2.LaunchTemplate, group: aws.autoscaling.Group,
                 alarms: Any, lb: ServiceLoadBalancer | None, child: pulumi.ResourceOptions) -> InstanceRefresh:
        """Roll the group to the launch template's latest version (nothing to do on the first deploy)."""
        return InstanceRefresh(f"{name}-rollout", {
            "group": group.name, "launch_template_id": lt.id, "version": lt.latest_version.apply(str),
            "mixed_instances_policy": mixed_instances(settings),
            "instance_warmup": settings.rollout.instance_warmup,
            # Any of the service's alarms in ALARM fails the refresh, which then rolls back.
            "alarms": list(alarms.names) if alarms is not None else [],
            "timeout_seconds": settings.rollout.timeout,
            # The first deploy's rollout also checks that the group is healthy in its load balancer: after a
            # failed first deploy, the next `up` only updates the group, which waits for nothing.
            "target_group_arn": lb.target_group_arn if lb is not None else "",
            "min_healthy": settings.core.scaling.desired if lb is not None else 0,
            **stack_settings(Account(self).region),
        }, opts=child)

    def _scaling(self, name: str, settings: VmSettings, group: aws.autoscaling.Group,
                 lb: ServiceLoadBalancer | None, child: pulumi.ResourceOptions) -> None:
        aws.autoscaling.Policy(
            f"{name}-cpu", autoscaling_group_name=group.name, policy_type="TargetTrackingScaling",
            target_tracking_configuration={
                "predefined_metric_specification": {"predefined_metric_type": "ASGAverageCPUUtilization"},
                "target_value": settings.core.scaling.target_cpu},
            opts=child)
        auto = settings.autoscaling
        if auto.requests_per_target is not None and lb is not None:
            label = pulumi.Output.concat(lb.arn_suffix, "/", lb.target_group_arn_suffix)
            aws.autoscaling.Policy(
                f"{name}-requests", autoscaling_group_name=group.name, policy_type="TargetTrackingScaling",
                target_tracking_configuration={
                    "predefined_metric_specification": {"predefined_metric_type": "ALBRequestCountPerTarget",
                                                        "resource_label": label},
                    "target_value": auto.requests_per_target},
                opts=child)
        for key in sorted(auto.schedules):
            sched = auto.schedules[key]
            aws.autoscaling.Schedule(
                f"{name}-schedule-{key}", autoscaling_group_name=group.name, scheduled_action_name=key,
                recurrence=sched.recurrence, time_zone=sched.time_zone, min_size=sched.min, max_size=sched.max,
                desired_capacity=sched.desired, opts=child)


def _group_instances(settings: VmSettings, lt: aws.ec2.LaunchTemplate) -> dict[str, Any]:
    """The group's launch template, or its mixed instances policy (several types or Spot) with rebalancing."""
    version = lt.latest_version.apply(str)
    mixed = mixed_instances(settings)
    if mixed is None:
        return {"launch_template": {"id": lt.id, "version": version}}
    distribution = mixed["InstancesDistribution"]
    return {
        "mixed_instances_policy": {
            "launch_template": {
                "launch_template_specification": {"launch_template_id": lt.id, "version": version},
                "overrides": [{"instance_type": o["InstanceType"]} for o in mixed["LaunchTemplate"]["Overrides"]],
            },
            "instances_distribution": {
                "on_demand_base_capacity": distribution["OnDemandBaseCapacity"],
                "on_demand_percentage_above_base_capacity": distribution["OnDemandPercentageAboveBaseCapacity"],
                "on_demand_allocation_strategy": distribution["OnDemandAllocationStrategy"],
                "spot_allocation_strategy": distribution["SpotAllocationStrategy"],
            },
        },
        "capacity_rebalance": settings.spot_percentage > 0,
    }


def mixed_instances(settings: VmSettings) -> dict[str, Any] | None:
    """The group's mixed instances policy in the Auto Scaling API's shape, without its launch template
    specification (the rollout adds the version), or None for a single On-Demand instance type."""
    spot = settings.spot_percentage
    if len(settings.instance_types) <= 1 and spot <= 0:
        return None
    return {
        "LaunchTemplate": {"Overrides": [{"InstanceType": t} for t in settings.instance_types]},
        "InstancesDistribution": {
            "OnDemandBaseCapacity": settings.on_demand_base_capacity,
            "OnDemandPercentageAboveBaseCapacity": 100 - spot,
            "OnDemandAllocationStrategy": "prioritized",
            "SpotAllocationStrategy": "price-capacity-optimized",
        },
    }
