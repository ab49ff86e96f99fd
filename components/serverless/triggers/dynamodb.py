"""The ``dynamodb`` trigger: a DynamoDB table's stream (a new table with its stream, or an existing stream by
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

__all__ = ["DDB_STREAM_READ", "DynamodbTrigger", "DynamodbTriggerArgs"]

DDB_STREAM_READ = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                   "dynamodb:ListStreams"]
STREAM_ARN_PATTERN = r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}/stream/\S+"


class DynamodbTriggerArgs(StreamArgs):
    """A ``dynamodb`` trigger."""

    stream_arn: NotRequired[str]
    """An existing table stream's ARN. Default: a new on-demand table (encrypted, point-in-time recovery,
    deletion protection per profile) with a ``NEW_AND_OLD_IMAGES`` stream."""
    hash_key: NotRequired[str]
    """The created table's string partition key. Default: ``id``."""


@dataclass(frozen=True)
class DynamodbTrigger(StreamTrigger):
    kind: ClassVar[str] = "dynamodb"
    keys: ClassVar[tuple[str, ...]] = tuple(DynamodbTriggerArgs.__annotations__)
    POSITIONS: ClassVar[tuple[str, ...]] = ("LATEST", "TRIM_HORIZON")
    READ_ACTIONS: ClassVar[list[str]] = DDB_STREAM_READ

    stream_arn: str | None = None
    hash_key: str = "id"

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        problems = Problems()
        problems.check_str(body.get("stream_arn"), join_path(path, "stream_arn"), STREAM_ARN_PATTERN,
                           "a DynamoDB stream ARN (omit it to create a table with a stream)")
        problems.check_str(body.get("hash_key"), join_path(path, "hash_key"), r"[A-Za-z0-9_.-]{1,255}",
                           "an attribute name")
        if body.get("stream_arn") is not None and body.get("hash_key") is not None:
            problems.add(join_path(path, "hash_key"), "only applies to a created table; not allowed with stream_arn")
        problems.extend(cls.check_stream(body, path))
        return problems

    def build(self, ctx: TriggerContext, index: int) -> None:
        label = ctx.label(self.kind)
        if self.stream_arn is None:
            table = aws.dynamodb.Table(
                f"{label}-table", billing_mode="PAY_PER_REQUEST", hash_key=self.hash_key,
                attributes=[{"name": self.hash_key, "type": "S"}], stream_enabled=True,
                stream_view_type="NEW_AND_OLD_IMAGES", server_side_encryption={"enabled": True},
                point_in_time_recovery={"enabled": True}, deletion_protection_enabled=ctx.profile.deletion_protection,
                tags=ctx.tags, opts=ctx.protect_opts)
            arn: pulumi.Input[str] = table.stream_arn
            ctx.outputs.setdefault("tables", []).append(table.name)
        else:
            arn = self.stream_arn
        self.consume(ctx, label, arn)
