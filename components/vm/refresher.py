"""How the ``vm`` pattern's rollout (:mod:`components.vm.refresh`) drives Auto Scaling: an instance refresh
started with a desired configuration, on boto3.

The Auto Scaling group keeps its identity, and Pulumi never moves its launch template version (the group
ignores changes to it after creation). The rollout starts the refresh with ``StartInstanceRefresh`` and
``DesiredConfiguration`` set to the new launch template version, *without* updating the group first:

- while the refresh runs, the group's saved configuration is still the serving version, so a refresh that
  fails (an instance not healthy, a launch failure, one of the service's alarms in ALARM) is rolled back by
  Auto Scaling to it (``AutoRollback``: "the configuration that you last saved on the Auto Scaling group
  before starting the instance refresh"); the ``up`` fails with the refresh's status and reason;
- when the refresh succeeds, Auto Scaling itself updates the group to the desired configuration;
- Pulumi keeps a failed update's old inputs, so the next ``up`` calls the provider again and, the group
  being back on the old version, a fresh refresh starts: a retry needs no cleaning up;
- a refresh already running is waited for, never duplicated (AWS refuses a second one with
  ``InstanceRefreshInProgress``); when it targets this version its outcome is this ``up``'s outcome;
- throttling and 5xx answers are retried with backoff, and the whole wait is bounded (``timeout_seconds``):
  past it the ``up`` fails naming the refresh, which keeps running in AWS (and rolls back on its own if it
  fails); the next ``up`` waits for it;
- nothing to do when the group and all its instances already run the version (the first deploy: the group
  was just created on it).

Updating the group and then refreshing (the AWS provider's ``instance_refresh`` block) saves the new version
first, so its rollback "restores" the new version (hashicorp/terraform-provider-aws#34189).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..blocks.aws_api import BoundedCaller, error_code

__all__ = ["ACTIVE_STATUSES", "FAILED_STATUSES", "MAX_ALARMS", "RefreshError", "RefreshTarget", "RefreshTimeout",
           "Refresher"]

#: DescribeInstanceRefreshes' statuses of a refresh still running.
ACTIVE_STATUSES = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
#: ... and of one that ended without deploying its desired configuration.
FAILED_STATUSES = ("Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")
#: StartInstanceRefresh's answers when the group is busy (a refresh, or another update, in progress).
BUSY_CODES = frozenset({"InstanceRefreshInProgress", "ResourceContention"})
#: Answers of a deploy role without the read permissions of the optional checks: logged, not fatal.
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
POLL_SECONDS = 15.0
#: New instances launch before old ones terminate (up to twice the capacity), and never fewer healthy than now.
MIN_HEALTHY_PERCENTAGE, MAX_HEALTHY_PERCENTAGE = 100, 200
#: Pages of DescribeInstanceRefreshes (100 each) read to find a running refresh.
HISTORY_PAGES = 10
#: AlarmSpecification takes at most 10 alarms.
MAX_ALARMS = 10


class RefreshError(RuntimeError):
    """The instance refresh did not deploy the version (failed, cancelled or rolled back)."""


class RefreshTimeout(RefreshError):
    """The refresh did not end within the bound; it keeps running in Auto Scaling."""


@dataclass(frozen=True)
class RefreshTarget:
    """Roll ``group`` to ``version`` of launch template ``launch_template_id``.

    ``mixed_instances_policy`` is the group's mixed instances policy (botocore's shape, without the launch
    template version), for a group that has one: the desired configuration then carries the whole policy."""

    group: str
    launch_template_id: str
    version: str
    mixed_instances_policy: Mapping[str, Any] | None = None
    instance_warmup: int = 0
    alarms: tuple[str, ...] = field(default_factory=tuple)

    def desired_configuration(self) -> dict[str, Any]:
        spec = {"LaunchTemplateId": self.launch_template_id, "Version": self.version}
        if self.mixed_instances_policy:
            policy = dict(self.mixed_instances_policy)
            policy["LaunchTemplate"] = {**dict(policy.get("LaunchTemplate") or {}), "LaunchTemplateSpecification": spec}
            return {"MixedInstancesPolicy": policy}
        return {"LaunchTemplate": spec}

    def preferences(self) -> dict[str, Any]:
        prefs: dict[str, Any] = {
            "MinHealthyPercentage": MIN_HEALTHY_PERCENTAGE, "MaxHealthyPercentage": MAX_HEALTHY_PERCENTAGE,
            "InstanceWarmup": self.instance_warmup, "SkipMatching": True, "AutoRollback": True,
            # The API's default for both is Wait: an instance in Standby or protected from scale in would
            # stall the refresh for an hour and then fail it (AWS: "Understand the default values for an
            # instance refresh"). They are left on their version instead, as on_version assumes.
            "ScaleInProtectedInstances": "Ignore", "StandbyInstances": "Ignore",
        }
        if self.alarms:
            prefs["AlarmSpecification"] = {"Alarms": list(self.alarms)}
        return prefs


def _spec_of(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The launch template specification of a group or of a desired configuration."""
    config = config or {}
    if config.get("LaunchTemplate"):
        return config["LaunchTemplate"]
    return ((config.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get(
        "LaunchTemplateSpecification") or {}


def _targets(refresh: Mapping[str, Any], target: RefreshTarget) -> bool:
    spec = _spec_of(refresh.get("DesiredConfiguration"))
    return str(spec.get("Version")) == target.version and spec.get("LaunchTemplateId") == target.launch_template_id


def _same_policy(saved: Mapping[str, Any] | None, wanted: Mapping[str, Any] | None) -> bool:
    """True when the group's saved mixed instances policy is the one wanted: both absent, or the same
    instance types in the same order (priority) and the same values of every distribution setting wanted."""
    if not wanted:
        return not saved
    if not saved:
        return False

    def types(policy: Mapping[str, Any]) -> list[str]:
        return [str(o.get("InstanceType")) for o in (policy.get("LaunchTemplate") or {}).get("Overrides") or []]

    have = saved.get("InstancesDistribution") or {}
    return types(saved) == types(wanted) and all(
        have.get(key) == value for key, value in (wanted.get("InstancesDistribution") or {}).items())


def _reason(refresh: Mapping[str, Any]) -> str:
    reason = refresh.get("StatusReason") or ""
    rollback = (refresh.get("RollbackDetails") or {}).get("RollbackReason") or ""
    return "; ".join(p for p in (reason, rollback) if p) or f"status {refresh.get('Status')}"


class Refresher:
    """Runs one rollout with a boto3 Auto Scaling client (and a CloudWatch client, to leave out of the
    refresh's alarms those already in ALARM). ``sleep`` and ``clock`` are injectable so tests run the waits
    instantly."""

    def __init__(self, autoscaling: Any, *, timeout: float, poll: float = POLL_SECONDS,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] | None = None,
                 log: Callable[[str], None] | None = None, cloudwatch: Any = None, elbv2: Any = None):
        self.autoscaling = autoscaling
        self.cloudwatch = cloudwatch
        self.elbv2 = elbv2
        self.timeout = timeout
        self.poll = poll
        self.api = BoundedCaller(timeout=timeout, sleep=sleep or time.sleep, clock=clock or time.monotonic,
                                 log=log, timeout_error=RefreshTimeout)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self.api.call(self.autoscaling, operation, **kwargs)

    def _pause(self) -> None:
        self.api.sleep(max(0.0, min(self.poll, self.api.remaining())))

    def active(self, target: RefreshTarget) -> dict[str, Any] | None:
        """The group's running refresh, if any (AWS runs at most one per group). AWS does not document the
        order of DescribeInstanceRefreshes (six weeks of history): every page is read, up to a bound."""
        token = None
        for _ in range(HISTORY_PAGES):
            kwargs: dict[str, Any] = {"AutoScalingGroupName": target.group, "MaxRecords": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("describe_instance_refreshes", **kwargs)
            running = [r for r in page.get("InstanceRefreshes") or [] if r.get("Status") in ACTIVE_STATUSES]
            if running:
                return running[0]
            token = page.get("NextToken")
            if not token:
                break
        return None

    def watched(self, target: RefreshTarget) -> RefreshTarget:
        """``target`` without the alarms already in ALARM before the refresh starts.

        An alarm that is already firing (often the very problem the new version fixes: 5xx, unhealthy hosts)
        says nothing about the new version, and AWS does not document how a refresh treats it: it could stop
        every refresh of a fix at once, or never fire. The refresh is gated by the others and by the health
        checks instead; the ``up`` logs which were left out."""
        if not target.alarms or self.cloudwatch is None:
            return target
        try:
            found = self.api.call(self.cloudwatch, "describe_alarms", AlarmNames=list(target.alarms))
        except Exception as err:
            if error_code(err) not in DENIED_CODES:
                raise
            self.api.log(f"{target.group}: cannot read the alarms' states ({error_code(err)}: grant "
                         "cloudwatch:DescribeAlarms): the refresh watches all of them")
            return target
        firing = {a.get("AlarmName") for key in ("MetricAlarms", "CompositeAlarms") for a in found.get(key) or []
                  if a.get("StateValue") == "ALARM"}
        if not firing:
            return target
        self.api.log(f"{target.group}: alarms already in ALARM, not watched by this refresh: "
                     f"{', '.join(sorted(firing))}")
        return replace(target, alarms=tuple(a for a in target.alarms if a not in firing))

    def healthy(self, target: RefreshTarget, target_group_arn: str, wanted: int) -> int:
        """Wait until ``wanted`` of the group's in-service instances (at most its desired capacity) are
        healthy in the target group; their number, or :class:`RefreshError` at the bound.

        The group waits for its load balancer only when it is created (``min_elb_capacity``): after a first
        deploy whose instances never became healthy, the next ``up`` merely updates the group, which does
        not wait, and finds it "on the version". This check is what fails that ``up`` again."""
        while True:
            groups = self._call("describe_auto_scaling_groups", AutoScalingGroupNames=[target.group])
            group = (groups.get("AutoScalingGroups") or [{}])[0]
            members = {i.get("InstanceId") for i in group.get("Instances") or [] if i.get("LifecycleState") == "InService"}
            need = min(wanted, int(group.get("DesiredCapacity") or 0))
            try:
                health = self.api.call(self.elbv2, "describe_target_health", TargetGroupArn=target_group_arn)
            except Exception as err:
                if error_code(err) not in DENIED_CODES:
                    raise
                self.api.log(f"{target.group}: cannot read the target group's health ({error_code(err)}: grant "
                             "elasticloadbalancing:DescribeTargetHealth): not checked")
                return -1
            ok = sum(1 for d in health.get("TargetHealthDescriptions") or []
                     if (d.get("Target") or {}).get("Id") in members
                     and (d.get("TargetHealth") or {}).get("State") == "healthy")
            if ok >= need:
                return ok
            if self.api.remaining() <= 0:
                raise RefreshError(
                    f"only {ok} of {need} instances of {target.group} (launch template version {target.version}) are "
                    f"healthy in the load balancer after {self.timeout:.0f} seconds: this version does not become "
                    "healthy. Fix it and run `pulumi up` again (a new version is rolled out by an instance refresh; "
                    "the same one is checked again)")
            self._pause()

    def on_version(self, target: RefreshTarget) -> bool:
        """True when the group's saved configuration (launch template version and mixed instances policy) and
        every instance already run the version."""
        groups = self._call("describe_auto_scaling_groups", AutoScalingGroupNames=[target.group])
        found = groups.get("AutoScalingGroups") or []
        if not found:
            raise RefreshError(
                f"Auto Scaling group {target.group} does not exist in the account and region this rollout calls "
                "(the stack's aws:region/aws:profile/aws:assumeRoles or static keys, else the environment). A "
                "component given an explicit AWS provider for another account still rolls out with the stack's "
                "settings: point them at the group's account")
        group = found[0]
        spec = _spec_of(group)
        if str(spec.get("Version")) != target.version or spec.get("LaunchTemplateId") != target.launch_template_id:
            return False
        # The group ignores its mixed instances policy in Pulumi: other instance types, another Spot share or
        # On-Demand base reach it only through a refresh's desired configuration, even on the same version.
        if not _same_policy(group.get("MixedInstancesPolicy"), target.mixed_instances_policy):
            return False
        # Instances in Standby or protected from scale in are left alone by the refresh (preferences): ignored here.
        return all(str((i.get("LaunchTemplate") or {}).get("Version")) == target.version
                   for i in group.get("Instances") or []
                   if i.get("LifecycleState") in ("InService", "Pending", "Pending:Wait", "Pending:Proceed")
                   and not i.get("ProtectedFromScaleIn"))

    def wait(self, refresh_id: str, target: RefreshTarget) -> dict[str, Any]:
        """Poll until the refresh ends; it when Successful, else :class:`RefreshError`."""
        while True:
            page = self._call("describe_instance_refreshes", AutoScalingGroupName=target.group,
                              InstanceRefreshIds=[refresh_id])
            refresh = (page.get("InstanceRefreshes") or [{}])[0]
            status = refresh.get("Status")
            if status == "Successful":
                return refresh
            if status in FAILED_STATUSES:
                raise RefreshError(self._failure(refresh_id, status, refresh, target))
            if self.api.remaining() <= 0:
                raise RefreshTimeout(
                    f"instance refresh {refresh_id} of {target.group} (launch template version {target.version}) is "
                    f"still {status} ({refresh.get('PercentageComplete', 0)} % done) after {self.timeout:.0f} "
                    "seconds. It keeps running in Auto Scaling, rolled back on its own if it fails or an alarm "
                    "fires; the next `pulumi up` waits for it. To abandon it: aws autoscaling "
                    f"rollback-instance-refresh --auto-scaling-group-name {target.group}")
            self._pause()

    @staticmethod
    def _failure(refresh_id: str, status: str, refresh: Mapping[str, Any], target: RefreshTarget) -> str:
        head = (f"instance refresh {refresh_id} of {target.group} to launch template version {target.version} "
                f"ended {status}: {_reason(refresh)}.")
        if status == "RollbackSuccessful":
            return (f"{head} Auto Scaling rolled the group back to its previous configuration: the previous version "
                    "keeps serving. Fix the version and run `pulumi up` again: it starts a new refresh.")
        if status == "RollbackFailed":
            return (f"{head} The rollback failed too: the group may run instances of both versions; see "
                    f"`aws autoscaling describe-instance-refreshes --auto-scaling-group-name {target.group}`. "
                    "The next `pulumi up` starts a new refresh to this version.")
        return (f"{head} The group's configuration was not changed (it is updated only when a refresh succeeds); "
                "instances already replaced keep running the new version until the next refresh. The next "
                "`pulumi up` starts a new refresh.")

    def refresh(self, target: RefreshTarget) -> dict[str, Any]:
        """Roll the group to ``target.version`` unless it runs it. Returns the outcome: ``status``
        ``current`` | ``succeeded``, ``refresh_id``; raises :class:`RefreshError` when the refresh fails."""
        while True:
            running = self.active(target)
            if running is not None:
                refresh_id = str(running["InstanceRefreshId"])
                if _targets(running, target):
                    self.api.log(f"{target.group}: waiting for instance refresh {refresh_id} to version "
                                 f"{target.version}, already in progress")
                    self.wait(refresh_id, target)
                    return self._outcome("succeeded", refresh_id)
                self.api.log(f"{target.group}: waiting for instance refresh {refresh_id} (another configuration) "
                             "to end first")
                try:
                    self.wait(refresh_id, target)
                except RefreshTimeout:
                    raise
                except RefreshError:
                    pass  # its own failure, rolled back by Auto Scaling: this version is rolled out next
                continue
            if self.on_version(target):
                return self._outcome("current", "")
            try:
                started = self._call("start_instance_refresh", AutoScalingGroupName=target.group, Strategy="Rolling",
                                     DesiredConfiguration=target.desired_configuration(),
                                     Preferences=self.watched(target).preferences())
            except Exception as err:
                if error_code(err) not in BUSY_CODES:
                    raise
                # A refresh (or another update) started between the check and the call: wait, then decide again.
                if self.api.remaining() <= 0:
                    raise RefreshTimeout(f"the group {target.group} stayed busy for {self.timeout:.0f} seconds: "
                                         f"{err}") from err
                self._pause()
                continue
            refresh_id = str(started["InstanceRefreshId"])
            self.api.log(f"{target.group}: instance refresh {refresh_id} to launch template version {target.version}")
            self.wait(refresh_id, target)
            return self._outcome("succeeded", refresh_id)

    def _outcome(self, status: str, refresh_id: str) -> dict[str, Any]:
        return {"status": status, "refresh_id": refresh_id}
