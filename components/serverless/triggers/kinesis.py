"""The ``kinesis`` trigger: a Kinesis data stream (created on demand and encrypted, or brought by name or
ARN) read through an event source mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NotRequired

import pulumi
import pulumi_aws as aws

from ...validation import Problems, join_path
from .base import TriggerContext
from .streams import StreamArgs, StreamTrigger

__all__ = ["KinesisTrigger", "KinesisTriggerArgs", "STREAM_READ"]

STREAM_READ = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
               "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard"]
STREAM_PATTERN = r"arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]{1,128}|[A-Za-z0-9_.-]{1,128}"
TIMESTAMP_PATTERN = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"


class KinesisTriggerArgs(StreamArgs):
    """A ``kinesis`` trigger."""

    stream: NotRequired[str]
    """An existing stream's name or ARN. Default: a new on-demand stream, KMS-encrypted, 24 hours retention."""
    shards: NotRequired[int]
    """Shards of a provisioned stream, for a created stream only. Default: none (on-demand)."""
    starting_position_timestamp: NotRequired[str]
    """RFC 3339 time to start from, required with (and only with) ``starting_position: AT_TIMESTAMP``.
    Default: none."""


@dataclass(frozen=True)
class KinesisTrigger(StreamTrigger):
    kind: ClassVar[str] = "kinesis"
    keys: ClassVar[tuple[str, ...]] = tuple(KinesisTriggerArgs.__annotations__)
    POSITIONS: ClassVar[tuple[str, ...]] = ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP")
    READ_ACTIONS: ClassVar[list[str]] = STREAM_READ

    stream: str | None = None
    shards: int | None = None
    starting_position_timestamp: str | None = None

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        problems = Problems()
        problems.check_str(body.get("stream"), join_path(path, "stream"), STREAM_PATTERN,
                           "a stream name or ARN (omit it to create a stream)")
        problems.check_int(body.get("shards"), join_path(path, "shards"), 1, None)
        if body.get("stream") is not None and body.get("shards") is not None:
            problems.add(join_path(path, "shards"), "only applies to a created stream; not allowed with stream")
        problems.extend(cls.check_stream(body, path))
        ts = body.get("starting_position_timestamp")
        if body.get("starting_position") == "AT_TIMESTAMP":
            if problems.require(body, "starting_position_timestamp", path, "an RFC 3339 time, with AT_TIMESTAMP"):
                problems.check_str(ts, join_path(path, "starting_position_timestamp"), TIMESTAMP_PATTERN,
                                   "an RFC 3339 time such as 2026-01-01T00:00:00Z")
        elif ts is not None:
            problems.add(join_path(path, "starting_position_timestamp"),
                         "is only allowed with starting_position AT_TIMESTAMP")
        return problems

    def mapping_args(self) -> dict[str, Any]:
        return {**super().mapping_args(), "starting_position_timestamp": self.starting_position_timestamp}

    def build(self, ctx: TriggerContext, index: int) -> None:
        label = ctx.label(self.kind)
        if self.stream is None:
            # On-demand in every environment: one provisioned shard (1 MB/s, 1,000 records/s in) would throttle
            # prod first, under the very load dev and staging never see. `shards` asks for a provisioned stream.
            mode = "PROVISIONED" if self.shards else "ON_DEMAND"
            stream = aws.kinesis.Stream(label, encryption_type="KMS", kms_key_id="alias/aws/kinesis",
                                        retention_period=24, stream_mode_details={"stream_mode": mode},
                                        shard_count=self.shards, tags=ctx.tags, opts=ctx.protect_opts)
            arn: pulumi.Input[str] = stream.arn
            ctx.outputs.setdefault("streams", []).append(stream.name)
        elif self.stream.startswith("arn:"):
            arn = self.stream
        else:
            arn = ctx.account.arn("kinesis", f"stream/{self.stream}")
        self.consume(ctx, label, arn)
