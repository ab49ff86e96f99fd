"""The ``eks`` catalog pattern: one cluster per stack, shared by every eks service, through the Platform."""

from __future__ import annotations

import pytest

from components.catalog import load_catalog
from components.platform import Platform
from tests.conftest import ROOT, assert_problem

IMAGE = {"ref": "public.ecr.aws/acme/shop:3.1.0"}


def _config(services, eks=None, environment="dev"):
    cfg = {"environment": environment, "catalog_dir": "", "services": services}
    if eks is not None:
        cfg["eks"] = eks
    return cfg


@pytest.fixture(scope="module")
def shop():
    from components.tools.plan.runtime import run
    services = {
        "cart": {"pattern": "eks", "image": IMAGE, "namespace": "shop", "expose": "public"},
        "checkout": {"pattern": "eks", "image": IMAGE, "namespace": "shop", "expose": "none", "allow_from": ["cart"]},
        "ledger": {"pattern": "eks", "image": IMAGE, "expose": "none", "allow_from": ["checkout"]},
    }
    return run(lambda: Platform("platform", _config(services, {"version": "1.35"}), project_dir=ROOT),
               config={"microservices:environment": "dev"}, project_dir=ROOT, stack="dev")


def test_one_cluster_serves_every_eks_service(shop):
    cluster = shop.one("microservices:eks:EksCluster")
    assert shop.one("aws:eks/cluster:Cluster").inputs["version"] == "1.35"
    services = shop.of_type("microservices:k8s:KubernetesService")
    assert sorted(s.name for s in services) == ["cart", "checkout", "ledger"]
    provider = shop.one("pulumi:providers:kubernetes", "eks-k8s")
    for r in shop.resources:
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:helm.sh/v3:Release" and r.custom:
            assert r.provider.startswith(provider.urn), r.name
    assert cluster.parent == shop.one("microservices:platform:Platform").urn


def test_a_shared_namespace_is_created_once_by_the_pattern(shop):
    namespaces = sorted(r.inputs["metadata"]["name"] for r in shop.of_type("kubernetes:core/v1:Namespace"))
    assert namespaces == ["ledger", "shop"]
    shared = shop.one("kubernetes:core/v1:Namespace", "eks-ns-shop")
    assert shared.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_allow_from_names_resolve_to_the_peer_namespace(shop):
    policy = next(r for r in shop.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                  if r.inputs["metadata"]["name"] == "ledger")
    peer = policy.inputs["spec"]["ingress"][1]["from"][0]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "shop"}
    assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "checkout"}


def test_load_balancer_cidrs_are_the_stack_networks_public_subnets(shop):
    network = shop.one("microservices:network:Network").outputs
    policy = next(r for r in shop.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                  if r.inputs["metadata"]["name"] == "cart")
    assert policy.inputs["spec"]["ingress"][1]["from"] == [{"ipBlock": {"cidr": c}}
                                                            for c in network["public_subnet_cidrs"]]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_no_network_policy_admits_the_vpc_or_a_subnet_where_pods_run(stack):
    import ipaddress

    from components.tools.plan.__main__ import run_project
    from components.tools.plan.project import load_project
    graph = run_project(load_project(ROOT, stack))
    vpc = ipaddress.ip_network(graph.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    pods = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in graph.of_type("aws:ec2/subnet:Subnet")
            if s.inputs["tags"]["Tier"] == "private"]
    policies = graph.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    blocks = [ipaddress.ip_network(peer["ipBlock"]["cidr"]) for p in policies for rule in p.inputs["spec"]["ingress"]
              for peer in rule.get("from", []) if "ipBlock" in peer]
    assert policies and blocks
    for block in blocks:
        assert block != vpc and not block.supernet_of(vpc)
        assert not any(block.overlaps(net) for net in pods), block
    # No rule without `from` (it would admit every source).
    assert all(rule.get("from") for p in policies for rule in p.inputs["spec"]["ingress"])


def test_ingress_does_not_wait_for_a_controller_the_stack_does_not_install(shop):
    ingress = shop.one("kubernetes:networking.k8s.io/v1:Ingress")
    assert ingress.inputs["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def test_services_export_namespace_and_cluster(shop):
    outputs = shop.one("microservices:platform:Platform").outputs["services"]
    assert outputs["ledger"]["namespace"] == "ledger"
    assert outputs["cart"]["cluster"] == "microservices-dev-eks"


def test_catalog_reports_eks_config_and_cross_service_problems_at_once():
    services = {
        "cart": {"pattern": "eks", "image": IMAGE, "allow_from": ["payments"],
                 "ingress": {"group": "shop", "host": "shop.example.com"}},
        "web": {"pattern": "eks", "image": IMAGE, "ingress": {"group": "shop", "host": "shop.example.com"}},
        "admin": {"pattern": "eks", "image": IMAGE, "expose": "public",
                  "ingress": {"group": "shop", "host": "admin.example.com"}},
    }
    lines = assert_problem(lambda: load_catalog(_config(services, {"version": "1.28"}), ROOT),
                           "eks.version", "standard support")
    assert any("services.cart.allow_from[0]" in line and "'payments'" in line for line in lines)
    assert any("services.web.ingress" in line and "already routed to cart" in line for line in lines)
    assert any("services.cart.expose" in line and "admin has 'public'" in line for line in lines)


def test_the_reference_catalog_defines_eks_services():
    import yaml
    entries = yaml.safe_load((ROOT / "catalog" / "eks.yaml").read_text())["services"]
    assert {spec["pattern"] for spec in entries.values()} == {"eks"}
    # With the prod stack's own services: the shared catalog's public cart gets its domain (TLS) there.
    prod = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    catalog = load_catalog({"environment": "prod", "catalog_dir": "catalog", "gateway": prod["microservices:gateway"],
                            "eks": prod["microservices:eks"],
                            "services": prod["microservices:services"]}, ROOT)
    assert {"orders", "payments"} <= set(catalog.services_of("eks"))


def test_local_profile_runs_eks_services_on_the_docker_host():
    from components.tools.plan.runtime import run
    services = {"cart": {"pattern": "eks", "image": IMAGE, "cpu": 512, "namespace": "shop", "expose": "public"}}
    g = run(lambda: Platform("platform", _config(services, environment="local"), project_dir=ROOT),
            config={"microservices:environment": "local"}, project_dir=ROOT, stack="local")
    assert g.one("microservices:docker:DockerService", "cart")
    assert not g.of_type("microservices:eks:EksCluster") and not g.of_type("aws:eks/cluster:Cluster")


def test_services_of_one_ingress_group_share_tags_and_tls():
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012"
    services = {
        "cart": {"pattern": "eks", "image": IMAGE, "tags": {"Team": "shop"},
                 "ingress": {"group": "shop", "path": "/cart", "certificate_arn": cert}},
        "web": {"pattern": "eks", "image": IMAGE, "tags": {"Team": "web"}, "ingress": {"group": "shop", "path": "/"}},
    }
    lines = assert_problem(lambda: load_catalog(_config(services), ROOT), "services.web.tags",
                           "cart has {'Team': 'shop'}")
    assert any("services.web.ingress:" in line and "cart has 'TLS (certificate_arn or domain)'" in line
               and "only redirects to HTTPS" in line for line in lines)


def test_an_ingress_group_may_mix_a_certificate_arn_and_a_domain_but_not_tls_and_plain_http():
    # GIVEN one ingress group whose members give TLS in the two ways (the controller merges their certificates
    # onto the group's 443 listener), and one member without TLS
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012"
    services = {
        "cart": {"pattern": "eks", "image": IMAGE, "ingress": {"group": "shop", "path": "/cart", "certificate_arn": cert}},
        "web": {"pattern": "eks", "image": IMAGE,
                "ingress": {"group": "shop", "path": "/", "domain": "shop.example.com", "zone": "example.com"}},
    }
    # WHEN the catalog loads THEN a certificate_arn and a domain agree (both are TLS)
    load_catalog(_config(services), ROOT)
    # WHEN a member has no TLS THEN it is refused: ssl-redirect makes the group's port 80 a redirect for everyone
    services["zine"] = {"pattern": "eks", "image": IMAGE, "ingress": {"group": "shop", "path": "/zine"}}
    assert_problem(lambda: load_catalog(_config(services), ROOT), "services.zine.ingress",
                   "cart has 'TLS (certificate_arn or domain)', got 'plain HTTP'")
