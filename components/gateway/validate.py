"""Validation of ``microservices:gateway`` (a stack section) and of every service's ``routes`` (a catalog rule).

Limits, from API Gateway's "Quotas for configuring and running an HTTP API" and Elastic Load Balancing's
"Quotas for your Application Load Balancers":

- routes per API 300, integrations per API 300, maximum integration timeout 30 seconds, audiences per
  authorizer 50, scopes per route 10;
- ALB: rules per load balancer 100 (the default rule excluded), condition values per rule 5, condition
  wildcards per rule 5, each value at most 128 characters; and ("Listener rules for your Application Load
  Balancer") at most three match evaluations per condition, five per rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..blocks.certificate import check_certificate_region, validate_domain
from ..blocks.http_routes import (HTTP_METHODS, MAX_INTEGRATIONS_PER_API, MAX_ROUTES_PER_API, parse_route,
                                  preflight_routes, validate_cors, validate_throttle)
from ..blocks.load_balancer import (CERTIFICATE_ARN_PATTERN, GATEWAY_ALB, PATH_RULE_PATTERN, RULE_VALUE_MAX,
                                    SHARED_SETTINGS, rule_priority)
from ..blocks.service import CoreSpec, validate_tags
from ..validation import Problems, is_unknown, join_path
from .args import GATEWAY_KEYS, MAX_INTEGRATION_TIMEOUT, ROUTE_KEYS, route_key

__all__ = ["ALB_PATTERNS", "MAX_ALB_RULES", "MAX_CONDITION_VALUES", "MAX_INTEGRATIONS", "MAX_ROUTES",
           "alb_path_patterns", "gateway_warnings", "validate_gateway", "validate_routes"]

MAX_ROUTES = MAX_ROUTES_PER_API
MAX_INTEGRATIONS = MAX_INTEGRATIONS_PER_API
MAX_AUDIENCES = 50
MAX_SCOPES_PER_ROUTE = 10
MAX_ALB_RULES = 100
MAX_CONDITION_VALUES = 5
MAX_CONDITION_WILDCARDS = 5
#: Values of one condition (the path-pattern condition): "up to three match evaluations per condition".
MAX_VALUES_PER_CONDITION = 3
#: Patterns whose services the gateway reaches through its internal ALB and VPC link.
ALB_PATTERNS = ("vm", "ecs", "eks")
DOMAIN_PATTERN = r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z][-a-z0-9]{0,61}[a-z0-9]"
ROUTE_SHAPE = (f"'METHOD /path' with METHOD one of {', '.join(HTTP_METHODS)} and a path of segments, {{param}} "
               "or a final {proxy+}")


def validate_gateway(name: str, value: Any, path: str, ctx: Any) -> Problems:
    """Every problem of ``microservices:gateway`` (``value``) at ``path``; ``ctx.profile`` decides whether a
    custom domain with TLS is required (prod)."""
    problems = Problems()
    if value is None:
        value = {}
    if not problems.check_mapping(value, path) or not isinstance(value, Mapping):
        return problems
    problems.check_known_keys(value, GATEWAY_KEYS, path)
    problems.extend(validate_cors(value.get("cors"), join_path(path, "cors")))
    problems.extend(validate_throttle(value.get("throttle"), join_path(path, "throttle")))
    _check_authorizer(value.get("authorizer"), join_path(path, "authorizer"), problems)
    problems.check_int(value.get("integration_timeout"), join_path(path, "integration_timeout"), 1,
                       MAX_INTEGRATION_TIMEOUT, "seconds (API Gateway's maximum integration timeout is 30 seconds)")
    problems.check_bool(value.get("disable_execute_api_endpoint"), join_path(path, "disable_execute_api_endpoint"))
    validate_tags(value.get("tags"), join_path(path, "tags"), problems)
    _check_domain(value, path, problems, getattr(getattr(ctx, "profile", None), "name", "dev"))
    return problems


def gateway_warnings(name: str, value: Any, path: str, ctx: Any) -> Problems:
    """Outside prod, a gateway without a custom domain is allowed; say what that means."""
    warnings = Problems()
    environment = getattr(getattr(ctx, "profile", None), "name", "dev")
    if isinstance(value, Mapping) and value.get("domain") is None and environment not in ("prod", "local"):
        warnings.add(path, "has no custom domain: clients call the execute-api endpoint, which is HTTPS on an AWS "
                           "name that changes whenever the API is replaced; set domain and zone (or domain and "
                           "certificate_arn) for a name of your own, as prod requires")
    return warnings


def _check_authorizer(auth: Any, path: str, problems: Problems) -> None:
    if not problems.check_mapping(auth, path) or not isinstance(auth, Mapping):
        return
    problems.check_known_keys(auth, ("issuer", "audience"), path)
    if problems.require(auth, "issuer", path, "the JWT issuer URL"):
        problems.check_str(auth.get("issuer"), join_path(path, "issuer"), r"https://\S+", "an https:// issuer URL")
    audience = auth.get("audience")
    if problems.require(auth, "audience", path, "the accepted audiences (client ids)") and not is_unknown(audience):
        audience = [audience] if isinstance(audience, str) else audience
        if not isinstance(audience, (list, tuple)) or not audience or not all(isinstance(a, str) for a in audience):
            problems.add(join_path(path, "audience"), f"must be a non-empty list of strings, got {audience!r}")
        elif len(audience) > MAX_AUDIENCES:
            problems.add(join_path(path, "audience"),
                         f"at most {MAX_AUDIENCES} audiences per JWT authorizer, got {len(audience)}")


def _check_domain(value: Mapping[str, Any], path: str, problems: Problems, environment: str) -> None:
    """``domain`` with ``zone`` (a certificate validated in the zone, and the alias record) or with
    ``certificate_arn`` (an existing certificate; ``zone`` then only adds the record)."""
    domain, zone, cert = value.get("domain"), value.get("zone"), value.get("certificate_arn")
    problems.check_str(cert, join_path(path, "certificate_arn"), CERTIFICATE_ARN_PATTERN,
                       "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)")
    check_certificate_region(cert, join_path(path, "certificate_arn"), problems)
    if cert is None or zone is not None:
        validate_domain(value, path, problems)
    else:
        problems.check_str(domain, join_path(path, "domain"), DOMAIN_PATTERN,
                           "a lower-case DNS name such as 'api.example.com'", max_len=253)
    if domain is None:
        if cert is not None:
            problems.add(join_path(path, "certificate_arn"), "is only used with domain (the gateway's custom "
                                                             "domain name)")
        if environment == "prod":
            problems.add(path, "prod needs the gateway on a custom domain with TLS: set domain and zone (a "
                               "certificate validated through Route 53 is created) or domain and certificate_arn "
                               "(an existing ACM certificate); the execute-api endpoint is HTTPS too, but on an "
                               "AWS name that changes whenever the API is replaced")
    if value.get("disable_execute_api_endpoint") is True and domain is None:
        problems.add(join_path(path, "disable_execute_api_endpoint"),
                     "would leave the API unreachable: without domain the execute-api endpoint is its only address")


# -- routes (a catalog rule) ------------------------------------------------------------------------

def alb_path_patterns(routes: Sequence[str]) -> list[str]:
    """The ALB path patterns of route keys: each ``{param}`` or ``{proxy+}`` becomes ``*``
    (``GET /orders/{id}`` -> ``/orders/*``), duplicates removed, sorted."""
    out = set()
    for route in routes:
        parsed = parse_route(route)
        if parsed is not None:
            out.add(re.sub(r"\{[^}]*\}", "*", parsed[1]))
    return sorted(out)


def validate_routes(specs: Mapping[str, Mapping[str, Any]], ctx: Any) -> Problems:
    """Every service's ``routes`` across the catalog (``specs`` by service name; ``ctx.patterns`` gives
    each one's pattern, ``ctx.sections`` the stack's ``gateway`` and ``eks``): route syntax, a route claimed
    twice, the API's and the ALB's quotas, backends that cannot take routes. The ``local`` profile runs no
    gateway and ignores routes."""
    problems = Problems()
    routed = {svc: spec for svc, spec in sorted(specs.items()) if isinstance(spec, Mapping) and "routes" in spec}
    sections = getattr(ctx, "sections", {}) or {}
    gateway = sections.get("gateway")
    for svc, spec in sorted(specs.items()):
        lb = spec.get("load_balancer") if isinstance(spec, Mapping) else None
        if isinstance(lb, Mapping) and lb.get("shared") == GATEWAY_ALB:
            problems.add(join_path("services", svc, "load_balancer", "shared"),
                         f"{GATEWAY_ALB!r} is the name of the gateway's ALB; give the shared ALB another name "
                         "(or list routes to be reached through the gateway)")
    if not routed or getattr(getattr(ctx, "profile", None), "cloud", True) is False:
        return problems
    if gateway is None:
        for svc in routed:
            problems.add(join_path("services", svc, "routes"),
                         "lists routes but the stack sets no microservices:gateway (add microservices:gateway to the "
                         "stack file, or remove routes)")
        return problems
    gateway = gateway if isinstance(gateway, Mapping) else {}
    claimed: dict[str, str] = {}
    variables: dict[tuple[str, ...], tuple[str, str, str]] = {}
    priorities: dict[int, str] = {}
    total_routes = 0
    for svc, spec in routed.items():
        path = join_path("services", svc, "routes")
        keys = _check_entries(spec.get("routes"), path, gateway, problems)
        for j, key in keys:
            if key in claimed and claimed[key] != svc:
                problems.add(join_path(path, j), f"route {key!r} is already claimed by service {claimed[key]!r}")
            claimed.setdefault(key, svc)
            _check_variable_names(key, svc, join_path(path, j), variables, problems)
        route_keys = [k for _, k in keys]
        total_routes += len(route_keys) + len(preflight_routes(route_keys, gateway.get("cors"),
                                                                gateway.get("authorizer")))
        kind = (getattr(ctx, "patterns", {}) or {}).get(svc)
        if kind is not None:
            _check_backend(svc, kind, spec, route_keys, gateway, sections, problems)
        if kind in ALB_PATTERNS:
            prio = rule_priority(svc, {})
            if prio in priorities:
                problems.add(path, f"the gateway's ALB rule of {svc!r} gets priority {prio}, already that of "
                                   f"{priorities[prio]!r}; rename one of the services")
            priorities.setdefault(prio, svc)
    if total_routes > MAX_ROUTES:
        problems.add("services", f"the services list {total_routes} gateway routes (CORS preflight twins included); "
                                 f"an HTTP API allows {MAX_ROUTES}")
    if len(routed) > MAX_INTEGRATIONS:
        problems.add("services", f"{len(routed)} services have routes, one integration each; an HTTP API allows "
                                 f"{MAX_INTEGRATIONS} integrations")
    on_alb = [s for s in routed if (getattr(ctx, "patterns", {}) or {}).get(s) in ALB_PATTERNS]
    if len(on_alb) > MAX_ALB_RULES:
        problems.add("services", f"{len(on_alb)} vm, ecs and eks services have routes, one rule each on the gateway's "
                                 f"ALB; an ALB allows {MAX_ALB_RULES} rules")
    return problems


def _check_variable_names(key: str, svc: str, path: str, seen: dict[tuple[str, ...], tuple[str, str, str]],
                          problems: Problems) -> None:
    """Two routes of one API that name a path variable differently at the same level (``/orders/{id}`` and
    ``/orders/{orderId}/items``): CreateRoute refuses the second with 409 ConflictException ("has a conflicting
    variable on the same hierarchical level"). ``seen``: (path up to the variable, variables as ``{}``) ->
    (name, service, route key) across the whole API."""
    parsed = parse_route(key)
    if parsed is None:
        return
    prefix: list[str] = []
    for segment in [s for s in parsed[1].split("/") if s]:
        match = re.fullmatch(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", segment)
        if match:
            name = match.group(1)
            other = seen.setdefault(tuple(prefix), (name, svc, key))
            if other[0] != name:
                owner = "" if other[1] == svc else f" of service {other[1]!r}"
                problems.add(path, f"route {key!r} names a path variable {{{name}}} where route {other[2]!r}{owner} "
                                   f"names it {{{other[0]}}}: API Gateway refuses two variable names at one level "
                                   "(ConflictException); use one name")
                return
        prefix.append("{}" if segment.startswith("{") else segment)


def _check_entries(routes: Any, path: str, gateway: Mapping[str, Any], problems: Problems) -> list[tuple[int, str]]:
    """The valid route keys of one service's ``routes`` with their index; records every problem."""
    if not problems.check_list(routes, path) or not isinstance(routes, (list, tuple)):
        return []
    if not routes:
        problems.add(path, "needs at least one route (or remove routes)")
    keys: list[tuple[int, str]] = []
    seen: set[str] = set()
    for j, entry in enumerate(routes):
        rp = join_path(path, j)
        if isinstance(entry, Mapping):
            problems.check_known_keys(entry, ROUTE_KEYS, rp)
            problems.require(entry, "route", rp, ROUTE_SHAPE)
            problems.extend(validate_throttle(entry.get("throttle"), join_path(rp, "throttle")))
            _check_route_auth(entry, rp, gateway, problems)
        key = route_key(entry)
        kp = join_path(rp, "route") if isinstance(entry, Mapping) else rp
        if key is None and isinstance(entry, Mapping):
            continue
        if key == "$default":
            problems.add(kp, "the gateway routes by METHOD /path; a service cannot take $default (list its paths, "
                             "e.g. 'ANY /orders/{proxy+}')")
        elif not isinstance(key, str) or parse_route(key) is None:
            problems.add(kp, f"must be {ROUTE_SHAPE}, got {key!r}")
        elif key in seen:
            problems.add(kp, f"route {key!r} is listed twice")
        else:
            seen.add(key)
            keys.append((j, key))
    return keys


def _check_route_auth(entry: Mapping[str, Any], path: str, gateway: Mapping[str, Any], problems: Problems) -> None:
    has_authorizer = isinstance(gateway.get("authorizer"), Mapping)
    auth = entry.get("authorization")
    problems.check_enum(auth, join_path(path, "authorization"), ("jwt", "none"))
    if auth == "jwt" and not has_authorizer:
        problems.add(join_path(path, "authorization"), "is 'jwt' but microservices:gateway sets no authorizer")
    scopes = entry.get("scopes")
    sp = join_path(path, "scopes")
    if problems.check_list(scopes, sp) and isinstance(scopes, (list, tuple)):
        if len(scopes) > MAX_SCOPES_PER_ROUTE:
            problems.add(sp, f"at most {MAX_SCOPES_PER_ROUTE} scopes per route, got {len(scopes)}")
        for i, scope in enumerate(scopes):
            problems.check_str(scope, join_path(sp, i))
        if scopes and (not has_authorizer or auth == "none"):
            problems.add(sp, "need the gateway's JWT authorizer (microservices:gateway.authorizer) and "
                             "authorization 'jwt'")


def _check_backend(svc: str, kind: str | None, spec: Mapping[str, Any], routes: list[str],
                   gateway: Mapping[str, Any], sections: Mapping[str, Any], problems: Problems) -> None:
    """Whether the service's pattern and spec can sit behind the gateway."""
    path = join_path("services", svc)
    limit = gateway.get("integration_timeout", MAX_INTEGRATION_TIMEOUT)
    limit = limit if isinstance(limit, int) and not isinstance(limit, bool) else MAX_INTEGRATION_TIMEOUT
    if kind == "lambda":
        timeout = spec.get("timeout")
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > limit:
            problems.add(join_path(path, "timeout"),
                         f"is {timeout} seconds, beyond the gateway's {limit}-second integration timeout (API "
                         f"Gateway allows at most {MAX_INTEGRATION_TIMEOUT}): clients would get a 504 while the "
                         f"function runs on; set timeout to at most {limit} or remove routes")
        return
    if kind not in ALB_PATTERNS:
        problems.add(join_path(path, "routes"), f"the {kind} pattern runs on a Docker host the gateway cannot reach; "
                                                "routes are for lambda, vm, ecs and eks services")
        return
    expose = spec.get("expose", CoreSpec.expose)
    if expose == "public":
        problems.add(join_path(path, "expose"), "is 'public' but the service has routes: the gateway reaches it "
                                                "privately, and a public load balancer would be a second door that "
                                                "skips the gateway's authorizer and throttling; use 'internal'")
    if kind in ("vm", "ecs"):
        if expose == "none":
            problems.add(join_path(path, "expose"), "is 'none' but the service has routes: the gateway reaches it "
                                                    "through its internal ALB; use 'internal'")
        if kind == "ecs" and (spec.get("schedule") is not None or spec.get("queue") is not None):
            problems.add(join_path(path, "routes"), "only a long-running ecs service (no schedule or queue) serves "
                                                    "requests")
        lb = spec.get("load_balancer")
        if isinstance(lb, Mapping):
            for key in ("shared", "path", "host", "priority", "type", *SHARED_SETTINGS):
                if lb.get(key) is not None:
                    problems.add(join_path(path, "load_balancer", key),
                                 "cannot be set with routes: the service is a rule, derived from its routes, on the "
                                 "gateway's internal ALB")
    if kind == "eks":
        eks = sections.get("eks")
        if not (isinstance(eks, Mapping) and eks.get("load_balancer_controller")):
            problems.add(join_path(path, "routes"),
                         "an eks service joins the gateway's target group through a TargetGroupBinding, which the AWS "
                         "Load Balancer Controller serves: set microservices:eks.load_balancer_controller")
    patterns = alb_path_patterns(routes)
    wildcards = sum(p.count("*") + p.count("?") for p in patterns)
    # The path patterns are one path-pattern condition (at most 3 values); the X-Gateway-Service header is a
    # second condition, and the rule as a whole takes at most 5 values and 5 wildcards.
    if len(patterns) > MAX_VALUES_PER_CONDITION or wildcards > MAX_CONDITION_WILDCARDS:
        problems.add(join_path(path, "routes"),
                     f"map to {len(patterns)} ALB path patterns with {wildcards} wildcards ({', '.join(patterns)}); one "
                     f"ALB rule's path condition takes at most {MAX_VALUES_PER_CONDITION} values and the rule "
                     f"{MAX_CONDITION_WILDCARDS} wildcards: merge routes under a greedy path such as "
                     "'ANY /orders/{proxy+}'")
    for pattern in patterns:
        if len(pattern) > RULE_VALUE_MAX or not re.fullmatch(PATH_RULE_PATTERN, pattern):
            problems.add(join_path(path, "routes"),
                         f"path pattern {pattern!r} is not one an ALB accepts (at most {RULE_VALUE_MAX} characters of "
                         "letters, digits and _-.$/~\"'@:+&*?)")
