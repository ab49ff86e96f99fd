"""What more than one pattern uses lives once, in ``components/blocks``: GIVEN the same input to two
patterns / WHEN validated or planned under mocks / THEN both give the one answer the block gives."""

from __future__ import annotations

import pytest

from components.blocks.launch_template import AMI_ID_PATTERN
from components.ecs import EcsCluster
from components.serverless import LambdaService
from components.tools.plan.runtime import run
from components.vm import VmService
from tests.conftest import ROOT, assert_problem

NET = {"vpc_id": "vpc-0123", "vpc_cidr": "10.40.0.0/16",
       "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"], "private_subnet_ids": ["subnet-priv-a", "subnet-priv-b"]}
CONFIG = {"aws:region": "us-east-1"}

# -- AMI ids ------------------------------------------------------------------------------------------
BAD_AMI_IDS = ["ami-0123456789ab", "ami-0123456", "ami-0123456789ABCDEF0", "ami-0123456789abcdef01", "ubuntu"]
GOOD_AMI_IDS = ["ami-0123abcd", "ami-0123456789abcdef0"]


@pytest.mark.parametrize("ami", BAD_AMI_IDS)
def test_vm_and_ecs_reject_the_same_malformed_ami_ids(ami):
    message = f"must be an AMI id such as 'ami-0abcdef1234567890', got {ami!r}"
    assert_problem(lambda: VmService("inventory", {"ami": ami}, network=NET, project_dir=ROOT),
                   "inventory.ami", message)
    assert_problem(lambda: EcsCluster("ecs", {"ec2": {"ami_id": ami}}, network=NET), "ecs.ec2.ami_id", message)


@pytest.mark.parametrize("ami", GOOD_AMI_IDS)
def test_vm_and_ecs_launch_the_same_well_formed_ami_ids(plan, ami):
    vm = plan(lambda: VmService("inventory", {"ami": ami}, network=NET, project_dir=ROOT), config=CONFIG)
    ecs = plan(lambda: EcsCluster("ecs", {"ec2": {"ami_id": ami}}, network=NET), config=CONFIG)
    assert vm.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == ami
    assert ecs.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == ami


def test_ami_id_pattern_lives_once_in_the_launch_template_block():
    import components.ecs.validate as ecs
    import components.vm.validate as vm
    assert vm.AMI_ID_PATTERN is ecs.AMI_ID_PATTERN is AMI_ID_PATTERN


# -- the network accessor -----------------------------------------------------------------------------
def test_lambda_in_a_vpc_reads_a_network_object_as_the_other_patterns_do(tmp_path):
    class Outputs:
        vpc_id, vpc_cidr, private_subnet_ids = "vpc-9", "10.9.0.0/16", ["subnet-x", "subnet-y"]
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    graph = run(lambda: LambdaService("orders", {"code": "fn", "vpc": True}, network=Outputs(),
                                      project_dir=tmp_path, profile="dev"),
                config={"microservices:environment": "dev"}, stack="dev", project_dir=tmp_path)
    assert graph.one("aws:lambda/function:Function").get("vpcConfig.subnetIds") == ["subnet-x", "subnet-y"]
    assert graph.one("aws:ec2/securityGroup:SecurityGroup", "orders-sg").inputs["vpcId"] == "vpc-9"


def test_lambda_in_a_vpc_names_the_key_a_network_dict_lacks(tmp_path):
    """A dict without ``vpc_cidr`` used to plan a security group rule for CIDR ``None``, which AWS rejects
    at apply time; the shared accessor fails the preview naming the missing key."""
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    network = {"vpc_id": "vpc-9", "private_subnet_ids": ["subnet-x"]}
    with pytest.raises(Exception, match="network: missing 'vpc_cidr'"):
        run(lambda: LambdaService("orders", {"code": "fn", "vpc": True}, network=network,
                                  project_dir=tmp_path, profile="dev"),
            config={"microservices:environment": "dev"}, stack="dev", project_dir=tmp_path)


def test_one_network_accessor_for_every_pattern():
    import components.ecs.cluster as ecs_cluster
    import components.ecs.service as ecs
    import components.serverless.component as lambda_service
    import components.vm.ami as vm_ami
    import components.vm.component as vm
    from components.blocks.load_balancer import network_value
    assert ecs_cluster.network_value is network_value
    assert vm.network_value is vm_ami.network_value is ecs.network_value is lambda_service.network_value is network_value
    assert not hasattr(lambda_service, "_network_value")


# -- no pattern imports another -----------------------------------------------------------------------
COMPONENTS = ROOT / "components"
#: Each pattern's modules (``components/<name>.py``, or a package folder). What is in none of them is shared:
#: the building blocks, the core spec, profiles, validation, the registry, ``container_image``...
PATTERN_PARTS = {
    "vm": ("vm", "vm_refresh"),
    "ecs": ("ecs",),
    "docker": ("docker",),
    "eks": ("eks", "eks_token"),
    "lambda": ("serverless",),
}
#: Tools around the components: the ``tools`` package (the offline planner, the policy rules and pack, the
#: reference generator), the launchers of its documented commands (``plan.py``, ``policy_pack.py``) and the
#: test helpers.
TOOLS = ("tools", "plan", "policy_pack", "testing")


def _owner(module: str) -> str | None:
    """The pattern (or ``tool:<name>``) a module of ``components`` (dotted, without the package) belongs to."""
    top = module.split(".", 1)[0]
    for pattern, parts in PATTERN_PARTS.items():
        if top in parts:
            return pattern
    return f"tool:{top}" if top in TOOLS else None


def _imported_modules(path, root=COMPONENTS) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of ``components`` (whose folder is ``root``) in ``path``, at any
    depth (function-level too), in line order."""
    import ast
    here = path.relative_to(root).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[:len(here) - (node.level - 1)])
                target = base + (node.module.split(".") if node.module else [])
                if node.module:
                    found.append((node.lineno, ".".join(target)))
                else:
                    found.extend((node.lineno, ".".join(target + [alias.name])) for alias in node.names)
            elif node.module and node.module.split(".")[0] in ("components", "microservice_components"):
                found.append((node.lineno, node.module.split(".", 1)[1] if "." in node.module else ""))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("components", "microservice_components") and "." in alias.name:
                    found.append((node.lineno, alias.name.split(".", 1)[1]))
    return sorted(found)


def _pattern_files():
    for pattern, parts in PATTERN_PARTS.items():
        for part in parts:
            folder = COMPONENTS / part
            for path in sorted(folder.rglob("*.py")) if folder.is_dir() else [COMPONENTS / f"{part}.py"]:
                yield pattern, path


def test_the_layout_table_names_every_registered_pattern():
    from components.patterns import PATTERN_MODULES
    assert set(PATTERN_PARTS) == set(PATTERN_MODULES)
    for pattern, module in PATTERN_MODULES.items():
        inner = module.split(".", 1)[1]  # "vm.pattern" in a pattern package
        assert inner.split(".")[0] in PATTERN_PARTS[pattern]
        assert (COMPONENTS / f"{inner.replace('.', '/')}.py").is_file()
    assert all(path.exists() for _, path in _pattern_files())


def test_no_pattern_module_imports_another_pattern_or_a_tool():
    crossings = []
    for pattern, path in _pattern_files():
        for line, module in _imported_modules(path):
            owner = _owner(module)
            if owner is not None and owner != pattern:
                crossings.append(f"{path.relative_to(ROOT)}:{line} ({pattern}) imports {module} ({owner})")
    assert crossings == []


def test_the_import_check_sees_relative_and_function_level_imports(tmp_path):
    """The check above would pass vacuously if it missed imports: it sees every form a crossing takes."""
    probe = tmp_path / "serverless" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("from ..docker import CONTAINER_KEYS\nfrom ..tools import policy\nfrom .http_api import validate_cors\n"
                     "def f():\n    from ..vm import architecture\n    import components.ecs\n"
                     "from ..tools.plan.runtime import run\n")
    assert [(line, m, _owner(m)) for line, m in _imported_modules(probe, root=tmp_path)] == [
        (1, "docker", "docker"), (2, "tools", "tool:tools"), (3, "serverless.http_api", "lambda"), (5, "vm", "vm"),
        (6, "ecs", "ecs"), (7, "tools.plan.runtime", "tool:tools")]


def test_pattern_modules_import_only_public_names():
    """A private helper borrowed from another module (``http_api`` took ``spec._check_cors``) is a copy's
    first step: what two modules use is public in the one that owns it."""
    import ast
    private = []
    for _, path in _pattern_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                private += [f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name} from {node.module}"
                            for alias in node.names if alias.name.startswith("_")]
    assert private == []


def test_the_tools_live_in_one_package_and_the_documented_commands_only_launch_them():
    """The planner, the policy rules, the pack's adapter and the reference generator are in ``components/tools``;
    what stays beside the patterns (``plan.py``, ``policy_pack.py``) is a launcher of a documented command."""
    tools = COMPONENTS / "tools"
    assert {p.name for p in tools.iterdir() if not p.name.startswith("__pycache__")} >= {
        "__init__.py", "plan", "policy.py", "policy_pack.py", "reference.py"}
    assert not any((COMPONENTS / name).exists() for name in ("policy.py", "reference.py", "plan"))
    launchers = {"plan.py": "tools.plan.__main__", "policy_pack.py": "tools.policy_pack"}
    for launcher, target in launchers.items():
        path = COMPONENTS / launcher
        assert [m for _, m in _imported_modules(path)] == [target]
        assert _owner(target) == "tool:tools" and len(path.read_text().splitlines()) < 15
