"""Every limit of the lambda spec: a bad input, and the message that names the path, value and range."""

import os
from pathlib import Path

import pytest

from components.serverless.validate import validate_lambda
from components.validation import CatalogError

ARN_Q = "arn:aws:sqs:us-east-1:123456789012:failures"


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text("def handler(e, c):\n    return e\n")
    (tmp_path / "prebuilt.zip").write_bytes(b"PK")
    return tmp_path


def problems(project, **spec):
    base = {"code": "fn"}
    base.update(spec)
    base = {k: v for k, v in base.items() if v is not None}
    return [str(p) for p in validate_lambda("orders", base, "services.orders", project)]


def assert_one(lines, *fragments):
    assert any(all(f in line for f in fragments) for line in lines), "\n".join(lines) or "no problems"


def trig(kind, **body):
    return {"triggers": [{kind: body}]}


def test_valid_spec_has_no_problems(project):
    assert problems(project, memory=512, timeout=30, triggers=[
        {"http": {"routes": ["GET /orders/{id}", "ANY /files/{proxy+}", "$default"]}}, {"url": {}},
        {"s3": {"events": ["s3:ObjectCreated:*"], "prefix": "in/"}}, {"kinesis": {}}, {"dynamodb": {}},
        {"sqs": {}}, {"schedule": {"expression": "rate(5 minutes)"}}]) == []


@pytest.mark.parametrize("spec, path, fragment", [
    ({"memory": 64}, "services.orders.memory", "between 128 and 10240 MB inclusive, got 64"),
    ({"memory": 20000}, "services.orders.memory", "between 128 and 10240"),
    ({"timeout": 0}, "services.orders.timeout", "between 1 and 900 seconds"),
    ({"timeout": 901}, "services.orders.timeout", "between 1 and 900 seconds"),
    ({"ephemeral_storage": 256}, "services.orders.ephemeral_storage", "between 512 and 10240 MB"),
    ({"reserved_concurrency": -1}, "services.orders.reserved_concurrency", "at least 0"),
    ({"runtime": "python3.8"}, "services.orders.runtime", "must be one of"),
    ({"runtime": "nodejs18.x"}, "services.orders.runtime", "'nodejs22.x'"),
    ({"architecture": "arm"}, "services.orders.architecture", "'arm64'"),
    ({"tracing": "yes"}, "services.orders.tracing", "true or false"),
    ({"log_retention_days": 10}, "services.orders.log_retention_days", "must be one of"),
    ({"deployment_config": "Canary50Percent"}, "services.orders.deployment_config", "Canary10Percent5Minutes"),
    ({"redeploy": "two words"}, "services.orders.redeploy", "a token of 1-128 printable characters"),
    ({"pre_traffic_hook": "validate-orders"}, "services.orders.pre_traffic_hook", "starts with CodeDeployHook_"),
    ({"pre_traffic_hook": "arn:aws:lambda:us-east-1:123456789012:function:check"}, "services.orders.pre_traffic_hook",
     "AWSCodeDeployRoleForLambdaLimited"),
    ({"memroy": 256}, "services.orders.memroy", "did you mean 'memory'"),
    ({"port": 80}, "services.orders.port", "unknown key"),
    ({"code": None}, "services.orders", "needs exactly one of code, zip, s3, image (given: none)"),
    ({"zip": "prebuilt.zip"}, "services.orders", "needs exactly one of code, zip, s3, image (given: code, zip)"),
    ({"code": "missing"}, "services.orders.code", "must be a directory"),
    ({"handler": "app.main"}, "services.orders.handler", "module 'app' not found"),
    ({"runtime": "java21"}, "services.orders.handler", "is required for runtime 'java21'"),
    ({"code": None, "zip": "nope.zip"}, "services.orders.zip", "must be an existing .zip file"),
    ({"code": None, "s3": {"bucket": "b"}}, "services.orders.s3.key", "is required"),
    ({"code": None, "s3": {"bucket": "B!", "key": "a.zip"}}, "services.orders.s3.bucket", "an S3 bucket name"),
    ({"code": None, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"}, "services.orders.image",
     "needs package_type: image"),
    ({"code": None, "package_type": "image", "image": "nginx:latest"}, "services.orders.image", "must be an ECR image URI"),
    ({"code": None, "package_type": "image", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
      "handler": "x.y"}, "services.orders.handler", "set by the container image"),
    ({"package_type": "image"}, "services.orders.code", "package_type image takes an 'image'"),
    ({"environment": {"1BAD": "x"}}, "services.orders.environment.1BAD", "must be a variable name"),
    ({"environment": {"BIG": "x" * 4100}}, "services.orders.environment", "Lambda allows at most 4096"),
    ({"environment": {"A": "x" * 3000}, "secrets": {"B": "arn:aws:ssm:us-east-1:123456789012:parameter/" + "p" * 1100}},
     "services.orders.environment", "secrets' NAME_SECRET_ARN variables included"),
    ({"secrets": {"DB": "plaintext"}}, "services.orders.secrets.DB", "the ARN of an SSM parameter"),
    ({"environment": {"DB": "x"}, "secrets": {"DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}},
     "services.orders.secrets.DB", "either plain or secret"),
    ({"environment": {"DB_SECRET_ARN": "x"}, "secrets": {"DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}},
     "services.orders.environment.DB_SECRET_ARN", "reserved for the ARN of secret 'DB'"),
    ({"tags": {"aws:x": "y"}}, "services.orders.tags.aws:x", "reserved by AWS"),
    ({"access": {"buckets": {"data": "admin"}}}, "services.orders.access.buckets.data", "'read_write'"),
    ({"access": {"queues": {"jobs": "read"}}}, "services.orders.access.queues.jobs", "'consume'"),
    ({"access": {"tables": {"*": "read"}}}, "services.orders.access.tables.*", "not a wildcard"),
    ({"access": {"topics": {}}}, "services.orders.access.topics", "unknown key"),
    ({"triggers": {"http": {}}}, "services.orders.triggers", "must be a list"),
    ({"triggers": [{"http": {"routes": ["GET /"]}, "url": {}}]}, "services.orders.triggers[0]", "exactly one key"),
    ({"triggers": [{"ftp": {}}]}, "services.orders.triggers[0]", "must be one of 'http'"),
])
def test_rejects_function_settings_out_of_range(project, spec, path, fragment):
    assert_one(problems(project, **spec), path, fragment)


@pytest.mark.parametrize("trigger, path, fragment", [
    ({"http": {}}, "triggers[0].http.routes", "is required"),
    ({"http": {"routes": []}}, "triggers[0].http.routes", "at least one route"),
    ({"http": {"routes": ["GET orders"]}}, "triggers[0].http.routes[0]", "must be 'METHOD /path'"),
    ({"http": {"routes": ["FETCH /orders"]}}, "triggers[0].http.routes[0]", "must be 'METHOD /path'"),
    ({"http": {"routes": ["GET /{proxy+}/x"]}}, "triggers[0].http.routes[0]", "a final {proxy+}"),
    ({"http": {"routes": ["GET /a", "GET /a"]}}, "triggers[0].http.routes[1]", "listed twice"),
    ({"http": {"routes": ["GET /a"], "authorizer": {"issuer": "https://idp.example.com",
                                                    "audience": [f"c{i}" for i in range(51)]}}},
     "triggers[0].http.authorizer.audience", "at most 50 audiences per JWT authorizer, got 51"),
    ({"http": {"routes": ["GET /a"], "authorizer": {"issuer": "https://idp.example.com", "audience": ["c"],
                                                    "scopes": [f"s{i}" for i in range(11)]}}},
     "triggers[0].http.authorizer.scopes", "at most 10 scopes per route, got 11"),
    ({"http": {"routes": ["GET /a"], "api": "Shared_API"}}, "triggers[0].http.api", "DNS-1123 label"),
    ({"http": {"routes": ["GET /a"], "authorizer": {"audience": ["x"]}}}, "triggers[0].http.authorizer.issuer",
     "is required"),
    ({"http": {"routes": ["GET /a"], "authorizer": {"issuer": "http://idp", "audience": ["x"]}}},
     "triggers[0].http.authorizer.issuer", "https:// issuer URL"),
    ({"http": {"routes": ["GET /a"], "authorizer": {"issuer": "https://idp", "audience": []}}},
     "triggers[0].http.authorizer.audience", "non-empty list"),
    ({"http": {"routes": ["GET /a"], "cors": {"allow_origins": ["*"], "allow_credentials": True}}},
     "triggers[0].http.cors.allow_origins", "cannot be '*' when allow_credentials"),
    ({"http": {"routes": ["GET /a"], "cors": {"allow_methods": ["FETCH"]}}}, "triggers[0].http.cors.allow_methods[0]",
     "must be one of"),
    ({"http": {"routes": ["GET /a"], "cors": {"max_age": 100000}}}, "triggers[0].http.cors.max_age", "between 0 and 86400"),
    ({"http": {"routes": ["GET /a"], "throttle": {"rate": 0}}}, "triggers[0].http.throttle.rate", "between 1 and 10000"),
    ({"http": {"routes": ["GET /a"], "throttle": {"burst": 6000}}}, "triggers[0].http.throttle.burst", "between 1 and 5000"),
    ({"url": {"auth": "NONE"}}, "triggers[0].url.auth", "set public: true to confirm"),
    ({"url": {"public": True}}, "triggers[0].url.public", "needs auth: NONE"),
    ({"url": {"auth": "OAUTH"}}, "triggers[0].url.auth", "'AWS_IAM'"),
    ({"s3": {"bucket": "Bad_Bucket"}}, "triggers[0].s3.bucket", "an S3 bucket name"),
    ({"s3": {"events": ["s3:ObjectCreated"]}}, "triggers[0].s3.events[0]", "an S3 event type"),
    ({"s3": {"events": []}}, "triggers[0].s3.events", "at least one event"),
    ({"s3": {"retries": 3}}, "triggers[0].s3.retries", "between 0 and 2"),
    ({"s3": {"max_event_age": 59}}, "triggers[0].s3.max_event_age", "between 60 and 21600 seconds"),
    ({"s3": {"max_event_age": 21601}}, "triggers[0].s3.max_event_age", "between 60 and 21600 seconds"),
    ({"s3": {"on_failure": "my-queue"}}, "triggers[0].s3.on_failure", "the ARN of an SQS queue or SNS topic"),
    ({"s3": {"on_failure": "arn:aws:sqs:us-east-1:123456789012:failures.fifo"}}, "triggers[0].s3.on_failure",
     "must be a standard SQS queue or SNS topic"),
    ({"kinesis": {"on_failure": "arn:aws:sns:us-east-1:123456789012:alerts.fifo"}}, "triggers[0].kinesis.on_failure",
     "cannot send failure records to a FIFO one"),
    ({"kinesis": {"batch_size": 0}}, "triggers[0].kinesis.batch_size", "between 1 and 10000"),
    ({"kinesis": {"shards": 0}}, "triggers[0].kinesis.shards", "at least 1"),
    ({"kinesis": {"stream": "clicks", "shards": 2}}, "triggers[0].kinesis.shards", "only applies to a created stream"),
    ({"kinesis": {"batch_size": 10001}}, "triggers[0].kinesis.batch_size", "between 1 and 10000"),
    ({"kinesis": {"batching_window": 301}}, "triggers[0].kinesis.batching_window", "between 0 and 300 seconds"),
    ({"kinesis": {"starting_position": "EARLIEST"}}, "triggers[0].kinesis.starting_position", "'TRIM_HORIZON'"),
    ({"kinesis": {"starting_position": "AT_TIMESTAMP"}}, "triggers[0].kinesis.starting_position_timestamp",
     "is required"),
    ({"kinesis": {"starting_position": "AT_TIMESTAMP", "starting_position_timestamp": "yesterday"}},
     "triggers[0].kinesis.starting_position_timestamp", "an RFC 3339 time"),
    ({"kinesis": {"starting_position_timestamp": "2026-01-01T00:00:00Z"}},
     "triggers[0].kinesis.starting_position_timestamp", "only allowed with starting_position AT_TIMESTAMP"),
    ({"kinesis": {"parallelization": 11}}, "triggers[0].kinesis.parallelization", "between 1 and 10"),
    ({"kinesis": {"bisect_on_error": "no"}}, "triggers[0].kinesis.bisect_on_error", "true or false"),
    ({"kinesis": {"max_retries": -2}}, "triggers[0].kinesis.max_retries", "between -1 and 10000"),
    ({"kinesis": {"max_retries": 10001}}, "triggers[0].kinesis.max_retries", "between -1 and 10000"),
    ({"kinesis": {"max_record_age": 30}}, "triggers[0].kinesis.max_record_age", "-1 (no limit) or between 60 and 604800"),
    ({"kinesis": {"max_record_age": 604801}}, "triggers[0].kinesis.max_record_age", "between -1 and 604800"),
    ({"kinesis": {"filters": [{"data": {"a": [1]}}] * 11}}, "triggers[0].kinesis.filters", "at most 10 filters"),
    ({"kinesis": {"filters": ["{not json"]}}, "triggers[0].kinesis.filters[0]", "invalid JSON"),
    ({"kinesis": {"stream": "arn:aws:sqs:us-east-1:123456789012:q"}}, "triggers[0].kinesis.stream",
     "a stream name or ARN"),
    ({"kinesis": {"report_batch_item_failures": 1}}, "triggers[0].kinesis.report_batch_item_failures", "true or false"),
    ({"dynamodb": {"batch_size": 10001}}, "triggers[0].dynamodb.batch_size", "between 1 and 10000"),
    ({"dynamodb": {"starting_position": "AT_TIMESTAMP"}}, "triggers[0].dynamodb.starting_position", "'LATEST'"),
    ({"dynamodb": {"stream_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}},
     "triggers[0].dynamodb.stream_arn", "a DynamoDB stream ARN"),
    ({"dynamodb": {"stream_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026", "hash_key": "pk"}},
     "triggers[0].dynamodb.hash_key", "only applies to a created table"),
    ({"dynamodb": {"max_retries": 10001}}, "triggers[0].dynamodb.max_retries", "between -1 and 10000"),
    ({"sqs": {"batch_size": 10001, "batching_window": 5}}, "triggers[0].sqs.batch_size", "between 1 and 10000"),
    ({"sqs": {"fifo": True, "batch_size": 11}}, "triggers[0].sqs.batch_size", "between 1 and 10 inclusive"),
    ({"sqs": {"queue": "jobs.fifo", "visibility_timeout": 600, "batch_size": 20}}, "triggers[0].sqs.batch_size",
     "between 1 and 10 inclusive"),
    ({"sqs": {"batch_size": 50}}, "triggers[0].sqs.batching_window", "at least 1 second when batch_size is above 10"),
    ({"sqs": {"batching_window": 301}}, "triggers[0].sqs.batching_window", "between 0 and 300 seconds"),
    ({"sqs": {"fifo": True, "batching_window": 5}}, "triggers[0].sqs.batching_window", "not supported for FIFO"),
    ({"sqs": {"max_concurrency": 1}}, "triggers[0].sqs.max_concurrency", "between 2 and 1000"),
    ({"sqs": {"max_concurrency": 1001}}, "triggers[0].sqs.max_concurrency", "between 2 and 1000"),
    ({"sqs": {"queue": "jobs"}}, "triggers[0].sqs.visibility_timeout", "is required for an existing queue"),
    ({"sqs": {"queue": "jobs", "visibility_timeout": 30}}, "triggers[0].sqs.visibility_timeout",
     "at least 6 times the function timeout (60 seconds for timeout 10), got 30"),
    ({"sqs": {"queue": "jobs", "visibility_timeout": 60, "fifo": True}}, "triggers[0].sqs.fifo",
     "read from the existing queue's name"),
    ({"sqs": {"queue": "jobs", "visibility_timeout": 60, "max_receive_count": 3}}, "triggers[0].sqs.max_receive_count",
     "only applies to a created queue"),
    ({"sqs": {"queue": "bad name!"}}, "triggers[0].sqs.queue", "a queue name or ARN"),
    ({"schedule": {}}, "triggers[0].schedule.expression", "is required"),
    ({"schedule": {"expression": "cron(0 3 * * * *)"}}, "triggers[0].schedule.expression", "exactly one of day-of-month"),
    ({"schedule": {"expression": "rate(30 seconds)"}}, "triggers[0].schedule.expression", "got 'rate(30 seconds)'"),
    ({"schedule": {"expression": "rate(1 minute)", "input": "{oops"}}, "triggers[0].schedule.input", "invalid JSON"),
    ({"schedule": {"expression": "rate(1 minute)", "input": 5}}, "triggers[0].schedule.input", "a mapping or a JSON"),
    ({"schedule": {"expression": "rate(1 minute)", "retries": 5}}, "triggers[0].schedule.retries", "between 0 and 2"),
    ({"kinesis": {"shard_count": 2}}, "triggers[0].kinesis.shard_count", "unknown key"),
])
def test_rejects_trigger_settings_out_of_range(project, trigger, path, fragment):
    assert_one(problems(project, triggers=[trigger]), f"services.orders.{path}", fragment)


def test_http_trigger_rejects_function_timeout_above_api_gateway_limit(project):
    assert_one(problems(project, timeout=31, **trig("http", routes=["GET /a"])), "services.orders.triggers[0].http",
               "time out after 30 seconds", "got 31")
    assert problems(project, timeout=30, **trig("http", routes=["GET /a"])) == []


def test_sqs_visibility_timeout_rule_follows_the_function_timeout(project):
    assert_one(problems(project, timeout=100, **trig("sqs", queue="jobs", visibility_timeout=599)),
               "visibility_timeout", "(600 seconds for timeout 100), got 599")
    assert problems(project, timeout=100, **trig("sqs", queue="jobs", visibility_timeout=600)) == []


def test_rejects_overlapping_s3_filters_on_one_bucket(project):
    lines = problems(project, triggers=[
        {"s3": {"bucket": "uploads", "events": ["s3:ObjectCreated:*"], "prefix": "images/"}},
        {"s3": {"bucket": "arn:aws:s3:::uploads", "events": ["s3:ObjectCreated:Put"], "prefix": "images/raw/"}}])
    assert_one(lines, "services.orders.triggers[1].s3", "overlap services.orders.triggers[0].s3 on bucket uploads")


def test_accepts_disjoint_s3_filters_on_one_bucket(project):
    assert problems(project, triggers=[
        {"s3": {"bucket": "uploads", "prefix": "images/"}},
        {"s3": {"bucket": "uploads", "prefix": "videos/"}},
        {"s3": {"bucket": "uploads", "prefix": "images/", "events": ["s3:ObjectRemoved:*"]}},
        {"s3": {"bucket": "uploads", "prefix": "docs/", "suffix": ".pdf"}},
        {"s3": {"bucket": "uploads", "prefix": "docs/", "suffix": ".txt"}}]) == []


def test_rejects_async_settings_that_disagree_between_triggers(project):
    assert_one(problems(project, triggers=[{"s3": {"retries": 0}}, {"schedule": {"expression": "rate(1 hour)",
                                                                                "retries": 2}}]),
               "services.orders.triggers[1].schedule.retries", "apply to the whole function")


def test_rejects_a_second_http_or_url_trigger(project):
    assert_one(problems(project, triggers=[{"http": {"routes": ["GET /a"]}}, {"http": {"routes": ["GET /b"]}}]),
               "services.orders.triggers[1]", "at most one http trigger")
    assert_one(problems(project, triggers=[{"url": {}}, {"url": {}}]), "services.orders.triggers[1]",
               "at most one url trigger")


def test_reports_every_problem_at_once(project):
    lines = problems(project, memory=1, timeout=0, architecture="sparc", triggers=[{"sqs": {"max_concurrency": 1}}])
    assert len(lines) >= 4


def test_bad_component_args_register_nothing(plan, project):
    from components.serverless import LambdaService

    def program():
        try:
            LambdaService("orders", {"code": "fn", "memory": 64, "triggers": [{"kinesis": {"batch_size": 0}}]},
                          project_dir=project)
        except CatalogError as err:
            assert {p.path for p in err.problems} == {"orders.memory", "orders.triggers[0].kinesis.batch_size"}
            return
        raise AssertionError("expected a CatalogError")

    assert len(plan(program)) == 0
    assert not (project / ".build").exists(), "nothing is packaged for an invalid spec"


def test_vpc_placement_needs_a_network(plan, project):
    from components.serverless import LambdaService
    with pytest.raises(CatalogError, match="needs the stack's network"):
        plan(lambda: LambdaService("orders", {"code": "fn", "vpc": True}, project_dir=project))


# -- Lambda's own limits -------------------------------------------------------------------------
@pytest.mark.parametrize("name, fragment", [
    ("AWS_REGION", "AWS_REGION is reserved by the Lambda runtime"),
    ("_HANDLER", "_HANDLER is reserved by the Lambda runtime"),
    ("LAMBDA_TASK_ROOT", "is reserved by the Lambda runtime"),
    ("X", "must match [a-zA-Z][a-zA-Z0-9_]+ (a letter first, at least two characters), got 'X'"),
    ("_PRIVATE", "must match [a-zA-Z][a-zA-Z0-9_]+"),
])
def test_rejects_environment_names_lambda_refuses(project, name, fragment):
    assert_one(problems(project, environment={name: "v"}), f"services.orders.environment.{name}", fragment)


def test_rejects_secret_names_whose_arn_variable_lambda_refuses(project):
    assert_one(problems(project, secrets={"_DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}),
               "services.orders.secrets._DB", "got '_DB_SECRET_ARN'")


def test_prebuilt_zip_over_250_mb_unzipped_is_rejected_with_the_limit(project):
    import zipfile
    with zipfile.ZipFile(project / "bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros.bin", "w") as out:
            chunk = bytes(1024 * 1024)
            for _ in range(251):
                out.write(chunk)
    lines = problems(project, code=None, zip="bomb.zip")
    assert lines == ["services.orders.zip: the package is 251.0 MB unzipped; Lambda allows at most 250 MB (262144000 "
                     "bytes) unzipped: trim dependencies, or use package_type image (up to 10 GB)"]


def test_code_folder_over_250_mb_is_rejected_before_building(project):
    with open(project / "fn" / "model.bin", "wb") as fh:
        fh.truncate(260 * 1024 * 1024)  # sparse: no disk used
    try:
        assert_one(problems(project), "services.orders.code", "260.0 MB unzipped")
    finally:
        (project / "fn" / "model.bin").unlink()


def test_built_package_over_the_unzipped_limit_is_rejected_with_its_path(plan, project, monkeypatch):
    """Vendored dependencies are only known once built: the package is checked again then."""
    from components.serverless import LambdaService
    from components.serverless import packaging
    (project / "fn" / "data.bin").write_bytes(os.urandom(64 * 1024))
    monkeypatch.setattr(packaging, "MAX_UNZIPPED_BYTES", 32 * 1024)
    # The folder alone passes validation; what makes the package too big comes with the build.
    monkeypatch.setattr("components.serverless.validate.folder_size", lambda folder: 0)
    try:
        with pytest.raises(CatalogError) as info:
            plan(lambda: LambdaService("orders", {"code": "fn"}, project_dir=project))
    finally:
        (project / "fn" / "data.bin").unlink()
    assert "orders.code: the package is" in str(info.value) and "(dependencies included)" in str(info.value)


@pytest.mark.parametrize("line", ["requests>=2.31", "requests", "requests==2.*", "-e git+https://example.com/x.git",
                                  "https://example.com/pkg.whl", "requests~=2.31"])
def test_rejects_unpinned_requirements(project, line):
    (project / "fn" / "requirements.txt").write_text(f"# deps\nsix==1.17.0\n{line}\n")
    try:
        lines = problems(project)
    finally:
        (project / "fn" / "requirements.txt").unlink()
    assert lines == [f"services.orders.code: requirements.txt line 3: {line!r} is not pinned; give every distribution "
                     "as name==version (a complete lock, as `pip freeze` or `pip-compile` writes it)"]


def test_accepts_a_hashed_lock_with_markers_and_extras(project):
    (project / "fn" / "requirements.txt").write_text(
        "--require-hashes\nrequests[socks]==2.32.3 \\\n    --hash=sha256:" + "a" * 64 + "\n"
        'tomli==2.0.1 ; python_version < "3.11"  # via pytest\n')
    try:
        assert problems(project) == []
    finally:
        (project / "fn" / "requirements.txt").unlink()


def test_dynamodb_stream_batches_go_up_to_10000_records(project):
    assert problems(project, **trig("dynamodb", batch_size=10000)) == []


@pytest.mark.parametrize("today, runtime, accepted", [
    ("2027-01-31", "dotnet8", True),     # deprecated 2026-11-10, creation blocked from 2027-02-01
    ("2027-02-01", "dotnet8", False),
    ("2026-07-30", "python3.11", True),
    ("2026-12-01", "python3.11", False),
    ("2026-12-01", "nodejs20.x", False),
    ("2026-12-01", "python3.14", True),
])
def test_runtimes_follow_the_dates_lambda_blocks_function_creation(project, monkeypatch, today, runtime, accepted):
    from datetime import date

    from components.serverless import validate as spec
    monkeypatch.setattr(spec, "_today", lambda: date.fromisoformat(today))
    handler = {"handler": "App::Handler"} if runtime.startswith("dotnet") else {}
    lines = problems(project, code=None, zip="prebuilt.zip", runtime=runtime, **handler)
    if accepted:
        assert not [line for line in lines if ".runtime" in line], lines
    else:
        blocked = spec.RUNTIME_BLOCK_CREATE[runtime].isoformat()
        assert_one(lines, "services.orders.runtime", f"Lambda blocks creating functions with {runtime} since {blocked}")


@pytest.mark.parametrize("name", ["Orders", "orders_api", "o" * 39])
def test_component_names_that_would_break_derived_aws_names_are_rejected(plan, project, name):
    from components.serverless import LambdaService
    with pytest.raises(CatalogError) as info:
        plan(lambda: LambdaService(name, {"code": "fn"}, project_dir=project))
    assert f"{name}: component name {name!r} must be lowercase letters, digits and '-'" in str(info.value)
    assert "at most 38 characters" in str(info.value)
