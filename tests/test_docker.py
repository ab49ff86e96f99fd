"""DockerService and the local stack: replicas on a Docker host, built locally, hardened, on one network."""

from __future__ import annotations

import pytest

from components.docker import (DockerService, DockerServiceArgs, DockerSettings, build_docker_local, docker_args_from,
                               resolve_docker)
from components.patterns import BuildContext, ValidationContext
from components.platform import Platform
from components.tools.plan.runtime import run
from components.profiles import get_profile
from tests.conftest import ROOT, assert_problem

CONTAINER = "docker:index/container:Container"
IMAGE = {"context": "services/cart"}
LOCAL = {"microservices:environment": "local"}


def _docker(spec: dict, **config):
    return run(lambda: DockerService("cart", spec, profile="local", project_dir=ROOT),
               config={**LOCAL, **config}, project_dir=ROOT, stack="local",
               secret_keys=[k for k in config if k.startswith("secrets:")])


@pytest.fixture(scope="module")
def replicas():
    return _docker({"image": IMAGE, "port": 8080, "host_port": 18080, "scaling": {"desired": 3},
                    "environment": {"MODE": "local"}, "user": "10001", "cpu": 512, "memory": 256,
                    "writable_paths": ["/tmp", "/var/run/app"], "health_check": {"path": "/ready", "interval": 10}})


def test_replicas_get_distinct_host_ports_on_loopback(replicas):
    containers = sorted(replicas.of_type(CONTAINER), key=lambda r: r.name)
    assert [c.name for c in containers] == ["cart-0", "cart-1", "cart-2"]
    assert [c.inputs["ports"] for c in containers] == [
        [{"internal": 8080, "external": port, "ip": "127.0.0.1", "protocol": "tcp"}] for port in (18080, 18081, 18082)]
    outputs = replicas.one("microservices:docker:DockerService").outputs
    assert outputs["urls"] == ["http://localhost:18080", "http://localhost:18081", "http://localhost:18082"]


def test_containers_are_hardened_and_limited(replicas):
    c = replicas.one(CONTAINER, "cart-0").inputs
    assert c["readOnly"] is True
    assert c["tmpfs"] == {"/tmp": "rw,noexec,nosuid,size=64m", "/var/run/app": "rw,noexec,nosuid,size=64m"}
    assert c["memory"] == 256 and c["cpus"] == "0.5"
    assert c["user"] == "10001"
    assert c["capabilities"] == {"drops": ["ALL"]} and c["securityOpts"] == ["no-new-privileges:true"]
    assert c["restart"] == "unless-stopped" and c["mustRun"] is True
    assert c["envs"] == ["MODE=local"]
    assert {"label": "Service", "value": "cart"} in c["labels"]


def test_health_check_follows_the_core_spec(replicas):
    hc = replicas.one(CONTAINER, "cart-0").inputs["healthcheck"]
    assert hc == {"tests": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ready || exit 1"],
                  "interval": "10s", "timeout": "5s", "retries": 3, "startPeriod": "60s"}


def test_image_is_built_locally_without_push_and_containers_run_it(replicas):
    image = replicas.one("docker:index/image:Image")
    assert image.inputs["skipPush"] is True and "registry" not in image.inputs
    assert replicas.of_type("aws:ecr/repository:Repository") == []
    assert {c.inputs["image"] for c in replicas.of_type(CONTAINER)} == {image.inputs["imageName"]}


def test_containers_join_a_user_defined_network_under_the_service_name(replicas):
    network = replicas.one("docker:index/network:Network", "cart-net")
    assert network.inputs["driver"] == "bridge"
    for c in replicas.of_type(CONTAINER):
        assert c.property_dependencies["networksAdvanced"] == [network.urn]
        [attachment] = c.inputs["networksAdvanced"]
        assert attachment["aliases"] == ["cart"] and attachment["name"].startswith("cart-net-")


def test_without_host_port_docker_picks_ports_and_public_binds_every_interface():
    graph = _docker({"image": IMAGE, "expose": "public", "restart": "on-failure"})
    c = graph.one(CONTAINER, "cart-0").inputs
    assert c["ports"] == [{"internal": 8080, "ip": "0.0.0.0", "protocol": "tcp"}]
    assert c["restart"] == "on-failure" and c["maxRetryCount"] == 5


def test_expose_none_publishes_nothing():
    graph = _docker({"image": IMAGE, "expose": "none"})
    assert "ports" not in graph.one(CONTAINER).inputs


def test_remote_docker_host_gets_its_own_provider():
    graph = _docker({"image": {**IMAGE, "platform": "linux/amd64"}, "docker_host": "ssh://deploy@docker-1.internal",
                     "host_port": 9000})
    provider = graph.one("pulumi:providers:docker", "cart-docker")
    assert provider.inputs["host"] == "ssh://deploy@docker-1.internal"
    assert graph.one(CONTAINER).provider.startswith(provider.urn)
    assert graph.one("docker:index/image:Image").provider.startswith(provider.urn)
    assert graph.one("microservices:docker:DockerService").outputs["urls"] == ["http://docker-1.internal:9000"]
    assert graph.one("docker:index/image:Image").inputs["build"]["platform"] == "linux/amd64"


def test_remote_docker_host_needs_the_platform_named(monkeypatch):
    # pulumi-docker pulls for the machine running `pulumi up` unless told otherwise.
    monkeypatch.delenv("DOCKER_DEFAULT_PLATFORM", raising=False)
    assert_problem(lambda: DockerService("cart", {"image": IMAGE, "docker_host": "ssh://deploy@docker-1.internal"},
                                         profile="local", project_dir=ROOT),
                   "cart.image.platform", "is required with docker_host", "DOCKER_DEFAULT_PLATFORM")
    monkeypatch.setenv("DOCKER_DEFAULT_PLATFORM", "linux/arm64")
    graph = _docker({"image": IMAGE, "docker_host": "ssh://deploy@docker-1.internal"})
    assert graph.one("docker:index/image:Image").inputs["build"]["platform"] == "linux/arm64"


def test_prebuilt_image_is_pulled_for_the_platform_named():
    ref = "public.ecr.aws/nginx/nginx@sha256:" + "c" * 64
    graph = _docker({"image": {"ref": ref, "platform": "linux/arm64"}, "docker_host": "ssh://deploy@docker-1"})
    assert graph.one("docker:index/remoteImage:RemoteImage").inputs["platform"] == "linux/arm64"


def test_secrets_come_from_the_stacks_secret_config():
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/db"
    graph = _docker({"image": IMAGE, "secrets": {"DB_PASSWORD": arn}}, **{"secrets:DB_PASSWORD": "s3cret"})
    assert graph.one(CONTAINER).inputs["envs"] == "[secret]"


def test_rejects_bad_docker_settings():
    bad = {"image": IMAGE, "host_port": 65535, "scaling": {"desired": 2}, "restart": "sometimes",
           "docker_host": "docker-1", "user": "0:0", "memory": 4, "cpu": 64}
    lines = assert_problem(lambda: DockerService("cart", bad, profile="local", project_dir=ROOT),
                           "cart.host_port", "above 65535")
    for fragment in ("cart.restart", "cart.docker_host", "cart.user", "cart.memory", "cart.cpu"):
        assert any(fragment in line for line in lines), fragment
    assert_problem(lambda: DockerService("cart", {"image": {"context": "services/nope"}}, profile="local",
                                         project_dir=ROOT), "cart.image.context", "does not exist")


def test_catalog_rejects_two_services_on_the_same_host_port():
    from components.docker import validate_docker_catalog
    vctx = ValidationContext(profile=get_profile("local"), project_dir=ROOT)
    problems = validate_docker_catalog({"a": {"host_port": 8000, "scaling": {"desired": 2}}, "b": {"host_port": 8001}},
                                       vctx)
    assert [str(p) for p in problems] == [
        "services.b.host_port: host port 8001 is already published by service 'a' on the same Docker host"]


# -- running other container patterns on Docker ---------------------------------------------------

def test_any_container_spec_maps_to_docker_args_dropping_pattern_keys():
    vctx = ValidationContext(profile=get_profile("local"), project_dir=ROOT)
    ecs = {"image": IMAGE, "port": 9000, "cpu": 1024, "memory": 2048, "capacity": "ec2", "queue": None,
           "user": "10001", "writable_paths": ["/cache"]}
    assert docker_args_from("cart", ecs, vctx) == {"image": IMAGE, "port": 9000, "cpu": 1024, "memory": 2048,
                                                   "user": "10001", "writable_paths": ["/cache"]}
    eks = {"image": IMAGE, "cpu": "250m", "memory": "1Gi", "replicas": 3, "user": 1000}
    assert docker_args_from("cart", eks, vctx) == {"image": IMAGE, "cpu": 256, "memory": 1024}


def test_build_docker_local_runs_services_on_one_shared_network(plan):
    def program():
        ctx = BuildContext(parent=None, profile=get_profile("local"), network=None, project_dir=ROOT)
        build_docker_local("cart", {"image": IMAGE}, ctx)
        build_docker_local("pricing", {"image": IMAGE, "port": 9000}, ctx)
        assert set(ctx.outputs) == {"cart", "pricing"}

    graph = plan(program, environment="local")
    assert [n.name for n in graph.of_type("docker:index/network:Network")] == ["docker-network"]
    names = {c.inputs["networksAdvanced"][0]["name"] for c in graph.of_type(CONTAINER)}
    assert len(names) == 1 and names.pop().startswith("docker-network-")


def test_local_stack_runs_ecs_services_on_docker_and_scheduled_tasks_once(plan):
    catalog = {"environment": "local", "catalog_dir": "", "services": {
        "cart": {"pattern": "ecs", "image": IMAGE, "expose": "public", "capacity": "ec2", "cpu": 512},
        "sweeper": {"pattern": "ecs", "image": IMAGE, "schedule": "rate(1 day)"},
        "mailer": {"pattern": "ecs", "image": IMAGE, "queue": {}},
        "edge": {"pattern": "docker", "image": IMAGE, "host_port": 18000},
    }}
    graph = plan(lambda: Platform("platform", catalog, project_dir=ROOT), environment="local")
    assert not [r for r in graph if r.type.startswith("aws:")]
    by_name = {c.name: c.inputs for c in graph.of_type(CONTAINER)}
    assert set(by_name) == {"cart-0", "sweeper-0", "mailer-0", "edge-0"}
    assert by_name["cart-0"]["cpus"] == "0.5" and by_name["cart-0"]["ports"][0]["ip"] == "127.0.0.1"
    assert by_name["sweeper-0"]["restart"] == "no" and by_name["sweeper-0"]["mustRun"] is False
    assert "ports" not in by_name["mailer-0"] and by_name["mailer-0"]["healthcheck"]["tests"] == ["NONE"]
    assert by_name["edge-0"]["ports"][0]["external"] == 18000
    outputs = graph.one("microservices:platform:Platform").outputs["services"]
    assert outputs["edge"]["urls"] == ["http://localhost:18000"]


# -- resolve once ------------------------------------------------------------------------------------
def test_an_empty_spec_resolves_once_into_settings_whose_fields_hold_the_documented_defaults():
    import dataclasses

    from tests.test_docs import arg_fields
    local = get_profile("local")
    settings = resolve_docker("cart", {}, local)
    assert (settings.restart, settings.host_port, settings.docker_host, settings.replicas) == (
        DockerSettings.restart, None, None, 1)
    assert (settings.cpu, settings.memory) == (local.container_cpu, local.container_memory)
    assert settings.container.writable_paths == ["/tmp"] and settings.container.read_only_root_filesystem is True
    assert (settings.bind_ip, settings.url_host, settings.must_run, settings.max_retry_count) == (
        "127.0.0.1", "localhost", True, None)
    docs = {where.split()[-1]: doc for where, doc, _ in arg_fields()}
    assert f"Default: ``{DockerSettings.restart}``" in docs["DockerServiceArgs.restart"]
    assert f"up to {DockerSettings.retries_on_failure} retries" in docs["DockerServiceArgs.restart"]
    assert set(DockerServiceArgs.__annotations__) >= {"restart", "cpu", "memory", "host_port", "docker_host"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.restart = "no"  # type: ignore[misc]


def test_explicit_values_win_over_the_profile_and_the_field_defaults():
    settings = resolve_docker("cart", {"restart": "on-failure", "cpu": 512, "memory": 256, "host_port": 18080,
                                       "docker_host": "ssh://deploy@build-host", "expose": "public",
                                       "scaling": {"desired": 2}}, get_profile("local"))
    assert (settings.restart, settings.max_retry_count, settings.must_run) == ("on-failure", 5, True)
    assert (settings.cpu, settings.cpus, settings.memory, settings.host_port) == (512, "0.5", 256, 18080)
    assert (settings.url_host, settings.bind_ip, settings.replicas) == ("build-host", "0.0.0.0", 2)


def test_the_docker_package_reads_settings_not_dict_fallbacks():
    """Resolve once: no module of the pattern reads a spec with ``.get(key, default)``."""
    import ast
    fallbacks = []
    for path in sorted((ROOT / "components" / "docker").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and len(node.args) == 2:
                fallbacks.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert fallbacks == []
