"""Validation of a service's ``load_balancer`` (:func:`validate_load_balancer`) and the catalog rule of shared
ALBs (:func:`validate_shared_rules`). Both read the raw spec: they tolerate values not known yet and wrong types,
and run before anything is registered."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from ...validation import Problems, is_unknown, join_path
from ..certificate import DEFAULT_SSL_POLICY, has_tls, validate_tls_settings
from ..service import SERVICE_NAME_MAX, SERVICE_NAME_PATTERN, CoreSpec
from .args import (CERTIFICATE_ARN_PATTERN, HOST_RULE_PATTERN, LB_KEYS, LB_TYPES, MATCHER_PATTERN, PATH_RULE_PATTERN,
                   PRIORITY_MAX, RULE_VALUE_MAX, SHARED_SETTINGS, SSL_POLICY_PATTERN, LoadBalancerSettings,
                   rule_priority, shared_groups)

__all__ = ["rule_text", "validate_load_balancer", "validate_shared_rules"]

#: What a service that leaves ``expose`` out gets.
DEFAULT_EXPOSE = CoreSpec.expose


def validate_load_balancer(spec: Any, path: str, problems: Problems, core: Mapping[str, Any] | None = None) -> None:
    """Validate ``load_balancer`` at ``path`` (e.g. ``services.orders.load_balancer``).

    ``core`` is the service's whole spec (for ``expose``). Records problems in ``problems``.
    """
    if spec is None or not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return
    problems.check_known_keys(spec, LB_KEYS, path)
    expose = (core or {}).get("expose", DEFAULT_EXPOSE)
    if expose == "none" and spec:
        problems.add(path, "is set but expose is 'none': the service has no load balancer "
                           "(set expose to 'public' or 'internal', or remove load_balancer)")
    lb_type = spec.get("type", LoadBalancerSettings.type)
    problems.check_enum(spec.get("type"), join_path(path, "type"), LB_TYPES)
    problems.check_str(spec.get("certificate_arn"), join_path(path, "certificate_arn"), CERTIFICATE_ARN_PATTERN,
                       "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)")
    problems.check_str(spec.get("ssl_policy"), join_path(path, "ssl_policy"), SSL_POLICY_PATTERN,
                       f"an ELB security policy name such as {DEFAULT_SSL_POLICY!r}")
    validate_tls_settings(spec, path, problems)
    if spec.get("ssl_policy") is not None and not has_tls(spec):
        problems.add(join_path(path, "ssl_policy"), "is only used with certificate_arn or domain (an HTTPS/TLS "
                                                    "listener)")
    _check_cidrs(spec.get("allowed_cidrs"), join_path(path, "allowed_cidrs"), problems)
    problems.check_int(spec.get("deregistration_delay"), join_path(path, "deregistration_delay"), 0, 3600, "seconds")
    _check_matcher(spec.get("matcher"), join_path(path, "matcher"), problems)
    problems.check_int(spec.get("idle_timeout"), join_path(path, "idle_timeout"), 1, 4000, "seconds")
    if spec.get("idle_timeout") is not None and lb_type == "nlb":
        problems.add(join_path(path, "idle_timeout"), "applies to an ALB only (type: alb)")

    _check_shared_rule(spec, path, problems, lb_type)


def _check_shared_rule(spec: Mapping[str, Any], path: str, problems: Problems, lb_type: Any) -> None:
    """``shared`` and the rule it takes there (``path``, ``host``, ``priority``), which need one another."""
    shared = spec.get("shared")
    if shared is None:
        for key in ("path", "host", "priority"):
            if spec.get(key) is not None:
                problems.add(join_path(path, key), "is only used with shared (a rule on a shared ALB)")
        return
    if not is_unknown(shared) and (not isinstance(shared, str) or len(shared) > SERVICE_NAME_MAX
                                   or not re.fullmatch(SERVICE_NAME_PATTERN, shared)):
        problems.add(join_path(path, "shared"), f"must be a DNS-1123 label of at most {SERVICE_NAME_MAX} "
                                                f"characters naming the shared ALB, got {shared!r}")
    if lb_type == "nlb":
        problems.add(join_path(path, "type"), "a shared load balancer is an ALB: remove type: nlb or shared")
    if spec.get("path") is None and spec.get("host") is None:
        problems.add(path, "with shared needs a path and/or a host rule (which requests reach this service)")
    rule_path = spec.get("path")
    if problems.check_str(rule_path, join_path(path, "path"), max_len=RULE_VALUE_MAX) and isinstance(rule_path, str):
        if not rule_path.startswith("/"):
            problems.add(join_path(path, "path"), f"must start with '/', got {rule_path!r}")
        elif not re.fullmatch(PATH_RULE_PATTERN, rule_path):
            problems.add(join_path(path, "path"), "may contain only letters, digits, _-.$/~\"'@:+& and the "
                                                  f"wildcards * and ?, got {rule_path!r}")
    host = spec.get("host")
    if problems.check_str(host, join_path(path, "host"), max_len=RULE_VALUE_MAX) and isinstance(host, str) \
            and not re.fullmatch(HOST_RULE_PATTERN, host):
        problems.add(join_path(path, "host"), "must be a host name such as 'orders.example.com' (letters, digits, "
                                              f"-_. and the wildcards * and ?, with at least one '.'), got {host!r}")
    problems.check_int(spec.get("priority"), join_path(path, "priority"), 1, PRIORITY_MAX)


def _check_cidrs(cidrs: Any, path: str, problems: Problems) -> None:
    if not problems.check_list(cidrs, path) or not isinstance(cidrs, (list, tuple)):
        return
    if not cidrs:
        problems.add(path, "must list at least one CIDR (omit it for the default)")
    for i, cidr in enumerate(cidrs):
        if is_unknown(cidr):
            continue
        try:
            if ipaddress.ip_network(str(cidr)).version != 4:
                raise ValueError
        except ValueError:
            problems.add(join_path(path, i), f"must be an IPv4 CIDR such as 10.0.0.0/16, got {cidr!r}")


def _check_matcher(matcher: Any, path: str, problems: Problems) -> None:
    if matcher is None or is_unknown(matcher):
        return
    if isinstance(matcher, int) and not isinstance(matcher, bool):
        matcher = str(matcher)
    if not isinstance(matcher, str) or not re.fullmatch(MATCHER_PATTERN, matcher):
        problems.add(path, f"must be HTTP codes such as '200', '200,204' or '200-299', got {matcher!r}")
        return
    for part in matcher.split(","):
        lo, _, hi = part.partition("-")
        codes = (int(lo), int(hi or lo))
        if not all(200 <= c <= 499 for c in codes) or codes[0] > codes[1]:
            problems.add(path, f"codes must be between 200 and 499 inclusive (ranges low-high), got {matcher!r}")
            return


def validate_shared_rules(specs: Mapping[str, Mapping[str, Any]], ctx: Any = None, *,
                          path: str = "services") -> Problems:
    """Cross-service rules of shared ALBs (a catalog rule, ``(specs, ctx) -> Problems``): a (host, path)
    rule or a priority claimed twice on one ALB is an error, and services on one ALB must agree on its
    ``expose`` and listener settings."""
    problems = Problems()
    for lb_name, services in shared_groups(specs).items():
        _check_shared_claims(lb_name, services, specs, path, problems)
        _check_shared_agreement(lb_name, services, specs, path, problems)
        _check_shared_certificate(lb_name, services, specs, path, problems)
    return problems


def _check_shared_claims(lb_name: str, services: list[str], specs: Mapping[str, Mapping[str, Any]], path: str,
                         problems: Problems) -> None:
    """No (host, path) rule and no priority claimed twice on one shared ALB."""
    rules: dict[tuple[Any, Any], str] = {}
    priorities: dict[int, str] = {}
    for service in services:
        lb = specs[service]["load_balancer"]
        lb_path = join_path(path, service, "load_balancer")
        key = (lb.get("host"), lb.get("path"))
        if key in rules:
            problems.add(lb_path, f"the rule {rule_text(lb)} on shared ALB {lb_name!r} is already claimed "
                                  f"by service {rules[key]!r}")
        else:
            rules[key] = service
        if lb.get("priority") is None or isinstance(lb["priority"], int):
            prio = rule_priority(service, lb)
            if prio in priorities:
                problems.add(join_path(lb_path, "priority"),
                             f"priority {prio} on shared ALB {lb_name!r} is already used by service "
                             f"{priorities[prio]!r}; set a different priority")
            else:
                priorities[prio] = service


def _check_shared_agreement(lb_name: str, services: list[str], specs: Mapping[str, Mapping[str, Any]], path: str,
                            problems: Problems) -> None:
    """Every service on one shared ALB agrees with the first on ``expose`` and the ALB's own settings."""
    first = services[0]
    first_spec = specs[first]
    theirs_expose = first_spec.get("expose", DEFAULT_EXPOSE)
    for service in services[1:]:
        spec = specs[service]
        lb = spec["load_balancer"]
        mine_expose = spec.get("expose", DEFAULT_EXPOSE)
        if mine_expose != theirs_expose:
            problems.add(join_path(path, service, "expose"),
                         f"services on shared ALB {lb_name!r} must agree on expose: {first!r} has "
                         f"{theirs_expose!r}, this one {mine_expose!r}")
        for setting in SHARED_SETTINGS:
            mine, theirs = lb.get(setting), first_spec["load_balancer"].get(setting)
            if mine is not None and theirs is not None and mine != theirs:
                problems.add(join_path(path, service, "load_balancer", setting),
                             f"services on shared ALB {lb_name!r} must agree on {setting}: {first!r} has "
                             f"{theirs!r}, this one {mine!r}")


def _check_shared_certificate(lb_name: str, services: list[str], specs: Mapping[str, Mapping[str, Any]], path: str,
                              problems: Problems) -> None:
    """With a ``domain``, host rules name that domain; ``certificate_arn`` and ``domain`` not both."""
    # With a domain the ALB's one certificate names only that domain: a host rule for another name would
    # be served a certificate that does not match it (and no record points that name at the ALB).
    domains = [specs[s]["load_balancer"]["domain"] for s in services
               if isinstance(specs[s]["load_balancer"].get("domain"), str)]
    for service in services if domains else ():
        host = specs[service]["load_balancer"].get("host")
        if isinstance(host, str) and host != domains[0]:
            problems.add(join_path(path, service, "load_balancer", "host"),
                         f"is {host!r} but shared ALB {lb_name!r} has the certificate of domain {domains[0]!r} "
                         f"only: use a path rule (or host {domains[0]!r}), or give the ALB a certificate_arn "
                         "that covers every host")
    given = {key: [s for s in services if specs[s]["load_balancer"].get(key) is not None]
             for key in ("certificate_arn", "domain")}
    if all(given.values()) and given["certificate_arn"] != given["domain"]:
        problems.add(join_path(path, given["domain"][0], "load_balancer", "domain"),
                     f"shared ALB {lb_name!r} gets certificate_arn from {given['certificate_arn'][0]!r} and domain "
                     f"from {given['domain'][0]!r}: its services give one of them, not both")


def rule_text(lb: Mapping[str, Any]) -> str:
    """``host 'a.example.com' and path '/a/*'``: the rule a ``load_balancer`` spec asks for, in words."""
    parts = []
    if lb.get("host") is not None:
        parts.append(f"host {lb['host']!r}")
    if lb.get("path") is not None:
        parts.append(f"path {lb['path']!r}")
    return " and ".join(parts)
