"""The offline plan: JSON schema, determinism, exit codes, secrets, diff, Markdown, Mermaid and manifests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path


from components.tools.plan.__main__ import main
from components.tools.plan.diff import diff_plans
from components.tools.plan.markdown import diff_markdown, mermaid

PROGRAM = textwrap.dedent('''
    import pulumi
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s

    cfg = pulumi.Config()
    class Box(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("acme:box:Box", name, None, opts)
            self.queue = aws.sqs.Queue(f"{name}-queue", visibility_timeout_seconds=cfg.get_int("timeout") or 30,
                                       sqs_managed_sse_enabled=True, opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({"url": self.queue.url})
    box = Box("box")
    secret = aws.ssm.Parameter("password", type="SecureString", value=cfg.require_secret("password"))
    k8s.core.v1.ConfigMap("settings", metadata={"name": "settings", "namespace": "apps"}, data={"a": "1"})
    k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": "apps"}, spec={
        "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080}]}]}}})
    pulumi.export("queue_url", box.queue.url)
    pulumi.export("password", secret.value)
''')


def make_project(tmp_path: Path, program: str = PROGRAM, config: str = "") -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: acme\nruntime:\n  name: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "stacks" / "Pulumi.test.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  acme:password:\n    secure: AAABAKoE8sVcuU1qYWZ+9b1mxJtpZ9dXL3Jb\n" + config)
    (tmp_path / "__main__.py").write_text(program)
    return tmp_path


def plan_json(tmp_path: Path, project: Path, name: str = "plan.json", *extra: str) -> dict:
    out = tmp_path / name
    assert main(["--stack", "test", "--dir", str(project), "--json", str(out), "-q", *extra]) == 0
    return json.loads(out.read_text())


def test_plans_any_pulumi_python_program_with_the_documented_schema(tmp_path):
    doc = plan_json(tmp_path, make_project(tmp_path))
    assert set(doc) == {"project", "stack", "environment", "resources", "outputs"}
    # No microservices:environment: the stack's name, as the policy pack decides it.
    assert (doc["project"], doc["stack"], doc["environment"]) == ("acme", "test", "test")
    queue = next(r for r in doc["resources"] if r["type"] == "aws:sqs/queue:Queue")
    assert set(queue) >= {"urn", "type", "name", "parent", "custom", "provider", "protect", "retainOnDelete",
                          "deleteBeforeReplace", "dependencies", "propertyDependencies", "inputs", "source"}
    assert queue["urn"] == "urn:pulumi:test::acme::acme:box:Box$aws:sqs/queue:Queue::box-queue"
    assert queue["parent"] == "urn:pulumi:test::acme::acme:box:Box::box"
    assert queue["inputs"]["visibilityTimeoutSeconds"] == 30 and isinstance(queue["inputs"]["visibilityTimeoutSeconds"], int)
    assert queue["source"] == "__main__.py:10"
    assert doc["outputs"]["queue_url"].startswith("https://sqs.eu-west-1.amazonaws.com/")


def test_secrets_never_appear_in_the_plan(tmp_path):
    doc = plan_json(tmp_path, make_project(tmp_path))
    param = next(r for r in doc["resources"] if r["type"] == "aws:ssm/parameter:Parameter")
    assert param["inputs"]["value"] == "[secret]"
    assert doc["outputs"]["password"] == "[secret]"
    assert "AAABAKoE8s" not in json.dumps(doc)


def test_two_runs_are_byte_identical(tmp_path, project_dir):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        assert main(["--stack", "dev", "--dir", str(project_dir), "--json", str(out), "-q"]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_invalid_catalog_exits_2_listing_every_problem_without_traceback(tmp_path, project_dir, capsys):
    stack = tmp_path / "stacks"
    stack.mkdir()
    (tmp_path / "Pulumi.yaml").write_text((project_dir / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((project_dir / "__main__.py").read_text())
    (stack / "Pulumi.bad.yaml").write_text(textwrap.dedent("""
        config:
          microservices:environment: qa
    """))
    assert main(["--stack", "bad", "--dir", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err
    assert "environment: must be one of 'dev', 'staging', 'prod', 'local', got 'qa'" in err
    (stack / "Pulumi.bad.yaml").write_text(textwrap.dedent("""
        config:
          microservices:environment: dev
          microservices:catalog_dir: ""
          microservices:network: {nat: two, cidr: 10.0.0.0/8}
          microservices:services:
            Bad_Name: {pattern: vm}
            api: {}
    """))
    assert main(["--stack", "bad", "--dir", str(tmp_path), "-q"]) == 2
    err = capsys.readouterr().err
    for expected in ("network.nat", "network.cidr", "services.Bad_Name", "services.api.pattern: is required"):
        assert expected in err
    assert "Traceback" not in err


def test_failing_program_exits_1_with_the_error(tmp_path, capsys):
    project = make_project(tmp_path, "raise RuntimeError('boom in program')\n")
    assert main(["--stack", "test", "--dir", str(project), "-q"]) == 1
    assert "RuntimeError: boom in program" in capsys.readouterr().err


def test_missing_stack_file_exits_1_naming_the_stacks(tmp_path, capsys):
    project = make_project(tmp_path)
    assert main(["--stack", "nope", "--dir", str(project)]) == 1
    assert "no stack file Pulumi.nope.yaml" in capsys.readouterr().err


def test_diff_classifies_add_update_replace_and_remove(tmp_path):
    base = plan_json(tmp_path, make_project(tmp_path), "base.json")
    head_program = PROGRAM.replace('k8s.core.v1.ConfigMap("settings"', 'k8s.core.v1.ConfigMap("settings2"') \
        .replace('"namespace": "apps"}, data', '"namespace": "other"}, data')
    project = make_project(tmp_path, head_program, "  acme:timeout: 60\n")
    head = plan_json(tmp_path, project, "head.json")
    diff = diff_plans(base, head)
    kinds = {(c.kind, c.name) for c in diff.changes}
    assert ("update", "box-queue") in kinds
    assert ("add", "settings2") in kinds and ("remove", "settings") in kinds
    queue = next(c for c in diff.changes if c.name == "box-queue")
    assert queue.properties == [("visibilityTimeoutSeconds", 30, 60)]
    assert diff.unchanged >= 2

    head["resources"] = [dict(r, inputs={**r["inputs"], "name": "renamed"}) if r["name"] == "box-queue" else r
                         for r in head["resources"]]
    replaced = next(c for c in diff_plans(base, head).changes if c.name == "box-queue")
    assert replaced.kind == "replace" and replaced.replace_reasons == ["name"]


def test_diff_markdown_puts_summary_first_and_stays_under_the_limit(tmp_path):
    base = {"stack": "dev", "resources": []}
    head = {"stack": "dev", "resources": [
        {"urn": f"urn:pulumi:dev::p::aws:sqs/queue:Queue::q{i}", "type": "aws:sqs/queue:Queue", "name": f"q{i}",
         "custom": True, "inputs": {"policy": "x" * 500, "n": i}} for i in range(400)]}
    text = diff_markdown(diff_plans(base, head), marker="<!-- plan:dev -->", limit=20_000)
    assert text.startswith("<!-- plan:dev -->\n### Plan of stack `dev`")
    assert "| 400 | 0 | 0 | 0 | 0 |" in text.split("####")[0]
    assert len(text) < 20_000 and "more resources not shown" in text


def test_mermaid_of_a_plan_shows_every_component(tmp_path):
    doc = plan_json(tmp_path, make_project(tmp_path))
    text = mermaid(doc)
    assert text == 'flowchart LR\n  c0["box<br/><small>acme:box:Box</small>"]\n'


def test_mermaid_of_a_diff_shows_only_what_changed(tmp_path):
    program = PROGRAM.replace('box = Box("box")', 'box = Box("box")\nother = Box("other")')
    base = plan_json(tmp_path, make_project(tmp_path, program), "base.json")
    head = plan_json(tmp_path, make_project(tmp_path, program, config="  acme:timeout: 45\n"), "head.json")
    text = mermaid(head, diff_plans(base, head))
    # Both boxes' queues changed: both shown, coloured as updated.
    assert "class c0 update" in text and "class c1 update" in text

    unchanged = mermaid(head, diff_plans(head, head))
    assert unchanged == 'flowchart LR\n  c0["no changes"]\n'

    removed = plan_json(tmp_path, make_project(tmp_path, PROGRAM), "removed.json")
    text = mermaid(removed, diff_plans(base, removed))
    assert 'c0["other<br/><small>acme:box:Box</small>"]' in text and "class c0 remove" in text
    assert '["box<br/>' not in text


def test_k8s_dir_writes_complete_manifests_with_integers(tmp_path):
    project = make_project(tmp_path)
    out = tmp_path / "manifests"
    assert main(["--stack", "test", "--dir", str(project), "--k8s-dir", str(out), "-q"]) == 0
    import yaml
    files = sorted(p.name for p in out.iterdir())
    assert files == ["configmap-apps-settings.yaml", "deployment-apps-web.yaml"]
    deployment = yaml.safe_load((out / "deployment-apps-web.yaml").read_text())
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 8080


def test_markdown_and_mermaid_files_are_written(tmp_path):
    project = make_project(tmp_path)
    md, mmd = tmp_path / "plan.md", tmp_path / "plan.mmd"
    assert main(["--stack", "test", "--dir", str(project), "--markdown", str(md), "--mermaid", str(mmd), "-q"]) == 0
    assert md.read_text().startswith("### Plan of stack `test`")
    assert "acme:box:Box" in md.read_text() and mmd.read_text().startswith("flowchart LR")


BUCKET_PROGRAM = textwrap.dedent('''
    import pulumi_aws as aws
    aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True)
''')


def test_project_of_another_name_takes_its_environment_from_the_microservices_namespace(tmp_path, capsys):
    project = make_project(tmp_path, BUCKET_PROGRAM, "  microservices:environment: prod\n")
    out = tmp_path / "plan.json"
    assert main(["--stack", "test", "--dir", str(project), "--json", str(out), "--policy", "-q"]) == 3
    doc = json.loads(out.read_text())
    assert (doc["project"], doc["environment"]) == ("acme", "prod")
    assert [(r["rule"], r["name"]) for r in doc["policy"]] == [("stateful-protected-in-prod", "jobs")]
    assert "[mandatory] stateful-protected-in-prod: aws:sqs/queue:Queue jobs" in capsys.readouterr().out


def test_stack_named_prod_without_environment_config_is_judged_as_prod_like_the_pack(tmp_path):
    project = make_project(tmp_path, BUCKET_PROGRAM)
    (project / "stacks" / "Pulumi.test.yaml").rename(project / "stacks" / "Pulumi.prod.yaml")
    out = tmp_path / "plan.json"
    assert main(["--stack", "prod", "--dir", str(project), "--json", str(out), "--policy", "-q"]) == 3
    assert json.loads(out.read_text())["environment"] == "prod"


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_json_into_a_missing_folder_creates_it(tmp_path):
    project = make_project(tmp_path, BUCKET_PROGRAM)
    out = tmp_path / "does" / "not" / "exist" / "plan.json"
    assert main(["--stack", "test", "--dir", str(project), "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["project"] == "acme"


def test_unwritable_outputs_end_in_one_error_line_with_exit_1(tmp_path, capsys):
    project = make_project(tmp_path, BUCKET_PROGRAM)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for option in ("--json", "--markdown", "--mermaid", "--k8s-dir"):
        target = str(blocker / "out") if option != "--k8s-dir" else str(blocker)
        assert main(["--stack", "test", "--dir", str(project), option, target, "-q"]) == 1, option
        line = _one_error_line(capsys)
        assert line.startswith(f"error: {option} {target}: "), line


def test_unreadable_or_foreign_diff_base_ends_in_one_error_line_with_exit_1(tmp_path, capsys):
    project = make_project(tmp_path, BUCKET_PROGRAM)
    cases = {"missing.json": None, "broken.json": "{not json", "list.json": "[1, 2]",
             "other.json": '{"resources": [{"id": 1}]}'}
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_text(content)
        assert main(["--stack", "test", "--dir", str(project), "--diff", str(path), "-q"]) == 1, name
        assert _one_error_line(capsys).startswith(f"error: --diff {path}: "), name


def test_command_line_mistakes_exit_4_with_one_error_line(tmp_path, capsys):
    assert main(["--dir", str(tmp_path)]) == 4
    assert "the following arguments are required: --stack" in _one_error_line(capsys)
    assert main(["--stack", "dev", "--jsn", "x"]) == 4
    assert "unrecognized arguments: --jsn x" in _one_error_line(capsys)


def test_missing_project_and_a_program_that_exits_end_in_one_error_line_with_exit_1(tmp_path, capsys):
    assert main(["--stack", "dev", "--dir", str(tmp_path / "nowhere")]) == 1
    assert "no Pulumi.yaml in" in _one_error_line(capsys)
    project = make_project(tmp_path, "import sys\nsys.exit(5)\n")
    assert main(["--stack", "test", "--dir", str(project), "-q"]) == 1
    assert "the program exited (sys.exit(5))" in _one_error_line(capsys)


REFERENCE_PROGRAM = textwrap.dedent('''
    import pulumi
    import pulumi_aws as aws
    infra = pulumi.StackReference("acme/platform/prod")
    aws.sqs.Queue("jobs", name=infra.require_output("queue_name"), sqs_managed_sse_enabled=True)
''')


def test_stack_reference_outputs_come_from_the_referenced_stacks_plan(tmp_path, capsys):
    platform = tmp_path / "platform.json"
    platform.write_text(json.dumps({"project": "platform", "stack": "prod", "resources": [],
                                    "outputs": {"queue_name": "platform-jobs"}}))
    project = make_project(tmp_path, REFERENCE_PROGRAM)
    out = tmp_path / "plan.json"
    assert main(["--stack", "test", "--dir", str(project), "--json", str(out), "-q",
                 "--stack-reference", f"acme/platform/prod={platform}"]) == 0
    queue = next(r for r in json.loads(out.read_text())["resources"] if r["type"] == "aws:sqs/queue:Queue")
    assert queue["inputs"]["name"] == "platform-jobs"

    # Without the referenced stack's outputs, the required output is missing: one line, exit 1.
    assert main(["--stack", "test", "--dir", str(project), "-q"]) == 1
    assert "KeyError: 'queue_name'" in _one_error_line(capsys)
    assert main(["--stack", "test", "--dir", str(project), "-q", "--stack-reference", "acme/platform/prod"]) == 4
    assert "expected STACK=PLAN_JSON" in _one_error_line(capsys)
    _collect_quietly()


def _collect_quietly() -> None:
    """A program that failed inside an Output leaves SDK coroutines never awaited; free them here, without
    their RuntimeWarnings, rather than during a later test."""
    import gc
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gc.collect()


def resource(urn_name: str, type_: str, inputs: dict, **extra) -> dict:
    return {"urn": f"urn:pulumi:prod::shop::{type_}::{urn_name}", "type": type_, "name": urn_name, "custom": True,
            "parent": None, "inputs": inputs, "propertyDependencies": {}, "dependencies": [], **extra}


def containers(image: str, env: list[dict]) -> str:
    return json.dumps([{"name": "app", "image": image, "environment": env, "portMappings": [{"containerPort": 8080}]},
                       {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0"}])


def test_json_string_properties_are_diffed_field_by_field_and_never_cut():
    env = [{"name": f"SETTING_{i}", "value": "x" * 40} for i in range(6)]
    task = "aws:ecs/taskDefinition:TaskDefinition"
    policy = "aws:iam/rolePolicy:RolePolicy"
    base_policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"],
                                                           "Resource": "arn:aws:s3:::orders/*"}]}
    head_policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"],
                                                           "Resource": "arn:aws:s3:::orders/*"},
                                                          {"Sid": "Write", "Effect": "Allow", "Action": ["s3:PutObject"],
                                                           "Resource": "arn:aws:s3:::orders/*"}]}
    base = {"stack": "prod", "resources": [
        resource("orders-task", task, {"containerDefinitions": containers("orders:1.4.1", env)}),
        resource("orders-policy", policy, {"policy": json.dumps(base_policy)})]}
    head = {"stack": "prod", "resources": [
        resource("orders-task", task, {"containerDefinitions": containers(
            "orders:1.4.2", env[:3] + [{"name": "FEATURE_X", "value": "on"}] + env[3:])}),
        resource("orders-policy", policy, {"policy": json.dumps(head_policy)})]}
    diff = diff_plans(base, head)
    by_name = {c.name: c for c in diff.changes}
    assert by_name["orders-task"].properties == [
        ("containerDefinitions[name=app].environment[name=FEATURE_X]", None, {"name": "FEATURE_X", "value": "on"}),
        ("containerDefinitions[name=app].image", "orders:1.4.1", "orders:1.4.2")]
    assert by_name["orders-policy"].properties == [("policy.Statement[Sid=Write]", None, head_policy["Statement"][1])]
    text = diff_markdown(diff)
    assert "| `containerDefinitions[name=app].image` | `orders:1.4.1` | `orders:1.4.2` |" in text
    assert "`policy.Statement[Sid=Write]`" in text and '"s3:PutObject"' in text


def test_long_values_are_shown_in_full_as_a_line_diff():
    script = "#!/bin/bash\n" + "\n".join(f"echo step {i} {'.' * 30}" for i in range(10))
    lt = "aws:ec2/launchTemplate:LaunchTemplate"
    base = {"stack": "prod", "resources": [resource("web-lt", lt, {"userData": script})]}
    head = {"stack": "prod", "resources": [resource("web-lt", lt, {"userData": script.replace("step 7", "step seven")})]}
    text = diff_markdown(diff_plans(base, head))
    assert "<code>userData</code> in full" in text
    assert f"\n-echo step 7 {'.' * 30}\n+echo step seven {'.' * 30}\n" in text


def test_resources_taking_inputs_from_a_replaced_resource_show_as_changing():
    vpc, subnet, svc = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ecs/service:Service"
    vpc_urn = f"urn:pulumi:prod::shop::{vpc}::core-vpc"
    subnet_urn = f"urn:pulumi:prod::shop::{subnet}::core-private-1"

    def plan(cidr: str) -> dict:
        return {"stack": "prod", "resources": [
            resource("core-vpc", vpc, {"cidrBlock": cidr}),
            resource("core-private-1", subnet, {"vpcId": "vpc-1", "cidrBlock": "10.0.1.0/24"},
                     propertyDependencies={"vpcId": [vpc_urn]}),
            resource("orders-service", svc, {"networkConfiguration": {"subnets": ["subnet-1"]}, "desiredCount": 2},
                     propertyDependencies={"networkConfiguration": [subnet_urn], "desiredCount": []}),
            resource("unrelated-queue", "aws:sqs/queue:Queue", {"name": "q"})]}

    diff = diff_plans(plan("10.0.0.0/16"), plan("10.1.0.0/16"))
    by_name = {c.name: c for c in diff.changes}
    assert by_name["core-vpc"].kind == "replace"
    assert by_name["core-private-1"].kind == "replace"
    assert by_name["core-private-1"].replace_reasons == ["vpcId (from the replacement of core-vpc)"]
    service = by_name["orders-service"]
    assert (service.kind, service.caused_by) == ("update", ["core-private-1"])
    assert service.properties == [("networkConfiguration", {"subnets": ["subnet-1"]}, "[known after replacement]")]
    assert "unrelated-queue" not in by_name and diff.unchanged == 1
    text = diff_markdown(diff)
    assert "<b>orders-service</b> (1 property; inputs from the replacement of core-private-1)" in text
    assert "_known after replacement_" in text


def test_removed_resources_show_type_name_and_what_deleting_them_does():
    table, bucket, queue = "aws:dynamodb/table:Table", "aws:s3/bucketV2:BucketV2", "aws:sqs/queue:Queue"
    base = {"stack": "prod", "resources": [resource("orders-table", table, {}, protect=True),
                                           resource("exports", bucket, {}, retainOnDelete=True),
                                           resource("jobs", queue, {})]}
    diff = diff_plans(base, {"stack": "prod", "resources": []})
    assert sorted((c.kind, c.type, c.name) for c in diff.changes) == [
        ("remove", table, "orders-table"), ("remove", bucket, "exports"), ("remove", queue, "jobs")]
    text = diff_markdown(diff)
    assert f"<code>- {table}</code> <b>orders-table</b> (deleted: **protected**, `pulumi up` fails" in text
    assert f"<code>- {bucket}</code> <b>exports</b> (deleted, but left in the cloud (retainOnDelete))" in text
    assert f"<code>- {queue}</code> <b>jobs</b> (deleted)" in text


def test_a_run_that_failed_in_an_output_leaves_nothing_behind_for_the_next_run(tmp_path, capsys):
    project = make_project(tmp_path, REFERENCE_PROGRAM)
    assert main(["--stack", "test", "--dir", str(project), "-q"]) == 1
    capsys.readouterr()
    # The next run in the same process neither waits on the failed run's tasks nor trips over them.
    other = tmp_path / "other"
    other.mkdir()
    doc = plan_json(tmp_path, make_project(other, BUCKET_PROGRAM))
    assert [r["name"] for r in doc["resources"]] == ["jobs"]
    _collect_quietly()
    assert "exception was never retrieved" not in capsys.readouterr().err


def test_the_documented_command_launches_the_planner_that_lives_in_tools():
    """``python -m components.plan`` (tasks.py, the workflows, the guide) runs ``components/tools/plan``'s CLI,
    with its exit codes and under its documented name."""
    import subprocess
    import sys

    from tests.conftest import ROOT
    ok = subprocess.run([sys.executable, "-m", "components.plan", "--help"], cwd=ROOT, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("usage: python -m components.plan "), ok.stderr
    bad = subprocess.run([sys.executable, "-m", "components.plan", "--no-such-option"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 4
    assert bad.stderr.strip().endswith("(python -m components.plan --help lists the options)")
