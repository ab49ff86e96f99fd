"""S3 allows one notification configuration per bucket: collect every Lambda trigger on a bucket, then
write one ``aws.s3.BucketNotification`` for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

__all__ = ["S3Notifications"]


@dataclass
class _Entry:
    owner: str
    order: int
    config: dict[str, Any]
    depends_on: list[pulumi.Resource]


@dataclass
class S3Notifications:
    """Triggers on existing buckets, by bucket name, from any number of services."""

    entries: dict[str, list[_Entry]] = field(default_factory=dict)

    def add(self, bucket: str, owner: str, order: int, config: Mapping[str, Any],
            depends_on: list[pulumi.Resource]) -> None:
        """``config`` is one ``lambda_functions`` item; ``depends_on`` the permission S3 checks on save."""
        self.entries.setdefault(bucket, []).append(_Entry(owner, order, dict(config), list(depends_on)))

    def build(self, name_prefix: str, opts: pulumi.ResourceOptions) -> dict[str, aws.s3.BucketNotification]:
        out = {}
        for bucket in sorted(self.entries):
            items = sorted(self.entries[bucket], key=lambda e: (e.owner, e.order))
            deps = [d for e in items for d in e.depends_on]
            out[bucket] = aws.s3.BucketNotification(
                f"{name_prefix}{bucket}-notify", bucket=bucket, lambda_functions=[e.config for e in items],
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=deps)))
        self.entries.clear()
        return out
