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
    "alias_record",
    "dns_validated_certificate",
    "hosted_zone_id",
    "ingress_tls_annotations",
    "is_zone_id",
    "validate_domain",
]

#: TLS policy of every HTTPS/TLS listener we create: the policy AWS recommends for ELB ("Security policies for
#: your Application Load Balancer"): TLS 1.3 and 1.2 only, forward-secret AES-GCM ciphers, hybrid post-quantum key
#: exchange for clients that offer it. ELB's own default, when a listener names none, is
#: ELBSecurityPolicy-2016-08, which still accepts TLS 1.0.
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
