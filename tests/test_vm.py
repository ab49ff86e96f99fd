"""VmService: an AMI per service, a launch template, an Auto Scaling Group rolled out by an instance refresh, a load balancer."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from components.tools.plan.mocks import MOCK_AMI, PlanMocks
from components.tools.plan.runtime import run
from components.blocks.architecture import instance_architecture as architecture
from components.vm import VmService, validate_vm
from components.vm.pattern import PATTERN
from components.vm.user_data import render_user_data

from tests.conftest import ROOT, assert_problem

NET = {"vpc_id": "vpc-0123", "vpc_cidr": "10.40.0.0/16",
       "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b", "subnet-pub-c"],
       "private_subnet_ids": ["subnet-priv-a", "subnet-priv-b", "subnet-priv-c"]}
AMI = "ami-0123456789abcdef0"
DB_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/inventory/db-password"
API_KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:inventory/api-key"


def _plan(spec, environment="dev", name="inventory"):
    return run(lambda: VmService(name, spec, network=NET, profile=environment, project_dir=ROOT),
               config={"microservices:environment": environment, "aws:region": "us-east-1"}, stack=environment)


def _user_data(graph):
    lt = graph.one("aws:ec2/launchTemplate:LaunchTemplate")
    return base64.b64decode(lt.inputs["userData"]).decode()


@pytest.fixture(scope="module")
def dev_explicit():
    return _plan({"ami": AMI, "port": 9000, "environment": {"LOG_LEVEL": "debug", "GREETING": 'say "hi"'},
                  "secrets": {"DB_PASSWORD": DB_ARN, "API_KEY": API_KEY_ARN}})


@pytest.fixture(scope="module")
def prod_lookup():
    return _plan({"ami": {"lookup": {"version": "2.3.1", "tags": {"Team": "stock"}}}, "expose": "public",
                  "load_balancer": {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                                                       "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"}}, "prod")


@pytest.fixture(scope="module")
def dev_bake():
    return _plan({"ami": {"bake": {"version": "1.0.0", "schedule": "cron(0 3 ? * MON *)"}}})


@pytest.fixture(scope="module")
def dev_tuned():
    return _plan({"ami": AMI, "instance_types": ["m7i.large", "m6i.large", "m5.large"], "spot_percentage": 30,
                  "on_demand_base_capacity": 1, "scaling": {"min": 2, "max": 6, "target_cpu": 45},
                  "rollout": {"timeout": 1200, "instance_warmup": 120},
                  "autoscaling": {"requests_per_target": 500,
                                  "schedules": {"night": {"recurrence": "0 20 * * *", "min": 0, "desired": 0,
                                                          "time_zone": "Europe/Paris"}}}})


# -- the group ------------------------------------------------------------------------------------

def test_group_pins_the_launch_template_latest_version_never_latest_alias(dev_explicit):
    group = dev_explicit.one("aws:autoscaling/group:Group", "inventory-asg")
    spec = group.get("mixedInstancesPolicy.launchTemplate.launchTemplateSpecification")
    lt = dev_explicit.one("aws:ec2/launchTemplate:LaunchTemplate", "inventory-lt")
    assert spec["version"] == "1" and spec["launchTemplateId"].startswith("lt-")
    assert "$Latest" not in str(group.inputs) and "$Default" not in str(group.inputs)
    assert lt.urn in group.dependencies


def test_dev_runs_one_small_spot_instance_with_capacity_rebalance(dev_explicit):
    group = dev_explicit.one("aws:autoscaling/group:Group")
    assert (group.inputs["minSize"], group.inputs["maxSize"], group.inputs["desiredCapacity"]) == (1, 2, 1)
    dist = group.get("mixedInstancesPolicy.instancesDistribution")
    assert dist["onDemandPercentageAboveBaseCapacity"] == 0 and dist["onDemandBaseCapacity"] == 0
    assert dist["spotAllocationStrategy"] == "price-capacity-optimized"
    assert group.inputs["capacityRebalance"] is True
    assert group.get("mixedInstancesPolicy.launchTemplate.overrides") == [{"instanceType": "t4g.small"}]


def test_group_spans_private_subnets_with_elb_health_checks_and_a_300s_grace(dev_explicit):
    group = dev_explicit.one("aws:autoscaling/group:Group")
    assert group.inputs["vpcZoneIdentifiers"] == NET["private_subnet_ids"]
    assert group.inputs["healthCheckType"] == "ELB" and group.inputs["healthCheckGracePeriod"] == 300
    assert group.inputs["targetGroupArns"][0].startswith("arn:aws:elasticloadbalancing:")
    assert dev_explicit.one("aws:lb/listener:Listener", "inventory-http").urn in group.dependencies


def test_group_waits_for_the_instance_role_policies_its_instances_use_at_boot(dev_explicit):
    group = dev_explicit.one("aws:autoscaling/group:Group")
    assert dev_explicit.one("aws:iam/rolePolicy:RolePolicy", "inventory-role").urn in group.dependencies
    assert dev_explicit.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "inventory-role-0").urn \
        in group.dependencies


ROLLOUT = "pulumi-python:dynamic/vm:InstanceRefresh"


def test_the_group_keeps_its_identity_and_pulumi_never_moves_its_launch_template_version(dev_explicit):
    # The instance refresh moves the version (Auto Scaling saves it on the group only when the refresh
    # succeeds); Pulumi updating it would make the refresh's rollback restore the new version.
    group = dev_explicit.one("aws:autoscaling/group:Group")
    assert group.replace_on_changes == []
    assert {"launchTemplate", "mixedInstancesPolicy", "desiredCapacity"} <= set(group.ignore_changes)


def test_the_group_has_no_provider_instance_refresh_that_would_save_the_new_version_first(dev_explicit):
    # terraform-provider-aws#34189: the provider's instance_refresh updates the group, then refreshes.
    group = dev_explicit.one("aws:autoscaling/group:Group")
    assert "instanceRefresh" not in group.inputs


def test_a_new_version_is_rolled_out_by_a_refresh_of_the_group_to_the_launch_template_latest_version(dev_explicit):
    rollout = dev_explicit.one(ROLLOUT, "inventory-rollout")
    group = dev_explicit.one("aws:autoscaling/group:Group")
    lt = dev_explicit.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert rollout.inputs["group"].startswith("inventory-asg-")
    assert rollout.inputs["launch_template_id"].startswith("lt-") and rollout.inputs["version"] == "1"
    assert group.urn in rollout.property_dependencies["group"]
    assert lt.urn in rollout.property_dependencies["launch_template_id"]
    assert lt.urn in rollout.property_dependencies["version"]


def test_the_rollout_watches_the_service_alarms_and_is_bounded_by_the_rollout_timeout(dev_tuned):
    rollout = dev_tuned.one(ROLLOUT, "inventory-rollout")
    assert rollout.inputs["timeout_seconds"] == 1200 and rollout.inputs["instance_warmup"] == 120
    alarms = {a.inputs.get("name") or a.name for a in dev_tuned.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert rollout.inputs["alarms"] and len(rollout.inputs["alarms"]) == len(alarms)


def test_a_mixed_group_is_refreshed_with_its_whole_mixed_instances_policy(dev_tuned):
    policy = dev_tuned.one(ROLLOUT).inputs["mixed_instances_policy"]
    assert [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]] == ["m7i.large", "m6i.large", "m5.large"]
    assert policy["InstancesDistribution"] == {
        "OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 70,
        "OnDemandAllocationStrategy": "prioritized", "SpotAllocationStrategy": "price-capacity-optimized"}


def test_a_single_on_demand_type_is_refreshed_with_a_launch_template_only():
    graph = _plan({"ami": AMI, "spot_percentage": 0})
    assert graph.one(ROLLOUT).inputs.get("mixed_instances_policy") is None


def test_the_rollout_calls_aws_with_the_stack_region_and_credentials_settings(dev_explicit):
    rollout = dev_explicit.one(ROLLOUT)
    assert rollout.inputs["region"] == "us-east-1"
    assert rollout.inputs["profile"] == "" and rollout.inputs["assume_roles"] == []


def test_the_first_deploy_waits_for_healthy_instances_in_the_load_balancer_on_creation_only(dev_explicit):
    # wait_for_elb_capacity would wait for exactly that many instances on every later update of the group,
    # whatever size autoscaling has moved it to: min_elb_capacity waits on creation only.
    group = dev_explicit.one("aws:autoscaling/group:Group")
    assert group.inputs["minElbCapacity"] == group.inputs["desiredCapacity"] == 1
    assert "waitForElbCapacity" not in group.inputs
    assert group.inputs["waitForCapacityTimeout"] == "900s"
    assert group.inputs["healthCheckType"] == "ELB"


def test_a_transient_failed_launch_does_not_fail_the_first_deploy_before_its_timeout():
    # Without it the provider fails the wait at the first failed scaling activity (no Spot capacity in one
    # pool), although the group retries elsewhere.
    graph = _plan({"ami": AMI, "instance_types": ["t4g.small", "t4g.medium"], "spot_percentage": 50})
    group = graph.one("aws:autoscaling/group:Group")
    assert group.inputs["ignoreFailedScalingActivities"] is True
    assert group.inputs["waitForCapacityTimeout"] == "900s"


def test_scaling_policies_follow_the_group(dev_explicit):
    group = dev_explicit.one("aws:autoscaling/group:Group")
    for policy in dev_explicit.of_type("aws:autoscaling/policy:Policy"):
        assert group.urn in policy.property_dependencies["autoscalingGroupName"]


def test_the_group_is_created_at_the_configured_desired_size_and_autoscaling_owns_it_after():
    graph = _plan({"ami": AMI, "scaling": {"min": 1, "max": 6, "desired": 3}})
    group = graph.one("aws:autoscaling/group:Group")
    assert group.inputs["desiredCapacity"] == 3 and "desiredCapacity" in group.ignore_changes
    assert not any(token.startswith("aws:autoscaling/get") for token, _ in graph.invokes)


def test_rollout_timeout_follows_the_grace_period_unless_set():
    graph = _plan({"ami": AMI, "health_check": {"grace_period": 900}})
    assert graph.one("aws:autoscaling/group:Group").inputs["waitForCapacityTimeout"] == "1500s"
    assert graph.one(ROLLOUT).inputs["timeout_seconds"] == 1500


def test_cpu_target_tracking_uses_the_core_target(dev_explicit):
    policy = dev_explicit.one("aws:autoscaling/policy:Policy", "inventory-cpu")
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    conf = policy.inputs["targetTrackingConfiguration"]
    assert conf["predefinedMetricSpecification"]["predefinedMetricType"] == "ASGAverageCPUUtilization"
    assert conf["targetValue"] == 60


# -- instances ------------------------------------------------------------------------------------

def test_launch_template_is_secure_and_launches_the_given_ami(dev_explicit):
    lt = dev_explicit.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["imageId"] == AMI and lt.inputs["instanceType"] == "t4g.small"
    assert lt.get("metadataOptions.httpTokens") == "required"
    assert lt.get("metadataOptions.httpPutResponseHopLimit") == 1
    assert lt.get("blockDeviceMappings.0.ebs.encrypted") == "true"
    assert lt.get("networkInterfaces.0.associatePublicIpAddress") == "false"
    assert lt.inputs["monitoring"] == {"enabled": True} and "keyName" not in lt.inputs


def test_user_data_writes_environment_and_fetches_secrets_by_arn_at_boot(dev_explicit):
    script = _user_data(dev_explicit)
    assert 'LOG_LEVEL="debug"' in script and 'GREETING="say \\"hi\\""' in script and 'PORT="9000"' in script
    assert f"fetch {DB_ARN}" in script and f"fetch {API_KEY_ARN}" in script
    assert "/run/inventory/secrets.env" in script and "systemctl restart inventory.service" in script
    assert script.index("API_KEY") < script.index("DB_PASSWORD")


def test_instance_role_reads_exactly_the_secrets_it_needs(dev_explicit):
    policy = dev_explicit.one("aws:iam/rolePolicy:RolePolicy", "inventory-role").json_input("policy")
    grants = {s["Sid"]: s for s in policy["Statement"]}
    assert grants["ReadParameters"]["Resource"] == DB_ARN
    assert sorted(grants["ReadSecrets"]["Resource"]) == [API_KEY_ARN, f"{API_KEY_ARN}-??????"]
    assert all("*" not in s["Action"] for s in policy["Statement"])
    attachments = [a.inputs["policyArn"] for a in dev_explicit.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    assert attachments == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]


def test_instances_accept_the_service_port_only_from_the_load_balancer(dev_explicit):
    ingress = dev_explicit.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    to_instances = [r for r in ingress if r.name == "inventory-from-lb"]
    assert len(to_instances) == 1 and to_instances[0].inputs["fromPort"] == 9000
    lb = dev_explicit.one("aws:lb/loadBalancer:LoadBalancer")
    assert to_instances[0].inputs["referencedSecurityGroupId"] == lb.inputs["securityGroups"][0]
    assert lb.inputs["internal"] is True


# -- prod and lookup ------------------------------------------------------------------------------

def test_prod_runs_at_least_two_on_demand_instances_across_every_private_subnet(prod_lookup):
    group = prod_lookup.one("aws:autoscaling/group:Group")
    assert group.inputs["minSize"] == 2 and group.inputs["desiredCapacity"] == 2
    assert group.inputs["vpcZoneIdentifiers"] == NET["private_subnet_ids"]
    assert "mixedInstancesPolicy" not in group.inputs and "capacityRebalance" not in group.inputs
    assert group.inputs["launchTemplate"]["version"] == "1"
    lt = prod_lookup.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["instanceType"] == "m7g.large"
    lb = prod_lookup.one("aws:lb/loadBalancer:LoadBalancer")
    assert lb.inputs["enableDeletionProtection"] is True and lb.inputs["internal"] is False


def test_lookup_finds_the_newest_own_ami_tagged_with_service_and_version(prod_lookup):
    calls = [args for token, args in prod_lookup.invokes if token == "aws:ec2/getAmi:getAmi"]
    assert len(calls) == 1
    call = calls[0]
    assert call["owners"] == ["self"] and call["mostRecent"] is True
    filters = {f["name"]: f["values"] for f in call["filters"]}
    assert filters == {"tag:Service": ["inventory"], "tag:Version": ["2.3.1"], "tag:Team": ["stock"],
                       "state": ["available"], "architecture": ["arm64"]}
    assert prod_lookup.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == MOCK_AMI


@pytest.mark.parametrize("types, arch", [(["m7i.large"], "x86_64"), (["t4g.small"], "arm64")])
def test_lookup_only_finds_amis_of_the_fleet_architecture(types, arch):
    graph = _plan({"ami": {"lookup": {"version": "1.0.0"}}, "instance_types": types, "spot_percentage": 0})
    call = next(args for token, args in graph.invokes if token == "aws:ec2/getAmi:getAmi")
    assert {f["name"]: f["values"] for f in call["filters"]}["architecture"] == [arch]


class _AmiArchitectureMocks(PlanMocks):
    def __init__(self, arch, **kwargs):
        super().__init__(**kwargs)
        self.arch = arch

    def call(self, args):
        if args.token == "aws:ec2/getAmi:getAmi":
            return {"id": AMI, "imageId": AMI, "architecture": self.arch}
        return super().call(args)


def _plan_with_ami_architecture(arch, spec):
    return run(lambda: VmService("inventory", spec, network=NET, profile="dev", project_dir=ROOT),
               config={"microservices:environment": "dev", "aws:region": "us-east-1"}, stack="dev",
               mocks=_AmiArchitectureMocks(arch, region="us-east-1"))


def test_an_explicit_ami_of_another_architecture_fails_the_preview_naming_both():
    # Raised while the launch template's image_id resolves, so the preview fails before anything launches.
    # (Asserted on the check itself: a program failing mid-flight leaves tasks on the mock runtime's loop.)
    from components.vm.ami import check_image_architecture
    with pytest.raises(ValueError) as info:
        check_image_architecture("inventory", AMI, "x86_64", ["t4g.small", "t4g.medium"])
    assert str(info.value).startswith(f"inventory.ami: {AMI} is an x86_64 image but the instance types "
                                      "(t4g.small, t4g.medium) are arm64")
    assert check_image_architecture("inventory", AMI, "arm64", ["t4g.small"]) == AMI


def test_an_explicit_ami_of_the_fleet_architecture_is_launched():
    graph = _plan_with_ami_architecture("arm64", {"ami": AMI})
    assert graph.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == AMI
    (call,) = [args for token, args in graph.invokes if token == "aws:ec2/getAmi:getAmi"]
    assert call["filters"] == [{"name": "image-id", "values": [AMI]}]


def test_parameter_architecture_reads_the_usual_ami_parameter_names():
    from components.vm.validate import parameter_architecture
    assert parameter_architecture("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64") == "arm64"
    assert parameter_architecture("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64") == "x86_64"
    assert parameter_architecture("/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id") \
        == "x86_64"
    assert parameter_architecture("/golden/inventory-base") is None


# -- bake -----------------------------------------------------------------------------------------

def test_bake_builds_a_component_from_the_service_document(dev_bake):
    component = dev_bake.one("aws:imagebuilder/component:Component", "inventory-component")
    assert component.inputs["data"] == (ROOT / "services/inventory/component.yaml").read_text()
    assert component.inputs["version"] == "1.0.0" and component.inputs["platform"] == "Linux"


def test_bake_recipe_starts_from_the_current_al2023_image_of_the_right_architecture(dev_bake):
    # Image Builder resolves the public parameter at build time: the plan stays the same when Amazon
    # Linux publishes a new AMI, so the recipe and image are not replaced behind the service's back.
    assert not [args for token, args in dev_bake.invokes if token == "aws:ssm/getParameter:getParameter"]
    recipe = dev_bake.one("aws:imagebuilder/imageRecipe:ImageRecipe")
    assert recipe.inputs["parentImage"] == "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    assert recipe.inputs["version"] == "1.0.0"
    component = dev_bake.one("aws:imagebuilder/component:Component")
    assert recipe.inputs["components"][0]["componentArn"].startswith("arn:aws:imagebuilder:")
    assert component.urn in recipe.dependencies
    assert recipe.get("blockDeviceMappings.0.ebs.encrypted") == "true"


def test_bake_infrastructure_runs_in_a_private_subnet_with_imdsv2(dev_bake):
    infra = dev_bake.one("aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration")
    assert infra.inputs["subnetId"] == "subnet-priv-a" and infra.inputs["instanceTypes"] == ["t4g.small"]
    assert infra.inputs["instanceMetadataOptions"] == {"httpTokens": "required", "httpPutResponseHopLimit": 1}
    assert infra.inputs["terminateInstanceOnFailure"] is True
    assert infra.inputs["instanceProfileName"].startswith("inventory-build-profile")
    policies = sorted(a.inputs["policyArn"] for a in dev_bake.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.name.startswith("inventory-build-role"))
    assert policies == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                        "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder"]


def test_bake_distributes_an_ami_named_and_tagged_with_service_and_version(dev_bake):
    dist = dev_bake.one("aws:imagebuilder/distributionConfiguration:DistributionConfiguration")
    ami = dist.get("distributions.0.amiDistributionConfiguration")
    assert ami["name"] == "inventory-1.0.0-{{ imagebuilder:buildDate }}"
    assert ami["amiTags"] == {"Service": "inventory", "Version": "1.0.0", "ManagedBy": "pulumi"}
    assert dist.get("distributions.0.region") == "us-east-1"


def test_bake_pipeline_and_image_are_wired_and_the_group_launches_the_baked_ami(dev_bake):
    pipeline = dev_bake.one("aws:imagebuilder/imagePipeline:ImagePipeline")
    image = dev_bake.one("aws:imagebuilder/image:Image")
    for res in (pipeline, image):
        assert {"imageRecipeArn", "infrastructureConfigurationArn", "distributionConfigurationArn"} <= set(res.inputs)
    assert pipeline.get("schedule.scheduleExpression") == "cron(0 3 ? * MON *)"
    lt = dev_bake.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["imageId"].startswith("ami-") and lt.inputs["imageId"] != MOCK_AMI
    assert image.urn in lt.dependencies
    build_policies = [a.urn for a in dev_bake.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                      if a.name.startswith("inventory-build-role-")]
    assert len(build_policies) == 2 and set(build_policies) <= set(image.dependencies)


def test_the_group_launches_the_newest_ami_the_recipe_version_produced_pipeline_runs_included(dev_bake):
    image = dev_bake.one("aws:imagebuilder/image:Image")
    (call,) = [args for token, args in dev_bake.invokes if token == "aws:ec2/getAmi:getAmi"]
    filters = {f["name"]: f["values"] for f in call["filters"]}
    # Every build of this recipe version, the image's and the scheduled pipeline's: ".../1.0.0/*".
    assert filters["tag:Ec2ImageBuilderArn"] == [
        "arn:aws:imagebuilder:us-east-1:123456789012:image/inventory-image/1.0.0/*"]
    assert filters["state"] == ["available"] and call["owners"] == ["self"] and call["mostRecent"] is True
    # The lookup waits for the image, so the first `up` finds the AMI it just baked.
    assert image.urn in dev_bake.one("aws:ec2/launchTemplate:LaunchTemplate").dependencies


class _RebakedMocks(PlanMocks):
    """The pipeline has built a newer AMI of the recipe version since the last ``up``."""

    def call(self, args):
        if args.token == "aws:ec2/getAmi:getAmi":
            return {"id": "ami-0fedcba9876543210", "imageId": "ami-0fedcba9876543210", "architecture": "arm64"}
        return super().call(args)


def test_a_scheduled_rebake_is_rolled_out_by_the_next_up_as_a_new_launch_template_version():
    spec = {"ami": {"bake": {"version": "1.0.0", "schedule": "cron(0 3 ? * MON *)"}}}
    graph = run(lambda: VmService("inventory", spec, network=NET, profile="dev", project_dir=ROOT),
                config={"microservices:environment": "dev", "aws:region": "us-east-1"}, stack="dev",
                mocks=_RebakedMocks(region="us-east-1"))
    assert graph.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == "ami-0fedcba9876543210"


def test_old_amis_of_the_version_are_deregistered_with_their_snapshots_keeping_the_newest(dev_bake):
    policy = dev_bake.one("aws:imagebuilder/lifecyclePolicy:LifecyclePolicy", "inventory-amis")
    assert policy.inputs["resourceType"] == "AMI_IMAGE" and policy.inputs["status"] == "ENABLED"
    (detail,) = policy.inputs["policyDetails"]
    assert detail["action"] == {"type": "DELETE", "includeResources": {"amis": True, "snapshots": True}}
    assert detail["filter"] == {"type": "COUNT", "value": 5}
    assert detail["exclusionRules"]["amis"]["lastLaunched"] == {"unit": "DAYS", "value": 30}
    recipe = dev_bake.one("aws:imagebuilder/imageRecipe:ImageRecipe")
    assert policy.inputs["resourceSelection"]["recipes"][0]["semanticVersion"] == "1.0.0"
    assert recipe.urn in policy.property_dependencies["resourceSelection"]
    role = dev_bake.one("aws:iam/role:Role", "inventory-lifecycle")
    assert '"Service": "imagebuilder.amazonaws.com"' in role.inputs["assumeRolePolicy"]
    attachment = dev_bake.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "inventory-lifecycle")
    assert attachment.inputs["policyArn"].endswith("service-role/EC2ImageBuilderLifecycleExecutionPolicy")
    assert attachment.urn in policy.dependencies


def test_the_ami_the_group_launches_and_the_image_resources_image_are_never_deleted_by_the_lifecycle(dev_bake):
    # A stable group may launch nothing for 30 days while weekly re-bakes push its AMI past `keep`; a
    # deregistered AMI would then fail every scale-out and every replacement of an unhealthy instance.
    (detail,) = dev_bake.one("aws:imagebuilder/lifecyclePolicy:LifecyclePolicy").inputs["policyDetails"]
    assert detail["exclusionRules"]["amis"]["tagMap"] == {"InUseBy": "microservices/dev/inventory"}
    tag = dev_bake.one("aws:ec2/tag:Tag", "inventory-ami-in-use")
    lt = dev_bake.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert tag.inputs == {"resourceId": lt.inputs["imageId"], "key": "InUseBy", "value": "microservices/dev/inventory"}
    # The Image resource's own image stays, so that `pulumi refresh` never drops it and re-bakes.
    assert detail["exclusionRules"]["tagMap"] == {"KeptBy": "microservices/dev/inventory"}
    assert dev_bake.one("aws:imagebuilder/image:Image").inputs["tags"]["KeptBy"] == "microservices/dev/inventory"
    assert "KeptBy" not in dev_bake.one("aws:imagebuilder/imagePipeline:ImagePipeline").inputs.get("tags", {})


def test_bake_waits_its_timeout_and_the_ignored_tests_timeout_stays_fixed():
    # AWS ignores ImageTestsConfiguration.TimeoutMinutes ("not currently active"), and changing it replaces
    # the Image (a new bake): it stays at its former 60, and `tests_timeout` is no setting.
    graph = _plan({"ami": {"bake": {"version": "1.0.0", "timeout": 240, "keep": 3}}})
    image = graph.one("aws:imagebuilder/image:Image")
    assert image.custom_timeouts == {"create": "240m"}
    assert image.get("imageTestsConfiguration.timeoutMinutes") == 60
    assert graph.one("aws:imagebuilder/imagePipeline:ImagePipeline").get(
        "imageTestsConfiguration.timeoutMinutes") == 60
    assert graph.one("aws:imagebuilder/lifecyclePolicy:LifecyclePolicy").inputs["policyDetails"][0]["filter"][
        "value"] == 3


def test_bake_timeout_defaults_to_two_hours_not_the_providers_one(dev_bake):
    image = dev_bake.one("aws:imagebuilder/image:Image")
    assert image.custom_timeouts == {"create": "120m"}


def test_baked_image_root_volume_matches_the_launch_template_volume():
    graph = _plan({"ami": {"bake": {"version": "1.0.0", "build_instance_type": "m7i.large"}}, "root_volume_size": 8,
                   "instance_type": "m7i.large"})
    recipe = graph.one("aws:imagebuilder/imageRecipe:ImageRecipe")
    assert recipe.get("blockDeviceMappings.0.ebs.volumeSize") == 8
    assert graph.one("aws:ec2/launchTemplate:LaunchTemplate").get("blockDeviceMappings.0.ebs.volumeSize") == 8
    assert recipe.inputs["parentImage"].endswith("al2023-ami-kernel-default-x86_64")


def test_a_new_version_bakes_a_new_ami_and_changes_the_launch_template(dev_bake):
    newer = _plan({"ami": {"bake": {"version": "1.0.1"}}})
    old_ami = dev_bake.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"]
    new_ami = newer.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"]
    assert old_ami != new_ami
    assert newer.one("aws:imagebuilder/component:Component").inputs["version"] == "1.0.1"


# -- options --------------------------------------------------------------------------------------

def test_mixed_instances_take_the_types_in_order_and_the_spot_share(dev_tuned):
    group = dev_tuned.one("aws:autoscaling/group:Group")
    policy = group.inputs["mixedInstancesPolicy"]
    assert [o["instanceType"] for o in policy["launchTemplate"]["overrides"]] == ["m7i.large", "m6i.large", "m5.large"]
    dist = policy["instancesDistribution"]
    assert dist["onDemandPercentageAboveBaseCapacity"] == 70 and dist["onDemandBaseCapacity"] == 1
    assert group.inputs["capacityRebalance"] is True
    assert dev_tuned.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["instanceType"] == "m7i.large"


def test_rollout_settings_are_passed_through(dev_tuned):
    group = dev_tuned.one("aws:autoscaling/group:Group")
    assert group.inputs["waitForCapacityTimeout"] == "1200s"
    assert group.inputs["defaultInstanceWarmup"] == 120


def test_request_count_tracking_targets_the_alb_target_group(dev_tuned):
    policy = dev_tuned.one("aws:autoscaling/policy:Policy", "inventory-requests")
    spec = policy.get("targetTrackingConfiguration.predefinedMetricSpecification")
    assert spec["predefinedMetricType"] == "ALBRequestCountPerTarget"
    lb_suffix, tg_suffix = spec["resourceLabel"].split("/targetgroup/")
    assert lb_suffix.startswith("app/inventory-lb") and tg_suffix.startswith("inventory-tg")
    assert policy.get("targetTrackingConfiguration.targetValue") == 500
    assert dev_tuned.one("aws:autoscaling/policy:Policy", "inventory-cpu").get(
        "targetTrackingConfiguration.targetValue") == 45


def test_scheduled_actions_change_only_the_sizes_given(dev_tuned):
    schedule = dev_tuned.one("aws:autoscaling/schedule:Schedule", "inventory-schedule-night")
    assert (schedule.inputs["recurrence"], schedule.inputs["timeZone"]) == ("0 20 * * *", "Europe/Paris")
    assert (schedule.inputs["minSize"], schedule.inputs["maxSize"], schedule.inputs["desiredCapacity"]) == (0, -1, 0)


def test_warm_pool_keeps_stopped_instances_and_turns_off_dev_spot():
    graph = _plan({"ami": AMI, "autoscaling": {"warm_pool": {"min_size": 1, "reuse_on_scale_in": True}}})
    group = graph.one("aws:autoscaling/group:Group")
    assert group.inputs["warmPool"] == {"minSize": 1, "maxGroupPreparedCapacity": 2, "poolState": "Stopped",
                                        "instanceReusePolicy": {"reuseOnScaleIn": True}}
    assert "mixedInstancesPolicy" not in group.inputs and group.inputs["launchTemplate"]["version"] == "1"


def test_the_first_rollout_checks_the_group_is_healthy_in_its_target_group(dev_explicit):
    # After a failed first deploy the next `up` only updates the group (no wait): the rollout, created then,
    # checks the target group itself.
    group = dev_explicit.one("aws:autoscaling/group:Group")
    rollout = dev_explicit.one(ROLLOUT)
    assert rollout.inputs["target_group_arn"] == group.inputs["targetGroupArns"][0]
    assert rollout.inputs["min_healthy"] == group.inputs["minElbCapacity"] == 1


def test_unexposed_service_has_no_load_balancer_and_uses_ec2_health_checks():
    graph = _plan({"ami": AMI, "expose": "none"})
    assert graph.of_type("aws:lb/loadBalancer:LoadBalancer") == []
    assert graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []
    assert graph.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []
    group = graph.one("aws:autoscaling/group:Group")
    assert group.inputs["healthCheckType"] == "EC2" and "targetGroupArns" not in group.inputs
    # Without a load balancer the provider waits for the group's instances to be InService (EC2 health).
    assert "minElbCapacity" not in group.inputs and group.inputs["waitForCapacityTimeout"] == "900s"
    assert graph.one(ROLLOUT).inputs["alarms"] == []
    assert graph.one(ROLLOUT).inputs["target_group_arn"] == "" and graph.one(ROLLOUT).inputs["min_healthy"] == 0


# -- validation -----------------------------------------------------------------------------------

def _check(spec, *fragments, environment="dev"):
    full = {"ami": AMI, **spec}
    return assert_problem(lambda: validate_vm("inventory", full, "services.inventory", project_dir=ROOT,
                                              profile=environment).raise_if_any(), *fragments)


@pytest.mark.parametrize("spec, path, fragment", [
    ({"scaling": {"min": 3, "max": 2}}, "scaling.min", "must be at most scaling.max (2), got 3"),
    ({"scaling": {"min": 2, "max": 4, "desired": 5}}, "scaling.desired", "between scaling.min and scaling.max (4)"),
    ({"scaling": {"min": 2, "max": 4, "desired": 1}}, "scaling.desired", "between scaling.min (2)"),
    ({"health_check": {"interval": 5, "timeout": 5}}, "health_check.interval", "greater than health_check.timeout"),
    ({"health_check": {"healthy_threshold": 1}}, "health_check.healthy_threshold", "between 2 and 10"),
    ({"health_check": {"unhealthy_threshold": 11}}, "health_check.unhealthy_threshold", "between 2 and 10"),
    ({"health_check": {"path": "health"}}, "health_check.path", "must start with '/'"),
    ({"health_check": {"path": "/" + "x" * 1024}}, "health_check.path", "at most 1024 characters"),
    ({"port": 70000}, "port", "between 1 and 65535"),
    ({"port": 0}, "port", "between 1 and 65535"),
    ({"instance_refresh": {"min_healthy_percentage": 90}}, "services.inventory.instance_refresh",
     "is no longer used"),
    ({"rollout": {"timeout": 200}}, "rollout.timeout", "between 300 and 7200"),
    ({"rollout": {"timeout": 7201}}, "rollout.timeout", "between 300 and 7200"),
    ({"rollout": {"timeout": 600}, "health_check": {"grace_period": 600}}, "rollout.timeout",
     "must be more than health_check.grace_period (600 s), got 600"),
    ({"environment": {f"V{i}": "x" * 200 for i in range(80)}}, "services.inventory.environment",
     "more than EC2 allows (16384)"),
    ({"rollout": {"instance_warmup": 3601}}, "rollout.instance_warmup", "between 0 and 3600"),
    ({"ami": {"bake": {"version": "1.0.0", "timeout": 30}}}, "ami.bake.timeout", "between 60 and 1440"),
    ({"ami": {"bake": {"version": "1.0.0", "tests_timeout": 90}}}, "ami.bake.tests_timeout", "unknown"),
    ({"ami": {"bake": {"version": "1.0.0", "keep": 1}}}, "ami.bake.keep", "between 2 and 100"),
    ({"ami": {"bake": {"version": "1.0.0", "build_instance_type": "m7i.large"}}}, "ami.bake.build_instance_type",
     "builds x86_64 images ('m7i.large') but the profile's instance_type (t4g.small: arm64) need arm64"),
    ({"instance_types": ["m7g.large", "c7g.large"], "ami": {"bake": {"version": "1.0.0",
                                                                    "build_instance_type": "c6i.large"}}},
     "ami.bake.build_instance_type", "instance_types (m7g.large, c7g.large: arm64) need arm64"),
    ({"instance_type": "m7i.large", "ami": {"bake": {"version": "1.0.0", "parent_parameter":
                                                     "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"}}},
     "ami.bake.parent_parameter", "names an arm64 image"),
    ({"spot_percentage": 101}, "spot_percentage", "between 0 and 100"),
    ({"spot_percentage": -1}, "spot_percentage", "between 0 and 100"),
    ({"on_demand_base_capacity": 5, "scaling": {"max": 3}}, "on_demand_base_capacity", "at most scaling.max (3)"),
    ({"instance_type": "t4g.small", "instance_types": ["t4g.small"]}, "instance_types", "cannot be set with instance_type"),
    ({"instance_types": ["t4g.small", "m7i.large"]}, "instance_types", "must share one architecture"),
    ({"instance_types": ["m7i.large", "m7i.large"]}, "instance_types", "lists an instance type twice"),
    ({"instance_types": []}, "instance_types", "at least one instance type"),
    ({"instance_types": ["huge"]}, "instance_types[0]", "an EC2 instance type"),
    ({"root_volume_size": 7}, "root_volume_size", "between 8 and 16384"),
    ({"metadata_hop_limit": 0}, "metadata_hop_limit", "between 1 and 64"),
    ({"ami": None}, "services.inventory.ami", "is required"),
    ({"ami": "ami-xyz"}, "services.inventory.ami", "an AMI id such as"),
    ({"ami": {"lookup": {"version": "1"}, "bake": {"version": "1.0.0"}}}, "services.inventory.ami",
     "needs exactly one of id, lookup, bake (given: lookup, bake)"),
    ({"ami": {"lookup": {}}}, "ami.lookup.version", "is required"),
    ({"ami": {"lookup": {"version": "1", "owner": "me"}}}, "ami.lookup.owner", "unknown key"),
    ({"ami": {"bake": {"version": "1.0"}}}, "ami.bake.version", "a semantic version major.minor.patch"),
    ({"ami": {"bake": {"version": "1.0.0", "document": "missing.yaml"}}}, "ami.bake.document",
     "services/inventory/missing.yaml does not exist"),
    ({"ami": {"bake": {"version": "1.0.0", "document": "../cart/x.yaml"}}}, "ami.bake.document",
     "must stay inside services/inventory/"),
    ({"ami": {"bake": {"version": "1.0.0", "schedule": "weekly"}}}, "ami.bake.schedule", "cron expression"),
    ({"ami": {"bake": {"version": "1.0.0", "parent_parameter": "al2023"}}}, "ami.bake.parent_parameter",
     "an SSM parameter name"),
    ({"autoscaling": {"warm_pool": {"min_size": 1}}, "spot_percentage": 50}, "autoscaling.warm_pool",
     "cannot be used with Spot instances"),
    ({"autoscaling": {"warm_pool": {}}, "instance_types": ["m7g.large", "m6g.large"]}, "autoscaling.warm_pool",
     "several instance_types"),
    ({"autoscaling": {"warm_pool": {"pool_state": "Hibernated"}}}, "warm_pool.pool_state",
     "must be one of 'Stopped', 'Running'"),
    ({"autoscaling": {"schedules": {"night": {"recurrence": "0 20 * * *"}}}}, "autoscaling.schedules.night",
     "at least one of min, max, desired"),
    ({"autoscaling": {"schedules": {"night": {"recurrence": "nightly", "min": 0}}}}, "schedules.night.recurrence",
     "five-field cron expression"),
    ({"autoscaling": {"schedules": {"night": {"recurrence": "0 20 * * *", "min": 3, "max": 1}}}},
     "schedules.night.min", "at most max (1)"),
    ({"autoscaling": {"schedules": {"Night": {"recurrence": "0 20 * * *", "min": 0}}}}, "schedules.Night",
     "lowercase letters"),
    ({"autoscaling": {"requests_per_target": 0}}, "requests_per_target", "between 1 and 1000000"),
    ({"autoscaling": {"requests_per_target": 100}, "load_balancer": {"type": "nlb"}},
     "autoscaling.requests_per_target", "needs an ALB"),
    ({"load_balancer": {"deregistration_delay": 4000}}, "load_balancer.deregistration_delay", "between 0 and 3600"),
    ({"load_balancer": {"matcher": "600"}}, "load_balancer.matcher", "between 200 and 499"),
    ({"instance_profile": "x"}, "services.inventory.instance_profile", "unknown key"),
    ({"ami": 5}, "services.inventory.ami", "must be an AMI id or a mapping"),
    ({"ami": {"lookup": {"version": "1", "tags": {"Team": ["a"]}}}}, "ami.lookup.tags.Team", "a string value"),
    ({"ami": {"lookup": {"version": "x" * 257}}}, "ami.lookup.version", "a tag value of 1-256"),
    ({"ami": {"bake": {"version": "1.0.0", "build_instance_type": "big"}}}, "ami.bake.build_instance_type",
     "an EC2 instance type"),
    ({"ami": {"bake": {"version": "1.0.0", "document": "component.json"}}}, "ami.bake.document", "a .yaml file"),
    ({"instance_types": [f"m7g.{i}xlarge" for i in range(21)]}, "instance_types", "at most 20 instance types"),
    ({"rollout": {"strategy": "Rolling"}}, "rollout.strategy", "unknown key"),
    ({"autoscaling": {"scale_in": True}}, "autoscaling.scale_in", "unknown key"),
    ({"autoscaling": {"warm_pool": {"min_size": 1001}}}, "warm_pool.min_size", "between 0 and 1000"),
    ({"autoscaling": {"warm_pool": {"max_prepared_capacity": -1}}}, "warm_pool.max_prepared_capacity",
     "between 0 and 1000"),
    ({"autoscaling": {"warm_pool": {"reuse_on_scale_in": "yes"}}}, "warm_pool.reuse_on_scale_in", "true or false"),
    ({"autoscaling": {"schedules": {"n": {"recurrence": "0 20 * * *", "min": 1, "max": 2, "desired": 3}}}},
     "schedules.n.desired", "between min and max"),
    ({"autoscaling": {"schedules": {"n": {"recurrence": "0 20 * * *", "min": 1, "time_zone": "Paris time"}}}},
     "schedules.n.time_zone", "an IANA time zone"),
    ({"autoscaling": {"schedules": {"n": {"recurrence": "0 20 * * *", "min": 1, "at": "now"}}}},
     "schedules.n.at", "unknown key"),
    ({"autoscaling": {"schedules": {"n": {"recurrence": "0 20 * * *", "max": 1001}}}}, "schedules.n.max",
     "between 0 and 1000"),
    ({"autoscaling": {"requests_per_target": 100}, "expose": "none"}, "autoscaling.requests_per_target",
     "needs an ALB"),
])
def test_vm_validation_names_the_path_and_the_limit(spec, path, fragment):
    _check(spec, path, fragment)


def test_validation_reports_every_problem_at_once():
    lines = _check({"port": 0, "spot_percentage": 200, "scaling": {"min": 5, "max": 1}}, "port")
    assert len(lines) == 3


def test_constructor_validates_before_registering_anything():
    assert_problem(lambda: VmService("inventory", {"ami": AMI, "scaling": {"min": 4, "max": 2}},
                                     network=NET, profile="dev"), "inventory.scaling.min", "at most scaling.max")
    assert_problem(lambda: VmService("inventory", {"ami": AMI}, profile="dev"), "inventory.network", "is required")


def test_graviton_families_are_arm64():
    assert [architecture(t) for t in ("t4g.small", "m7g.large", "c7gn.xlarge", "a1.medium", "m7i.large",
                                      "g5.xlarge", "c6in.large")] == \
        ["arm64", "arm64", "arm64", "arm64", "x86_64", "x86_64", "x86_64"]


def test_user_data_never_contains_secret_values_only_arns():
    script = render_user_data("inventory", "dev", 8080, {}, {"TOKEN": DB_ARN})
    assert DB_ARN in script and "--with-decryption" in script
    assert script.startswith("#!/bin/bash\n")


def _secrets_script(tmp_path, aws_body):
    """The fetch script from the rendered user data, writing under tmp_path, with a fake `aws` CLI."""
    user_data = render_user_data("inventory", "dev", 8080, {}, {"TOKEN": DB_ARN, "API_KEY": API_KEY_ARN})
    script = user_data.split("<<'MICROSERVICES_SECRETS'\n", 1)[1].split("\nMICROSERVICES_SECRETS\n", 1)[0]
    path = tmp_path / "secrets.sh"
    path.write_text(script.replace("/run/inventory", str(tmp_path / "run")))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text("#!/bin/bash\n" + aws_body)
    (bin_dir / "aws").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(path)], env=env, capture_output=True, text=True), tmp_path / "run"


def test_secrets_are_fetched_before_every_start_of_the_unit_not_only_at_first_boot():
    # /run is empty again after a reboot or a warm pool's stop/start, and user data runs only once.
    script = render_user_data("inventory", "dev", 8080, {}, {"TOKEN": DB_ARN})
    assert "ExecStartPre=+/usr/local/libexec/inventory-secrets" in script
    assert script.index("secrets.conf") < script.index("systemctl daemon-reload")


def test_secrets_script_writes_escaped_values_into_tmpfs(tmp_path):
    result, run_dir = _secrets_script(tmp_path, 'case "$*" in *ssm*) echo \'p@ss"w\\rd\';; *) echo key;; esac\n')
    assert result.returncode == 0, result.stderr
    assert (run_dir / "secrets.env").read_text() == 'API_KEY="key"\nTOKEN="p@ss\\"w\\\\rd"\n'
    assert oct((run_dir / "secrets.env").stat().st_mode & 0o777) == "0o600"


def test_a_failed_secret_fetch_fails_the_start_instead_of_starting_without_it(tmp_path):
    result, run_dir = _secrets_script(tmp_path, 'case "$*" in *ssm*) echo denied >&2; exit 254;; *) echo key;; esac\n')
    assert result.returncode != 0
    assert not (run_dir / "secrets.env").exists() and list(run_dir.iterdir()) == []


# -- the pattern and the reference catalog --------------------------------------------------------

def test_pattern_is_skipped_in_the_local_profile_with_a_reason():
    assert PATTERN.name == "vm" and PATTERN.build_local is None
    assert "EC2" in PATTERN.local_skip_reason


def test_catalog_check_refuses_a_shared_rule_claimed_twice():
    from components.catalog import load_catalog
    from tests.conftest import problems_of
    services = {"a": {"pattern": "vm", "ami": AMI, "load_balancer": {"shared": "edge", "path": "/x/*"}},
                "b": {"pattern": "vm", "ami": AMI, "load_balancer": {"shared": "edge", "path": "/x/*"}}}
    problems = problems_of(lambda: load_catalog({"catalog_dir": "", "services": services}, ROOT))
    assert problems == [
        "services.b.load_balancer: the rule path '/x/*' on shared ALB 'edge' is already claimed by service 'a'"]


def test_catalog_check_sees_shared_rules_across_patterns():
    from components.catalog import load_catalog
    from tests.conftest import problems_of
    image = {"ref": "public.ecr.aws/docker/library/nginx@sha256:" + "a" * 64}
    services = {"api": {"pattern": "ecs", "image": image, "load_balancer": {"shared": "edge", "path": "/x/*"}},
                "web": {"pattern": "vm", "ami": AMI, "load_balancer": {"shared": "edge", "path": "/x/*"}}}
    problems = problems_of(lambda: load_catalog({"catalog_dir": "", "services": services}, ROOT))
    assert problems == [
        "services.web.load_balancer: the rule path '/x/*' on shared ALB 'edge' is already claimed by service 'api'"]


def test_reference_catalog_entry_is_valid_in_every_environment():
    spec = dict(yaml.safe_load((ROOT / "catalog/vm.yaml").read_text())["services"]["inventory"])
    assert spec.pop("pattern") == "vm"
    for environment in ("dev", "staging", "prod"):
        assert validate_vm("inventory", spec, "services.inventory", project_dir=ROOT, profile=environment) == []
    assert Path(ROOT / "services/inventory" / spec["ami"]["bake"]["document"]).is_file()


def test_sample_component_installs_and_enables_a_systemd_unit():
    doc = yaml.safe_load((ROOT / "services/inventory/component.yaml").read_text())
    steps = {s["name"]: s for phase in doc["phases"] for s in phase["steps"]}
    unit = steps["InstallUnit"]["inputs"][0]
    assert unit["path"] == "/etc/systemd/system/inventory.service"
    assert "EnvironmentFile=-/run/inventory/secrets.env" in unit["content"]
    assert "systemctl enable inventory.service" in steps["EnableUnit"]["inputs"]["commands"]


def test_sample_unit_waits_for_the_configuration_user_data_writes_on_first_boot():
    doc = yaml.safe_load((ROOT / "services/inventory/component.yaml").read_text())
    steps = {s["name"]: s for phase in doc["phases"] for s in phase["steps"]}
    unit = steps["InstallUnit"]["inputs"][0]["content"]
    # Enabled at bake time, the unit would start on first boot before cloud-init writes its environment.
    assert "ConditionPathExists=/etc/inventory/environment" in unit
    assert "EnvironmentFile=/etc/inventory/environment" in unit
    script = render_user_data("inventory", "dev", 8080, {}, {"DB": DB_ARN})
    assert script.index("cat > /etc/inventory/environment") < script.index("systemctl restart inventory.service")
    # The image test instance has no user data: the test writes the file before starting the unit.
    test_commands = steps["AnswersHealthChecks"]["inputs"]["commands"]
    assert "/etc/inventory/environment" in test_commands[0] and test_commands[1] == "systemctl start inventory.service"


@pytest.fixture(scope="module")
def platform_dev():
    from components.platform import Platform
    inventory = yaml.safe_load((ROOT / "catalog/vm.yaml").read_text())["services"]["inventory"]
    # Without the stack's gateway here: the catalog's inventory keeps an ALB of its own.
    inventory = {k: v for k, v in inventory.items() if k != "routes"}
    services = {
        "inventory": inventory,
        "orders": {"pattern": "vm", "ami": AMI, "expose": "public",
                   "load_balancer": {"shared": "edge", "path": "/orders/*"}},
        "users": {"pattern": "vm", "ami": AMI, "expose": "public",
                  "load_balancer": {"shared": "edge", "path": "/users/*"}},
    }
    return run(lambda: Platform("stack", {"environment": "dev", "services": services, "catalog_dir": ""},
                                project_dir=ROOT),
               config={"microservices:environment": "dev", "aws:region": "us-east-1"}, stack="dev")


def test_platform_builds_vm_services_in_its_network_with_one_shared_alb(platform_dev):
    services = {r.name: r for r in platform_dev.of_type("microservices:vm:VmService")}
    assert sorted(services) == ["inventory", "orders", "users"]
    shared = platform_dev.of_type("microservices:lb:SharedLoadBalancer")
    assert [s.name for s in shared] == ["edge"]
    lbs = sorted(r.name for r in platform_dev.of_type("aws:lb/loadBalancer:LoadBalancer"))
    assert lbs == ["edge-lb", "inventory-lb"]
    rules = sorted(r.name for r in platform_dev.of_type("aws:lb/listenerRule:ListenerRule"))
    assert rules == ["orders-rule", "users-rule"]
    group = platform_dev.one("aws:autoscaling/group:Group", "inventory-asg")
    subnets = [s for s in platform_dev.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name]
    assert len(group.inputs["vpcZoneIdentifiers"]) == len(subnets) == 2
    assert platform_dev.of_type("aws:imagebuilder/image:Image")[0].name == "inventory-image"


def test_bake_document_must_be_an_image_builder_component(tmp_path):
    folder = tmp_path / "services" / "inventory"
    folder.mkdir(parents=True)
    (folder / "broken.yaml").write_text("phases: [\n")
    (folder / "plain.yaml").write_text("name: not a component\n")
    for document, fragment in (("broken.yaml", "is not valid YAML"), ("plain.yaml", "with schemaVersion and phases")):
        problems = validate_vm("inventory", {"ami": {"bake": {"version": "1.0.0", "document": document}}},
                               "services.inventory", project_dir=tmp_path, profile="dev")
        assert any("ami.bake.document" in str(p) and fragment in str(p) for p in problems), problems


def test_vm_service_is_exported_by_the_package():
    import components
    assert components.VmService is VmService


# -- resolve once: the settings carry the defaults the args document -------------------------------------------
def test_a_minimal_spec_resolves_once_into_settings_with_the_documented_defaults():
    import dataclasses

    from components.profiles import get_profile
    from components.vm.args import AL2023_PARAMETER, resolve_vm

    dev = resolve_vm({"ami": {"bake": {"version": 1.0}}, "autoscaling": {
        "schedules": {"night": {"recurrence": "0 20 * * *", "max": 1}}, "warm_pool": {}}}, get_profile("dev"))
    assert (dev.instance_types, dev.root_volume_size, dev.metadata_hop_limit, dev.key_name) == (("t4g.small",), 20, 1, None)
    assert (dev.core.port, dev.core.health_check.grace_period, dev.on_demand_base_capacity) == (8080, 300, 0)
    assert (dev.rollout.timeout, dev.rollout.instance_warmup) == (900, 300)
    assert dev.spot_percentage == 0  # a warm pool keeps the dev profile's Spot preference off
    bake = dev.ami.bake
    assert (bake.version, bake.document, bake.keep, bake.timeout, bake.schedule) == ("1.0", "component.yaml", 5, 120, None)
    assert (bake.build_instance_type, bake.parent_parameter) == ("t4g.small", AL2023_PARAMETER.format(arch="arm64"))
    assert dev.autoscaling.schedules["night"] == type(dev.autoscaling.schedules["night"])(
        recurrence="0 20 * * *", min=-1, max=1, desired=-1, time_zone="UTC")
    warm = dev.autoscaling.warm_pool
    assert (warm.min_size, warm.max_prepared_capacity, warm.pool_state, warm.reuse_on_scale_in) == (0, 2, "Stopped", False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        dev.root_volume_size = 30

    prod = resolve_vm({"ami": AMI, "health_check": {"grace_period": 120}, "rollout": {"timeout": 600}},
                      get_profile("prod"))
    assert (prod.ami.id, prod.instance_type, prod.spot_percentage) == (AMI, "m7g.large", 0)
    assert (prod.rollout.timeout, prod.rollout.instance_warmup, prod.autoscaling.warm_pool) == (600, 120, None)


@pytest.mark.parametrize("args, key, settings, field", [
    ("VmServiceArgs", "root_volume_size", "VmSettings", "root_volume_size"),
    ("VmServiceArgs", "metadata_hop_limit", "VmSettings", "metadata_hop_limit"),
    ("VmServiceArgs", "on_demand_base_capacity", "VmSettings", "on_demand_base_capacity"),
    ("BakeArgs", "keep", "Bake", "keep"),
    ("BakeArgs", "timeout", "Bake", "timeout"),
    ("BakeArgs", "document", "Bake", "document"),
    ("WarmPoolArgs", "min_size", "WarmPool", "min_size"),
    ("WarmPoolArgs", "pool_state", "WarmPool", "pool_state"),
    ("ScheduleArgs", "time_zone", "Schedule", "time_zone"),
])
def test_each_documented_default_is_the_settings_default(args, key, settings, field):
    import ast
    import dataclasses
    import inspect
    import re

    import components.vm.args as vm_args
    body = ast.parse(inspect.getsource(getattr(vm_args, args))).body[0].body
    doc = next(body[i + 1].value.value for i, node in enumerate(body)
               if isinstance(node, ast.AnnAssign) and node.target.id == key)
    default = {f.name: f.default for f in dataclasses.fields(getattr(vm_args, settings))}[field]
    assert re.search(rf"Default: (``)?{re.escape(str(default))}(``)?[ .]", doc), (doc, default)
