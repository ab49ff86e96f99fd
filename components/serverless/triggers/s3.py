"""The ``s3`` trigger: object events of a bucket (one the function creates, private and encrypted, or an
existing one by name or ARN). S3 keeps one notification configuration per bucket, so a created bucket's
is written once every trigger on it is known, and existing buckets' go to a collector
(:class:`~components.serverless.notifications.S3Notifications`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ...blocks.access import normalize_bucket
from ...validation import Problems, is_unknown, join_path
from ..artifacts import secure_bucket
from ..notifications import S3Notifications
from .base import AsyncTrigger, TriggerContext

__all__ = ["BUCKET_NAME_PATTERN", "DEFAULT_EVENTS", "S3Trigger", "S3TriggerArgs", "build_notifications",
           "normalize_bucket", "s3_filters_overlap"]

DEFAULT_EVENTS = ("s3:ObjectCreated:*",)
S3_EVENT_PATTERN = (r"s3:(ObjectCreated:(\*|Put|Post|Copy|CompleteMultipartUpload)"
                    r"|ObjectRemoved:(\*|Delete|DeleteMarkerCreated)|ObjectRestore:(\*|Post|Completed|Delete)"
                    r"|ObjectTagging:(\*|Put|Delete)|ObjectAcl:Put|LifecycleExpiration:(\*|Delete|DeleteMarkerCreated)"
                    r"|LifecycleTransition|IntelligentTiering|ReducedRedundancyLostObject"
                    r"|Replication:(\*|OperationFailedReplication|OperationMissedThreshold"
                    r"|OperationReplicatedAfterThreshold|OperationNotTracked))")
BUCKET_NAME_PATTERN = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"


class S3TriggerArgs(TypedDict):
    """An ``s3`` trigger."""

    bucket: NotRequired[str]
    """An existing bucket's name or ARN. Default: a new private, encrypted, TLS-only bucket
    ``<name>-bucket`` (versioned in staging and prod), shared by the function's ``s3`` triggers."""
    events: NotRequired[Sequence[str]]
    """S3 event types. Default: ``s3:ObjectCreated:*``."""
    prefix: NotRequired[str]
    """Only keys starting with this. Default: every key."""
    suffix: NotRequired[str]
    """Only keys ending with this. Default: every key."""
    retries: NotRequired[int]
    """Retries of a failed invocation, 0-2, shared by the function's asynchronous triggers. Default: 2."""
    max_event_age: NotRequired[int]
    """Seconds an event may wait, 60-21600, shared likewise. Default: 21600."""
    on_failure: NotRequired[str]
    """SQS queue or SNS topic ARN for events that still fail, shared likewise. Default: a new encrypted queue."""


def s3_filters_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two S3 notification filters (raw ``s3`` trigger entries) can match the same object for the
    same event, which S3 rejects ("Configurations overlap")."""
    events_a = [str(e) for e in a.get("events") or DEFAULT_EVENTS]
    events_b = [str(e) for e in b.get("events") or DEFAULT_EVENTS]

    def event_overlap(x: str, y: str) -> bool:
        if x == y:
            return True
        return (x.endswith(":*") and y.startswith(x[:-1])) or (y.endswith(":*") and x.startswith(y[:-1]))

    if not any(event_overlap(x, y) for x in events_a for y in events_b):
        return False
    pa, pb = str(a.get("prefix") or ""), str(b.get("prefix") or "")
    sa, sb = str(a.get("suffix") or ""), str(b.get("suffix") or "")
    return (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa))


@dataclass(frozen=True)
class S3Trigger(AsyncTrigger):
    kind: ClassVar[str] = "s3"
    keys: ClassVar[tuple[str, ...]] = tuple(S3TriggerArgs.__annotations__)

    bucket: str | None = None
    events: Sequence[str] = DEFAULT_EVENTS
    prefix: str | None = None
    suffix: str | None = None

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        problems = Problems()
        bucket = body.get("bucket")
        if isinstance(bucket, str):
            problems.check_str(normalize_bucket(bucket), join_path(path, "bucket"), BUCKET_NAME_PATTERN,
                               "an S3 bucket name (3-63 lowercase letters, digits, '.' and '-') or its ARN")
        elif bucket is not None and not is_unknown(bucket):
            problems.add(join_path(path, "bucket"),
                         f"must be a bucket name or ARN (omit it to create a bucket), got {bucket!r}")
        events = body.get("events")
        ep = join_path(path, "events")
        if problems.check_list(events, ep) and isinstance(events, (list, tuple)):
            if not events:
                problems.add(ep, "needs at least one event, e.g. s3:ObjectCreated:*")
            for j, ev in enumerate(events):
                problems.check_str(ev, join_path(ep, j), S3_EVENT_PATTERN, "an S3 event type such as s3:ObjectCreated:*")
        problems.check_str(body.get("prefix"), join_path(path, "prefix"), max_len=1024)
        problems.check_str(body.get("suffix"), join_path(path, "suffix"), max_len=1024)
        problems.extend(cls.check_async(body, path))
        return problems

    def build(self, ctx: TriggerContext, index: int) -> None:
        label = ctx.label(self.kind)
        config = {"lambda_function_arn": ctx.alias.arn, "events": sorted(self.events)}
        config.update({k: v for k, v in (("filter_prefix", self.prefix), ("filter_suffix", self.suffix)) if v})
        if self.bucket is None:
            bucket_arn: pulumi.Input[str] = self._created_bucket(ctx).arn
        else:
            bucket_arn = ctx.account.arn("s3", normalize_bucket(self.bucket), regional=False)
        permission = aws.lambda_.Permission(
            f"{label}-invoke", action="lambda:InvokeFunction", function=ctx.function.name, qualifier=ctx.alias.name,
            principal="s3.amazonaws.com", source_arn=bucket_arn, source_account=ctx.account.id, opts=ctx.opts)
        if self.bucket is None:
            ctx.created_bucket_configs.append((config, permission))
        else:
            if ctx.s3_notifications is None and ctx.own_notifications is None:
                ctx.own_notifications = S3Notifications()
            target = ctx.s3_notifications if ctx.s3_notifications is not None else ctx.own_notifications
            target.add(normalize_bucket(self.bucket), ctx.name, index, config, [permission])
        self.add_async(ctx)

    @staticmethod
    def _created_bucket(ctx: TriggerContext) -> aws.s3.Bucket:
        """The function's own bucket (:func:`~components.serverless.artifacts.secure_bucket`), created by its
        first ``s3`` trigger without ``bucket``; its notification waits for the bucket's last setting."""
        if ctx.created_bucket is None:
            bucket, ready = secure_bucket(ctx.name, tags=ctx.tags, opts=ctx.opts, protect_opts=ctx.protect_opts,
                                          versioning=ctx.profile.versioning)
            ctx.created_bucket, ctx.created_bucket_ready = bucket, ready
            ctx.outputs["bucket"] = bucket.bucket
        return ctx.created_bucket


def build_notifications(ctx: TriggerContext) -> None:
    """Once every trigger is built: the created bucket's one notification, and the existing buckets'
    unless a stack-wide collector writes them."""
    if ctx.created_bucket_configs:
        aws.s3.BucketNotification(
            f"{ctx.name}-bucket-notify", bucket=ctx.created_bucket.id,
            lambda_functions=[c for c, _ in ctx.created_bucket_configs],
            opts=pulumi.ResourceOptions.merge(ctx.opts, pulumi.ResourceOptions(
                depends_on=[p for _, p in ctx.created_bucket_configs] + ctx.created_bucket_ready)))
    if ctx.own_notifications is not None:
        ctx.own_notifications.build(f"{ctx.name}-", ctx.opts)
