"""Where local Lambda packages go before Lambda takes them: a private bucket, one object per content hash.

Lambda copies the code when a function is created or updated, so the bucket only stages it. Keys are
``lambda/<service>/<content sha256>.zip``: the same content on another machine (another zlib, so other
compressed bytes) re-uploads the same key and leaves the function, and its published version, alone; new
content is a new key, which updates the code and publishes one version. S3 also lifts the 50 MB limit of
direct uploads (250 MB unzipped still applies).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from ..profiles import Profile

__all__ = ["ArtifactStore", "secure_bucket"]


def secure_bucket(label: str, *, tags: Mapping[str, str], opts: pulumi.ResourceOptions,
                  protect_opts: pulumi.ResourceOptions, versioning: bool) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """An encrypted, private, TLS-only bucket ``<label>-bucket`` and the last of its settings. S3 answers
    concurrent configuration calls on one bucket with "OperationAborted: A conflicting conditional
    operation is currently in progress", so each setting waits for the one before; whatever uses the
    bucket waits for the returned resources."""
    bucket = aws.s3.Bucket(f"{label}-bucket", tags=dict(tags), opts=protect_opts)
    previous: list[pulumi.Resource] = []

    def after() -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(previous)))

    previous[:] = [aws.s3.BucketPublicAccessBlock(
        f"{label}-bucket-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=after())]
    previous[:] = [aws.s3.BucketOwnershipControls(f"{label}-bucket-ownership", bucket=bucket.id,
                                                  rule={"object_ownership": "BucketOwnerEnforced"}, opts=after())]
    previous[:] = [aws.s3.BucketServerSideEncryptionConfiguration(
        f"{label}-bucket-encryption", bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
        opts=after())]
    previous[:] = [aws.s3.BucketPolicy(f"{label}-bucket-tls-only", bucket=bucket.id, policy=bucket.arn.apply(
        lambda arn: json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]},
            sort_keys=True)), opts=after())]
    if versioning:
        previous[:] = [aws.s3.BucketVersioning(f"{label}-bucket-versioning", bucket=bucket.id,
                                               versioning_configuration={"status": "Enabled"}, opts=after())]
    return bucket, list(previous)


@dataclass
class ArtifactStore:
    """The staging bucket of a stack's (or one service's) Lambda packages."""

    bucket: aws.s3.Bucket
    ready: list[pulumi.Resource] = field(default_factory=list)

    @classmethod
    def create(cls, label: str, profile: Profile, tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> ArtifactStore:
        """``<label>-bucket``, protected like every bucket in prod; unversioned (keys never change content)."""
        protect = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=profile.protect))
        bucket, ready = secure_bucket(label, tags=tags, opts=opts, protect_opts=protect, versioning=False)
        return cls(bucket=bucket, ready=ready)

    def upload(self, name: str, path: Path, content_sha256: str, opts: pulumi.ResourceOptions) -> aws.s3.BucketObjectv2:
        """``<name>-package``: the ZIP at ``lambda/<name>/<content sha256>.zip``. Untagged: S3 allows 10 tags
        per object, fewer than a service's standard and user tags may add up to."""
        return aws.s3.BucketObjectv2(
            f"{name}-package", bucket=self.bucket.id, key=f"lambda/{name}/{content_sha256}.zip",
            source=pulumi.FileAsset(str(path)), content_type="application/zip",
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(self.ready))))
