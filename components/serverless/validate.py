"""The validation of a ``lambda`` spec (the component's args), before anything is registered.

Lambda is not a long-running service, so it does not take the core spec (no port, health check or
scaling); it reuses the core rules for ``environment``, ``secrets`` and ``tags``. Each trigger's own rules
live with its kind in :mod:`.triggers`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ..blocks.access import validate_access
from ..blocks.service import (environment_value, validate_environment, validate_secrets, validate_secrets_kms_keys,
                              validate_tags)
from ..profiles import LOG_RETENTION_DAYS
from ..validation import Problems, is_unknown, join_path
from .args import DEFAULT_HANDLERS, LambdaServiceArgs, LambdaSettings, language_of, secret_variable
from .packaging import archive_sizes, folder_size, requirement_problems, size_problems
from .triggers import validate_triggers
from .triggers.s3 import BUCKET_NAME_PATTERN

__all__ = [
    "DEPLOYMENT_CONFIGS", "FUNCTION_KEYS", "NAME_MAX", "RUNTIME_BLOCK_CREATE", "SUPPORTED_RUNTIMES",
    "creatable_runtimes", "environment_size", "validate_component_name", "validate_lambda",
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
FUNCTION_KEYS = tuple(LambdaServiceArgs.__annotations__)
PRE_TRAFFIC_HOOK_PATTERN = r"(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?CodeDeployHook_[A-Za-z0-9_-]{1,49}"
ECR_IMAGE_PATTERN = r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})"
NAME_PATTERN = r"[a-z]([-a-z0-9]*[a-z0-9])?"
#: 63 (S3 bucket names) - len("-artifacts-bucket") - 8 (Pulumi's random suffix with its dash).
NAME_MAX = 38


def _or_default(value: Any, default: Any) -> Any:
    """A spec's value as given, or the settings' default (a :class:`LambdaSettings` field) when missing or null."""
    return default if value is None else value


def validate_component_name(name: str) -> Problems:
    """Child names carry an 8-character random suffix: ``<name>-artifacts-bucket-1a2b3c4`` must stay a valid
    S3 bucket name (lowercase, at most 63), ``<name>-deploy-role-...`` an IAM role name (64)."""
    problems = Problems()
    if not re.fullmatch(NAME_PATTERN, name) or len(name) > NAME_MAX:
        problems.add(name, f"component name {name!r} must be lowercase letters, digits and '-', starting with a "
                           f"letter, at most {NAME_MAX} characters (AWS names derived from it: S3 buckets, IAM "
                           "roles, Lambda functions)")
    return problems


def environment_size(environment: Mapping[str, Any], secrets: Mapping[str, Any]) -> int:
    """Bytes Lambda counts against its 4 KB limit: every key and value, secrets' ARN variables included."""
    pairs = [(str(k), environment_value(v)) for k, v in environment.items() if not is_unknown(v)]
    pairs += [(secret_variable(str(k)), str(v)) for k, v in secrets.items() if not is_unknown(v)]
    return sum(len(k.encode()) + len(v.encode()) for k, v in pairs)


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
    timeout_ok = _check_function(spec, path, problems)
    problems.extend(_check_source(spec, path, pdir))
    problems.extend(_check_environment(spec, path))
    validate_access(spec.get("access"), join_path(path, "access"), problems)
    timeout = _or_default(spec.get("timeout"), LambdaSettings.timeout) if timeout_ok else None
    problems.extend(validate_triggers(name, spec.get("triggers"), join_path(path, "triggers"), timeout))
    return problems


def _check_function(spec: Mapping[str, Any], path: str, problems: Problems) -> bool:
    """The function's own settings; returns whether ``timeout`` is valid (the triggers' rules use it)."""
    p = lambda *keys: join_path(path, *keys)  # noqa: E731
    package_type = _or_default(spec.get("package_type"), LambdaSettings.package_type)
    problems.check_enum(package_type, p("package_type"), PACKAGE_TYPES)
    runtime = _or_default(spec.get("runtime"), LambdaSettings.runtime)
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
    return timeout_ok


def _check_environment(spec: Mapping[str, Any], path: str) -> Problems:
    """The core rules on ``environment``, ``secrets`` and ``tags``, then Lambda's: 4 KB in all, its key
    pattern, the runtime's reserved names, and the secrets' ARN variables."""
    problems = Problems()
    p = lambda *keys: join_path(path, *keys)  # noqa: E731
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
    return problems


def _check_lambda_variable(name: str, path: str, problems: Problems) -> None:
    """Lambda's own rules on top of the core ones: its key pattern and the runtime's reserved names."""
    if name in RESERVED_ENV_NAMES:
        problems.add(path, f"{name} is reserved by the Lambda runtime (it sets it); choose another name")
    elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and not re.fullmatch(LAMBDA_ENV_NAME_PATTERN, name):
        problems.add(path, f"Lambda variable names must match {LAMBDA_ENV_NAME_PATTERN} (a letter first, at least "
                           f"two characters), got {name!r}")


def _check_source(spec: Mapping[str, Any], path: str, pdir: Path) -> Problems:
    """Exactly one of ``code``, ``zip``, ``s3``, ``image``, fitting ``package_type``, and the handler."""
    problems = Problems()
    p = lambda *keys: join_path(path, *keys)  # noqa: E731
    given = [k for k in SOURCE_KEYS if spec.get(k) is not None]
    if len(given) != 1:
        problems.add(p(), f"needs exactly one of {', '.join(SOURCE_KEYS)} (given: {', '.join(given) or 'none'})")
        return problems
    source = given[0]
    if _or_default(spec.get("package_type"), LambdaSettings.package_type) == "image":
        return _check_image(spec, source, path)
    if source == "image":
        problems.add(p("image"), "needs package_type: image")
        return problems
    runtime, handler = _or_default(spec.get("runtime"), LambdaSettings.runtime), spec.get("handler")
    language = language_of(runtime)
    if handler is None and language is None:
        problems.add(p("handler"), f"is required for runtime {runtime!r} (no conventional default)")
    problems.check_str(handler, p("handler"), r"[^\s]{1,128}", "a handler such as module.function, at most 128 characters")
    if source == "code":
        problems.extend(_check_code(spec["code"], handler, language, path, pdir))
    elif source == "zip":
        problems.extend(_check_zip(spec["zip"], p("zip"), pdir))
    else:
        problems.extend(_check_s3_source(spec["s3"], p("s3")))
    return problems


def _check_image(spec: Mapping[str, Any], source: str, path: str) -> Problems:
    problems = Problems()
    p = lambda *keys: join_path(path, *keys)  # noqa: E731
    if source != "image":
        problems.add(p(source), "package_type image takes an 'image' (an ECR image URI), not a ZIP source")
    for key in ("runtime", "handler"):
        if spec.get(key) is not None:
            problems.add(p(key), "is set by the container image; not allowed with package_type image")
    image = spec.get("image")
    if problems.check_str(image, p("image")) and isinstance(image, str) and not re.fullmatch(ECR_IMAGE_PATTERN, image):
        problems.add(p("image"), f"must be an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG "
                                 f"or @sha256:DIGEST), got {image!r}")
    return problems


def _check_code(code: Any, handler: Any, language: str | None, path: str, pdir: Path) -> Problems:
    problems = Problems()
    cp = join_path(path, "code")
    if not problems.check_str(code, cp) or not isinstance(code, str):
        return problems
    folder = (pdir / code).resolve()
    if not folder.is_dir():
        problems.add(cp, f"must be a directory (relative to the project), got {code!r}: {folder} does not exist")
        return problems
    # Dependencies are only known once vendored; the built package is checked again then.
    for message in size_problems(folder_size(folder)):
        problems.add(cp, message)
    if language != "python":
        return problems
    requirements = folder / "requirements.txt"
    if requirements.is_file():
        for message in requirement_problems(requirements.read_text()):
            problems.add(cp, message)
    module = str(handler or DEFAULT_HANDLERS["python"]).rsplit(".", 1)[0].replace(".", "/")
    if not (folder / f"{module}.py").is_file() and not (folder / module / "__init__.py").is_file():
        problems.add(join_path(path, "handler"), f"module {module!r} not found in {code!r} (expected {module}.py)")
    return problems


def _check_zip(zip_path: Any, path: str, pdir: Path) -> Problems:
    problems = Problems()
    if not problems.check_str(zip_path, path) or not isinstance(zip_path, str):
        return problems
    if not zip_path.endswith(".zip") or not (pdir / zip_path).is_file():
        problems.add(path, f"must be an existing .zip file (relative to the project), got {zip_path!r}")
        return problems
    try:
        sizes = archive_sizes(pdir / zip_path)
    except (OSError, zipfile.BadZipFile) as err:
        problems.add(path, f"is not a readable ZIP archive: {err}")
    else:
        for message in size_problems(sizes[1]):
            problems.add(path, message)
    return problems


def _check_s3_source(s3: Any, path: str) -> Problems:
    problems = Problems()
    if problems.check_mapping(s3, path) and isinstance(s3, Mapping):
        problems.check_known_keys(s3, ("bucket", "key", "object_version"), path)
        problems.require(s3, "bucket", path, "the bucket holding the ZIP")
        problems.require(s3, "key", path, "the object key of the ZIP")
        problems.check_str(s3.get("bucket"), join_path(path, "bucket"), BUCKET_NAME_PATTERN, "an S3 bucket name")
        problems.check_str(s3.get("key"), join_path(path, "key"), r".+\.zip", "an object key ending in .zip")
        problems.check_str(s3.get("object_version"), join_path(path, "object_version"))
    return problems
