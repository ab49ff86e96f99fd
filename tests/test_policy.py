"""The policy rules (components/tools/policy.py): each rule has a violating and a compliant case, on
hand-built resources and on real pulumi-aws / pulumi-kubernetes resources planned under mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.tools import policy
from components.tools.policy import MANDATORY, PUBLIC_URL_TAG, RULES, Resource, evaluate
from components.profiles import PROFILES

from tests.conftest import ROOT, STACKS, stack_plan

LT = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
BUCKET = "aws:s3/bucket:Bucket"
SG = "aws:ec2/securityGroup:SecurityGroup"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
TLS_DENY = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
ALL_FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}


def res(type_: str, inputs: dict[str, Any] | None = None, name: str = "r", *, protect: bool = False,
        deps: dict[str, list[str]] | None = None) -> Resource:
    return Resource(urn=urn(type_, name), type=type_, name=name, inputs=inputs or {}, protect=protect,
                    property_dependencies={k: tuple(v) for k, v in (deps or {}).items()})


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::microservices::{type_}::{name}"


def messages(rule: str, resources: list[Resource], environment: str = "dev") -> list[str]:
    return [p.message for p in evaluate(resources, environment) if p.rule == rule]


def bucket_with(*, sse: bool = True, pab: dict[str, Any] | None = ALL_FLAGS, policy_doc: str | None = TLS_DENY) -> list[Resource]:
    deps = {"bucket": [urn(BUCKET, "b")]}
    out = [res(BUCKET, name="b")]
    if sse:
        out.append(res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                       {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
                       "sse", deps=deps))
    if pab is not None:
        out.append(res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {"bucket": "b", **pab}, "pab", deps=deps))
    if policy_doc is not None:
        out.append(res("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": policy_doc}, "pol", deps=deps))
    return out


def load_balancer(ingress_port: int, listener_ports: tuple[int, ...] = (443,), cidr: str = "0.0.0.0/0") -> list[Resource]:
    sg = res(SG, {"ingress": [{"protocol": "tcp", "fromPort": ingress_port, "toPort": ingress_port, "cidrBlocks": [cidr]}]},
             "lb-sg")
    lb = res(LB, {"loadBalancerType": "application", "dropInvalidHeaderFields": True, "securityGroups": ["sg-1"]}, "lb",
             deps={"securityGroups": [sg.urn]})
    listeners = [res(LISTENER, {"port": p, "protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
                     f"l{p}", deps={"loadBalancerArn": [lb.urn]}) for p in listener_ports]
    return [sg, lb, *listeners]


def http_listener(action: dict[str, Any], with_https: bool) -> list[Resource]:
    lb = res(LB, {"loadBalancerType": "application", "dropInvalidHeaderFields": True, "internal": False}, "lb")
    out = [lb, res(LISTENER, {"port": 80, "protocol": "HTTP", "defaultActions": [action]}, "http",
                   deps={"loadBalancerArn": [lb.urn]})]
    if with_https:
        out.append(res(LISTENER, {"port": 443, "protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
                       "https", deps={"loadBalancerArn": [lb.urn]}))
    return out


def function_url(auth: str, tags: dict[str, str] | None) -> list[Resource]:
    fn = res("aws:lambda/function:Function", {"tags": tags or {}}, "fn")
    return [fn, res("aws:lambda/functionUrl:FunctionUrl", {"authorizationType": auth, "functionName": "fn"}, "url",
                    deps={"functionName": [fn.urn]})]


def restricted_container(**overrides: Any) -> dict[str, Any]:
    ctx = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    ctx.update(overrides)
    return {"name": "app", "image": "repo/app:1.0", "securityContext": ctx}


def deployment(container: dict[str, Any], pod: dict[str, Any] | None = None) -> list[Resource]:
    pod_ctx = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}} if pod is None else pod
    return [res(DEPLOYMENT, {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {
        "securityContext": pod_ctx, "containers": [container]}}}}, "web")]


def iam_policy(statement: dict[str, Any]) -> list[Resource]:
    return [res("aws:iam/rolePolicy:RolePolicy", {"policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})})]


def task_definition(read_only: bool | None) -> list[Resource]:
    container = {"name": "app", "image": "x"}
    if read_only is not None:
        container["readonlyRootFilesystem"] = read_only
    return [res("aws:ecs/taskDefinition:TaskDefinition", {"containerDefinitions": json.dumps([container])})]


#: rule -> (violating resources, fragment of the message, compliant resources). Environment: dev
#: unless the rule is about prod (see test_stateful_resources_must_be_protected_in_prod).
CASES: dict[str, list[tuple[list[Resource], str, list[Resource]]]] = {
    "imdsv2-required": [
        ([res(LT, {"metadataOptions": {"httpTokens": "optional"}})], "httpTokens is 'optional'",
         [res(LT, {"metadataOptions": {"httpTokens": "required"}})]),
        ([res(INSTANCE, {})], "httpTokens is None", [res(INSTANCE, {"metadataOptions": {"httpTokens": "required"}})]),
    ],
    "ebs-encrypted": [
        ([res(LT, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]})],
         "blockDeviceMappings.0.ebs.encrypted is 'false'",
         [res(LT, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]})]),
        ([res(LT, {"metadataOptions": {"httpTokens": "required"}})], "declares no EBS block device",
         [res(LT, {"blockDeviceMappings": [{"ebs": {"encrypted": True}}]})]),
        ([res(INSTANCE, {"rootBlockDevice": {"encrypted": True}, "ebsBlockDevices": [{"encrypted": False}]})],
         "ebsBlockDevices.0.encrypted is False", [res(INSTANCE, {"rootBlockDevice": {"encrypted": True}})]),
        ([res("aws:ebs/volume:Volume", {"encrypted": False})], "encrypted is not true",
         [res("aws:ebs/volume:Volume", {"encrypted": True})]),
    ],
    "no-public-ip": [
        ([res(LT, {"networkInterfaces": [{"associatePublicIpAddress": "true"}]})], "networkInterfaces.0.associatePublicIpAddress",
         [res(LT, {"networkInterfaces": [{"associatePublicIpAddress": "false"}]})]),
        ([res(INSTANCE, {"associatePublicIpAddress": True})], "associatePublicIpAddress is true",
         [res(INSTANCE, {"associatePublicIpAddress": False})]),
        ([res("aws:ecs/service:Service", {"networkConfiguration": {"assignPublicIp": True}})], "assignPublicIp is true",
         [res("aws:ecs/service:Service", {"networkConfiguration": {"assignPublicIp": False},
                                          "deploymentCircuitBreaker": {"enable": True, "rollback": True}})]),
    ],
    "s3-encrypted": [(bucket_with(sse=False), "no BucketServerSideEncryptionConfiguration", bucket_with())],
    "s3-public-access-blocked": [
        (bucket_with(pab=None), "no BucketPublicAccessBlock", bucket_with()),
        (bucket_with(pab={**ALL_FLAGS, "restrictPublicBuckets": False}), "restrictPublicBuckets not true", bucket_with()),
    ],
    "s3-tls-only": [(bucket_with(policy_doc=None), "aws:SecureTransport", bucket_with())],
    "kinesis-encrypted": [
        ([res("aws:kinesis/stream:Stream", {"encryptionType": "NONE"})], "encryptionType is 'NONE'",
         [res("aws:kinesis/stream:Stream", {"encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis"})]),
    ],
    "sqs-encrypted": [
        ([res("aws:sqs/queue:Queue", {})], "sqsManagedSseEnabled",
         [res("aws:sqs/queue:Queue", {"sqsManagedSseEnabled": True})]),
    ],
    "ecr-encrypted": [
        ([res("aws:ecr/repository:Repository", {"imageTagMutability": "IMMUTABLE"})], "encryptionConfigurations",
         [res("aws:ecr/repository:Repository", {"encryptionConfigurations": [{"encryptionType": "KMS"}]})]),
    ],
    "sg-no-world-ingress": [
        (load_balancer(22), "opens port 22 to 0.0.0.0/0", load_balancer(443)),
        (load_balancer(80, listener_ports=(443,)), "(here: 443)", load_balancer(80, listener_ports=(80, 443))),
        ([res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
              {"cidrIpv6": "::/0", "ipProtocol": "-1", "securityGroupId": "sg-1"})], "opens all ports to ::/0",
         [res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
              {"cidrIpv4": "10.0.0.0/16", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080})]),
        ([res("aws:ec2/securityGroupRule:SecurityGroupRule", {"type": "ingress", "protocol": "tcp", "fromPort": 0,
                                                             "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]})],
         "opens all ports", [res("aws:ec2/securityGroupRule:SecurityGroupRule",
                                 {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]})]),
    ],
    "alb-drop-invalid-headers": [
        ([res(LB, {"loadBalancerType": "application"})], "dropInvalidHeaderFields is not true",
         [res(LB, {"loadBalancerType": "network"})]),
    ],
    "alb-tls13-policy": [
        ([res(LISTENER, {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"})], "ELBSecurityPolicy-2016-08",
         [res(LISTENER, {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"})]),
        ([res(LISTENER, {"protocol": "TLS"})], "sslPolicy is None",
         [res(LISTENER, {"protocol": "TLS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-3-2021-06"})]),
    ],
    "alb-http-redirects-to-https": [
        (http_listener({"type": "forward", "targetGroupArn": "tg"}, with_https=True), "does not only redirect",
         http_listener({"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}},
                       with_https=True)),
    ],
    "alb-public-https": [
        (http_listener({"type": "forward", "targetGroupArn": "tg"}, with_https=False), "serves plain HTTP only",
         http_listener({"type": "forward", "targetGroupArn": "tg"}, with_https=True)[:1] +
         http_listener({"type": "redirect", "redirect": {"protocol": "HTTPS"}}, with_https=True)[1:]),
    ],
    "lambda-permission-source-arn": [
        ([res("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "principal": "events.amazonaws.com"})],
         "without sourceArn",
         [res("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "principal": "events.amazonaws.com",
                                                   "sourceArn": "arn:aws:events:us-east-1:1:rule/r"})]),
        ([res("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com",
                                                   "sourceArn": "arn:aws:s3:::b"})], "also set sourceAccount",
         [res("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com",
                                                   "sourceArn": "arn:aws:s3:::b", "sourceAccount": "123456789012"})]),
        ([res("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "principal": "*"})],
         "principal is \"*\"",
         [res("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "principal": "*",
                                                   "invokedViaFunctionUrl": True})]),
    ],
    "lambda-url-iam-auth": [
        (function_url("NONE", None), "not marked public", function_url("AWS_IAM", None)),
        (function_url("NONE", {PUBLIC_URL_TAG: "false"}), "not marked public", function_url("NONE", {PUBLIC_URL_TAG: "true"})),
    ],
    "ecr-immutable-scan": [
        ([res("aws:ecr/repository:Repository", {})], "imageTagMutability is 'MUTABLE'",
         [res("aws:ecr/repository:Repository", {"imageTagMutability": "IMMUTABLE",
                                                "imageScanningConfiguration": {"scanOnPush": True}})]),
        ([res("aws:ecr/repository:Repository", {"imageTagMutability": "IMMUTABLE"})], "scanOnPush is not true",
         [res("aws:ecr/repository:Repository", {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
                                                "imageScanningConfiguration": {"scanOnPush": True}})]),
    ],
    "ecs-circuit-breaker": [
        ([res("aws:ecs/service:Service", {"deploymentCircuitBreaker": {"enable": True, "rollback": False}})],
         "rollback = true",
         [res("aws:ecs/service:Service", {"deploymentController": {"type": "CODE_DEPLOY"}})]),
    ],
    "ecs-read-only-root": [
        (task_definition(None), "readonlyRootFilesystem None", task_definition(True)),
        (task_definition(False), "readonlyRootFilesystem False", task_definition(True)),
    ],
    "eks-private-endpoint": [
        ([res("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPrivateAccess": True}})], "open to 0.0.0.0/0",
         [res("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False}})]),
        ([res("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPrivateAccess": False, "endpointPublicAccess": True,
                                                        "publicAccessCidrs": ["203.0.113.0/24"]}})],
         "endpointPrivateAccess is not true",
         [res("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": True,
                                                        "publicAccessCidrs": ["203.0.113.0/24"]}})]),
    ],
    "eks-secrets-encryption": [
        ([res("aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": ["secrets"]}})], "provider.keyArn",
         [res("aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": ["secrets"],
                                                               "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"}}})]),
    ],
    "k8s-restricted-security-context": [
        (deployment(restricted_container(allowPrivilegeEscalation=True)), "allowPrivilegeEscalation must be false",
         deployment(restricted_container())),
        (deployment(restricted_container(), pod={}), "runAsNonRoot must be true",
         deployment(restricted_container(runAsNonRoot=True, seccompProfile={"type": "RuntimeDefault"}), pod={})),
        (deployment(restricted_container(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]})), "SYS_ADMIN",
         deployment(restricted_container(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}))),
        (deployment(restricted_container(readOnlyRootFilesystem=False)), "readOnlyRootFilesystem must be true",
         deployment(restricted_container())),
    ],
    "log-group-retention": [
        ([res("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/lambda/x"})], "kept (and billed) forever",
         [res("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 30.0})]),
    ],
    "iam-no-wildcard-admin": [
        (iam_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}), "allows \"*\" actions on \"*\" resources",
         iam_policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"})),
        ([res("aws:iam/role:Role", {"inlinePolicies": [{"name": "x", "policy": json.dumps(
            {"Statement": {"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}})}]})], "inlinePolicies.0 statement 0",
         [res("aws:iam/role:Role", {"inlinePolicies": [{"name": "x", "policy": json.dumps(
             {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}})}]})]),
        ([res("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
              {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})], "attaches AdministratorAccess",
         [res("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
              {"policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"})]),
        # A whole service on every resource is admin over that service (iam:* is admin over the account).
        (iam_policy({"Effect": "Allow", "Action": ["logs:PutLogEvents", "iam:*"], "Resource": "*"}),
         'allows every action of a service ("iam:*") on "*" resources',
         iam_policy({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/app"})),
        (iam_policy({"Effect": "Allow", "Action": "S3:*", "Resource": ["arn:aws:s3:::*"]}),
         'every action of a service ("S3:*") on every resource ("arn:aws:s3:::*")',
         iam_policy({"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::uploads", "arn:aws:s3:::uploads/*"]})),
        (iam_policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
         'allows every action except NotAction "iam:*" on "*" resources',
         iam_policy({"Effect": "Deny", "NotAction": ["sts:GetCallerIdentity"], "Resource": "*"})),
        (iam_policy({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit/*"}),
         'allows "*" actions on every resource except NotResource "arn:aws:s3:::audit/*"',
         iam_policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::audit/*"})),
    ],
}


def test_every_rule_has_violating_and_compliant_cases() -> None:
    assert sorted(CASES) == sorted(r.name for r in RULES if r.name != "stateful-protected-in-prod")


def test_every_rule_declares_enforcement_severity_and_real_types() -> None:
    for rule in RULES:
        assert rule.enforcement in ("mandatory", "advisory") and rule.severity in policy.SEVERITIES
        assert rule.resource_types and all(t.count(":") == 2 for t in rule.resource_types), rule.name
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule, index", [(r, i) for r, cases in CASES.items() for i in range(len(cases))])
def test_rule_flags_violation_and_passes_compliant_resource(rule: str, index: int) -> None:
    violating, fragment, compliant = CASES[rule][index]
    found = messages(rule, violating)
    assert any(fragment in m for m in found), f"{rule}: no message contains {fragment!r}: {found}"
    assert messages(rule, compliant) == []


def test_stateful_resources_must_be_protected_in_prod() -> None:
    for type_ in ("aws:s3/bucket:Bucket", "aws:dynamodb/table:Table", "aws:kinesis/stream:Stream",
                  "aws:sqs/queue:Queue", "aws:ecr/repository:Repository", "aws:eks/cluster:Cluster"):
        assert "not protected in prod" in messages("stateful-protected-in-prod", [res(type_)], "prod")[0]
        assert messages("stateful-protected-in-prod", [res(type_, protect=True)], "prod") == []
        assert messages("stateful-protected-in-prod", [res(type_)], "dev") == []


def test_protected_environments_are_the_profiles_that_protect() -> None:
    assert set(policy.PROTECTED_ENVIRONMENTS) == {name for name, p in PROFILES.items() if p.protect}


def test_unknown_values_during_a_preview_are_not_violations() -> None:
    sentinel = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    resources = [res(LT, {"metadataOptions": {"httpTokens": sentinel},
                          "blockDeviceMappings": [{"ebs": {"encrypted": "[unknown]"}}]}),
                 res("aws:iam/rolePolicy:RolePolicy", {"policy": "[unknown]"}),
                 res("aws:ecs/taskDefinition:TaskDefinition", {"containerDefinitions": sentinel})]
    assert evaluate(resources, "dev") == []


def test_results_come_mandatory_first_with_rule_metadata() -> None:
    results = evaluate([res(LB, {"loadBalancerType": "application", "internal": False}, "lb"),
                        res(LISTENER, {"protocol": "HTTP", "port": 80, "defaultActions": [{"type": "forward"}]}, "l",
                            deps={"loadBalancerArn": [urn(LB, "lb")]})], "dev")
    assert [(r.rule, r.enforcement) for r in results] == [("alb-drop-invalid-headers", MANDATORY),
                                                          ("alb-public-https", "advisory")]
    assert results[0].severity == "medium" and results[0].name == "lb" and results[0].type == LB


def test_plan_json_entries_are_accepted_as_resources() -> None:
    entry = {"urn": urn(BUCKET, "b"), "type": BUCKET, "name": "b", "custom": True, "protect": False, "inputs": {},
             "propertyDependencies": {}}
    assert {r.rule for r in evaluate([entry], "prod")} == {"s3-encrypted", "s3-public-access-blocked", "s3-tls-only",
                                                          "stateful-protected-in-prod"}


# -- real resources, registered through the SDKs under mocks ------------------------------------------------


def _secure_program() -> None:
    import pulumi
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s

    keep = pulumi.ResourceOptions(protect=True)
    aws.ec2.LaunchTemplate("lt", metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
                           block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "volume_type": "gp3"}}],
                           network_interfaces=[{"associate_public_ip_address": "false"}])
    aws.ec2.Instance("vm", ami="ami-1", instance_type="t4g.small", associate_public_ip_address=False,
                     metadata_options={"http_tokens": "required"}, root_block_device={"encrypted": True})
    bucket = aws.s3.Bucket("data", opts=keep)
    aws.s3.BucketServerSideEncryptionConfiguration("data-sse", bucket=bucket.id, rules=[
        {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}])
    aws.s3.BucketPublicAccessBlock("data-pab", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                   ignore_public_acls=True, restrict_public_buckets=True)
    aws.s3.BucketPolicy("data-tls", bucket=bucket.id, policy=TLS_DENY)
    aws.kinesis.Stream("events", encryption_type="KMS", kms_key_id="alias/aws/kinesis", opts=keep)
    aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True, opts=keep)
    aws.ecr.Repository("images", image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": True},
                       encryption_configurations=[{"encryption_type": "AES256"}], opts=keep)
    lb_sg = aws.ec2.SecurityGroup("lb-sg", ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443,
                                                     "cidr_blocks": ["0.0.0.0/0"]}])
    aws.vpc.SecurityGroupIngressRule("lb-http", security_group_id=lb_sg.id, ip_protocol="tcp", from_port=80, to_port=80,
                                     cidr_ipv4="0.0.0.0/0")
    lb = aws.lb.LoadBalancer("lb", load_balancer_type="application", internal=False, drop_invalid_header_fields=True,
                             security_groups=[lb_sg.id], subnets=["subnet-1", "subnet-2"])
    aws.lb.Listener("lb-https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS", certificate_arn="arn:aws:acm:cert",
                    ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06", default_actions=[{"type": "forward", "target_group_arn": "tg"}])
    aws.lb.Listener("lb-http", load_balancer_arn=lb.arn, port=80, protocol="HTTP", default_actions=[
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}])
    fn = aws.lambda_.Function("fn", role="arn:aws:iam::123456789012:role/fn", runtime="python3.12", handler="app.handler",
                              code=pulumi.AssetArchive({}), tags={PUBLIC_URL_TAG: "true"})
    aws.lambda_.FunctionUrl("fn-url", function_name=fn.name, authorization_type="NONE")
    aws.lambda_.Permission("fn-s3", action="lambda:InvokeFunction", function=fn.name, principal="s3.amazonaws.com",
                           source_arn=bucket.arn, source_account="123456789012")
    aws.ecs.Service("svc", network_configuration={"subnets": ["subnet-1"], "assign_public_ip": False},
                    deployment_circuit_breaker={"enable": True, "rollback": True})
    aws.ecs.TaskDefinition("task", family="task", container_definitions=json.dumps(
        [{"name": "app", "image": "repo/app@sha256:1", "readonlyRootFilesystem": True}]))
    aws.eks.Cluster("eks", role_arn="arn:aws:iam::1:role/eks", opts=keep,
                    vpc_config={"subnet_ids": ["subnet-1"], "endpoint_private_access": True, "endpoint_public_access": False},
                    encryption_config={"provider": {"key_arn": "arn:aws:kms:us-east-1:1:key/k"}, "resources": ["secrets"]})
    aws.cloudwatch.LogGroup("logs", retention_in_days=365)
    aws.iam.RolePolicy("fn-access", role="fn", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:1:jobs"}]}))
    k8s.apps.v1.Deployment("web", metadata={"name": "web"}, spec={
        "selector": {"match_labels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "security_context": {"run_as_non_root": True, "run_as_user": 10001, "seccomp_profile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "web", "image": "repo/web:1.0", "security_context": {
                "allow_privilege_escalation": False, "read_only_root_filesystem": True,
                "capabilities": {"drop": ["ALL"]}}}]}}})


def _insecure_program() -> None:
    import pulumi
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s

    aws.ec2.LaunchTemplate("lt", network_interfaces=[{"associate_public_ip_address": "true"}])
    aws.s3.Bucket("data")
    aws.kinesis.Stream("events", shard_count=1)
    aws.sqs.Queue("jobs")
    aws.ecr.Repository("images")
    lb_sg = aws.ec2.SecurityGroup("lb-sg", ingress=[{"protocol": "tcp", "from_port": 22, "to_port": 22,
                                                     "cidr_blocks": ["0.0.0.0/0"]}])
    lb = aws.lb.LoadBalancer("lb", load_balancer_type="application", internal=False, security_groups=[lb_sg.id])
    aws.lb.Listener("lb-https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS", certificate_arn="arn:aws:acm:cert",
                    default_actions=[{"type": "forward", "target_group_arn": "tg"}])
    aws.lb.Listener("lb-http", load_balancer_arn=lb.arn, port=80, protocol="HTTP",
                    default_actions=[{"type": "forward", "target_group_arn": "tg"}])
    other = aws.lb.LoadBalancer("plain", load_balancer_type="application", internal=False, drop_invalid_header_fields=True)
    aws.lb.Listener("plain-http", load_balancer_arn=other.arn, port=80, protocol="HTTP",
                    default_actions=[{"type": "forward", "target_group_arn": "tg"}])
    fn = aws.lambda_.Function("fn", role="arn:aws:iam::123456789012:role/fn", runtime="python3.12", handler="app.handler",
                              code=pulumi.AssetArchive({}))
    aws.lambda_.FunctionUrl("fn-url", function_name=fn.name, authorization_type="NONE")
    aws.lambda_.Permission("fn-s3", action="lambda:InvokeFunction", function=fn.name, principal="s3.amazonaws.com")
    aws.ecs.Service("svc", network_configuration={"subnets": ["subnet-1"], "assign_public_ip": True})
    aws.ecs.TaskDefinition("task", family="task", container_definitions=json.dumps([{"name": "app", "image": "x"}]))
    aws.eks.Cluster("eks", role_arn="arn:aws:iam::1:role/eks", vpc_config={"subnet_ids": ["subnet-1"]})
    aws.cloudwatch.LogGroup("logs")
    aws.iam.RolePolicy("admin", role="fn", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    k8s.apps.v1.Deployment("web", metadata={"name": "web"}, spec={
        "selector": {"match_labels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}})


def test_secure_resources_planned_under_mocks_pass_every_rule(plan) -> None:
    graph = plan(_secure_program, environment="prod")
    assert evaluate(graph.resources, "prod") == []
    covered = {r.type for r in graph.resources}
    untested = [rule.name for rule in RULES if not covered & set(rule.resource_types)]
    assert untested == []


def test_insecure_resources_planned_under_mocks_violate_every_rule(plan) -> None:
    graph = plan(_insecure_program, environment="prod")
    fired = {r.rule for r in evaluate(graph.resources, "prod")}
    assert sorted({rule.name for rule in RULES} - fired) == []


def test_network_component_in_prod_has_no_violation(plan) -> None:
    from components.network import Network

    graph = plan(lambda: Network("net", {"flow_logs": True}, profile="prod"), environment="prod")
    assert graph.of_type("aws:cloudwatch/logGroup:LogGroup") and graph.of_type("aws:iam/rolePolicy:RolePolicy")
    assert evaluate(graph.resources, "prod") == []


@pytest.mark.parametrize("stack", STACKS)
def test_reference_stack_has_no_mandatory_violation(stack: str) -> None:
    doc = stack_plan(stack)
    mandatory = [f"{p.rule}: {p.type} {p.name}: {p.message}"
                 for p in evaluate(doc["resources"], doc["environment"]) if p.enforcement == MANDATORY]
    assert mandatory == []


def test_prod_reference_stack_exercises_the_rules_of_every_pattern() -> None:
    types = {r["type"] for r in stack_plan("prod")["resources"]}
    applied = {rule.name for rule in RULES if types & set(rule.resource_types)}
    assert applied >= {"imdsv2-required", "ebs-encrypted", "no-public-ip", "s3-encrypted", "s3-public-access-blocked",
                       "s3-tls-only", "sg-no-world-ingress", "alb-drop-invalid-headers", "ecs-circuit-breaker",
                       "ecs-read-only-root", "eks-private-endpoint", "eks-secrets-encryption",
                       "k8s-restricted-security-context", "lambda-permission-source-arn", "log-group-retention",
                       "iam-no-wildcard-admin", "stateful-protected-in-prod"}


def test_readme_documents_every_rule_with_its_enforcement_and_severity() -> None:
    readme = (ROOT / "docs" / "workflow.md").read_text()
    section = readme[readme.index("<!-- section:pr-previews -->"):readme.index("<!-- /section:pr-previews -->")]
    for rule in RULES:
        assert f"| `{rule.name}` | {rule.enforcement} | {rule.severity} |" in section, rule.name
