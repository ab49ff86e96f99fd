"""``LambdaService``: a function with reproducible packaging, a ``live`` alias, safe deploys and its triggers.

The catalog's ``lambda`` pattern: the stack entry is :class:`~.args.LambdaServiceArgs`, validated by
:func:`~.validate.validate_lambda` and resolved once into :class:`~.args.LambdaSettings`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.access import Account, access_statements
from ..blocks.aws_api import stack_settings
from ..blocks.iam import assume_role_policy, policy_document, secret_read_statements
from ..blocks.load_balancer import network_value
from ..blocks.logs import log_group
from ..blocks.service import standard_tags
from ..blocks.tags import PUBLIC_URL_TAG
from ..profiles import Profile, get_profile
from ..validation import Problems, join_path
from .args import ALIAS, LambdaServiceArgs, LambdaSettings, resolve_lambda, secret_variable
from .artifacts import ArtifactStore
from .deployment import LambdaDeployment, deployment_minutes
from ..blocks.http_routes import preflight_routes
from .http_api import HttpApi
from .notifications import S3Notifications, claim_bucket
from .packaging import Package, archive_sizes, build_package, content_sha256, size_problems
from .triggers import TriggerContext, attach_deferred, build_triggers
from .triggers.s3 import S3Trigger, normalize_bucket
from .validate import validate_component_name, validate_lambda

__all__ = ["LambdaService"]

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
CODEDEPLOY_LAMBDA = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"
#: Added to the configuration's traffic-shifting time to bound the wait for a deployment.
DEPLOY_MARGIN_MINUTES = 15
#: CodeDeploy fails a lifecycle hook that has not reported after 3600 seconds (CodeDeploy quotas).
HOOK_MINUTES = 60


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
        spec = dict(args or {})
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        settings = _check(name, spec, pdir, network=network, http_api=http_api, s3_notifications=s3_notifications)
        # Built before registering anything, so a failed pip install leaves nothing half-created.
        self.package = _build_package(name, settings, pdir)
        super().__init__("microservices:lambda:LambdaService", name, None, opts)
        self._service, self._settings, self._profile = name, settings, prof
        self._child = pulumi.ResourceOptions(parent=self)
        self._tags = standard_tags(name, prof.name, settings.tags)
        self._account = Account(self)

        role, attachments = self._role()
        vpc_config = self._vpc_config(network)
        fn = self._function(role, attachments, vpc_config, self._source(pdir, artifacts))
        logs = log_group(f"{name}-logs", prof, name=fn.name.apply(lambda n: f"/aws/lambda/{n}"),
                         retention_days=settings.log_retention_days, tags=self._tags, opts=self._child)
        config_name = settings.codedeploy_config(prof.lambda_deployment_config)
        # With CodeDeploy, the alias is created on the first version and moved only by CodeDeploy after.
        alias = aws.lambda_.Alias(
            f"{name}-live", name=ALIAS, function_name=fn.name, function_version=fn.version,
            description="Version receiving traffic; every trigger invokes it",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs],
                                        ignore_changes=["functionVersion", "routingConfig"] if config_name else None))
        errors = self._function_alarms(fn)
        ctx = self._triggers(fn, alias, role, http_api, s3_notifications)

        self.deployment = None
        if config_name:
            self.deployment = self._codedeploy(config_name, fn, alias, errors)
        self.function_name = fn.name
        self.function_arn = fn.arn
        self.alias_arn = alias.arn
        self.role_arn = role.arn
        self.log_group_name = logs.name
        self.http_api = ctx.http_api
        self.outputs = {"function_name": fn.name, "function_arn": fn.arn, "alias_arn": alias.arn,
                        "role_arn": role.arn, "log_group": logs.name, **ctx.outputs}
        self.register_outputs(self.outputs)

    def _role(self) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        name, child = self._service, self._child
        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
                            tags=self._tags, opts=child)
        attachments = [aws.iam.RolePolicyAttachment(
            f"{name}-execution", role=role.name, policy_arn=VPC_EXECUTION if self._settings.vpc else BASIC_EXECUTION,
            opts=child)]
        if self._settings.tracing:
            attachments.append(aws.iam.RolePolicyAttachment(f"{name}-xray", role=role.name, policy_arn=XRAY_WRITE,
                                                            opts=child))
        return role, attachments

    def _vpc_config(self, network: Any) -> dict[str, Any] | None:
        """Private subnets and a security group without ingress, with ``vpc: true``."""
        if not self._settings.vpc:
            return None
        sg = aws.ec2.SecurityGroup(
            f"{self._service}-sg", description=f"{self._service} Lambda function: no inbound traffic",
            vpc_id=network_value(network, "vpc_id"), ingress=[],
            egress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"],
                     "description": "HTTPS to AWS APIs and the internet"},
                    {"protocol": "-1", "from_port": 0, "to_port": 0,
                     "cidr_blocks": [network_value(network, "vpc_cidr")], "description": "Anything in the VPC"}],
            tags=self._tags, opts=self._child)
        return {"subnet_ids": network_value(network, "private_subnet_ids"), "security_group_ids": [sg.id]}

    def _source(self, pdir: Path, artifacts: ArtifactStore | None) -> dict[str, Any]:
        """The function's code arguments: a staged ZIP, a ZIP already in S3, or an image."""
        s = self._settings
        if self.package is not None or s.zip:
            # Staged in S3 under the hash of its content: only new content updates the code (and publishes a
            # version), whatever zlib compressed it on whichever machine runs `pulumi up`.
            path = self.package.path if self.package is not None else pdir / s.zip
            content = self.package.content_sha256 if self.package is not None else content_sha256(path)
            store = artifacts if artifacts is not None else ArtifactStore.create(
                f"{self._service}-artifacts", self._profile, self._tags, self._child)
            staged = store.upload(self._service, path, content, self._child)
            return {"s3_bucket": staged.bucket, "s3_key": staged.key,
                    "source_code_hash": base64.b64encode(bytes.fromhex(content)).decode()}
        if s.s3:
            return {"s3_bucket": s.s3["bucket"], "s3_key": s.s3["key"], "s3_object_version": s.s3.get("object_version")}
        return {"image_uri": s.image}

    def _function(self, role: aws.iam.Role, attachments: list[pulumi.Resource], vpc_config: dict[str, Any] | None,
                  source: dict[str, Any]) -> aws.lambda_.Function:
        s = self._settings
        variables = dict(sorted(s.environment.items()))
        variables.update({secret_variable(k): v for k, v in sorted(s.secrets.items())})
        # Marks a deliberate public URL for reviewers and for the policy pack's lambda-url-iam-auth rule.
        fn_tags = {**self._tags, PUBLIC_URL_TAG: "true"} if s.public_url else self._tags
        return aws.lambda_.Function(
            f"{self._service}-fn", role=role.arn, package_type="Image" if s.is_image else "Zip",
            runtime=None if s.is_image else s.runtime, handler=None if s.is_image else s.handler,
            architectures=[s.architecture], memory_size=s.memory, timeout=s.timeout,
            ephemeral_storage={"size": s.ephemeral_storage},
            environment={"variables": variables} if variables else None,
            reserved_concurrent_executions=s.reserved_concurrency,
            tracing_config={"mode": "Active" if s.tracing else "PassThrough"}, vpc_config=vpc_config, publish=True,
            tags=fn_tags, **source, opts=pulumi.ResourceOptions(parent=self, depends_on=attachments))

    def _alarm(self, resource_name: str, description: str, **metric: Any) -> aws.cloudwatch.MetricAlarm:
        actions = list(self._profile.alarm_actions)
        return aws.cloudwatch.MetricAlarm(
            resource_name, period=60, evaluation_periods=1, treat_missing_data="notBreaching",
            alarm_description=f"{self._service}: {description}", alarm_actions=actions, ok_actions=actions,
            tags=self._tags, opts=self._child, **metric)

    def _function_alarms(self, fn: aws.lambda_.Function) -> aws.cloudwatch.MetricAlarm:
        """Errors (which drives CodeDeploy's rollback, returned) and throttles of the live alias."""
        dimensions = {"FunctionName": fn.name, "Resource": pulumi.Output.concat(fn.name, ":", ALIAS)}
        errors = self._alarm(
            f"{self._service}-errors", "invocations of the live alias fail (drives CodeDeploy rollback)",
            namespace="AWS/Lambda", metric_name="Errors", statistic="Sum", threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold", dimensions=dimensions)
        self._alarm(
            f"{self._service}-throttles", "invocations are throttled (concurrency exhausted)",
            namespace="AWS/Lambda", metric_name="Throttles", statistic="Sum", threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold", dimensions=dimensions)
        return errors

    def _triggers(self, fn: aws.lambda_.Function, alias: aws.lambda_.Alias, role: aws.iam.Role,
                  http_api: HttpApi | None, s3_notifications: S3Notifications | None) -> TriggerContext:
        """Every trigger, the role's policy (secrets, ``access`` and what the triggers need), then what
        Lambda checks that policy for, and an alarm on each queue holding failed events."""
        name, child, s = self._service, self._child, self._settings
        ctx = TriggerContext(
            name=name, profile=self._profile, tags=self._tags, timeout=s.timeout, function=fn, alias=alias,
            opts=child, account=self._account,
            protect_opts=pulumi.ResourceOptions(parent=self, protect=self._profile.protect),
            http_api=http_api, s3_notifications=s3_notifications,
            make_http_api=lambda api_args: HttpApi(f"{name}-http", api_args, child, profile=self._profile))
        build_triggers(ctx, s.triggers)
        statements = secret_read_statements(s.secrets.values(), kms_keys=s.secrets_kms_keys)
        statements += access_statements(s.access, self._account)
        statements += ctx.statements
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy_document(statements),
                                    opts=child) if statements else None
        attach_deferred(ctx, policy)
        for label, queue in ctx.queues_to_watch:
            self._alarm(f"{label}-depth", f"failed events are waiting in {label}",
                        namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible", statistic="Maximum",
                        threshold=0, comparison_operator="GreaterThanThreshold",
                        dimensions={"QueueName": queue.name})
        return ctx

    def _codedeploy(self, config_name: str, fn: aws.lambda_.Function, alias: aws.lambda_.Alias,
                    errors: aws.cloudwatch.MetricAlarm) -> LambdaDeployment:
        name, child, tags, s = self._service, self._child, self._tags, self._settings
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
            "alias": alias.name, "version": fn.version, "redeploy": str(s.redeploy or ""),
            "pre_traffic_hook": s.pre_traffic_hook or "",
            # CodeDeploy gives a BeforeAllowTraffic hook up to an hour to report before failing the deployment.
            "timeout_seconds": (deployment_minutes(config_name) + DEPLOY_MARGIN_MINUTES
                                + (HOOK_MINUTES if s.pre_traffic_hook else 0)) * 60,
            # The provider calls AWS with the stack's own credentials settings, so the deployment lands in the
            # account and region Pulumi just updated, not in the machine's default profile.
            **stack_settings(self._account.region),
        }, opts=child)


def _check(name: str, spec: Mapping[str, Any], pdir: Path, *, network: Any, http_api: HttpApi | None,
           s3_notifications: S3Notifications | None) -> LambdaSettings:
    """The settings of the args, once every problem of them and of their place in the program is raised: the
    name, the network ``vpc`` needs, routes another service holds on a shared API, a bucket another
    component notifies alone."""
    problems = validate_lambda(name, spec, path=name, project_dir=pdir)
    problems.extend(validate_component_name(name))
    if spec.get("vpc") and network is None:
        problems.add(join_path(name, "vpc"), "needs the stack's network (pass network=)")
    settings = resolve_lambda(spec) if not problems else None
    if settings is not None:
        if settings.http is not None and http_api is not None:
            index, http = settings.http
            routes = list(http.routes)
            problems.extend(http_api.claim(name, routes + preflight_routes(routes, http_api.cors, http.authorizer),
                                           join_path(name, "triggers", index, "http", "routes")))
        if s3_notifications is None and not problems:
            problems.extend(_claim_buckets(name, settings))
    problems.raise_if_any()
    return settings


def _claim_buckets(name: str, settings: LambdaSettings) -> Problems:
    problems = Problems()
    for i, trigger in enumerate(settings.triggers):
        if isinstance(trigger, S3Trigger) and isinstance(trigger.bucket, str):
            bucket = normalize_bucket(trigger.bucket)
            holder = claim_bucket(bucket, name)
            if holder is not None:
                problems.add(join_path(name, "triggers", i, "s3", "bucket"),
                             f"bucket {bucket!r} already gets its notification configuration from {holder!r}; "
                             "S3 keeps one per bucket, so each would replace the other's triggers. Pass one "
                             "S3Notifications() as s3_notifications= to both and call its build() once")
    return problems


def _build_package(name: str, settings: LambdaSettings, pdir: Path) -> Package | None:
    """The ZIP of ``code``, checked against Lambda's size limits with its dependencies."""
    if not settings.code:
        return None
    package = build_package(name, pdir / settings.code, project_dir=pdir, python_version=settings.python_version,
                            architecture=settings.architecture)
    built = Problems()
    for message in size_problems(archive_sizes(package.path)[1]):
        built.add(join_path(name, "code"), f"{message} (dependencies included)")
    built.raise_if_any()
    return package
