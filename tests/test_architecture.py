"""One instance-architecture rule for every pattern: GIVEN an instance type / WHEN the vm, ecs or eks
pattern plans it under mocks / THEN the AMI and task platform are of the architecture the block says."""

from __future__ import annotations

import json

import pytest

from components.blocks.architecture import instance_architecture, is_arm64
from components.ecs import EcsCluster, EcsService
from components.eks import EksCluster
from components.vm import VmService
from tests.conftest import ROOT

GRAVITON = ("a1.large", "a1.metal", "t4g.small", "m6g.large", "m7gd.xlarge", "c7gn.xlarge", "r8g.large", "x2gd.large",
            "im4gn.large", "is4gen.large", "g5g.xlarge", "hpc7g.4xlarge")
X86 = ("t3.micro", "m7i.large", "m7i-flex.large", "c6in.large", "g4dn.xlarge", "g5.xlarge", "gr6.4xlarge",
       "p5en.48xlarge", "inf2.xlarge", "u7i-12tb.224xlarge", "m5a.large")
NET = {"vpc_id": "vpc-0123", "vpc_cidr": "10.40.0.0/16",
       "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"], "private_subnet_ids": ["subnet-priv-a", "subnet-priv-b"]}
CONFIG = {"aws:region": "us-east-1"}
IMAGE = {"ref": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0.0"}


@pytest.mark.parametrize("instance_type", GRAVITON)
def test_a1_and_graviton_families_are_arm64(instance_type):
    assert instance_architecture(instance_type) == "arm64" and is_arm64(instance_type)


@pytest.mark.parametrize("instance_type", X86)
def test_other_families_are_x86_64(instance_type):
    assert instance_architecture(instance_type) == "x86_64" and not is_arm64(instance_type)


@pytest.mark.parametrize("instance_type, arch", [("a1.large", "arm64"), ("c7gn.xlarge", "arm64"), ("m7i.large", "x86_64")])
def test_vm_looks_up_the_ami_of_the_block_architecture(plan, instance_type, arch):
    graph = plan(lambda: VmService("inventory", {"ami": {"lookup": {"version": "1.0.0"}}, "instance_type": instance_type},
                                   network=NET, project_dir=ROOT), config=CONFIG)
    call = next(args for token, args in graph.invokes if token == "aws:ec2/getAmi:getAmi")
    assert {f["name"]: f["values"] for f in call["filters"]}["architecture"] == [arch]


@pytest.mark.parametrize("instance_type, arch", [("a1.large", "arm64"), ("is4gen.large", "arm64"),
                                                 ("m7i.large", "x86_64")])
def test_ecs_hosts_and_tasks_run_the_block_architecture(plan, instance_type, arch):
    def program():
        cluster = EcsCluster("ecs", {"ec2": {"instance_type": instance_type}}, network=NET)
        EcsService("pricing", {"image": IMAGE, "capacity": "ec2"}, cluster=cluster, network=NET, project_dir=ROOT)
    graph = plan(program, config=CONFIG)
    segment = {"arm64": "/arm64", "x86_64": ""}[arch]
    assert ("aws:ssm/getParameter:getParameter",
            {"name": f"/aws/service/ecs/optimized-ami/amazon-linux-2023{segment}/recommended/image_id"}) in graph.invokes
    platform = graph.one("aws:ecs/taskDefinition:TaskDefinition", "pricing-taskdef").inputs["runtimePlatform"]
    assert platform["cpuArchitecture"] == {"arm64": "ARM64", "x86_64": "X86_64"}[arch]


@pytest.mark.parametrize("instance_type, ami_type", [("a1.large", "AL2023_ARM_64_STANDARD"),
                                                     ("g5g.xlarge", "AL2023_ARM_64_STANDARD"),
                                                     ("m7i.large", "AL2023_x86_64_STANDARD")])
def test_eks_node_group_runs_the_ami_of_the_block_architecture(plan, instance_type, ami_type):
    graph = plan(lambda: EksCluster("eks", {"node_groups": {"general": {"instance_types": [instance_type], "spot": False}}},
                                    network=NET), config=CONFIG)
    assert graph.one("aws:eks/nodeGroup:NodeGroup", "eks-general").inputs["amiType"] == ami_type


def test_the_three_patterns_share_one_architecture_helper():
    import components.ecs.args as ecs
    import components.eks.cluster as eks
    import components.vm.ami as vm_ami
    import components.vm.args as vm_args
    import components.vm.validate as vm_validate
    assert vm_ami.architecture is vm_validate.architecture is ecs.instance_architecture is instance_architecture
    assert vm_args.instance_architecture is instance_architecture
    assert eks.is_arm is is_arm64
    assert json.dumps(ecs.ARCHITECTURES) == '["arm64", "x86_64"]'
