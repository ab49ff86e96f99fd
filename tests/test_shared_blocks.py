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


# -- resolve once: the blocks' settings carry the defaults their args document ---------------------------------
def documented_defaults(args_class: type, settings_class: type, exempt: tuple[str, ...] = ()) -> list[str]:
    """Assert that each field of ``settings_class`` with a literal default (a bool, int, str, or a non-empty list
    from a factory) is the ``Default:`` its key's docstring in ``args_class`` states; return the fields checked.
    None and empty collections mean "none", which a docstring states as the behaviour it gives."""
    import ast
    import dataclasses
    import inspect
    import json
    import textwrap
    body = ast.parse(textwrap.dedent(inspect.getsource(args_class))).body[0].body
    docs = {node.target.id: " ".join(following.value.value.split()) for node, following in zip(body, body[1:])
            if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr)}
    checked = []
    for f in dataclasses.fields(settings_class):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if f.name not in docs or f.name in exempt or not isinstance(default, (bool, int, str, list)) \
                or default == []:
            continue
        shown = str(default).lower() if isinstance(default, bool) else f"``{default}``" if isinstance(default, str) \
            else f"``{json.dumps(default)}``" if isinstance(default, list) else str(default)
        assert f"Default: {shown}" in docs[f.name], (args_class.__name__, f.name, default, docs[f.name])
        checked.append(f.name)
    assert checked, f"{args_class.__name__}: no literal default checked"
    return checked


def test_the_core_spec_defaults_are_the_fields_the_args_document():
    from components.blocks.service import CoreSpec, HealthCheck, HealthCheckArgs, Scaling, ScalingArgs
    from components.docker.args import DockerServiceArgs
    from components.ecs.args import EcsServiceArgs
    from components.eks.args import KubernetesServiceArgs
    from components.vm.args import VmServiceArgs
    assert documented_defaults(HealthCheckArgs, HealthCheck, exempt=("grace_period",)) == [
        "path", "interval", "timeout", "healthy_threshold", "unhealthy_threshold"]
    # The grace period is the pattern's: the field holds the containers' (VMs pass their own).
    assert "60 for containers" in HealthCheckArgs.__doc__ + " ".join(_field_doc(HealthCheckArgs, "grace_period"))
    assert HealthCheck.grace_period == 60
    assert documented_defaults(ScalingArgs, Scaling) == ["target_cpu"]
    for args in (VmServiceArgs, EcsServiceArgs, KubernetesServiceArgs, DockerServiceArgs):
        assert documented_defaults(args, CoreSpec) == ["port", "expose"], args


def _field_doc(args_class: type, key: str) -> list[str]:
    import ast
    import inspect
    import textwrap
    body = ast.parse(textwrap.dedent(inspect.getsource(args_class))).body[0].body
    return [following.value.value for node, following in zip(body, body[1:])
            if isinstance(node, ast.AnnAssign) and node.target.id == key]


def test_the_container_defaults_are_the_fields_the_args_document():
    from components.blocks.container import ContainerSettings
    from components.blocks.container_image import ContainerImageArgs, ImageSettings
    from components.docker.args import DockerServiceArgs
    from components.ecs.args import EcsServiceArgs
    for args in (EcsServiceArgs, DockerServiceArgs):
        assert documented_defaults(args, ContainerSettings) == ["read_only_root_filesystem", "writable_paths"], args
    assert documented_defaults(ContainerImageArgs, ImageSettings) == ["dockerfile"]


def test_an_empty_core_spec_resolves_to_the_field_defaults_and_the_profile_capacity():
    from components.blocks.service import DEFAULT_PORT, CoreSpec, HealthCheck, Scaling, resolve_core
    from components.profiles import get_profile
    prod = get_profile("prod")
    core = resolve_core({}, prod)
    assert core == CoreSpec(scaling=Scaling(min=prod.min_capacity, max=max(prod.max_capacity, prod.min_capacity),
                                            desired=prod.min_capacity))
    assert (core.port, core.expose, core.health_check, core.scaling.target_cpu) == \
        (DEFAULT_PORT, "internal", HealthCheck(), 60)
    assert resolve_core({}, prod, default_port=80, default_grace_period=300).health_check.grace_period == 300


def test_a_core_key_set_to_null_takes_the_default_as_if_left_out():
    """A stack file may null a key the shared catalog sets, to get the default back."""
    from components.blocks.service import resolve_core
    from components.profiles import get_profile
    dev = get_profile("dev")
    nulled = {"port": None, "expose": None, "health_check": {"interval": None, "path": None},
              "scaling": {"min": None, "target_cpu": None}, "secrets_kms_keys": None}
    assert resolve_core(nulled, dev) == resolve_core({}, dev)


def test_explicit_core_values_win_over_every_default():
    from components.blocks.service import HealthCheck, Scaling, resolve_core
    from components.profiles import get_profile
    spec = {"port": 9000, "expose": "public", "health_check": {"path": "/ready", "interval": 10, "grace_period": 5},
            "scaling": {"min": 3, "target_cpu": 40}, "secrets_kms_keys": ["k"], "environment": {"FLAG": True}}
    core = resolve_core(spec, get_profile("dev"), default_port=80, default_grace_period=300)
    assert (core.port, core.expose, core.secrets_kms_keys, core.environment) == (9000, "public", ("k",), {"FLAG": "true"})
    assert core.health_check == HealthCheck(path="/ready", interval=10, grace_period=5)
    assert core.scaling == Scaling(min=3, max=3, desired=3, target_cpu=40)


def test_a_health_check_timeout_set_to_null_is_validated_as_its_default():
    from components.blocks.service import validate_core
    from components.validation import Problems
    problems = Problems()
    validate_core({"health_check": {"interval": 5, "timeout": None}}, "services.cart", problems)
    assert any("health_check.interval" in line and "greater than health_check.timeout (5), got 5" in line
               for line in map(str, problems))


def test_a_container_spec_resolves_once_into_settings_with_the_field_defaults():
    from components.blocks.container import ContainerSettings, default_health_command, resolve_container
    from components.blocks.service import resolve_core
    from components.profiles import get_profile
    core = resolve_core({"port": 9000, "health_check": {"path": "/ok"}}, get_profile("dev"))
    assert resolve_container("cart", {}, core) == ContainerSettings(
        image={"context": "services/cart"}, health_command=default_health_command(9000, "/ok"))
    worker = resolve_container("mailer", {"read_only_root_filesystem": None, "writable_paths": None}, core,
                               serves_http=False)
    assert (worker.health_command, worker.read_only_root_filesystem, worker.writable_paths) == (None, True, ["/tmp"])
    given = resolve_container("cart", {"command": ["serve"], "health_command": ["NONE"], "user": "10001",
                                       "read_only_root_filesystem": False, "writable_paths": ["/var", "/cache"]}, core)
    assert (given.command, given.health_command, given.user, given.read_only_root_filesystem, given.writable_paths) \
        == (["serve"], ["NONE"], "10001", False, ["/cache", "/var"])


def test_an_image_spec_resolves_once_into_settings():
    from components.blocks.container_image import ImageSettings, resolve_image
    assert resolve_image({"context": "services/cart"}) == ImageSettings(context="services/cart")
    assert resolve_image({"context": "services/cart", "dockerfile": None}).dockerfile == "Dockerfile"
    built = resolve_image({"context": "jobs", "dockerfile": "Dockerfile.prod", "build_args": {"B": 2, "A": "x"},
                           "platform": "linux/amd64"})
    assert built == ImageSettings(context="jobs", dockerfile="Dockerfile.prod", build_args=(("A", "x"), ("B", "2")),
                                  platform="linux/amd64")
    assert resolve_image({"ref": "nginx:1.27"}) == ImageSettings(ref="nginx:1.27")


#: Modules whose specs resolve once into settings: none falls back on a literal with ``.get(key, literal)``.
RESOLVED_ONCE = ("network/args.py", "network/component.py", "network/needs.py", "network/validate.py", "catalog.py",
                 "blocks/service.py", "blocks/container.py", "blocks/container_image.py", "blocks/launch_template.py",
                 *sorted(str(p.relative_to(COMPONENTS)) for p in (COMPONENTS / "blocks" / "load_balancer").glob("*.py")))


def test_the_blocks_and_the_network_read_settings_not_literal_fallbacks():
    import ast
    found = []
    for module in RESOLVED_ONCE:
        path = COMPONENTS / module
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            # A lookup table's fallback (``{...}.get(platform, "native")``) is not a spec's default.
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and not isinstance(node.func.value, ast.Dict) and len(node.args) == 2 \
                    and isinstance(node.args[1], ast.Constant):
                found.append(f"{module}:{node.lineno} {ast.unparse(node)}")
    # The load balancer block owns its default type; the network's needs check reads a raw service spec.
    assert found == [f"network/needs.py:{_line_of('network/needs.py', 'lb.get(')} lb.get('type', 'alb')"]


def _line_of(module: str, text: str) -> int:
    return next(i for i, line in enumerate((COMPONENTS / module).read_text().splitlines(), 1) if text in line)


def test_the_load_balancer_defaults_are_the_fields_the_args_document():
    from components.blocks.load_balancer import LoadBalancerArgs, LoadBalancerSettings
    assert documented_defaults(LoadBalancerArgs, LoadBalancerSettings) == [
        "type", "ssl_policy", "deregistration_delay", "matcher", "idle_timeout"]


def test_a_load_balancer_spec_resolves_once_into_settings():
    from components.blocks.load_balancer import LoadBalancerSettings, resolve_load_balancer
    assert resolve_load_balancer(None) == resolve_load_balancer({}) == LoadBalancerSettings()
    nulled = {"type": None, "matcher": None, "idle_timeout": None, "ssl_policy": None, "deregistration_delay": None}
    assert resolve_load_balancer(nulled) == LoadBalancerSettings()
    given = resolve_load_balancer({"type": "nlb", "matcher": 200, "deregistration_delay": "10",
                                   "allowed_cidrs": ["10.0.0.0/8"], "shared": "edge", "path": "/a/*", "priority": 7})
    assert given == LoadBalancerSettings(type="nlb", matcher="200", deregistration_delay=10,
                                         allowed_cidrs=("10.0.0.0/8",), shared="edge", path="/a/*", priority=7)
    assert not given.tls and resolve_load_balancer({"domain": "shop.example.com"}).tls


def test_the_load_balancer_package_has_the_house_shape():
    """Small modules, and the old module's public names still importable from the package."""
    import components.blocks.load_balancer as lb
    for module in (COMPONENTS / "blocks" / "load_balancer").glob("*.py"):
        assert len(module.read_text().splitlines()) < 400, module.name
    assert {"ServiceLoadBalancer", "SharedLoadBalancer", "standard_alarms", "validate_load_balancer",
            "validate_shared_rules", "prepare_shared_load_balancers", "shared_load_balancer", "shared_name",
            "network_value", "service_security_group", "access_log_bucket", "LB_KEYS", "GATEWAY_ALB",
            "LoadBalancerArgs", "SharedRule", "ServiceAlarms", "DEFAULT_SSL_POLICY"} <= set(lb.__all__)
    assert all(hasattr(lb, name) for name in lb.__all__)
