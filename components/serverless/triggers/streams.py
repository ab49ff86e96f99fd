"""What the stream triggers (``kinesis``, ``dynamodb``) share: the mapping's settings with their failure
defaults (bisect, bounded retries and age, partial batch responses, an on-failure destination), their
validation, read access to that one stream, and an iterator age alarm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ...blocks.iam import statement
from ...validation import Problems, is_unknown, join_path
from .base import Trigger, TriggerContext, check_filters, check_on_failure, event_filter_criteria, sid

__all__ = ["StreamArgs", "StreamTrigger"]


class StreamArgs(TypedDict):
    """The event source mapping of a stream trigger."""

    batch_size: NotRequired[int]
    """Records per invocation, 1-10000. Default: 100."""
    batching_window: NotRequired[int]
    """Seconds to gather a batch, 0-300. Default: none (invoke as soon as records arrive)."""
    starting_position: NotRequired[str]
    """``LATEST`` | ``TRIM_HORIZON`` (Kinesis also ``AT_TIMESTAMP``). Default: ``LATEST``."""
    parallelization: NotRequired[int]
    """Concurrent batches per shard, 1-10. Default: 1."""
    bisect_on_error: NotRequired[bool]
    """Split a failing batch in two and retry each half. Default: true."""
    max_retries: NotRequired[int]
    """Retries of a failing batch, -1 (until the record expires) to 10000. Default: 10."""
    max_record_age: NotRequired[int]
    """Seconds after which a record is sent to ``on_failure`` instead, -1 or 60-604800. Default: 86400."""
    on_failure: NotRequired[str]
    """SQS queue or SNS topic ARN for records that still fail. Default: a new encrypted queue."""
    report_batch_item_failures: NotRequired[bool]
    """The function may report which records failed, so only those are retried. Default: true."""
    filters: NotRequired[Sequence[Any]]
    """Event filter patterns (mappings or their JSON), at most 10. Default: none (every record)."""


@dataclass(frozen=True)
class StreamTrigger(Trigger):
    """A Kinesis or DynamoDB stream read through an event source mapping."""

    POSITIONS: ClassVar[tuple[str, ...]]
    READ_ACTIONS: ClassVar[list[str]]

    batch_size: int = 100
    batching_window: int | None = None
    starting_position: str = "LATEST"
    parallelization: int = 1
    bisect_on_error: bool = True
    max_retries: int = 10
    max_record_age: int = 86400
    on_failure: str | None = None
    report_batch_item_failures: bool = True
    filters: Sequence[Any] | None = None

    @classmethod
    def check_stream(cls, body: Mapping[str, Any], path: str) -> Problems:
        problems = Problems()
        problems.check_int(body.get("batch_size"), join_path(path, "batch_size"), 1, 10000)
        problems.check_int(body.get("batching_window"), join_path(path, "batching_window"), 0, 300, "seconds")
        problems.check_enum(body.get("starting_position"), join_path(path, "starting_position"), cls.POSITIONS)
        problems.check_int(body.get("parallelization"), join_path(path, "parallelization"), 1, 10)
        problems.check_bool(body.get("bisect_on_error"), join_path(path, "bisect_on_error"))
        problems.check_int(body.get("max_retries"), join_path(path, "max_retries"), -1, 10000)
        age = body.get("max_record_age")
        if problems.check_int(age, join_path(path, "max_record_age"), -1, 604800, "seconds") and \
                age is not None and not is_unknown(age) and 0 <= age < 60:
            problems.add(join_path(path, "max_record_age"),
                         f"must be -1 (no limit) or between 60 and 604800 seconds, got {age}")
        problems.check_bool(body.get("report_batch_item_failures"), join_path(path, "report_batch_item_failures"))
        problems.extend(check_on_failure(body.get("on_failure"), join_path(path, "on_failure")))
        problems.extend(check_filters(body.get("filters"), join_path(path, "filters")))
        return problems

    def mapping_args(self) -> dict[str, Any]:
        return dict(
            batch_size=self.batch_size,
            maximum_batching_window_in_seconds=self.batching_window,
            starting_position=self.starting_position,
            parallelization_factor=self.parallelization,
            bisect_batch_on_function_error=self.bisect_on_error,
            maximum_retry_attempts=self.max_retries,
            maximum_record_age_in_seconds=self.max_record_age,
            function_response_types=["ReportBatchItemFailures"] if self.report_batch_item_failures else None,
            filter_criteria=event_filter_criteria(self.filters),
        )

    def consume(self, ctx: TriggerContext, label: str, arn: pulumi.Input[str]) -> None:
        """Read access to that stream only, a mapping with the failure defaults and an on-failure
        destination (created once the role may use them), and an iterator age alarm."""
        ctx.statements.append(statement(self.READ_ACTIONS, [arn], sid=sid(label, "Read")))
        destination = ctx.on_failure_arn(self.on_failure, label)
        ctx.deferred.append(lambda opts: aws.lambda_.EventSourceMapping(
            f"{label}-mapping", event_source_arn=arn, function_name=ctx.alias.arn,
            destination_config={"on_failure": {"destination_arn": destination}},
            **self.mapping_args(), tags=ctx.tags, opts=opts))
        ctx.alarms.append(aws.cloudwatch.MetricAlarm(
            f"{label}-iterator-age", namespace="AWS/Lambda", metric_name="IteratorAge", statistic="Maximum",
            period=60, evaluation_periods=5, threshold=60000, comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_description=f"{ctx.name}: records wait over a minute before {ctx.name} processes them",
            dimensions={"FunctionName": ctx.function.name,
                        "Resource": pulumi.Output.concat(ctx.function.name, ":", ctx.alias.name)},
            alarm_actions=list(ctx.profile.alarm_actions), ok_actions=list(ctx.profile.alarm_actions),
            tags=ctx.tags, opts=ctx.opts))
