"""LambdaService planned under mocks: the function, its alias and deploys, IAM, alarms and every trigger."""

import json
from pathlib import Path

import pulumi
import pytest

from components.serverless import LambdaService
from components.tools.plan.runtime import run
from components.serverless.http_api import HttpApi
from components.validation import CatalogError

DEPLOYMENT = "pulumi-python:dynamic/lambda:Deployment"

SSM = "arn:aws:ssm:us-east-1:123456789012:parameter/orders/db"
SM = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/api"
EXISTING_STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
DDB_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"

FULL = {
    "code": "fn", "memory": 512, "timeout": 20, "environment": {"STAGE": "test"}, "secrets": {"DB": SSM, "API": SM},
    "access": {"buckets": {"reports": "read_write"}, "tables": {"orders": "read"}, "queues": {"jobs": "send"},
               "streams": {"arn:aws:kinesis:us-east-1:123456789012:stream/audit": "write"}},
    "reserved_concurrency": 50,
    "triggers": [
        {"http": {"routes": ["GET /orders/{id}", "POST /orders"], "authorizer": {
            "issuer": "https://auth.example.com", "audience": ["orders-api"]},
            "cors": {"allow_origins": ["https://shop.example.com"], "allow_methods": ["GET", "POST"]},
            "throttle": {"rate": 50, "burst": 100}}},
        {"url": {}},
        {"s3": {"events": ["s3:ObjectCreated:*"], "suffix": ".jpg"}},
        {"s3": {"bucket": "existing-uploads", "prefix": "in/", "retries": 1, "max_event_age": 3600}},
        {"kinesis": {}},
        {"kinesis": {"stream": EXISTING_STREAM, "batch_size": 500, "starting_position": "TRIM_HORIZON",
                     "filters": [{"data": {"type": ["click"]}}], "on_failure": "arn:aws:sqs:us-east-1:123456789012:dlq"}},
        {"dynamodb": {}},
        {"dynamodb": {"stream_arn": DDB_STREAM, "batch_size": 10}},
        {"sqs": {}},
        {"sqs": {"queue": "jobs-in", "visibility_timeout": 120, "batch_size": 100, "batching_window": 5,
                 "max_concurrency": 20}},
        {"schedule": {"expression": "cron(0 3 * * ? *)", "input": {"period": "daily"}}},
    ],
}


def _project(root: Path) -> Path:
    (root / "fn").mkdir(parents=True, exist_ok=True)
    (root / "fn" / "handler.py").write_text("def handler(event, context):\n    return event\n")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("lambda"))


def _plan(project, args, environment="dev", **kwargs):
    return run(lambda: LambdaService("orders", args, project_dir=project, profile=environment, **kwargs),
               config={"microservices:environment": environment}, stack=environment, project_dir=project)


@pytest.fixture(scope="module")
def prod(project):
    return _plan(project, FULL, "prod")


@pytest.fixture(scope="module")
def dev(project):
    return _plan(project, {"code": "fn", "triggers": [{"kinesis": {}}, {"url": {"auth": "NONE", "public": True}}]})


def policy(graph):
    return graph.one("aws:iam/rolePolicy:RolePolicy").json_input("policy")["Statement"]


def statement_for(graph, action):
    return [s for s in policy(graph) if action in s["Action"]]


# -- the function -------------------------------------------------------------------------------
def test_function_defaults_arm64_tracing_and_a_published_version(dev):
    fn = dev.one("aws:lambda/function:Function")
    assert fn.name == "orders-fn"
    assert fn.inputs["architectures"] == ["arm64"]
    assert fn.inputs["runtime"] == "python3.13" and fn.inputs["handler"] == "handler.handler"
    assert fn.inputs["memorySize"] == 256 and fn.inputs["timeout"] == 10
    assert fn.get("ephemeralStorage.size") == 512
    assert fn.get("tracingConfig.mode") == "Active"
    assert fn.inputs["publish"] is True
    assert fn.inputs["packageType"] == "Zip"
    staged = dev.one("aws:s3/bucketObjectv2:BucketObjectv2", "orders-package")
    assert staged.inputs["source"]["asset"]["path"].startswith(".build/lambda/orders-")
    assert (fn.inputs["s3Bucket"], fn.inputs["s3Key"]) == (staged.inputs["bucket"], staged.inputs["key"])
    assert "code" not in fn.inputs
    # This dev fixture has a public function URL, which the function's tags declare.
    assert fn.inputs["tags"] == {"Service": "orders", "Environment": "dev", "ManagedBy": "pulumi",
                                 "PublicFunctionUrl": "true"}


def test_function_takes_explicit_settings_and_passes_secrets_by_arn_only(prod):
    fn = prod.one("aws:lambda/function:Function")
    assert fn.inputs["memorySize"] == 512 and fn.inputs["timeout"] == 20
    assert fn.inputs["reservedConcurrentExecutions"] == 50
    assert fn.get("environment.variables") == {"STAGE": "test", "DB_SECRET_ARN": SSM, "API_SECRET_ARN": SM}
    reads = {s["Sid"]: s for s in policy(prod) if s["Sid"] in ("ReadParameters", "ReadSecrets")}
    assert reads["ReadParameters"]["Resource"] == SSM
    assert reads["ReadSecrets"]["Resource"] == sorted([SM, f"{SM}-??????"])


def test_log_group_is_named_after_the_function_with_profile_retention(dev, prod):
    for graph, days in ((dev, 7), (prod, 365)):
        group = graph.one("aws:cloudwatch/logGroup:LogGroup", "orders-logs")
        assert group.inputs["name"].startswith("/aws/lambda/orders-fn")
        assert group.inputs["retentionInDays"] == days
    alias = dev.one("aws:lambda/alias:Alias")
    assert dev.one("aws:cloudwatch/logGroup:LogGroup", "orders-logs").urn in alias.dependencies


def test_role_trusts_lambda_with_basic_execution_and_xray(dev):
    role = dev.one("aws:iam/role:Role", "orders-role")
    trust = role.json_input("assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    arns = {a.inputs["policyArn"] for a in dev.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert arns == {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"}


def test_no_statement_grants_wildcard_actions_or_all_resources(prod):
    for stmt in policy(prod):
        resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        assert "*" not in resources, stmt
        assert not any(a == "*" or a.endswith(":*") for a in stmt["Action"]), stmt


def test_declared_access_becomes_least_privilege_statements(prod):
    by_sid = {s["Sid"]: s for s in policy(prod)}
    assert by_sid["BucketsReportsReadObjects"]["Resource"] == "arn:aws:s3:::reports/*"
    assert by_sid["BucketsReportsReadBucket"]["Action"] == ["s3:ListBucket"]
    assert "s3:PutObject" in by_sid["BucketsReportsWriteObjects"]["Action"]
    tables = by_sid["TablesOrders"]
    assert "dynamodb:PutItem" not in tables["Action"] and "dynamodb:Query" in tables["Action"]
    assert tables["Resource"] == ["arn:aws:dynamodb:us-east-1:123456789012:table/orders",
                                  "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/*"]
    assert by_sid["QueuesJobs"]["Action"] == ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]
    assert by_sid["QueuesJobs"]["Resource"] == "arn:aws:sqs:us-east-1:123456789012:jobs"
    streams = [s for s in policy(prod) if s["Sid"].startswith("StreamsArn")][0]
    assert "kinesis:PutRecords" in streams["Action"] and "kinesis:GetRecords" not in streams["Action"]


def test_statement_ids_stay_unique_when_declared_resources_read_alike(project):
    """IAM rejects a policy with a repeated Sid; names that differ only in punctuation or case, and ARNs
    that differ after the readable prefix's 40 characters, must still get distinct Sids."""
    graph = _plan(project, {"code": "fn", "access": {
        "buckets": {"my.bucket": "read", "my-bucket": "read"},
        "queues": {"Jobs": "send", "jobs": "send"},
        "streams": {"arn:aws:kinesis:us-east-1:123456789012:stream/audit": "read",
                    "arn:aws:kinesis:us-east-1:123456789012:stream/audience": "read"}}})
    sids = [s["Sid"] for s in policy(graph)]
    assert len(sids) == len(set(sids)), sids
    streams = [s for s in policy(graph) if s["Sid"].startswith("Streams")]
    assert sorted(s["Resource"] for s in streams) == ["arn:aws:kinesis:us-east-1:123456789012:stream/audience",
                                                      "arn:aws:kinesis:us-east-1:123456789012:stream/audit"]


def test_vpc_placement_uses_private_subnets_and_an_egress_only_security_group(project):
    network = {"vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16", "private_subnet_ids": ["subnet-a", "subnet-b"]}
    graph = _plan(project, {"code": "fn", "vpc": True}, network=network)
    fn = graph.one("aws:lambda/function:Function")
    sg = graph.one("aws:ec2/securityGroup:SecurityGroup", "orders-sg")
    assert fn.get("vpcConfig.subnetIds") == ["subnet-a", "subnet-b"]
    assert fn.get("vpcConfig.securityGroupIds.0").startswith("sg-")
    assert sg.inputs["vpcId"] == "vpc-1" and sg.inputs.get("ingress", []) == []
    egress = {(e["protocol"], e["fromPort"], tuple(e["cidrBlocks"])) for e in sg.inputs["egress"]}
    assert egress == {("tcp", 443, ("0.0.0.0/0",)), ("-1", 0, ("10.0.0.0/16",))}
    arns = {a.inputs["policyArn"] for a in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" in arns


def test_container_image_and_s3_artifacts(project):
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders@sha256:" + "a" * 64
    fn = _plan(project, {"package_type": "image", "image": image}).one("aws:lambda/function:Function")
    assert fn.inputs["packageType"] == "Image" and fn.inputs["imageUri"] == image
    assert "runtime" not in fn.inputs and "handler" not in fn.inputs
    fn = _plan(project, {"s3": {"bucket": "artifacts", "key": "orders/1.zip", "object_version": "v1"}}).one(
        "aws:lambda/function:Function")
    assert (fn.inputs["s3Bucket"], fn.inputs["s3Key"], fn.inputs["s3ObjectVersion"]) == ("artifacts", "orders/1.zip", "v1")


def test_prebuilt_zip_is_staged_in_s3_under_its_content_hash(project):
    import base64
    import zipfile

    from components.serverless.packaging import content_sha256
    with zipfile.ZipFile(project / "prebuilt.zip", "w") as zf:
        zf.writestr("app.py", "def handler(e, c):\n    return e\n")
    graph = _plan(project, {"zip": "prebuilt.zip", "handler": "app.handler"})
    fn = graph.one("aws:lambda/function:Function")
    staged = graph.one("aws:s3/bucketObjectv2:BucketObjectv2", "orders-package")
    content = content_sha256(project / "prebuilt.zip")
    assert staged.inputs["key"] == f"lambda/orders/{content}.zip"
    assert staged.inputs["source"]["asset"]["path"] == "prebuilt.zip"
    assert fn.inputs["sourceCodeHash"] == base64.b64encode(bytes.fromhex(content)).decode()


def test_same_source_plans_the_same_code_hash(project):
    first = _plan(project, {"code": "fn"}).one("aws:lambda/function:Function").inputs["sourceCodeHash"]
    again = _plan(project, {"code": "fn"}).one("aws:lambda/function:Function").inputs["sourceCodeHash"]
    assert first == again


def test_other_compressed_bytes_of_the_same_content_keep_the_key_and_the_code_hash(project, monkeypatch):
    """Another zlib (another machine) compresses differently: only the staged object's bytes differ, so
    the function, and its published version, are left alone."""
    import zlib

    from components.serverless import packaging

    def plan_with_level(level):
        original = packaging.zipfile.ZipFile.writestr

        def writestr(self, info, data, compress_type=None, compresslevel=None):
            return original(self, info, data, compress_type, level)

        monkeypatch.setattr(packaging.zipfile.ZipFile, "writestr", writestr)
        graph = _plan(project, {"code": "fn"})
        monkeypatch.undo()
        staged = graph.one("aws:s3/bucketObjectv2:BucketObjectv2", "orders-package")
        fn = graph.one("aws:lambda/function:Function")
        return staged.inputs["key"], fn.inputs["sourceCodeHash"], staged.inputs["source"]["asset"]["sha256"]

    (project / "fn" / "big.txt").write_text("lambda " * 5000)
    try:
        fast, best = plan_with_level(zlib.Z_BEST_SPEED), plan_with_level(zlib.Z_BEST_COMPRESSION)
    finally:
        (project / "fn" / "big.txt").unlink()
    assert fast[2] != best[2], "the compressed bytes differ"
    assert fast[:2] == best[:2]


def test_catalog_services_stage_their_packages_in_one_stack_bucket(project):
    from components.platform import Platform
    graph = run(lambda: Platform("shop", {"environment": "prod", "catalog_dir": "", "services": {
        "a": {"pattern": "lambda", "code": "fn"}, "b": {"pattern": "lambda", "code": "fn"}}}, project_dir=project),
        config={"microservices:environment": "prod"}, stack="prod", project_dir=project)
    [bucket] = graph.of_type("aws:s3/bucket:Bucket")
    assert bucket.name == "lambda-artifacts-bucket" and bucket.protect is True
    keys = sorted(o.inputs["key"] for o in graph.of_type("aws:s3/bucketObjectv2:BucketObjectv2"))
    assert [k.split("/")[1] for k in keys] == ["a", "b"]
    assert keys[0].split("/")[2] == keys[1].split("/")[2], "same content, same hash"


# -- alias and deploys --------------------------------------------------------------------------
def test_dev_alias_points_straight_at_the_published_version_without_codedeploy(dev):
    alias = dev.one("aws:lambda/alias:Alias")
    assert alias.inputs["name"] == "live" and alias.inputs["functionVersion"] == "1"
    assert alias.ignore_changes == []
    assert dev.of_type("aws:codedeploy/deploymentGroup:DeploymentGroup") == []
    assert dev.of_type(DEPLOYMENT) == []


def test_prod_deploys_through_codedeploy_canary_with_alarm_rollback(prod):
    group = prod.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert group.inputs["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group.get("deploymentStyle") == {"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"}
    assert group.get("autoRollbackConfiguration.enabled") is True
    assert set(group.get("autoRollbackConfiguration.events")) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    errors = prod.one("aws:cloudwatch/metricAlarm:MetricAlarm", "orders-errors")
    assert group.get("alarmConfiguration.enabled") is True
    # The rollback alarm is the function's own error alarm (its auto-generated name, taken from that resource).
    assert errors.urn in group.dependencies
    [alarm] = group.get("alarmConfiguration.alarms")
    assert alarm.startswith("orders-errors-")
    assert prod.one("aws:codedeploy/application:Application").inputs["computePlatform"] == "Lambda"
    alias = prod.one("aws:lambda/alias:Alias")
    assert alias.ignore_changes == ["functionVersion", "routingConfig"]
    deploy = prod.one(DEPLOYMENT, "orders-deployment")
    assert deploy.inputs["version"] == "1" and deploy.inputs["alias"] == "live"
    assert deploy.inputs["function"].startswith("orders-fn-")
    assert deploy.inputs["application"].startswith("orders-deploy-")
    assert deploy.inputs["group"] == "orders" and deploy.inputs["region"] == "us-east-1"
    # A canary of 5 minutes is waited for at most 5 + 15 minutes.
    assert deploy.inputs["timeout_seconds"] == 20 * 60
    assert deploy.inputs["redeploy"] == "" and deploy.inputs["pre_traffic_hook"] == ""
    # The provider is pickled into the state as a secret: no plan diff, no code in the preview.
    assert deploy.inputs["__provider"] == "[secret]"


def test_codedeploy_deployment_uses_the_stacks_aws_profile_and_assumed_roles(project):
    role = "arn:aws:iam::210987654321:role/deployer"
    graph = run(lambda: LambdaService("orders", {"code": "fn"}, project_dir=project, profile="prod"),
                config={"microservices:environment": "prod", "aws:profile": "shop-prod",
                        "aws:assumeRoles": json.dumps([{"roleArn": role, "sessionName": "ci"}])}, stack="prod",
                project_dir=project)
    deploy = graph.one(DEPLOYMENT)
    assert deploy.inputs["profile"] == "shop-prod"
    assert deploy.inputs["assume_roles"] == [{"role_arn": role, "session_name": "ci", "external_id": None}]


def test_redeploy_token_and_pre_traffic_hook_reach_the_deployment(project):
    hook = "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_orders"
    services = []
    graph = run(lambda: services.append(LambdaService(
        "orders", {"code": "fn", "redeploy": "2026-12-01", "pre_traffic_hook": hook}, project_dir=project,
        profile="prod")), config={"microservices:environment": "prod"}, stack="prod", project_dir=project)
    assert services[0].deployment is not None
    deploy = graph.one(DEPLOYMENT)
    assert deploy.inputs["redeploy"] == "2026-12-01" and deploy.inputs["pre_traffic_hook"] == hook
    # CodeDeploy waits up to an hour for the hook to report: the bound covers it (5-minute canary + 15 + 60)
    assert deploy.inputs["timeout_seconds"] == (5 + 15 + 60) * 60


def test_codedeploy_deployment_gets_the_stacks_static_keys_as_secrets(project):
    graph = run(lambda: LambdaService("orders", {"code": "fn"}, project_dir=project, profile="prod"),
                config={"microservices:environment": "prod", "aws:accessKey": "AKIASTACKCONFIGSTACK",
                        "aws:secretKey": "s", "aws:token": "t"},
                secret_keys=["aws:accessKey", "aws:secretKey", "aws:token"], stack="prod", project_dir=project)
    deploy = graph.one(DEPLOYMENT)
    assert {k: deploy.inputs.get(k) for k in ("access_key", "secret_key", "token")} == {
        "access_key": "[secret]", "secret_key": "[secret]", "token": "[secret]"}


@pytest.mark.parametrize("triggers, expected", [
    ([{"schedule": {"expression": "cron(0 3 * * ? *)"}}], "AllAtOnce"),
    ([{"s3": {}}, {"schedule": {"expression": "rate(1 day)"}}], "AllAtOnce"),
    ([{"s3": {}}, {"sqs": {}}], "Canary10Percent5Minutes"),
    ([{"http": {"routes": ["GET /x"]}}], "Canary10Percent5Minutes"),
    ([], "Canary10Percent5Minutes"),
])
def test_functions_without_steady_traffic_deploy_all_at_once_with_the_same_alarms(project, triggers, expected):
    graph = _plan(project, {"code": "fn", "triggers": triggers}, "prod")
    group = graph.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert group.inputs["deploymentConfigName"] == f"CodeDeployDefault.Lambda{expected}"
    assert group.get("alarmConfiguration.enabled") is True
    assert group.get("autoRollbackConfiguration.enabled") is True
    assert graph.one(DEPLOYMENT).inputs["timeout_seconds"] == (5 if "Canary" in expected else 0) * 60 + 15 * 60


def test_explicit_deployment_config_wins_over_the_fitted_default(project):
    graph = _plan(project, {"code": "fn", "deployment_config": "Canary10Percent30Minutes",
                            "triggers": [{"schedule": {"expression": "rate(1 minute)"}}]}, "prod")
    assert graph.one("aws:codedeploy/deploymentGroup:DeploymentGroup").inputs["deploymentConfigName"] == \
        "CodeDeployDefault.LambdaCanary10Percent30Minutes"


def test_explicit_deployment_config_wins_over_the_profile(project):
    graph = _plan(project, {"code": "fn", "deployment_config": "Linear10PercentEvery1Minute"}, "dev")
    group = graph.one("aws:codedeploy/deploymentGroup:DeploymentGroup")
    assert group.inputs["deploymentConfigName"] == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"


# -- alarms -------------------------------------------------------------------------------------
def test_alarms_cover_errors_throttles_iterator_age_and_failure_queues(prod):
    alarms = {a.name: a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert alarms["orders-errors"].inputs["metricName"] == "Errors"
    assert alarms["orders-errors"].get("dimensions.Resource").endswith(":live")
    assert alarms["orders-throttles"].inputs["metricName"] == "Throttles"
    for label in ("orders-kinesis", "orders-kinesis-2", "orders-dynamodb", "orders-dynamodb-2"):
        assert alarms[f"{label}-iterator-age"].inputs["metricName"] == "IteratorAge"
    for queue in ("orders-kinesis-failures", "orders-dynamodb-failures", "orders-dynamodb-2-failures",
                  "orders-sqs-dlq", "orders-async-failures"):
        depth = alarms[f"{queue}-depth"]
        assert depth.inputs["metricName"] == "ApproximateNumberOfMessagesVisible"
        assert depth.inputs["threshold"] == 0 and depth.inputs["comparisonOperator"] == "GreaterThanThreshold"
    # A destination brought by ARN is not ours to watch.
    assert "orders-kinesis-2-failures-depth" not in alarms


# -- triggers -----------------------------------------------------------------------------------
def test_http_trigger_creates_api_stage_routes_and_one_api_scoped_permission(prod):
    api = prod.one("aws:apigatewayv2/api:Api")
    assert api.inputs["protocolType"] == "HTTP"
    assert api.get("corsConfiguration.allowOrigins") == ["https://shop.example.com"]
    stage = prod.one("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["name"] == "$default" and stage.inputs["autoDeploy"] is True
    assert stage.get("defaultRouteSettings") == {"throttlingRateLimit": 50, "throttlingBurstLimit": 100}
    assert json.loads(stage.get("accessLogSettings.format"))["requestId"] == "$context.requestId"
    logs = prod.one("aws:cloudwatch/logGroup:LogGroup", "orders-http-access-logs")
    # Outside /aws/vendedlogs/, API Gateway cannot enable logging once the account's log delivery policy is full.
    assert logs.inputs["name"].startswith("/aws/vendedlogs/apigateway/") and logs.inputs["name"].endswith("/access")
    assert stage.get("accessLogSettings.destinationArn").startswith("arn:aws:logs:")
    assert logs.inputs["retentionInDays"] == 365
    integration = prod.one("aws:apigatewayv2/integration:Integration")
    assert integration.inputs["integrationType"] == "AWS_PROXY"
    assert integration.inputs["payloadFormatVersion"] == "2.0"
    assert integration.inputs["integrationUri"].endswith(":live")
    routes = {r.inputs["routeKey"]: r for r in prod.of_type("aws:apigatewayv2/route:Route")}
    assert set(routes) == {"GET /orders/{id}", "POST /orders"}
    authorizer = prod.one("aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer.get("jwtConfiguration") == {"issuer": "https://auth.example.com", "audiences": ["orders-api"]}
    assert all(r.inputs["authorizationType"] == "JWT" for r in routes.values())
    perms = {p.inputs["sourceArn"] for p in prod.of_type("aws:lambda/permission:Permission")
             if p.inputs["principal"] == "apigateway.amazonaws.com"}
    execution = prod.one("microservices:lambda:HttpApi").outputs["execution_arn"]
    assert execution.startswith("arn:aws:execute-api:us-east-1:123456789012:")
    # One statement for the whole API, whatever the number of routes (the resource policy holds 20 KB).
    assert perms == {f"{execution}/*/*"}
    [perm] = [p for p in prod.of_type("aws:lambda/permission:Permission") if p.name == "orders-http-invoke"]
    assert perm.inputs["qualifier"] == "live"


def _preflight_plan(project, routes, cors=True, authorizer=True, environment="dev"):
    body = {"routes": routes}
    if cors:
        body["cors"] = {"allow_origins": ["https://shop.example.com"], "allow_headers": ["authorization"]}
    if authorizer:
        body["authorizer"] = {"issuer": "https://auth.example.com", "audience": ["shop"]}
    graph = _plan(project, {"code": "fn", "triggers": [{"http": body}]}, environment)
    return {r.inputs["routeKey"]: r for r in graph.of_type("aws:apigatewayv2/route:Route")}


def test_cors_preflights_of_any_and_default_routes_reach_no_authorizer(project):
    routes = _preflight_plan(project, ["ANY /files/{proxy+}", "$default", "GET /orders/{id}"])
    assert set(routes) == {"ANY /files/{proxy+}", "$default", "GET /orders/{id}", "OPTIONS /files/{proxy+}",
                           "OPTIONS /{proxy+}"}
    for key in ("OPTIONS /files/{proxy+}", "OPTIONS /{proxy+}"):
        assert routes[key].inputs["authorizationType"] == "NONE"
        assert "authorizerId" not in routes[key].inputs
        assert routes[key].inputs["target"] == routes["$default"].inputs["target"]
    for key in ("ANY /files/{proxy+}", "$default", "GET /orders/{id}"):
        assert routes[key].inputs["authorizationType"] == "JWT"


def test_an_explicit_options_route_is_left_open_when_the_api_has_cors(project):
    routes = _preflight_plan(project, ["ANY /orders", "OPTIONS /orders"])
    assert set(routes) == {"ANY /orders", "OPTIONS /orders"}
    assert routes["OPTIONS /orders"].inputs["authorizationType"] == "NONE"


@pytest.mark.parametrize("cors, authorizer", [(False, True), (True, False)])
def test_no_preflight_routes_without_both_cors_and_an_authorizer(project, cors, authorizer):
    routes = _preflight_plan(project, ["ANY /files/{proxy+}"], cors=cors, authorizer=authorizer)
    assert set(routes) == {"ANY /files/{proxy+}"}


def test_method_routes_leave_preflights_to_api_gateway(project):
    # No route matches OPTIONS: API Gateway answers the preflight itself from the CORS configuration.
    routes = _preflight_plan(project, ["GET /orders/{id}", "POST /orders"])
    assert set(routes) == {"GET /orders/{id}", "POST /orders"}


def test_function_url_defaults_to_iam_auth_without_public_grants(prod, dev):
    url = prod.one("aws:lambda/functionUrl:FunctionUrl")
    assert url.inputs["authorizationType"] == "AWS_IAM" and url.inputs["qualifier"] == "live"
    assert not [p for p in prod.of_type("aws:lambda/permission:Permission") if p.inputs["principal"] == "*"]
    public = [p for p in dev.of_type("aws:lambda/permission:Permission") if p.inputs["principal"] == "*"]
    assert {p.inputs["action"] for p in public} == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    assert dev.one("aws:lambda/functionUrl:FunctionUrl").inputs["authorizationType"] == "NONE"


def test_s3_trigger_creates_a_secure_bucket_with_one_notification(prod):
    bucket = prod.one("aws:s3/bucket:Bucket", "orders-bucket")
    assert bucket.protect is True
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "orders-bucket-public-access")
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    sse = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "orders-bucket-encryption")
    assert sse.get("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") == "AES256"
    tls = prod.one("aws:s3/bucketPolicy:BucketPolicy", "orders-bucket-tls-only").json_input("policy")["Statement"][0]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert prod.one("aws:s3/bucketVersioning:BucketVersioning").get("versioningConfiguration.status") == "Enabled"
    notify = prod.one("aws:s3/bucketNotification:BucketNotification", "orders-bucket-notify")
    assert notify.get("lambdaFunctions") == [{"events": ["s3:ObjectCreated:*"], "filterSuffix": ".jpg",
                                               "lambdaFunctionArn": notify.get("lambdaFunctions.0.lambdaFunctionArn")}]
    assert notify.get("lambdaFunctions.0.lambdaFunctionArn").endswith(":live")
    permission = prod.one("aws:lambda/permission:Permission", "orders-s3-invoke")
    assert permission.urn in notify.dependencies
    assert permission.inputs["principal"] == "s3.amazonaws.com"
    assert permission.inputs["sourceArn"].startswith("arn:aws:s3:::")
    assert permission.inputs["sourceAccount"] == "123456789012" and permission.inputs["qualifier"] == "live"


def test_created_bucket_is_configured_one_call_at_a_time_before_its_notification(prod):
    """S3 rejects concurrent configuration calls on one bucket (OperationAborted, 409)."""
    chain = [prod.one(t, n) for t, n in (
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "orders-bucket-public-access"),
        ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "orders-bucket-ownership"),
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
         "orders-bucket-encryption"),
        ("aws:s3/bucketPolicy:BucketPolicy", "orders-bucket-tls-only"),
        ("aws:s3/bucketVersioning:BucketVersioning", "orders-bucket-versioning"))]
    chain.append(prod.one("aws:s3/bucketNotification:BucketNotification", "orders-bucket-notify"))
    for before, after in zip(chain, chain[1:]):
        assert before.urn in after.dependencies, f"{after.name} must wait for {before.name}"


def test_s3_trigger_on_existing_bucket_is_scoped_and_has_async_failure_defaults(prod):
    permission = prod.one("aws:lambda/permission:Permission", "orders-s3-2-invoke")
    assert permission.inputs["sourceArn"] == "arn:aws:s3:::existing-uploads"
    notify = prod.one("aws:s3/bucketNotification:BucketNotification", "orders-existing-uploads-notify")
    assert notify.inputs["bucket"] == "existing-uploads"
    assert notify.get("lambdaFunctions.0.filterPrefix") == "in/"
    config = prod.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config.inputs["maximumRetryAttempts"] == 1 and config.inputs["maximumEventAgeInSeconds"] == 3600
    assert config.inputs["qualifier"] == "live"
    queue = prod.one("aws:sqs/queue:Queue", "orders-async-failures")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert "orders-async-failures" in config.get("destinationConfig.onFailure.destination")
    assert statement_for(prod, "sqs:SendMessage")


def test_kinesis_trigger_creates_encrypted_stream_with_failure_defaults(prod, dev):
    stream = prod.one("aws:kinesis/stream:Stream")
    assert stream.inputs["encryptionType"] == "KMS" and stream.inputs["kmsKeyId"] == "alias/aws/kinesis"
    # On-demand in prod as in dev: a single provisioned shard would throttle prod first.
    assert stream.get("streamModeDetails.streamMode") == "ON_DEMAND" and "shardCount" not in stream.inputs
    assert stream.protect is True
    assert dev.one("aws:kinesis/stream:Stream").get("streamModeDetails.streamMode") == "ON_DEMAND"
    mapping = prod.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-kinesis-mapping")
    assert mapping.inputs["batchSize"] == 100 and mapping.inputs["startingPosition"] == "LATEST"
    assert mapping.inputs["bisectBatchOnFunctionError"] is True
    assert mapping.inputs["maximumRetryAttempts"] == 10
    assert mapping.inputs["maximumRecordAgeInSeconds"] == 86400
    assert mapping.inputs["parallelizationFactor"] == 1
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["functionName"].endswith(":live")
    failures = mapping.get("destinationConfig.onFailure.destinationArn")
    assert ":sqs:" in failures and "orders-kinesis-failures" in failures
    read = [s for s in policy(prod) if s["Sid"] == "OrdersKinesisRead"][0]
    assert read["Resource"] == stream.inputs.get("arn", read["Resource"]) and "kinesis:GetRecords" in read["Action"]
    assert read["Resource"].startswith("arn:aws:kinesis:") and "orders-kinesis" in read["Resource"]
    assert prod.one("aws:iam/rolePolicy:RolePolicy").urn in mapping.dependencies


def test_kinesis_trigger_on_existing_stream_reads_only_that_stream(prod):
    mapping = prod.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-kinesis-2-mapping")
    assert mapping.inputs["eventSourceArn"] == EXISTING_STREAM
    assert mapping.inputs["batchSize"] == 500 and mapping.inputs["startingPosition"] == "TRIM_HORIZON"
    assert json.loads(mapping.get("filterCriteria.filters.0.pattern")) == {"data": {"type": ["click"]}}
    assert mapping.get("destinationConfig.onFailure.destinationArn") == "arn:aws:sqs:us-east-1:123456789012:dlq"
    read = [s for s in policy(prod) if s["Sid"] == "OrdersKinesis2Read"][0]
    assert read["Resource"] == EXISTING_STREAM


def test_dynamodb_trigger_creates_a_table_with_a_stream_and_failure_defaults(prod):
    table = prod.one("aws:dynamodb/table:Table")
    assert table.inputs["streamEnabled"] is True and table.inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table.get("serverSideEncryption.enabled") is True and table.get("pointInTimeRecovery.enabled") is True
    assert table.inputs["deletionProtectionEnabled"] is True and table.protect is True
    mapping = prod.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-dynamodb-mapping")
    assert mapping.inputs["eventSourceArn"].endswith("/stream/2026-01-01T00:00:00.000")
    assert mapping.inputs["bisectBatchOnFunctionError"] is True and mapping.inputs["maximumRetryAttempts"] == 10
    existing = prod.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-dynamodb-2-mapping")
    assert existing.inputs["eventSourceArn"] == DDB_STREAM and existing.inputs["batchSize"] == 10
    read = [s for s in policy(prod) if s["Sid"] == "OrdersDynamodb2Read"][0]
    assert read["Resource"] == DDB_STREAM and "dynamodb:GetRecords" in read["Action"]


def test_sqs_trigger_creates_encrypted_queue_with_dlq_and_six_times_visibility(prod):
    queue = prod.one("aws:sqs/queue:Queue", "orders-sqs")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert queue.inputs["visibilityTimeoutSeconds"] == 120  # 6 x timeout 20
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive["maxReceiveCount"] == 5 and "orders-sqs-dlq" in redrive["deadLetterTargetArn"]
    mapping = prod.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-sqs-mapping")
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["batchSize"] == 10
    existing = prod.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-sqs-2-mapping")
    assert existing.inputs["eventSourceArn"] == "arn:aws:sqs:us-east-1:123456789012:jobs-in"
    assert existing.inputs["batchSize"] == 100 and existing.inputs["maximumBatchingWindowInSeconds"] == 5
    assert existing.get("scalingConfig.maximumConcurrency") == 20
    consume = [s for s in policy(prod) if s["Sid"] == "OrdersSqs2Consume"][0]
    assert consume["Resource"] == "arn:aws:sqs:us-east-1:123456789012:jobs-in"
    assert "sqs:ReceiveMessage" in consume["Action"]


def test_fifo_queue_is_created_as_fifo_with_a_fifo_dlq(project):
    graph = _plan(project, {"code": "fn", "triggers": [{"sqs": {"fifo": True, "batch_size": 5}}]})
    assert graph.one("aws:sqs/queue:Queue", "orders-sqs").inputs["fifoQueue"] is True
    assert graph.one("aws:sqs/queue:Queue", "orders-sqs-dlq").inputs["fifoQueue"] is True


def test_schedule_trigger_targets_the_alias_with_a_rule_scoped_permission(prod):
    rule = prod.one("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["scheduleExpression"] == "cron(0 3 * * ? *)" and rule.inputs["state"] == "ENABLED"
    target = prod.one("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"].endswith(":live")
    assert json.loads(target.inputs["input"]) == {"period": "daily"}
    permission = prod.one("aws:lambda/permission:Permission", "orders-schedule-invoke")
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"].startswith("arn:aws:events:us-east-1:123456789012:rule/")
    assert permission.urn in target.dependencies


def test_every_trigger_invokes_the_alias_not_the_unqualified_function(prod):
    for perm in prod.of_type("aws:lambda/permission:Permission"):
        assert perm.inputs["qualifier"] == "live", perm.name
    for mapping in prod.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        assert mapping.inputs["functionName"].endswith(":live"), mapping.name


TAGGABLE = ("aws:lambda/function:Function", "aws:lambda/eventSourceMapping:EventSourceMapping", "aws:iam/role:Role",
            "aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:sqs/queue:Queue",
            "aws:kinesis/stream:Stream", "aws:dynamodb/table:Table", "aws:s3/bucket:Bucket",
            "aws:cloudwatch/eventRule:EventRule", "aws:apigatewayv2/api:Api", "aws:apigatewayv2/stage:Stage",
            "aws:codedeploy/application:Application", "aws:codedeploy/deploymentGroup:DeploymentGroup")


def test_every_taggable_resource_carries_standard_tags(prod):
    for typ in TAGGABLE:
        assert prod.of_type(typ), typ
        for res in prod.of_type(typ):
            assert "tags" in res.inputs, f"{typ} {res.name} has no tags"
    for res in prod:
        if "tags" in res.inputs:
            assert res.inputs["tags"]["Service"] in ("orders", "orders-http"), res.name
            assert res.inputs["tags"]["Environment"] == "prod"


def test_children_are_parented_to_the_component(prod):
    component = prod.one("microservices:lambda:LambdaService")
    assert len(prod.descendants(component)) == len(prod) - 1


def test_component_outputs_name_arns_and_endpoints(prod):
    outputs = prod.one("microservices:lambda:LambdaService").outputs
    assert outputs["alias_arn"].endswith(":live")
    assert outputs["api_endpoint"].startswith("https://")
    assert outputs["function_url"].startswith("https://")
    assert {"function_name", "function_arn", "role_arn", "log_group"} <= set(outputs)


# -- sharing ------------------------------------------------------------------------------------
def test_two_services_share_an_http_api_and_a_route_claimed_twice_is_an_error(project):
    def program():
        api = HttpApi("shop", {})
        LambdaService("orders", {"code": "fn", "triggers": [{"http": {"routes": ["GET /orders"]}}]},
                      project_dir=project, http_api=api)
        LambdaService("carts", {"code": "fn", "triggers": [{"http": {"routes": ["GET /carts"]}}]},
                      project_dir=project, http_api=api)
        try:
            LambdaService("thief", {"code": "fn", "triggers": [{"http": {"routes": ["GET /orders"]}}]},
                          project_dir=project, http_api=api)
        except CatalogError as err:
            assert "already claimed by service 'orders'" in str(err)
        else:
            raise AssertionError("expected the route conflict")

    graph = run(program, project_dir=project)
    assert len(graph.of_type("aws:apigatewayv2/api:Api")) == 1
    assert {r.inputs["routeKey"] for r in graph.of_type("aws:apigatewayv2/route:Route")} == {"GET /orders", "GET /carts"}
    assert not [r for r in graph if r.name.startswith("thief")]


def test_created_queues_streams_tables_and_buckets_are_protected_in_prod_only(prod, dev):
    stateful = ("aws:sqs/queue:Queue", "aws:kinesis/stream:Stream", "aws:dynamodb/table:Table", "aws:s3/bucket:Bucket")
    prod_state = [r for r in prod if r.type in stateful]
    assert len(prod_state) >= 8 and all(r.protect for r in prod_state)
    assert not [r.name for r in dev if r.type in stateful and r.protect]


def test_sources_named_without_arn_get_arns_in_the_stack_account_and_region(project):
    graph = _plan(project, {"code": "fn", "triggers": [
        {"kinesis": {"stream": "clicks"}}, {"sqs": {"queue": "jobs.fifo", "visibility_timeout": 60, "batch_size": 5}},
        {"http": {"routes": ["GET /me"], "authorizer": {"issuer": "https://idp.example.com", "audience": "web",
                                                         "scopes": ["profile", "openid"]}}}]})
    kinesis = graph.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-kinesis-mapping")
    assert kinesis.inputs["eventSourceArn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
    sqs = graph.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-sqs-mapping")
    assert sqs.inputs["eventSourceArn"] == "arn:aws:sqs:us-east-1:123456789012:jobs.fifo"
    assert "maximumBatchingWindowInSeconds" not in sqs.inputs
    route = graph.one("aws:apigatewayv2/route:Route")
    assert route.inputs["authorizationScopes"] == ["openid", "profile"]
    assert graph.one("aws:apigatewayv2/authorizer:Authorizer").get("jwtConfiguration.audiences") == ["web"]


def test_public_function_url_is_tagged_for_reviewers_and_policy(prod, dev):
    from components.tools.policy import PUBLIC_URL_TAG, evaluate
    assert dev.one("aws:lambda/function:Function").inputs["tags"][PUBLIC_URL_TAG] == "true"
    assert PUBLIC_URL_TAG not in prod.one("aws:lambda/function:Function").inputs["tags"]
    assert not [r for r in evaluate(dev.resources, "dev") if r.rule == "lambda-url-iam-auth"]


def test_arn_lookups_use_the_provider_the_function_was_given(plan):
    import pulumi
    import pulumi_aws as aws

    from components.serverless import LambdaService

    def program():
        west = aws.Provider("west", region="us-west-2")
        LambdaService("reports", {"code": "services/orders-api", "access": {"tables": {"orders": "read"}}},
                      pulumi.ResourceOptions(providers={"aws": west}))

    graph = plan(program)
    lookups = [p for tok, p in graph.invoke_providers
               if tok in ("aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getRegion:getRegion")]
    assert lookups and all(p and "::west::" in p for p in lookups)


def test_yaml_booleans_and_numbers_in_environment_keep_their_yaml_spelling(project):
    graph = _plan(project, {"code": "fn", "environment": {"DEBUG": True, "DRY_RUN": False, "WORKERS": 3}})
    assert graph.one("aws:lambda/function:Function").get("environment.variables") == {
        "DEBUG": "true", "DRY_RUN": "false", "WORKERS": "3"}


def test_kinesis_trigger_with_shards_creates_a_provisioned_stream(project):
    graph = _plan(project, {"code": "fn", "triggers": [{"kinesis": {"shards": 4}}]}, "prod")
    stream = graph.one("aws:kinesis/stream:Stream")
    assert stream.get("streamModeDetails.streamMode") == "PROVISIONED" and stream.inputs["shardCount"] == 4


def test_two_components_writing_one_existing_buckets_notification_is_an_error(project):
    from components.serverless.notifications import S3Notifications

    def clash():
        LambdaService("resize", {"code": "fn", "triggers": [{"s3": {"bucket": "uploads", "prefix": "img/"}}]},
                      project_dir=project)
        LambdaService("scan", {"code": "fn", "triggers": [{"s3": {"bucket": "arn:aws:s3:::uploads",
                                                                    "prefix": "doc/"}}]}, project_dir=project)

    with pytest.raises(Exception) as info:
        run(clash, project_dir=project)
    assert "scan.triggers[0].s3.bucket: bucket 'uploads' already gets its notification configuration from " \
           "'resize'" in str(info.value) + str(info.value.__cause__)

    def shared():
        collector = S3Notifications()
        for svc, prefix in (("resize", "img/"), ("scan", "doc/")):
            LambdaService(svc, {"code": "fn", "triggers": [{"s3": {"bucket": "uploads", "prefix": prefix}}]},
                          project_dir=project, s3_notifications=collector)
        collector.build("shop-", pulumi.ResourceOptions())

    graph = run(shared, project_dir=project)
    [notify] = graph.of_type("aws:s3/bucketNotification:BucketNotification")
    assert sorted(c["filterPrefix"] for c in notify.get("lambdaFunctions")) == ["doc/", "img/"]


def test_a_components_bucket_claim_does_not_outlive_its_program(project):
    body = {"code": "fn", "triggers": [{"s3": {"bucket": "uploads"}}]}
    run(lambda: LambdaService("resize", body, project_dir=project), project_dir=project)
    graph = run(lambda: LambdaService("scan", body, project_dir=project), project_dir=project)
    assert graph.one("aws:s3/bucketNotification:BucketNotification")
