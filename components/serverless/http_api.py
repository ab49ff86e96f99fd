"""``HttpApi``: an API Gateway HTTP API that several Lambda services can share, each adding its routes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ..blocks.http_routes import (ACCESS_LOG_FORMAT, DEFAULT_THROTTLE, cors_configuration, preflight_routes,
                                  route_slug, validate_cors, validate_throttle)
from ..blocks.logs import log_group
from ..profiles import Profile, get_profile
from ..blocks.service import standard_tags, validate_tags
from ..validation import Problems, join_path

__all__ = ["HttpApi", "HttpApiArgs", "validate_http_api"]



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
