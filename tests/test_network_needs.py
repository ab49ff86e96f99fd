"""What the services need from the network: interface endpoints without NAT, two AZs per ALB, subnets big
enough for load balancers, only the region's own AZs."""

from __future__ import annotations

import pytest

from components.catalog import load_catalog
from components.network import Network, validate_network
from tests.conftest import ROOT, assert_problem

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
AMI = "ami-0123456789abcdef0"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/db"
PARAM = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/key"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cart:1.0.0"


def _catalog(services, network, environment="dev"):
    return lambda: load_catalog({"environment": environment, "catalog_dir": "", "network": network,
                                 "services": services}, ROOT)


# -- interface endpoints --------------------------------------------------------------------------

def test_endpoints_are_interface_endpoints_with_private_dns_in_every_private_subnet(plan):
    graph = plan(lambda: Network("net", {"availability_zones": 3, "nat": "none",
                                         "endpoints": ["ssm", "ecr.dkr", "secretsmanager"]}))
    endpoints = {r.name: r for r in graph.of_type(ENDPOINT) if r.inputs["vpcEndpointType"] == "Interface"}
    assert sorted(endpoints) == ["net-endpoint-ecr-dkr", "net-endpoint-secretsmanager", "net-endpoint-ssm"]
    ssm = endpoints["net-endpoint-ssm"]
    assert ssm.inputs["serviceName"] == "com.amazonaws.us-east-1.ssm" and ssm.inputs["privateDnsEnabled"] is True
    private = [r.urn for r in graph.of_type("aws:ec2/subnet:Subnet") if r.name.startswith("net-private-")]
    assert sorted(ssm.property_dependencies["subnetIds"]) == sorted(private) and len(ssm.inputs["subnetIds"]) == 3
    sg = graph.one("aws:ec2/securityGroup:SecurityGroup", "net-endpoints")
    assert ssm.property_dependencies["securityGroupIds"] == [sg.urn]


def test_endpoint_security_group_admits_only_https_from_the_vpc(plan):
    graph = plan(lambda: Network("net", {"cidr": "10.7.0.0/16", "endpoints": ["logs"]}))
    (rule,) = [r for r in graph.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.name.startswith("net-endpoints")]
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == "10.7.0.0/16"
    assert graph.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") == []


def test_no_endpoints_by_default_only_the_s3_gateway(plan):
    graph = plan(lambda: Network("net", {"nat": "none"}))
    assert [r.inputs["vpcEndpointType"] for r in graph.of_type(ENDPOINT)] == ["Gateway"]


@pytest.mark.parametrize("args, fragments", [
    ({"endpoints": ["ssm", "s3"]}, ("net.endpoints[1]", "must be one of", "'s3'")),
    ({"endpoints": ["ssm", "ssm"]}, ("net.endpoints", "lists a service twice")),
    ({"endpoints": "ssm"}, ("net.endpoints", "must be a list")),
    ({"vpc_id": "vpc-1", "private_subnet_ids": ["s"], "endpoints": ["ssm"]}, ("net.endpoints", "cannot be set with vpc_id")),
    ({"cidr": "10.0.0.0/22"}, ("net.cidr", "prefix from /16 to /21", "a /22 VPC would give /28")),
])
def test_rejects_bad_endpoint_and_cidr_args(args, fragments):
    assert_problem(lambda: validate_network(args, "net").raise_if_any(), *fragments)


def test_a_21_vpc_is_accepted_and_its_public_subnets_are_27(plan):
    graph = plan(lambda: Network("net", {"cidr": "10.1.0.0/21"}))
    public = [r for r in graph.of_type("aws:ec2/subnet:Subnet") if r.name.startswith("net-public-")]
    assert {r.inputs["cidrBlock"].split("/")[1] for r in public} == {"27"}


# -- without NAT, every need is met by an endpoint or reported ----------------------------------------

def test_no_nat_reports_the_endpoints_a_bake_and_secrets_need():
    services = {"inventory": {"pattern": "vm", "ami": {"bake": {"version": "1.0.0"}}, "expose": "none",
                              "secrets": {"DB": SECRET, "KEY": PARAM}}}
    lines = assert_problem(_catalog(services, {"nat": "none"}), "network.endpoints",
                           "lacks ec2messages, imagebuilder, logs, ssm, ssmmessages",
                           "services.inventory (the Image Builder bake)", "network.nat is 'none'")
    assert any("lacks secretsmanager, ssm, needed by services.inventory (its secrets)" in line for line in lines)


def test_no_nat_is_accepted_when_the_endpoints_cover_every_need():
    services = {"inventory": {"pattern": "vm", "ami": {"bake": {"version": "1.0.0"}}, "expose": "none",
                              "secrets": {"DB": SECRET}},
                "cart": {"pattern": "ecs", "image": {"ref": ECR}, "expose": "none"}}
    network = {"nat": "none", "endpoints": ["ec2messages", "imagebuilder", "logs", "ssm", "ssmmessages",
                                            "secretsmanager", "ecr.api", "ecr.dkr"]}
    assert load_catalog({"environment": "dev", "catalog_dir": "", "network": network, "services": services}, ROOT)


def test_no_nat_reports_ecr_and_logs_for_containers_and_images_from_other_registries():
    services = {"cart": {"pattern": "ecs", "image": {"ref": ECR}, "expose": "none"},
                "shop": {"pattern": "ecs", "image": {"ref": "public.ecr.aws/acme/shop:3.1.0"}, "expose": "none"}}
    lines = assert_problem(_catalog(services, {"nat": "none", "endpoints": ["logs"]}), "network.endpoints",
                           "lacks ecr.api, ecr.dkr, needed by services.cart (ECR image pulls)")
    assert any("services.shop.image.ref" in line and "outside this account's ECR (public.ecr.aws)" in line
               for line in lines)


def test_no_nat_checks_eks_nodes_and_lambda_functions_in_the_vpc():
    services = {"web": {"pattern": "eks", "image": {"ref": ECR}, "expose": "internal"},
                "orders-api": {"pattern": "lambda", "code": "services/orders-api", "vpc": True,
                               "secrets": {"KEY": PARAM}}}
    lines = assert_problem(_catalog(services, {"nat": "none", "availability_zones": 2}), "network.endpoints",
                           "ec2", "eks-auth", "sts", "services.web (EKS nodes)")
    assert any("elasticloadbalancing, needed by services.web (the load balancer controller)" in line for line in lines)
    # Its controller's image comes from public ECR, which no endpoint reaches: reported, not left to a Helm timeout.
    assert any(line.startswith("services.web.expose") and "public.ecr.aws/eks/aws-load-balancer-controller" in line
               for line in lines)
    assert any("lacks ssm, needed by services.orders-api (its secrets)" in line for line in lines)


def test_no_nat_reports_the_ecs_agent_endpoints_for_ec2_capacity_and_ssmmessages_for_exec():
    # Container instances need ecs, ecs-agent and ecs-telemetry (Amazon ECS interface VPC endpoints), and
    # ECS Exec's channel is Session Manager's ssmmessages; with only ECR and logs both fail at run time.
    services = {"cart": {"pattern": "ecs", "image": {"ref": ECR}, "expose": "none", "capacity": "ec2",
                         "enable_exec": True, "read_only_root_filesystem": False}}
    network = {"nat": "none", "endpoints": ["ecr.api", "ecr.dkr", "logs"]}
    lines = assert_problem(_catalog(services, network), "network.endpoints",
                           "lacks ecs, ecs-agent, ecs-telemetry, needed by services.cart "
                           "(the ECS agent on the cluster's EC2 instances)")
    assert any("lacks ssmmessages, needed by services.cart (ECS Exec)" in line for line in lines)


def test_no_nat_reports_queues_and_unreachable_tables_of_workers_and_functions_in_the_vpc():
    # A queue worker polls SQS and a function in the VPC reaches what `access` grants: without NAT SQS needs
    # its endpoint, and DynamoDB (no endpoint created here) cannot be reached at all.
    queue = "arn:aws:sqs:us-east-1:123456789012:orders"
    services = {"worker": {"pattern": "ecs", "image": {"ref": ECR}, "expose": "none", "queue": {"arn": queue}},
                "orders-api": {"pattern": "lambda", "code": "services/orders-api", "vpc": True,
                               "access": {"queues": {queue: "send"}, "tables": {"orders": "read"}}}}
    network = {"nat": "none", "endpoints": ["ecr.api", "ecr.dkr", "logs"]}
    lines = assert_problem(_catalog(services, network), "network.endpoints",
                           "lacks sqs, needed by services.worker (its queue)")
    assert any("lacks sqs, needed by services.orders-api (its access)" in line for line in lines)
    assert any("services.orders-api.access.tables" in line and "reaches DynamoDB" in line for line in lines)


def test_nat_makes_endpoints_optional():
    services = {"inventory": {"pattern": "vm", "ami": {"bake": {"version": "1.0.0"}}, "expose": "none"}}
    assert load_catalog({"environment": "dev", "catalog_dir": "", "network": {"nat": "single"},
                         "services": services}, ROOT)


# -- load balancers need two AZs ----------------------------------------------------------------------

def test_one_az_with_a_load_balanced_service_names_both_settings():
    services = {"inventory": {"pattern": "vm", "ami": AMI, "expose": "public"}}
    assert_problem(_catalog(services, {"availability_zones": 1}), "network.availability_zones",
                   "is 1 but services.inventory.expose is 'public'", "at least two Availability Zones")


def test_one_az_is_fine_without_a_load_balancer_or_with_an_nlb():
    services = {"inventory": {"pattern": "vm", "ami": AMI, "expose": "none"},
                "ledger": {"pattern": "vm", "ami": AMI, "load_balancer": {"type": "nlb"}}}
    assert load_catalog({"environment": "dev", "catalog_dir": "", "network": {"availability_zones": 1},
                         "services": services}, ROOT)


def test_bring_your_own_vpc_with_one_public_subnet_is_refused_for_a_public_alb():
    services = {"cart": {"pattern": "ecs", "image": {"ref": ECR}, "expose": "public"}}
    network = {"vpc_id": "vpc-1", "private_subnet_ids": ["subnet-a", "subnet-b"], "public_subnet_ids": ["subnet-c"]}
    assert_problem(_catalog(services, network), "network.public_subnet_ids", "lists 1 subnet",
                   "services.cart (expose 'public')")


# -- Availability Zones ------------------------------------------------------------------------------

def test_zones_are_looked_up_among_the_regions_own_not_local_zones(plan):
    graph = plan(lambda: Network("net", {}))
    (call,) = [args for token, args in graph.invokes
               if token == "aws:index/getAvailabilityZones:getAvailabilityZones"]
    assert call["state"] == "available"
    assert call["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


def test_no_nat_reports_the_eks_cluster_autoscaler_enabled_by_default():
    # The EKS cluster installs the cluster autoscaler by default; its image comes from registry.k8s.io, which
    # no VPC endpoint reaches, so with nat 'none' its atomic Helm release fails the up after ten minutes.
    services = {"web": {"pattern": "eks", "image": {"ref": ECR}, "expose": "none"}}
    network = {"nat": "none", "availability_zones": 2,
               "endpoints": ["ec2", "ecr.api", "ecr.dkr", "sts", "eks-auth", "autoscaling"]}
    lines = assert_problem(_catalog(services, network), "eks.cluster_autoscaler", "registry.k8s.io")
    assert not any(line.startswith("network.endpoints") for line in lines)
    # Disabled, nothing is left to report.
    load_catalog({"environment": "dev", "catalog_dir": "", "network": network, "services": services,
                  "eks": {"cluster_autoscaler": {"enabled": False}}}, ROOT)



def test_an_az_count_set_to_null_is_checked_as_the_profiles():
    """Null is left out, as when the network is built: the profile's one AZ cannot hold the ALB."""
    services = {"inventory": {"pattern": "vm", "ami": AMI, "expose": "public"}}
    config = {"environment": "dev", "catalog_dir": "", "profile": {"availability_zones": 1},
              "network": {"availability_zones": None}, "services": services}
    assert_problem(lambda: load_catalog(config, ROOT), "network.availability_zones",
                   "is 1 (the dev profile's) but services.inventory.expose is 'public'")


def test_the_needs_check_takes_each_services_default_exposure():
    """An ECS queue worker is not exposed by default (no ALB); a service is ``internal`` (an ALB)."""
    services = {"mailer": {"pattern": "ecs", "image": {"ref": ECR}, "queue": {}},
                "cart": {"pattern": "ecs", "image": {"ref": ECR}, "expose": None}}
    lines = assert_problem(_catalog(services, {"availability_zones": 1}), "network.availability_zones",
                           "is 1 but services.cart.expose is 'internal'")
    assert not any("services.mailer" in line for line in lines)
