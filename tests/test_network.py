"""Network: subnets per AZ, CIDR slots, NAT strategies, routes, flow logs, bring your own, validation."""

from __future__ import annotations

import pytest

from components.network import Network, subnet_cidrs
from tests.conftest import assert_problem

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"


def test_creates_public_and_private_subnet_per_az(plan):
    graph = plan(lambda: Network("net", {"availability_zones": 3}))
    subnets = {r.name: r for r in graph.of_type(SUBNET)}
    assert sorted(subnets) == [f"net-{tier}-{i}" for tier in ("lb", "private", "public") for i in range(3)]
    assert [subnets[f"net-private-{i}"].inputs["availabilityZone"] for i in range(3)] == \
        ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(not s.inputs.get("mapPublicIpOnLaunch") for s in subnets.values())
    vpc = graph.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True


def test_subnet_cidrs_do_not_move_when_an_az_is_added():
    two = [subnet_cidrs("10.20.0.0/16", i) for i in range(2)]
    three = [subnet_cidrs("10.20.0.0/16", i) for i in range(3)]
    assert three[:2] == two
    assert two[0] == {"private": "10.20.0.0/20", "public": "10.20.128.0/22", "isolated": "10.20.160.0/22",
                      "load_balancer": "10.20.192.0/22"}
    every = [c for slots in (subnet_cidrs("10.20.0.0/16", i) for i in range(6)) for c in slots.values()]
    assert len(set(every)) == len(every)


@pytest.mark.parametrize("nat, azs, expected", [("none", 2, 0), ("single", 3, 1), ("per_az", 3, 3)])
def test_nat_gateway_count_follows_strategy(plan, nat, azs, expected):
    graph = plan(lambda: Network("net", {"nat": nat, "availability_zones": azs}))
    assert len(graph.of_type(NAT)) == expected
    assert len(graph.of_type("aws:ec2/eip:Eip")) == expected


def test_per_az_nat_routes_each_private_subnet_through_its_own_az(plan):
    graph = plan(lambda: Network("net", {"nat": "per_az", "availability_zones": 3}))
    nats = {r.name: graph.one(NAT, r.name) for r in graph.of_type(NAT)}
    for i in range(3):
        route = graph.one(ROUTE, f"net-private-{i}-nat")
        nat_urn = graph.one(NAT, f"net-nat-{i}").urn
        assert route.property_dependencies["natGatewayId"] == [nat_urn]
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        # NAT i lives in public subnet i, so an AZ outage only takes that AZ's egress down.
        assert nats[f"net-nat-{i}"].property_dependencies["subnetId"] == [graph.one(SUBNET, f"net-public-{i}").urn]


def test_single_nat_serves_every_private_route_table(plan):
    graph = plan(lambda: Network("net", {"nat": "single", "availability_zones": 3}))
    nat_urn = graph.one(NAT).urn
    routes = [graph.one(ROUTE, f"net-private-{i}-nat") for i in range(3)]
    assert all(r.property_dependencies["natGatewayId"] == [nat_urn] for r in routes)


def test_no_nat_leaves_private_subnets_without_internet_route(plan):
    graph = plan(lambda: Network("net", {"nat": "none", "availability_zones": 2}))
    private_tables = {graph.one("aws:ec2/routeTable:RouteTable", f"net-private-{i}").urn for i in range(2)}
    for route in graph.of_type(ROUTE):
        assert not set(route.property_dependencies.get("routeTableId", [])) & private_tables, route.name
    public = graph.one(ROUTE, "net-public-internet")
    assert public.property_dependencies["gatewayId"] == [graph.one("aws:ec2/internetGateway:InternetGateway").urn]


def test_s3_gateway_endpoint_on_private_route_tables(plan):
    graph = plan(lambda: Network("net", {"availability_zones": 2, "isolated_subnets": True}))
    endpoint = graph.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    tables = {graph.one("aws:ec2/routeTable:RouteTable", n).urn
              for n in ("net-private-0", "net-private-1", "net-isolated-0", "net-isolated-1")}
    assert set(endpoint.property_dependencies["routeTableIds"]) == tables


def test_default_security_group_has_no_rules(plan):
    graph = plan(lambda: Network("net", {}))
    default = graph.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs.get("ingress", []) == [] and default.inputs.get("egress", []) == []


def test_profile_sets_azs_nat_and_flow_logs(plan):
    dev = plan(lambda: Network("net", {}), environment="dev")
    assert len(dev.of_type(SUBNET)) == 6 and len(dev.of_type(NAT)) == 1
    assert not dev.of_type("aws:ec2/flowLog:FlowLog")
    prod = plan(lambda: Network("net", {}), environment="prod")
    assert len(prod.of_type(SUBNET)) == 9 and len(prod.of_type(NAT)) == 3
    flow = prod.one("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL"
    assert prod.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 365


def test_explicit_args_win_over_profile(plan):
    graph = plan(lambda: Network("net", {"nat": "single", "availability_zones": 2, "flow_logs": False}),
                 environment="prod")
    assert len(graph.of_type(NAT)) == 1 and len(graph.of_type(SUBNET)) == 6
    assert not graph.of_type("aws:ec2/flowLog:FlowLog")


def test_flow_log_role_may_only_write_its_own_log_group(plan):
    graph = plan(lambda: Network("net", {"flow_logs": True}))
    policy = graph.one("aws:iam/rolePolicy:RolePolicy").json_input("policy")
    (stmt,) = policy["Statement"]
    assert "*" not in stmt["Resource"] and all(r.startswith("arn:aws:logs:") for r in stmt["Resource"])
    trust = graph.one("aws:iam/role:Role").json_input("assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}


def test_bring_your_own_vpc_creates_nothing_and_passes_ids_through(plan):
    args = {"vpc_id": "vpc-0123", "vpc_cidr": "10.9.0.0/16", "private_subnet_ids": ["subnet-a", "subnet-b"],
            "public_subnet_ids": ["subnet-c"]}
    graph = plan(lambda: Network("net", args))
    assert [r.type for r in graph] == ["microservices:network:Network"]
    outputs = graph.one("microservices:network:Network").outputs
    assert outputs["vpc_id"] == "vpc-0123" and outputs["private_subnet_ids"] == ["subnet-a", "subnet-b"]
    assert outputs["vpc_cidr"] == "10.9.0.0/16"


@pytest.mark.parametrize("args, fragments", [
    ({"cidr": "10.0.0.0/8"}, ("net.cidr", "prefix from /16 to /21", "'10.0.0.0/8'")),
    # A /22 VPC gives /28 public and load balancer subnets: AWS creates no load balancer in less than a /27.
    ({"cidr": "10.0.0.0/22"}, ("net.cidr", "prefix from /16 to /21", "at least /27", "'10.0.0.0/22'")),
    ({"cidr": "not-a-cidr"}, ("net.cidr", "IPv4 network", "'not-a-cidr'")),
    ({"cidr": "8.8.0.0/16"}, ("net.cidr", "private range",)),
    ({"availability_zones": 7}, ("net.availability_zones", "between 1 and 6", "7")),
    ({"availability_zones": 3, "availability_zone_names": ["us-east-1a"]}, ("net.availability_zone_names", "lists 1")),
    ({"nat": "one"}, ("net.nat", "'none', 'single', 'per_az'", "'one'")),
    ({"flow_logs": "yes"}, ("net.flow_logs", "true or false")),
    ({"log_retention_days": 10}, ("net.log_retention_days", "must be one of", "10")),
    ({"vpc_id": "vpc-1"}, ("net.private_subnet_ids", "required with vpc_id")),
    ({"vpc_id": "vpc-1", "private_subnet_ids": ["s"], "nat": "single"}, ("net.nat", "cannot be set with vpc_id")),
    ({"private_subnet_ids": ["s"]}, ("net.private_subnet_ids", "only used with vpc_id")),
    ({"nats": "single"}, ("net.nats", "unknown key", "did you mean 'nat'")),
    ({"tags": {"aws:owner": "x"}}, ("net.tags.aws:owner", "reserved")),
])
def test_rejects_bad_network_args(plan, args, fragments):
    from components.network import validate_network
    assert_problem(lambda: validate_network(args, "net").raise_if_any(), *fragments)


def test_bad_network_registers_nothing(plan):
    created = []

    def program():
        try:
            Network("net", {"cidr": "bad", "nat": "sometimes"})
        except Exception as err:  # noqa: BLE001
            created.append(err)

    graph = plan(program)
    assert len(graph) == 0
    assert "net.cidr" in str(created[0]) and "net.nat" in str(created[0])


def test_internal_load_balancers_get_subnets_of_their_own_apart_from_pods(plan):
    graph = plan(lambda: Network("net", {"cidr": "10.20.0.0/16", "availability_zones": 2}))
    subnets = {r.name: r.inputs for r in graph.of_type(SUBNET)}
    for i in range(2):
        assert subnets[f"net-lb-{i}"]["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnets[f"net-lb-{i}"]["cidrBlock"] == subnet_cidrs("10.20.0.0/16", i)["load_balancer"]
        # The controller must never pick the subnets where pods run.
        assert "kubernetes.io/role/internal-elb" not in subnets[f"net-private-{i}"]["tags"]
        assert subnets[f"net-public-{i}"]["tags"]["kubernetes.io/role/elb"] == "1"
        assoc = graph.one("aws:ec2/routeTableAssociation:RouteTableAssociation", f"net-lb-{i}")
        assert assoc.property_dependencies["routeTableId"] == \
            [graph.one("aws:ec2/routeTable:RouteTable", f"net-private-{i}").urn]
    outputs = graph.one("microservices:network:Network").outputs
    assert outputs["load_balancer_subnet_cidrs"] == ["10.20.192.0/22", "10.20.196.0/22"]
    assert outputs["public_subnet_cidrs"] == ["10.20.128.0/22", "10.20.132.0/22"]
    assert len(outputs["load_balancer_subnet_ids"]) == 2


def test_bring_your_own_vpc_passes_load_balancer_subnets_through(plan):
    args = {"vpc_id": "vpc-0123", "vpc_cidr": "10.9.0.0/16", "private_subnet_ids": ["subnet-a"],
            "public_subnet_ids": ["subnet-c"], "public_subnet_cidrs": ["10.9.200.0/24"],
            "load_balancer_subnet_ids": ["subnet-l"], "load_balancer_subnet_cidrs": ["10.9.210.0/24"]}
    outputs = plan(lambda: Network("net", args)).one("microservices:network:Network").outputs
    assert outputs["load_balancer_subnet_ids"] == ["subnet-l"]
    assert outputs["load_balancer_subnet_cidrs"] == ["10.9.210.0/24"]
    assert outputs["public_subnet_cidrs"] == ["10.9.200.0/24"]


def test_rejects_load_balancer_subnet_cidrs_without_ids_or_too_small():
    from components.network import validate_network
    byo = {"vpc_id": "vpc-0123", "private_subnet_ids": ["subnet-a"]}
    assert_problem(lambda: validate_network({**byo, "load_balancer_subnet_ids": ["subnet-l"]}).raise_if_any(),
                   "network.load_balancer_subnet_cidrs", "is required with load_balancer_subnet_ids")
    assert_problem(lambda: validate_network({**byo, "public_subnet_cidrs": ["10.9.0.0/24"]}).raise_if_any(),
                   "network.public_subnet_cidrs", "needs public_subnet_ids")
    assert_problem(lambda: validate_network({**byo, "load_balancer_subnet_ids": ["subnet-l"],
                                             "load_balancer_subnet_cidrs": ["10.9.0.0/28"]}).raise_if_any(),
                   "network.load_balancer_subnet_cidrs[0]", "at least a /27", "'10.9.0.0/28'")
    assert_problem(lambda: validate_network({"load_balancer_subnet_ids": ["subnet-l"]}).raise_if_any(),
                   "network.load_balancer_subnet_ids", "only used with vpc_id")


# -- resolved once ----------------------------------------------------------------------------------------
def test_the_network_defaults_are_the_fields_the_args_document():
    from components.network import NetworkArgs, NetworkSettings
    from tests.test_shared_blocks import documented_defaults
    assert documented_defaults(NetworkArgs, NetworkSettings) == ["cidr", "isolated_subnets"]


def test_network_args_resolve_once_with_the_profile_filling_what_has_no_field_default():
    from components.network import NetworkSettings, resolve_network
    from components.profiles import get_profile
    prod = get_profile("prod")
    assert resolve_network({}, prod) == NetworkSettings(
        availability_zones=prod.availability_zones, nat=prod.nat, flow_logs=prod.flow_logs,
        log_retention_days=prod.log_retention_days)
    nulled = {"cidr": None, "availability_zones": None, "nat": None, "flow_logs": None, "endpoints": None}
    assert resolve_network(nulled, prod) == resolve_network({}, prod)
    given = resolve_network({"cidr": "10.9.0.0/16", "availability_zones": 2, "nat": "none", "flow_logs": False,
                             "endpoints": ["ssm"], "tags": {"Team": "x"}}, prod)
    assert (given.cidr, given.availability_zones, given.nat, given.flow_logs, given.endpoints, given.tags) == \
        ("10.9.0.0/16", 2, "none", False, ("ssm",), {"Team": "x"})
    assert not given.existing and resolve_network({"vpc_id": "vpc-1", "private_subnet_ids": ["s"]}, prod).existing


def test_a_network_key_set_to_null_plans_as_if_left_out(plan):
    left_out = plan(lambda: Network("net", {}, profile="prod"))
    nulled = plan(lambda: Network("net", {"nat": None, "availability_zones": None, "flow_logs": None},
                                  profile="prod"))
    assert sorted(r.name for r in nulled.resources) == sorted(r.name for r in left_out.resources)
    assert len(nulled.of_type(NAT)) == 3
