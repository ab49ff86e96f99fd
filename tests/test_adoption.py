"""Adopting the library as another team would: `pip install` it, import it beside a program's own
`components/` folder, plan, diff and policy-check a project of another name outside this repository, test
that program with the packaged helper, and run the policy pack from the installed copy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path


from tests.conftest import ROOT, in_project

PYTHON = sys.executable


SHOP_PROGRAM = textwrap.dedent('''
    import pulumi
    import pulumi_aws as aws

    from components.naming import prefixed          # the team's own components/ folder
    from microservice_components import LambdaService, Network

    cfg = pulumi.Config()
    net = Network("core", {"nat": "single", "availability_zones": 2})
    fn = LambdaService("hello", {"code": "functions/hello", "memory": cfg.get_int("memory") or 256})
    # Written by hand, without protect: the policy must catch it in prod whatever the project is called.
    jobs = aws.sqs.Queue(prefixed("jobs"), sqs_managed_sse_enabled=True)
    pulumi.export("function_arn", fn.function_arn)
    pulumi.export("queue_url", jobs.url)
''')


def make_shop(root: Path, memory: int = 256) -> Path:
    """A Pulumi project named `shop` (not `microservices`) with a `components/` folder of its own."""
    project = root / "shop"
    (project / "stacks").mkdir(parents=True, exist_ok=True)
    (project / "components").mkdir(exist_ok=True)
    (project / "functions" / "hello").mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text("name: shop\nruntime:\n  name: python\nstackConfigDir: stacks\n")
    (project / "stacks" / "Pulumi.prod.yaml").write_text(textwrap.dedent(f"""
        config:
          aws:region: eu-west-1
          microservices:environment: prod
          shop:memory: {memory}
    """))
    (project / "components" / "__init__.py").write_text("")
    (project / "components" / "naming.py").write_text("def prefixed(name):\n    return f'shop-{name}'\n")
    (project / "functions" / "hello" / "handler.py").write_text("def handler(event, context):\n    return 'hi'\n")
    (project / "__main__.py").write_text(SHOP_PROGRAM)
    return project


def test_pyproject_packages_every_folder_of_the_library_under_the_install_name() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"microservice_components": "components"}
    on_disk = sorted("microservice_components" + ("." + ".".join(p.relative_to(ROOT / "components").parts)
                                                  if p != ROOT / "components" else "")
                     for p in [ROOT / "components", *(ROOT / "components").rglob("*")]
                     if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py")))
    assert sorted(setuptools["packages"]) == on_disk


def test_installed_package_is_importable_beside_a_programs_own_components_folder(installed, tmp_path) -> None:
    project = make_shop(tmp_path)
    result = in_project(project, installed, "-c", textwrap.dedent('''
        import json, components, microservice_components as mc
        from microservice_components import LambdaService, Network, CatalogError
        from microservice_components.patterns import load_pattern, PATTERN_MODULES
        import components.naming
        load_pattern("vm")
        print(json.dumps({"theirs": components.__file__, "ours": mc.__file__, "lambda": LambdaService.__module__,
                          "patterns": sorted(PATTERN_MODULES.values())}))
    '''))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["theirs"] == str(project / "components" / "__init__.py")
    assert seen["ours"] == str(installed / "microservice_components" / "__init__.py")
    assert seen["lambda"] == "microservice_components.serverless.component"
    assert all(m.startswith("microservice_components.") for m in seen["patterns"])
    # The wheel installs one top-level package, under its own name: no `components` to shadow or be shadowed.
    assert sorted(p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")) == ["microservice_components"]
    shipped = {p.relative_to(installed / "microservice_components").as_posix()
               for p in (installed / "microservice_components").rglob("*.py")}
    assert shipped == {p.relative_to(ROOT / "components").as_posix() for p in (ROOT / "components").rglob("*.py")}


def test_scratch_project_of_another_name_is_planned_diffed_and_policy_checked(installed, tmp_path) -> None:
    project = make_shop(tmp_path)
    base = tmp_path / "plans" / "base.json"
    result = in_project(project, installed, "-m", "microservice_components.plan", "--stack", "prod",
                        "--json", str(base), "--policy", "-q")
    # Exit 3: the hand-written queue is not protected, and the environment is prod although the project is `shop`.
    assert result.returncode == 3, result.stdout + result.stderr
    doc = json.loads(base.read_text())
    assert (doc["project"], doc["environment"]) == ("shop", "prod")
    assert [(p["rule"], p["name"]) for p in doc["policy"]] == [("stateful-protected-in-prod", "shop-jobs")]
    function = next(r for r in doc["resources"] if r["type"] == "aws:lambda/function:Function")
    assert function["urn"].startswith("urn:pulumi:prod::shop::microservices:lambda:LambdaService$")
    # The package is built in the team's project (relative to it) and staged in S3 under its content hash.
    package = next(r for r in doc["resources"] if r["type"] == "aws:s3/bucketObjectv2:BucketObjectv2")
    assert package["inputs"]["source"]["asset"]["path"].startswith(".build/lambda/hello-")
    assert function["inputs"]["s3Key"] == package["inputs"]["key"]

    make_shop(tmp_path, memory=512)
    comment = tmp_path / "plans" / "comment.md"
    result = in_project(project, installed, "-m", "microservice_components.plan", "--stack", "prod",
                        "--diff", str(base), "--markdown", str(comment), "--policy", "-q")
    assert result.returncode == 3, result.stdout + result.stderr
    assert re.search(r"Diff of stack prod: 0 to add, [1-9]\d* to change, \d+ to replace, 0 to remove", result.stdout)
    text = comment.read_text()
    assert "aws:lambda/function:Function" in text and "`memorySize`" in text
    assert "stateful-protected-in-prod" in text


def test_packaged_test_helper_runs_a_program_with_its_stack_file(installed, tmp_path) -> None:
    project = make_shop(tmp_path)
    result = in_project(project, installed, "-c", textwrap.dedent('''
        import json
        from microservice_components.testing import catalog_problems, policy_violations, run_stack, stack_config
        from microservice_components import LambdaService

        graph = run_stack("prod")
        fn = graph.one("aws:lambda/function:Function")
        print(json.dumps({
            "environment": graph.environment, "project": graph.project, "memory": fn.get("memorySize"),
            "region": stack_config("prod")["aws:region"],
            "violations": [(v.rule, v.name) for v in policy_violations(graph)],
            "exports": sorted(graph.outputs),
            "problems": catalog_problems(lambda: LambdaService("bad", {"code": "functions/hello", "memory": 64})),
        }))
    '''))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert (seen["environment"], seen["project"], seen["memory"], seen["region"]) == ("prod", "shop", 256, "eu-west-1")
    assert seen["violations"] == [["stateful-protected-in-prod", "shop-jobs"]]
    assert seen["exports"] == ["function_arn", "queue_url"]
    assert seen["problems"] == ["bad.memory: must be between 128 and 10240 MB inclusive, got 64"]


LAUNCH = ("import runpy, sys; sys.modules['pulumi_aws'] = None; sys.modules['pulumi_kubernetes'] = None; "
          "sys.argv = ['pulumi.policy', '127.0.0.1:0', sys.argv[1]]; runpy.run_module('pulumi.policy', run_name='__main__')")


def test_policy_pack_runs_from_an_installed_copy_of_the_library(installed, tmp_path) -> None:

    project = make_shop(tmp_path)
    result = in_project(project, installed, "-m", "microservice_components.policy_pack", "policy",
                        "--requirement", "microservice-components @ git+https://github.com/acme/microservice-components@v0.1.0")
    assert result.returncode == 0, result.stderr
    # The CLI runs a local Python pack with the virtualenv its PulumiPolicy.yaml names: say how to make it.
    assert "python -m venv policy/venv && policy/venv/bin/pip install -r policy/requirements.txt" in result.stdout
    pack = project / "policy"
    assert sorted(p.name for p in pack.iterdir()) == ["PulumiPolicy.yaml", "__main__.py", "requirements.txt"]
    assert (pack / "requirements.txt").read_text().splitlines() == [
        "microservice-components @ git+https://github.com/acme/microservice-components@v0.1.0", "pulumi-policy==1.21.0"]
    assert "from microservice_components.tools.policy_pack import serve" in (pack / "__main__.py").read_text()
    # The pack's pulumi-policy is the one this repository's own pack and tests use.
    assert "pulumi-policy==1.21.0" in (ROOT / "policy" / "requirements.txt").read_text().splitlines()

    assert _pack_verdicts(pack, project, installed) == ["stateful-protected-in-prod"]


def _pack_verdicts(pack, project, installed) -> list[str]:
    """Start ``pack`` as the Pulumi CLI does (prod stack, the installed library only) and return the policies it
    reports for an unprotected SQS queue."""
    import grpc
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(installed), PULUMI_CONFIG=json.dumps({"microservices:environment": "prod"}),
               PULUMI_STACK="acme/shop-prod", PULUMI_PROJECT="shop", PULUMI_DRY_RUN="true")
    proc = subprocess.Popen([PYTHON, "-u", "-c", LAUNCH, str(pack)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=project)
    try:
        port = proc.stdout.readline().decode().strip()
        assert port.isdigit(), proc.stderr.read().decode()[-3000:]
        stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        props = struct_pb2.Struct()
        props.update({"sqsManagedSseEnabled": True})
        found = stub.Analyze(analyzer_pb2.AnalyzeRequest(
            type="aws:sqs/queue:Queue", properties=props, name="jobs",
            urn="urn:pulumi:shop-prod::shop::aws:sqs/queue:Queue::jobs")).diagnostics
        return [d.policyName for d in found]
    finally:
        proc.kill()
        proc.wait()


#: ``__main__.py`` of a pack written by ``python -m microservice_components.policy_pack`` before the tools moved to
#: ``components/tools`` (verbatim): a team keeps that file and only bumps the library in ``requirements.txt``.
EARLIER_PACK_MAIN = '''"""Policy pack microservices-defaults: the rules of the installed microservice_components (see its README, "The policy pack")."""

from microservice_components.policy_pack import serve

if __name__ == "__main__":
    serve()
'''


def test_a_pack_written_by_an_earlier_version_still_runs_on_the_upgraded_library(installed, tmp_path) -> None:
    """GIVEN a policy pack whose ``__main__.py`` an earlier version wrote (it imports ``serve`` from
    ``microservice_components.policy_pack``), WHEN the Pulumi CLI starts it with the upgraded library installed,
    THEN it serves the rules instead of failing ``pulumi preview --policy-pack`` with an ImportError."""

    project = make_shop(tmp_path)
    result = in_project(project, installed, "-m", "microservice_components.policy_pack", "policy")
    assert result.returncode == 0, result.stderr
    pack = project / "policy"
    (pack / "__main__.py").write_text(EARLIER_PACK_MAIN)
    assert _pack_verdicts(pack, project, installed) == ["stateful-protected-in-prod"]


def test_comment_script_plans_the_base_of_a_program_that_installed_the_library(installed, tmp_path) -> None:
    project = make_shop(tmp_path)
    out = tmp_path / "plans" / "base.json"
    result = in_project(project, installed, str(ROOT / ".ci" / "pr-comment.py"), "base", "--stack", "prod",
                        "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::warning::" not in result.stdout, result.stdout
    doc = json.loads(out.read_text())
    assert (doc["project"], doc["environment"]) == ("shop", "prod") and doc["resources"]
