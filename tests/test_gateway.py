"""The API gateway front door (issue 17): one HTTP API per stack in front of services of every pattern.

GIVEN the reference catalog (one service of each pattern with routes) and a gateway with an authorizer, CORS,
per-route throttling and a custom domain / WHEN the stack is planned offline / THEN the API, stage, routes,
integrations, VPC link, internal ALB and its rules, the TargetGroupBinding and the certificate are there.
Every validation rule has a bad input below with its message.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from components.blocks.load_balancer import GATEWAY_ALB, rule_priority
from components.catalog import load_catalog
from components.gateway import ApiGateway
from components.gateway.args import Route
from components.gateway.backends import vpc_link_subnets
from components.gateway.validate import alb_path_patterns, validate_gateway, validate_routes
from components.platform import Platform
from components.profiles import PROFILES
from components.testing import run_component
from components.validation import CatalogError
from tests.conftest import ROOT, assert_problem

LBC = {"policy_arn": "arn:aws:iam::123456789012:policy/AWSLoadBalancerControllerIAMPolicy", "chart_version": "1.14.1"}
AUTHORIZER = {"issuer": "https://auth.example.com/", "audience": ["shop"]}
CORS = {"allow_origins": ["https://shop.example.com"], "allow_methods": ["GET", "POST"],
        "allow_headers": ["authorization", "content-type"]}
GATEWAY = {"domain": "api.example.com", "zone": "example.com", "authorizer": AUTHORIZER, "cors": CORS,
           "throttle": {"rate": 300, "burst": 600}, "integration_timeout": 20}
#: The reference catalog's routed services (catalog/*.yaml), with one route in the long form.
SERVICES = {"orders-api": {"routes": ["GET /orders/{id}", {"route": "POST /orders", "scopes": ["orders:write"],
                                                          "throttle": {"rate": 10, "burst": 20}}]},
            # prod serves public endpoints over HTTPS only (the reference catalog's cart is public).
            "cart": {"load_balancer": {"domain": "shop.example.com", "zone": "example.com"}}}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"


def _platform_config(environment: str = "prod", gateway=None, services=None, eks=None) -> dict:
    return {"environment": environment, "gateway": GATEWAY if gateway is None else gateway,
            "services": SERVICES if services is None else services,
            "eks": {"load_balancer_controller": LBC} if eks is None else eks,
            "network": {"cidr": "10.40.0.0/16"}}


@pytest.fixture(scope="module")
def graph():
    config = _platform_config()
    return run_component(lambda: Platform("platform", config, project_dir=ROOT), environment="prod",
                         project_dir=ROOT)


# -- the API and its stage -----------------------------------------------------------------------------------

def test_one_http_api_with_cors_and_the_execute_api_endpoint_off_behind_a_custom_domain(graph):
    api = graph.one("aws:apigatewayv2/api:Api", "gateway-api")
    assert api.inputs["protocolType"] == "HTTP"
    assert api.inputs["disableExecuteApiEndpoint"] is True
    assert api.inputs["corsConfiguration"]["allowOrigins"] == ["https://shop.example.com"]
    assert graph.one("microservices:gateway:ApiGateway", "gateway").outputs["url"] == "https://api.example.com"


def test_default_stage_auto_deploys_with_json_access_logs_and_default_and_per_route_throttling(graph):
    stage = graph.one("aws:apigatewayv2/stage:Stage", "gateway-stage")
    assert stage.inputs["name"] == "$default" and stage.inputs["autoDeploy"] is True
    log = json.loads(stage.get("accessLogSettings.format"))
    for key, variable in (("requestId", "$context.requestId"), ("routeKey", "$context.routeKey"),
                          ("status", "$context.status"), ("responseLatency", "$context.responseLatency"),
                          ("integrationLatency", "$context.integrationLatency"),
                          ("integrationError", "$context.integrationErrorMessage"),
                          ("authorizerError", "$context.authorizer.error")):
        assert log[key] == variable
    assert stage.get("accessLogSettings.destinationArn").endswith("/access")
    logs = graph.one("aws:cloudwatch/logGroup:LogGroup", "gateway-access-logs")
    assert logs.inputs["retentionInDays"] == PROFILES["prod"].log_retention_days
    assert stage.inputs["defaultRouteSettings"] == {"throttlingRateLimit": 300, "throttlingBurstLimit": 600}
    assert stage.inputs["routeSettings"] == [{"routeKey": "POST /orders", "throttlingRateLimit": 10,
                                              "throttlingBurstLimit": 20}]
    routes = {r.urn for r in graph.of_type("aws:apigatewayv2/route:Route")}
    assert {u for u in stage.dependencies if "apigatewayv2/route:Route" in u} <= routes


# -- lambda --------------------------------------------------------------------------------------------------

def test_lambda_routes_use_a_proxy_integration_with_payload_2_on_the_live_alias(graph):
    integration = graph.one("aws:apigatewayv2/integration:Integration", "orders-api-gw-integration")
    assert integration.inputs["integrationType"] == "AWS_PROXY"
    assert integration.inputs["payloadFormatVersion"] == "2.0"
    assert integration.inputs["integrationUri"].endswith(":live")
    assert integration.inputs["timeoutMilliseconds"] == 20000


def test_lambda_permission_is_scoped_to_this_api_and_the_live_alias(graph):
    permission = graph.one("aws:lambda/permission:Permission", "orders-api-gw-invoke")
    api = graph.one("aws:apigatewayv2/api:Api", "gateway-api")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["qualifier"] == "live"
    # This API's execution ARN, any stage and route: the function trusts no other API.
    assert re.fullmatch(r"arn:aws:execute-api:us-east-1:\d{12}:[a-z0-9]+/\*/\*", permission.inputs["sourceArn"])
    assert permission.property_dependencies["sourceArn"] == [api.urn]


def test_jwt_routes_carry_their_scopes_and_options_routes_stay_open(graph):
    route = graph.one("aws:apigatewayv2/route:Route", next(
        r.name for r in graph.of_type("aws:apigatewayv2/route:Route") if r.inputs["routeKey"] == "POST /orders"))
    assert route.inputs["authorizationType"] == "JWT" and route.inputs["authorizationScopes"] == ["orders:write"]
    authorizer = graph.one("aws:apigatewayv2/authorizer:Authorizer", "gateway-jwt")
    assert authorizer.inputs["jwtConfiguration"] == {"issuer": "https://auth.example.com/", "audiences": ["shop"]}
    keys = {r.inputs["routeKey"]: r for r in graph.of_type("aws:apigatewayv2/route:Route")
            if r.name.startswith("gateway-route-")}
    # An ANY route with a JWT authorizer and CORS gets an open OPTIONS twin: preflights carry no token.
    assert keys["OPTIONS /inventory/{proxy+}"].inputs["authorizationType"] == "NONE"
    assert keys["OPTIONS /payments/{proxy+}"].inputs["authorizationType"] == "NONE"
    assert keys["ANY /inventory/{proxy+}"].inputs["authorizationType"] == "JWT"


def test_a_route_keeps_its_resource_when_its_key_moves_to_another_service():
    # GIVEN "GET /x" owned by service a, then by service b / WHEN each is planned / THEN the route is the same
    # resource (named by API and key), so the next up updates its target; a new resource would be created before
    # the old one is deleted and CreateRoute would refuse it (409 "Route with key GET /x already exists for this
    # API", sst#513). The former per-service name stays an alias, so routes already deployed are not recreated.
    def names(service):
        def program():
            gateway = ApiGateway("edge", {}, profile="dev")
            gateway.add_lambda(service, [Route(key="GET /x")], function_name="fn",
                               alias_arn="arn:aws:lambda:us-east-1:123456789012:function:fn:live")
            gateway.finish()
        return [r.name for r in run_component(program, environment="dev").of_type("aws:apigatewayv2/route:Route")]
    assert names("a") == names("b") and names("a")[0].startswith("edge-route-get-x-")


# -- vm, ecs, eks: the internal ALB and the VPC link -------------------------------------------------------

def test_load_balanced_services_are_reached_through_one_vpc_link_to_the_internal_alb(graph):
    link = graph.one("aws:apigatewayv2/vpcLink:VpcLink", "gateway-vpc-link")
    alb = graph.one("aws:lb/loadBalancer:LoadBalancer", "gateway-lb")
    listener = graph.one("aws:lb/listener:Listener", "gateway-http")
    # The plan's account maps us-east-1a/b/c to use1-az1/2/3; VPC links for HTTP APIs do not run in use1-az3
    # (developer guide, "Set up VPC links for HTTP APIs", Availability by Region), so the link skips that subnet.
    assert alb.inputs["internal"] is True and link.inputs["subnetIds"] == alb.inputs["subnets"][:2]
    assert len(alb.inputs["subnets"]) == 3
    assert len(graph.of_type("aws:apigatewayv2/vpcLink:VpcLink")) == 1
    for service in ("inventory", "pricing", "payments"):
        integration = graph.one("aws:apigatewayv2/integration:Integration", f"{service}-gw-integration")
        assert integration.inputs["integrationType"] == "HTTP_PROXY"
        assert integration.inputs["connectionType"] == "VPC_LINK"
        assert integration.inputs["connectionId"].startswith("gateway-vpc-link")
        assert integration.inputs["integrationUri"] == listener.outputs.get("arn", integration.inputs["integrationUri"])
        assert integration.inputs["payloadFormatVersion"] == "1.0"
        assert integration.inputs["timeoutMilliseconds"] == 20000


def test_vpc_link_takes_only_subnets_in_zones_that_run_vpc_links():
    # GIVEN subnets in us-east-1a/b/c of an account mapping them to use1-az3/az1/az2 / WHEN the link's subnets are
    # chosen / THEN the one in use1-az3 is left out (CreateVpcLink: "Subnet ... is in Availability Zone 'use1-az3'
    # where service is not available"); other regions and unknown zones are not filtered.
    names, ids = ["us-east-1a", "us-east-1b", "us-east-1c"], ["use1-az3", "use1-az1", "use1-az2"]
    assert vpc_link_subnets(["s-a", "s-b", "s-c"], names, "us-east-1", names, ids) == ["s-b", "s-c"]
    assert vpc_link_subnets(["s-a", "s-b"], [], "us-east-1", names, ids) == ["s-a", "s-b"]
    assert vpc_link_subnets(["s-a"], ["eu-west-1a"], "eu-west-1", ["eu-west-1a"], ["euw1-az1"]) == ["s-a"]
    with pytest.raises(ValueError, match="runs VPC links for HTTP APIs in us-east-1 .*availability_zone_names"):
        vpc_link_subnets(["s-a"], ["us-east-1a"], "us-east-1", names, ids)


def test_vpc_link_security_group_reaches_only_the_alb_listener(graph):
    sg = graph.one("aws:ec2/securityGroup:SecurityGroup", "gateway-vpc-link-sg")
    alb_sg = graph.one("aws:ec2/securityGroup:SecurityGroup", "gateway-lb-sg")
    egress = [r for r in graph.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
              if sg.urn in r.dependencies and r.name.startswith("gateway-vpc-link")]
    assert [(r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"]) for r in egress] == [(80, 80, "tcp")]
    assert alb_sg.urn in egress[0].dependencies
    ingress = graph.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "gateway-alb-from-vpc-link")
    assert ingress.inputs["fromPort"] == 80 and sg.urn in ingress.dependencies


def test_the_gateway_alb_admits_only_the_vpc_link(graph):
    # GIVEN the gateway's internal ALB / WHEN planned / THEN its listener admits the VPC link's security group and
    # no CIDR (not the VPC's): a caller inside the VPC could otherwise set X-Gateway-Service itself and reach a
    # service without the gateway's authorizer and throttling.
    alb_sg = graph.one("aws:ec2/securityGroup:SecurityGroup", "gateway-lb-sg")
    rules = graph.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not [r.name for r in rules if r.name.startswith("gateway-lb-")]      # the listener's CIDR rules
    assert not [r.name for r in rules if alb_sg.urn in r.dependencies and "cidrIpv4" in r.inputs]
    assert alb_sg.urn in graph.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                                   "gateway-alb-from-vpc-link").dependencies


def test_each_load_balanced_service_is_one_listener_rule_from_its_routes(graph):
    for service, paths in (("inventory", ["/inventory/*"]), ("pricing", ["/prices/*"]), ("payments", ["/payments/*"])):
        rule = graph.one("aws:lb/listenerRule:ListenerRule", f"{service}-rule")
        # The header the service's integration sets: a rule with a broader path cannot take another's requests.
        assert rule.inputs["conditions"] == [{"pathPattern": {"values": paths}}, {"httpHeader": {
            "httpHeaderName": "X-Gateway-Service", "values": [service]}}]
        integration = graph.one("aws:apigatewayv2/integration:Integration", f"{service}-gw-integration")
        assert integration.inputs["requestParameters"] == {"overwrite:header.X-Gateway-Service": service}
        assert rule.inputs["priority"] == rule_priority(service, {})
        assert rule.inputs["tags"]["SharedAlb"] == GATEWAY_ALB
        assert rule.inputs["listenerArn"].split("/")[1].startswith("gateway-http")
    # vm and ecs services have no load balancer of their own any more.
    names = {r.name for r in graph.of_type("aws:lb/loadBalancer:LoadBalancer")}
    assert "inventory-lb" not in names and "pricing-lb" not in names


def test_eks_service_joins_its_target_group_through_a_target_group_binding(graph):
    binding = graph.one("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", "payments-gw-binding")
    tg = graph.one("aws:lb/targetGroup:TargetGroup", "payments-tg")
    assert tg.inputs["targetType"] == "ip"
    assert binding.inputs["apiVersion"] == "elbv2.k8s.aws/v1beta1"
    assert binding.inputs["metadata"]["namespace"] == "payments"
    assert binding.inputs["spec"]["serviceRef"] == {"name": "payments", "port": "http"}
    assert binding.inputs["spec"]["targetType"] == "ip"
    assert binding.inputs["spec"]["targetGroupARN"].split(":")[5].startswith("targetgroup/payments-tg")
    assert binding.provider and "eks-k8s" in binding.provider
    policy = graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "payments-gw-netpol")
    (rule,) = policy.inputs["spec"]["ingress"]
    assert rule["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert all("ipBlock" in peer for peer in rule["from"]) and rule["from"]


# -- TLS -----------------------------------------------------------------------------------------------------

def test_custom_domain_has_a_dns_validated_certificate_tls_1_2_an_api_mapping_and_an_alias_record(graph):
    cert = graph.one("aws:acm/certificate:Certificate", "gateway-cert")
    assert cert.inputs["domainName"] == "api.example.com" and cert.inputs["validationMethod"] == "DNS"
    graph.one("aws:route53/record:Record", "gateway-cert-validation")
    validation = graph.one("aws:acm/certificateValidation:CertificateValidation", "gateway-cert-validation")
    domain = graph.one("aws:apigatewayv2/domainName:DomainName", "gateway-domain")
    assert domain.inputs["domainNameConfiguration"]["securityPolicy"] == "TLS_1_2"
    assert domain.inputs["domainNameConfiguration"]["endpointType"] == "REGIONAL"
    assert validation.urn in domain.dependencies
    mapping = graph.one("aws:apigatewayv2/apiMapping:ApiMapping", "gateway-mapping")
    assert graph.one("aws:apigatewayv2/stage:Stage", "gateway-stage").urn in mapping.dependencies
    alias = graph.one("aws:route53/record:Record", "gateway-alias")
    assert alias.inputs["name"] == "api.example.com" and alias.inputs["type"] == "A"


def test_an_existing_certificate_serves_the_domain_without_a_new_one_or_a_record():
    def program():
        ApiGateway("edge", {"domain": "api.example.com", "certificate_arn": CERT}, profile="prod").finish()

    graph = run_component(program, environment="prod")
    domain = graph.one("aws:apigatewayv2/domainName:DomainName", "edge-domain")
    assert domain.inputs["domainNameConfiguration"]["certificateArn"] == CERT
    assert not graph.of_type("aws:acm/certificate:Certificate")
    assert not graph.of_type("aws:route53/record:Record")
    assert graph.one("aws:apigatewayv2/api:Api", "edge-api").inputs["disableExecuteApiEndpoint"] is True


def test_without_a_custom_domain_clients_use_the_execute_api_endpoint():
    graph = run_component(lambda: ApiGateway("edge", {}, profile="dev").finish(), environment="dev")
    assert graph.one("aws:apigatewayv2/api:Api", "edge-api").inputs["disableExecuteApiEndpoint"] is False
    assert not graph.of_type("aws:apigatewayv2/domainName:DomainName")
    assert not graph.of_type("aws:apigatewayv2/vpcLink:VpcLink")


# -- registration ----------------------------------------------------------------------------------------------

def test_local_profile_skips_the_gateway_with_a_reason_and_ignores_routes():
    catalog = load_catalog({"environment": "local", "gateway": {}}, ROOT)
    graph = run_component(lambda: Platform("platform", catalog, project_dir=ROOT), environment="local",
                          project_dir=ROOT)
    assert not graph.of_type("microservices:gateway:ApiGateway")
    platform = graph.one("microservices:platform:Platform")
    assert "local profile runs no API gateway" in platform.outputs["skipped"]["microservices:gateway"]


def test_the_reference_program_exports_the_gateway_url():
    from tests.conftest import stack_plan
    assert stack_plan("prod")["outputs"]["gateway_url"] == "https://api.example.com"


def test_routes_are_accepted_by_every_pattern():
    catalog = load_catalog({"environment": "dev", "gateway": {}, "eks": {"load_balancer_controller": LBC}}, ROOT)
    routed = {name for name, spec in catalog.services.items() if spec.get("routes")}
    assert {catalog.services[name]["pattern"] for name in routed} == {"lambda", "vm", "ecs", "eks"}


def test_a_service_with_routes_gets_the_gateway_alb_as_a_shared_alb_would_be_handed_out():
    from components.blocks.load_balancer import shared_load_balancer, shared_name
    alb = object()
    ctx = SimpleNamespace(load_balancers={GATEWAY_ALB: alb, "web": "web-alb"})
    assert shared_name({"routes": ["GET /a"]}) == GATEWAY_ALB
    assert shared_load_balancer({"routes": ["GET /a"]}, ctx) is alb
    assert shared_load_balancer({"load_balancer": {"shared": "web", "path": "/w/*"}}, ctx) == "web-alb"
    assert shared_name({"routes": ["GET /a"], "expose": "none"}) is None
    assert shared_name({}) is None


def test_vm_and_ecs_pattern_code_has_no_gateway_branch():
    # Their args document the `routes` key; nothing else in the two patterns knows about the gateway.
    sources = [p for name in ("vm", "ecs") for p in [*(ROOT / "components").glob(f"{name}.py"),
                                                      *(ROOT / "components" / name).glob("*.py")]
               if p.name != "args.py"]
    assert sources
    for path in sources:
        text = path.read_text()
        assert "gateway" not in text.lower() and "routes" not in text, path


def test_gateway_args_resolve_once_into_settings_with_the_documented_defaults():
    from components.gateway.args import GatewaySettings, Throttle, resolve_gateway, resolve_routes
    settings = resolve_gateway({})
    assert settings == GatewaySettings()
    assert settings.throttle == Throttle(rate=100, burst=200) and settings.integration_timeout == 30
    assert settings.disable_execute_api_endpoint is False and settings.authorizer is None and settings.cors is None
    assert resolve_gateway({"domain": "api.example.com", "zone": "example.com"}).disable_execute_api_endpoint is True
    with_auth = resolve_gateway({"authorizer": AUTHORIZER, "throttle": {"rate": 7}})
    (plain, open_route, partial) = resolve_routes({"routes": ["GET /a", {"route": "GET /b", "authorization": "none"},
                                                             {"route": "GET /c", "throttle": {"burst": 9}}]},
                                                  with_auth)
    assert plain.authorization == "jwt" and open_route.authorization == "none"
    assert partial.throttle == Throttle(rate=7, burst=9)


def test_alb_path_patterns_replace_path_variables_with_wildcards():
    assert alb_path_patterns(["GET /orders/{id}", "ANY /orders/{proxy+}", "GET /orders"]) == ["/orders", "/orders/*"]
    assert alb_path_patterns(["GET /a/{x}/b/{y}"]) == ["/a/*/b/*"]


# -- validation: the gateway section ---------------------------------------------------------------------------

def _section(value, environment="dev"):
    return [str(p) for p in validate_gateway("gateway", value, "gateway", SimpleNamespace(
        profile=PROFILES[environment]))]


def _has(lines, *fragments):
    assert any(all(f in line for f in fragments) for line in lines), "\n".join(lines)


def test_prod_without_a_custom_domain_names_both_fixes():
    _has(_section({}, "prod"), "gateway: prod needs the gateway on a custom domain with TLS",
         "domain and zone", "domain and certificate_arn")
    assert _section({}, "dev") == [] and _section({}, "staging") == []


def test_outside_prod_a_gateway_without_a_domain_is_a_warning_that_says_the_endpoint_is_https_anyway():
    catalog = load_catalog({"environment": "staging", "gateway": {}, "eks": {"load_balancer_controller": LBC}}, ROOT)
    _has([str(w) for w in catalog.warnings], "gateway: has no custom domain",
         "execute-api endpoint, which is HTTPS", "as prod requires")


def test_rejects_a_domain_without_zone_or_certificate():
    _has(_section({"domain": "api.example.com"}), "gateway.zone: is required with domain")


def test_rejects_a_certificate_without_a_domain():
    _has(_section({"certificate_arn": CERT}), "gateway.certificate_arn: is only used with domain")


def test_rejects_an_integration_timeout_beyond_30_seconds():
    _has(_section({"integration_timeout": 45}), "gateway.integration_timeout", "30", "45")


def test_rejects_turning_off_the_only_endpoint():
    _has(_section({"disable_execute_api_endpoint": True}), "gateway.disable_execute_api_endpoint: would leave the "
                                                           "API unreachable")


def test_rejects_an_authorizer_without_audience_and_an_http_issuer():
    lines = _section({"authorizer": {"issuer": "http://auth.example.com"}})
    _has(lines, "gateway.authorizer.audience")
    _has(lines, "gateway.authorizer.issuer", "https://")


def test_rejects_cors_browsers_refuse():
    _has(_section({"cors": {"allow_origins": ["*"], "allow_credentials": True}}),
         "gateway.cors.allow_origins: cannot be '*' when allow_credentials is true")


# -- validation: routes ----------------------------------------------------------------------------------------

def _routes(specs, patterns, gateway=None, eks=None, environment="dev"):
    sections = {} if gateway is False else {"gateway": gateway or {}}
    if eks is not None:
        sections["eks"] = eks
    ctx = SimpleNamespace(profile=PROFILES[environment], sections=sections, patterns=patterns)
    return [str(p) for p in validate_routes(specs, ctx)]


def test_rejects_a_route_claimed_by_two_services_of_different_patterns():
    _has(_routes({"a": {"routes": ["GET /orders/{id}"]}, "b": {"routes": ["GET /orders/{id}"]}},
                 {"a": "lambda", "b": "ecs"}),
         "services.b.routes[0]: route 'GET /orders/{id}' is already claimed by service 'a'")


def test_rejects_a_route_key_api_gateway_does_not_accept():
    _has(_routes({"a": {"routes": ["GET orders"]}}, {"a": "lambda"}), "services.a.routes[0]: must be 'METHOD /path'")
    _has(_routes({"a": {"routes": ["GET /{proxy+}/x"]}}, {"a": "lambda"}), "services.a.routes[0]: must be")
    _has(_routes({"a": {"routes": ["$default"]}}, {"a": "lambda"}), "cannot take $default")
    _has(_routes({"a": {"routes": ["GET /x", "GET /x"]}}, {"a": "lambda"}), "route 'GET /x' is listed twice")


def test_rejects_more_routes_than_an_http_api_allows():
    routes = [f"GET /r{i}" for i in range(301)]
    _has(_routes({"a": {"routes": routes}}, {"a": "lambda"}), "301 gateway routes", "an HTTP API allows 300")


def test_rejects_more_integrations_than_an_http_api_allows():
    specs = {f"s{i}": {"routes": [f"GET /s{i}"]} for i in range(301)}
    _has(_routes(specs, {name: "lambda" for name in specs}), "301 services have routes",
         "an HTTP API allows 300 integrations")


def test_rejects_a_function_timeout_beyond_the_integration_timeout():
    _has(_routes({"a": {"routes": ["GET /a"], "timeout": 60}}, {"a": "lambda"}),
         "services.a.timeout: is 60 seconds, beyond the gateway's 30-second integration timeout")
    # AWS knowledge center "API Gateway 504 errors": an integration past the timeout gives the client a 504.
    _has(_routes({"a": {"routes": ["GET /a"], "timeout": 60}}, {"a": "lambda"}), "clients would get a 504")
    _has(_routes({"a": {"routes": ["GET /a"], "timeout": 25}}, {"a": "lambda"}, gateway={"integration_timeout": 20}),
         "beyond the gateway's 20-second integration timeout")


def test_rejects_routes_in_a_stack_without_a_gateway_but_ignores_them_in_local():
    _has(_routes({"a": {"routes": ["GET /a"]}}, {"a": "lambda"}, gateway=False),
         "services.a.routes: lists routes but the stack sets no microservices:gateway")
    assert _routes({"a": {"routes": ["GET /a"]}}, {"a": "lambda"}, gateway=False, environment="local") == []


def test_the_reference_catalog_without_a_gateway_reports_every_routed_service():
    lines = assert_problem(lambda: load_catalog({"environment": "dev", "eks": {"load_balancer_controller": LBC}},
                                                ROOT), "services.orders-api.routes", "no microservices:gateway")
    for service in ("inventory", "pricing", "payments"):
        _has(lines, f"services.{service}.routes", "no microservices:gateway")


def test_rejects_eks_routes_without_the_load_balancer_controller():
    _has(_routes({"k": {"routes": ["GET /k"]}}, {"k": "eks"}, eks={}),
         "services.k.routes: an eks service joins the gateway's target group through a TargetGroupBinding",
         "microservices:eks.load_balancer_controller")
    assert _routes({"k": {"routes": ["GET /k"]}}, {"k": "eks"}, eks={"load_balancer_controller": LBC}) == []


def test_rejects_a_public_or_unexposed_service_behind_the_gateway():
    _has(_routes({"v": {"routes": ["GET /v"], "expose": "public"}}, {"v": "vm"}),
         "services.v.expose: is 'public' but the service has routes")
    _has(_routes({"v": {"routes": ["GET /v"], "expose": "none"}}, {"v": "ecs"}),
         "services.v.expose: is 'none' but the service has routes")


def test_rejects_load_balancer_settings_the_gateway_alb_decides():
    lines = _routes({"v": {"routes": ["GET /v"], "load_balancer": {"shared": "web", "path": "/v/*",
                                                                   "certificate_arn": CERT}}}, {"v": "vm"})
    for key in ("shared", "path", "certificate_arn"):
        _has(lines, f"services.v.load_balancer.{key}: cannot be set with routes")


def test_rejects_a_shared_alb_named_like_the_gateways():
    _has(_routes({"v": {"load_balancer": {"shared": "gateway", "path": "/v/*"}}}, {"v": "vm"}),
         "services.v.load_balancer.shared: 'gateway' is the name of the gateway's ALB")


def test_rejects_routes_that_need_more_values_than_one_alb_rule_takes():
    # GIVEN 4 distinct path patterns / WHEN validated / THEN refused: ELB's "Listener rules for your Application
    # Load Balancer" allows three match evaluations per condition (CreateRule would refuse the fourth at up).
    routes = [f"GET /p{i}/{{id}}" for i in range(4)]
    _has(_routes({"v": {"routes": routes}}, {"v": "vm"}), "services.v.routes: map to 4 ALB path patterns",
         "path condition takes at most 3 values and the rule 5 wildcards")
    assert _routes({"v": {"routes": routes[:3]}}, {"v": "vm"}) == []


def test_rejects_two_names_for_one_path_variable_level():
    # GIVEN /orders/{id} (lambda) and /orders/{orderId}/items (vm) on one API / WHEN validated / THEN refused: API
    # Gateway's CreateRoute answers 409 "has a conflicting variable on the same hierarchical level".
    lines = _routes({"a": {"routes": ["GET /orders/{id}"]}, "v": {"routes": ["GET /orders/{orderId}/items"]}},
                    {"a": "lambda", "v": "vm"})
    _has(lines, "services.v.routes[0]: route 'GET /orders/{orderId}/items' names a path variable {orderId} where "
                "route 'GET /orders/{id}' of service 'a' names it {id}")
    # One name at each level is fine, and so are variables under different literal parents.
    assert _routes({"a": {"routes": ["GET /orders/{id}", "DELETE /orders/{id}"]},
                    "v": {"routes": ["GET /orders/{id}/items", "GET /carts/{cartId}"]}},
                   {"a": "lambda", "v": "vm"}) == []


def test_rejects_two_load_balanced_services_whose_rule_priorities_collide():
    assert rule_priority("svc24", {}) == rule_priority("svc92", {})
    _has(_routes({"svc24": {"routes": ["GET /a"]}, "svc92": {"routes": ["GET /b"]}}, {"svc24": "vm", "svc92": "ecs"}),
         "services.svc92.routes: the gateway's ALB rule of 'svc92' gets priority", "rename one of the services")


def test_rejects_more_load_balanced_services_than_alb_rules():
    specs = {f"s{i}": {"routes": [f"GET /s{i}"]} for i in range(101)}
    lines = _routes(specs, {name: "ecs" for name in specs})
    _has(lines, "101 vm, ecs and eks services have routes", "an ALB allows 100 rules")


def test_rejects_an_empty_routes_list():
    _has(_routes({"a": {"routes": []}}, {"a": "lambda"}), "services.a.routes: needs at least one route")


def test_rejects_routes_on_a_scheduled_ecs_task_and_a_docker_service():
    _has(_routes({"t": {"routes": ["GET /t"], "schedule": "rate(1 hour)"}}, {"t": "ecs"}),
         "services.t.routes: only a long-running ecs service")
    _has(_routes({"d": {"routes": ["GET /d"]}}, {"d": "docker"}),
         "services.d.routes: the docker pattern runs on a Docker host the gateway cannot reach")


def test_rejects_scopes_and_jwt_without_an_authorizer():
    lines = _routes({"a": {"routes": [{"route": "GET /a", "scopes": ["x"], "authorization": "jwt"}]}}, {"a": "lambda"})
    _has(lines, "services.a.routes[0].authorization: is 'jwt' but microservices:gateway sets no authorizer")
    _has(lines, "services.a.routes[0].scopes: need the gateway's JWT authorizer")


def test_rejects_a_per_route_throttle_out_of_range():
    _has(_routes({"a": {"routes": [{"route": "GET /a", "throttle": {"rate": 0}}]}}, {"a": "lambda"}),
         "services.a.routes[0].throttle.rate")


def test_platform_refuses_an_invalid_gateway_before_registering_anything():
    config = _platform_config(gateway={"integration_timeout": 99})
    with pytest.raises(CatalogError):
        load_catalog(config, ROOT)


def test_services_behind_the_gateway_export_the_gateway_url_and_their_routes(graph):
    """A vm or ecs service behind the gateway has no address of its own that clients can call (its rule on the
    internal ALB answers only the VPC link): the stack's outputs point at the gateway, with the routes it owns."""
    outputs = graph.one("microservices:platform:Platform", "platform").outputs["services"]
    assert outputs["inventory"]["url"] == outputs["pricing"]["url"] == "https://api.example.com"
    assert outputs["inventory"]["routes"] == ["ANY /inventory/{proxy+}"]
    assert outputs["orders-api"]["routes"] == ["GET /orders/{id}", "POST /orders"]
    assert outputs["payments"]["routes"] == ["ANY /payments/{proxy+}"]
    # Services without routes keep their own address, and the components' own outputs are left as they are.
    assert outputs["cart"]["url"] == "https://shop.example.com"
    assert "routes" not in graph.one("microservices:lambda:LambdaService", "orders-api").outputs


def test_the_binding_waits_for_the_service_and_the_pods_network_policy_not_the_whole_component(graph):
    """Depending on the KubernetesService component would wait for its Deployment's rollout and its Ingress's
    load balancer; the binding needs only its Service (name, namespace) and the rules that let the ALB in."""
    binding = graph.one("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", "payments-gw-binding")
    netpol = graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "payments-gw-netpol")
    component = graph.one("microservices:k8s:KubernetesService", "payments")
    service = graph.one("kubernetes:core/v1:Service", "payments-svc")
    assert component.urn not in binding.dependencies and component.urn not in netpol.dependencies
    assert service.urn in binding.dependencies and netpol.urn in binding.dependencies
    assert service.urn in netpol.dependencies   # its namespace is the Service's: it exists by then
