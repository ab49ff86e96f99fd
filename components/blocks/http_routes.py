"""HTTP API route keys and CORS, shared by whatever builds API Gateway HTTP APIs (the stack's gateway).

Route keys follow API Gateway's syntax (developer guide, "Create routes for HTTP APIs"): ``METHOD /path``
with METHOD one of :data:`HTTP_METHODS`, path segments, ``{param}`` variables and a greedy ``{name+}`` only
as the last segment; or ``$default``, the catch-all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..validation import Problems, join_path

__all__ = ["CORS_KEYS", "HTTP_METHODS", "cors_configuration", "parse_route", "preflight_routes", "route_slug",
           "validate_cors"]

HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
ROUTE_PATH_SEGMENT = r"[A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_]*\+\}"
CORS_KEYS = ("allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age", "allow_credentials")
#: HTTP API quotas per API (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
MAX_ROUTES_PER_API = 300
MAX_INTEGRATIONS_PER_API = 300
MAX_AUTHORIZERS_PER_API = 10
#: Stage-wide default throttling: far below the account's 10,000 requests per second, so one noisy client
#: cannot starve every other API in the account and region.
DEFAULT_THROTTLE = {"rate": 100, "burst": 200}
#: What each request leaves in an HTTP API's access log (``$context`` variables of HTTP APIs): enough to tell a
#: client error from an authorizer refusal, an integration failure or a slow backend. The gateway and every
#: per-function HTTP API log the same fields, so one query reads both.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "path": "$context.path", "routeKey": "$context.routeKey",
    "status": "$context.status", "protocol": "$context.protocol", "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency", "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus", "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error", "domainName": "$context.domainName",
}, sort_keys=True)


def parse_route(route: str) -> tuple[str, str] | None:
    """``"GET /orders/{id}" -> ("GET", "/orders/{id}")``; None when malformed."""
    parts = route.split(" ")
    if len(parts) != 2:
        return None
    method, path = parts
    if method not in HTTP_METHODS or not path.startswith("/"):
        return None
    segments = path[1:].split("/") if path != "/" else []
    for i, seg in enumerate(segments):
        if not re.fullmatch(ROUTE_PATH_SEGMENT, seg):
            return None
        if seg.endswith("+}") and i != len(segments) - 1:
            return None
    return method, path


def preflight_routes(routes: Sequence[Any], cors: Any, authorizer: Any) -> list[str]:
    """The unauthenticated ``OPTIONS`` routes that keep browser preflights away from a JWT authorizer.

    With CORS configured, API Gateway answers a preflight itself only when no route matches ``OPTIONS``;
    an ``ANY`` route or ``$default`` matches it and would send the token-less preflight to the authorizer
    (401). Each such route gets an ``OPTIONS`` twin without authorization (``OPTIONS /{proxy+}`` for
    ``$default``, as AWS's HTTP API CORS guide advises), unless the routes list it already."""
    if not cors or not authorizer:
        return []
    listed = {r for r in routes if isinstance(r, str)}
    out: list[str] = []
    for route in routes:
        if route == "$default":
            twin = "OPTIONS /{proxy+}"
        else:
            parsed = parse_route(route) if isinstance(route, str) else None
            if parsed is None or parsed[0] != "ANY":
                continue
            twin = f"OPTIONS {parsed[1]}"
        if twin not in listed and twin not in out:
            out.append(twin)
    return out


def route_slug(route: str) -> str:
    """A stable, unique resource-name fragment for a route key."""
    readable = re.sub(r"[^a-z0-9]+", "-", route.lower()).strip("-")[:40] or "default"
    return f"{readable}-{hashlib.sha256(route.encode()).hexdigest()[:6]}"


def validate_cors(cors: Any, path: str) -> Problems:
    """Every problem of a CORS setting (the gateway's, a shared HTTP API's, an ``http`` or ``url`` trigger's:
    they take the same keys). Browsers refuse ``Access-Control-Allow-Origin: *`` on a request with
    credentials, so that pair is an error rather than a CORS setting no browser can use."""
    problems = Problems()
    if not problems.check_mapping(cors, path) or not isinstance(cors, Mapping):
        return problems
    problems.check_known_keys(cors, CORS_KEYS, path)
    for key in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
        value = cors.get(key)
        if problems.check_list(value, join_path(path, key)) and isinstance(value, (list, tuple)):
            for j, item in enumerate(value):
                problems.check_str(item, join_path(path, key, j))
    methods = cors.get("allow_methods")
    if isinstance(methods, (list, tuple)):
        for j, m in enumerate(methods):
            if m != "*":
                problems.check_enum(m, join_path(path, "allow_methods", j), [x for x in HTTP_METHODS if x != "ANY"])
    problems.check_int(cors.get("max_age"), join_path(path, "max_age"), 0, 86400, "seconds")
    problems.check_bool(cors.get("allow_credentials"), join_path(path, "allow_credentials"))
    if cors.get("allow_credentials") is True and "*" in (cors.get("allow_origins") or []):
        problems.add(join_path(path, "allow_origins"), "cannot be '*' when allow_credentials is true; list the origins")
    return problems


def validate_throttle(throttle: Any, path: str) -> Problems:
    """Every problem of API Gateway throttling (a stage's default or a route's): ``rate`` requests per second,
    1-10000, and ``burst``, 1-5000."""
    problems = Problems()
    if problems.check_mapping(throttle, path) and isinstance(throttle, Mapping):
        problems.check_known_keys(throttle, ("rate", "burst"), path)
        problems.check_int(throttle.get("rate"), join_path(path, "rate"), 1, 10000, "requests per second")
        problems.check_int(throttle.get("burst"), join_path(path, "burst"), 1, 5000, "requests")
    return problems


def cors_configuration(cors: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``cors_configuration`` of an ``aws.apigatewayv2.Api`` (lists sorted, so reordering is no diff)."""
    if not cors:
        return None
    return {k: (sorted(v) if isinstance(v, (list, tuple)) else v) for k, v in cors.items() if k in CORS_KEYS}
