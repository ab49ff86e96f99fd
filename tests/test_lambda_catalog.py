"""The lambda pattern inside a stack: rules across services, the shared HTTP API and S3 notifications,
and the reference catalog planned in every environment."""

from pathlib import Path

import pytest
import yaml

from components.platform import Platform
from components.tools.plan.runtime import run
from components.validation import CatalogError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lambda-catalog")
    (root / "fn").mkdir()
    (root / "fn" / "handler.py").write_text("def handler(event, context):\n    return event\n")
    return root


def fn(*triggers, **extra):
    return {"pattern": "lambda", "code": "fn", "triggers": list(triggers), **extra}


def plan_platform(project, services, environment="dev"):
    return run(lambda: Platform("shop", {"environment": environment, "services": services, "catalog_dir": ""},
                                project_dir=project),
               config={"microservices:environment": environment}, stack=environment, project_dir=project)


def catalog_problems(project, services):
    with pytest.raises(CatalogError) as info:
        plan_platform(project, services)
    return [str(p) for p in info.value.problems]


def test_route_claimed_by_two_services_on_a_shared_api_is_an_error(project):
    lines = catalog_problems(project, {
        "orders": fn({"http": {"api": "shop", "routes": ["GET /orders"]}}),
        "rogue": fn({"http": {"api": "shop", "routes": ["POST /x", "GET /orders"]}}),
    })
    assert lines == ["services.rogue.triggers[0].http.routes[1]: route 'GET /orders' on HTTP API 'shop' is already "
                     "claimed by service 'orders'"]


JWT = {"issuer": "https://auth.example.com", "audience": ["shop"]}
CORS = {"allow_origins": ["https://shop.example.com"]}


def test_preflight_route_of_one_service_conflicts_with_anothers_route_on_a_shared_api(project):
    lines = catalog_problems(project, {
        "files": fn({"http": {"api": "shop", "routes": ["ANY /files"], "authorizer": JWT, "cors": CORS}}),
        "options": fn({"http": {"api": "shop", "routes": ["OPTIONS /files"]}}),
    })
    assert lines == ["services.options.triggers[0].http.routes[0]: route 'OPTIONS /files' on HTTP API 'shop' is "
                     "already claimed by service 'files'"]


def test_shared_api_with_cors_from_another_service_gets_the_preflight_route(project):
    graph = plan_platform(project, {
        "files": fn({"http": {"api": "shop", "routes": ["ANY /files/{proxy+}"], "authorizer": JWT}}),
        "web": fn({"http": {"api": "shop", "routes": ["GET /"], "cors": CORS}}),
    })
    routes = {r.inputs["routeKey"]: r for r in graph.of_type("aws:apigatewayv2/route:Route")}
    assert routes["OPTIONS /files/{proxy+}"].inputs["authorizationType"] == "NONE"


def test_more_jwt_authorizers_than_an_http_api_allows_is_an_error(project):
    services = {f"s{i:02d}": fn({"http": {"api": "shop", "routes": [f"GET /s{i}"], "authorizer": JWT}})
                for i in range(11)}
    lines = catalog_problems(project, services)
    assert lines == ["services.s10.triggers[0].http: HTTP API 'shop' would get 11 JWT authorizers (one per service); "
                     "API Gateway allows 10 per API: split the services over several APIs"]


def test_same_route_on_different_apis_is_fine_and_each_service_defaults_to_its_own_api(project):
    graph = plan_platform(project, {"a": fn({"http": {"routes": ["GET /x"]}}), "b": fn({"http": {"routes": ["GET /x"]}})})
    assert len(graph.of_type("aws:apigatewayv2/api:Api")) == 2


def test_shared_api_settings_must_agree(project):
    lines = catalog_problems(project, {
        "orders": fn({"http": {"api": "shop", "routes": ["GET /orders"], "throttle": {"rate": 10, "burst": 20}}}),
        "carts": fn({"http": {"api": "shop", "routes": ["GET /carts"], "throttle": {"rate": 99, "burst": 20}}}),
    })
    assert any(line.startswith("services.orders.triggers[0].http.throttle: HTTP API 'shop' is shared") for line in lines)


def test_overlapping_s3_filters_across_services_are_an_error(project):
    lines = catalog_problems(project, {
        "images": fn({"s3": {"bucket": "uploads", "prefix": "img/"}}),
        "everything": fn({"s3": {"bucket": "arn:aws:s3:::uploads"}}),
    })
    assert any("services.images.triggers[0].s3" in line and "overlap services.everything.triggers[0].s3" in line
               for line in lines), lines


def test_bad_catalog_registers_nothing(project):
    def program():
        try:
            Platform("shop", {"environment": "dev", "catalog_dir": "", "services": {
                "good": fn({"schedule": {"expression": "rate(1 hour)"}}),
                "bad": fn({"schedule": {"expression": "cron(0 3 * * * *)"}}, memory=1)}}, project_dir=project)
        except CatalogError as err:
            assert {p.path for p in err.problems} == {"services.bad.memory", "services.bad.triggers[0].schedule.expression"}
            return
        raise AssertionError("expected a CatalogError")

    assert len(run(program, project_dir=project)) == 0


@pytest.fixture(scope="module")
def shared(project):
    return plan_platform(project, {
        "orders": fn({"http": {"api": "shop", "routes": ["GET /orders/{id}"], "cors": {"allow_origins": ["https://a.example"]}}},
                     {"s3": {"bucket": "uploads", "prefix": "orders/"}}),
        "carts": fn({"http": {"api": "shop", "routes": ["GET /carts"]}},
                    {"s3": {"bucket": "uploads", "prefix": "carts/"}}),
    })


def test_services_share_one_http_api_by_name_each_adding_its_routes(shared):
    api = shared.one("aws:apigatewayv2/api:Api")
    assert api.get("corsConfiguration.allowOrigins") == ["https://a.example"]
    component = shared.one("microservices:lambda:HttpApi", "shop-http")
    assert shared.by_urn(component.parent).type == "microservices:platform:Platform"
    routes = {r.inputs["routeKey"]: shared.by_urn(r.parent).name for r in shared.of_type("aws:apigatewayv2/route:Route")}
    assert routes == {"GET /orders/{id}": "orders", "GET /carts": "carts"}
    assert shared.one("microservices:platform:Platform").outputs["services"]["carts"]["api_endpoint"].startswith("https://")


def test_triggers_on_one_bucket_from_two_services_end_in_one_notification(shared):
    notify = shared.one("aws:s3/bucketNotification:BucketNotification")
    assert notify.name == "lambda-uploads-notify" and notify.inputs["bucket"] == "uploads"
    prefixes = [f["filterPrefix"] for f in notify.inputs["lambdaFunctions"]]
    assert prefixes == ["carts/", "orders/"]
    permissions = {p.urn for p in shared.of_type("aws:lambda/permission:Permission") if p.inputs["principal"] == "s3.amazonaws.com"}
    assert len(permissions) == 2 and permissions <= set(notify.dependencies)


def test_lambda_without_vpc_needs_no_network_and_vpc_placement_gets_one(project, shared):
    assert shared.of_type("aws:ec2/vpc:Vpc") == []
    graph = plan_platform(project, {"worker": fn(vpc=True)})
    assert len(graph.of_type("aws:ec2/vpc:Vpc")) == 1
    subnets = graph.one("aws:lambda/function:Function").get("vpcConfig.subnetIds")
    assert subnets and all(s.startswith("subnet-") for s in subnets)


def test_local_profile_skips_lambda_services_with_a_reason(project):
    platform = {}

    def program():
        platform["p"] = Platform("shop", {"environment": "local", "catalog_dir": "",
                                          "services": {"orders": fn({"url": {}})}}, project_dir=project)

    graph = run(program, config={"microservices:environment": "local"}, stack="local", project_dir=project)
    assert graph.of_type("aws:lambda/function:Function") == []
    assert "Lambda functions need AWS" in platform["p"].skipped["orders"]


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_reference_catalog_plans_in_every_environment(environment):
    services = yaml.safe_load((ROOT / "catalog" / "lambda.yaml").read_text())["services"]
    # The routes are the stack gateway's (tests/test_gateway.py); this plans the functions alone.
    services = {name: {k: v for k, v in spec.items() if k != "routes"} for name, spec in services.items()}
    graph = run(lambda: Platform("shop", {"environment": environment, "services": services, "catalog_dir": ""},
                                 project_dir=ROOT),
                config={"microservices:environment": environment}, stack=environment, project_dir=ROOT)
    functions = {graph.by_urn(f.parent).name for f in graph.of_type("aws:lambda/function:Function")}
    assert functions == set(services)
    deploy_groups = graph.of_type("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert len(deploy_groups) == (0 if environment == "dev" else len(services))
    assert graph.one("aws:cloudwatch/eventRule:EventRule").inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert graph.one("aws:apigatewayv2/api:Api")
    assert graph.one("aws:kinesis/stream:Stream")


def test_sample_http_handler_answers_a_preflight_routed_to_it():
    import importlib.util
    spec = importlib.util.spec_from_file_location("orders_api_handler", ROOT / "services" / "orders-api" / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    preflight = {"requestContext": {"http": {"method": "OPTIONS"}}, "headers": {
        "origin": "https://shop.example.com", "access-control-request-method": "POST"}}
    assert module.handler(preflight, None) == {"statusCode": 204, "body": ""}
    assert module.handler({"requestContext": {"http": {"method": "DELETE"}}}, None)["statusCode"] == 404
