"""What each trigger adds to a function: the event source (created securely, or brought by name or
ARN), the invoke permission scoped to it, the IAM statements it needs, and its alarms."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.access import Account
from ..blocks.iam import statement
from ..profiles import Profile
from .artifacts import secure_bucket
from .http_api import HttpApi, cors_configuration
from .notifications import S3Notifications
from .spec import ASYNC_DEFAULTS, SQS_DEFAULTS, STREAM_DEFAULTS, normalize_bucket

__all__ = ["TriggerContext", "attach_deferred", "build_triggers"]

FAILURE_QUEUE_RETENTION = 1209600  # 14 days, the SQS maximum: time to inspect and replay failures
STREAM_READ = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
               "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard"]
DDB_STREAM_READ = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
SQS_CONSUME = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]




@dataclass
class TriggerContext:
    """What the function gives its triggers, and what they give back."""

    name: str
    profile: Profile
    tags: dict[str, str]
    timeout: int
    function: aws.lambda_.Function
    alias: aws.lambda_.Alias
    opts: pulumi.ResourceOptions
    account: Account
    protect_opts: pulumi.ResourceOptions
    http_api: HttpApi | None = None
    make_http_api: Callable[[Mapping[str, Any]], HttpApi] | None = None
    s3_notifications: S3Notifications | None = None
    statements: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list)
    queues_to_watch: list[tuple[str, aws.sqs.Queue]] = field(default_factory=list)
    streams_consumed: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    async_settings: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    deferred: list[Callable[[pulumi.ResourceOptions], pulumi.Resource]] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)

    def label(self, kind: str) -> str:
        """``orders-kinesis`` for the first trigger of a kind, ``orders-kinesis-2`` for the second: adding
        a trigger of another kind never renames existing resources."""
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        return f"{self.name}-{kind}" if n == 1 else f"{self.name}-{kind}-{n}"

    def failure_queue(self, label: str, fifo: bool = False) -> aws.sqs.Queue:
        queue = aws.sqs.Queue(f"{label}-failures", sqs_managed_sse_enabled=True, fifo_queue=fifo or None,
                              message_retention_seconds=FAILURE_QUEUE_RETENTION, tags=self.tags,
                              opts=self.protect_opts)
        self.queues_to_watch.append((f"{label}-failures", queue))
        return queue

    def on_failure_arn(self, body: Mapping[str, Any], label: str) -> pulumi.Input[str]:
        """The given on-failure destination, or a new encrypted queue; the role may send to it."""
        given = body.get("on_failure")
        arn = given if given is not None else self.failure_queue(label).arn
        action = "sns:Publish" if isinstance(given, str) and ":sns:" in given else "sqs:SendMessage"
        self.statements.append(statement([action], [arn], sid=_sid(label, "OnFailure")))
        return arn


def _sid(label: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in label.replace("_", "-").split("-")) + suffix


def _stream_mapping_args(body: Mapping[str, Any]) -> dict[str, Any]:
    s = {**STREAM_DEFAULTS, **{k: v for k, v in body.items() if v is not None}}
    filters = [json.loads(f) if isinstance(f, str) else f for f in s.get("filters") or []]
    return dict(
        batch_size=s["batch_size"],
        maximum_batching_window_in_seconds=s.get("batching_window"),
        starting_position=s["starting_position"],
        starting_position_timestamp=s.get("starting_position_timestamp"),
        parallelization_factor=s["parallelization"],
        bisect_batch_on_function_error=s["bisect_on_error"],
        maximum_retry_attempts=s["max_retries"],
        maximum_record_age_in_seconds=s["max_record_age"],
        function_response_types=["ReportBatchItemFailures"] if s["report_batch_item_failures"] else None,
        filter_criteria={"filters": [{"pattern": json.dumps(f, sort_keys=True)} for f in filters]} if filters else None,
    )


def _iterator_age_alarm(ctx: TriggerContext, label: str) -> None:
    ctx.alarms.append(aws.cloudwatch.MetricAlarm(
        f"{label}-iterator-age", namespace="AWS/Lambda", metric_name="IteratorAge", statistic="Maximum",
        period=60, evaluation_periods=5, threshold=60000, comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="notBreaching",
        alarm_description=f"{ctx.name}: records wait over a minute before {ctx.name} processes them",
        dimensions={"FunctionName": ctx.function.name, "Resource": pulumi.Output.concat(ctx.function.name, ":", ctx.alias.name)},
        alarm_actions=list(ctx.profile.alarm_actions), ok_actions=list(ctx.profile.alarm_actions),
        tags=ctx.tags, opts=ctx.opts))


# -- the triggers -------------------------------------------------------------------------------
def _http(ctx: TriggerContext, body: Mapping[str, Any], index: int) -> None:
    api = ctx.http_api
    if api is None:
        api = ctx.make_http_api(body)
        ctx.http_api = api
    api.add_routes(
        ctx.name, function_name=ctx.function.name, alias_name=ctx.alias.name, alias_arn=ctx.alias.arn,
        routes=list(body["routes"]), authorizer=body.get("authorizer"), opts=ctx.opts)
    ctx.outputs["api_endpoint"] = api.api_endpoint


def _url(ctx: TriggerContext, body: Mapping[str, Any], index: int) -> None:
    label = ctx.label("url")
    auth = body.get("auth", "AWS_IAM")
    cors = cors_configuration(body.get("cors"))
    url = aws.lambda_.FunctionUrl(label, function_name=ctx.function.name, qualifier=ctx.alias.name,
                                  authorization_type=auth, invoke_mode=body.get("invoke_mode", "BUFFERED"),
                                  cors=cors, opts=ctx.opts)
    if auth == "NONE":
        # Public URLs need both grants since October 2025; each is scoped to calls through the URL.
        aws.lambda_.Permission(f"{label}-public", action="lambda:InvokeFunctionUrl", function=ctx.function.name,
                               qualifier=ctx.alias.name, principal="*", function_url_auth_type="NONE", opts=ctx.opts)
        aws.lambda_.Permission(f"{label}-public-invoke", action="lambda:InvokeFunction", function=ctx.function.name,
                               qualifier=ctx.alias.name, principal="*", invoked_via_function_url=True, opts=ctx.opts)
    ctx.outputs["function_url"] = url.function_url


def _secure_bucket(ctx: TriggerContext, label: str) -> aws.s3.Bucket:
    """The trigger's bucket (:func:`~components.serverless.artifacts.secure_bucket`), versioned in staging
    and prod; the bucket's notification waits for its last setting (``ctx.resources["s3:bucket-ready"]``)."""
    bucket, ready = secure_bucket(label, tags=ctx.tags, opts=ctx.opts, protect_opts=ctx.protect_opts,
                                  versioning=ctx.profile.versioning)
    ctx.resources["s3:bucket-ready"] = ready
    return bucket


def _s3(ctx: TriggerContext, body: Mapping[str, Any], index: int) -> None:
    label = ctx.label("s3")
    given = body.get("bucket")
    config_base = {"events": sorted(body.get("events") or ["s3:ObjectCreated:*"])}
    config_base.update({k: body[key] for k, key in (("filter_prefix", "prefix"), ("filter_suffix", "suffix"))
                        if body.get(key)})
    if given is None:
        created = ctx.resources.get("s3:bucket")
        if created is None:
            created = _secure_bucket(ctx, ctx.name)
            ctx.resources["s3:bucket"] = created
            ctx.outputs["bucket"] = created.bucket
        bucket_arn: pulumi.Input[str] = created.arn
    else:
        bucket_name = normalize_bucket(given)
        bucket_arn = ctx.account.arn("s3", bucket_name, regional=False)
    permission = aws.lambda_.Permission(f"{label}-invoke", action="lambda:InvokeFunction", function=ctx.function.name,
                                        qualifier=ctx.alias.name, principal="s3.amazonaws.com", source_arn=bucket_arn,
                                        source_account=ctx.account.id, opts=ctx.opts)
    config = {"lambda_function_arn": ctx.alias.arn, **config_base}
    if given is None:
        ctx.resources.setdefault("s3:created-configs", []).append((config, permission))  # type: ignore[union-attr]
    else:
        target = ctx.s3_notifications if ctx.s3_notifications is not None else ctx.resources.setdefault(
            "s3:own", S3Notifications())
        target.add(normalize_bucket(given), ctx.name, index, config, [permission])  # type: ignore[union-attr]
    ctx.async_settings.update({k: body[k] for k in ("retries", "max_event_age", "on_failure") if body.get(k) is not None})
    ctx.async_settings.setdefault("_used", True)


def _consume_stream(ctx: TriggerContext, body: Mapping[str, Any], label: str, arn: pulumi.Input[str],
                    read_actions: list[str]) -> None:
    """Kinesis and DynamoDB streams: read access to that stream only, a mapping with the failure
    defaults and an on-failure destination, and an iterator age alarm."""
    ctx.statements.append(statement(read_actions, [arn], sid=_sid(label, "Read")))
    destination = ctx.on_failure_arn(body, label)
    ctx.deferred.append(lambda opts: aws.lambda_.EventSourceMapping(
        f"{label}-mapping", event_source_arn=arn, function_name=ctx.alias.arn,
        destination_config={"on_failure": {"destination_arn": destination}},
        **_stream_mapping_args(body), tags=ctx.tags, opts=opts))
    _iterator_age_alarm(ctx, label)


def _kinesis(ctx: TriggerContext, body: Mapping[str, Any], index: int) -> None:
    label = ctx.label("kinesis")
    given = body.get("stream")
    if given is None:
        # On-demand in every environment: one provisioned shard (1 MB/s, 1,000 records/s in) would throttle
        # prod first, under the very load dev and staging never see. `shards` asks for a provisioned stream.
        shards = body.get("shards")
        mode = "PROVISIONED" if shards else "ON_DEMAND"
        stream = aws.kinesis.Stream(label, encryption_type="KMS", kms_key_id="alias/aws/kinesis", retention_period=24,
                                    stream_mode_details={"stream_mode": mode}, shard_count=shards, tags=ctx.tags,
                                    opts=ctx.protect_opts)
        arn: pulumi.Input[str] = stream.arn
        ctx.outputs.setdefault("streams", []).append(stream.name)
    else:
        arn = given if given.startswith("arn:") else ctx.account.arn("kinesis", f"stream/{given}")
    _consume_stream(ctx, body, label, arn, STREAM_READ)


def _dynamodb(ctx: TriggerContext, body: Mapping[str, Any], index: int) -> None:
    label = ctx.label("dynamodb")
    given = body.get("stream_arn")
    if given is None:
        key = body.get("hash_key", "id")
        table = aws.dynamodb.Table(
            f"{label}-table", billing_mode="PAY_PER_REQUEST", hash_key=key, attributes=[{"name": key, "type": "S"}],
            stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES", server_side_encryption={"enabled": True},
            point_in_time_recovery={"enabled": True}, deletion_protection_enabled=ctx.profile.deletion_protection,
            tags=ctx.tags, opts=ctx.protect_opts)
        arn: pulumi.Input[str] = table.stream_arn
        ctx.outputs.setdefault("tables", []).append(table.name)
    else:
        arn = given
    _consume_stream(ctx, body, label, arn, DDB_STREAM_READ)


def _sqs(ctx: TriggerContext, body: Mapping[str, Any], index: int) -> None:
    label = ctx.label("sqs")
    s = {**SQS_DEFAULTS, **{k: v for k, v in body.items() if v is not None}}
    given = body.get("queue")
    if given is None:
        fifo = bool(s.get("fifo"))
        dlq = aws.sqs.Queue(f"{label}-dlq", sqs_managed_sse_enabled=True, fifo_queue=fifo or None,
                            message_retention_seconds=FAILURE_QUEUE_RETENTION, tags=ctx.tags, opts=ctx.protect_opts)
        ctx.queues_to_watch.append((f"{label}-dlq", dlq))
        visibility = max(6 * ctx.timeout, s.get("visibility_timeout") or 0)
        queue = aws.sqs.Queue(
            label, sqs_managed_sse_enabled=True, fifo_queue=fifo or None, visibility_timeout_seconds=visibility,
            redrive_policy=dlq.arn.apply(lambda a: json.dumps(
                {"deadLetterTargetArn": a, "maxReceiveCount": s["max_receive_count"]}, sort_keys=True)),
            tags=ctx.tags, opts=ctx.protect_opts)
        arn: pulumi.Input[str] = queue.arn
        ctx.outputs.setdefault("queues", []).append(queue.url)
    else:
        arn = given if given.startswith("arn:") else ctx.account.arn("sqs", given)
    ctx.statements.append(statement(SQS_CONSUME, [arn], sid=_sid(label, "Consume")))
    filters = [json.loads(f) if isinstance(f, str) else f for f in s.get("filters") or []]
    ctx.deferred.append(lambda opts: aws.lambda_.EventSourceMapping(
        f"{label}-mapping", event_source_arn=arn, function_name=ctx.alias.arn, batch_size=s.get("batch_size", 10),
        maximum_batching_window_in_seconds=s.get("batching_window"),
        function_response_types=["ReportBatchItemFailures"] if s["report_batch_item_failures"] else None,
        scaling_config={"maximum_concurrency": s["max_concurrency"]} if s.get("max_concurrency") else None,
        filter_criteria={"filters": [{"pattern": json.dumps(f, sort_keys=True)} for f in filters]} if filters else None,
        tags=ctx.tags, opts=opts))


def _schedule(ctx: TriggerContext, body: Mapping[str, Any], index: int) -> None:
    label = ctx.label("schedule")
    rule = aws.cloudwatch.EventRule(label, schedule_expression=body["expression"].strip(),
                                    state="ENABLED" if body.get("enabled", True) else "DISABLED",
                                    description=f"{ctx.name}: {body['expression'].strip()}", tags=ctx.tags,
                                    opts=ctx.opts)
    payload = body.get("input")
    if payload is not None and not isinstance(payload, str):
        payload = json.dumps(payload, sort_keys=True)
    permission = aws.lambda_.Permission(f"{label}-invoke", action="lambda:InvokeFunction", function=ctx.function.name,
                                        qualifier=ctx.alias.name, principal="events.amazonaws.com",
                                        source_arn=rule.arn, opts=ctx.opts)
    aws.cloudwatch.EventTarget(f"{label}-target", rule=rule.name, arn=ctx.alias.arn, input=payload,
                               opts=pulumi.ResourceOptions.merge(ctx.opts, pulumi.ResourceOptions(depends_on=[permission])))
    ctx.async_settings.update({k: body[k] for k in ("retries", "max_event_age", "on_failure") if body.get(k) is not None})
    ctx.async_settings.setdefault("_used", True)


BUILDERS = {"http": _http, "url": _url, "s3": _s3, "kinesis": _kinesis, "dynamodb": _dynamodb, "sqs": _sqs,
            "schedule": _schedule}


def build_triggers(ctx: TriggerContext, triggers: list[Mapping[str, Any]]) -> None:
    """Build every trigger, then what they share: the created bucket's notification, the notifications
    of existing buckets (unless a stack-wide collector takes them) and the async invoke settings."""
    for index, trig in enumerate(triggers):
        kind, body = next(iter(trig.items()))
        BUILDERS[kind](ctx, body or {}, index)
    created = ctx.resources.get("s3:created-configs")
    if created:
        bucket = ctx.resources["s3:bucket"]
        aws.s3.BucketNotification(f"{ctx.name}-bucket-notify", bucket=bucket.id,
                                  lambda_functions=[c for c, _ in created],
                                  opts=pulumi.ResourceOptions.merge(ctx.opts, pulumi.ResourceOptions(
                                      depends_on=[p for _, p in created] + ctx.resources["s3:bucket-ready"])))
    own = ctx.resources.get("s3:own")
    if own is not None:
        own.build(f"{ctx.name}-", ctx.opts)
    if ctx.async_settings.pop("_used", False):
        s = {**ASYNC_DEFAULTS, **ctx.async_settings}
        destination = ctx.on_failure_arn(s, f"{ctx.name}-async")
        ctx.deferred.append(lambda opts: aws.lambda_.FunctionEventInvokeConfig(
            f"{ctx.name}-async", function_name=ctx.function.name, qualifier=ctx.alias.name,
            maximum_retry_attempts=s["retries"], maximum_event_age_in_seconds=s["max_event_age"],
            destination_config={"on_failure": {"destination": destination}}, opts=opts))


def attach_deferred(ctx: TriggerContext, policy: pulumi.Resource | None) -> None:
    """Create what Lambda checks the role's permissions for (event source mappings, async destinations)
    once the role's policy exists; AWS rejects them before."""
    opts = pulumi.ResourceOptions.merge(ctx.opts, pulumi.ResourceOptions(depends_on=[policy] if policy else []))
    for create in ctx.deferred:
        create(opts)
    ctx.deferred.clear()
