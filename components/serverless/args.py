"""The ``lambda`` pattern's args (:class:`LambdaServiceArgs`, the stack-file entry) and the settings they
resolve into once (:class:`LambdaSettings`, whose fields carry the defaults)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NotRequired, TypedDict

from ..blocks.service import environment_value
from .triggers import Trigger, resolve_triggers
from .triggers.http import HttpTrigger
from .triggers.url import UrlTrigger

__all__ = ["ALIAS", "DEFAULT_HANDLERS", "LambdaServiceArgs", "LambdaSettings", "SPARSE_TRIGGERS",
           "deployment_config_name", "resolve_lambda", "secret_variable"]

#: The alias every trigger invokes; CodeDeploy moves it from version to version.
ALIAS = "live"
#: The conventional entry point of each language with one (others need ``handler``).
DEFAULT_HANDLERS = {"python": "handler.handler", "nodejs": "index.handler"}
#: Triggers that may not fire at all during a canary window (a nightly schedule, a rare upload); the others
#: (http, url, kinesis, dynamodb, sqs) keep invoking the function while a canary runs.
SPARSE_TRIGGERS = ("schedule", "s3")


class LambdaServiceArgs(TypedDict):
    """A Lambda function, its code and its triggers. Exactly one of ``code``, ``zip``, ``s3``, ``image``."""

    code: NotRequired[str]
    """A directory (relative to the project) packaged into a reproducible ZIP, with its ``requirements.txt``
    vendored for the function's architecture and Python version (binary wheels only). Default: none."""
    zip: NotRequired[str]
    """A prebuilt local ``.zip`` (relative to the project). Default: none."""
    s3: NotRequired[Mapping[str, str]]
    """A prebuilt ZIP in S3: ``bucket``, ``key``, optional ``object_version``. Default: none."""
    image: NotRequired[str]
    """An ECR image URI (``ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG`` or ``@sha256:...``), with
    ``package_type: image``. Default: none."""
    package_type: NotRequired[str]
    """``zip`` | ``image``. Default: ``zip``."""
    runtime: NotRequired[str]
    """A runtime Lambda still accepts for new functions: until the date AWS blocks function creation with it
    (``RUNTIME_BLOCK_CREATE``). Default: ``python3.13``."""
    handler: NotRequired[str]
    """Entry point. Default: ``handler.handler`` for Python, ``index.handler`` for Node.js; required otherwise."""
    architecture: NotRequired[str]
    """``arm64`` | ``x86_64``. Default: ``arm64`` (cheaper per GB-second)."""
    memory: NotRequired[int]
    """Memory in MB, 128-10240. Default: 256."""
    timeout: NotRequired[int]
    """Seconds, 1-900; at most 30 with an ``http`` trigger. Default: 10."""
    ephemeral_storage: NotRequired[int]
    """``/tmp`` size in MB, 512-10240. Default: 512."""
    environment: NotRequired[Mapping[str, str]]
    """Plain variables; with the secrets' ARN variables at most 4 KB in total. Default: none."""
    secrets: NotRequired[Mapping[str, str]]
    """Variable name -> SSM parameter or Secrets Manager ARN. The role may read exactly these; the function
    gets ``<NAME>_SECRET_ARN`` and reads the value at run time, never as plaintext in its configuration.
    Default: none."""
    secrets_kms_keys: NotRequired[Sequence[str]]
    """ARNs of the customer-managed KMS keys that encrypt ``secrets``: the role may ``kms:Decrypt`` with them,
    only through Secrets Manager or SSM. Default: none (secrets under AWS managed keys need no grant)."""
    reserved_concurrency: NotRequired[int]
    """Reserved concurrent executions, 0 or more (0 stops every invocation). Default: unreserved."""
    tracing: NotRequired[bool]
    """X-Ray active tracing. Default: true."""
    log_retention_days: NotRequired[int]
    """Retention of ``/aws/lambda/<function>``. Default: the profile's (dev 7, staging 30, prod 365)."""
    vpc: NotRequired[bool]
    """Run in the network's private subnets with its own security group (no ingress; egress HTTPS anywhere
    and anything inside the VPC). Default: false (no VPC)."""
    deployment_config: NotRequired[str]
    """CodeDeploy traffic shifting to new versions: ``Canary10Percent5Minutes`` (and 10/15/30 minutes),
    ``Linear10PercentEvery1Minute`` (2, 3, 10 minutes) or ``AllAtOnce``; rolled back when the error alarm
    fires. Default: the profile's (staging and prod ``Canary10Percent5Minutes``; dev none: the alias
    points straight at the new version), except ``AllAtOnce`` with the same alarms for a function whose
    triggers are only ``schedule`` and ``s3`` (a canary window may see no invocation of it)."""
    pre_traffic_hook: NotRequired[str]
    """A function CodeDeploy invokes before shifting any traffic (AppSpec ``BeforeAllowTraffic``), which
    tests the new version and reports with ``PutLifecycleEventHookExecutionStatus``; its name must start with
    ``CodeDeployHook_``. Default: none."""
    redeploy: NotRequired[str]
    """Any token; a new value deploys the current version again through CodeDeploy even though it failed
    its last deployment (a failed version is otherwise never deployed again). Default: none."""
    access: NotRequired[Mapping[str, Mapping[str, str]]]
    """Least-privilege access to other resources, by name or ARN: ``buckets``/``tables``/``streams``:
    ``read | write | read_write``; ``queues``: ``consume | send | consume_send``. Default: none."""
    triggers: NotRequired[Sequence[Mapping[str, Any]]]
    """Event sources, each with one key: ``http``, ``url``, ``s3``, ``kinesis``, ``dynamodb``, ``sqs``,
    ``schedule``, whose value takes that kind's args (``HttpTriggerArgs``... in
    ``components/serverless/triggers/<kind>.py``). Default: none (invoked directly)."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every resource. Default: none."""
    routes: NotRequired[Sequence[str | Mapping[str, Any]]]
    """Routes of the stack's API gateway (``microservices:gateway``) that lead to this service: route keys
    (``GET /orders/{id}``, ``ANY /orders/{proxy+}``) or mappings with ``route``, ``throttle``, ``scopes`` and
    ``authorization`` (see ``components.gateway.RouteArgs``). Each is a Lambda proxy integration (payload 2.0)
    on the ``live`` alias, with a permission for the gateway's API. Default: none."""


def deployment_config_name(short: str) -> str:
    """CodeDeploy's name of a predefined Lambda configuration: ``Canary10Percent5Minutes`` ->
    ``CodeDeployDefault.LambdaCanary10Percent5Minutes``."""
    return f"CodeDeployDefault.Lambda{short}"


def secret_variable(name: str) -> str:
    """The environment variable holding a secret's ARN: the function reads the value at run time."""
    return f"{name}_SECRET_ARN"


def language_of(runtime: str) -> str | None:
    """``python`` or ``nodejs`` (the languages with a conventional handler) for a runtime, else None."""
    return next((lang for lang in DEFAULT_HANDLERS if str(runtime).startswith(lang)), None)


@dataclass(frozen=True)
class LambdaSettings:
    """A validated :class:`LambdaServiceArgs` with every default filled in (see each arg's docstring)."""

    code: str | None = None
    zip: str | None = None
    s3: Mapping[str, str] | None = None
    image: str | None = None
    package_type: str = "zip"
    runtime: str = "python3.13"
    handler: str | None = None
    """The entry point; resolved to the language's conventional one when not given."""
    architecture: str = "arm64"
    memory: int = 256
    timeout: int = 10
    ephemeral_storage: int = 512
    environment: Mapping[str, str] = field(default_factory=dict)
    """Plain variables as text (YAML's ``true`` stays ``"true"``)."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    secrets_kms_keys: Sequence[str] = ()
    reserved_concurrency: int | None = None
    tracing: bool = True
    log_retention_days: int | None = None
    """None: the profile's."""
    vpc: bool = False
    deployment_config: str | None = None
    """The short CodeDeploy configuration given; None: the profile's, fitted to the triggers."""
    pre_traffic_hook: str | None = None
    redeploy: str | None = None
    access: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    triggers: tuple[Trigger, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_image(self) -> bool:
        return self.package_type == "image"

    @property
    def python_version(self) -> str | None:
        """``"python3.13" -> "3.13"``; None for other languages."""
        return self.runtime.removeprefix("python") if self.runtime.startswith("python") else None

    @property
    def http(self) -> tuple[int, HttpTrigger] | None:
        """The ``http`` trigger (a function has one at most) and its index in ``triggers``."""
        return next(((i, t) for i, t in enumerate(self.triggers) if isinstance(t, HttpTrigger)), None)

    @property
    def public_url(self) -> bool:
        """Whether a ``url`` trigger makes the function public on purpose."""
        return any(isinstance(t, UrlTrigger) and t.public is True for t in self.triggers)

    def codedeploy_config(self, profile_config: str | None) -> str | None:
        """CodeDeploy's configuration for new versions: the one given, else the profile's fitted to the
        triggers. A function invoked only by schedules or S3 events may see no invocation during a canary, so
        the alarm would have no data and the version would be promoted unchecked; it deploys all at once
        instead (same alarms, same rollback), and a ``pre_traffic_hook`` is what tests it before traffic.
        Functions without triggers are invoked by other code, so they keep the canary."""
        if self.deployment_config:
            return deployment_config_name(self.deployment_config)
        if not profile_config:
            return None
        kinds = {t.kind for t in self.triggers}
        if kinds and kinds <= set(SPARSE_TRIGGERS):
            return deployment_config_name("AllAtOnce")
        return profile_config


def resolve_lambda(spec: Mapping[str, Any]) -> LambdaSettings:
    """The settings of a validated ``lambda`` spec; keys set to null take the default."""
    # `routes` are the stack gateway's to resolve (components/gateway), not the function's settings.
    given = {k: v for k, v in spec.items() if v is not None and k not in ("triggers", "routes")}
    base = LambdaSettings(**given)
    language = language_of(base.runtime)
    return replace(
        base,
        handler=base.handler if base.handler is not None else DEFAULT_HANDLERS.get(language or ""),
        timeout=int(base.timeout),
        environment={k: environment_value(v) for k, v in base.environment.items()},
        secrets=dict(base.secrets),
        secrets_kms_keys=tuple(base.secrets_kms_keys),
        triggers=resolve_triggers(spec.get("triggers")),
    )
