"""TLS for public endpoints: an ACM certificate validated through Route 53, and the alias record.

Used by public load balancers (:mod:`.load_balancer`) and the API gateway's custom domain::

    from components.blocks.certificate import (alias_record, dns_validated_certificate, hosted_zone_id,
                                               ingress_tls_annotations, validate_domain)

    # validation: `domain` and `zone` of a spec (a mapping), problems at <path>.domain / <path>.zone
    validate_domain(spec, "services.shop.load_balancer", problems)

    # build: the certificate ARN resolves only once ACM has issued it, so a listener using it waits
    cert_arn = dns_validated_certificate(name, domain="shop.example.com", zone="example.com",
                                         tags=tags, opts=child)
    alias_record(name, domain="shop.example.com", zone="example.com",
                 target_dns_name=lb.dns_name, target_zone_id=lb.zone_id, opts=child)

``zone`` is a public Route 53 hosted zone, by id (``Z0123456789ABCDEFGHIJ``) or by name (``example.com``,
looked up once per call with ``aws.route53.get_zone``). ACM validates a public certificate through public
DNS, so a private hosted zone cannot validate it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from ..validation import Problems, is_unknown, join_path

__all__ = [
    "DEFAULT_SSL_POLICY",
    "DOMAIN_MAX",
    "PLAIN_PORTS",
    "TLS_SETTINGS",
    "alias_record",
    "check_certificate_region",
    "dns_validated_certificate",
    "has_tls",
    "hosted_zone_id",
    "ingress_alias_record",
    "ingress_tls",
    "ingress_tls_annotations",
    "is_zone_id",
    "missing_tls_message",
    "plain_ports_message",
    "public_tls_warnings",
    "validate_domain",
    "validate_public_tls",
    "validate_tls_settings",
]

#: TLS policy of every HTTPS/TLS listener we create: the policy AWS recommends for ELB and the console's default
#: ("Security policies for your Application Load Balancer"): TLS 1.3 and 1.2 clients, a restricted set of TLS 1.2
#: ciphers, hybrid post-quantum key exchange for clients that offer it. The API's own default, when a listener
#: names none, is ELBSecurityPolicy-2016-08, which still accepts TLS 1.0.
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
#: RFC 5280 (and ACM): a certificate's domain name, its Common Name, is at most 64 octets including the dots.
DOMAIN_MAX = 64
LABEL_PATTERN = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN_PATTERN = rf"{LABEL_PATTERN}(\.{LABEL_PATTERN})+"
#: A Route 53 hosted zone id: ``Z`` and upper-case letters and digits, 32 characters at most.
ZONE_ID_PATTERN = r"Z[A-Z0-9]{1,31}"
#: Route 53 writes the validation CNAME; ACM checks it within minutes, so a short TTL costs nothing.
VALIDATION_TTL = 60


def is_zone_id(zone: Any) -> bool:
    """True when ``zone`` is a hosted zone id (``Z`` + upper-case letters and digits), not a zone name."""
    return isinstance(zone, str) and re.fullmatch(ZONE_ID_PATTERN, zone) is not None


def validate_domain(value: Any, path: str, problems: Problems) -> None:
    """Validate ``domain`` and ``zone`` of ``value`` (the mapping holding them, e.g. a load balancer spec at
    ``path`` = ``services.shop.load_balancer``); records problems at ``<path>.domain`` and ``<path>.zone``.

    ``domain`` is a lower-case host name of at least two labels, at most 64 characters (a certificate's
    Common Name), no wildcard; ``zone`` is required with it (and only with it), a hosted zone id or a zone
    name, and a zone name must be ``domain`` itself or one of its parents. Values not known yet are skipped."""
    if not isinstance(value, Mapping):
        return
    domain, zone = value.get("domain"), value.get("zone")
    domain_path, zone_path = join_path(path, "domain"), join_path(path, "zone")
    domain_ok = _check_host_name(domain, domain_path, problems, max_len=DOMAIN_MAX)
    if domain is not None and zone is None:
        problems.add(zone_path, "is required with domain: the public Route 53 hosted zone (its id, Z..., or its "
                                "name, e.g. 'example.com') that holds the certificate's validation record and "
                                "the alias record")
        return
    if zone is not None and domain is None:
        problems.add(zone_path, "is only used with domain (the host name to serve over HTTPS)")
    if zone is None or is_unknown(zone):
        return
    if not isinstance(zone, str):
        problems.add(zone_path, f"must be a hosted zone id (Z...) or a zone name such as 'example.com', got {zone!r}")
        return
    if is_zone_id(zone):
        return
    if not _check_host_name(zone, zone_path, problems, max_len=253, what="a hosted zone id (Z...) or a zone name"):
        return
    if domain_ok and isinstance(domain, str) and domain != zone and not domain.endswith(f".{zone}"):
        problems.add(domain_path, f"{domain!r} is not in zone {zone!r}: the domain must be the zone's name or "
                                  f"end with '.{zone}'")


def _check_host_name(value: Any, path: str, problems: Problems, *, max_len: int,
                     what: str = "a host name such as 'shop.example.com'") -> bool:
    """True when ``value`` is missing, unknown or a valid lower-case DNS name of at most ``max_len``."""
    if value is None or is_unknown(value):
        return True
    if not isinstance(value, str):
        problems.add(path, f"must be {what}, got {type(value).__name__} {value!r}")
        return False
    if value.startswith("*."):
        problems.add(path, f"must be a host name without a wildcard (each endpoint gets its own certificate and "
                           f"record), got {value!r}")
        return False
    if len(value) > max_len:
        problems.add(path, f"must be at most {max_len} characters, got {len(value)} ({value[:40]!r}…)")
        return False
    if not re.fullmatch(DOMAIN_PATTERN, value):
        problems.add(path, f"must be {what}: lower-case letters, digits and '-' in dot-separated labels of 1-63 "
                           f"characters (no leading or trailing '-' or '.'), at least two labels, got {value!r}")
        return False
    return True


def hosted_zone_id(zone: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> pulumi.Input[str]:
    """The id of the public hosted zone ``zone``: a zone id (``Z`` + upper-case letters and digits) as it is,
    else the id ``aws.route53.get_zone`` finds for that name. ``opts`` (the caller's child options) gives the
    lookup the caller's parent, so it uses the same provider."""
    if is_zone_id(zone) or is_unknown(zone):
        return zone
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent if opts else None)
    return aws.route53.get_zone_output(name=zone, private_zone=False, opts=invoke).zone_id


def dns_validated_certificate(name: str, *, domain: str, zone: pulumi.Input[str], tags: Mapping[str, str],
                              opts: pulumi.ResourceOptions | None = None) -> pulumi.Output[str]:
    """An ACM certificate for ``domain`` validated through DNS in ``zone``; returns its ARN once issued.

    Registers ``{name}-cert`` (``aws.acm.Certificate``, DNS validation), one ``{name}-cert-validation``
    record (``aws.route53.Record``, the CNAME ACM asks for) per domain validation option, and
    ``{name}-cert-validation`` (``aws.acm.CertificateValidation``), which waits until ACM has issued the
    certificate. The returned ARN is the validation's, so a listener given it is created only once the
    certificate can be served. ACM renews the certificate itself while the validation record stays in place.
    """
    cert = aws.acm.Certificate(f"{name}-cert", domain_name=domain, validation_method="DNS",
                               tags={**tags, "Name": f"{name}-cert"}, opts=opts)
    zone_id = hosted_zone_id(zone, opts)
    records = _validation_records(name, cert, [domain], zone_id, opts)
    validation = aws.acm.CertificateValidation(f"{name}-cert-validation", certificate_arn=cert.arn,
                                               validation_record_fqdns=[r.fqdn for r in records], opts=opts)
    return validation.certificate_arn


def _validation_records(name: str, cert: aws.acm.Certificate, domains: Sequence[str], zone_id: pulumi.Input[str],
                        opts: pulumi.ResourceOptions | None) -> list[aws.route53.Record]:
    """One validation record per domain of the certificate. ``domain_validation_options`` is a set known only
    once ACM answers, so the records are declared for the domains known now (never inside an ``apply``, which
    a preview would not show) and each reads its own option by domain name, never by position."""
    records = []
    for i, domain in enumerate(domains):
        option = cert.domain_validation_options.apply(lambda options, d=domain: _option_for(options, d))
        # allow_overwrite: ACM asks for the same CNAME for a domain in one account, so a replacement certificate
        # (or another stack's certificate for the same name) finds the record already there.
        records.append(aws.route53.Record(
            f"{name}-cert-validation" if i == 0 else f"{name}-cert-validation-{i}", zone_id=zone_id,
            name=option.apply(lambda o: o.get("name")), type=option.apply(lambda o: o.get("type")),
            records=[option.apply(lambda o: o.get("value"))], ttl=VALIDATION_TTL, allow_overwrite=True, opts=opts))
    return records


def _option_for(options: Any, domain: str) -> dict[str, Any]:
    for option in options or []:
        get = option.get if isinstance(option, Mapping) else lambda key, o=option: getattr(o, key, None)
        if get("domain_name") == domain:
            return {"name": get("resource_record_name"), "type": get("resource_record_type"),
                    "value": get("resource_record_value")}
    return {}


def alias_record(name: str, *, domain: str, zone: pulumi.Input[str], target_dns_name: pulumi.Input[str],
                 target_zone_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> aws.route53.Record:
    """``{name}-alias``: an A alias record ``domain`` -> ``target_dns_name`` (a load balancer or an API
    Gateway regional domain, whose own hosted zone is ``target_zone_id``) in ``zone``. Alias queries are
    free, and the record follows the target's addresses; ``evaluate_target_health`` lets Route 53 answer
    from the target's health. Our load balancers are IPv4 only, so there is no AAAA record."""
    return aws.route53.Record(f"{name}-alias", zone_id=hosted_zone_id(zone, opts), name=domain, type="A",
                              aliases=[{"name": target_dns_name, "zone_id": target_zone_id,
                                        "evaluate_target_health": True}], opts=opts)


def ingress_tls_annotations(certificate_arn: pulumi.Input[str] | None, *,
                            ssl_policy: str | None = None) -> dict[str, pulumi.Input[str]]:
    """The listener annotations of an Ingress served by the AWS Load Balancer Controller. With a certificate:
    HTTP 80 and HTTPS 443, port 80 only redirecting to 443 (``ssl-redirect``), the certificate and the TLS
    policy (``ssl_policy``, default :data:`DEFAULT_SSL_POLICY`). Without one: plain HTTP on 80."""
    prefix = "alb.ingress.kubernetes.io"
    if certificate_arn is None:
        return {f"{prefix}/listen-ports": json.dumps([{"HTTP": 80}])}
    return {
        f"{prefix}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        f"{prefix}/certificate-arn": certificate_arn,
        f"{prefix}/ssl-redirect": "443",
        f"{prefix}/ssl-policy": ssl_policy or DEFAULT_SSL_POLICY,
    }


def check_certificate_region(arn: Any, path: str, problems: Problems) -> None:
    """``arn`` (an ACM certificate ARN at ``path``) is in the stack's region (``aws:region``), when both are
    known: ACM certificates are regional, and a load balancer or an API Gateway regional domain can only use a
    certificate of its own region (ACM user guide, "Supported Regions"; API Gateway, "Getting certificates ready
    in AWS Certificate Manager")."""
    if not isinstance(arn, str):
        return
    parts = arn.split(":")
    region = pulumi.Config("aws").get("region")
    if len(parts) > 3 and parts[2] == "acm" and parts[3] and region and parts[3] != region:
        problems.add(path, f"is a certificate of region {parts[3]!r} but the stack deploys to {region!r}: a load "
                           f"balancer or a regional API domain only uses a certificate of its own region (request "
                           f"or import one in {region}, or give domain and zone to have one requested there)")


def validate_tls_settings(spec: Any, path: str, problems: Problems) -> None:
    """``certificate_arn``, or ``domain`` and ``zone``, of a ``load_balancer`` or ``ingress`` mapping at ``path``:
    the domain and its zone (:func:`validate_domain`), and not both ways at once."""
    if not isinstance(spec, Mapping):
        return
    validate_domain(spec, path, problems)
    check_certificate_region(spec.get("certificate_arn"), join_path(path, "certificate_arn"), problems)
    if spec.get("certificate_arn") is not None and spec.get("domain") is not None:
        problems.add(path, "sets both certificate_arn and domain: give certificate_arn to use an existing "
                           "certificate, or domain and zone to have one requested and validated, not both")


def ingress_tls(name: str, ingress: Mapping[str, Any], *, tags: Mapping[str, str],
                opts: pulumi.ResourceOptions | None = None) -> dict[str, pulumi.Input[str]]:
    """The listener annotations of an Ingress from its ``ingress`` spec: ``certificate_arn`` as it is, or a
    certificate for ``domain`` validated in ``zone`` (:func:`dns_validated_certificate`, ``{name}-cert...``);
    plain HTTP without either (:func:`ingress_tls_annotations`)."""
    cert = ingress.get("certificate_arn")
    if ingress.get("domain") is not None:
        cert = dns_validated_certificate(name, domain=ingress["domain"], zone=ingress["zone"], tags=tags, opts=opts)
    return ingress_tls_annotations(cert)


def ingress_alias_record(name: str, *, domain: str, zone: pulumi.Input[str], hostname: pulumi.Input[str],
                         opts: pulumi.ResourceOptions | None = None) -> aws.route53.Record:
    """``{name}-alias`` for an Ingress's ALB, which the load balancer controller creates: ``domain`` -> the
    Ingress's ``status.loadBalancer.ingress[0].hostname``, in the region's ALB hosted zone
    (``aws.lb.get_hosted_zone_id``)."""
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent if opts else None)
    alb_zone = aws.lb.get_hosted_zone_id_output(load_balancer_type="application", opts=invoke).id
    return alias_record(name, domain=domain, zone=zone, target_dns_name=hostname, target_zone_id=alb_zone, opts=opts)


# ---------------------------------------------------------------------------------------------
# The rule: public endpoints speak TLS in prod
# ---------------------------------------------------------------------------------------------

#: Where a service of each pattern with a load-balanced endpoint keeps that endpoint's TLS settings
#: (``certificate_arn``, or ``domain`` and ``zone``). Lambda function URLs and API Gateway endpoints are HTTPS
#: already; a ``docker`` service publishes plain ports on its host, without a load balancer
#: (:data:`PLAIN_PORTS`).
TLS_SETTINGS = {"vm": "load_balancer", "ecs": "load_balancer", "eks": "ingress"}
#: Patterns whose ``expose: public`` publishes the service's plain ports on every interface of its host, with
#: no load balancer to terminate TLS: public in prod only through another pattern.
PLAIN_PORTS = ("docker",)
#: The environment in which a public endpoint without TLS is an error (elsewhere: a warning in the plan).
TLS_REQUIRED_IN = "prod"


def has_tls(settings: Any) -> bool:
    """True when ``settings`` (a ``load_balancer`` or ``ingress`` mapping) gives an HTTPS/TLS listener:
    a ``certificate_arn``, or a ``domain`` (a certificate is then requested for it)."""
    return isinstance(settings, Mapping) and (settings.get("certificate_arn") is not None
                                              or settings.get("domain") is not None)


def missing_tls_message(environment: str) -> str:
    """What a public endpoint without TLS is told: an error in prod, a warning elsewhere; both name the fixes."""
    fixes = ("set domain and zone (an ACM certificate validated through that Route 53 zone, and the record "
             "pointing the domain at the load balancer), or certificate_arn (an existing ACM certificate)")
    if environment == TLS_REQUIRED_IN:
        return f"is public without TLS, which {TLS_REQUIRED_IN} does not allow: {fixes}"
    return (f"is public without TLS: plain HTTP on port 80 in {environment} ({TLS_REQUIRED_IN} refuses this): "
            f"{fixes}")


def plain_ports_message(environment: str) -> str:
    """What a ``docker`` service with ``expose: public`` is told: its host publishes plain ports."""
    what = ("publishes the service's ports on every interface of its Docker host, in plain HTTP (no load balancer "
            "terminates TLS)")
    fix = "use expose: internal, or run it as an ecs or vm service behind a load balancer with domain and zone"
    if environment == TLS_REQUIRED_IN:
        return f"is public: the docker pattern {what}, which {TLS_REQUIRED_IN} does not allow: {fix}"
    return f"is public: the docker pattern {what} ({TLS_REQUIRED_IN} refuses this): {fix}"


def _public_plain_ports(specs: Mapping[str, Any], ctx: Any) -> list[str]:
    """Paths (``services.<name>.expose``) of the public services of ``specs`` whose pattern publishes plain
    ports (:data:`PLAIN_PORTS`)."""
    patterns = getattr(ctx, "patterns", None) or {}
    return [join_path("services", name, "expose") for name in sorted(specs)
            if patterns.get(name) in PLAIN_PORTS and isinstance(specs[name], Mapping)
            and specs[name].get("expose") == "public"]


def _public_endpoints_without_tls(specs: Mapping[str, Any], ctx: Any) -> list[str]:
    """Paths (``services.<name>.<key>``) of the public endpoints of ``specs`` that have no TLS. A service on a
    shared ALB has TLS when any service on that ALB sets it (they share its listeners)."""
    patterns = getattr(ctx, "patterns", None) or {}
    shared_tls: dict[str, bool] = {}
    for spec in specs.values():
        lb = spec.get("load_balancer") if isinstance(spec, Mapping) else None
        if isinstance(lb, Mapping) and isinstance(lb.get("shared"), str):
            shared_tls[lb["shared"]] = shared_tls.get(lb["shared"], False) or has_tls(lb)
    paths = []
    for name in sorted(specs):
        spec = specs[name]
        if not isinstance(spec, Mapping) or spec.get("expose") != "public":
            continue
        key = TLS_SETTINGS.get(patterns[name]) if name in patterns else (
            "ingress" if "ingress" in spec else "load_balancer")
        if key is None:
            continue
        settings = spec.get(key)
        if is_unknown(settings):
            continue
        shared = settings.get("shared") if isinstance(settings, Mapping) else None
        if not (shared_tls.get(shared, False) if isinstance(shared, str) else has_tls(settings)):
            paths.append(join_path("services", name, key))
    return paths


def validate_public_tls(specs: Mapping[str, Any], ctx: Any) -> Problems:
    """Catalog rule ``(specs, ctx) -> Problems``: in prod, every public endpoint of a ``vm``, ``ecs`` or
    ``eks`` service has TLS (its ``load_balancer`` or ``ingress`` sets ``certificate_arn``, or ``domain`` and
    ``zone``), and no ``docker`` service is public (its host publishes plain ports). Other environments only
    warn (:func:`public_tls_warnings`)."""
    problems = Problems()
    if ctx.profile.name == TLS_REQUIRED_IN:
        for path in _public_endpoints_without_tls(specs, ctx):
            problems.add(path, missing_tls_message(ctx.profile.name))
        for path in _public_plain_ports(specs, ctx):
            problems.add(path, plain_ports_message(ctx.profile.name))
    return problems


def public_tls_warnings(specs: Mapping[str, Any], ctx: Any) -> Problems:
    """Catalog warning rule: outside prod, each public endpoint without TLS, as a warning the plan prints
    (and ``pulumi preview`` shows); nothing in the ``local`` profile, which has no load balancers."""
    problems = Problems()
    if ctx.profile.name != TLS_REQUIRED_IN and ctx.profile.cloud:
        for path in _public_endpoints_without_tls(specs, ctx):
            problems.add(path, missing_tls_message(ctx.profile.name))
        for path in _public_plain_ports(specs, ctx):
            problems.add(path, plain_ports_message(ctx.profile.name))
    return problems
