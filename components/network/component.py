"""The :class:`Network` component: a new VPC shaped by its :class:`~components.network.args.NetworkSettings`,
or an existing one."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..blocks.access import Account
from ..blocks.iam import policy_document, scoped_trust_policy, statement
from ..blocks.logs import log_group
from ..blocks.service import standard_tags
from ..profiles import Profile, get_profile
from .args import NetworkArgs, NetworkSettings, resolve_network
from .validate import validate_network

__all__ = ["Network", "subnet_cidrs"]


def subnet_cidrs(vpc_cidr: str, az_index: int) -> dict[str, str]:
    """The fixed CIDR slots of AZ number ``az_index``; a slot never depends on how many AZs there are.

    The first half of the VPC holds private subnets (1/16 of the VPC each), the second half
    public, isolated and internal load balancer subnets (1/64 each), so adding an AZ never renumbers a subnet.
    """
    net = ipaddress.ip_network(vpc_cidr)
    private = list(net.subnets(new_prefix=net.prefixlen + 4))[az_index]
    small = list(net.subnets(new_prefix=net.prefixlen + 6))
    return {"private": str(private), "public": str(small[32 + az_index]), "isolated": str(small[40 + az_index]),
            "load_balancer": str(small[48 + az_index])}


@dataclass
class _Subnets:
    """What :meth:`Network._zone` creates, AZ by AZ."""

    public: list[aws.ec2.Subnet] = field(default_factory=list)
    private: list[aws.ec2.Subnet] = field(default_factory=list)
    isolated: list[aws.ec2.Subnet] = field(default_factory=list)
    load_balancer: list[aws.ec2.Subnet] = field(default_factory=list)
    private_route_tables: list[aws.ec2.RouteTable] = field(default_factory=list)
    isolated_route_tables: list[aws.ec2.RouteTable] = field(default_factory=list)


class Network(pulumi.ComponentResource):
    """A VPC with public and private subnets in each AZ, NAT per the chosen strategy, an S3 gateway
    endpoint, a default security group with no rules, and optional flow logs; or an existing VPC."""

    vpc_id: pulumi.Output[str]
    """Id of the VPC."""
    vpc_cidr: pulumi.Output[str]
    """IPv4 CIDR of the VPC."""
    public_subnet_ids: pulumi.Output[list[str]]
    """Public subnets, one per AZ (load balancers, NAT gateways)."""
    private_subnet_ids: pulumi.Output[list[str]]
    """Private subnets, one per AZ (instances, tasks, pods, functions)."""
    isolated_subnet_ids: pulumi.Output[list[str]]
    """Isolated subnets, one per AZ, when requested; else empty."""
    public_subnet_cidrs: pulumi.Output[list[str]]
    """CIDRs of the public subnets (where internet-facing load balancers live); empty when not known."""
    load_balancer_subnet_ids: pulumi.Output[list[str]]
    """Subnets for internal load balancers only, one per AZ (tagged ``kubernetes.io/role/internal-elb``)."""
    load_balancer_subnet_cidrs: pulumi.Output[list[str]]
    """CIDRs of ``load_balancer_subnet_ids``: what a NetworkPolicy admits for an internal load balancer."""
    availability_zones: pulumi.Output[list[str]]
    """The AZ names, in subnet order."""
    load_balancer_tiers: tuple[str, ...]
    """Exposures (``public``, ``internal``) whose load balancer subnet CIDRs this network knows."""

    def __init__(self, name: str, args: NetworkArgs | None = None, opts: pulumi.ResourceOptions | None = None,
                 *, profile: Profile | str | None = None):
        args = dict(args or {})
        validate_network(args, name).raise_if_any()
        super().__init__("microservices:network:Network", name, None, opts)
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        settings = resolve_network(args, prof)
        self._tags = standard_tags(name, prof.name, settings.tags)
        child = pulumi.ResourceOptions(parent=self)
        if settings.existing:
            self._existing(settings)
        else:
            self._create(name, settings, prof, child)
        self.register_outputs({
            "vpc_id": self.vpc_id, "vpc_cidr": self.vpc_cidr, "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids, "isolated_subnet_ids": self.isolated_subnet_ids,
            "availability_zones": self.availability_zones, "public_subnet_cidrs": self.public_subnet_cidrs,
            "load_balancer_subnet_ids": self.load_balancer_subnet_ids,
            "load_balancer_subnet_cidrs": self.load_balancer_subnet_cidrs,
        })

    def _existing(self, settings: NetworkSettings) -> None:
        self.vpc_id = pulumi.Output.from_input(settings.vpc_id)
        if settings.vpc_cidr is not None:
            self.vpc_cidr = pulumi.Output.from_input(settings.vpc_cidr)
        else:
            self.vpc_cidr = aws.ec2.get_vpc_output(id=self.vpc_id, opts=pulumi.InvokeOutputOptions(parent=self)).cidr_block
        self.public_subnet_ids = pulumi.Output.from_input(settings.public_subnet_ids)
        self.private_subnet_ids = pulumi.Output.from_input(settings.private_subnet_ids)
        self.isolated_subnet_ids = pulumi.Output.from_input(settings.isolated_subnet_ids)
        self.availability_zones = pulumi.Output.from_input([])
        self.public_subnet_cidrs = pulumi.Output.from_input(list(settings.public_subnet_cidrs))
        self.load_balancer_subnet_ids = pulumi.Output.from_input(settings.load_balancer_subnet_ids)
        self.load_balancer_subnet_cidrs = pulumi.Output.from_input(list(settings.load_balancer_subnet_cidrs))
        self.load_balancer_tiers = tuple(tier for tier, cidrs in (("public", settings.public_subnet_cidrs),
                                                                  ("internal", settings.load_balancer_subnet_cidrs))
                                         if cidrs)

    def _create(self, name: str, settings: NetworkSettings, prof: Profile, child: pulumi.ResourceOptions) -> None:
        cidr, count = settings.cidr, settings.availability_zones
        zones = self._zones(settings)
        tags = self._tags

        def tagged(label: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
            return {**tags, "Name": f"{name}-{label}", **(extra or {})}

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=cidr, enable_dns_support=True, enable_dns_hostnames=True,
                          tags=tagged("vpc"), opts=child)
        # The default security group allows all traffic between its members: strip every rule from it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
                                     tags=tagged("default-sg"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tagged("igw"), opts=child)

        public_rt = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, tags=tagged("public"), opts=child)
        aws.ec2.Route(f"{name}-public-internet", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, opts=child)
        subnets = _Subnets()
        for i in range(count):
            self._zone(name, i, settings, vpc, zones[i], public_rt, subnets, tagged, child)
        self._nat(name, settings, igw, subnets, tagged, child)

        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
                            service_name=region.apply(lambda r: f"com.amazonaws.{r}.s3"),
                            route_table_ids=[rt.id for rt in subnets.private_route_tables + subnets.isolated_route_tables],
                            tags=tagged("s3"), opts=child)

        if settings.endpoints:
            self._endpoints(name, vpc, subnets.private, list(settings.endpoints), region, tagged, child)

        if settings.flow_logs:
            self._flow_logs(name, vpc, prof, settings.log_retention_days, child)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in subnets.public])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in subnets.private])
        self.isolated_subnet_ids = pulumi.Output.all(*[s.id for s in subnets.isolated])
        self.availability_zones = zones
        self.load_balancer_tiers = ("public", "internal")
        # Known when planning: the slots depend only on the VPC CIDR and the AZ number.
        self.public_subnet_cidrs = pulumi.Output.from_input([subnet_cidrs(cidr, i)["public"] for i in range(count)])
        self.load_balancer_subnet_ids = pulumi.Output.all(*[s.id for s in subnets.load_balancer])
        self.load_balancer_subnet_cidrs = pulumi.Output.from_input(
            [subnet_cidrs(cidr, i)["load_balancer"] for i in range(count)])

    def _zones(self, settings: NetworkSettings) -> pulumi.Output[list[str]]:
        """The AZ names, in subnet order: those given, else the first of the region's own."""
        count = settings.availability_zones
        if settings.availability_zone_names:
            return pulumi.Output.from_input(list(settings.availability_zone_names)[:count])
        # Only the region's own zones: Local Zones and Wavelength Zones are opt-in, lack services
        # (NAT gateways, most instance types, load balancers) and would take a subnet slot.
        available = aws.get_availability_zones_output(
            state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self))
        return available.names.apply(lambda names: _first_zones(names, count))

    def _zone(self, name: str, i: int, settings: NetworkSettings, vpc: aws.ec2.Vpc, az: pulumi.Input[str],
              public_rt: aws.ec2.RouteTable, subnets: _Subnets, tagged: Any, child: pulumi.ResourceOptions) -> None:
        """The subnets of AZ number ``i`` in their fixed CIDR slots, and their route tables."""
        slots = subnet_cidrs(settings.cidr, i)
        pub = aws.ec2.Subnet(f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=slots["public"],
                             availability_zone=az, map_public_ip_on_launch=False,
                             tags=tagged(f"public-{i}", {"Tier": "public", "kubernetes.io/role/elb": "1"}),
                             opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=pub.id, route_table_id=public_rt.id, opts=child)
        subnets.public.append(pub)
        # Pods run here: internal load balancers get subnets of their own, so a NetworkPolicy can admit
        # exactly them without admitting every pod of the VPC.
        priv = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=slots["private"],
                              availability_zone=az, tags=tagged(f"private-{i}", {"Tier": "private"}), opts=child)
        subnets.private.append(priv)
        # One private route table per AZ whatever the NAT strategy, so changing it never renumbers.
        rt = aws.ec2.RouteTable(f"{name}-private-{i}", vpc_id=vpc.id, tags=tagged(f"private-{i}"), opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=priv.id, route_table_id=rt.id, opts=child)
        subnets.private_route_tables.append(rt)
        lb = aws.ec2.Subnet(f"{name}-lb-{i}", vpc_id=vpc.id, cidr_block=slots["load_balancer"],
                            availability_zone=az, map_public_ip_on_launch=False,
                            tags=tagged(f"lb-{i}", {"Tier": "load-balancer", "kubernetes.io/role/internal-elb": "1"}),
                            opts=child)
        # Internal load balancers answer inside the VPC only: the AZ's private routes, no internet gateway.
        aws.ec2.RouteTableAssociation(f"{name}-lb-{i}", subnet_id=lb.id, route_table_id=rt.id, opts=child)
        subnets.load_balancer.append(lb)
        if settings.isolated_subnets:
            iso = aws.ec2.Subnet(f"{name}-isolated-{i}", vpc_id=vpc.id, cidr_block=slots["isolated"],
                                 availability_zone=az, tags=tagged(f"isolated-{i}", {"Tier": "isolated"}), opts=child)
            irt = aws.ec2.RouteTable(f"{name}-isolated-{i}", vpc_id=vpc.id, tags=tagged(f"isolated-{i}"), opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-isolated-{i}", subnet_id=iso.id, route_table_id=irt.id, opts=child)
            subnets.isolated.append(iso)
            subnets.isolated_route_tables.append(irt)

    def _nat(self, name: str, settings: NetworkSettings, igw: aws.ec2.InternetGateway, subnets: _Subnets,
             tagged: Any, child: pulumi.ResourceOptions) -> None:
        """NAT gateways per the strategy (none, one, or one per AZ) and the private route tables' default routes."""
        nats = []
        nat_count = {"none": 0, "single": 1, "per_az": settings.availability_zones}[settings.nat]
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=tagged(f"nat-{i}"), opts=child)
            nats.append(aws.ec2.NatGateway(f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=subnets.public[i].id,
                                           connectivity_type="public", tags=tagged(f"nat-{i}"),
                                           opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        for i, rt in enumerate(subnets.private_route_tables):
            if nats:
                aws.ec2.Route(f"{name}-private-{i}-nat", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                              nat_gateway_id=nats[i if settings.nat == "per_az" else 0].id, opts=child)

    def _endpoints(self, name: str, vpc: aws.ec2.Vpc, subnets: list[aws.ec2.Subnet], services: list[str],
                   region: pulumi.Output[str], tagged: Any, child: pulumi.ResourceOptions) -> None:
        """Interface endpoints in every private subnet, with private DNS so the services' usual names
        resolve to them, behind a security group admitting only HTTPS from the VPC."""
        sg = aws.ec2.SecurityGroup(f"{name}-endpoints", vpc_id=vpc.id,
                                   description=f"{name}: interface endpoints, HTTPS from the VPC",
                                   tags=tagged("endpoints"), opts=child)
        aws.vpc.SecurityGroupIngressRule(f"{name}-endpoints-https", security_group_id=sg.id,
                                         cidr_ipv4=vpc.cidr_block, ip_protocol="tcp", from_port=443, to_port=443,
                                         description="HTTPS from the VPC", opts=child)
        for service in sorted(services):
            label = service.replace(".", "-")
            aws.ec2.VpcEndpoint(f"{name}-endpoint-{label}", vpc_id=vpc.id, vpc_endpoint_type="Interface",
                                service_name=region.apply(lambda r, s=service: f"com.amazonaws.{r}.{s}"),
                                subnet_ids=[s.id for s in subnets], security_group_ids=[sg.id],
                                private_dns_enabled=True, tags=tagged(label), opts=child)

    def _flow_logs(self, name: str, vpc: aws.ec2.Vpc, prof: Profile, retention: int,
                   child: pulumi.ResourceOptions) -> None:
        group = log_group(f"{name}-flow-logs", prof, retention_days=retention, tags=self._tags, opts=child)
        account = Account(self)
        trust = scoped_trust_policy("vpc-flow-logs.amazonaws.com", account.id,
                                    account.arn("ec2", "vpc-flow-log/*"))
        role = aws.iam.Role(f"{name}-flow-logs", assume_role_policy=trust, tags=self._tags, opts=child)
        aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id, policy=policy_document([statement(
            ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [group.arn, pulumi.Output.concat(group.arn, ":*")])]), opts=child)
        aws.ec2.FlowLog(f"{name}-flow-logs", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                        log_destination=group.arn, iam_role_arn=role.arn, max_aggregation_interval=60,
                        tags=self._tags, opts=child)

    def ref(self) -> dict[str, pulumi.Output]:
        """This network as plain outputs (what other components accept as ``network``)."""
        return {"vpc_id": self.vpc_id, "vpc_cidr": self.vpc_cidr, "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids, "public_subnet_cidrs": self.public_subnet_cidrs,
                "load_balancer_subnet_ids": self.load_balancer_subnet_ids,
                "load_balancer_subnet_cidrs": self.load_balancer_subnet_cidrs}


def _first_zones(names: list[str], count: int) -> list[str]:
    if len(names) < count:
        raise ValueError(f"network.availability_zones: the region has {len(names)} available zones, {count} asked")
    return list(names)[:count]
