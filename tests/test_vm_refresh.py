"""The ``vm`` rollout provider against Auto Scaling's API, faked with botocore's Stubber.

GIVEN the answers AWS gives (a refresh that succeeds, one rolled back, one already running, throttling, one
that never ends, a group already on the version) / WHEN the provider rolls out / THEN the calls it makes,
what it returns (what Pulumi records) and the error that fails the ``up``.
"""

from __future__ import annotations

import base64
import pickletools
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import boto3
import dill
import pytest
from botocore.stub import Stubber

from components.vm import refresh as vr
from components.vm import refresher as vm_refresher
from components.vm.refresh import InstanceRefreshProvider
from components.vm.refresher import RefreshError, Refresher, RefreshTarget, RefreshTimeout
from tests.fake_clock import Clock

GROUP, LT = "inventory-asg-1a2b3c4", "lt-0123456789abcdef0"
ALARMS = ("inventory-5xx-rate-1", "inventory-unhealthy-2")
TARGET = RefreshTarget(group=GROUP, launch_template_id=LT, version="5", instance_warmup=300, alarms=ALARMS)
PROPS = {"group": GROUP, "launch_template_id": LT, "version": "5", "mixed_instances_policy": None,
         "instance_warmup": 300, "alarms": list(ALARMS), "timeout_seconds": 900, "region": "us-east-1",
         "profile": "", "assume_roles": []}


@pytest.fixture
def aws():
    client = boto3.client("autoscaling", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.activate()
    clock = Clock()
    refresher = Refresher(client, timeout=900, poll=15, sleep=clock.sleep, clock=clock, log=lambda message: None)
    yield refresher, stub, clock
    stub.deactivate()


def desired(version, lt=LT):
    return {"LaunchTemplate": {"LaunchTemplateId": lt, "Version": version}}


def refreshes(stub, *items):
    """DescribeInstanceRefreshes of the group, newest first: (id, status, version)."""
    stub.add_response("describe_instance_refreshes", {"InstanceRefreshes": [
        {"InstanceRefreshId": i, "AutoScalingGroupName": GROUP, "Status": status,
         "DesiredConfiguration": desired(version)} for i, status, version in items]},
        {"AutoScalingGroupName": GROUP, "MaxRecords": 100})


def group_on(stub, version, instances=None):
    """The group's saved launch template version, and its instances' (all on ``version`` by default)."""
    instances = [version, version] if instances is None else instances
    stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [{
        "AutoScalingGroupName": GROUP, "MinSize": 1, "MaxSize": 4, "DesiredCapacity": len(instances),
        "DefaultCooldown": 300, "AvailabilityZones": ["us-east-1a"], "HealthCheckType": "ELB",
        "CreatedTime": "2026-01-01T00:00:00Z",
        "LaunchTemplate": {"LaunchTemplateId": LT, "Version": version},
        "Instances": [{"InstanceId": f"i-{n:017d}", "AvailabilityZone": "us-east-1a", "LifecycleState": "InService",
                       "HealthStatus": "Healthy", "ProtectedFromScaleIn": False,
                       "LaunchTemplate": {"LaunchTemplateId": LT, "Version": v}} for n, v in enumerate(instances)]}]},
        {"AutoScalingGroupNames": [GROUP]})


def started(stub, refresh_id="r-NEW", target=TARGET):
    stub.add_response("start_instance_refresh", {"InstanceRefreshId": refresh_id},
                      {"AutoScalingGroupName": GROUP, "Strategy": "Rolling",
                       "DesiredConfiguration": target.desired_configuration(), "Preferences": target.preferences()})


def status(stub, refresh_id, value, reason="", **extra):
    item = {"InstanceRefreshId": refresh_id, "AutoScalingGroupName": GROUP, "Status": value, **extra}
    if reason:
        item["StatusReason"] = reason
    stub.add_response("describe_instance_refreshes", {"InstanceRefreshes": [item]},
                      {"AutoScalingGroupName": GROUP, "InstanceRefreshIds": [refresh_id]})


def throttled(stub, operation, code="Throttling", http=400):
    stub.add_client_error(operation, service_error_code=code, service_message="Rate exceeded", http_status_code=http)


# -- what is asked of AWS -------------------------------------------------------------------------
def test_the_refresh_targets_the_new_version_as_desired_configuration_launching_before_terminating():
    assert TARGET.desired_configuration() == {"LaunchTemplate": {"LaunchTemplateId": LT, "Version": "5"}}
    assert TARGET.preferences() == {
        "MinHealthyPercentage": 100, "MaxHealthyPercentage": 200, "InstanceWarmup": 300, "SkipMatching": True,
        "AutoRollback": True, "ScaleInProtectedInstances": "Ignore", "StandbyInstances": "Ignore",
        "AlarmSpecification": {"Alarms": list(ALARMS)}}


def test_standby_and_scale_in_protected_instances_are_ignored_explicitly_not_waited_for_an_hour():
    """The API defaults both to Wait (one hour, then the refresh fails and rolls back)."""
    prefs = TARGET.preferences()
    assert prefs["StandbyInstances"] == "Ignore" and prefs["ScaleInProtectedInstances"] == "Ignore"


def test_a_mixed_group_gets_its_whole_policy_with_the_new_version_as_desired_configuration():
    policy = {"LaunchTemplate": {"Overrides": [{"InstanceType": "m7g.large"}, {"InstanceType": "m6g.large"}]},
              "InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 50}}
    target = RefreshTarget(GROUP, LT, "5", mixed_instances_policy=policy)
    assert target.desired_configuration() == {"MixedInstancesPolicy": {
        "LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateId": LT, "Version": "5"},
                           "Overrides": [{"InstanceType": "m7g.large"}, {"InstanceType": "m6g.large"}]},
        "InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 50}}}
    assert "AlarmSpecification" not in target.preferences()


# -- success --------------------------------------------------------------------------------------
def test_a_new_version_starts_a_refresh_without_updating_the_group_and_waits_for_success(aws):
    refresher, stub, clock = aws
    refreshes(stub, ("r-OLD", "Successful", "4"))
    group_on(stub, "4")
    started(stub)
    status(stub, "r-NEW", "InProgress", PercentageComplete=50)
    status(stub, "r-NEW", "Successful")
    assert refresher.refresh(TARGET) == {"status": "succeeded", "refresh_id": "r-NEW"}
    stub.assert_no_pending_responses()  # no UpdateAutoScalingGroup: Stubber fails on any unstubbed call
    assert clock.sleeps == [15]


def test_nothing_is_done_when_the_group_and_its_instances_already_run_the_version(aws):
    refresher, stub, _ = aws
    refreshes(stub)
    group_on(stub, "5")
    assert refresher.refresh(TARGET) == {"status": "current", "refresh_id": ""}
    stub.assert_no_pending_responses()


def test_instances_left_on_the_old_version_are_refreshed_though_the_group_names_the_new_one(aws):
    refresher, stub, _ = aws
    refreshes(stub)
    group_on(stub, "5", instances=["5", "4"])
    started(stub)
    status(stub, "r-NEW", "Successful")
    assert refresher.refresh(TARGET)["status"] == "succeeded"


# -- failure paths --------------------------------------------------------------------------------
def test_a_refresh_rolled_back_fails_the_up_with_its_reason_and_the_old_version_keeps_serving(aws):
    refresher, stub, _ = aws
    refreshes(stub)
    group_on(stub, "4")
    started(stub)
    status(stub, "r-NEW", "RollbackInProgress")
    status(stub, "r-NEW", "RollbackSuccessful", reason="An alarm inventory-5xx-rate-1 is in ALARM state.",
           RollbackDetails={"RollbackReason": "Instance refresh failed and was rolled back automatically."})
    with pytest.raises(RefreshError) as info:
        refresher.refresh(TARGET)
    message = str(info.value)
    assert message.startswith(f"instance refresh r-NEW of {GROUP} to launch template version 5 ended "
                              "RollbackSuccessful: An alarm inventory-5xx-rate-1 is in ALARM state.")
    assert "previous version keeps serving" in message and "starts a new refresh" in message
    assert not isinstance(info.value, RefreshTimeout)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("final, fragment", [
    ("Failed", "The group's configuration was not changed"),
    ("Cancelled", "The group's configuration was not changed"),
    ("RollbackFailed", "The rollback failed too"),
])
def test_every_failed_end_of_a_refresh_fails_the_up_naming_its_status(aws, final, fragment):
    refresher, stub, _ = aws
    refreshes(stub)
    group_on(stub, "4")
    started(stub)
    status(stub, "r-NEW", final, reason="Instances failed to launch: InsufficientInstanceCapacity")
    with pytest.raises(RefreshError, match=f"ended {final}: Instances failed to launch") as info:
        refresher.refresh(TARGET)
    assert fragment in str(info.value)


def test_a_refresh_of_the_same_version_in_progress_is_waited_for_not_duplicated(aws):
    refresher, stub, _ = aws
    refreshes(stub, ("r-RUNNING", "InProgress", "5"))
    status(stub, "r-RUNNING", "InProgress")
    status(stub, "r-RUNNING", "Successful")
    # no start_instance_refresh stubbed: a second refresh would fail the test
    assert refresher.refresh(TARGET) == {"status": "succeeded", "refresh_id": "r-RUNNING"}
    stub.assert_no_pending_responses()


def test_a_running_refresh_is_found_on_a_later_page_of_the_history(aws):
    refresher, stub, _ = aws
    stub.add_response("describe_instance_refreshes", {"NextToken": "page-2", "InstanceRefreshes": [
        {"InstanceRefreshId": "r-OLD", "AutoScalingGroupName": GROUP, "Status": "Successful",
         "DesiredConfiguration": desired("4")}]}, {"AutoScalingGroupName": GROUP, "MaxRecords": 100})
    stub.add_response("describe_instance_refreshes", {"InstanceRefreshes": [
        {"InstanceRefreshId": "r-RUNNING", "AutoScalingGroupName": GROUP, "Status": "InProgress",
         "DesiredConfiguration": desired("5")}]}, {"AutoScalingGroupName": GROUP, "MaxRecords": 100,
                                                   "NextToken": "page-2"})
    status(stub, "r-RUNNING", "Successful")
    assert refresher.refresh(TARGET) == {"status": "succeeded", "refresh_id": "r-RUNNING"}
    stub.assert_no_pending_responses()


def test_a_mixed_group_already_on_the_version_is_current(aws):
    refresher, stub, _ = aws
    refreshes(stub)
    stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [{
        "AutoScalingGroupName": GROUP, "MinSize": 1, "MaxSize": 4, "DesiredCapacity": 1, "DefaultCooldown": 300,
        "AvailabilityZones": ["us-east-1a"], "HealthCheckType": "ELB", "CreatedTime": "2026-01-01T00:00:00Z",
        "MixedInstancesPolicy": {"LaunchTemplate": {"LaunchTemplateSpecification": {
            "LaunchTemplateId": LT, "Version": "5"}, "Overrides": [{"InstanceType": "t4g.small"}]}},
        "Instances": [{"InstanceId": "i-00000000000000001", "AvailabilityZone": "us-east-1a",
                       "LifecycleState": "InService", "HealthStatus": "Healthy", "ProtectedFromScaleIn": False,
                       "InstanceType": "t4g.small", "LaunchTemplate": {"LaunchTemplateId": LT, "Version": "5"}}]}]},
        {"AutoScalingGroupNames": [GROUP]})
    target = RefreshTarget(GROUP, LT, "5", mixed_instances_policy={
        "LaunchTemplate": {"Overrides": [{"InstanceType": "t4g.small"}]}})
    assert refresher.refresh(target)["status"] == "current"


def test_a_refresh_of_another_version_in_progress_ends_before_this_one_starts(aws):
    refresher, stub, _ = aws
    refreshes(stub, ("r-OTHER", "InProgress", "3"))
    status(stub, "r-OTHER", "RollbackSuccessful", reason="its own alarm")
    refreshes(stub, ("r-OTHER", "RollbackSuccessful", "3"))
    group_on(stub, "4")
    started(stub)
    status(stub, "r-NEW", "Successful")
    assert refresher.refresh(TARGET)["refresh_id"] == "r-NEW"
    stub.assert_no_pending_responses()


def test_a_refresh_started_by_someone_else_between_check_and_start_is_waited_for(aws):
    refresher, stub, clock = aws
    refreshes(stub)
    group_on(stub, "4")
    stub.add_client_error("start_instance_refresh", service_error_code="InstanceRefreshInProgress",
                          service_message="An Instance Refresh is already in progress")
    refreshes(stub, ("r-X", "InProgress", "4"))
    status(stub, "r-X", "Successful")
    refreshes(stub, ("r-X", "Successful", "4"))
    group_on(stub, "4")
    started(stub)
    status(stub, "r-NEW", "Successful")
    assert refresher.refresh(TARGET)["refresh_id"] == "r-NEW"
    stub.assert_no_pending_responses()
    assert clock.sleeps == [15]


def test_throttled_and_5xx_answers_are_retried_with_backoff_then_succeed(aws):
    refresher, stub, clock = aws
    throttled(stub, "describe_instance_refreshes")
    throttled(stub, "describe_instance_refreshes", code="InternalFailure", http=500)
    refreshes(stub)
    throttled(stub, "describe_auto_scaling_groups", code="ResourceContention", http=500)
    group_on(stub, "4")
    started(stub)
    throttled(stub, "describe_instance_refreshes")
    status(stub, "r-NEW", "Successful")
    assert refresher.refresh(TARGET)["status"] == "succeeded"
    assert clock.sleeps == [1, 2, 1, 1]
    stub.assert_no_pending_responses()


def test_other_api_errors_fail_at_once_without_retry(aws):
    refresher, stub, clock = aws
    refreshes(stub)
    group_on(stub, "4")
    stub.add_client_error("start_instance_refresh", service_error_code="ValidationError",
                          service_message="The desired configuration is not valid")
    with pytest.raises(Exception, match="desired configuration is not valid"):
        refresher.refresh(TARGET)
    assert clock.sleeps == []


def test_throttling_that_never_stops_gives_up_at_the_bound(aws):
    refresher, stub, clock = aws
    for _ in range(60):
        throttled(stub, "describe_instance_refreshes")
    with pytest.raises(RefreshTimeout, match="Throttling until the 900-second bound"):
        refresher.refresh(TARGET)
    assert clock.now == pytest.approx(900)


def test_a_refresh_that_outlives_the_timeout_fails_the_up_naming_it_and_keeps_running(aws):
    refresher, stub, clock = aws
    refreshes(stub)
    group_on(stub, "4")
    started(stub)
    for _ in range(61):
        status(stub, "r-NEW", "InProgress", PercentageComplete=40)
    with pytest.raises(RefreshTimeout) as info:
        refresher.refresh(TARGET)
    message = str(info.value)
    assert f"instance refresh r-NEW of {GROUP} (launch template version 5) is still InProgress (40 % done) " \
           "after 900 seconds" in message
    assert "next `pulumi up` waits for it" in message and "rollback-instance-refresh" in message
    assert clock.now == pytest.approx(900)


def test_a_missing_group_fails_with_its_name(aws):
    refresher, stub, _ = aws
    refreshes(stub)
    stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"AutoScalingGroupNames": [GROUP]})
    with pytest.raises(RefreshError, match=f"Auto Scaling group {GROUP} does not exist") as info:
        refresher.refresh(TARGET)
    assert "explicit AWS provider for another account still rolls out with the stack's settings" in str(info.value)


# -- the provider as Pulumi calls it ----------------------------------------------------------------
def _patch_aws(monkeypatch, refresher, clock):
    monkeypatch.setattr(vr, "_client", lambda props: refresher.autoscaling)
    monkeypatch.setattr(vr, "_cloudwatch", lambda props: None)
    monkeypatch.setattr(vr, "_elbv2", lambda props: None)
    monkeypatch.setattr(vm_refresher, "time", SimpleNamespace(sleep=clock.sleep, monotonic=clock))


def test_a_failed_rollout_fails_one_up_and_the_next_up_starts_a_fresh_refresh(monkeypatch, aws):
    """What Pulumi does: a failed update keeps the old inputs (version 4) in the state, so the next `up`
    calls update(4 -> 5) again. The first refresh is rolled back (the group stays on 4); the second call
    finds no refresh running and the group on 4, and starts a new refresh, which succeeds."""
    refresher, stub, clock = aws
    _patch_aws(monkeypatch, refresher, clock)
    state = {**PROPS, "version": "4", "status": "current", "refresh_id": ""}
    provider = InstanceRefreshProvider()
    assert provider.diff(GROUP, state, dict(PROPS)).changes is True
    # up 1: the new instances fail their health checks, Auto Scaling rolls back to version 4
    refreshes(stub)
    group_on(stub, "4")
    started(stub, "r-FIRST")
    status(stub, "r-FIRST", "RollbackSuccessful", reason="Instance refresh failed: instances failed health checks")
    with pytest.raises(RefreshError, match="r-FIRST .* ended RollbackSuccessful: Instance refresh failed"):
        provider.update(GROUP, state, dict(PROPS))
    stub.assert_no_pending_responses()
    # up 2: the state still says version 4, so Pulumi calls update again: a fresh refresh
    assert provider.diff(GROUP, state, dict(PROPS)).changes is True
    refreshes(stub, ("r-FIRST", "RollbackSuccessful", "5"))
    group_on(stub, "4")
    started(stub, "r-SECOND")
    status(stub, "r-SECOND", "Successful")
    outs = provider.update(GROUP, state, dict(PROPS)).outs
    assert (outs["status"], outs["refresh_id"], outs["version"]) == ("succeeded", "r-SECOND", "5")
    stub.assert_no_pending_responses()
    # up 3: state and program agree: nothing to roll out
    assert provider.diff(GROUP, outs, dict(PROPS)).changes is False


def test_after_a_timeout_the_next_up_waits_for_the_same_refresh_instead_of_starting_another(monkeypatch, aws):
    refresher, stub, clock = aws
    _patch_aws(monkeypatch, refresher, clock)
    state = {**PROPS, "version": "4", "status": "current", "refresh_id": ""}
    refreshes(stub, ("r-SLOW", "InProgress", "5"))
    status(stub, "r-SLOW", "Successful")
    outs = InstanceRefreshProvider().update(GROUP, state, dict(PROPS)).outs
    assert (outs["status"], outs["refresh_id"]) == ("succeeded", "r-SLOW")
    stub.assert_no_pending_responses()


def test_the_first_deploy_finds_the_new_group_on_the_version_and_does_nothing(monkeypatch, aws):
    refresher, stub, clock = aws
    _patch_aws(monkeypatch, refresher, clock)
    refreshes(stub)
    group_on(stub, "5")
    created = InstanceRefreshProvider().create(dict(PROPS))
    assert created.id == GROUP and created.outs["status"] == "current"


def test_a_change_of_preferences_or_credentials_only_rolls_out_nothing(monkeypatch):
    monkeypatch.setattr(vr, "run_refresh", lambda *a, **k: pytest.fail("must not roll out"))
    olds = {**PROPS, "status": "succeeded", "refresh_id": "r-1"}
    provider = InstanceRefreshProvider()
    news = {**PROPS, "alarms": ["other"], "timeout_seconds": 1800, "profile": "ops"}
    assert provider.diff(GROUP, olds, news).changes is True
    outs = provider.update(GROUP, olds, news).outs
    assert outs["status"] == "succeeded" and outs["refresh_id"] == "r-1" and outs["profile"] == "ops"
    assert provider.diff(GROUP, olds, {**PROPS, "version": "6"}).replaces == []


def test_static_keys_are_used_but_never_returned_as_outputs(monkeypatch, aws):
    refresher, stub, clock = aws
    refreshes(stub)
    group_on(stub, "5")
    keys = {"access_key": "AKIASTACKCONFIGSTACK", "secret_key": "s", "token": "t"}
    outs = vr.run_refresh({**PROPS, **keys}, client=lambda props: refresher.autoscaling, sleep=clock.sleep,
                          clock=clock, log=lambda m: None)
    assert outs["status"] == "current" and not set(keys) & set(outs)


def test_the_client_signs_with_the_stacks_static_keys_in_its_region(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTENVIR")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env")
    client = vr._client({"region": "eu-west-1", "profile": "", "assume_roles": [],
                         "access_key": "AKIASTACKCONFIGSTACK", "secret_key": "s", "token": "t"})
    assert client.meta.region_name == "eu-west-1"
    assert client._request_signer._credentials.access_key == "AKIASTACKCONFIGSTACK"


def test_provider_pickles_by_reference_to_its_module_as_pulumi_stores_it():
    from pulumi.dynamic.dynamic import serialize_provider

    blob = serialize_provider(InstanceRefreshProvider())
    assert blob == serialize_provider(InstanceRefreshProvider())  # same state on every run: no diff
    raw = base64.b64decode(blob)
    assert isinstance(dill.loads(raw), InstanceRefreshProvider)
    # By reference (no closure, no captured Output): a team's program imports it from the installed library.
    strings = [arg for op, arg, _ in pickletools.genops(raw) if op.name == "SHORT_BINUNICODE"]
    assert strings == ["components.vm.refresh", "InstanceRefreshProvider"] and len(raw) < 200


#: The provider as state written before the pattern became a package stores it: by reference to
#: ``components.vm_refresh`` (``serialize_provider`` of that version, verbatim).
EARLIER_PROVIDER = "gASVOAAAAAAAAACMFWNvbXBvbmVudHMudm1fcmVmcmVzaJSMF0luc3RhbmNlUmVmcmVzaFByb3ZpZGVylJOUKYGULg=="


def test_state_written_by_earlier_versions_still_loads_the_provider():
    """``pulumi up``, ``refresh`` and ``destroy`` load the provider from the state's ``__provider`` (delete uses
    the old one): the ``components.vm_refresh`` alias keeps those stacks working."""
    from pulumi.dynamic.dynamic import serialize_provider

    import components.vm_refresh as alias

    raw = base64.b64decode(EARLIER_PROVIDER)
    assert b"components.vm_refresh" in raw
    assert type(dill.loads(raw)) is InstanceRefreshProvider is alias.InstanceRefreshProvider
    assert alias.InstanceRefresh is vr.InstanceRefresh
    assert serialize_provider(InstanceRefreshProvider()) != EARLIER_PROVIDER  # the module moved


def test_a_provider_moved_to_another_module_is_no_change_to_roll_out(monkeypatch):
    """The first ``up`` after the move sees a new ``__provider`` and the same inputs: no diff, no refresh."""
    from pulumi.dynamic.dynamic import serialize_provider

    monkeypatch.setattr(vr, "run_refresh", lambda *a, **k: pytest.fail("must not roll out"))
    olds = {**PROPS, "status": "current", "refresh_id": "", "__provider": EARLIER_PROVIDER}
    news = {**PROPS, "__provider": serialize_provider(InstanceRefreshProvider())}
    assert olds["__provider"] != news["__provider"]
    assert InstanceRefreshProvider().diff(GROUP, olds, news).changes is False


# -- a mixed instances policy that changes on the same launch template version ------------------------
POLICY = {"LaunchTemplate": {"Overrides": [{"InstanceType": "m7g.large"}, {"InstanceType": "m6g.large"}]},
          "InstancesDistribution": {"OnDemandBaseCapacity": 0, "OnDemandPercentageAboveBaseCapacity": 100,
                                    "OnDemandAllocationStrategy": "prioritized",
                                    "SpotAllocationStrategy": "price-capacity-optimized"}}


def mixed_group_on(stub, version, policy):
    """A mixed group whose saved policy is ``policy`` (on ``version``), its one instance on that version."""
    saved = {"LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateId": LT, "Version": version},
                                "Overrides": policy["LaunchTemplate"]["Overrides"]},
             "InstancesDistribution": policy["InstancesDistribution"]}
    stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [{
        "AutoScalingGroupName": GROUP, "MinSize": 1, "MaxSize": 4, "DesiredCapacity": 1, "DefaultCooldown": 300,
        "AvailabilityZones": ["us-east-1a"], "HealthCheckType": "ELB", "CreatedTime": "2026-01-01T00:00:00Z",
        "MixedInstancesPolicy": saved,
        "Instances": [{"InstanceId": "i-00000000000000001", "AvailabilityZone": "us-east-1a",
                       "LifecycleState": "InService", "HealthStatus": "Healthy", "ProtectedFromScaleIn": False,
                       "InstanceType": "m7g.large", "LaunchTemplate": {"LaunchTemplateId": LT, "Version": version}}]}]},
        {"AutoScalingGroupNames": [GROUP]})


@pytest.mark.parametrize("change", [
    {"LaunchTemplate": {"Overrides": [{"InstanceType": "m7g.large"}, {"InstanceType": "c7g.large"}]}},
    {"InstancesDistribution": {**POLICY["InstancesDistribution"], "OnDemandPercentageAboveBaseCapacity": 50}},
    {"InstancesDistribution": {**POLICY["InstancesDistribution"], "OnDemandBaseCapacity": 1}},
])
def test_other_instance_types_or_spot_share_on_the_same_version_are_rolled_out_not_called_current(aws, change):
    """The launch template names only the first type, so a second type or the Spot share changes no
    version; the group ignores its policy in Pulumi, so the refresh is the only way it reaches AWS."""
    refresher, stub, _ = aws
    target = RefreshTarget(GROUP, LT, "5", mixed_instances_policy={**POLICY, **change}, instance_warmup=300,
                           alarms=ALARMS)
    refreshes(stub)
    mixed_group_on(stub, "5", POLICY)
    started(stub, target=target)
    status(stub, "r-NEW", "Successful")
    assert refresher.refresh(target) == {"status": "succeeded", "refresh_id": "r-NEW"}
    stub.assert_no_pending_responses()


def test_a_mixed_group_with_the_same_policy_and_version_is_current(aws):
    refresher, stub, _ = aws
    target = RefreshTarget(GROUP, LT, "5", mixed_instances_policy=POLICY)
    refreshes(stub)
    mixed_group_on(stub, "5", POLICY)
    assert refresher.refresh(target)["status"] == "current"


def test_a_group_leaving_its_mixed_policy_for_one_type_is_refreshed(aws):
    refresher, stub, _ = aws
    refreshes(stub)
    mixed_group_on(stub, "5", POLICY)
    started(stub)
    status(stub, "r-NEW", "Successful")
    assert refresher.refresh(TARGET)["status"] == "succeeded"


# -- alarms already in ALARM when the refresh starts --------------------------------------------------
def test_alarms_already_in_alarm_are_left_out_of_the_refresh_so_a_fix_can_roll_out(aws):
    """The 5xx alarm fires because of the serving version: it must not stop (or silently not guard) the
    refresh of its fix; the refresh watches the alarms still OK, and its health checks."""
    refresher, stub, clock = aws
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
    logged: list[str] = []
    refresher = Refresher(refresher.autoscaling, timeout=900, poll=15, sleep=clock.sleep, clock=clock,
                          log=logged.append, cloudwatch=cloudwatch)
    with Stubber(cloudwatch) as cw:
        cw.add_response("describe_alarms", {"MetricAlarms": [
            {"AlarmName": "inventory-5xx-rate-1", "StateValue": "ALARM"},
            {"AlarmName": "inventory-unhealthy-2", "StateValue": "OK"}]},
            {"AlarmNames": list(ALARMS)})
        refreshes(stub)
        group_on(stub, "4")
        watched = RefreshTarget(GROUP, LT, "5", instance_warmup=300, alarms=("inventory-unhealthy-2",))
        stub.add_response("start_instance_refresh", {"InstanceRefreshId": "r-NEW"},
                          {"AutoScalingGroupName": GROUP, "Strategy": "Rolling",
                           "DesiredConfiguration": TARGET.desired_configuration(),
                           "Preferences": watched.preferences()})
        status(stub, "r-NEW", "Successful")
        assert refresher.refresh(TARGET)["status"] == "succeeded"
        cw.assert_no_pending_responses()
    stub.assert_no_pending_responses()
    assert any("inventory-5xx-rate-1" in line and "not watched" in line for line in logged)


def test_with_every_alarm_in_alarm_the_refresh_is_gated_by_health_checks_only(aws):
    refresher, stub, clock = aws
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
    refresher = Refresher(refresher.autoscaling, timeout=900, poll=15, sleep=clock.sleep, clock=clock,
                          log=lambda m: None, cloudwatch=cloudwatch)
    with Stubber(cloudwatch) as cw:
        cw.add_response("describe_alarms", {"MetricAlarms": [{"AlarmName": a, "StateValue": "ALARM"}
                                                             for a in ALARMS]}, {"AlarmNames": list(ALARMS)})
        refreshes(stub)
        group_on(stub, "4")
        started(stub, target=RefreshTarget(GROUP, LT, "5", instance_warmup=300))
        status(stub, "r-NEW", "Successful")
        assert refresher.refresh(TARGET)["status"] == "succeeded"
    assert "AlarmSpecification" not in RefreshTarget(GROUP, LT, "5").preferences()


# -- the first deploy: a group "on the version" must also be healthy -----------------------------------
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/inventory/0123456789abcdef"


def target_health(elb, *states):
    elb.add_response("describe_target_health", {"TargetHealthDescriptions": [
        {"Target": {"Id": f"i-{n:017d}", "Port": 8080}, "TargetHealth": {"State": state}}
        for n, state in enumerate(states)]}, {"TargetGroupArn": TG})


def _first_deploy(aws, health_answers):
    refresher, stub, clock = aws
    elbv2 = boto3.client("elbv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    props = {**PROPS, "target_group_arn": TG, "min_healthy": 2}
    with Stubber(elbv2) as elb:
        refreshes(stub)
        group_on(stub, "5")
        for states in health_answers:
            group_on(stub, "5")
            target_health(elb, *states)
        try:
            return vr.run_refresh(props, client=lambda p: refresher.autoscaling, first=True, elbv2=elbv2,
                                  sleep=clock.sleep, clock=clock, log=lambda m: None)
        finally:
            elb.assert_no_pending_responses()


def test_a_first_deploy_retried_after_unhealthy_instances_fails_again_instead_of_calling_them_current(aws):
    """After a failed first deploy the next `up` only updates the group (min_elb_capacity waits on creation
    only) and the rollout is created against a group already on the version: it must not pass as is."""
    _, _, clock = aws
    answers = [("unhealthy", "unhealthy")] * 61
    with pytest.raises(RefreshError, match="only 0 of 2 instances .* healthy in the load balancer after 900 seconds"):
        _first_deploy(aws, answers)
    assert clock.now == pytest.approx(900)


def test_a_first_deploy_on_a_healthy_group_is_current_at_once(aws):
    outs = _first_deploy(aws, [("healthy", "healthy")])
    assert outs["status"] == "current"


def test_an_update_finding_the_group_on_the_version_does_not_check_target_health(aws):
    refresher, stub, clock = aws
    refreshes(stub)
    group_on(stub, "5")
    outs = vr.run_refresh({**PROPS, "target_group_arn": TG, "min_healthy": 2}, client=lambda p: refresher.autoscaling,
                          sleep=clock.sleep, clock=clock, log=lambda m: None)
    assert outs["status"] == "current"
    stub.assert_no_pending_responses()


def test_a_deploy_role_without_the_read_permissions_of_the_checks_still_rolls_out(aws):
    """cloudwatch:DescribeAlarms and elasticloadbalancing:DescribeTargetHealth are new to the deploy role:
    without them the checks are logged and skipped, not fatal."""
    refresher, stub, clock = aws
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
    logged: list[str] = []
    refresher = Refresher(refresher.autoscaling, timeout=900, poll=15, sleep=clock.sleep, clock=clock,
                          log=logged.append, cloudwatch=cloudwatch)
    with Stubber(cloudwatch) as cw:
        cw.add_client_error("describe_alarms", service_error_code="AccessDenied", http_status_code=403)
        refreshes(stub)
        group_on(stub, "4")
        started(stub)
        status(stub, "r-NEW", "Successful")
        assert refresher.refresh(TARGET)["status"] == "succeeded"
    assert any("cloudwatch:DescribeAlarms" in line for line in logged)
    elbv2 = boto3.client("elbv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    refresher.elbv2 = elbv2
    with Stubber(elbv2) as elb:
        group_on(stub, "5")
        elb.add_client_error("describe_target_health", service_error_code="AccessDenied", http_status_code=403)
        assert refresher.healthy(TARGET, TG, 2) == -1
    assert any("DescribeTargetHealth" in line for line in logged)


def test_loading_the_provider_does_not_load_the_component_or_pulumi_aws():
    """The dynamic provider's process unpickles ``components.vm.refresh`` (or its alias) for every call: the
    package's lazy exports keep that to boto3, without ``pulumi_aws`` and the component."""
    code = ("import sys, components.vm_refresh, components.vm.refresh; "
            "print(sorted(m for m in ('pulumi_aws', 'components.vm.component') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"
