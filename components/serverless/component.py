"""``LambdaService``: a function with reproducible packaging, a ``live`` alias, safe deploys and its triggers.

Catalog pattern ``lambda``: the stack entry is :class:`LambdaServiceArgs`. The building parts live in
:mod:`components.serverless` (spec and validation, packaging, schedule expressions, the shared
:class:`~components.serverless.http_api.HttpApi`, the triggers).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from .blocks.access import Account, access_statements
from .blocks.iam import (
    assume_role_policy,
    policy_document,
    secret_read_statements,
)
from .blocks.logs import log_group
from .blocks.load_balancer import network_value
from .blocks.tags import PUBLIC_URL_TAG
from .patterns import BuildContext, Pattern, ValidationContext
from .profiles import Profile, get_profile
from .serverless.artifacts import ArtifactStore
from .blocks.aws_api import stack_settings
from .serverless.deployment import LambdaDeployment, deployment_minutes
from .serverless.http_api import HttpApi, HttpApiArgs
from .serverless.notifications import S3Notifications, claim_bucket
from .serverless.packaging import Package, archive_sizes, build_package, content_sha256, size_problems
from .serverless.spec import (
    DEFAULT_HANDLERS,
    LAMBDA_DEFAULTS,
    MAX_AUTHORIZERS_PER_API,
    MAX_INTEGRATIONS_PER_API,
    deployment_config_name,
    fitted_deployment_config,
    normalize_bucket,
    parse_route,
    preflight_routes,
    python_version,
    s3_filters_overlap,
    secret_variable,
    validate_lambda,
)
from .serverless.triggers import TriggerContext, attach_deferred, build_triggers
from .blocks.service import environment_value, standard_tags
from .validation import Problems, join_path

__all__ = ["HttpApi", "HttpApiArgs", "LambdaService", "LambdaServiceArgs", "PATTERN", "S3Notifications",
           "validate_lambda"]

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
CODEDEPLOY_LAMBDA = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"
ALIAS = "live"
NAME_PATTERN = r"[a-z]([-a-z0-9]*[a-z0-9])?"
#: 63 (S3 bucket names) - len("-artifacts-bucket") - 8 (Pulumi's random suffix with its dash).
NAME_MAX = 38
#: Added to the configuration's traffic-shifting time to bound the wait for a deployment.
DEPLOY_MARGIN_MINUTES = 15
#: CodeDeploy fails a lifecycle hook that has not reported after 3600 seconds (CodeDeploy quotas).
HOOK_MINUTES = 60


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
    ``schedule`` (see the README). Default: none (invoked directly)."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every resource. Default: none."""


class LambdaService(pulumi.ComponentResource):
    """A function published as versions behind a ``live`` alias, with its role, logs, alarms and triggers."""

    function_name: pulumi.Output[str]
    """Name of the function."""
    function_arn: pulumi.Output[str]
    """ARN of the function (unqualified)."""
    alias_arn: pulumi.Output[str]
    """ARN of the ``live`` alias, which every trigger invokes."""
    role_arn: pulumi.Output[str]
    """ARN of the execution role."""
    log_group_name: pulumi.Output[str]
    """``/aws/lambda/<function>``."""
    http_api: HttpApi | None
    """The HTTP API its ``http`` trigger uses (its own or the shared one), else None."""
    package: Package | None
    """The ZIP built from ``code`` (None for other sources)."""
    deployment: LambdaDeployment | None
    """The CodeDeploy deployment of the published version (None without ``deployment_config``): its
    ``status`` (``current``, ``succeeded`` or ``failed_before``), ``live_version``, ``deployment_id`` and
    ``reason``."""
    outputs: dict[str, Any]
    """Everything above plus ``api_endpoint``, ``function_url``, ``bucket``, ``streams``, ``tables`` and
    ``queues`` when triggers create them: what the platform exports for this service."""

    def __init__(self, name: str, args: LambdaServiceArgs, opts: pulumi.ResourceOptions | None = None, *,
                 network: Any = None, profile: Profile | str | None = None, project_dir: Path | str | None = None,
                 http_api: HttpApi | None = None, s3_notifications: S3Notifications | None = None,
                 artifacts: ArtifactStore | None = None):
        """``network``: a :class:`~components.Network` or a dict of its outputs, needed with ``vpc: true``.
        ``http_api``: a shared :class:`HttpApi` for the ``http`` trigger (default: the service creates its
        own). ``s3_notifications``: a stack-wide collector for triggers on existing buckets (default: the
        service writes each bucket's notification itself). ``artifacts``: the bucket staging ``code`` and
        ``zip`` packages (default: the service creates ``<name>-artifacts-bucket``)."""
        args = dict(args or {})
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        problems = validate_lambda(name, args, path=name, project_dir=pdir)
        if not re.fullmatch(NAME_PATTERN, name) or len(name) > NAME_MAX:
            # Child names carry an 8-character random suffix: `<name>-artifacts-bucket-1a2b3c4` must stay a
            # valid S3 bucket name (lowercase, at most 63), `<name>-deploy-role-...` an IAM role name (64).
            problems.add(name, f"component name {name!r} must be lowercase letters, digits and '-', starting with a "
                               f"letter, at most {NAME_MAX} characters (AWS names derived from it: S3 buckets, IAM "
                               "roles, Lambda functions)")
        if args.get("vpc") and network is None:
            problems.add(join_path(name, "vpc"), "needs the stack's network (pass network=)")
        http = _http_trigger(args)
        if http is not None and http_api is not None and not problems:
            routes = list(http.get("routes") or [])
            problems.extend(http_api.claim(name, routes + preflight_routes(routes, http_api.cors, http.get("authorizer")),
                                           join_path(name, "triggers", http["_index"], "http", "routes")))
        if s3_notifications is None and not problems:
            for i, trig in enumerate(args.get("triggers") or []):
                body = trig.get("s3") if isinstance(trig, Mapping) else None
                if isinstance(body, Mapping) and isinstance(body.get("bucket"), str):
                    bucket = normalize_bucket(body["bucket"])
                    holder = claim_bucket(bucket, name)
                    if holder is not None:
                        problems.add(join_path(name, "triggers", i, "s3", "bucket"),
                                     f"bucket {bucket!r} already gets its notification configuration from {holder!r}; "
                                     "S3 keeps one per bucket, so each would replace the other's triggers. Pass one "
                                     "S3Notifications() as s3_notifications= to both and call its build() once")
        problems.raise_if_any()
        runtime = args.get("runtime", LAMBDA_DEFAULTS["runtime"])
        architecture = args.get("architecture", LAMBDA_DEFAULTS["architecture"])
        # Built before registering anything, so a failed pip install leaves nothing half-created.
        self.package = build_package(name, pdir / args["code"], project_dir=pdir,
                                     python_version=python_version(runtime),
                                     architecture=architecture) if args.get("code") else None
        if self.package is not None:
            built = Problems()
            for message in size_problems(archive_sizes(self.package.path)[1]):
                built.add(join_path(name, "code"), f"{message} (dependencies included)")
            built.raise_if_any()
        super().__init__("microservices:lambda:LambdaService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=prof.protect)
        tags = standard_tags(name, prof.name, args.get("tags"))
        timeout = int(args.get("timeout", LAMBDA_DEFAULTS["timeout"]))
        account = Account(self)

        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
                            tags=tags, opts=child)
        attachments = [aws.iam.RolePolicyAttachment(
            f"{name}-execution", role=role.name, policy_arn=VPC_EXECUTION if args.get("vpc") else BASIC_EXECUTION,
            opts=child)]
        tracing = args.get("tracing", LAMBDA_DEFAULTS["tracing"])
        if tracing:
            attachments.append(aws.iam.RolePolicyAttachment(f"{name}-xray", role=role.name, policy_arn=XRAY_WRITE,
                                                            opts=child))

        vpc_config = None
        if args.get("vpc"):
            sg = aws.ec2.SecurityGroup(
                f"{name}-sg", description=f"{name} Lambda function: no inbound traffic",
                vpc_id=network_value(network, "vpc_id"), ingress=[],
                egress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"],
                         "description": "HTTPS to AWS APIs and the internet"},
                        {"protocol": "-1", "from_port": 0, "to_port": 0,
                         "cidr_blocks": [network_value(network, "vpc_cidr")], "description": "Anything in the VPC"}],
                tags=tags, opts=child)
            vpc_config = {"subnet_ids": network_value(network, "private_subnet_ids"), "security_group_ids": [sg.id]}

        variables = {k: environment_value(v) for k, v in sorted((args.get("environment") or {}).items())}
        variables.update({secret_variable(k): v for k, v in sorted((args.get("secrets") or {}).items())})
        source: dict[str, Any] = {}
        if self.package is not None or args.get("zip"):
            # Staged in S3 under the hash of its content: only new content updates the code (and publishes a
            # version), whatever zlib compressed it on whichever machine runs `pulumi up`.
            path = self.package.path if self.package is not None else pdir / args["zip"]
            content = self.package.content_sha256 if self.package is not None else content_sha256(path)
            store = artifacts if artifacts is not None else ArtifactStore.create(f"{name}-artifacts", prof, tags, child)
            staged = store.upload(name, path, content, child)
            source = {"s3_bucket": staged.bucket, "s3_key": staged.key,
                      "source_code_hash": base64.b64encode(bytes.fromhex(content)).decode()}
        elif args.get("s3"):
            s3 = args["s3"]
            source = {"s3_bucket": s3["bucket"], "s3_key": s3["key"], "s3_object_version": s3.get("object_version")}
        else:
            source = {"image_uri": args["image"]}
        image = args.get("package_type", "zip") == "image"
        # Marks a deliberate public URL for reviewers and for the policy pack's lambda-url-iam-auth rule.
        fn_tags = {**tags, PUBLIC_URL_TAG: "true"} if any(
            isinstance(t, Mapping) and isinstance(t.get("url"), Mapping) and t["url"].get("public") is True
            for t in args.get("triggers") or []) else tags
        language = next((lang for lang in DEFAULT_HANDLERS if runtime.startswith(lang)), None)
        fn = aws.lambda_.Function(
            f"{name}-fn", role=role.arn, package_type="Image" if image else "Zip",
            runtime=None if image else runtime,
            handler=None if image else args.get("handler", DEFAULT_HANDLERS.get(language or "", None)),
            architectures=[architecture], memory_size=args.get("memory", LAMBDA_DEFAULTS["memory"]), timeout=timeout,
            ephemeral_storage={"size": args.get("ephemeral_storage", LAMBDA_DEFAULTS["ephemeral_storage"])},
            environment={"variables": variables} if variables else None,
            reserved_concurrent_executions=args.get("reserved_concurrency"),
            tracing_config={"mode": "Active" if tracing else "PassThrough"}, vpc_config=vpc_config, publish=True,
            tags=fn_tags, **source, opts=pulumi.ResourceOptions(parent=self, depends_on=attachments))
        logs = log_group(f"{name}-logs", prof, name=fn.name.apply(lambda n: f"/aws/lambda/{n}"),
                         retention_days=args.get("log_retention_days"), tags=tags, opts=child)

        short = args.get("deployment_config")
        config_name = deployment_config_name(short) if short else fitted_deployment_config(
            prof.lambda_deployment_config, args.get("triggers"))
        # With CodeDeploy, the alias is created on the first version and moved only by CodeDeploy after.
        alias = aws.lambda_.Alias(
            f"{name}-live", name=ALIAS, function_name=fn.name, function_version=fn.version,
            description="Version receiving traffic; every trigger invokes it",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs],
                                        ignore_changes=["functionVersion", "routingConfig"] if config_name else None))

        qualified = pulumi.Output.concat(fn.name, ":", ALIAS)
        alarm_actions = list(prof.alarm_actions)
        errors = aws.cloudwatch.MetricAlarm(
            f"{name}-errors", namespace="AWS/Lambda", metric_name="Errors", statistic="Sum", period=60,
            evaluation_periods=1, threshold=1, comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching", dimensions={"FunctionName": fn.name, "Resource": qualified},
            alarm_description=f"{name}: invocations of the live alias fail (drives CodeDeploy rollback)",
            alarm_actions=alarm_actions, ok_actions=alarm_actions, tags=tags, opts=child)
        aws.cloudwatch.MetricAlarm(
            f"{name}-throttles", namespace="AWS/Lambda", metric_name="Throttles", statistic="Sum", period=60,
            evaluation_periods=1, threshold=1, comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching", dimensions={"FunctionName": fn.name, "Resource": qualified},
            alarm_description=f"{name}: invocations are throttled (concurrency exhausted)",
            alarm_actions=alarm_actions, ok_actions=alarm_actions, tags=tags, opts=child)

        def make_http_api(body: Mapping[str, Any]) -> HttpApi:
            return HttpApi(f"{name}-http", {k: body[k] for k in ("cors", "throttle") if body.get(k) is not None},
                           child, profile=prof)

        ctx = TriggerContext(name=name, profile=prof, tags=tags, timeout=timeout, function=fn, alias=alias,
                             opts=child, account=account, protect_opts=stateful, http_api=http_api,
                             make_http_api=make_http_api, s3_notifications=s3_notifications)
        build_triggers(ctx, list(args.get("triggers") or []))

        statements = secret_read_statements((args.get("secrets") or {}).values(),
                                            kms_keys=args.get("secrets_kms_keys") or ())
        statements += access_statements(args.get("access") or {}, account)
        statements += ctx.statements
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy_document(statements),
                                    opts=child) if statements else None
        attach_deferred(ctx, policy)

        for label, queue in ctx.queues_to_watch:
            aws.cloudwatch.MetricAlarm(
                f"{label}-depth", namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                statistic="Maximum", period=60, evaluation_periods=1, threshold=0,
                comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
                dimensions={"QueueName": queue.name},
                alarm_description=f"{name}: failed events are waiting in {label}",
                alarm_actions=alarm_actions, ok_actions=alarm_actions, tags=tags, opts=child)

        self.deployment = None
        if config_name:
            self.deployment = self._codedeploy(name, config_name, fn, alias, errors, account, tags, child,
                                               redeploy=args.get("redeploy"),
                                               pre_traffic_hook=args.get("pre_traffic_hook"))

        self.function_name = fn.name
        self.function_arn = fn.arn
        self.alias_arn = alias.arn
        self.role_arn = role.arn
        self.log_group_name = logs.name
        self.http_api = ctx.http_api
        self.outputs = {"function_name": fn.name, "function_arn": fn.arn, "alias_arn": alias.arn,
                        "role_arn": role.arn, "log_group": logs.name, **ctx.outputs}
        self.register_outputs(self.outputs)

    def _codedeploy(self, name: str, config_name: str, fn: aws.lambda_.Function, alias: aws.lambda_.Alias,
                    errors: aws.cloudwatch.MetricAlarm, account: Account, tags: dict[str, str],
                    child: pulumi.ResourceOptions, *, redeploy: Any = None,
                    pre_traffic_hook: str | None = None) -> LambdaDeployment:
        role = aws.iam.Role(f"{name}-deploy-role", assume_role_policy=assume_role_policy("codedeploy.amazonaws.com"),
                            tags=tags, opts=child)
        attachment = aws.iam.RolePolicyAttachment(f"{name}-deploy-policy", role=role.name,
                                                  policy_arn=CODEDEPLOY_LAMBDA, opts=child)
        app = aws.codedeploy.Application(f"{name}-deploy", compute_platform="Lambda", tags=tags, opts=child)
        group = aws.codedeploy.DeploymentGroup(
            f"{name}-deploy-group", app_name=app.name, deployment_group_name=name, service_role_arn=role.arn,
            deployment_config_name=config_name,
            deployment_style={"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"},
            auto_rollback_configuration={"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
            alarm_configuration={"enabled": True, "alarms": [errors.name]}, tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]))
        return LambdaDeployment(f"{name}-deployment", {
            "application": app.name, "group": group.deployment_group_name, "function": fn.name,
            "alias": alias.name, "version": fn.version, "redeploy": str(redeploy or ""),
            "pre_traffic_hook": pre_traffic_hook or "",
            # CodeDeploy gives a BeforeAllowTraffic hook up to an hour to report before failing the deployment.
            "timeout_seconds": (deployment_minutes(config_name) + DEPLOY_MARGIN_MINUTES
                                + (HOOK_MINUTES if pre_traffic_hook else 0)) * 60,
            # The provider calls AWS with the stack's own credentials settings, so the deployment lands in the
            # account and region Pulumi just updated, not in the machine's default profile.
            **stack_settings(account.region),
        }, opts=child)


def _http_trigger(args: Mapping[str, Any]) -> dict[str, Any] | None:
    for i, trig in enumerate(args.get("triggers") or []):
        if isinstance(trig, Mapping) and "http" in trig and isinstance(trig["http"], Mapping):
            return {**trig["http"], "_index": i}
    return None


# -- the catalog pattern ------------------------------------------------------------------------
def _validate(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_lambda(name, spec, path, vctx.project_dir)


def _http_entries(specs: Mapping[str, Mapping[str, Any]]):
    for svc in sorted(specs):
        spec = specs[svc]
        if not isinstance(spec, Mapping) or not isinstance(spec.get("triggers"), (list, tuple)):
            continue
        for i, trig in enumerate(spec["triggers"]):
            if isinstance(trig, Mapping) and isinstance(trig.get("http"), Mapping):
                yield svc, i, trig["http"]


def _validate_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
    """Rules across services: a route claimed twice on a shared API, disagreeing settings of a shared API,
    overlapping S3 notifications on one bucket."""
    problems = Problems()
    claimed: dict[tuple[str, str], str] = {}
    settings: dict[tuple[str, str], tuple[Any, str]] = {}
    api_cors: dict[str, Any] = {}
    for svc, i, body in _http_entries(specs):
        if body.get("cors") is not None:
            api_cors.setdefault(str(body.get("api", svc)), body["cors"])
    authorizers: dict[str, list[str]] = {}
    integrations: dict[str, list[str]] = {}
    for svc, i, body in _http_entries(specs):
        api = str(body.get("api", svc))
        base = join_path("services", svc, "triggers", i, "http")
        integrations.setdefault(api, []).append(svc)
        if body.get("authorizer") is not None:
            authorizers.setdefault(api, []).append(base)
        routes = list(body.get("routes") or []) if isinstance(body.get("routes"), (list, tuple)) else []
        preflight = preflight_routes(routes, api_cors.get(api), body.get("authorizer"))
        for j, route in enumerate(routes + preflight):
            if not isinstance(route, str) or (route != "$default" and parse_route(route) is None):
                continue
            holder = claimed.get((api, route))
            if holder is not None and holder != svc:
                where = join_path(base, "routes", j) if j < len(routes) else join_path(base, "routes")
                what = f"route {route!r}" if j < len(routes) else f"the preflight route {route!r} (CORS with a JWT authorizer)"
                problems.add(where, f"{what} on HTTP API {api!r} is already claimed by service {holder!r}")
            claimed.setdefault((api, route), svc)
        for key in ("cors", "throttle"):
            if body.get(key) is None:
                continue
            seen = settings.get((api, key))
            if seen is not None and seen[0] != body[key]:
                problems.add(join_path(base, key), f"HTTP API {api!r} is shared: its {key} must be the same in every "
                                                   f"service, but differs from {seen[1]}")
            settings.setdefault((api, key), (body[key], join_path(base, key)))
    for api, paths in sorted(authorizers.items()):
        if len(paths) > MAX_AUTHORIZERS_PER_API:
            problems.add(paths[MAX_AUTHORIZERS_PER_API], f"HTTP API {api!r} would get {len(paths)} JWT authorizers (one "
                                                         f"per service); API Gateway allows {MAX_AUTHORIZERS_PER_API} "
                                                         "per API: split the services over several APIs")
    for api, services in sorted(integrations.items()):
        if len(services) > MAX_INTEGRATIONS_PER_API:
            problems.add(join_path("services", services[MAX_INTEGRATIONS_PER_API], "triggers"),
                         f"HTTP API {api!r} would get {len(services)} integrations (one per service); API Gateway "
                         f"allows {MAX_INTEGRATIONS_PER_API} per API (not adjustable)")
    s3: dict[str, list[tuple[str, Mapping[str, Any], str]]] = {}
    for svc in sorted(specs):
        spec = specs[svc]
        if not isinstance(spec, Mapping) or not isinstance(spec.get("triggers"), (list, tuple)):
            continue
        for i, trig in enumerate(spec["triggers"]):
            body = trig.get("s3") if isinstance(trig, Mapping) else None
            if not isinstance(body, Mapping) or not isinstance(body.get("bucket"), str):
                continue
            bucket = normalize_bucket(body["bucket"])
            here = join_path("services", svc, "triggers", i, "s3")
            for other_svc, other, other_path in s3.get(bucket, []):
                if other_svc != svc and s3_filters_overlap(body, other):
                    problems.add(here, f"events, prefix and suffix overlap {other_path} on bucket {bucket}; S3 "
                                       "rejects overlapping notifications for the same event")
            s3.setdefault(bucket, []).append((svc, body, here))
    return problems


@dataclass
class LambdaState:
    """What the ``lambda`` services of one stack share while building."""

    apis: dict[str, HttpApi] = field(default_factory=dict)
    """The HTTP APIs that ``http`` triggers name (``api``, default the function's name), by name."""
    s3: S3Notifications = field(default_factory=S3Notifications)
    """Every ``s3`` trigger's notification, built as one notification per bucket once all are known."""
    artifacts: ArtifactStore | None = None
    """The bucket of ZIP packages, when a function is built from ``code`` or ``zip``."""


def _prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    apis: dict[str, dict[str, Any]] = {}
    for svc, _, body in _http_entries(specs):
        merged = apis.setdefault(str(body.get("api", svc)), {})
        for key in ("cors", "throttle"):
            if body.get(key) is not None:
                merged.setdefault(key, body[key])
    state = ctx.state(LambdaState)
    state.apis = {
        api: HttpApi(f"{api}-http", settings, pulumi.ResourceOptions(parent=ctx.parent), profile=ctx.profile)
        for api, settings in sorted(apis.items())}
    if any(isinstance(spec, Mapping) and (spec.get("code") or spec.get("zip")) for spec in specs.values()):
        state.artifacts = ArtifactStore.create(
            "lambda-artifacts", ctx.profile, standard_tags("lambda-artifacts", ctx.profile.name),
            pulumi.ResourceOptions(parent=ctx.parent))


def _build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> LambdaService:
    http = _http_trigger(spec)
    state = ctx.state(LambdaState)
    service = LambdaService(
        name, dict(spec), pulumi.ResourceOptions(parent=ctx.parent),
        network=ctx.network if spec.get("vpc") else None, profile=ctx.profile, project_dir=ctx.project_dir,
        http_api=state.apis.get(str(http.get("api", name))) if http else None,
        s3_notifications=state.s3, artifacts=state.artifacts)
    ctx.outputs[name] = service.outputs
    return service


def _finalize(ctx: BuildContext) -> None:
    ctx.state(LambdaState).s3.build("lambda-", pulumi.ResourceOptions(parent=ctx.parent))


PATTERN = Pattern(
    name="lambda", validate=_validate, build=_build, validate_catalog=_validate_catalog, prepare=_prepare,
    finalize=_finalize, needs_network=lambda spec: bool(spec.get("vpc")),
    local_skip_reason="Lambda functions need AWS (Lambda, API Gateway, EventBridge); the local profile runs "
                      "only long-running services on a Docker host",
)
