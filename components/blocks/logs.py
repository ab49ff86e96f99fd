"""CloudWatch log groups: always explicit, always with retention."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from ..profiles import Profile

__all__ = ["log_group"]


def log_group(resource_name: str, profile: Profile, *, name: pulumi.Input[str] | None = None,
              retention_days: int | None = None, tags: Mapping[str, str] | None = None,
              opts: pulumi.ResourceOptions | None = None) -> aws.cloudwatch.LogGroup:
    """A log group with the profile's retention (explicit ``retention_days`` wins)."""
    return aws.cloudwatch.LogGroup(resource_name, name=name,
                                   retention_in_days=retention_days or profile.log_retention_days,
                                   tags=dict(tags or {}), opts=opts)
