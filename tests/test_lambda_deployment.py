"""The CodeDeploy deployment provider against CodeDeploy's and Lambda's APIs, faked with botocore's Stubber.

GIVEN the answers AWS gives (a failed canary, a deployment already running, throttling, a deployment that
never ends, a version that failed before) / WHEN the provider deploys / THEN the calls it makes, what it
returns (what Pulumi records) and the error that fails the ``up``.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import boto3
import dill
import pytest
from botocore.stub import ANY, Stubber

from components.serverless import deployment as dp
from components.serverless.deployment import (
    DeployTarget,
    Deployer,
    DeploymentError,
    DeploymentTimeout,
    LambdaDeploymentProvider,
    marker,
)
from tests.fake_clock import Clock

APP, GROUP, FN = "orders-deploy-1234567", "orders", "orders-fn-1234567"
TARGET = DeployTarget(application=APP, group=GROUP, function=FN, alias="live", version="5")
PROPS = {"application": APP, "group": GROUP, "function": FN, "alias": "live", "version": "5", "redeploy": "",
         "pre_traffic_hook": "", "region": "us-east-1", "profile": "", "assume_roles": [], "timeout_seconds": 1200}


@pytest.fixture
def aws():
    codedeploy = boto3.client("codedeploy", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    lambda_ = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    cd, lm = Stubber(codedeploy), Stubber(lambda_)
    cd.activate()
    lm.activate()
    clock = Clock()
    deployer = Deployer(codedeploy, lambda_, timeout=1200, poll=15, sleep=clock.sleep, clock=clock,
                        log=lambda message: None)
    yield deployer, cd, lm, clock
    cd.deactivate()
    lm.deactivate()


def no_active(cd):
    cd.add_response("list_deployments", {"deployments": []},
                    {"applicationName": APP, "deploymentGroupName": GROUP, "includeOnlyStatuses": dp.ACTIVE_STATUSES})


def active(cd, deployment_id, description):
    cd.add_response("list_deployments", {"deployments": [deployment_id]},
                    {"applicationName": APP, "deploymentGroupName": GROUP, "includeOnlyStatuses": dp.ACTIVE_STATUSES})
    cd.add_response("batch_get_deployments", {"deploymentsInfo": [
        {"deploymentId": deployment_id, "status": "InProgress", "description": description}]},
        {"deploymentIds": [deployment_id]})


def history(cd, *failed):
    """CodeDeploy's failed and stopped deployments of the group: (id, description, reason)."""
    cd.add_response("list_deployments", {"deployments": [f[0] for f in failed]},
                    {"applicationName": APP, "deploymentGroupName": GROUP, "includeOnlyStatuses": dp.FAILED_STATUSES})
    if failed:
        cd.add_response("batch_get_deployments", {"deploymentsInfo": [
            {"deploymentId": i, "status": "Failed", "description": d,
             "errorInformation": {"code": "ALARM_ACTIVE", "message": reason}} for i, d, reason in failed]},
            {"deploymentIds": [f[0] for f in failed]})


def alias_on(lm, version):
    lm.add_response("get_alias", {"FunctionVersion": version, "Name": "live"}, {"FunctionName": FN, "Name": "live"})


def created(cd, deployment_id="d-NEW"):
    cd.add_response("create_deployment", {"deploymentId": deployment_id},
                    {"applicationName": APP, "deploymentGroupName": GROUP, "description": marker(TARGET),
                     "revision": ANY})


def status(cd, deployment_id, value, **extra):
    cd.add_response("get_deployment", {"deploymentInfo": {"deploymentId": deployment_id, "status": value, **extra}},
                    {"deploymentId": deployment_id})


def throttled(stubber, operation, code="ThrottlingException", http=400):
    stubber.add_client_error(operation, service_error_code=code, service_message="Rate exceeded",
                             http_status_code=http)


# -- the happy path -------------------------------------------------------------------------------
def test_deploys_the_target_version_from_the_alias_current_one_and_waits_for_success(aws):
    deployer, cd, lm, clock = aws
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    created(cd)
    status(cd, "d-NEW", "InProgress")
    status(cd, "d-NEW", "Succeeded")
    outcome = deployer.deploy(TARGET)
    assert outcome == {"status": "succeeded", "live_version": "5", "deployment_id": "d-NEW", "reason": ""}
    cd.assert_no_pending_responses()
    assert clock.sleeps == [15]


def test_appspec_moves_the_alias_from_current_to_target_with_the_optional_hook():
    spec = json.loads(dp.appspec(DeployTarget(APP, GROUP, FN, "live", "5", "", "CodeDeployHook_orders"), "4"))
    assert spec["Resources"] == [{FN: {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": FN, "Alias": "live", "CurrentVersion": "4", "TargetVersion": "5"}}}]
    assert spec["Hooks"] == [{"BeforeAllowTraffic": "CodeDeployHook_orders"}]
    assert "Hooks" not in json.loads(dp.appspec(TARGET, "4"))


def test_nothing_is_deployed_when_the_alias_already_serves_the_version(aws):
    deployer, cd, lm, _ = aws
    no_active(cd)
    alias_on(lm, "5")
    assert deployer.deploy(TARGET)["status"] == "current"
    cd.assert_no_pending_responses()


# -- failure paths --------------------------------------------------------------------------------
def test_failed_canary_fails_the_up_with_codedeploys_reason(aws):
    deployer, cd, lm, _ = aws
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    created(cd)
    status(cd, "d-NEW", "Failed", errorInformation={
        "code": "ALARM_ACTIVE", "message": "One or more alarms have been activated: orders-errors-abc"},
        rollbackInfo={"rollbackMessage": "Automatic rollback triggered by alarm"})
    with pytest.raises(DeploymentError) as info:
        deployer.deploy(TARGET)
    message = str(info.value)
    assert "d-NEW failed" in message and "orders-errors-abc" in message and "Automatic rollback" in message
    assert "previous version" in message


def test_a_version_that_failed_is_recorded_as_failed_and_not_deployed_again(aws):
    """The ``up`` after a failed canary: Pulumi calls the provider again with the same version (the failed
    update left the old inputs in the state). No deployment is created; the outcome is recorded."""
    deployer, cd, lm, _ = aws
    no_active(cd)
    alias_on(lm, "4")
    history(cd, ("d-OTHER", marker(DeployTarget(APP, GROUP, FN, "live", "3")), "old"),
            ("d-FAILED", marker(TARGET), "One or more alarms have been activated"))
    outcome = deployer.deploy(TARGET)  # no create_deployment stubbed: Stubber would fail on one
    assert outcome["status"] == "failed_before" and outcome["deployment_id"] == "d-FAILED"
    assert outcome["live_version"] == "4" and "alarms have been activated" in outcome["reason"]
    cd.assert_no_pending_responses()


def test_a_new_redeploy_token_deploys_a_failed_version_again(aws):
    deployer, cd, lm, _ = aws
    again = DeployTarget(APP, GROUP, FN, "live", "5", redeploy="try-2")
    no_active(cd)
    alias_on(lm, "4")
    history(cd, ("d-FAILED", marker(TARGET), "alarm"))
    cd.add_response("create_deployment", {"deploymentId": "d-AGAIN"},
                    {"applicationName": APP, "deploymentGroupName": GROUP, "description": marker(again),
                     "revision": ANY})
    status(cd, "d-AGAIN", "Succeeded")
    assert deployer.deploy(again)["deployment_id"] == "d-AGAIN"


def test_a_deployment_of_the_same_version_in_progress_is_waited_for_not_duplicated(aws):
    deployer, cd, lm, _ = aws
    active(cd, "d-RUNNING", marker(TARGET))
    status(cd, "d-RUNNING", "InProgress")
    status(cd, "d-RUNNING", "Succeeded")
    outcome = deployer.deploy(TARGET)  # no create_deployment stubbed
    assert outcome == {"status": "succeeded", "live_version": "5", "deployment_id": "d-RUNNING", "reason": ""}
    cd.assert_no_pending_responses()


def test_a_deployment_of_another_version_in_progress_ends_before_this_one_starts(aws):
    deployer, cd, lm, _ = aws
    active(cd, "d-OLDER", "deployed by hand")
    status(cd, "d-OLDER", "InProgress")
    status(cd, "d-OLDER", "Failed", errorInformation={"code": "ALARM_ACTIVE", "message": "older failed"})
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    created(cd)
    status(cd, "d-NEW", "Succeeded")
    assert deployer.deploy(TARGET)["deployment_id"] == "d-NEW"
    cd.assert_no_pending_responses()


def test_a_deployment_started_by_someone_else_between_check_and_create_is_waited_for(aws):
    deployer, cd, lm, _ = aws
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    cd.add_client_error("create_deployment", service_error_code="DeploymentLimitExceededException",
                        service_message="The Deployment Group 'orders' already has an active Deployment 'd-X'")
    active(cd, "d-X", "someone")
    status(cd, "d-X", "Succeeded")
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    created(cd)
    status(cd, "d-NEW", "Succeeded")
    assert deployer.deploy(TARGET)["deployment_id"] == "d-NEW"
    cd.assert_no_pending_responses()


def test_throttled_and_5xx_answers_are_retried_with_backoff_then_succeed(aws):
    deployer, cd, lm, clock = aws
    throttled(cd, "list_deployments")
    throttled(cd, "list_deployments", code="InternalFailure", http=500)
    no_active(cd)
    throttled(lm, "get_alias", code="TooManyRequestsException", http=429)
    alias_on(lm, "4")
    history(cd)
    created(cd)
    throttled(cd, "get_deployment")
    status(cd, "d-NEW", "Succeeded")
    assert deployer.deploy(TARGET)["status"] == "succeeded"
    assert clock.sleeps == [1, 2, 1, 1]
    cd.assert_no_pending_responses()


def test_other_api_errors_fail_at_once_without_retry(aws):
    deployer, cd, lm, clock = aws
    cd.add_client_error("list_deployments", service_error_code="DeploymentGroupDoesNotExistException",
                        service_message="no such group")
    with pytest.raises(Exception, match="no such group"):
        deployer.deploy(TARGET)
    assert clock.sleeps == []


def test_throttling_that_never_stops_gives_up_at_the_bound(aws):
    deployer, cd, lm, clock = aws
    for _ in range(60):
        throttled(cd, "list_deployments")
    with pytest.raises(DeploymentTimeout, match="ThrottlingException until the 1200-second bound"):
        deployer.deploy(TARGET)
    assert clock.now == pytest.approx(1200)


def test_a_deployment_that_never_ends_fails_the_up_at_the_bound_and_keeps_running(aws):
    deployer, cd, lm, clock = aws
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    created(cd)
    for _ in range(81):
        status(cd, "d-NEW", "InProgress")
    with pytest.raises(DeploymentTimeout) as info:
        deployer.deploy(TARGET)
    assert "still InProgress after 1200 seconds" in str(info.value)
    assert "next `pulumi up` waits for it" in str(info.value)
    assert clock.now == pytest.approx(1200)


# -- the provider as Pulumi calls it ----------------------------------------------------------------
def test_provider_create_and_update_record_the_outcome_in_outputs(monkeypatch):
    calls = []

    def fake_run(props, clients=None, **kwargs):
        calls.append(props["version"])
        return {**props, "status": "failed_before", "live_version": "4", "deployment_id": "d-F", "reason": "alarm"}

    monkeypatch.setattr(dp, "run_deployment", fake_run)
    provider = LambdaDeploymentProvider()
    created_ = provider.create(dict(PROPS))
    assert created_.id == f"{APP}/{GROUP}" and created_.outs["status"] == "failed_before"
    updated = provider.update(created_.id, created_.outs, {**PROPS, "version": "6"})
    assert updated.outs["version"] == "6" and calls == ["5", "6"]


def test_provider_diff_deploys_on_a_new_version_or_token_only():
    provider = LambdaDeploymentProvider()
    olds = {**PROPS, "status": "succeeded"}
    assert provider.diff("id", olds, dict(PROPS)).changes is False
    assert provider.diff("id", olds, {**PROPS, "version": "6"}).changes is True
    assert provider.diff("id", olds, {**PROPS, "redeploy": "again"}).changes is True
    assert provider.diff("id", olds, {**PROPS, "version": "6"}).replaces == []


def test_provider_update_that_changes_only_credentials_deploys_nothing(monkeypatch):
    monkeypatch.setattr(dp, "run_deployment", lambda *a, **k: pytest.fail("must not deploy"))
    olds = {**PROPS, "status": "succeeded", "live_version": "5", "deployment_id": "d-1", "reason": ""}
    outs = LambdaDeploymentProvider().update("id", olds, {**PROPS, "profile": "other"}).outs
    assert outs["status"] == "succeeded" and outs["profile"] == "other"


def test_provider_runs_the_stubbed_deployment_end_to_end(monkeypatch, aws):
    deployer, cd, lm, clock = aws
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    created(cd)
    status(cd, "d-NEW", "Succeeded")
    outs = dp.run_deployment(dict(PROPS), clients=lambda props: (deployer.codedeploy, deployer.lambda_),
                             sleep=clock.sleep, clock=clock, log=lambda m: None)
    assert outs["status"] == "succeeded" and outs["deployment_id"] == "d-NEW" and outs["version"] == "5"


def test_provider_pickles_and_unpickles_as_pulumi_stores_it():
    from pulumi.dynamic.dynamic import serialize_provider
    import base64

    blob = serialize_provider(LambdaDeploymentProvider())
    assert blob == serialize_provider(LambdaDeploymentProvider())  # same state on every run: no diff
    restored = dill.loads(base64.b64decode(blob))
    assert isinstance(restored, LambdaDeploymentProvider)
    # By reference to this module (no closure, no captured Output): the provider process imports it.
    assert b"components.serverless.deployment" in base64.b64decode(blob) and len(base64.b64decode(blob)) < 200


def test_deployment_bound_follows_the_configurations_shifting_time():
    assert dp.deployment_minutes("CodeDeployDefault.LambdaCanary10Percent30Minutes") == 30
    assert dp.deployment_minutes("CodeDeployDefault.LambdaLinear10PercentEvery3Minutes") == 30
    assert dp.deployment_minutes("CodeDeployDefault.LambdaLinear10PercentEvery1Minute") == 10
    assert dp.deployment_minutes("CodeDeployDefault.LambdaAllAtOnce") == 0


def test_failed_canary_fails_one_up_and_the_next_up_records_it_without_a_second_canary(monkeypatch, aws):
    """What Pulumi does: a failed update keeps the old inputs (version 4) in the state, so the next `up`
    calls update(4 -> 5) again. The first call runs the canary and raises; the second finds that
    deployment in CodeDeploy's history and succeeds without sending version 5 any traffic."""
    deployer, cd, lm, clock = aws
    monkeypatch.setattr(dp, "_clients", lambda props: (deployer.codedeploy, deployer.lambda_))
    monkeypatch.setattr(dp, "time", SimpleNamespace(sleep=clock.sleep, monotonic=clock))
    state = {**PROPS, "version": "4", "status": "succeeded", "live_version": "4", "deployment_id": "d-OLD",
             "reason": ""}
    provider = LambdaDeploymentProvider()
    # up 1: the canary fails, CodeDeploy rolls back
    no_active(cd)
    alias_on(lm, "4")
    history(cd)
    created(cd, "d-CANARY")
    status(cd, "d-CANARY", "InProgress")
    status(cd, "d-CANARY", "Failed", errorInformation={"code": "ALARM_ACTIVE", "message": "orders-errors fired"})
    with pytest.raises(DeploymentError, match="d-CANARY failed: ALARM_ACTIVE: orders-errors fired"):
        provider.update("id", state, dict(PROPS))
    cd.assert_no_pending_responses()
    # up 2 (the state still says version 4): no create_deployment is stubbed, so a second canary would fail
    no_active(cd)
    alias_on(lm, "4")
    history(cd, ("d-CANARY", marker(TARGET), "orders-errors fired"))
    outs = provider.update("id", state, dict(PROPS)).outs
    assert (outs["status"], outs["live_version"], outs["deployment_id"]) == ("failed_before", "4", "d-CANARY")
    cd.assert_no_pending_responses()
    assert clock.sleeps == [15], "the wait polls on the fake clock"
    # up 3 (state now records version 5 as failed): nothing to do until the version or the token changes
    assert provider.diff("id", outs, dict(PROPS)).changes is False


# -- review: limits and credentials of a real `up` --------------------------------------------------
def test_marker_fits_codedeploys_100_character_description_limit():
    """CodeDeploy answers DescriptionTooLongException past 100 characters; a function name of 64, an alias
    of 128 and a redeploy token of 128 must still give a marker that CreateDeployment accepts, and each of
    them must still tell deployments apart."""
    longest = DeployTarget(APP, GROUP, "f" * 64, "a" * 128, "12345", redeploy="r" * 128)
    assert len(marker(longest)) <= 100
    # a realistic catalog name (38 characters, the component's maximum) with a git-SHA token
    realistic = DeployTarget(APP, GROUP, "orders-api-fulfilment-and-invoicing-eu-fn-1a2b3c4", "live", "42",
                             redeploy="3f9c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e")
    assert len(marker(realistic)) <= 100
    assert marker(longest) != marker(DeployTarget(APP, GROUP, "g" * 64, "a" * 128, "12345", redeploy="r" * 128))
    assert marker(realistic) != marker(DeployTarget(APP, GROUP, realistic.function, "live", "42", redeploy="other"))
    assert marker(TARGET) != marker(DeployTarget(APP, GROUP, FN, "live", "6"))


def test_assumed_role_credentials_are_renewed_during_a_long_wait(monkeypatch):
    """A chained AssumeRole lasts an hour at most, and a linear deployment is waited for up to 115 minutes:
    the clients must renew the role's credentials, not keep the first ones until ExpiredToken."""
    from datetime import datetime, timedelta, timezone

    role = "arn:aws:iam::123456789012:role/deployer"
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sts)
    now = datetime.now(timezone.utc)
    for key, expiry in (("AKIAFIRSTFIRSTFIRST1", now + timedelta(minutes=5)),
                        ("AKIASECONDSECONDSEC2", now + timedelta(hours=1))):
        stub.add_response("assume_role", {"Credentials": {
            "AccessKeyId": key, "SecretAccessKey": "secret", "SessionToken": "token", "Expiration": expiry}},
            {"RoleArn": role, "RoleSessionName": "pulumi-lambda-deploy"})
    stub.activate()
    real_client = boto3.session.Session.client

    def client(self, service, *args, **kwargs):
        return sts if service == "sts" else real_client(self, service, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", client)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIABASEBASEBASEBASE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "base")
    codedeploy, lambda_ = dp._clients({"region": "us-east-1", "profile": "", "assume_roles": [{"role_arn": role}]})
    # the first credentials expire within botocore's refresh window: reading them renews them
    assert codedeploy._request_signer._credentials.get_frozen_credentials().access_key == "AKIASECONDSECONDSEC2"
    stub.assert_no_pending_responses()


def test_static_keys_from_the_stacks_config_sign_the_calls(monkeypatch):
    """A stack configured with aws:accessKey/aws:secretKey/aws:token: the deployment lands in that account,
    not in whatever the machine's environment points at."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTENVIR")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env")
    codedeploy, lambda_ = dp._clients({"region": "us-east-1", "profile": "", "assume_roles": [],
                                       "access_key": "AKIASTACKCONFIGSTACK", "secret_key": "s", "token": "t"})
    for client in (codedeploy, lambda_):
        creds = client._request_signer._credentials
        assert (creds.access_key, creds.token) == ("AKIASTACKCONFIGSTACK", "t")


def test_static_keys_are_used_but_never_returned_as_outputs(monkeypatch, aws):
    deployer, cd, lm, clock = aws
    no_active(cd)
    alias_on(lm, "5")
    keys = {"access_key": "AKIASTACKCONFIGSTACK", "secret_key": "s", "token": "t"}
    outs = dp.run_deployment({**PROPS, **keys}, clients=lambda props: (deployer.codedeploy, deployer.lambda_),
                             sleep=clock.sleep, clock=clock, log=lambda m: None)
    assert outs["status"] == "current" and not set(keys) & set(outs)
    olds = {**PROPS, "status": "current", "live_version": "5", "deployment_id": "", "reason": ""}
    outs = LambdaDeploymentProvider().update("id", olds, {**PROPS, **keys}).outs
    assert not set(keys) & set(outs)


def test_loading_the_provider_does_not_load_the_component_or_pulumi_aws():
    """GIVEN the state's ``__provider`` (a reference to ``components.serverless.deployment``), WHEN the dynamic
    provider's process unpickles it, THEN it imports boto3's deployer only: the pattern package's lazy exports keep
    ``pulumi_aws`` and ``LambdaService`` out of the process, as before the pattern became a package."""
    import subprocess
    import sys
    from pathlib import Path

    from pulumi.dynamic.dynamic import serialize_provider

    code = ("import base64, sys, dill; provider = dill.loads(base64.b64decode(sys.argv[1])); "
            "print(type(provider).__name__, sorted(m for m in ('pulumi_aws', 'components.serverless.component') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, serialize_provider(LambdaDeploymentProvider())],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "LambdaDeploymentProvider []"
