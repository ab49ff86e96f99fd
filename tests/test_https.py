"""HTTPS on public endpoints: the certificate block, TLS on public load balancers, and the prod rule."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.blocks.certificate import (DEFAULT_SSL_POLICY, alias_record, dns_validated_certificate,
                                           hosted_zone_id, ingress_tls, ingress_tls_annotations, is_zone_id,
                                           validate_domain)
from components.tools.plan.runtime import run
from components.validation import Problems

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
ZONE_ID = "Z0123456789ABCDEFGHIJ"


def _plan(program, environment="dev"):
    return run(program, config={"microservices:environment": environment, "aws:region": "us-east-1"},
               stack=environment)


def _problems(value, path="services.shop.load_balancer"):
    problems = Problems()
    validate_domain(value, path, problems)
    return [str(p) for p in problems]


# -- the certificate block -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate():
    result = {}

    def program():
        arn = dns_validated_certificate("shop", domain="shop.example.com", zone="example.com",
                                        tags={"Service": "shop"})
        alias_record("shop", domain="shop.example.com", zone="example.com",
                     target_dns_name="shop-lb-123.us-east-1.elb.amazonaws.com", target_zone_id="Z35SXDOTRQ7X7K")
        pulumi.export("arn", arn)
        result["arn"] = arn
    return _plan(program)


def test_certificate_is_requested_for_the_domain_with_dns_validation(certificate):
    cert = certificate.one("aws:acm/certificate:Certificate", "shop-cert")
    assert cert.inputs["domainName"] == "shop.example.com"
    assert cert.inputs["validationMethod"] == "DNS"
    assert cert.inputs["tags"] == {"Service": "shop", "Name": "shop-cert"}


def test_validation_record_is_the_cname_acm_asks_for_in_the_zone_found_by_name(certificate):
    record = certificate.one("aws:route53/record:Record", "shop-cert-validation")
    zone = [args for token, args in certificate.invokes if token == "aws:route53/getZone:getZone"]
    assert zone and all(a["name"] == "example.com" and a["privateZone"] is False for a in zone)
    assert record.inputs["zoneId"].startswith("Z")
    assert record.inputs["type"] == "CNAME" and record.inputs["ttl"] == 60
    assert record.inputs["name"].endswith(".shop.example.com.") and record.inputs["name"].startswith("_")
    assert record.inputs["records"][0].endswith(".acm-validations.aws.")
    assert record.inputs["allowOverwrite"] is True


def test_validation_waits_for_the_record_and_its_arn_is_what_listeners_get(certificate):
    validation = certificate.one("aws:acm/certificateValidation:CertificateValidation", "shop-cert-validation")
    cert = certificate.one("aws:acm/certificate:Certificate", "shop-cert")
    record = certificate.one("aws:route53/record:Record", "shop-cert-validation")
    assert validation.inputs["certificateArn"].startswith("arn:aws:acm:us-east-1:123456789012:certificate/")
    assert validation.inputs["validationRecordFqdns"] == [record.inputs["name"].rstrip(".")]
    assert certificate.outputs["arn"] == validation.inputs["certificateArn"]
    assert cert.urn != validation.urn


def test_alias_record_points_the_domain_at_the_target_and_follows_its_health(certificate):
    alias = certificate.one("aws:route53/record:Record", "shop-alias")
    assert (alias.inputs["name"], alias.inputs["type"]) == ("shop.example.com", "A")
    assert alias.inputs["aliases"] == [{"name": "shop-lb-123.us-east-1.elb.amazonaws.com",
                                        "zoneId": "Z35SXDOTRQ7X7K", "evaluateTargetHealth": True}]
    assert "records" not in alias.inputs and "ttl" not in alias.inputs


def test_a_zone_id_is_used_as_it_is_without_a_lookup():
    graph = _plan(lambda: dns_validated_certificate("api", domain="api.example.com", zone=ZONE_ID, tags={}))
    assert graph.one("aws:route53/record:Record", "api-cert-validation").inputs["zoneId"] == ZONE_ID
    assert not [t for t, _ in graph.invokes if t == "aws:route53/getZone:getZone"]
    assert hosted_zone_id(ZONE_ID) == ZONE_ID
    assert is_zone_id(ZONE_ID) and not is_zone_id("example.com") and not is_zone_id("z0123")


def test_ingress_tls_annotations_listen_on_443_redirect_80_and_set_the_policy():
    annotations = ingress_tls_annotations(CERT)
    assert annotations == {
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
        "alb.ingress.kubernetes.io/certificate-arn": CERT,
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
        "alb.ingress.kubernetes.io/ssl-policy": DEFAULT_SSL_POLICY}
    assert json.loads(ingress_tls_annotations(None)["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
    assert ingress_tls_annotations(CERT, ssl_policy="ELBSecurityPolicy-TLS13-1-3-2021-06")[
        "alb.ingress.kubernetes.io/ssl-policy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"


def test_default_tls_policy_is_a_tls13_policy_that_still_accepts_tls12():
    assert DEFAULT_SSL_POLICY.startswith("ELBSecurityPolicy-TLS13-1-2-")


# -- validate_domain -----------------------------------------------------------------------------

def test_valid_domain_and_zone_pass():
    assert _problems({"domain": "shop.example.com", "zone": "example.com"}) == []
    assert _problems({"domain": "example.com", "zone": "example.com"}) == []
    assert _problems({"domain": "shop.example.com", "zone": ZONE_ID}) == []
    assert _problems({}) == []


def test_rejects_a_domain_that_is_not_a_host_name():
    lines = _problems({"domain": "Shop_Example", "zone": "example.com"})
    assert any(line.startswith("services.shop.load_balancer.domain: must be a host name") and "'Shop_Example'" in line
               for line in lines)
    assert _problems({"domain": "shop.-bad.com", "zone": ZONE_ID})[0].startswith(
        "services.shop.load_balancer.domain: must be a host name")


def test_rejects_a_wildcard_domain():
    assert _problems({"domain": "*.example.com", "zone": "example.com"}) == [
        "services.shop.load_balancer.domain: must be a host name without a wildcard (each endpoint gets its own "
        "certificate and record), got '*.example.com'"]


def test_rejects_a_domain_longer_than_a_certificate_common_name():
    domain = "a" * 60 + ".example.com"
    lines = _problems({"domain": domain, "zone": "example.com"})
    assert lines and lines[0].startswith("services.shop.load_balancer.domain: must be at most 64 characters, got 72")


def test_rejects_a_domain_without_a_zone_and_a_zone_without_a_domain():
    assert _problems({"domain": "shop.example.com"})[0].startswith(
        "services.shop.load_balancer.zone: is required with domain: the public Route 53 hosted zone")
    assert _problems({"zone": "example.com"}) == [
        "services.shop.load_balancer.zone: is only used with domain (the host name to serve over HTTPS)"]


def test_rejects_a_domain_outside_its_zone():
    assert _problems({"domain": "shop.example.org", "zone": "example.com"}) == [
        "services.shop.load_balancer.domain: 'shop.example.org' is not in zone 'example.com': the domain must be "
        "the zone's name or end with '.example.com'"]
    assert _problems({"domain": "badexample.com", "zone": "example.com"})[0].startswith(
        "services.shop.load_balancer.domain: 'badexample.com' is not in zone 'example.com'")


def test_rejects_a_zone_that_is_neither_an_id_nor_a_name():
    assert _problems({"domain": "shop.example.com", "zone": 42}) == [
        "services.shop.load_balancer.zone: must be a hosted zone id (Z...) or a zone name such as 'example.com', "
        "got 42"]
    assert _problems({"domain": "shop.example.com", "zone": "example com"})[0].startswith(
        "services.shop.load_balancer.zone: must be a hosted zone id (Z...) or a zone name")


def test_unknown_values_are_skipped():
    lines: list[str] = []
    _plan(lambda: lines.extend(_problems({"domain": pulumi.Output.from_input("x"),
                                          "zone": pulumi.Output.from_input("y")})))
    assert lines == []


# -- public load balancers -----------------------------------------------------------------------

NET = {"vpc_id": "vpc-0123", "vpc_cidr": "10.20.0.0/16", "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"],
       "private_subnet_ids": ["subnet-priv-a", "subnet-priv-b"]}


def _service(name, lb_args, environment, expose="public", shared=None):
    from components.blocks.load_balancer import ServiceLoadBalancer
    from components.blocks.service import resolve_core
    from components.profiles import get_profile
    profile = get_profile(environment)
    core = resolve_core({"expose": expose}, profile, default_port=8080)
    lb = ServiceLoadBalancer(name, lb_args, core=core, network=NET, profile=profile, shared=shared)
    pulumi.export(f"{name}_url", lb.url)
    return lb


@pytest.fixture(scope="module")
def domain_prod():
    return _plan(lambda: _service("shop", {"domain": "shop.example.com", "zone": "example.com"}, "prod"), "prod")


def test_a_domain_gives_the_alb_a_validated_certificate_https_and_an_alias_record(domain_prod):
    validation = domain_prod.one("aws:acm/certificateValidation:CertificateValidation", "shop-cert-validation")
    https = domain_prod.one("aws:lb/listener:Listener", "shop-https")
    assert (https.inputs["port"], https.inputs["protocol"]) == (443, "HTTPS")
    assert https.inputs["certificateArn"] == validation.inputs["certificateArn"]
    assert validation.urn in https.dependencies
    assert https.inputs["sslPolicy"] == DEFAULT_SSL_POLICY
    lb = domain_prod.one("aws:lb/loadBalancer:LoadBalancer", "shop-lb")
    alias = domain_prod.one("aws:route53/record:Record", "shop-alias")
    assert alias.inputs["name"] == "shop.example.com"
    assert alias.inputs["aliases"][0]["name"].endswith(".elb.amazonaws.com")
    assert alias.inputs["aliases"][0]["zoneId"] == "Z35SXDOTRQ7X7K"
    assert lb.urn in alias.dependencies
    record = domain_prod.one("aws:route53/record:Record", "shop-cert-validation")
    assert record.inputs["zoneId"] == alias.inputs["zoneId"]
    lookups = [a for t, a in domain_prod.invokes if t == "aws:route53/getZone:getZone"]
    assert len(lookups) == 1, "the zone is looked up once for the certificate and the alias"
    assert domain_prod.outputs["shop_url"] == "https://shop.example.com"


def test_plain_http_on_a_public_alb_with_tls_only_redirects_to_https(domain_prod):
    http = domain_prod.one("aws:lb/listener:Listener", "shop-http")
    assert (http.inputs["port"], http.inputs["protocol"]) == (80, "HTTP")
    assert http.inputs["defaultActions"] == [{"type": "redirect", "redirect": {
        "port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}}]
    rules = sorted((r.inputs["fromPort"], r.inputs["cidrIpv4"])
                   for r in domain_prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.name.startswith("shop-lb-"))
    assert rules == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0")]


def test_a_domain_on_an_nlb_gives_a_tls_listener_with_the_certificate():
    graph = _plan(lambda: _service("feed", {"type": "nlb", "domain": "feed.example.com", "zone": ZONE_ID}, "dev"))
    tls = graph.one("aws:lb/listener:Listener", "feed-tls")
    assert (tls.inputs["port"], tls.inputs["protocol"], tls.inputs["sslPolicy"]) == (443, "TLS", DEFAULT_SSL_POLICY)
    assert tls.inputs["certificateArn"].startswith("arn:aws:acm:")
    assert graph.one("aws:route53/record:Record", "feed-alias").inputs["zoneId"] == ZONE_ID
    assert [r.name for r in graph.of_type("aws:lb/listener:Listener")] == ["feed-tls"]


def test_a_shared_alb_with_a_domain_serves_every_rule_over_https():
    from components.blocks.load_balancer import SharedLoadBalancer
    from components.profiles import get_profile

    def program():
        edge = SharedLoadBalancer("edge", {"domain": "api.example.com", "zone": "example.com"}, expose="public",
                                  network=NET, profile=get_profile("prod"))
        _service("orders", {"shared": "edge", "path": "/orders/*"}, "prod", shared=edge)
    graph = _plan(program, "prod")
    assert graph.one("aws:acm/certificate:Certificate", "edge-cert").inputs["domainName"] == "api.example.com"
    assert graph.one("aws:route53/record:Record", "edge-alias").inputs["name"] == "api.example.com"
    rule = graph.one("aws:lb/listenerRule:ListenerRule", "orders-rule")
    assert rule.property_dependencies["listenerArn"] == [graph.one("aws:lb/listener:Listener", "edge-https").urn]
    assert graph.outputs["orders_url"] == "https://api.example.com/orders/"


# -- the prod rule in the component ---------------------------------------------------------------

def _component_problems(program, environment):
    from components.testing import catalog_problems
    return catalog_problems(program, environment=environment)


def test_prod_refuses_a_public_load_balancer_without_tls_naming_both_fixes():
    lines = _component_problems(lambda: _service("shop", {}, "prod"), "prod")
    assert lines == ["shop.load_balancer: is public without TLS, which prod does not allow: set domain and zone (an "
                     "ACM certificate validated through that Route 53 zone, and the record pointing the domain at the "
                     "load balancer), or certificate_arn (an existing ACM certificate)"]


def test_prod_refuses_a_public_shared_alb_without_tls():
    from components.blocks.load_balancer import SharedLoadBalancer
    from components.profiles import get_profile
    lines = _component_problems(lambda: SharedLoadBalancer("edge", {}, expose="public", network=NET,
                                                           profile=get_profile("prod")), "prod")
    assert lines == ["edge: is public without TLS, which prod does not allow: set domain and zone (an ACM certificate "
                     "validated through that Route 53 zone, and the record pointing the domain at the load balancer), "
                     "or certificate_arn (an existing ACM certificate)"]


def test_dev_and_internal_load_balancers_may_stay_plain_http():
    assert _component_problems(lambda: _service("shop", {}, "dev"), "dev") == []
    assert _component_problems(lambda: _service("shop", {}, "prod", expose="internal"), "prod") == []


def test_rejects_certificate_arn_and_domain_together():
    lines = _component_problems(lambda: _service("shop", {"certificate_arn": CERT, "domain": "shop.example.com",
                                                          "zone": "example.com"}, "dev"), "dev")
    assert lines == ["shop.load_balancer: sets both certificate_arn and domain: give certificate_arn to use an existing "
                     "certificate, or domain and zone to have one requested and validated, not both"]


def test_rejects_an_ssl_policy_without_tls():
    lines = _component_problems(lambda: _service("shop", {"ssl_policy": DEFAULT_SSL_POLICY}, "dev"), "dev")
    assert lines == ["shop.load_balancer.ssl_policy: is only used with certificate_arn or domain (an HTTPS/TLS "
                     "listener)"]


def test_load_balancer_domain_is_validated_with_its_zone():
    lines = _component_problems(lambda: _service("shop", {"domain": "shop.example.org", "zone": "example.com"},
                                                 "dev"), "dev")
    assert lines == ["shop.load_balancer.domain: 'shop.example.org' is not in zone 'example.com': the domain must be "
                     "the zone's name or end with '.example.com'"]


# -- the prod rule in the catalog, and the warning elsewhere --------------------------------------

def _ctx(environment, patterns):
    from components.patterns import ValidationContext
    from components.profiles import PROFILES
    return ValidationContext(profile=PROFILES[environment], patterns=patterns)


SPECS = {"cart": {"expose": "public"}, "orders": {"expose": "public", "ingress": {"path": "/orders"}},
         "pricing": {"expose": "internal"}, "fn": {"memory": 256},
         "shop": {"expose": "public", "load_balancer": {"certificate_arn": CERT}},
         "api": {"expose": "public", "load_balancer": {"domain": "api.example.com", "zone": "example.com"}}}
PATTERNS = {"cart": "ecs", "orders": "eks", "pricing": "ecs", "fn": "lambda", "shop": "vm", "api": "ecs"}


def test_catalog_rule_names_each_public_endpoint_without_tls_in_prod_with_its_path():
    from components.blocks.certificate import validate_public_tls
    lines = [str(p) for p in validate_public_tls(SPECS, _ctx("prod", PATTERNS))]
    assert [line.split(":")[0] for line in lines] == ["services.cart.load_balancer", "services.orders.ingress"]
    assert all("is public without TLS, which prod does not allow: set domain and zone" in line
               and "or certificate_arn (an existing ACM certificate)" in line for line in lines)


def test_catalog_rule_only_warns_outside_prod_and_says_nothing_locally():
    from components.blocks.certificate import public_tls_warnings, validate_public_tls
    assert list(validate_public_tls(SPECS, _ctx("staging", PATTERNS))) == []
    warnings = [str(p) for p in public_tls_warnings(SPECS, _ctx("staging", PATTERNS))]
    assert [w.split(":")[0] for w in warnings] == ["services.cart.load_balancer", "services.orders.ingress"]
    assert "plain HTTP on port 80 in staging (prod refuses this)" in warnings[0]
    assert list(public_tls_warnings(SPECS, _ctx("prod", PATTERNS))) == []
    assert list(public_tls_warnings(SPECS, _ctx("local", PATTERNS))) == []


def test_services_on_a_shared_alb_have_tls_when_one_of_them_sets_it():
    from components.blocks.certificate import validate_public_tls
    specs = {"a": {"expose": "public", "load_balancer": {"shared": "edge", "path": "/a/*", "certificate_arn": CERT}},
             "b": {"expose": "public", "load_balancer": {"shared": "edge", "path": "/b/*"}},
             "c": {"expose": "public", "load_balancer": {"shared": "plain", "path": "/c/*"}}}
    lines = [str(p) for p in validate_public_tls(specs, _ctx("prod", {n: "vm" for n in specs}))]
    assert [line.split(":")[0] for line in lines] == ["services.c.load_balancer"]


def test_load_catalog_refuses_a_public_ecs_service_without_tls_in_prod(tmp_path):
    from components.catalog import load_catalog
    from tests.conftest import assert_problem
    services = {"cart": {"pattern": "ecs", "image": {"ref": "public.ecr.aws/acme/cart:1.0.0"}, "expose": "public"}}
    assert_problem(lambda: load_catalog({"environment": "prod", "catalog_dir": "", "services": services}, tmp_path),
                   "services.cart.load_balancer: is public without TLS, which prod does not allow",
                   "set domain and zone", "or certificate_arn")
    services["cart"]["load_balancer"] = {"domain": "shop.example.com", "zone": "example.com"}
    assert load_catalog({"environment": "prod", "catalog_dir": "", "services": services}, tmp_path).warnings == []
    del services["cart"]["load_balancer"]
    catalog = load_catalog({"environment": "dev", "catalog_dir": "", "services": services}, tmp_path)
    assert [str(w).split(":")[0] for w in catalog.warnings] == ["services.cart.load_balancer"]


# -- the warning in the offline plan ----------------------------------------------------------------

def test_dev_plan_prints_the_warning_in_text_json_and_markdown(tmp_path, capsys, project_dir):
    from components.tools.plan.__main__ import main
    out, md = tmp_path / "dev.json", tmp_path / "dev.md"
    assert main(["--stack", "dev", "--dir", str(project_dir), "-q", "--json", str(out), "--markdown", str(md)]) == 0
    warning = ("services.cart.load_balancer: is public without TLS: plain HTTP on port 80 in dev (prod refuses "
               "this): set domain and zone")
    # The dev stack's gateway has no custom domain either: its endpoint is HTTPS, the warning says so.
    gateway = "gateway: has no custom domain: clients call the execute-api endpoint, which is HTTPS"
    doc = json.loads(out.read_text())
    assert len(doc["warnings"]) == 2 and doc["warnings"][0].startswith(gateway)
    assert doc["warnings"][1].startswith(warning)
    text = capsys.readouterr().out
    assert "\nWarnings (2):\n  warning: " + gateway in text and "\n  warning: " + warning in text
    assert "#### Warnings (2)" in md.read_text() and warning in md.read_text() and gateway in md.read_text()


def test_prod_plan_has_no_warnings_and_serves_the_public_service_on_its_domain():
    from tests.conftest import stack_plan
    doc = stack_plan("prod")
    assert "warnings" not in doc
    by_name = {(r["type"], r["name"]): r for r in doc["resources"]}
    assert by_name[("aws:acm/certificate:Certificate", "cart-cert")]["inputs"]["domainName"] == "shop.example.com"
    assert by_name[("aws:route53/record:Record", "cart-alias")]["inputs"]["name"] == "shop.example.com"
    assert by_name[("aws:lb/listener:Listener", "cart-http")]["inputs"]["defaultActions"][0]["type"] == "redirect"
    assert doc["outputs"]["services"]["cart"]["url"] == "https://shop.example.com"


def test_diff_markdown_carries_the_warnings_of_the_new_plan():
    from components.tools.plan.diff import diff_plans
    from components.tools.plan.markdown import diff_markdown
    doc = {"project": "p", "stack": "dev", "environment": "dev", "resources": [], "outputs": {}}
    text = diff_markdown(diff_plans(doc, doc), warnings=["services.cart.load_balancer: is public without TLS"])
    assert "No changes.\n\n#### Warnings (1)\n\n- :warning: `services.cart.load_balancer: is public without TLS`" \
        in text


def test_services_on_one_shared_alb_cannot_mix_a_certificate_arn_and_a_domain():
    from components.blocks.load_balancer import validate_shared_rules
    specs = {"a": {"expose": "public", "load_balancer": {"shared": "edge", "path": "/a/*", "certificate_arn": CERT}},
             "b": {"expose": "public", "load_balancer": {"shared": "edge", "path": "/b/*",
                                                         "domain": "api.example.com", "zone": "example.com"}}}
    assert [str(p) for p in validate_shared_rules(specs)] == [
        "services.b.load_balancer.domain: shared ALB 'edge' gets certificate_arn from 'a' and domain from 'b': its "
        "services give one of them, not both"]


def test_the_stack_example_of_docs_https_is_valid_in_prod(tmp_path):
    import re
    from pathlib import Path

    import yaml

    from components.catalog import load_catalog
    text = (Path(__file__).resolve().parent.parent / "docs" / "https.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "microservices:services" in b)
    config = yaml.safe_load(block)["config"]
    catalog = load_catalog({"environment": config["microservices:environment"], "catalog_dir": "",
                            "services": config["microservices:services"]}, tmp_path)
    assert catalog.services["cart"]["load_balancer"] == {"domain": "shop.example.com", "zone": "example.com"}
    assert catalog.warnings == []


# -- Kubernetes Ingress (what the eks service calls) -----------------------------------------------

def test_ingress_tls_takes_a_certificate_arn_as_it_is():
    graph = _plan(lambda: pulumi.export("a", ingress_tls("orders", {"certificate_arn": CERT}, tags={})))
    assert graph.outputs["a"] == ingress_tls_annotations(CERT)
    assert not graph.of_type("aws:acm/certificate:Certificate")


def test_ingress_tls_with_a_domain_requests_a_validated_certificate_and_points_the_domain_at_the_alb():
    from components.blocks.certificate import ingress_alias_record, ingress_tls

    def program():
        annotations = ingress_tls("orders", {"domain": "orders.example.com", "zone": "example.com"},
                                  tags={"Service": "orders"})
        ingress_alias_record("orders", domain="orders.example.com", zone="example.com",
                             hostname="k8s-apps-orders-0123456789.us-east-1.elb.amazonaws.com")
        pulumi.export("annotations", annotations)
    graph = _plan(program)
    validation = graph.one("aws:acm/certificateValidation:CertificateValidation", "orders-cert-validation")
    annotations = graph.outputs["annotations"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == validation.inputs["certificateArn"]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    alias = graph.one("aws:route53/record:Record", "orders-alias")
    assert alias.inputs["aliases"] == [{"name": "k8s-apps-orders-0123456789.us-east-1.elb.amazonaws.com",
                                        "zoneId": "Z35SXDOTRQ7X7K", "evaluateTargetHealth": True}]
    assert [a for t, a in graph.invokes if t == "aws:lb/getHostedZoneId:getHostedZoneId"] == [
        {"loadBalancerType": "application"}]


def test_ingress_tls_settings_are_validated_like_a_load_balancer():
    from components.blocks.certificate import validate_tls_settings
    problems = Problems()
    validate_tls_settings({"certificate_arn": CERT, "domain": "orders.example.com", "zone": "example.com"},
                          "services.orders.ingress", problems)
    validate_tls_settings({"domain": "orders.example.com"}, "services.api.ingress", problems)
    assert [str(p).split(":")[0] for p in problems] == ["services.orders.ingress", "services.api.ingress.zone"]
    assert "sets both certificate_arn and domain" in str(problems[0])


# -- eks: the Ingress's load balancer ------------------------------------------------------------------------

EKS_NET = {"vpc_id": "vpc-0abc", "vpc_cidr": "10.20.0.0/16", "private_subnet_ids": ["subnet-a", "subnet-b"],
           "public_subnet_ids": ["subnet-p1", "subnet-p2"], "public_subnet_cidrs": ["10.20.128.0/22", "10.20.132.0/22"]}
EKS_IMAGE = {"ref": "public.ecr.aws/acme/orders:1.4.2"}


def _eks(ingress, *, await_lb=True, environment="prod"):
    from components.eks import KubernetesService
    return lambda: KubernetesService("orders", {"image": EKS_IMAGE, "expose": "public", "ingress": ingress},
                                     network=EKS_NET, profile=environment, await_load_balancer=await_lb)


def test_an_eks_ingress_domain_gets_a_certificate_https_with_redirect_and_an_alias_record():
    g = _plan(_eks({"domain": "orders.example.com", "zone": "example.com"}), "prod")
    cert = g.one("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "orders.example.com"
    annotations = g.one("kubernetes:networking.k8s.io/v1:Ingress").inputs["metadata"]["annotations"]
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert annotations["alb.ingress.kubernetes.io/ssl-policy"] == DEFAULT_SSL_POLICY
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    record = g.one("aws:route53/record:Record", "orders-alias")
    assert record.inputs["name"] == "orders.example.com" and record.inputs["type"] == "A"
    # AWS resources are children of the component, never of the Kubernetes provider.
    assert "pulumi:providers:kubernetes" not in cert.urn and "KubernetesService" in cert.urn


def test_an_eks_ingress_certificate_arn_is_used_as_it_is_with_no_certificate_requested():
    g = _plan(_eks({"certificate_arn": CERT}), "prod")
    annotations = g.one("kubernetes:networking.k8s.io/v1:Ingress").inputs["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == CERT
    assert g.of_type("aws:acm/certificate:Certificate") == []


def test_an_eks_ingress_domain_needs_the_awaited_load_balancer_for_its_record():
    from tests.conftest import assert_problem
    assert_problem(_eks({"domain": "orders.example.com", "zone": "example.com"}, await_lb=False),
                   "orders.ingress.domain", "installs the AWS Load Balancer Controller")


def test_an_eks_ingress_rejects_a_certificate_arn_and_a_domain_together():
    from tests.conftest import assert_problem
    assert_problem(_eks({"domain": "orders.example.com", "zone": "example.com", "certificate_arn": CERT}),
                   "orders.ingress", "sets both certificate_arn and domain")


def test_an_eks_ingress_domain_needs_its_zone():
    from tests.conftest import assert_problem
    assert_problem(_eks({"domain": "orders.example.com"}), "orders.ingress", "zone")


def test_a_public_eks_service_built_directly_in_prod_without_tls_is_refused_naming_both_fixes():
    from tests.conftest import assert_problem
    assert_problem(_eks({"path": "/orders"}), "orders.ingress", "set domain and zone")
    assert _plan(_eks({"path": "/orders"}, environment="staging"), "staging").of_type(
        "kubernetes:networking.k8s.io/v1:Ingress")


def test_an_eks_ingress_domain_is_the_url_not_the_load_balancers_own_name():
    # GIVEN a public eks service whose Ingress has a domain (the certificate names only that domain)
    from components.eks import KubernetesService

    def program():
        svc = KubernetesService("orders", {"image": EKS_IMAGE, "expose": "public",
                                           "ingress": {"domain": "orders.example.com", "zone": "example.com"}},
                                network=EKS_NET, profile="prod")
        pulumi.export("url", svc.url)
    # WHEN planned THEN its url is https://<domain>, which the certificate verifies, not https://<elb name>
    assert _plan(program, "prod").outputs["url"] == "https://orders.example.com"


def test_an_eks_ingress_host_other_than_its_domain_is_refused():
    # GIVEN an Ingress whose certificate and alias record are for one name and whose rule matches another
    from tests.conftest import assert_problem
    # WHEN built THEN refused: requests for the domain would match no rule, and the host has no certificate
    assert_problem(_eks({"domain": "orders.example.com", "zone": "example.com", "host": "api.example.com"}),
                   "orders.ingress.host", "domain is 'orders.example.com'")
    # and a host equal to the domain is fine
    assert _plan(_eks({"domain": "orders.example.com", "zone": "example.com", "host": "orders.example.com"}),
                 "prod").of_type("kubernetes:networking.k8s.io/v1:Ingress")


def test_a_host_rule_on_a_shared_alb_with_a_domain_must_be_that_domain():
    # GIVEN a shared ALB whose certificate is requested for api.example.com, and a service routing another host
    from components.blocks.load_balancer import validate_shared_rules
    specs = {"a": {"expose": "public", "load_balancer": {"shared": "edge", "path": "/a/*",
                                                         "domain": "api.example.com", "zone": "example.com"}},
             "b": {"expose": "public", "load_balancer": {"shared": "edge", "host": "orders.example.com"}},
             "c": {"expose": "public", "load_balancer": {"shared": "edge", "host": "api.example.com", "path": "/c"}}}
    # WHEN the rules are checked THEN only the host the certificate does not name is refused
    assert [str(p) for p in validate_shared_rules(specs)] == [
        "services.b.load_balancer.host: is 'orders.example.com' but shared ALB 'edge' has the certificate of domain "
        "'api.example.com' only: use a path rule (or host 'api.example.com'), or give the ALB a certificate_arn "
        "that covers every host"]


def test_a_public_docker_service_is_refused_in_prod_and_warned_about_elsewhere(tmp_path):
    # GIVEN a docker service with expose: public (its host publishes plain ports on every interface)
    from components.catalog import load_catalog
    from tests.conftest import assert_problem
    services = {"web": {"pattern": "docker", "image": {"ref": "public.ecr.aws/acme/web:1.0.0"}, "expose": "public"}}
    # WHEN the prod catalog loads THEN it is refused, naming what to do instead
    assert_problem(lambda: load_catalog({"environment": "prod", "catalog_dir": "", "services": services}, tmp_path),
                   "services.web.expose: is public: the docker pattern publishes", "which prod does not allow",
                   "use expose: internal, or run it as an ecs or vm service")
    # WHEN the staging catalog loads THEN it is a warning
    catalog = load_catalog({"environment": "staging", "catalog_dir": "", "services": services}, tmp_path)
    assert [str(w).split(":")[0] for w in catalog.warnings] == ["services.web.expose"]
    assert "(prod refuses this)" in str(catalog.warnings[0])


def test_a_certificate_arn_of_another_region_is_refused():
    # GIVEN a stack in us-east-1 and a certificate requested in eu-west-1 (ACM certificates are regional)
    other = CERT.replace("us-east-1", "eu-west-1")
    # WHEN a load balancer or an Ingress is given it THEN it is refused before anything is created
    lines = _component_problems(lambda: _service("shop", {"certificate_arn": other}, "dev"), "dev")
    assert lines == ["shop.load_balancer.certificate_arn: is a certificate of region 'eu-west-1' but the stack "
                     "deploys to 'us-east-1': a load balancer or a regional API domain only uses a certificate of its "
                     "own region (request or import one in us-east-1, or give domain and zone to have one requested "
                     "there)"]
    from tests.conftest import assert_problem
    assert_problem(_eks({"certificate_arn": other}), "orders.ingress.certificate_arn", "region 'eu-west-1'")
    # and a certificate of the stack's region is fine
    assert _component_problems(lambda: _service("shop", {"certificate_arn": CERT}, "dev"), "dev") == []


def test_a_gateway_certificate_arn_of_another_region_is_refused():
    # GIVEN the gateway's REGIONAL custom domain and an existing certificate from another region
    from components.gateway import ApiGateway
    other = CERT.replace("us-east-1", "eu-west-1")
    # WHEN built in a us-east-1 stack THEN refused (API Gateway: a Regional custom domain needs a certificate
    # of the API's own region)
    lines = _component_problems(lambda: ApiGateway("edge", {"domain": "api.example.com", "certificate_arn": other},
                                                   profile="prod").finish(), "prod")
    assert any(line.startswith("edge.certificate_arn: is a certificate of region 'eu-west-1'") for line in lines), lines


def test_a_shared_alb_of_vm_and_ecs_services_takes_the_domain_of_either(tmp_path):
    # GIVEN a vm and an ecs service on one shared ALB, the domain given by the ecs one (vm prepares first)
    from components.platform import Platform
    from components.testing import run_component
    from tests.conftest import ROOT
    from tests.test_vm import AMI
    image = {"ref": "public.ecr.aws/docker/library/nginx@sha256:" + "a" * 64}
    services = {
        "api": {"pattern": "ecs", "image": image, "expose": "public",
                "load_balancer": {"shared": "edge", "path": "/api/*", "domain": "shop.example.com",
                                  "zone": "example.com"}},
        "web": {"pattern": "vm", "ami": AMI, "expose": "public", "load_balancer": {"shared": "edge", "path": "/*"}},
    }
    # WHEN the dev stack is planned
    graph = run_component(lambda: Platform("platform", {"environment": "dev", "catalog_dir": "",
                                                        "services": services}, project_dir=ROOT), environment="dev")
    # THEN the one shared ALB has the certificate, HTTPS and the redirect, whichever pattern created it
    assert graph.one("aws:acm/certificate:Certificate", "edge-cert").inputs["domainName"] == "shop.example.com"
    assert sorted(r.name for r in graph.of_type("aws:lb/listener:Listener") if r.name.startswith("edge-")) == [
        "edge-http", "edge-https"]
    assert len([r for r in graph.of_type("aws:lb/loadBalancer:LoadBalancer") if r.name == "edge-lb"]) == 1
