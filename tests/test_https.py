"""HTTPS on public endpoints: the certificate block, TLS on public load balancers, and the prod rule."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.blocks.certificate import (DEFAULT_SSL_POLICY, alias_record, dns_validated_certificate,
                                           hosted_zone_id, ingress_tls_annotations, is_zone_id, validate_domain)
from components.plan.runtime import run
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
