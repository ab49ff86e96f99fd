"""``ApiGateway``: the stack's one HTTP API in front of services of every pattern.

Built in two steps, because routes need the services they lead to: the constructor creates the API, its access
logs, the JWT authorizer, the custom domain and (when ``vm``, ``ecs`` or ``eks`` services have routes) the
internal ALB and VPC link; then each service is attached (:meth:`ApiGateway.add_lambda`,
:meth:`ApiGateway.add_load_balanced`, :meth:`ApiGateway.add_kubernetes`) and :meth:`ApiGateway.finish` creates
the ``$default`` stage, whose per-route throttling names routes that must exist first, and the API mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.http_routes import ACCESS_LOG_FORMAT, cors_configuration, preflight_routes, route_slug
from ..blocks.logs import log_group
from ..blocks.service import standard_tags
from ..patterns import ValidationContext
from ..profiles import Profile, get_profile
from .args import ApiGatewayArgs, GatewaySettings, Route, resolve_gateway
from .backends import SERVICE_HEADER, GatewayBackends, bind_kubernetes_service, create_backends
from .validate import validate_gateway

__all__ = ["ACCESS_LOG_FORMAT", "ApiGateway", "TLS_POLICY"]

TLS_POLICY = "TLS_1_2"


class ApiGateway(pulumi.ComponentResource):
    """An HTTP API with JSON access logs, throttling, CORS, an optional JWT authorizer and custom domain, and
    routes to Lambda aliases (proxy integrations, payload 2.0) and to an internal ALB through a VPC link."""

    api_id: pulumi.Output[str]
    """Id of the API."""
    api_endpoint: pulumi.Output[str]
    """The ``execute-api`` URL, ``https://ID.execute-api.REGION.amazonaws.com`` (refused when
    ``disable_execute_api_endpoint``)."""
    execution_arn: pulumi.Output[str]
    """Execution ARN (Lambda permissions are scoped to it)."""
    url: pulumi.Output[str]
    """Where clients call: ``https://<domain>`` with a custom domain, else :attr:`api_endpoint`."""
    backends: GatewayBackends | None
    """The internal ALB and VPC link (None when no ``vm``/``ecs``/``eks`` service has routes)."""

    def __init__(self, name: str, args: ApiGatewayArgs, opts: pulumi.ResourceOptions | None = None, *,
                 profile: Profile | str | None = None, network: Any = None,
                 load_balanced: Mapping[str, Sequence[str]] | None = None):
        """``load_balanced``: route keys of each ``vm``/``ecs``/``eks`` service the gateway will route to (they
        decide the ALB's rules); with any, ``network`` is required."""
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        args = dict(args or {})
        validate_gateway(name, args, name, ValidationContext(profile=prof)).raise_if_any()
        super().__init__("microservices:gateway:ApiGateway", name, None, opts)
        self._name, self._profile = name, prof
        self.settings: GatewaySettings = resolve_gateway(args)
        self._tags = standard_tags(name, prof.name, self.settings.tags)
        self._routes: list[aws.apigatewayv2.Route] = []
        self._route_settings: list[Route] = []
        child = pulumi.ResourceOptions(parent=self)
        self.api = aws.apigatewayv2.Api(
            f"{name}-api", protocol_type="HTTP", cors_configuration=cors_configuration(self.settings.cors),
            disable_execute_api_endpoint=self.settings.disable_execute_api_endpoint, tags=self._tags, opts=child)
        # /aws/vendedlogs/: CloudWatch Logs' account-wide resource policy for log delivery is capped at 5120
        # characters; groups under this prefix are covered by one wildcard statement.
        self.access_logs = log_group(f"{name}-access-logs", prof,
                                     name=self.api.id.apply(lambda i: f"/aws/vendedlogs/apigateway/{i}/access"),
                                     tags=self._tags, opts=child)
        self.authorizer = None
        if self.settings.authorizer is not None:
            self.authorizer = aws.apigatewayv2.Authorizer(
                f"{name}-jwt", api_id=self.api.id, authorizer_type="JWT", name=f"{name}-jwt",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration={"issuer": self.settings.authorizer.issuer,
                                   "audiences": list(self.settings.authorizer.audiences)}, opts=child)
        self.backends = create_backends(self, name, load_balanced, network=network, profile=prof,
                                        tags=self._tags) if load_balanced else None
        self.domain = self._custom_domain(name, child)
        self.api_id, self.api_endpoint, self.execution_arn = self.api.id, self.api.api_endpoint, self.api.execution_arn
        self.url = (pulumi.Output.from_input(f"https://{self.settings.domain}") if self.settings.domain
                    else self.api.api_endpoint)
        self.register_outputs({"api_id": self.api_id, "api_endpoint": self.api_endpoint,
                               "execution_arn": self.execution_arn, "url": self.url})

    # -- the custom domain ------------------------------------------------------------------------------

    def _custom_domain(self, name: str, child: pulumi.ResourceOptions) -> aws.apigatewayv2.DomainName | None:
        """``domain`` with TLS 1.2: the certificate given, else one validated through the zone (the
        certificate block); an alias record when the zone is known."""
        domain = self.settings.domain
        if domain is None:
            return None
        from ..blocks.certificate import alias_record, dns_validated_certificate
        cert = self.settings.certificate_arn
        if cert is None:
            cert = dns_validated_certificate(name, domain=domain, zone=self.settings.zone,
                                             tags=self._tags, opts=child)
        domain_name = aws.apigatewayv2.DomainName(
            f"{name}-domain", domain_name=domain,
            domain_name_configuration={"certificate_arn": cert, "endpoint_type": "REGIONAL",
                                       "security_policy": TLS_POLICY},
            tags=self._tags, opts=child)
        if self.settings.zone is not None:
            config = domain_name.domain_name_configuration
            alias_record(name, domain=domain, zone=self.settings.zone,
                         target_dns_name=config.apply(lambda c: c.target_domain_name),
                         target_zone_id=config.apply(lambda c: c.hosted_zone_id), opts=child)
        return domain_name

    # -- services ---------------------------------------------------------------------------------------

    def add_lambda(self, service: str, routes: Sequence[Route], *, function_name: pulumi.Input[str],
                   alias_arn: pulumi.Input[str]) -> aws.apigatewayv2.Integration:
        """Routes to a function's alias: an ``AWS_PROXY`` integration (payload format 2.0) and one invoke
        permission for this API, qualified by the alias."""
        child = pulumi.ResourceOptions(parent=self)
        integration = aws.apigatewayv2.Integration(
            f"{service}-gw-integration", api_id=self.api.id, integration_type="AWS_PROXY", integration_method="POST",
            integration_uri=alias_arn, payload_format_version="2.0",
            timeout_milliseconds=self.settings.integration_timeout * 1000, opts=child)
        self._add_routes(service, routes, integration)
        # One statement for every route of this API (a statement per route would fill the function's 20 KB
        # resource policy); the alias's own name qualifies it, so only `live` may be invoked.
        aws.lambda_.Permission(
            f"{service}-gw-invoke", action="lambda:InvokeFunction", function=function_name,
            qualifier=pulumi.Output.from_input(alias_arn).apply(lambda arn: arn.rsplit(":", 1)[-1]),
            principal="apigateway.amazonaws.com", source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/*"),
            opts=child)
        return integration

    def add_load_balanced(self, service: str, routes: Sequence[Route]) -> aws.apigatewayv2.Integration:
        """Routes to a service behind the gateway's ALB: an ``HTTP_PROXY`` integration with the ALB's listener
        through the VPC link (HTTP integrations take payload format 1.0 only). It sets the ``X-Gateway-Service``
        header, overwriting any the client sent, which the service's ALB rule requires."""
        if self.backends is None:
            raise ValueError(f"{service}: the gateway was built without load-balanced services (load_balanced=)")
        integration = aws.apigatewayv2.Integration(
            f"{service}-gw-integration", api_id=self.api.id, integration_type="HTTP_PROXY", integration_method="ANY",
            integration_uri=self.backends.load_balancer.listener_arn, connection_type="VPC_LINK",
            connection_id=self.backends.vpc_link.id, payload_format_version="1.0",
            request_parameters={f"overwrite:header.{SERVICE_HEADER}": service},
            timeout_milliseconds=self.settings.integration_timeout * 1000, opts=pulumi.ResourceOptions(parent=self))
        self._add_routes(service, routes, integration)
        return integration

    def add_kubernetes(self, service: str, routes: Sequence[Route], spec: Mapping[str, Any], component: Any, *,
                       cluster: Any, network: Any) -> aws.apigatewayv2.Integration:
        """An ``eks`` service: its target group and rule on the ALB with a ``TargetGroupBinding`` (see
        :func:`~components.gateway.backends.bind_kubernetes_service`), then routes as :meth:`add_load_balanced`."""
        if self.backends is None:
            raise ValueError(f"{service}: the gateway was built without load-balanced services (load_balanced=)")
        bind_kubernetes_service(self, service, spec, component, cluster=cluster, backends=self.backends,
                                network=network, profile=self._profile)
        return self.add_load_balanced(service, routes)

    def _add_routes(self, service: str, routes: Sequence[Route], integration: aws.apigatewayv2.Integration) -> None:
        target = integration.id.apply(lambda i: f"integrations/{i}")
        keys = [r.key for r in routes]
        twins = [Route(key=k) for k in preflight_routes(keys, self.settings.cors, self.settings.authorizer)]
        for route in sorted([*routes, *twins], key=lambda r: r.key):
            jwt = route.authorization == "jwt" and self.authorizer is not None
            slug = route_slug(route.key)
            # Named by the API and the key, not the service: a route key is unique in an API, so a key moving to
            # another service must be an update of its target; a new resource would be created before the old
            # one is deleted, and CreateRoute refuses it ("Route with key ... already exists for this API").
            self._routes.append(aws.apigatewayv2.Route(
                f"{self._name}-route-{slug}", api_id=self.api.id, route_key=route.key, target=target,
                authorization_type="JWT" if jwt else "NONE", authorizer_id=self.authorizer.id if jwt else None,
                authorization_scopes=(list(route.scopes) or None) if jwt else None,
                opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{service}-gw-route-{slug}")])))
            if route.throttle is not None:
                self._route_settings.append(route)

    # -- the stage --------------------------------------------------------------------------------------

    def finish(self) -> aws.apigatewayv2.Stage:
        """The ``$default`` stage (auto-deployed, access logs, default and per-route throttling) once every route
        exists, and the custom domain's API mapping."""
        child = pulumi.ResourceOptions(parent=self, depends_on=list(self._routes))
        throttle = self.settings.throttle
        self.stage = aws.apigatewayv2.Stage(
            f"{self._name}-stage", api_id=self.api.id, name="$default", auto_deploy=True,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            default_route_settings={"throttling_rate_limit": throttle.rate, "throttling_burst_limit": throttle.burst},
            route_settings=[{"route_key": r.key, "throttling_rate_limit": r.throttle.rate,
                             "throttling_burst_limit": r.throttle.burst}
                            for r in sorted(self._route_settings, key=lambda r: r.key)] or None,
            tags=self._tags, opts=child)
        if self.domain is not None:
            aws.apigatewayv2.ApiMapping(f"{self._name}-mapping", api_id=self.api.id, domain_name=self.domain.id,
                                        stage=self.stage.id, opts=pulumi.ResourceOptions(parent=self))
        return self.stage
