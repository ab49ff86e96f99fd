"""Every planned AWS resource checked against AWS's own resource schemas (cfn-lint), and the translation
that makes it possible: every AWS type the library can register is mapped or listed unmappable with a reason."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pulumi
import pytest

from components.tools.plan.cfn_types import CFN_TYPES, UNMAPPABLE, to_cfn
from components.tools.plan.lint import EXCEPTIONS, findings_markdown, lint_plan, template_of
from components.tools.plan.document import plan_document
from components.tools.plan.runtime import run
from tests.conftest import ROOT, STACKS, stack_plan

AWS_STACKS = tuple(s for s in STACKS if s != "local")
#: Realistic ids: the feature plans below use them where the tests of each pattern use short fakes.
NET = {"vpc_id": "vpc-0a1b2c3d4e5f60718", "vpc_cidr": "10.20.0.0/16",
       "public_subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60712"],
       "private_subnet_ids": ["subnet-0a1b2c3d4e5f60721", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60723"],
       "public_subnet_cidrs": ["10.20.128.0/22", "10.20.132.0/22"],
       "load_balancer_subnet_ids": ["subnet-0a1b2c3d4e5f60731", "subnet-0a1b2c3d4e5f60732"],
       "load_balancer_subnet_cidrs": ["10.20.192.0/22", "10.20.196.0/22"]}


def _region(stack: str) -> str:
    from components.tools.plan.project import load_project
    return str(load_project(ROOT, stack).config.get("aws:region", "us-east-1"))


def _assert_clean(doc) -> None:
    findings = lint_plan(doc, "us-east-1")
    assert not findings, "cfn-lint findings:\n" + "\n".join(str(f) for f in findings)


# --- every stack ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_stack_passes_cfn_lint(stack):
    findings = lint_plan(stack_plan(stack), _region(stack))
    assert not findings, "cfn-lint findings:\n" + "\n".join(str(f) for f in findings)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_aws_resource_of_every_stack_is_translated(stack):
    doc = stack_plan(stack)
    aws = {r["type"] for r in doc["resources"] if r["custom"] and r["type"].startswith("aws:")}
    assert aws - set(CFN_TYPES) <= set(UNMAPPABLE)
    template, owners = template_of(doc["resources"])
    assert len(template["Resources"]) == sum(1 for r in doc["resources"] if r["type"] in CFN_TYPES)


# --- feature catalogs: what the stacks do not use ----------------------------------------------------------

def _doc(graph, environment: str) -> dict:
    return plan_document(graph, environment)


def _lambda_project(tmp_path: Path) -> Path:
    (tmp_path / "fn").mkdir(parents=True, exist_ok=True)
    (tmp_path / "fn" / "handler.py").write_text("def handler(event, context):\n    return event\n")
    return tmp_path


def test_lambda_with_every_trigger_passes_cfn_lint(tmp_path):
    from components.serverless import LambdaService
    from tests.test_lambda_service import FULL
    project = _lambda_project(tmp_path)
    network = {"vpc_id": NET["vpc_id"], "vpc_cidr": NET["vpc_cidr"], "private_subnet_ids": NET["private_subnet_ids"]}

    def program():
        LambdaService("orders", FULL, project_dir=project, profile="prod")
        LambdaService("worker", {"code": "fn", "vpc": True, "triggers": [{"sqs": {}}]}, project_dir=project,
                      profile="prod", network=network)

    graph = run(program, config={"microservices:environment": "prod"}, stack="prod", project_dir=project)
    _assert_clean(_doc(graph, "prod"))


def test_public_function_url_and_fifo_queue_pass_cfn_lint(tmp_path):
    from components.serverless import LambdaService
    project = _lambda_project(tmp_path)
    spec = {"code": "fn", "triggers": [{"url": {"auth": "NONE", "public": True}}, {"sqs": {"fifo": True}}]}
    graph = run(lambda: LambdaService("jobs", spec, project_dir=project, profile="dev"),
                config={"microservices:environment": "dev"}, stack="dev", project_dir=project)
    _assert_clean(_doc(graph, "dev"))


def test_eks_cluster_with_admins_and_load_balancer_controller_passes_cfn_lint():
    from components.eks import EksCluster
    from tests.test_eks_cluster import ADMIN, LBC
    graph = run(lambda: EksCluster("eks", {"admin_role_arns": [ADMIN], "load_balancer_controller": LBC},
                                   network=NET, profile="prod"),
                config={"microservices:environment": "prod"}, project_dir=ROOT, stack="prod")
    _assert_clean(_doc(graph, "prod"))


def test_kubernetes_service_with_pod_identity_passes_cfn_lint():
    from components.eks import KubernetesService
    from tests.test_k8s_service import CLUSTER, FULL
    graph = run(lambda: KubernetesService("orders", FULL, cluster=CLUSTER, network=NET, profile="prod"),
                config={"microservices:environment": "prod"}, project_dir=ROOT, stack="prod")
    _assert_clean(_doc(graph, "prod"))


def test_services_on_a_shared_load_balancer_pass_cfn_lint():
    from components.blocks.load_balancer import (ServiceLoadBalancer, prepare_shared_load_balancers,
                                                 service_security_group, standard_alarms)
    from components.profiles import get_profile
    from components.blocks.service import resolve_core
    from tests.test_load_balancer import SHARED_SPECS

    def program():
        root = pulumi.ComponentResource("test:index:Root", "root")
        profile = get_profile("dev")
        ctx = SimpleNamespace(load_balancers={}, parent=root, network=NET, profile=profile)
        prepare_shared_load_balancers(SHARED_SPECS, ctx)
        for name, spec in SHARED_SPECS.items():
            sg = service_security_group(name, vpc_id=NET["vpc_id"], tags={"Service": name})
            lb = ServiceLoadBalancer(name, spec["load_balancer"], core=resolve_core(spec, profile, default_port=8080),
                                     network=NET, profile=profile, target_type="instance",
                                     target_security_group_id=sg.id, shared=ctx.load_balancers["edge"])
            standard_alarms(name, lb, profile=profile, tags={"Service": name})

    graph = run(program, config={"microservices:environment": "dev"}, project_dir=ROOT, stack="dev")
    _assert_clean(_doc(graph, "dev"))


def test_ecs_queue_worker_scheduled_task_and_ec2_capacity_pass_cfn_lint():
    from components.ecs import EcsCluster, EcsService
    image = {"ref": "public.ecr.aws/acme/orders:1.4.2"}
    specs = {"mailer": {"image": image, "queue": {"messages_per_task": 25, "max_receive_count": 3}},
             "sweeper": {"image": image, "schedule": "cron(0 3 * * ? *)", "command": ["python", "app.py", "job"]},
             "pricing": {"image": image, "capacity": "ec2", "memory": 768, "expose": "internal"},
             "cart": {"image": image, "expose": "public", "port": 9000, "ephemeral_storage": 40, "cpu": 1024,
                      "load_balancer": {"domain": "cart.example.com", "zone": "example.com"},
                      "memory": 4096, "writable_paths": ["/tmp", "/var/cache/app"], "target_requests": 500,
                      "secrets": {"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password"}}}

    def program():
        cluster = EcsCluster("ecs", {"ec2": {"max_size": 6}}, network=NET, profile="prod")
        for name, spec in specs.items():
            EcsService(name, spec, cluster=cluster, network=NET, profile="prod", project_dir=ROOT)

    graph = run(program, config={"microservices:environment": "prod"}, project_dir=ROOT, stack="prod")
    _assert_clean(_doc(graph, "prod"))


def test_vm_service_with_tuned_scaling_and_schedules_passes_cfn_lint():
    from components.vm import VmService
    spec = {"ami": "ami-0123456789abcdef0", "instance_types": ["m7i.large", "m6i.large", "m5.large"],
            "spot_percentage": 30, "on_demand_base_capacity": 1, "expose": "public",
            "scaling": {"min": 2, "max": 6, "target_cpu": 45},
            "autoscaling": {"requests_per_target": 500,
                            "schedules": {"night": {"recurrence": "0 20 * * *", "min": 0, "desired": 0, "max": 0}}}}
    warm = {"ami": "ami-0123456789abcdef0", "autoscaling": {"warm_pool": {"min_size": 1, "reuse_on_scale_in": True}}}

    def program():
        VmService("inventory", spec, network=NET, profile="dev", project_dir=ROOT)
        VmService("stock", warm, network=NET, profile="dev", project_dir=ROOT)

    graph = run(program, config={"microservices:environment": "dev"}, stack="dev", project_dir=ROOT)
    _assert_clean(_doc(graph, "dev"))


# --- the check finds what AWS would refuse ------------------------------------------------------------------

def _doc_of(type_: str, inputs: dict, name: str = "x") -> dict:
    return {"resources": [{"urn": f"urn:pulumi:dev::microservices::{type_}::{name}", "type": type_, "name": name,
                           "custom": True, "inputs": inputs}]}


def test_reports_a_log_retention_aws_does_not_offer_with_urn_and_property_path():
    findings = lint_plan(_doc_of("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 42}), "us-east-1")
    assert [(f.rule, f.path, f.urn) for f in findings] == [
        ("E3030", "Properties.RetentionInDays", "urn:pulumi:dev::microservices::aws:cloudwatch/logGroup:LogGroup::x")]
    assert "42 is not one of" in findings[0].message


def test_reports_a_fargate_cpu_and_memory_pair_aws_refuses():
    containers = json.dumps([{"name": "app", "image": "nginx:1.27", "essential": True}])
    findings = lint_plan(_doc_of("aws:ecs/taskDefinition:TaskDefinition", {
        "containerDefinitions": containers, "cpu": "256", "memory": "4096", "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"], "family": "app"}), "us-east-1")
    assert any(f.rule == "E3047" for f in findings), findings


def test_reports_an_instance_type_the_stacks_region_does_not_offer():
    doc = _doc_of("aws:ec2/launchTemplate:LaunchTemplate", {"instanceType": "p5.48xlarge",
                                                             "imageId": "ami-0123456789abcdef0"})
    assert lint_plan(doc, "us-east-1") == []
    findings = lint_plan(doc, "af-south-1")
    assert [(f.rule, f.path) for f in findings] == [("E3628", "Properties.LaunchTemplateData.InstanceType")]


def test_reports_a_reserved_lambda_environment_variable():
    doc = _doc_of("aws:lambda/function:Function", {
        "role": "arn:aws:iam::123456789012:role/fn", "runtime": "python3.13", "handler": "h.handler",
        "code": {"archive": {"path": "fn.zip"}}, "environment": {"variables": {"AWS_REGION": "eu-west-1"}}})
    findings = lint_plan(doc, "us-east-1")
    assert [(f.rule, f.path) for f in findings] == [("E3663", "Properties.Environment.Variables.AWS_REGION")]


def test_a_type_neither_mapped_nor_listed_unmappable_is_a_finding():
    findings = lint_plan(_doc_of("aws:sns/topic:Topic", {}), "us-east-1")
    assert [(f.rule, f.type) for f in findings] == [("MAP", "aws:sns/topic:Topic")]


def test_an_exception_silences_one_rule_on_one_type_only():
    doc = _doc_of("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 42})
    assert lint_plan(doc, "us-east-1", exceptions={("E3030", "aws:cloudwatch/logGroup:LogGroup"): "test"}) == []
    assert lint_plan(doc, "us-east-1", exceptions={("E3030", "aws:sqs/queue:Queue"): "test"})


def test_every_exception_has_a_written_reason():
    for (rule, type_), reason in EXCEPTIONS.items():
        assert rule and type_ in CFN_TYPES and len(reason) > 20, (rule, type_, reason)


# --- the translation -------------------------------------------------------------------------------------

def _registered_types() -> set[str]:
    """Every ``aws.<module>.<Type>`` resource class that components/ names (called there or passed around), as
    provider type tokens. pulumi_aws must be imported as ``import pulumi_aws as aws`` and nothing else, so no
    other spelling (``from pulumi_aws import ec2``, another alias) can register a type this scan misses."""
    import pulumi_aws as aws
    found = set()
    for path in (ROOT / "components").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_aws"):
                raise AssertionError(f"{path}:{node.lineno}: import pulumi_aws as aws, not from pulumi_aws import ...")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("pulumi_aws") or (alias.name, alias.asname) == ("pulumi_aws", "aws"), \
                        f"{path}:{node.lineno}: import pulumi_aws as aws"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                    and isinstance(node.value.value, ast.Name) and node.value.value.id == "aws" \
                    and node.attr[:1].isupper():
                cls = getattr(getattr(aws, node.value.attr), node.attr)
                if isinstance(cls, type) and issubclass(cls, pulumi.CustomResource):
                    found.add(_token_of(cls))
    return found


def _token_of(cls) -> str:
    """The type token a pulumi_aws resource class registers (read from its constructor's source)."""
    import inspect
    import re
    match = re.search(r"super\(\w+, __self__\).__init__\(\s*'([^']+)'", inspect.getsource(cls))
    assert match, cls
    return match.group(1)


def test_every_aws_type_the_library_can_register_is_mapped_or_unmappable_with_a_reason():
    registered = _registered_types()
    assert len(registered) > 60, registered
    missing = sorted(t for t in registered if t not in CFN_TYPES and t not in UNMAPPABLE)
    assert not missing, f"add these to components/tools/plan/cfn_types.py (CFN_TYPES or UNMAPPABLE): {missing}"
    assert all(len(reason) > 30 for reason in UNMAPPABLE.values())
    assert not set(CFN_TYPES) & set(UNMAPPABLE)


def test_tags_become_key_value_lists_or_maps_as_cloudformation_wants():
    assert to_cfn(CFN_TYPES["aws:sqs/queue:Queue"], {"tags": {"Service": "a"}}, "q")["Tags"] == \
        [{"Key": "Service", "Value": "a"}]
    assert to_cfn(CFN_TYPES["aws:apigatewayv2/api:Api"], {"tags": {"Service": "a"}}, "q")["Tags"] == {"Service": "a"}


def test_json_documents_are_parsed_and_user_keys_kept():
    role = to_cfn(CFN_TYPES["aws:iam/role:Role"], {"assumeRolePolicy": json.dumps({"Version": "2012-10-17",
                                                                                  "Statement": []})}, "r")
    assert role == {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}, "RoleName": "r"}
    fn = to_cfn(CFN_TYPES["aws:lambda/function:Function"], {"environment": {"variables": {"log_level": "x"}}}, "f")
    assert fn["Environment"] == {"Variables": {"log_level": "x"}}


def test_findings_render_as_a_markdown_section():
    findings = lint_plan(_doc_of("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 42}, "app-logs"), "us-east-1")
    text = findings_markdown(findings, (1, 1))
    assert text.startswith("#### AWS schema check (cfn-lint): 1 of 1 AWS resources checked")
    assert ("| `E3030` | `aws:cloudwatch/logGroup:LogGroup` app-logs<br>"
            "`urn:pulumi:dev::microservices::aws:cloudwatch/logGroup:LogGroup::app-logs` | `Properties.RetentionInDays` |"
            in text)
    assert findings_markdown([], (3, 4)).endswith("No findings.\n")
    assert findings_markdown(None) == ""


# --- the plan option --------------------------------------------------------------------------------------

LINT_PROGRAM = '''
import pulumi_aws as aws
aws.cloudwatch.LogGroup("app-logs", retention_in_days=42)
aws.sqs.Queue("jobs", message_retention_seconds=1209600)
'''


def test_plan_lint_option_exits_5_listing_each_finding_and_adds_it_to_the_comment(tmp_path, capsys):
    from components.tools.plan.__main__ import EXIT_LINT, main
    from tests.test_plan import make_project
    project = make_project(tmp_path, LINT_PROGRAM)
    md, out = tmp_path / "comment.md", tmp_path / "plan.json"
    assert main(["--stack", "test", "--dir", str(project), "--lint", "--markdown", str(md), "--json", str(out),
                 "-q"]) == EXIT_LINT == 5
    printed = capsys.readouterr().out
    assert "AWS schema check (cfn-lint): 2 of 2 AWS resources checked, 1 findings." in printed
    assert "E3030 aws:cloudwatch/logGroup:LogGroup app-logs (AWS::Logs::LogGroup) Properties.RetentionInDays: " \
           "42 is not one of" in printed
    assert "    urn: urn:pulumi:test::" in printed and "::aws:cloudwatch/logGroup:LogGroup::app-logs\n" in printed
    assert "#### AWS schema check (cfn-lint): 2 of 2 AWS resources checked" in md.read_text()
    assert [f["rule"] for f in json.loads(out.read_text())["lint"]] == ["E3030"]


def test_plan_lint_option_exits_0_when_aws_accepts_every_resource(tmp_path, capsys):
    from components.tools.plan.__main__ import main
    from tests.test_plan import make_project
    project = make_project(tmp_path, LINT_PROGRAM.replace("42", "30"))
    assert main(["--stack", "test", "--dir", str(project), "--lint", "-q"]) == 0
    assert "2 of 2 AWS resources checked, 0 findings." in capsys.readouterr().out


# --- defects the schema check found, each now refused by validation before anything is registered -------

def test_rejects_a_lambda_environment_variable_the_runtime_reserves(tmp_path):
    """cfn-lint E3663: Lambda refuses AWS_REGION, _HANDLER... in a function's environment at apply time."""
    from components.serverless import LambdaService
    from tests.conftest import assert_problem
    project = _lambda_project(tmp_path)
    lines = assert_problem(lambda: LambdaService("orders", {"code": "fn", "environment": {
        "AWS_REGION": "eu-west-1", "_HANDLER": "x", "STAGE": "test"}}, project_dir=project),
        "orders.environment.AWS_REGION", "is reserved by the Lambda runtime")
    assert any("orders.environment._HANDLER" in line for line in lines)
    assert not any("STAGE" in line for line in lines)


def test_pull_request_comment_shows_the_findings_and_says_the_check_fails(tmp_path):
    from tests.test_workflows import comment
    md = tmp_path / "comment.md"
    findings = lint_plan(_doc_of("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 42}, "app-logs"), "us-east-1")
    md.write_text("<!-- microservices-plan:dev -->\n### Plan of stack `dev`\n\n" + findings_markdown(findings, (1, 1)))
    sections = tmp_path / "sections"
    written = comment("section", "--stack", "dev", "--body", str(md), "--status", "5", "--out", str(sections))
    assert written.returncode == 0, written.stderr
    body = comment("body", "--sections", str(sections), "--stacks", "dev").stdout
    assert ("| `E3030` | `aws:cloudwatch/logGroup:LogGroup` app-logs<br>"
            "`urn:pulumi:dev::microservices::aws:cloudwatch/logGroup:LogGroup::app-logs` | `Properties.RetentionInDays` |"
            in body)
    assert "| `dev` | :x: AWS schema findings (cfn-lint) |" in body


def test_planned_ids_become_references_so_rules_across_resources_apply(plan):
    """A subnet outside its VPC's CIDR: only visible once the subnet's VpcId refers to the VPC (E3059)."""
    import pulumi_aws as aws

    def program():
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.20.0.0/16")
        aws.ec2.Subnet("inside", vpc_id=vpc.id, cidr_block="10.20.0.0/24", availability_zone="us-east-1a")
        aws.ec2.Subnet("outside", vpc_id=vpc.id, cidr_block="10.99.0.0/24", availability_zone="us-east-1b")

    doc = _doc(plan(program), "dev")
    template, owners = template_of(doc["resources"])
    vpc_logical = next(k for k, r in owners.items() if r["name"] == "vpc")
    assert all(b["Properties"]["VpcId"] == {"Ref": vpc_logical}
               for b in template["Resources"].values() if b["Type"] == "AWS::EC2::Subnet")
    findings = lint_plan(doc, "us-east-1")
    assert [(f.rule, f.name, f.path) for f in findings] == [("E3059", "outside", "Properties.CidrBlock")], findings


def test_s3_lifecycle_rules_are_checked_as_the_bucket_property_they_become():
    rule = {"id": "archive", "status": "Enabled", "filter": {"prefix": "logs/"}, "expiration": {"days": 365},
            "noncurrentVersionExpiration": {"noncurrentDays": 30},
            "transitions": [{"days": 10, "storageClass": "GLACIER"}]}
    doc = _doc_of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", {"bucket": "b", "rules": [rule]})
    template, _ = template_of(doc["resources"])
    (body,) = template["Resources"].values()
    assert body == {"Type": "AWS::S3::Bucket", "Properties": {"LifecycleConfiguration": {"Rules": [{
        "Id": "archive", "Status": "Enabled", "Prefix": "logs/", "ExpirationInDays": 365,
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
        "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 10}]}]}}}
    assert lint_plan(doc, "us-east-1") == []
    rule["transitions"][0]["storageClass"] = "COLD"
    assert [f.path for f in lint_plan(doc, "us-east-1")] == [
        "Properties.LifecycleConfiguration.Rules.0.Transitions.0.StorageClass"]


# --- review: security group rules the translation must not hide -------------------------------------------

def _security_group(*rules: dict) -> dict:
    return _doc_of("aws:ec2/securityGroup:SecurityGroup", {"vpcId": NET["vpc_id"], "description": "sg",
                                                            "ingress": list(rules)})


def test_all_traffic_rule_with_ports_is_reported_and_only_the_provider_required_zeros_are_not():
    """EC2 ignores ports with protocol -1: a rule that names 443 opens every port. Only 0/0, which the provider
    requires, is left out of the template; no exception silences W3687 on every security group."""
    assert ("W3687", "aws:ec2/securityGroup:SecurityGroup") not in EXCEPTIONS
    zeros = {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["10.0.0.0/8"]}
    assert lint_plan(_security_group(zeros), "us-east-1") == []
    wide = {"protocol": "-1", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}
    assert [(f.rule, f.path) for f in lint_plan(_security_group(wide), "us-east-1")] == [
        ("W3687", "Properties.SecurityGroupIngress.0.FromPort")]


def test_a_rule_whose_only_peer_is_the_group_itself_is_still_checked():
    rule = {"protocol": "50", "fromPort": 80, "toPort": 80, "self": True}
    (body,) = template_of(_security_group(rule)["resources"])[0]["Resources"].values()
    assert len(body["Properties"]["SecurityGroupIngress"]) == 1
    assert [f.rule for f in lint_plan(_security_group(rule), "us-east-1")] == ["W3687"]


def test_scale_in_protection_is_translated_not_dropped():
    """``protect_from_scale_in`` is the group's ``NewInstancesProtectedFromScaleIn`` (ECS managed termination
    protection needs it), not a per-instance setting."""
    props = to_cfn(CFN_TYPES["aws:autoscaling/group:Group"], {"maxSize": 2, "minSize": 0, "protectFromScaleIn": True},
                   "g")
    assert props["NewInstancesProtectedFromScaleIn"] is True


def test_ecs_service_keeps_the_providers_deployment_configuration_block():
    inputs = {"deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5},
              "deploymentMaximumPercent": 200, "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    props = to_cfn(CFN_TYPES["aws:ecs/service:Service"], inputs, "s")
    assert props["DeploymentConfiguration"] == {"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 5, "MaximumPercent": 200,
                                                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}}


def test_every_listener_rule_condition_is_translated_so_none_is_dropped_unchecked():
    inputs = {"listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a/1/2", "priority": 10,
              "actions": [{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "404"}}],
              "conditions": [{"httpHeader": {"httpHeaderName": "X-Canary", "values": ["1"]}},
                             {"queryString": [{"key": "v", "value": "2"}]},
                             {"sourceIp": {"values": ["10.0.0.0/8"]}},
                             {"httpRequestMethod": {"values": ["GET"]}}]}
    props = to_cfn(CFN_TYPES["aws:lb/listenerRule:ListenerRule"], inputs, "r")
    assert props["Conditions"] == [
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["1"]}},
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}]
    doc = _doc_of("aws:lb/listenerRule:ListenerRule", inputs)
    assert lint_plan(doc, "us-east-1") == []
    inputs["conditions"][2]["sourceIp"]["ipAddressType"] = "ipv5"  # what a dropped condition would have hidden
    assert [(f.rule, f.path) for f in lint_plan(doc, "us-east-1")] == [
        ("E3030", "Properties.Conditions.2.SourceIpConfig.IpAddressType")]


def test_dynamodb_recovery_period_is_checked_not_dropped():
    table = {"hashKey": "pk", "attributes": [{"name": "pk", "type": "S"}], "billingMode": "PAY_PER_REQUEST",
             "pointInTimeRecovery": {"enabled": True, "recoveryPeriodInDays": 35}}
    doc = _doc_of("aws:dynamodb/table:Table", table)
    assert lint_plan(doc, "us-east-1") == []
    table["pointInTimeRecovery"]["recoveryPeriodInDays"] = 90  # DynamoDB keeps at most 35 days
    assert [(f.rule, f.path) for f in lint_plan(doc, "us-east-1")] == [
        ("E3034", "Properties.PointInTimeRecoverySpecification.RecoveryPeriodInDays")]


def test_a_secret_or_unknown_value_neither_crashes_the_check_nor_is_reported():
    """The plan records a secret as "[secret]" (a whole container definitions document, once one variable in it is
    secret): the check cannot see it, so it neither parses it as JSON nor reports it; the rest is still checked."""
    doc = _doc_of("aws:ecs/taskDefinition:TaskDefinition", {
        "family": "app", "containerDefinitions": "[secret]", "cpu": "256", "memory": "4096", "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"]})
    assert [f.rule for f in lint_plan(doc, "us-east-1")] == ["E3047"]  # the Fargate size is still checked
    queue = _doc_of("aws:sqs/queue:Queue", {"redrivePolicy": "[secret]", "messageRetentionSeconds": 42})
    assert [(f.rule, f.path) for f in lint_plan(queue, "us-east-1")] == [("E3034", "Properties.MessageRetentionPeriod")]
    fn = _doc_of("aws:lambda/function:Function", {
        "role": "[unknown]", "runtime": "python3.13", "handler": "h.handler", "s3Bucket": "artifacts-bucket", "s3Key": "fn.zip",
        "environment": {"variables": "[secret]"}})
    assert lint_plan(fn, "us-east-1") == []


def test_a_managed_policy_attachment_is_checked_as_the_role_property_it_becomes():
    """An attachment is one item of ``AWS::IAM::Role.ManagedPolicyArns``: its policy ARN's pattern is checked."""
    assert "aws:iam/rolePolicyAttachment:RolePolicyAttachment" not in UNMAPPABLE
    doc = _doc_of("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                  {"role": "node-role-1a2b3c4", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"})
    assert lint_plan(doc, "us-east-1") == []
    doc["resources"][0]["inputs"]["policyArn"] = "arn:aws:iam:aws:policy/AmazonEKSWorkerNodePolicy"
    assert [(f.rule, f.path) for f in lint_plan(doc, "us-east-1")] == [("E3031", "Properties.ManagedPolicyArns.0")]


def test_s3_lifecycle_tag_and_combined_filters_are_translated_not_dropped():
    """A rule filtered by tags (alone or with ``and``) must not become a rule for the whole bucket."""
    rules = [{"id": "tagged", "status": "Enabled", "filter": {"tag": {"key": "tier", "value": "tmp"}},
              "expiration": {"days": 7}},
             {"id": "both", "status": "Enabled", "expiration": {"days": 30},
              "filter": {"and": {"prefix": "logs/", "objectSizeGreaterThan": 1024, "tags": {"keep": "no"}}}}]
    doc = _doc_of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", {"bucket": "b", "rules": rules})
    (body,) = template_of(doc["resources"])[0]["Resources"].values()
    tagged, both = body["Properties"]["LifecycleConfiguration"]["Rules"]
    assert tagged["TagFilters"] == [{"Key": "tier", "Value": "tmp"}]
    assert (both["Prefix"], both["ObjectSizeGreaterThan"], both["TagFilters"]) == (
        "logs/", 1024, [{"Key": "keep", "Value": "no"}])
    assert lint_plan(doc, "us-east-1") == []


def test_target_group_application_cookie_stickiness_is_translated_as_its_own_attributes():
    tg = {"port": 80, "protocol": "HTTP", "vpcId": NET["vpc_id"], "targetType": "ip",
          "stickiness": {"enabled": True, "type": "app_cookie", "cookieName": "SESSION", "cookieDuration": 3600}}
    props = to_cfn(CFN_TYPES["aws:lb/targetGroup:TargetGroup"], tg, "tg")
    assert {a["Key"]: a["Value"] for a in props["TargetGroupAttributes"]} == {
        "stickiness.enabled": "true", "stickiness.type": "app_cookie",
        "stickiness.app_cookie.cookie_name": "SESSION", "stickiness.app_cookie.duration_seconds": "3600"}
    assert lint_plan(_doc_of("aws:lb/targetGroup:TargetGroup", tg), "us-east-1") == []
