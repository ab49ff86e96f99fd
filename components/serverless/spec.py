"""The ``lambda`` spec: its keys, limits, defaults and the one validation function.

Lambda is not a long-running service, so it does not take the core spec (no port, health check or
scaling); it reuses the core rules for ``environment``, ``secrets`` and ``tags``.
"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date, datetime, timezone
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..blocks.access import normalize_bucket, validate_access
from ..blocks.schedule import check_schedule
from ..profiles import LOG_RETENTION_DAYS
from ..blocks.service import (environment_value, validate_environment, validate_secrets, validate_secrets_kms_keys,
                            validate_tags)
from ..validation import Problems, is_unknown, join_path
from .packaging import archive_sizes, folder_size, requirement_problems, size_problems

__all__ = [
    "ASYNC_DEFAULTS", "DEPLOYMENT_CONFIGS", "FUNCTION_KEYS", "HTTP_TIMEOUT_LIMIT", "LAMBDA_DEFAULTS",
    "MAX_AUTHORIZERS_PER_API", "MAX_INTEGRATIONS_PER_API", "RUNTIME_BLOCK_CREATE", "SUPPORTED_RUNTIMES",
    "TRIGGER_KINDS", "creatable_runtimes", "deployment_config_name", "environment_size", "fitted_deployment_config",
    "normalize_bucket", "parse_route", "preflight_routes", "python_version", "s3_filters_overlap", "secret_variable",
    "CORS_KEYS", "validate_cors", "validate_lambda",
]

#: Lambda's managed runtimes and the date from which Lambda blocks *creating* functions with each, from
#: AWS's runtime table (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html). Deprecation
#: comes a month earlier and only ends security patches; creation keeps working until this date (and
#: updates of existing functions about a month longer). A plan after the date would fail at `pulumi up`.
RUNTIME_BLOCK_CREATE: dict[str, date] = {
    "python3.10": date(2026, 7, 31), "python3.11": date(2026, 7, 31), "python3.12": date(2028, 11, 30),
    "python3.13": date(2029, 7, 31), "python3.14": date(2029, 7, 31),
    "nodejs20.x": date(2026, 6, 1), "nodejs22.x": date(2027, 6, 1), "nodejs24.x": date(2028, 6, 1),
    "java8.al2": date(2026, 7, 31), "java11": date(2026, 7, 31), "java17": date(2026, 7, 31),
    "java21": date(2029, 7, 31), "java25": date(2029, 7, 31),
    "dotnet8": date(2027, 2, 1), "dotnet10": date(2028, 12, 14),
    "ruby3.3": date(2027, 4, 30), "ruby3.4": date(2028, 4, 30),
    "provided.al2": date(2026, 7, 31), "provided.al2023": date(2029, 7, 31),
}


def _today() -> date:
    return datetime.now(timezone.utc).date()


def creatable_runtimes(today: date | None = None) -> tuple[str, ...]:
    """The runtimes Lambda still accepts for new functions on ``today`` (default: the current UTC date)."""
    day = today or _today()
    return tuple(r for r, blocked in RUNTIME_BLOCK_CREATE.items() if day < blocked)


#: Runtimes Lambda accepts for new functions when the program runs.
SUPPORTED_RUNTIMES = creatable_runtimes()
ARCHITECTURES = ("arm64", "x86_64")
PACKAGE_TYPES = ("zip", "image")
SOURCE_KEYS = ("code", "zip", "s3", "image")

#: CodeDeploy's predefined Lambda configurations, by the short name used in specs.
DEPLOYMENT_CONFIGS = (
    "Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes",
    "Canary10Percent30Minutes", "Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes", "AllAtOnce",
)

#: API Gateway HTTP API integrations time out at 30 seconds.
HTTP_TIMEOUT_LIMIT = 30
ENVIRONMENT_MAX_BYTES = 4096
#: Lambda's key pattern for environment variables (API reference, ``Environment``): two characters at least.
LAMBDA_ENV_NAME_PATTERN = r"[a-zA-Z][a-zA-Z0-9_]+"
#: Variables the Lambda runtime defines; CreateFunction refuses them.
RESERVED_ENV_NAMES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
#: HTTP API quotas (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
MAX_AUTHORIZERS_PER_API = 10
MAX_INTEGRATIONS_PER_API = 300
MAX_AUDIENCES = 50
MAX_SCOPES_PER_ROUTE = 10
MAX_FILTERS = 10

LAMBDA_DEFAULTS: dict[str, Any] = {
    "runtime": "python3.13", "architecture": "arm64", "memory": 256, "timeout": 10,
    "ephemeral_storage": 512, "tracing": True, "package_type": "zip", "vpc": False,
}
DEFAULT_HANDLERS = {"python": "handler.handler", "nodejs": "index.handler"}

ASYNC_DEFAULTS = {"retries": 2, "max_event_age": 21600}
STREAM_DEFAULTS = {"batch_size": 100, "starting_position": "LATEST", "parallelization": 1,
                   "bisect_on_error": True, "max_retries": 10, "max_record_age": 86400,
                   "report_batch_item_failures": True}
SQS_DEFAULTS = {"report_batch_item_failures": True, "max_receive_count": 5}

FUNCTION_KEYS = (
    "code", "zip", "s3", "image", "package_type", "runtime", "handler", "architecture", "memory",
    "timeout", "ephemeral_storage", "environment", "secrets", "secrets_kms_keys", "reserved_concurrency", "tracing",
    "log_retention_days", "vpc", "deployment_config", "redeploy", "pre_traffic_hook", "access", "triggers", "tags",
    "routes",
)

PRE_TRAFFIC_HOOK_PATTERN = r"(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?CodeDeployHook_[A-Za-z0-9_-]{1,49}"
HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
S3_EVENT_PATTERN = (r"s3:(ObjectCreated:(\*|Put|Post|Copy|CompleteMultipartUpload)"
                    r"|ObjectRemoved:(\*|Delete|DeleteMarkerCreated)|ObjectRestore:(\*|Post|Completed|Delete)"
                    r"|ObjectTagging:(\*|Put|Delete)|ObjectAcl:Put|LifecycleExpiration:(\*|Delete|DeleteMarkerCreated)"
                    r"|LifecycleTransition|IntelligentTiering|ReducedRedundancyLostObject"
                    r"|Replication:(\*|OperationFailedReplication|OperationMissedThreshold"
                    r"|OperationReplicatedAfterThreshold|OperationNotTracked))")
BUCKET_NAME_PATTERN = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
API_NAME_PATTERN = r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?"
ROUTE_PATH_SEGMENT = r"[A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_]*\+\}"

TRIGGER_KEYS = {
    "http": ("api", "routes", "authorizer", "cors", "throttle"),
    "url": ("auth", "public", "cors", "invoke_mode"),
    "s3": ("bucket", "events", "prefix", "suffix", "retries", "max_event_age", "on_failure"),
    "kinesis": ("stream", "shards", "batch_size", "batching_window", "starting_position", "starting_position_timestamp",
                "parallelization", "bisect_on_error", "max_retries", "max_record_age", "on_failure",
                "report_batch_item_failures", "filters"),
    "dynamodb": ("stream_arn", "hash_key", "batch_size", "batching_window", "starting_position",
                 "parallelization", "bisect_on_error", "max_retries", "max_record_age", "on_failure",
                 "report_batch_item_failures", "filters"),
    "sqs": ("queue", "fifo", "visibility_timeout", "batch_size", "batching_window", "report_batch_item_failures",
            "max_concurrency", "max_receive_count", "filters"),
    "schedule": ("expression", "input", "enabled", "retries", "max_event_age", "on_failure"),
}
TRIGGER_KINDS = tuple(TRIGGER_KEYS)
CORS_KEYS = ("allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age", "allow_credentials")


def python_version(runtime: str) -> str | None:
    """``"python3.13" -> "3.13"``; None for other languages."""
    return runtime.removeprefix("python") if runtime.startswith("python") else None


def deployment_config_name(short: str) -> str:
    return f"CodeDeployDefault.Lambda{short}"


#: Triggers that may not fire at all during a canary window (a nightly schedule, a rare upload); the others
#: (http, url, kinesis, dynamodb, sqs) keep invoking the function while a canary runs.
SPARSE_TRIGGERS = ("schedule", "s3")


def fitted_deployment_config(profile_config: str | None, triggers: Sequence[Any] | None) -> str | None:
    """The profile's CodeDeploy configuration, fitted to the triggers: a function invoked only by
    schedules or S3 events may see no invocation during a canary, so the alarm would have no data and the
    version would be promoted unchecked; it deploys all at once instead (same alarms, same rollback), and
    a ``pre_traffic_hook`` is what tests it before traffic. Functions without triggers are invoked by other
    code, so they keep the canary."""
    if not profile_config:
        return None
    kinds = {next(iter(t)) for t in triggers or [] if isinstance(t, Mapping) and len(t) == 1}
    if kinds and kinds <= set(SPARSE_TRIGGERS):
        return deployment_config_name("AllAtOnce")
    return profile_config


def secret_variable(name: str) -> str:
    """The environment variable holding a secret's ARN: the function reads the value at run time."""
    return f"{name}_SECRET_ARN"


def environment_size(environment: Mapping[str, Any], secrets: Mapping[str, Any]) -> int:
    """Bytes Lambda counts against its 4 KB limit: every key and value, secrets' ARN variables included."""
    pairs = [(str(k), environment_value(v)) for k, v in environment.items() if not is_unknown(v)]
    pairs += [(secret_variable(str(k)), str(v)) for k, v in secrets.items() if not is_unknown(v)]
    return sum(len(k.encode()) + len(v.encode()) for k, v in pairs)


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


def s3_filters_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two S3 notification filters can match the same object for the same event,
    which S3 rejects ("Configurations overlap")."""
    events_a = [str(e) for e in a.get("events") or ["s3:ObjectCreated:*"]]
    events_b = [str(e) for e in b.get("events") or ["s3:ObjectCreated:*"]]

    def event_overlap(x: str, y: str) -> bool:
        if x == y:
            return True
        return (x.endswith(":*") and y.startswith(x[:-1])) or (y.endswith(":*") and x.startswith(y[:-1]))

    if not any(event_overlap(x, y) for x in events_a for y in events_b):
        return False
    pa, pb = str(a.get("prefix") or ""), str(b.get("prefix") or "")
    sa, sb = str(a.get("suffix") or ""), str(b.get("suffix") or "")
    return (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa))


# ---------------------------------------------------------------------------------------------
def validate_lambda(name: str, spec: Mapping[str, Any], path: str | None = None,
                    project_dir: Path | str | None = None) -> Problems:
    """Every problem of one ``lambda`` spec (the component's args), with paths under ``path``.

    ``project_dir`` is where ``code`` and ``zip`` paths resolve (default: the working directory).
    """
    problems = Problems()
    path = name if path is None else path
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return problems
    problems.check_known_keys(spec, FUNCTION_KEYS, path)
    pdir = Path(project_dir) if project_dir is not None else Path.cwd()
    p = lambda *keys: join_path(path, *keys)  # noqa: E731

    package_type = spec.get("package_type", "zip")
    problems.check_enum(package_type, p("package_type"), PACKAGE_TYPES)
    runtime = spec.get("runtime", LAMBDA_DEFAULTS["runtime"])
    blocked = RUNTIME_BLOCK_CREATE.get(runtime) if isinstance(runtime, str) else None
    if blocked is not None and runtime not in creatable_runtimes():
        problems.add(p("runtime"), f"Lambda blocks creating functions with {runtime} since {blocked.isoformat()} "
                                   f"(AWS's runtime deprecation schedule); use one of {', '.join(creatable_runtimes())}")
    else:
        problems.check_enum(runtime, p("runtime"), creatable_runtimes())
    problems.check_enum(spec.get("architecture"), p("architecture"), ARCHITECTURES)
    problems.check_int(spec.get("memory"), p("memory"), 128, 10240, "MB")
    timeout_ok = problems.check_int(spec.get("timeout"), p("timeout"), 1, 900, "seconds")
    problems.check_int(spec.get("ephemeral_storage"), p("ephemeral_storage"), 512, 10240, "MB")
    problems.check_int(spec.get("reserved_concurrency"), p("reserved_concurrency"), 0, None)
    problems.check_bool(spec.get("tracing"), p("tracing"))
    problems.check_bool(spec.get("vpc"), p("vpc"))
    problems.check_enum(spec.get("log_retention_days"), p("log_retention_days"), LOG_RETENTION_DAYS)
    problems.check_enum(spec.get("deployment_config"), p("deployment_config"), DEPLOYMENT_CONFIGS)
    problems.check_str(spec.get("redeploy"), p("redeploy"), r"[\x21-\x7e]{1,128}",
                       "a token of 1-128 printable characters without spaces")
    # CodeDeploy's managed Lambda policy may invoke only functions named CodeDeployHook_*.
    problems.check_str(spec.get("pre_traffic_hook"), p("pre_traffic_hook"), PRE_TRAFFIC_HOOK_PATTERN,
                       "a Lambda function name or ARN whose name starts with CodeDeployHook_ (the only functions "
                       "CodeDeploy's AWSCodeDeployRoleForLambdaLimited policy may invoke)")
    _validate_source(spec, package_type, runtime, pdir, p, problems)

    env, secrets = spec.get("environment"), spec.get("secrets")
    validate_environment(env, p("environment"), problems)
    validate_secrets(secrets, p("secrets"), problems, env)
    validate_secrets_kms_keys(spec.get("secrets_kms_keys"), p("secrets_kms_keys"), problems, secrets)
    validate_tags(spec.get("tags"), p("tags"), problems)
    if isinstance(env, Mapping) and isinstance(secrets or {}, Mapping) and not is_unknown(env):
        size = environment_size(env, secrets or {})
        if size > ENVIRONMENT_MAX_BYTES:
            problems.add(p("environment"), f"variables total {size} bytes (secrets' {secret_variable('NAME')} "
                                           f"variables included); Lambda allows at most {ENVIRONMENT_MAX_BYTES}")
    if isinstance(env, Mapping):
        for key in env:
            _check_lambda_variable(str(key), p("environment", str(key)), problems)
    if isinstance(secrets, Mapping):
        for key in secrets:
            _check_lambda_variable(secret_variable(str(key)), p("secrets", str(key)), problems)
            if isinstance(env, Mapping) and secret_variable(str(key)) in env:
                problems.add(p("environment", secret_variable(str(key))),
                             f"is reserved for the ARN of secret {key!r}")

    validate_access(spec.get("access"), p("access"), problems)
    timeout = spec.get("timeout", LAMBDA_DEFAULTS["timeout"]) if timeout_ok else None
    _validate_triggers(name, spec.get("triggers"), p("triggers"), timeout, problems)
    return problems


def _check_lambda_variable(name: str, path: str, problems: Problems) -> None:
    """Lambda's own rules on top of the core ones: its key pattern and the runtime's reserved names."""
    if name in RESERVED_ENV_NAMES:
        problems.add(path, f"{name} is reserved by the Lambda runtime (it sets it); choose another name")
    elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and not re.fullmatch(LAMBDA_ENV_NAME_PATTERN, name):
        problems.add(path, f"Lambda variable names must match {LAMBDA_ENV_NAME_PATTERN} (a letter first, at least "
                           f"two characters), got {name!r}")


def _validate_source(spec, package_type, runtime, pdir: Path, p, problems: Problems) -> None:
    given = [k for k in SOURCE_KEYS if spec.get(k) is not None]
    if len(given) != 1:
        problems.add(p(), f"needs exactly one of {', '.join(SOURCE_KEYS)} (given: {', '.join(given) or 'none'})")
        return
    source = given[0]
    if package_type == "image":
        if source != "image":
            problems.add(p(source), "package_type image takes an 'image' (an ECR image URI), not a ZIP source")
        for key in ("runtime", "handler"):
            if spec.get(key) is not None:
                problems.add(p(key), "is set by the container image; not allowed with package_type image")
        if problems.check_str(spec.get("image"), p("image")) and isinstance(spec.get("image"), str) and not re.fullmatch(
                r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})",
                spec["image"]):
            problems.add(p("image"), f"must be an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG "
                                     f"or @sha256:DIGEST), got {spec['image']!r}")
        return
    if source == "image":
        problems.add(p("image"), "needs package_type: image")
        return
    handler = spec.get("handler")
    language = next((lang for lang in DEFAULT_HANDLERS if str(runtime).startswith(lang)), None)
    if handler is None and language is None:
        problems.add(p("handler"), f"is required for runtime {runtime!r} (no conventional default)")
    problems.check_str(handler, p("handler"), r"[^\s]{1,128}", "a handler such as module.function, at most 128 characters")
    if source == "code":
        code = spec["code"]
        if problems.check_str(code, p("code")) and isinstance(code, str):
            folder = (pdir / code).resolve()
            if not folder.is_dir():
                problems.add(p("code"), f"must be a directory (relative to the project), got {code!r}: {folder} does not exist")
            else:
                # Dependencies are only known once vendored; the built package is checked again then.
                for message in size_problems(folder_size(folder)):
                    problems.add(p("code"), message)
            requirements = folder / "requirements.txt"
            if folder.is_dir() and language == "python" and requirements.is_file():
                for message in requirement_problems(requirements.read_text()):
                    problems.add(p("code"), message)
            if folder.is_dir() and language == "python":
                module = str(handler or DEFAULT_HANDLERS["python"]).rsplit(".", 1)[0].replace(".", "/")
                if not (folder / f"{module}.py").is_file() and not (folder / module / "__init__.py").is_file():
                    problems.add(p("handler"), f"module {module!r} not found in {code!r} "
                                               f"(expected {module}.py)")
    elif source == "zip":
        zip_path = spec["zip"]
        if problems.check_str(zip_path, p("zip")) and isinstance(zip_path, str):
            if not zip_path.endswith(".zip") or not (pdir / zip_path).is_file():
                problems.add(p("zip"), f"must be an existing .zip file (relative to the project), got {zip_path!r}")
            else:
                try:
                    sizes = archive_sizes(pdir / zip_path)
                except (OSError, zipfile.BadZipFile) as err:
                    problems.add(p("zip"), f"is not a readable ZIP archive: {err}")
                else:
                    for message in size_problems(sizes[1]):
                        problems.add(p("zip"), message)
    else:
        s3 = spec["s3"]
        if problems.check_mapping(s3, p("s3")) and isinstance(s3, Mapping):
            problems.check_known_keys(s3, ("bucket", "key", "object_version"), p("s3"))
            problems.require(s3, "bucket", p("s3"), "the bucket holding the ZIP")
            problems.require(s3, "key", p("s3"), "the object key of the ZIP")
            problems.check_str(s3.get("bucket"), p("s3", "bucket"), BUCKET_NAME_PATTERN, "an S3 bucket name")
            problems.check_str(s3.get("key"), p("s3", "key"), r".+\.zip", "an object key ending in .zip")
            problems.check_str(s3.get("object_version"), p("s3", "object_version"))


def _check_filters(filters: Any, path: str, problems: Problems) -> None:
    if not problems.check_list(filters, path) or not isinstance(filters, (list, tuple)):
        return
    if len(filters) > MAX_FILTERS:
        problems.add(path, f"at most {MAX_FILTERS} filters per event source, got {len(filters)}")
    for i, flt in enumerate(filters):
        fp = join_path(path, i)
        if isinstance(flt, str):
            try:
                flt = json.loads(flt)
            except ValueError as err:
                problems.add(fp, f"must be an event filter pattern (a mapping or its JSON), got invalid JSON: {err}")
                continue
        if not isinstance(flt, Mapping) or not flt:
            problems.add(fp, f"must be a non-empty event filter pattern (a mapping), got {flt!r}")


def _check_on_failure(value: Any, path: str, problems: Problems) -> None:
    if problems.check_str(value, path, r"arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:\d{12}:[\w.-]+",
                          "the ARN of an SQS queue or SNS topic") and isinstance(value, str) and value.endswith(".fifo"):
        # Lambda accepts the setting but cannot deliver to FIFO destinations: the records would be lost.
        problems.add(path, f"must be a standard SQS queue or SNS topic; Lambda cannot send failure records to a "
                           f"FIFO one, got {value!r}")


def _validate_triggers(name: str, triggers: Any, path: str, timeout: Any, problems: Problems) -> None:
    if not problems.check_list(triggers, path) or not isinstance(triggers, (list, tuple)):
        return
    routes: dict[tuple[str, str], str] = {}
    s3_seen: list[tuple[str, Mapping[str, Any], str]] = []
    async_seen: dict[str, tuple[Any, str]] = {}
    singles: dict[str, str] = {}
    for i, trig in enumerate(triggers):
        tp = join_path(path, i)
        if not isinstance(trig, Mapping) or len(trig) != 1:
            got = ", ".join(map(str, trig)) if isinstance(trig, Mapping) else repr(trig)
            problems.add(tp, f"each trigger has exactly one key, one of {', '.join(TRIGGER_KINDS)} (given: {got or 'none'})")
            continue
        kind, body = next(iter(trig.items()))
        if kind not in TRIGGER_KEYS:
            problems.check_enum(kind, tp, TRIGGER_KINDS)
            continue
        kp = join_path(tp, kind)
        body = {} if body is None else body
        if not problems.check_mapping(body, kp) or not isinstance(body, Mapping):
            continue
        problems.check_known_keys(body, TRIGGER_KEYS[kind], kp)
        if kind in ("http", "url"):
            if kind in singles:
                why = "list every route in one" if kind == "http" else "the live alias has one function URL"
                problems.add(tp, f"a function has at most one {kind} trigger ({singles[kind]} is the first): {why}")
            singles.setdefault(kind, tp)
        check = globals()[f"_check_{kind}"]
        check(name, body, kp, timeout, problems)
        if kind == "http":
            api = body.get("api", name)
            for j, route in enumerate(body.get("routes") or []):
                if isinstance(route, str) and parse_route(route):
                    key = (str(api), route)
                    if key in routes:
                        problems.add(join_path(kp, "routes", j), f"route {route!r} on API {api!r} is already claimed by {routes[key]}")
                    routes[key] = join_path(kp, "routes", j)
        if kind == "s3":
            bucket = normalize_bucket(str(body["bucket"])) if isinstance(body.get("bucket"), str) else "(created)"
            for other_bucket, other, other_path in s3_seen:
                if other_bucket == bucket and s3_filters_overlap(body, other):
                    problems.add(kp, f"events, prefix and suffix overlap {other_path} on bucket {bucket}; "
                                     "S3 rejects overlapping notifications for the same event")
            s3_seen.append((bucket, body, kp))
        if kind in ("s3", "schedule"):
            # One async invoke configuration per alias: every async trigger must agree.
            for key in ("retries", "max_event_age", "on_failure"):
                if body.get(key) is None:
                    continue
                if key in async_seen and async_seen[key][0] != body[key]:
                    problems.add(join_path(kp, key), f"async invoke settings apply to the whole function: "
                                                     f"{body[key]!r} conflicts with {async_seen[key][0]!r} at {async_seen[key][1]}")
                async_seen.setdefault(key, (body[key], join_path(kp, key)))


def validate_cors(cors: Any, path: str, problems: Problems) -> None:
    """Every problem of a CORS setting (``cors`` of an ``http`` or ``url`` trigger, or of a shared ``HttpApi``)."""
    if not problems.check_mapping(cors, path) or not isinstance(cors, Mapping):
        return
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


def _check_http(name, body, path, timeout, problems: Problems) -> None:
    problems.check_str(body.get("api"), join_path(path, "api"), API_NAME_PATTERN,
                       "an API name: a DNS-1123 label of at most 20 characters")
    routes = body.get("routes")
    if problems.require(body, "routes", path, "a list such as ['GET /orders/{id}']") and \
            problems.check_list(routes, join_path(path, "routes")) and isinstance(routes, (list, tuple)):
        if not routes:
            problems.add(join_path(path, "routes"), "needs at least one route")
        seen = set()
        for j, route in enumerate(routes):
            rp = join_path(path, "routes", j)
            if route == "$default":
                continue
            if not isinstance(route, str) or parse_route(route) is None:
                problems.add(rp, f"must be 'METHOD /path' with METHOD one of {', '.join(HTTP_METHODS)} and a path of "
                                 f"segments, {{param}} or a final {{proxy+}} (or '$default'), got {route!r}")
            elif route in seen:
                problems.add(rp, f"route {route!r} is listed twice")
            seen.add(route)
    auth = body.get("authorizer")
    ap = join_path(path, "authorizer")
    if problems.check_mapping(auth, ap) and isinstance(auth, Mapping):
        problems.check_known_keys(auth, ("issuer", "audience", "scopes"), ap)
        problems.require(auth, "issuer", ap, "the JWT issuer URL")
        problems.check_str(auth.get("issuer"), join_path(ap, "issuer"), r"https://\S+", "an https:// issuer URL")
        audience = auth.get("audience")
        if problems.require(auth, "audience", ap, "the accepted audiences (client ids)"):
            if isinstance(audience, str):
                audience = [audience]
            if not isinstance(audience, (list, tuple)) or not audience or not all(isinstance(a, str) for a in audience):
                problems.add(join_path(ap, "audience"), f"must be a non-empty list of strings, got {audience!r}")
            elif len(audience) > MAX_AUDIENCES:
                problems.add(join_path(ap, "audience"), f"at most {MAX_AUDIENCES} audiences per JWT authorizer, "
                                                        f"got {len(audience)}")
        scopes = auth.get("scopes")
        if problems.check_list(scopes, join_path(ap, "scopes")) and isinstance(scopes, (list, tuple)):
            if len(scopes) > MAX_SCOPES_PER_ROUTE:
                problems.add(join_path(ap, "scopes"), f"at most {MAX_SCOPES_PER_ROUTE} scopes per route, got {len(scopes)}")
            for j, s in enumerate(scopes):
                problems.check_str(s, join_path(ap, "scopes", j))
    validate_cors(body.get("cors"), join_path(path, "cors"), problems)
    thr = body.get("throttle")
    tp = join_path(path, "throttle")
    if problems.check_mapping(thr, tp) and isinstance(thr, Mapping):
        problems.check_known_keys(thr, ("rate", "burst"), tp)
        problems.check_int(thr.get("rate"), join_path(tp, "rate"), 1, 10000, "requests per second")
        problems.check_int(thr.get("burst"), join_path(tp, "burst"), 1, 5000, "requests")
    if timeout is not None and not is_unknown(timeout) and timeout > HTTP_TIMEOUT_LIMIT:
        problems.add(path, f"HTTP API integrations time out after {HTTP_TIMEOUT_LIMIT} seconds: the function's "
                           f"timeout must be at most {HTTP_TIMEOUT_LIMIT} with an http trigger, got {timeout}")


def _check_url(name, body, path, timeout, problems: Problems) -> None:
    problems.check_enum(body.get("auth"), join_path(path, "auth"), ("AWS_IAM", "NONE"))
    problems.check_bool(body.get("public"), join_path(path, "public"))
    problems.check_enum(body.get("invoke_mode"), join_path(path, "invoke_mode"), ("BUFFERED", "RESPONSE_STREAM"))
    if body.get("auth") == "NONE" and body.get("public") is not True:
        problems.add(join_path(path, "auth"), "NONE makes the URL callable by anyone on the internet; "
                                              "set public: true to confirm, or keep AWS_IAM")
    if body.get("public") is True and body.get("auth", "AWS_IAM") != "NONE":
        problems.add(join_path(path, "public"), "public: true needs auth: NONE")
    validate_cors(body.get("cors"), join_path(path, "cors"), problems)


def _check_async(body, path, problems: Problems) -> None:
    problems.check_int(body.get("retries"), join_path(path, "retries"), 0, 2)
    problems.check_int(body.get("max_event_age"), join_path(path, "max_event_age"), 60, 21600, "seconds")
    _check_on_failure(body.get("on_failure"), join_path(path, "on_failure"), problems)


def _check_s3(name, body, path, timeout, problems: Problems) -> None:
    bucket = body.get("bucket")
    if isinstance(bucket, str):
        problems.check_str(normalize_bucket(bucket), join_path(path, "bucket"), BUCKET_NAME_PATTERN,
                           "an S3 bucket name (3-63 lowercase letters, digits, '.' and '-') or its ARN")
    elif bucket is not None and not is_unknown(bucket):
        problems.add(join_path(path, "bucket"), f"must be a bucket name or ARN (omit it to create a bucket), got {bucket!r}")
    events = body.get("events")
    ep = join_path(path, "events")
    if problems.check_list(events, ep) and isinstance(events, (list, tuple)):
        if not events:
            problems.add(ep, "needs at least one event, e.g. s3:ObjectCreated:*")
        for j, ev in enumerate(events):
            problems.check_str(ev, join_path(ep, j), S3_EVENT_PATTERN, "an S3 event type such as s3:ObjectCreated:*")
    problems.check_str(body.get("prefix"), join_path(path, "prefix"), max_len=1024)
    problems.check_str(body.get("suffix"), join_path(path, "suffix"), max_len=1024)
    _check_async(body, path, problems)


def _check_stream_common(body, path, problems: Problems, batch_max: int, positions: Sequence[str]) -> None:
    problems.check_int(body.get("batch_size"), join_path(path, "batch_size"), 1, batch_max)
    problems.check_int(body.get("batching_window"), join_path(path, "batching_window"), 0, 300, "seconds")
    problems.check_enum(body.get("starting_position"), join_path(path, "starting_position"), positions)
    problems.check_int(body.get("parallelization"), join_path(path, "parallelization"), 1, 10)
    problems.check_bool(body.get("bisect_on_error"), join_path(path, "bisect_on_error"))
    problems.check_int(body.get("max_retries"), join_path(path, "max_retries"), -1, 10000)
    age = body.get("max_record_age")
    if problems.check_int(age, join_path(path, "max_record_age"), -1, 604800, "seconds") and \
            age is not None and not is_unknown(age) and 0 <= age < 60:
        problems.add(join_path(path, "max_record_age"), f"must be -1 (no limit) or between 60 and 604800 seconds, got {age}")
    problems.check_bool(body.get("report_batch_item_failures"), join_path(path, "report_batch_item_failures"))
    _check_on_failure(body.get("on_failure"), join_path(path, "on_failure"), problems)
    _check_filters(body.get("filters"), join_path(path, "filters"), problems)


def _check_kinesis(name, body, path, timeout, problems: Problems) -> None:
    problems.check_str(body.get("stream"), join_path(path, "stream"),
                       r"arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]{1,128}|[A-Za-z0-9_.-]{1,128}",
                       "a stream name or ARN (omit it to create a stream)")
    problems.check_int(body.get("shards"), join_path(path, "shards"), 1, None)
    if body.get("stream") is not None and body.get("shards") is not None:
        problems.add(join_path(path, "shards"), "only applies to a created stream; not allowed with stream")
    _check_stream_common(body, path, problems, 10000, ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"))
    ts = body.get("starting_position_timestamp")
    if body.get("starting_position") == "AT_TIMESTAMP":
        if problems.require(body, "starting_position_timestamp", path, "an RFC 3339 time, with AT_TIMESTAMP"):
            problems.check_str(ts, join_path(path, "starting_position_timestamp"),
                               r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                               "an RFC 3339 time such as 2026-01-01T00:00:00Z")
    elif ts is not None:
        problems.add(join_path(path, "starting_position_timestamp"), "is only allowed with starting_position AT_TIMESTAMP")


def _check_dynamodb(name, body, path, timeout, problems: Problems) -> None:
    problems.check_str(body.get("stream_arn"), join_path(path, "stream_arn"),
                       r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}/stream/\S+",
                       "a DynamoDB stream ARN (omit it to create a table with a stream)")
    problems.check_str(body.get("hash_key"), join_path(path, "hash_key"), r"[A-Za-z0-9_.-]{1,255}", "an attribute name")
    if body.get("stream_arn") is not None and body.get("hash_key") is not None:
        problems.add(join_path(path, "hash_key"), "only applies to a created table; not allowed with stream_arn")
    _check_stream_common(body, path, problems, 10000, ("LATEST", "TRIM_HORIZON"))


def _check_sqs(name, body, path, timeout, problems: Problems) -> None:
    queue = body.get("queue")
    problems.check_str(queue, join_path(path, "queue"),
                       r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,75}(\.fifo)?|[A-Za-z0-9_-]{1,75}(\.fifo)?",
                       "a queue name or ARN (omit it to create a queue)")
    problems.check_bool(body.get("fifo"), join_path(path, "fifo"))
    existing = isinstance(queue, str)
    if existing and body.get("fifo") is not None:
        problems.add(join_path(path, "fifo"), "is read from the existing queue's name (.fifo); only for a created queue")
    fifo = queue.endswith(".fifo") if existing else bool(body.get("fifo"))
    batch = body.get("batch_size")
    window = body.get("batching_window")
    if problems.check_int(batch, join_path(path, "batch_size"), 1, 10 if fifo else 10000) and \
            isinstance(batch, int) and batch > 10 and not window:
        problems.add(join_path(path, "batching_window"), f"must be at least 1 second when batch_size is above 10 (given batch_size {batch})")
    if problems.check_int(window, join_path(path, "batching_window"), 0, 300, "seconds") and fifo and window is not None:
        problems.add(join_path(path, "batching_window"), "is not supported for FIFO queues")
    problems.check_bool(body.get("report_batch_item_failures"), join_path(path, "report_batch_item_failures"))
    problems.check_int(body.get("max_concurrency"), join_path(path, "max_concurrency"), 2, 1000)
    problems.check_int(body.get("max_receive_count"), join_path(path, "max_receive_count"), 1, 1000)
    if existing and body.get("max_receive_count") is not None:
        problems.add(join_path(path, "max_receive_count"), "only applies to a created queue's redrive policy")
    _check_filters(body.get("filters"), join_path(path, "filters"), problems)
    vis = body.get("visibility_timeout")
    vp = join_path(path, "visibility_timeout")
    if problems.check_int(vis, vp, 0, 43200, "seconds"):
        if existing and vis is None:
            problems.add(vp, "is required for an existing queue (its VisibilityTimeout), so that the rule "
                             "'at least 6 times the function timeout' can be checked")
        elif vis is not None and timeout is not None and not is_unknown(timeout) and vis < 6 * timeout:
            problems.add(vp, f"must be at least 6 times the function timeout ({6 * timeout} seconds for "
                             f"timeout {timeout}), got {vis}; otherwise messages are redelivered while still in flight")


def _check_schedule(name, body, path, timeout, problems: Problems) -> None:
    expr = body.get("expression")
    ep = join_path(path, "expression")
    if problems.require(body, "expression", path, "rate(...) or cron(...)"):
        check_schedule(expr, ep, problems)
    payload = body.get("input")
    if payload is not None and not is_unknown(payload):
        if isinstance(payload, str):
            try:
                json.loads(payload)
            except ValueError as err:
                problems.add(join_path(path, "input"), f"must be a mapping or a JSON document, got invalid JSON: {err}")
        elif not isinstance(payload, (Mapping, list)):
            problems.add(join_path(path, "input"), f"must be a mapping or a JSON document, got {payload!r}")
        elif len(json.dumps(payload)) > 8192:
            problems.add(join_path(path, "input"), "must be at most 8192 characters of JSON")
    problems.check_bool(body.get("enabled"), join_path(path, "enabled"))
    _check_async(body, path, problems)
