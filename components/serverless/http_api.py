"""``HttpApi``: an API Gateway HTTP API that several Lambda services can share, each adding its routes."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ..blocks.logs import log_group
from ..profiles import Profile, get_profile
from ..blocks.service import standard_tags, validate_tags
from ..validation import Problems, join_path

__all__ = ["CORS_KEYS", "DEFAULT_THROTTLE", "HTTP_METHODS", "HttpApi", "HttpApiArgs", "MAX_AUTHORIZERS_PER_API",
           "MAX_INTEGRATIONS_PER_API", "cors_configuration", "parse_route", "preflight_routes", "route_slug",
           "validate_cors", "validate_http_api", "validate_throttle"]

#: Stage-wide default throttling: far below the account's 10,000 requests per second, so one noisy
#: client cannot starve every other API in the account and region.
DEFAULT_THROTTLE = {"rate": 100, "burst": 200}

#: HTTP API quotas (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
MAX_AUTHORIZERS_PER_API = 10
MAX_INTEGRATIONS_PER_API = 300
HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
ROUTE_PATH_SEGMENT = r"[A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_]*\+\}"
CORS_KEYS = ("allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age", "allow_credentials")

ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "routeKey": "$context.routeKey", "status": "$context.status",
    "protocol": "$context.protocol", "responseLength": "$context.responseLength",
    "latency": "$context.responseLatency", "integrationError": "$context.integrationErrorMessage",
}, sort_keys=True)


class HttpApiArgs(TypedDict):
    cors: NotRequired[Mapping[str, Any]]
    """CORS: ``allow_origins``, ``allow_methods``, ``allow_headers``, ``expose_headers``, ``max_age``,
    ``allow_credentials``. Default: no CORS headers (browsers on other origins are refused)."""
    throttle: NotRequired[Mapping[str, int]]
    """Stage default throttling: ``rate`` (requests per second, 1-10000) and ``burst`` (1-5000).
    Default: rate 100, burst 200."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Default: none."""


def validate_http_api(args: Mapping[str, Any], path: str) -> Problems:
    problems = Problems()
    if not problems.check_mapping(args, path) or not isinstance(args, Mapping):
        return problems
    problems.check_known_keys(args, ("cors", "throttle", "tags"), path)
    problems.extend(validate_cors(args.get("cors"), join_path(path, "cors")))
    problems.extend(validate_throttle(args.get("throttle"), join_path(path, "throttle")))
    validate_tags(args.get("tags"), join_path(path, "tags"), problems)
    return problems


def validate_cors(cors: Any, path: str) -> Problems:
    """Every problem of a CORS setting: ``cors`` of a shared :class:`HttpApi`, of an ``http`` trigger (its
    API's) or of a ``url`` trigger (the function URL's), which take the same keys."""
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
    """Every problem of an API's stage throttling (``throttle`` of a shared :class:`HttpApi` or an ``http``
    trigger)."""
    problems = Problems()
    if problems.check_mapping(throttle, path) and isinstance(throttle, Mapping):
        problems.check_known_keys(throttle, ("rate", "burst"), path)
        problems.check_int(throttle.get("rate"), join_path(path, "rate"), 1, 10000, "requests per second")
        problems.check_int(throttle.get("burst"), join_path(path, "burst"), 1, 5000, "requests")
    return problems


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


def cors_configuration(cors: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not cors:
        return None
    keys = {"allow_origins": "allow_origins", "allow_methods": "allow_methods", "allow_headers": "allow_headers",
            "expose_headers": "expose_headers", "max_age": "max_age", "allow_credentials": "allow_credentials"}
    return {keys[k]: (sorted(v) if isinstance(v, (list, tuple)) else v) for k, v in cors.items() if k in CORS_KEYS}


def route_slug(route: str) -> str:
    """A stable, unique resource-name fragment for a route key."""
    readable = re.sub(r"[^a-z0-9]+", "-", route.lower()).strip("-")[:40] or "default"
    return f"{readable}-{hashlib.sha256(route.encode()).hexdigest()[:6]}"


class HttpApi(pulumi.ComponentResource):
    """An HTTP API with a ``$default`` stage (auto-deployed, JSON access logs, default throttling)."""

    api_id: pulumi.Output[str]
    """Id of the API."""
    api_endpoint: pulumi.Output[str]
    """Base URL, ``https://ID.execute-api.REGION.amazonaws.com``."""
    execution_arn: pulumi.Output[str]
    """Execution ARN, for Lambda permissions."""

    def __init__(self, name: str, args: HttpApiArgs | None = None, opts: pulumi.ResourceOptions | None = None, *,
                 profile: Profile | str | None = None):
        args = dict(args or {})
        validate_http_api(args, name).raise_if_any()
        super().__init__("microservices:lambda:HttpApi", name, None, opts)
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        child = pulumi.ResourceOptions(parent=self)
        tags = standard_tags(name, prof.name, args.get("tags"))
        throttle = {**DEFAULT_THROTTLE, **(args.get("throttle") or {})}
        self._claimed: dict[str, str] = {}
        self.cors = cors_configuration(args.get("cors"))
        """The API's CORS configuration (None without CORS): it decides the preflight routes."""
        self.api = aws.apigatewayv2.Api(f"{name}-api", protocol_type="HTTP",
                                        cors_configuration=cors_configuration(args.get("cors")), tags=tags, opts=child)
        # HTTP API access logs are delivered through CloudWatch Logs' account-wide resource policy, which
        # lists each log group and is capped at 5120 characters: past that, API Gateway refuses to enable
        # logging on any group outside /aws/vendedlogs/, which the policy then covers with one wildcard.
        self.access_logs = log_group(f"{name}-access-logs", prof,
                                     name=self.api.id.apply(lambda i: f"/aws/vendedlogs/apigateway/{i}/access"),
                                     tags=tags, opts=child)
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage", api_id=self.api.id, name="$default", auto_deploy=True,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            default_route_settings={"throttling_rate_limit": throttle["rate"],
                                    "throttling_burst_limit": throttle["burst"]},
            tags=tags, opts=child)
        self.api_id = self.api.id
        self.api_endpoint = self.api.api_endpoint
        self.execution_arn = self.api.execution_arn
        self.register_outputs({"api_id": self.api_id, "api_endpoint": self.api_endpoint,
                               "execution_arn": self.execution_arn})

    def claim(self, owner: str, routes: Sequence[str], path: str) -> Problems:
        """Reserve ``routes`` for ``owner``; a route another owner holds is a problem at ``path``."""
        problems = Problems()
        for j, route in enumerate(routes):
            holder = self._claimed.get(route)
            if holder is not None and holder != owner:
                problems.add(join_path(path, j), f"route {route!r} is already claimed by service {holder!r} on this API")
        if not problems:
            self._claimed.update({r: owner for r in routes})
        return problems

    def add_routes(self, service: str, *, function_name: pulumi.Input[str], alias_name: pulumi.Input[str],
                   alias_arn: pulumi.Input[str], routes: Sequence[str], authorizer: Mapping[str, Any] | None,
                   opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
        """A proxy integration to the alias, the routes (behind a JWT authorizer when given; ``OPTIONS``
        routes never, when the API has CORS, plus the preflight routes of :func:`preflight_routes`) and one
        invoke permission for the whole API; all parented by ``opts`` (the service)."""
        integration = aws.apigatewayv2.Integration(
            f"{service}-integration", api_id=self.api.id, integration_type="AWS_PROXY", integration_method="POST",
            integration_uri=alias_arn, payload_format_version="2.0", timeout_milliseconds=30000, opts=opts)
        auth = None
        if authorizer:
            audience = authorizer["audience"]
            auth = aws.apigatewayv2.Authorizer(
                f"{service}-jwt", api_id=self.api.id, authorizer_type="JWT", name=f"{service}-jwt",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration={"issuer": authorizer["issuer"],
                                   "audiences": [audience] if isinstance(audience, str) else sorted(audience)},
                opts=opts)
        created: list[pulumi.Resource] = [integration]
        target = integration.id.apply(lambda i: f"integrations/{i}")
        preflight = set(preflight_routes(list(routes), self.cors, authorizer))
        for route in sorted({*routes, *preflight}):
            # A browser's preflight carries no token: with CORS, an OPTIONS route must not ask for one.
            open_route = auth is None or (self.cors is not None and route.startswith("OPTIONS "))
            created.append(aws.apigatewayv2.Route(
                f"{service}-route-{route_slug(route)}", api_id=self.api.id, route_key=route, target=target,
                authorization_type="NONE" if open_route else "JWT", authorizer_id=None if open_route else auth.id,
                authorization_scopes=None if open_route else sorted(authorizer.get("scopes") or []) or None,
                opts=opts))
        # One permission for every route of this API that integrates with the function: one statement per
        # route would fill the function's 20 KB resource policy at about 60 routes.
        created.append(aws.lambda_.Permission(
            f"{service}-http-invoke", action="lambda:InvokeFunction", function=function_name, qualifier=alias_name,
            principal="apigateway.amazonaws.com", source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/*"),
            opts=opts))
        return created
