"""The core spec shared by every long-running service pattern (``vm``, ``ecs``, ``eks``, ``docker``).

Defined and validated once here, so moving a service between those patterns is a one-word
change in the stack file. Each pattern adds only its own keys on top of :data:`CORE_KEYS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict


from ..profiles import Profile
from ..validation import Problems, is_unknown, join_path

__all__ = [
    "CORE_KEYS",
    "CoreSpec",
    "DEFAULT_PORT",
    "HealthCheck",
    "HealthCheckArgs",
    "Scaling",
    "ScalingArgs",
    "KMS_KEY_ARN_PATTERN",
    "SECRET_ARN_PATTERN",
    "environment_value",
    "resolve_core",
    "resolve_health_check",
    "resolve_scaling",
    "standard_tags",
    "validate_core",
    "validate_secrets_kms_keys",
    "validate_service_name",
]

#: ARN of an SSM parameter or a Secrets Manager secret, in any AWS partition.
SECRET_ARN_PATTERN = (
    r"arn:aws(-cn|-us-gov)?:(ssm:[a-z0-9-]+:\d{12}:parameter/.+"
    r"|secretsmanager:[a-z0-9-]+:\d{12}:secret:.+)"
)
ENV_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
#: Service names are DNS-1123 labels short enough for every AWS name derived from them: an ALB or
#: target group name is at most 32 characters, and Pulumi appends an 8-character random suffix to
#: child names such as ``<service>-tg``.
SERVICE_NAME_MAX = 20
SERVICE_NAME_PATTERN = r"[a-z]([-a-z0-9]*[a-z0-9])?"

EXPOSURES = ("public", "internal", "none")
HEALTH_CHECK_KEYS = ("path", "interval", "timeout", "healthy_threshold", "unhealthy_threshold", "grace_period")
SCALING_KEYS = ("min", "max", "desired", "target_cpu")
CORE_KEYS = ("port", "health_check", "scaling", "environment", "secrets", "secrets_kms_keys", "expose", "tags",
             "routes")
#: ARN of a KMS key (not an alias: IAM authorizes kms:Decrypt on key ARNs).
KMS_KEY_ARN_PATTERN = r"arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}"


class HealthCheckArgs(TypedDict):
    """How the platform decides an instance, task or pod is healthy."""

    path: NotRequired[str]
    """HTTP path probed; starts with ``/``, at most 1024 characters. Default: ``/health``."""
    interval: NotRequired[int]
    """Seconds between probes, 5-300, greater than ``timeout``. Default: 30."""
    timeout: NotRequired[int]
    """Seconds before a probe fails, 2-120. Default: 5."""
    healthy_threshold: NotRequired[int]
    """Consecutive successes to become healthy, 2-10. Default: 3."""
    unhealthy_threshold: NotRequired[int]
    """Consecutive failures to become unhealthy, 2-10. Default: 3."""
    grace_period: NotRequired[int]
    """Seconds after start before failed health checks count, 0-7200. Default: the pattern's (300 for VMs, 60 for containers)."""


class ScalingArgs(TypedDict):
    """How many copies run, and when to add more."""

    min: NotRequired[int]
    """Fewest copies, 0-1000. Default: the profile's ``min_capacity`` (dev 1, staging 2, prod 2)."""
    max: NotRequired[int]
    """Most copies, 1-1000, at least ``min``. Default: the larger of ``min`` and the profile's ``max_capacity``."""
    desired: NotRequired[int]
    """Copies at creation, between ``min`` and ``max``. Default: ``min``."""
    target_cpu: NotRequired[int]
    """Average CPU utilisation (percent, 10-90) that target tracking holds. Default: 60."""


#: The port a service listens on unless its spec or its pattern says otherwise.
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class HealthCheck:
    """``health_check`` resolved (:func:`resolve_health_check`); ``grace_period`` is the containers' default,
    a pattern may give its own (VMs: 300)."""

    path: str = "/health"
    interval: int = 30
    timeout: int = 5
    healthy_threshold: int = 3
    unhealthy_threshold: int = 3
    grace_period: int = 60


@dataclass(frozen=True)
class Scaling:
    """``scaling`` resolved (:func:`resolve_scaling`): ``min``, ``max`` and ``desired`` come from the profile."""

    min: int
    max: int
    desired: int
    target_cpu: int = 60


@dataclass(frozen=True, kw_only=True)
class CoreSpec:
    """The core spec resolved once (:func:`resolve_core`); the fields carry the defaults."""

    port: int = DEFAULT_PORT
    health_check: HealthCheck = field(default_factory=HealthCheck)
    scaling: Scaling
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    secrets_kms_keys: tuple[str, ...] = ()
    expose: Literal["public", "internal", "none"] = "internal"
    tags: dict[str, str] = field(default_factory=dict)


def validate_service_name(name: Any, path: str, problems: Problems) -> bool:
    """A service name is a DNS-1123 label of at most :data:`SERVICE_NAME_MAX` characters."""
    if not isinstance(name, str) or not re.fullmatch(SERVICE_NAME_PATTERN, name) or len(name) > SERVICE_NAME_MAX:
        problems.add(path, f"service name {name!r} must be a DNS-1123 label of at most {SERVICE_NAME_MAX} "
                           "characters: lowercase letters, digits and '-', starting with a letter and "
                           "ending with a letter or digit")
        return False
    return True


def validate_core(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    """Validate the core keys of ``spec`` (unknown keys are the pattern's business)."""
    problems.check_int(spec.get("port"), join_path(path, "port"), 1, 65535)
    problems.check_enum(spec.get("expose"), join_path(path, "expose"), EXPOSURES)

    hc = spec.get("health_check")
    hc_path = join_path(path, "health_check")
    if problems.check_mapping(hc, hc_path) and isinstance(hc, Mapping):
        problems.check_known_keys(hc, HEALTH_CHECK_KEYS, hc_path)
        p = hc.get("path")
        if problems.check_str(p, join_path(hc_path, "path"), max_len=1024) and isinstance(p, str) \
                and not p.startswith("/"):
            problems.add(join_path(hc_path, "path"), f"must start with '/', got {p!r}")
        ok_i = problems.check_int(hc.get("interval"), join_path(hc_path, "interval"), 5, 300, "seconds")
        ok_t = problems.check_int(hc.get("timeout"), join_path(hc_path, "timeout"), 2, 120, "seconds")
        # Left out or null: the field's default.
        interval = HealthCheck.interval if hc.get("interval") is None else hc["interval"]
        timeout = HealthCheck.timeout if hc.get("timeout") is None else hc["timeout"]
        if ok_i and ok_t and not is_unknown(interval) and not is_unknown(timeout) and interval <= timeout:
            problems.add(join_path(hc_path, "interval"),
                         f"must be greater than health_check.timeout ({timeout}), got {interval}")
        for key in ("healthy_threshold", "unhealthy_threshold"):
            problems.check_int(hc.get(key), join_path(hc_path, key), 2, 10)
        problems.check_int(hc.get("grace_period"), join_path(hc_path, "grace_period"), 0, 7200, "seconds")

    sc = spec.get("scaling")
    sc_path = join_path(path, "scaling")
    if problems.check_mapping(sc, sc_path) and isinstance(sc, Mapping):
        problems.check_known_keys(sc, SCALING_KEYS, sc_path)
        ok = all([
            problems.check_int(sc.get("min"), join_path(sc_path, "min"), 0, 1000),
            problems.check_int(sc.get("max"), join_path(sc_path, "max"), 1, 1000),
            problems.check_int(sc.get("desired"), join_path(sc_path, "desired"), 0, 1000),
        ])
        problems.check_int(sc.get("target_cpu"), join_path(sc_path, "target_cpu"), 10, 90, "percent")
        lo, hi, want = sc.get("min"), sc.get("max"), sc.get("desired")
        if ok and lo is not None and hi is not None and not is_unknown(lo) and not is_unknown(hi) and lo > hi:
            problems.add(join_path(sc_path, "min"), f"must be at most scaling.max ({hi}), got {lo}")
        if ok and want is not None and not is_unknown(want):
            if lo is not None and not is_unknown(lo) and want < lo:
                problems.add(join_path(sc_path, "desired"), f"must be between scaling.min ({lo}) and scaling.max, got {want}")
            elif hi is not None and not is_unknown(hi) and want > hi:
                problems.add(join_path(sc_path, "desired"), f"must be between scaling.min and scaling.max ({hi}), got {want}")

    validate_environment(spec.get("environment"), join_path(path, "environment"), problems)
    validate_secrets(spec.get("secrets"), join_path(path, "secrets"), problems, spec.get("environment"))
    validate_secrets_kms_keys(spec.get("secrets_kms_keys"), join_path(path, "secrets_kms_keys"), problems,
                              spec.get("secrets"))
    validate_tags(spec.get("tags"), join_path(path, "tags"), problems)


def validate_environment(env: Any, path: str, problems: Problems) -> None:
    if problems.check_str_map(env, path) and isinstance(env, Mapping):
        for key in env:
            if not re.fullmatch(ENV_NAME_PATTERN, str(key)):
                problems.add(join_path(path, str(key)), "must be a variable name: letters, digits and '_', not starting with a digit")


def validate_secrets(secrets: Any, path: str, problems: Problems, environment: Any = None) -> None:
    """``secrets`` maps a variable name to the ARN of an SSM parameter or a Secrets Manager secret."""
    if not problems.check_mapping(secrets, path) or not isinstance(secrets, Mapping):
        return
    for key, arn in secrets.items():
        kp = join_path(path, str(key))
        if not re.fullmatch(ENV_NAME_PATTERN, str(key)):
            problems.add(kp, "must be a variable name: letters, digits and '_', not starting with a digit")
        problems.check_str(arn, kp, SECRET_ARN_PATTERN,
                           "the ARN of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or a "
                           "Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)")
        if isinstance(environment, Mapping) and key in environment:
            problems.add(kp, "is also set in environment; a variable is either plain or secret")


def validate_secrets_kms_keys(keys: Any, path: str, problems: Problems, secrets: Any = None) -> None:
    """``secrets_kms_keys`` lists the customer-managed KMS keys (by key ARN) that encrypt ``secrets``."""
    if keys is None or not problems.check_list(keys, path) or not isinstance(keys, (list, tuple)):
        return
    if not keys:
        problems.add(path, "must list at least one KMS key ARN, or be left out")
    for i, key in enumerate(keys):
        problems.check_str(key, join_path(path, i), KMS_KEY_ARN_PATTERN,
                           "the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID); an alias cannot be "
                           "granted kms:Decrypt")
    if len(set(map(str, keys))) != len(keys):
        problems.add(path, "lists a key twice")
    if keys and not secrets and not is_unknown(secrets):
        problems.add(path, "is set but there are no secrets to decrypt")


def validate_tags(tags: Any, path: str, problems: Problems) -> None:
    if problems.check_str_map(tags, path) and isinstance(tags, Mapping):
        for key, value in tags.items():
            kp = join_path(path, str(key))
            if str(key).lower().startswith("aws:"):
                problems.add(kp, "tag keys starting with 'aws:' are reserved by AWS")
            elif len(str(key)) > 128:
                problems.add(kp, f"tag keys are at most 128 characters, got {len(str(key))}")
            if isinstance(value, str) and len(value) > 256:
                problems.add(kp, f"tag values are at most 256 characters, got {len(value)}")


def _given(spec: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The ``keys`` a spec sets (to something other than null): what it leaves out takes the field's default."""
    return {key: spec[key] for key in keys if spec.get(key) is not None}


def resolve_health_check(spec: Mapping[str, Any] | None, *,
                         grace_period: int = HealthCheck.grace_period) -> HealthCheck:
    """``health_check`` of a validated spec; ``grace_period`` is the pattern's default for it."""
    given = _given(spec or {}, HEALTH_CHECK_KEYS)
    numbers = {key: int(value) for key, value in given.items() if key != "path"}
    return HealthCheck(**{"grace_period": grace_period, **given, **numbers})


def resolve_scaling(spec: Mapping[str, Any] | None, profile: Profile) -> Scaling:
    """``scaling`` of a validated spec: ``min`` the profile's ``min_capacity``, ``max`` the larger of ``min``
    and the profile's ``max_capacity``, ``desired`` ``min``."""
    given = {key: int(value) for key, value in _given(spec or {}, SCALING_KEYS).items()}
    lo = given.setdefault("min", profile.min_capacity)
    given.setdefault("max", max(profile.max_capacity, lo))
    given.setdefault("desired", lo)
    return Scaling(**given)


def resolve_core(spec: Mapping[str, Any], profile: Profile, *, default_port: int = DEFAULT_PORT,
                 default_grace_period: int = HealthCheck.grace_period) -> CoreSpec:
    """The core spec of a validated ``spec`` with the pattern's default port and grace period and the
    profile's capacity; explicit values win, and what is left out takes the :class:`CoreSpec` field's default."""
    given = _given(spec, ("expose", "secrets_kms_keys"))
    if "secrets_kms_keys" in given:
        given["secrets_kms_keys"] = tuple(given["secrets_kms_keys"])
    return CoreSpec(
        port=int(spec["port"]) if spec.get("port") is not None else default_port,
        health_check=resolve_health_check(spec.get("health_check"), grace_period=default_grace_period),
        scaling=resolve_scaling(spec.get("scaling"), profile),
        environment={k: environment_value(v) for k, v in (spec.get("environment") or {}).items()},
        secrets=dict(spec.get("secrets") or {}),
        tags=dict(spec.get("tags") or {}),
        **given,
    )


def environment_value(value: Any) -> str:
    """A variable's text as the stack file wrote it: YAML's ``true`` stays ``"true"`` (``str`` would
    give ``"True"``, which programs comparing with ``"true"`` read as false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def standard_tags(service: str, environment: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags on every resource: ``Service``, ``Environment``, ``ManagedBy``, then the user's tags (which win)."""
    tags = {"Service": service, "Environment": environment, "ManagedBy": "pulumi"}
    tags.update(extra or {})
    return tags
