"""The ``sqs`` trigger: an SQS queue (created encrypted with a dead-letter queue, or brought by name or ARN)
consumed through an event source mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ...blocks.iam import statement
from ...validation import Problems, is_unknown, join_path
from .base import FAILURE_QUEUE_RETENTION, Trigger, TriggerContext, check_filters, event_filter_criteria, sid

__all__ = ["SQS_CONSUME", "SqsTrigger", "SqsTriggerArgs"]

SQS_CONSUME = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
QUEUE_PATTERN = r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,75}(\.fifo)?|[A-Za-z0-9_-]{1,75}(\.fifo)?"


class SqsTriggerArgs(TypedDict):
    """An ``sqs`` trigger."""

    queue: NotRequired[str]
    """An existing queue's name or ARN. Default: a new encrypted queue with a dead-letter queue."""
    fifo: NotRequired[bool]
    """Create a FIFO queue (an existing queue's ``.fifo`` name says it). Default: false."""
    visibility_timeout: NotRequired[int]
    """Seconds, 0-43200, at least 6 times the function timeout; required for an existing queue (its
    ``VisibilityTimeout``). Default for a created queue: 6 times the function timeout."""
    batch_size: NotRequired[int]
    """Messages per invocation, 1-10000 (10 for FIFO); above 10 needs ``batching_window``. Default: 10."""
    batching_window: NotRequired[int]
    """Seconds to gather a batch, 0-300 (not for FIFO). Default: none."""
    report_batch_item_failures: NotRequired[bool]
    """The function may report which messages failed, so only those return to the queue. Default: true."""
    max_concurrency: NotRequired[int]
    """Concurrent invocations the queue may drive, 2-1000. Default: unlimited (the function's concurrency)."""
    max_receive_count: NotRequired[int]
    """Receives before a message moves to the created queue's dead-letter queue, 1-1000. Default: 5."""
    filters: NotRequired[Sequence[Any]]
    """Event filter patterns (mappings or their JSON), at most 10. Default: none (every message)."""


@dataclass(frozen=True)
class SqsTrigger(Trigger):
    kind: ClassVar[str] = "sqs"
    keys: ClassVar[tuple[str, ...]] = tuple(SqsTriggerArgs.__annotations__)

    queue: str | None = None
    fifo: bool = False
    visibility_timeout: int | None = None
    batch_size: int = 10
    batching_window: int | None = None
    report_batch_item_failures: bool = True
    max_concurrency: int | None = None
    max_receive_count: int = 5
    filters: Sequence[Any] | None = None

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        problems = Problems()
        queue = body.get("queue")
        problems.check_str(queue, join_path(path, "queue"), QUEUE_PATTERN, "a queue name or ARN (omit it to create a queue)")
        problems.check_bool(body.get("fifo"), join_path(path, "fifo"))
        existing = isinstance(queue, str)
        if existing and body.get("fifo") is not None:
            problems.add(join_path(path, "fifo"), "is read from the existing queue's name (.fifo); only for a created queue")
        fifo = queue.endswith(".fifo") if existing else bool(body.get("fifo"))
        batch = body.get("batch_size")
        window = body.get("batching_window")
        if problems.check_int(batch, join_path(path, "batch_size"), 1, 10 if fifo else 10000) and \
                isinstance(batch, int) and batch > 10 and not window:
            problems.add(join_path(path, "batching_window"),
                         f"must be at least 1 second when batch_size is above 10 (given batch_size {batch})")
        if problems.check_int(window, join_path(path, "batching_window"), 0, 300, "seconds") and fifo and window is not None:
            problems.add(join_path(path, "batching_window"), "is not supported for FIFO queues")
        problems.check_bool(body.get("report_batch_item_failures"), join_path(path, "report_batch_item_failures"))
        problems.check_int(body.get("max_concurrency"), join_path(path, "max_concurrency"), 2, 1000)
        problems.check_int(body.get("max_receive_count"), join_path(path, "max_receive_count"), 1, 1000)
        if existing and body.get("max_receive_count") is not None:
            problems.add(join_path(path, "max_receive_count"), "only applies to a created queue's redrive policy")
        problems.extend(check_filters(body.get("filters"), join_path(path, "filters")))
        problems.extend(cls._check_visibility(body.get("visibility_timeout"), join_path(path, "visibility_timeout"),
                                              existing, timeout))
        return problems

    @staticmethod
    def _check_visibility(vis: Any, path: str, existing: bool, timeout: Any) -> Problems:
        problems = Problems()
        if problems.check_int(vis, path, 0, 43200, "seconds"):
            if existing and vis is None:
                problems.add(path, "is required for an existing queue (its VisibilityTimeout), so that the rule "
                                   "'at least 6 times the function timeout' can be checked")
            elif vis is not None and timeout is not None and not is_unknown(timeout) and vis < 6 * timeout:
                problems.add(path, f"must be at least 6 times the function timeout ({6 * timeout} seconds for "
                                   f"timeout {timeout}), got {vis}; otherwise messages are redelivered while still "
                                   "in flight")
        return problems

    def build(self, ctx: TriggerContext, index: int) -> None:
        label = ctx.label(self.kind)
        if self.queue is None:
            arn: pulumi.Input[str] = self._create_queue(ctx, label)
        elif self.queue.startswith("arn:"):
            arn = self.queue
        else:
            arn = ctx.account.arn("sqs", self.queue)
        ctx.statements.append(statement(SQS_CONSUME, [arn], sid=sid(label, "Consume")))
        ctx.deferred.append(lambda opts: aws.lambda_.EventSourceMapping(
            f"{label}-mapping", event_source_arn=arn, function_name=ctx.alias.arn, batch_size=self.batch_size,
            maximum_batching_window_in_seconds=self.batching_window,
            function_response_types=["ReportBatchItemFailures"] if self.report_batch_item_failures else None,
            scaling_config={"maximum_concurrency": self.max_concurrency} if self.max_concurrency else None,
            filter_criteria=event_filter_criteria(self.filters), tags=ctx.tags, opts=opts))

    def _create_queue(self, ctx: TriggerContext, label: str) -> pulumi.Output[str]:
        """An encrypted queue, its dead-letter queue (watched by an alarm) and the queue's URL as an output."""
        dlq = aws.sqs.Queue(f"{label}-dlq", sqs_managed_sse_enabled=True, fifo_queue=self.fifo or None,
                            message_retention_seconds=FAILURE_QUEUE_RETENTION, tags=ctx.tags, opts=ctx.protect_opts)
        ctx.queues_to_watch.append((f"{label}-dlq", dlq))
        visibility = max(6 * ctx.timeout, self.visibility_timeout or 0)
        max_receive_count = self.max_receive_count
        queue = aws.sqs.Queue(
            label, sqs_managed_sse_enabled=True, fifo_queue=self.fifo or None, visibility_timeout_seconds=visibility,
            redrive_policy=dlq.arn.apply(lambda a: json.dumps(
                {"deadLetterTargetArn": a, "maxReceiveCount": max_receive_count}, sort_keys=True)),
            tags=ctx.tags, opts=ctx.protect_opts)
        ctx.outputs.setdefault("queues", []).append(queue.url)
        return queue.arn
