"""The image of a ``vm`` service: an explicit AMI id (its architecture checked against the fleet's), the newest
AMI of the account tagged with the service and a version (``lookup``), or an AMI baked by EC2 Image Builder from
``services/<name>/<document>`` (``bake``), whose old AMIs a lifecycle policy deregisters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.architecture import instance_architecture as architecture
from ..blocks.iam import assume_role_policy
from ..blocks.launch_template import instance_role
from ..blocks.load_balancer import network_value, service_security_group
from .args import Bake, VmSettings

__all__ = ["IN_USE_TAG", "KEEP_IMAGE_TAG", "check_image_architecture", "service_ami"]

#: The image tests' timeout, as before: AWS ignores it ("not currently active"), and changing it would replace the
#: Image (a new bake), so it is not a setting; ``bake.timeout`` bounds the whole bake, tests included.
IMAGE_TESTS_TIMEOUT = 60
EC2_IMAGE_BUILDER_POLICY = "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder"
EC2_IMAGE_BUILDER_LIFECYCLE_POLICY = "arn:aws:iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy"
#: An AMI an instance was launched from this recently is never deleted, whatever its rank.
LIFECYCLE_IN_USE_DAYS = 30
#: Tag on the AMI the launch template uses, and on the Image resource's image: the lifecycle policy skips both.
IN_USE_TAG, KEEP_IMAGE_TAG = "InUseBy", "KeptBy"


def service_ami(owner: pulumi.Resource, name: str, settings: VmSettings, *, tags: Mapping[str, str], network: Any,
                project_dir: Path, opts: pulumi.ResourceOptions) -> pulumi.Input[str]:
    """The id of the AMI the service's instances launch from; ``owner`` (the service) parents the look-ups,
    ``opts`` the bake's resources."""
    ami = settings.ami
    invoke = pulumi.InvokeOutputOptions(parent=owner)
    if ami.id is not None:
        # An explicit id says nothing about its architecture until AWS is asked: fail the preview, not
        # every launch, when it is not the fleet's.
        found = aws.ec2.get_ami_output(filters=[{"name": "image-id", "values": [ami.id]}],
                                       include_deprecated=True, opts=invoke)
        return pulumi.Output.all(ami.id, found.architecture).apply(
            lambda v: check_image_architecture(name, v[0], v[1], settings.instance_types))
    if ami.lookup is not None:
        wanted = {**ami.lookup.tags, "Service": name, "Version": ami.lookup.version}
        # Only an AMI of the fleet's architecture: another one would fail every launch.
        found = aws.ec2.get_ami_output(
            owners=["self"], most_recent=True,
            filters=[{"name": f"tag:{k}", "values": [wanted[k]]} for k in sorted(wanted)]
            + [{"name": "architecture", "values": [settings.architecture]},
               {"name": "state", "values": ["available"]}],
            opts=invoke)
        return found.id
    assert ami.bake is not None  # validation requires one of the three
    return _bake(owner, name, ami.bake, settings.root_volume_size, tags=tags, network=network,
                 project_dir=project_dir, opts=opts)


def check_image_architecture(name: str, image_id: str, image_arch: str | None, types: Sequence[str]) -> str:
    """``image_id`` when its architecture is the fleet's; else the error a preview reports."""
    fleet = architecture(types[0])
    if image_arch and image_arch != fleet:
        raise ValueError(f"{name}.ami: {image_id} is an {image_arch} image but the instance types "
                         f"({', '.join(types)}) are {fleet}: every launch would fail; use an {fleet} AMI")
    return image_id


def _keep_value(name: str) -> str:
    """``<project>/<stack>/<service>``: whose AMI or image the lifecycle policy must keep."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"


def _bake(owner: pulumi.Resource, name: str, bake: Bake, root_volume_size: int, *, tags: Mapping[str, str],
          network: Any, project_dir: Path, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    recipe = _recipe(name, bake, root_volume_size, (project_dir / "services" / name / bake.document).read_text(),
                     tags, opts)
    builder = instance_role(f"{name}-build", tags=tags, managed_policy_arns=[EC2_IMAGE_BUILDER_POLICY], opts=opts)
    infra = _infrastructure(name, bake, builder, network, tags, opts)
    region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=owner)).region
    distribution = aws.imagebuilder.DistributionConfiguration(
        f"{name}-dist",
        distributions=[{"region": region, "ami_distribution_configuration": {
            "name": f"{name}-{bake.version}-{{{{ imagebuilder:buildDate }}}}",
            "description": f"{name} {bake.version}",
            "ami_tags": {"Service": name, "Version": bake.version, "ManagedBy": "pulumi"}}}],
        tags=dict(tags), opts=opts)
    tests = {"image_tests_enabled": True, "timeout_minutes": IMAGE_TESTS_TIMEOUT}
    pipeline_kwargs: dict[str, Any] = {}
    if bake.schedule:
        pipeline_kwargs["schedule"] = {
            "schedule_expression": bake.schedule,
            "pipeline_execution_start_condition": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"}
    aws.imagebuilder.ImagePipeline(
        f"{name}-pipeline", image_recipe_arn=recipe.arn, infrastructure_configuration_arn=infra.arn,
        distribution_configuration_arn=distribution.arn, status="ENABLED", image_tests_configuration=tests,
        tags=dict(tags), opts=opts, **pipeline_kwargs)
    # The build instance needs its SSM and Image Builder permissions from the first minute.
    image = aws.imagebuilder.Image(
        f"{name}-image", image_recipe_arn=recipe.arn, infrastructure_configuration_arn=infra.arn,
        distribution_configuration_arn=distribution.arn, image_tests_configuration=tests,
        tags={**tags, "Version": bake.version, KEEP_IMAGE_TAG: _keep_value(name)},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            depends_on=builder.policies, custom_timeouts=pulumi.CustomTimeouts(create=f"{bake.timeout}m"))))
    _ami_lifecycle(name, recipe, bake, tags, opts)
    # The newest AMI this recipe version produced: the image above, or a later run of the pipeline
    # (its schedule re-bakes on parent image updates). Image Builder tags each AMI it distributes with
    # the build's ARN, ".../image/<recipe>/<version>/<build>". A new one is a new launch template
    # version in the next preview, rolled out by an instance refresh.
    builds = image.arn.apply(lambda arn: arn.rsplit("/", 1)[0] + "/*")
    newest = aws.ec2.get_ami_output(
        owners=["self"], most_recent=True,
        filters=[{"name": "tag:Ec2ImageBuilderArn", "values": [builds]},
                 {"name": "state", "values": ["available"]}],
        opts=pulumi.InvokeOutputOptions(parent=owner, depends_on=[image]))
    # The AMI the launch template uses must outlive the lifecycle policy's count: a stable group may not
    # launch an instance for 30 days (the last_launched exclusion) while scheduled re-bakes push it past
    # `keep`, and a deregistered AMI fails every later launch (scale-out, replacement of an unhealthy
    # instance). Tagged while in use; a new AMI moves the tag (replaced, created before deleted).
    aws.ec2.Tag(f"{name}-ami-in-use", resource_id=newest.id, key=IN_USE_TAG, value=_keep_value(name), opts=opts)
    return newest.id


def _recipe(name: str, bake: Bake, root_volume_size: int, document: str, tags: Mapping[str, str],
            opts: pulumi.ResourceOptions) -> aws.imagebuilder.ImageRecipe:
    """The Image Builder component installing the service (``document``) and the recipe around it."""
    image_tags = {**tags, "Version": bake.version}
    component = aws.imagebuilder.Component(
        f"{name}-component", platform="Linux", version=bake.version, data=document,
        description=f"Installs {name} {bake.version} as a systemd unit", supported_os_versions=["Amazon Linux 2023"],
        tags=image_tags, opts=opts)
    # "ssm:<parameter>" makes Image Builder resolve the parent AMI when it builds: resolving it here
    # would replace the recipe and re-bake the image on every plan after each Amazon Linux release.
    # The image's root volume is the launch template's: a smaller template volume than the AMI's
    # snapshot fails every launch.
    return aws.imagebuilder.ImageRecipe(
        f"{name}-recipe", version=bake.version, parent_image=f"ssm:{bake.parent_parameter}",
        components=[{"component_arn": component.arn}],
        block_device_mappings=[{"device_name": "/dev/xvda",
                                "ebs": {"volume_size": root_volume_size, "volume_type": "gp3",
                                        "encrypted": "true", "delete_on_termination": "true"}}],
        tags=image_tags, opts=opts)


def _infrastructure(name: str, bake: Bake, builder: Any, network: Any, tags: Mapping[str, str],
                    opts: pulumi.ResourceOptions) -> aws.imagebuilder.InfrastructureConfiguration:
    """Where the image is built: a build instance in the first private subnet, with a security group of its own."""
    build_sg = service_security_group(f"{name}-build", vpc_id=network_value(network, "vpc_id"), tags=tags, opts=opts)
    subnet = pulumi.Output.from_input(network_value(network, "private_subnet_ids")).apply(lambda ids: ids[0])
    return aws.imagebuilder.InfrastructureConfiguration(
        f"{name}-infra", instance_profile_name=builder.profile.name, instance_types=[bake.build_instance_type],
        subnet_id=subnet, security_group_ids=[build_sg.id], terminate_instance_on_failure=True,
        instance_metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
        resource_tags=dict(tags), tags=dict(tags), opts=opts)


def _ami_lifecycle(name: str, recipe: aws.imagebuilder.ImageRecipe, bake: Bake, tags: Mapping[str, str],
                   opts: pulumi.ResourceOptions) -> None:
    """Deregister this version's AMIs beyond the newest ``bake.keep``, with their snapshots."""
    role = aws.iam.Role(f"{name}-lifecycle", assume_role_policy=assume_role_policy("imagebuilder.amazonaws.com"),
                        description=f"{name}: Image Builder deletes old AMIs", tags=dict(tags), opts=opts)
    attachment = aws.iam.RolePolicyAttachment(f"{name}-lifecycle", role=role.name,
                                              policy_arn=EC2_IMAGE_BUILDER_LIFECYCLE_POLICY, opts=opts)
    aws.imagebuilder.LifecyclePolicy(
        f"{name}-amis", description=f"Keep the newest {bake.keep} AMIs of {name} {bake.version}",
        execution_role=role.arn, resource_type="AMI_IMAGE", status="ENABLED",
        resource_selection={"recipes": [{"name": recipe.name, "semantic_version": bake.version}]},
        policy_details=[{
            "action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
            "filter": {"type": "COUNT", "value": bake.keep},
            # Never the AMI the group launches (tagged in _bake), nor the image of the Image resource,
            # whose deletion would make `pulumi refresh` drop it and the next `up` bake again.
            "exclusion_rules": {
                "amis": {"last_launched": {"unit": "DAYS", "value": LIFECYCLE_IN_USE_DAYS},
                         "tag_map": {IN_USE_TAG: _keep_value(name)}},
                "tag_map": {KEEP_IMAGE_TAG: _keep_value(name)}},
        }],
        tags=dict(tags), opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[attachment])))
