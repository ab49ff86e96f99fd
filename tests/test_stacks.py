"""Every reference stack plans, and each has the shape its profile promises."""

from __future__ import annotations

import pytest

from tests.conftest import STACKS, stack_plan


def by_type(doc, type_):
    return [r for r in doc["resources"] if r["type"] == type_]


def test_reference_stacks_exist():
    assert {"dev", "staging", "prod", "local"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_plans(stack):
    doc = stack_plan(stack)
    assert doc["environment"] == stack
    assert by_type(doc, "microservices:platform:Platform")
    urns = [r["urn"] for r in doc["resources"]]
    assert len(urns) == len(set(urns))


def test_dev_has_two_azs_and_one_nat_gateway():
    doc = stack_plan("dev")
    assert len(by_type(doc, "aws:ec2/natGateway:NatGateway")) == 1
    zones = {r["inputs"]["availabilityZone"] for r in by_type(doc, "aws:ec2/subnet:Subnet")}
    assert zones == {"us-east-1a", "us-east-1b"}


def test_prod_has_a_nat_gateway_in_each_of_three_azs():
    doc = stack_plan("prod")
    nats = by_type(doc, "aws:ec2/natGateway:NatGateway")
    subnets = {r["urn"]: r["inputs"]["availabilityZone"] for r in by_type(doc, "aws:ec2/subnet:Subnet")}
    assert set(subnets.values()) == {"us-east-1a", "us-east-1b", "us-east-1c"}
    nat_zones = {subnets[r["propertyDependencies"]["subnetId"][0]] for r in nats}
    assert len(nats) == 3 and nat_zones == {"us-east-1a", "us-east-1b", "us-east-1c"}


def test_local_stack_creates_no_aws_resources():
    doc = stack_plan("local")
    assert not [r for r in doc["resources"] if r["type"].startswith("aws:")]
