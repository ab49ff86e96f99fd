"""EC2 launch templates and instance roles with secure defaults, shared by VM services and container hosts.

Usage::

    from components.blocks.launch_template import (
        LaunchSettings, instance_role, launch_template, validate_launch_settings)

    validate_launch_settings(spec, path, problems)   # instance_type, root_volume_size, key_name, metadata_hop_limit
    role = instance_role(name, tags=tags, statements=secret_read_statements(arns), opts=child)
    launch = LaunchSettings(image_id=ami, instance_type="t4g.small", security_group_ids=[sg.id],
                            instance_profile_arn=role.profile.arn, user_data=script,
                            hop_limit=1)                # EKS nodes whose pods use IMDS need hop_limit=2
    lt = launch_template(name, launch, tags=tags, opts=child)
    # pin lt.latest_version in the Auto Scaling Group, never "$Latest"

Every template requires IMDSv2 tokens, encrypts a gp3 root volume, gives instances no public IP,
turns on detailed monitoring and tags instances and volumes. Instances are reached through SSM
Session Manager (the role carries ``AmazonSSMManagedInstanceCore``); no SSH key unless ``key_name``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..validation import Problems, join_path
from .iam import assume_role_policy, policy_document

__all__ = [
    "AMI_ID_EXAMPLE",
    "AMI_ID_PATTERN",
    "INSTANCE_TYPE_PATTERN",
    "InstanceRole",
    "LaunchSettings",
    "LAUNCH_KEYS",
    "SSM_MANAGED_POLICY",
    "instance_role",
    "launch_template",
    "validate_launch_settings",
]

SSM_MANAGED_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
INSTANCE_TYPE_PATTERN = r"[a-z][a-z0-9-]*\.[a-z0-9]+"
#: An AMI id: ``ami-`` and 8 hexadecimal characters (before 2016) or 17 (every AMI since 2018).
AMI_ID_PATTERN = r"ami-([0-9a-f]{8}|[0-9a-f]{17})"
AMI_ID_EXAMPLE = "an AMI id such as 'ami-0abcdef1234567890'"
#: gp3 volumes are 1-16384 GiB; Amazon Linux 2023 AMIs need at least their 8 GiB snapshot.
ROOT_VOLUME_MIN, ROOT_VOLUME_MAX = 8, 16384
LAUNCH_KEYS = ("instance_type", "root_volume_size", "key_name", "metadata_hop_limit")


def validate_launch_settings(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    """Validate the launch settings keys (:data:`LAUNCH_KEYS`) of ``spec``."""
    problems.check_str(spec.get("instance_type"), join_path(path, "instance_type"), INSTANCE_TYPE_PATTERN,
                       "an EC2 instance type such as 't4g.small'")
    problems.check_int(spec.get("root_volume_size"), join_path(path, "root_volume_size"),
                       ROOT_VOLUME_MIN, ROOT_VOLUME_MAX, "GiB")
    problems.check_str(spec.get("key_name"), join_path(path, "key_name"), r"[\x20-\x7e]{1,255}",
                       "the name of an EC2 key pair (1-255 printable ASCII characters)")
    problems.check_int(spec.get("metadata_hop_limit"), join_path(path, "metadata_hop_limit"), 1, 64)


@dataclass
class InstanceRole:
    """An instance role and the instance profile that carries it."""

    role: aws.iam.Role
    profile: aws.iam.InstanceProfile
    policies: list[pulumi.Resource] = field(default_factory=list)
    """The role's policy attachments and inline policy. The profile does not wait for them: whatever
    launches instances (an Auto Scaling Group, an Image Builder image) should ``depends_on`` these, or
    the first instances boot without their permissions."""


def instance_role(name: str, *, tags: Mapping[str, str], statements: Iterable[Mapping[str, Any]] = (),
                  managed_policy_arns: Sequence[pulumi.Input[str]] = (),
                  opts: pulumi.ResourceOptions | None = None) -> InstanceRole:
    """A role EC2 instances assume, with SSM Session Manager access (``AmazonSSMManagedInstanceCore``),
    an inline policy of exactly ``statements`` (none when empty) and any extra managed policies."""
    role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                        description=f"{name} instances", tags=dict(tags), opts=opts)
    arns = [SSM_MANAGED_POLICY, *managed_policy_arns]
    policies: list[pulumi.Resource] = [
        aws.iam.RolePolicyAttachment(f"{name}-role-{i}", role=role.name, policy_arn=arn, opts=opts)
        for i, arn in enumerate(arns)]
    statements = list(statements)
    if statements:
        policies.append(aws.iam.RolePolicy(f"{name}-role", role=role.id, policy=policy_document(statements),
                                           opts=opts))
    profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=dict(tags), opts=opts)
    return InstanceRole(role=role, profile=profile, policies=policies)


@dataclass(frozen=True, kw_only=True)
class LaunchSettings:
    """What a launch template launches; the fields carry the defaults. EKS managed node groups leave
    ``image_id``, ``instance_type``, ``security_group_ids`` and ``instance_profile_arn`` None: EKS picks the AMI,
    sets the profile and attaches the cluster security group."""

    image_id: pulumi.Input[str] | None = None
    instance_type: pulumi.Input[str] | None = None
    security_group_ids: Sequence[pulumi.Input[str]] | None = None
    instance_profile_arn: pulumi.Input[str] | None = None
    user_data: pulumi.Input[str] | None = None
    """Plain text (a shell script or cloud-init), base64-encoded by :func:`launch_template`."""
    hop_limit: int = 1
    """The IMDSv2 response hop limit: 1 keeps the instance credentials away from containers; EKS nodes whose
    pods call IMDS need 2."""
    root_volume_size: int = 20
    root_device_name: str = "/dev/xvda"
    """``/dev/xvda`` on Amazon Linux."""
    kms_key_id: pulumi.Input[str] | None = None
    """The root volume's key. Default: the account's default EBS key."""
    key_name: pulumi.Input[str] | None = None


def launch_template(name: str, launch: LaunchSettings, *, tags: Mapping[str, str],
                    opts: pulumi.ResourceOptions | None = None) -> aws.ec2.LaunchTemplate:
    """A launch template with secure defaults, launching what ``launch`` says (:class:`LaunchSettings`)."""
    user_data = launch.user_data
    encoded = None if user_data is None else pulumi.Output.from_input(user_data).apply(
        lambda text: base64.b64encode(text.encode()).decode())
    ebs: dict[str, Any] = {"volume_size": launch.root_volume_size, "volume_type": "gp3", "encrypted": "true",
                           "delete_on_termination": "true"}
    if launch.kms_key_id is not None:
        ebs["kms_key_id"] = launch.kms_key_id
    return aws.ec2.LaunchTemplate(
        f"{name}-lt",
        description=f"{name} instances",
        image_id=launch.image_id,
        instance_type=launch.instance_type,
        key_name=launch.key_name,
        iam_instance_profile=None if launch.instance_profile_arn is None else {"arn": launch.instance_profile_arn},
        metadata_options={"http_endpoint": "enabled", "http_tokens": "required",
                          "http_put_response_hop_limit": launch.hop_limit, "instance_metadata_tags": "disabled"},
        block_device_mappings=[{"device_name": launch.root_device_name, "ebs": ebs}],
        network_interfaces=None if launch.security_group_ids is None else [{
            "device_index": 0, "associate_public_ip_address": "false", "delete_on_termination": "true",
            "security_groups": list(launch.security_group_ids)}],
        monitoring={"enabled": True},
        user_data=encoded,
        update_default_version=True,
        tag_specifications=[{"resource_type": kind, "tags": {**tags, "Name": name}}
                            for kind in ("instance", "volume", "network-interface")],
        tags=dict(tags),
        opts=opts,
    )
