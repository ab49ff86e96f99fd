"""The policy pack (policy/) as the Pulumi CLI runs it: ``python -m pulumi.policy ENGINE policy`` starts
it as a gRPC analyzer; the tests then call it as the engine does, with camelCase properties,
floats, unknown sentinels, resource options and property dependencies."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.proxy import unknown_checking_proxy

from components.tools.policy import RULES
from tests.conftest import ROOT

PACK = ROOT / "policy"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The pack's virtualenv has no pulumi-aws: prove the pack does not need it.
LAUNCH = ("import runpy, sys; sys.modules['pulumi_aws'] = None; sys.modules['pulumi_kubernetes'] = None; "
          "sys.argv = ['pulumi.policy', '127.0.0.1:0', sys.argv[1]]; runpy.run_module('pulumi.policy', run_name='__main__')")


def start_pack(config: dict[str, Any], stack: str) -> tuple[subprocess.Popen, analyzer_pb2_grpc.AnalyzerStub]:
    env = dict(os.environ, PULUMI_CONFIG=json.dumps(config), PULUMI_STACK=stack, PULUMI_PROJECT="microservices",
               PULUMI_DRY_RUN="true")
    proc = subprocess.Popen([sys.executable, "-u", "-c", LAUNCH, str(PACK)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    port = proc.stdout.readline().decode().strip()
    if not port.isdigit():
        proc.kill()
        raise AssertionError(f"the pack did not start: {proc.stderr.read().decode()[-3000:]}")
    return proc, analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    proc, stub = start_pack({"microservices:environment": "prod"}, "acme/production-east")
    yield stub
    proc.kill()
    proc.wait()


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(props)
    return out


def analyze(stub, type_: str, props: dict[str, Any], *, protect: bool = False, name: str = "r") -> list[Any]:
    request = analyzer_pb2.AnalyzeRequest(type=type_, properties=struct(props), name=name,
                                          urn=f"urn:pulumi:prod::microservices::{type_}::{name}",
                                          options=analyzer_pb2.AnalyzerResourceOptions(protect=protect))
    return list(stub.Analyze(request).diagnostics)


def test_pack_declares_every_rule_with_its_enforcement_and_severity(analyzer) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "microservices-defaults"
    declared = {p.name: p for p in info.policies}
    assert sorted(declared) == sorted(r.name for r in RULES)
    levels = {"mandatory": analyzer_pb2.MANDATORY, "advisory": analyzer_pb2.ADVISORY}
    severities = {"low": analyzer_pb2.POLICY_SEVERITY_LOW, "medium": analyzer_pb2.POLICY_SEVERITY_MEDIUM,
                  "high": analyzer_pb2.POLICY_SEVERITY_HIGH, "critical": analyzer_pb2.POLICY_SEVERITY_CRITICAL}
    for rule in RULES:
        policy = declared[rule.name]
        assert policy.enforcementLevel == levels[rule.enforcement], rule.name
        assert policy.severity == severities[rule.severity], rule.name
        assert policy.policy_type == (analyzer_pb2.POLICY_TYPE_STACK if rule.stack else analyzer_pb2.POLICY_TYPE_RESOURCE)


def test_pack_blocks_a_launch_template_without_imdsv2_before_it_is_created(analyzer) -> None:
    found = analyze(analyzer, "aws:ec2/launchTemplate:LaunchTemplate", {
        "metadataOptions": {"httpTokens": "optional", "httpPutResponseHopLimit": 1.0},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]})
    assert [(d.policyName, d.enforcementLevel) for d in found] == [("imdsv2-required", analyzer_pb2.MANDATORY)]
    assert "httpTokens is 'optional'" in found[0].message


def test_pack_passes_a_compliant_launch_template_and_skips_unknown_values(analyzer) -> None:
    assert analyze(analyzer, "aws:ec2/launchTemplate:LaunchTemplate", {
        "metadataOptions": {"httpTokens": "required"},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": UNKNOWN_STRING}}]}) == []


def test_pack_takes_the_environment_from_stack_config(analyzer) -> None:
    stream = {"encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis"}
    unprotected = analyze(analyzer, "aws:kinesis/stream:Stream", stream)
    assert [d.policyName for d in unprotected] == ["stateful-protected-in-prod"]
    assert analyze(analyzer, "aws:kinesis/stream:Stream", stream, protect=True) == []


def test_pack_relates_resources_through_property_dependencies_at_stack_level(analyzer) -> None:
    bucket_urn = "urn:pulumi:prod::microservices::aws:s3/bucket:Bucket::data"
    bucket = analyzer_pb2.AnalyzerResource(type="aws:s3/bucket:Bucket", urn=bucket_urn, name="data",
                                           properties=struct({"bucket": "data-1234"}),
                                           options=analyzer_pb2.AnalyzerResourceOptions(protect=True))
    block = analyzer_pb2.AnalyzerResource(
        type="aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name="data-pab",
        urn="urn:pulumi:prod::microservices::aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::data-pab",
        properties=struct({"bucket": "data-1234", "blockPublicAcls": True, "blockPublicPolicy": True,
                           "ignorePublicAcls": True, "restrictPublicBuckets": True}),
        propertyDependencies={"bucket": analyzer_pb2.AnalyzerPropertyDependencies(urns=[bucket_urn])})
    found = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[bucket, block])).diagnostics
    assert sorted((d.policyName, d.urn) for d in found) == [("s3-encrypted", bucket_urn), ("s3-tls-only", bucket_urn)]


def test_pack_falls_back_to_the_stack_name_for_the_environment() -> None:
    proc, stub = start_pack({}, "acme/prod")
    try:
        found = analyze(stub, "aws:sqs/queue:Queue", {"sqsManagedSseEnabled": True})
    finally:
        proc.kill()
        proc.wait()
    assert [d.policyName for d in found] == ["stateful-protected-in-prod"]


def test_pack_unwraps_pulumi_policy_proxies_into_plain_values() -> None:
    pack = runpy.run_path(str(PACK / "__main__.py"), run_name="policy_pack")
    props = unknown_checking_proxy({"a": [{"b": UNKNOWN_STRING}], "n": 1.0})
    assert pack["plain"](props) == {"a": [{"b": UNKNOWN_STRING}], "n": 1.0}


def test_pack_project_file_runs_python_in_its_own_virtualenv() -> None:
    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    pins = [line.split("==")[0] for line in (PACK / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert pins == ["pulumi", "pulumi-policy"]


def test_the_documented_pack_command_launches_the_adapter_that_lives_in_tools(tmp_path):
    """``python -m <package>.policy_pack DIR`` writes a pack whose ``__main__.py`` serves the adapter in
    ``tools/policy_pack.py``."""
    result = subprocess.run([sys.executable, "-m", "components.policy_pack", str(tmp_path / "pack")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "from components.tools.policy_pack import serve" in (tmp_path / "pack" / "__main__.py").read_text()
    usage = subprocess.run([sys.executable, "-m", "components.policy_pack", "--help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert usage.stdout.startswith("usage: python -m components.policy_pack ")
