"""Declared AWS access of a workload: ``access: {buckets: {name: read}, tables: ..., queues: ..., streams: ...}``.

One vocabulary for every pattern that runs code with an IAM role (Lambda functions, Kubernetes pods through
Pod Identity): validated the same way, turned into least-privilege statements the same way, each naming
exactly the resources declared, never a wildcard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from ..validation import Problems, join_path
from .iam import statement

__all__ = ["ACCESS_ACTIONS", "ACCESS_KINDS", "Account", "access_statements", "normalize_bucket", "validate_access"]

ACCESS_KINDS = {"buckets": ("read", "write", "read_write"), "tables": ("read", "write", "read_write"),
                "queues": ("consume", "send", "consume_send"), "streams": ("read", "write", "read_write")}

ACCESS_ACTIONS = {
    "buckets": {"read": (["s3:GetObject"], ["s3:ListBucket"]),
                "write": (["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"], [])},
    "tables": {"read": ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
                        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
               "write": ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable",
                         "dynamodb:PutItem", "dynamodb:UpdateItem"]},
    "queues": {"consume": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                           "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
               "send": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]},
    "streams": {"read": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator",
                         "kinesis:ListShards"],
                "write": ["kinesis:DescribeStreamSummary", "kinesis:PutRecord", "kinesis:PutRecords"]},
}


class Account:
    """Account, region and partition of ``parent``'s AWS provider, looked up only when an ARN must be
    built from a name. The lookups go through ``parent`` so a component given another provider (another
    region or account) builds ARNs for that provider, not the default one."""

    def __init__(self, parent: pulumi.Resource | None = None) -> None:
        self._opts = pulumi.InvokeOutputOptions(parent=parent)
        self._identity = None
        self._region = None
        self._partition = None

    @property
    def id(self) -> pulumi.Output[str]:
        if self._identity is None:
            self._identity = aws.get_caller_identity_output(opts=self._opts)
        return self._identity.account_id

    @property
    def region(self) -> pulumi.Output[str]:
        if self._region is None:
            self._region = aws.get_region_output(opts=self._opts)
        return self._region.region

    @property
    def partition(self) -> pulumi.Output[str]:
        if self._partition is None:
            self._partition = aws.get_partition_output(opts=self._opts)
        return self._partition.partition

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        if regional:
            return pulumi.Output.concat("arn:", self.partition, f":{service}:", self.region, ":", self.id, ":", resource)
        return pulumi.Output.concat("arn:", self.partition, f":{service}:::", resource)


def normalize_bucket(bucket: str) -> str:
    """An S3 bucket ARN or name -> the name."""
    return bucket.removeprefix("arn:aws:s3:::").removeprefix("arn:aws-cn:s3:::").removeprefix("arn:aws-us-gov:s3:::")


def validate_access(access: Any, path: str, problems: Problems) -> None:
    if not problems.check_mapping(access, path) or not isinstance(access, Mapping):
        return
    problems.check_known_keys(access, ACCESS_KINDS, path)
    for kind, levels in ACCESS_KINDS.items():
        entries = access.get(kind)
        kp = join_path(path, kind)
        if not problems.check_mapping(entries, kp) or not isinstance(entries, Mapping):
            continue
        for res, level in entries.items():
            problems.check_enum(level, join_path(kp, str(res)), levels)
            if str(res) in ("*", "") or "*" in str(res):
                problems.add(join_path(kp, str(res)), "must name one resource (a name or an ARN), not a wildcard")


def _sids(access: Mapping[str, Mapping[str, str]]) -> dict[tuple[str, str], str]:
    """A readable Sid prefix per declared resource. IAM rejects a policy whose Sids repeat
    (MalformedPolicyDocument), and the readable form is lossy (punctuation and case dropped, ARNs cut at
    40 characters), so a prefix that two resources would share gets a hash of the resource appended."""
    base = {(kind, res): f"{kind.capitalize()}{''.join(c for c in res.title() if c.isalnum())[:40]}"
            for kind in access for res in access[kind]}
    counts: dict[str, int] = {}
    for sid in base.values():
        counts[sid] = counts.get(sid, 0) + 1
    return {key: sid if counts[sid] == 1 else f"{sid}{hashlib.sha256(key[1].encode()).hexdigest()[:8]}"
            for key, sid in base.items()}


def access_statements(access: Mapping[str, Mapping[str, str]], account: Account) -> list[dict[str, Any]]:
    out = []
    sids = _sids(access)
    for kind in sorted(access):
        for res in sorted(access[kind]):
            level = access[kind][res]
            levels = ("read", "write") if level == "read_write" else ("consume", "send") if level == "consume_send" \
                else (level,)
            sid = sids[(kind, res)]
            if kind == "buckets":
                bucket = normalize_bucket(res)
                arn = account.arn("s3", bucket, regional=False)
                objects = pulumi.Output.concat(arn, "/*")
                for lvl in levels:
                    obj_actions, bucket_actions = ACCESS_ACTIONS["buckets"][lvl]
                    out.append(statement(obj_actions, [objects], sid=f"{sid}{lvl.capitalize()}Objects"))
                    if bucket_actions:
                        out.append(statement(bucket_actions, [arn], sid=f"{sid}{lvl.capitalize()}Bucket"))
                continue
            service, prefix = {"tables": ("dynamodb", "table/"), "queues": ("sqs", ""),
                               "streams": ("kinesis", "stream/")}[kind]
            arn = res if res.startswith("arn:") else account.arn(service, f"{prefix}{res}")
            resources = [arn, pulumi.Output.concat(arn, "/index/*")] if kind == "tables" else [arn]
            actions = sorted({a for lvl in levels for a in ACCESS_ACTIONS[kind][lvl]})
            out.append(statement(actions, resources, sid=sid))
    return out
