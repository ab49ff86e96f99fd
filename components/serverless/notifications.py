"""S3 allows one notification configuration per bucket: collect every Lambda trigger on a bucket, then
write one ``aws.s3.BucketNotification`` for it."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

__all__ = ["S3Notifications", "claim_bucket"]

#: Per running program (its engine connection): bucket -> the component that writes its notification alone.
_CLAIMS: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def claim_bucket(bucket: str, owner: str) -> str | None:
    """Record that ``owner`` writes ``bucket``'s whole notification configuration itself; returns the
    component that already does (S3 keeps one configuration per bucket: the second would replace the
    first's triggers on every ``up``), else None."""
    monitor = pulumi.runtime.settings.get_monitor()
    try:
        claims = _CLAIMS.setdefault(monitor, {})
    except TypeError:  # an engine connection that cannot be weakly referenced: no cross-component check
        return None
    holder = claims.get(bucket)
    if holder is not None and holder != owner:
        return holder
    claims[bucket] = owner
    return None


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
