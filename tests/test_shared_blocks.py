"""What more than one pattern uses lives once, in ``components/blocks``: GIVEN the same input to two
patterns / WHEN validated or planned under mocks / THEN both give the one answer the block gives."""

from __future__ import annotations

import pytest

from components.blocks.launch_template import AMI_ID_PATTERN
from components.ecs import EcsCluster
from components.lambda_service import LambdaService
from components.plan.runtime import run
from components.vm import VmService
from tests.conftest import ROOT, assert_problem

NET = {"vpc_id": "vpc-0123", "vpc_cidr": "10.40.0.0/16",
       "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"], "private_subnet_ids": ["subnet-priv-a", "subnet-priv-b"]}
CONFIG = {"aws:region": "us-east-1"}

# -- AMI ids ------------------------------------------------------------------------------------------
BAD_AMI_IDS = ["ami-0123456789ab", "ami-0123456", "ami-0123456789ABCDEF0", "ami-0123456789abcdef01", "ubuntu"]
GOOD_AMI_IDS = ["ami-0123abcd", "ami-0123456789abcdef0"]


@pytest.mark.parametrize("ami", BAD_AMI_IDS)
def test_vm_and_ecs_reject_the_same_malformed_ami_ids(ami):
    message = f"must be an AMI id such as 'ami-0abcdef1234567890', got {ami!r}"
    assert_problem(lambda: VmService("inventory", {"ami": ami}, network=NET, project_dir=ROOT),
                   "inventory.ami", message)
    assert_problem(lambda: EcsCluster("ecs", {"ec2": {"ami_id": ami}}, network=NET), "ecs.ec2.ami_id", message)


@pytest.mark.parametrize("ami", GOOD_AMI_IDS)
def test_vm_and_ecs_launch_the_same_well_formed_ami_ids(plan, ami):
    vm = plan(lambda: VmService("inventory", {"ami": ami}, network=NET, project_dir=ROOT), config=CONFIG)
    ecs = plan(lambda: EcsCluster("ecs", {"ec2": {"ami_id": ami}}, network=NET), config=CONFIG)
    assert vm.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == ami
    assert ecs.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == ami


def test_ami_id_pattern_lives_once_in_the_launch_template_block():
    import components.ecs as ecs
    import components.vm as vm
    assert vm.AMI_ID_PATTERN is ecs.AMI_ID_PATTERN is AMI_ID_PATTERN


# -- the network accessor -----------------------------------------------------------------------------
def test_lambda_in_a_vpc_reads_a_network_object_as_the_other_patterns_do(tmp_path):
    class Outputs:
        vpc_id, vpc_cidr, private_subnet_ids = "vpc-9", "10.9.0.0/16", ["subnet-x", "subnet-y"]
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    graph = run(lambda: LambdaService("orders", {"code": "fn", "vpc": True}, network=Outputs(),
                                      project_dir=tmp_path, profile="dev"),
                config={"microservices:environment": "dev"}, stack="dev", project_dir=tmp_path)
    assert graph.one("aws:lambda/function:Function").get("vpcConfig.subnetIds") == ["subnet-x", "subnet-y"]
    assert graph.one("aws:ec2/securityGroup:SecurityGroup", "orders-sg").inputs["vpcId"] == "vpc-9"


def test_lambda_in_a_vpc_names_the_key_a_network_dict_lacks(tmp_path):
    """A dict without ``vpc_cidr`` used to plan a security group rule for CIDR ``None``, which AWS rejects
    at apply time; the shared accessor fails the preview naming the missing key."""
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    network = {"vpc_id": "vpc-9", "private_subnet_ids": ["subnet-x"]}
    with pytest.raises(Exception, match="network: missing 'vpc_cidr'"):
        run(lambda: LambdaService("orders", {"code": "fn", "vpc": True}, network=network,
                                  project_dir=tmp_path, profile="dev"),
            config={"microservices:environment": "dev"}, stack="dev", project_dir=tmp_path)


def test_one_network_accessor_for_every_pattern():
    import components.ecs as ecs
    import components.lambda_service as lambda_service
    import components.vm as vm
    from components.blocks.load_balancer import network_value
    assert vm.network_value is ecs.network_value is lambda_service.network_value is network_value
    assert not hasattr(lambda_service, "_network_value")
