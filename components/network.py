"""``Network``: a VPC across N availability zones, or a reference to an existing one."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, NotRequired, Sequence, TypedDict

import pulumi
import pulumi_aws as aws

from .blocks.access import Account
from .blocks.iam import policy_document, scoped_trust_policy, statement
from .blocks.logs import log_group
from .profiles import LOG_RETENTION_DAYS, Profile, get_profile
from .blocks.service import standard_tags, validate_tags
from .validation import Problems, is_unknown, join_path

__all__ = ["ENDPOINT_SERVICES", "Network", "NetworkArgs", "NAT_STRATEGIES", "subnet_cidrs", "validate_network",
           "validate_network_needs"]

NAT_STRATEGIES = ("none", "single", "per_az")
MAX_AZS = 6
NETWORK_KEYS = ("cidr", "availability_zones", "availability_zone_names", "nat", "isolated_subnets",
                "flow_logs", "log_retention_days", "vpc_id", "vpc_cidr", "public_subnet_ids",
                "private_subnet_ids", "isolated_subnet_ids", "public_subnet_cidrs", "load_balancer_subnet_ids",
                "load_balancer_subnet_cidrs", "tags", "endpoints")
#: Bring-your-own keys naming load balancer subnets: ids and CIDRs go together.
BYO_LB_KEYS = (("public_subnet_ids", "public_subnet_cidrs"), ("load_balancer_subnet_ids", "load_balancer_subnet_cidrs"))
#: Interface endpoints a new VPC may get (``com.amazonaws.<region>.<name>``), for private subnets without NAT.
ENDPOINT_SERVICES = ("autoscaling", "ec2", "ec2messages", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry",
                     "eks", "eks-auth", "elasticloadbalancing", "imagebuilder", "kms", "lambda", "logs", "monitoring",
                     "secretsmanager", "sns", "sqs", "ssm", "ssmmessages", "sts", "xray")
#: The largest VPC prefix whose public subnets (1/64 of the VPC) are still /27, the smallest size AWS
#: recommends for a load balancer's subnets so that it can scale.
MAX_VPC_PREFIX = 21
BYO_KEYS = ("vpc_id", "public_subnet_ids", "private_subnet_ids")


class NetworkArgs(TypedDict):
    """Arguments of :class:`Network`. Either the settings of a new VPC, or ``vpc_id`` with subnet ids."""

    cidr: NotRequired[str]
    """IPv4 CIDR of a new VPC, prefix /16 to /22. Default: ``10.0.0.0/16``."""
    availability_zones: NotRequired[int]
    """How many AZs to span, 1-6. Default: the profile's (dev 2, staging 2, prod 3)."""
    availability_zone_names: NotRequired[Sequence[str]]
    """Explicit AZ names. Default: the first available AZs of the region, from ``aws.get_availability_zones``."""
    nat: NotRequired[str]
    """``none`` (private subnets have no internet route), ``single`` (one NAT gateway) or ``per_az``
    (one per AZ, survives an AZ outage). Default: the profile's (dev/staging ``single``, prod ``per_az``)."""
    isolated_subnets: NotRequired[bool]
    """Also create isolated subnets (no internet route at all) for databases. Default: false."""
    flow_logs: NotRequired[bool]
    """VPC flow logs to CloudWatch Logs. Default: the profile's (dev off, staging and prod on)."""
    log_retention_days: NotRequired[int]
    """Retention of the flow log group (a CloudWatch retention value). Default: the profile's."""
    vpc_id: NotRequired[pulumi.Input[str]]
    """Bring your own: an existing VPC id. Default: a new VPC is created."""
    vpc_cidr: NotRequired[pulumi.Input[str]]
    """With ``vpc_id``: the VPC's CIDR (for internal security group rules). Default: looked up with ``aws.ec2.get_vpc``."""
    public_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: its public subnets. Default: none."""
    private_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: its private subnets, where services run; required with ``vpc_id``. Default: none."""
    isolated_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: its isolated subnets. Default: none."""
    public_subnet_cidrs: NotRequired[Sequence[str]]
    """With ``vpc_id`` and ``public_subnet_ids``: their CIDRs, so Kubernetes NetworkPolicies admit exactly the
    internet-facing load balancers. Default: none (exposed Kubernetes services then need ``load_balancer_cidrs``)."""
    load_balancer_subnet_ids: NotRequired[pulumi.Input[Sequence[str]]]
    """With ``vpc_id``: subnets holding only internal load balancers (nothing else runs there). Default: none."""
    load_balancer_subnet_cidrs: NotRequired[Sequence[str]]
    """With ``load_balancer_subnet_ids``: their CIDRs. Default: none."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every resource. Default: none."""
    endpoints: NotRequired[Sequence[str]]
    """Interface VPC endpoints to create in the private subnets, by service (``ssm``, ``secretsmanager``,
    ``ecr.api``, ``ecr.dkr``, ``logs``...), with private DNS and a security group admitting HTTPS from the
    VPC. Required for what services need when ``nat`` is ``none``. Default: none (the S3 gateway endpoint
    is always created)."""


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


def validate_network(args: Mapping[str, Any], path: str = "network") -> Problems:
    """Every problem in ``args`` of :class:`Network`."""
    problems = Problems()
    if not problems.check_mapping(args, path) or not isinstance(args, Mapping):
        return problems
    problems.check_known_keys(args, NETWORK_KEYS, path)
    if args.get("vpc_id") is not None:
        if args.get("private_subnet_ids") is None:
            problems.add(join_path(path, "private_subnet_ids"), "is required with vpc_id (the subnets services run in)")
        for key in ("cidr", "availability_zones", "nat", "isolated_subnets", "flow_logs", "endpoints"):
            if args.get(key) is not None:
                problems.add(join_path(path, key), "cannot be set with vpc_id: the existing VPC is used as it is")
        for ids, cidrs in BYO_LB_KEYS:
            if args.get(cidrs) is not None and args.get(ids) is None:
                problems.add(join_path(path, cidrs), f"needs {ids} (the subnets these CIDRs belong to)")
            if ids == "load_balancer_subnet_ids" and args.get(ids) is not None and args.get(cidrs) is None:
                problems.add(join_path(path, cidrs), f"is required with {ids} (NetworkPolicies admit these CIDRs)")
            listed = args.get(cidrs)
            if problems.check_list(listed, join_path(path, cidrs)) and isinstance(listed, (list, tuple)):
                for i, value in enumerate(listed):
                    _check_subnet_cidr(value, join_path(path, cidrs, i), problems)
    else:
        for key in ("public_subnet_ids", "private_subnet_ids", "isolated_subnet_ids", "vpc_cidr",
                    "public_subnet_cidrs", "load_balancer_subnet_ids", "load_balancer_subnet_cidrs"):
            if args.get(key) is not None:
                problems.add(join_path(path, key), "is only used with vpc_id (bring your own VPC)")
    cidr = args.get("cidr")
    if cidr is not None and not is_unknown(cidr):
        try:
            net = ipaddress.ip_network(cidr)
            if net.version != 4 or not 16 <= net.prefixlen <= MAX_VPC_PREFIX:
                problems.add(join_path(path, "cidr"),
                             f"must be an IPv4 CIDR with a prefix from /16 to /{MAX_VPC_PREFIX}, got {cidr!r}: "
                             f"public subnets are 1/64 of the VPC, and AWS recommends at least /27 for load "
                             f"balancer subnets (a /{net.prefixlen} VPC would give /{net.prefixlen + 6})")
            elif not net.is_private:
                problems.add(join_path(path, "cidr"), f"must be a private range (RFC 1918), got {cidr!r}")
        except ValueError:
            problems.add(join_path(path, "cidr"), f"must be an IPv4 network such as 10.20.0.0/16, got {cidr!r}")
    problems.check_int(args.get("availability_zones"), join_path(path, "availability_zones"), 1, MAX_AZS)
    names = args.get("availability_zone_names")
    if problems.check_list(names, join_path(path, "availability_zone_names")) and isinstance(names, (list, tuple)):
        count = args.get("availability_zones")
        if isinstance(count, int) and len(names) < count:
            problems.add(join_path(path, "availability_zone_names"),
                         f"lists {len(names)} zones but availability_zones is {count}")
    problems.check_enum(args.get("nat"), join_path(path, "nat"), NAT_STRATEGIES)
    problems.check_bool(args.get("isolated_subnets"), join_path(path, "isolated_subnets"))
    problems.check_bool(args.get("flow_logs"), join_path(path, "flow_logs"))
    problems.check_enum(args.get("log_retention_days"), join_path(path, "log_retention_days"), LOG_RETENTION_DAYS)
    validate_tags(args.get("tags"), join_path(path, "tags"), problems)
    endpoints, epath = args.get("endpoints"), join_path(path, "endpoints")
    if problems.check_list(endpoints, epath) and isinstance(endpoints, (list, tuple)):
        for i, service in enumerate(endpoints):
            problems.check_enum(service, join_path(epath, i), ENDPOINT_SERVICES)
        if len(set(map(str, endpoints))) != len(endpoints):
            problems.add(epath, "lists a service twice")
    return problems


def _check_subnet_cidr(value: Any, path: str, problems: Problems) -> None:
    if is_unknown(value):
        return
    try:
        net = ipaddress.ip_network(value) if isinstance(value, str) else None
    except ValueError:
        net = None
    if net is None or net.version != 4:
        problems.add(path, f"must be an IPv4 subnet CIDR such as '10.0.192.0/24', got {value!r}")
    elif net.prefixlen > 27:
        # AWS: a load balancer's subnet needs at least a /27 (and 8 free addresses).
        problems.add(path, f"must be at least a /27 to hold load balancers, got {value!r}")


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
        self._tags = standard_tags(name, prof.name, args.get("tags"))
        child = pulumi.ResourceOptions(parent=self)
        if args.get("vpc_id") is not None:
            self._existing(args)
        else:
            self._create(name, args, prof, child)
        self.register_outputs({
            "vpc_id": self.vpc_id, "vpc_cidr": self.vpc_cidr, "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids, "isolated_subnet_ids": self.isolated_subnet_ids,
            "availability_zones": self.availability_zones, "public_subnet_cidrs": self.public_subnet_cidrs,
            "load_balancer_subnet_ids": self.load_balancer_subnet_ids,
            "load_balancer_subnet_cidrs": self.load_balancer_subnet_cidrs,
        })

    def _existing(self, args: Mapping[str, Any]) -> None:
        self.vpc_id = pulumi.Output.from_input(args["vpc_id"])
        if args.get("vpc_cidr") is not None:
            self.vpc_cidr = pulumi.Output.from_input(args["vpc_cidr"])
        else:
            self.vpc_cidr = aws.ec2.get_vpc_output(id=self.vpc_id, opts=pulumi.InvokeOutputOptions(parent=self)).cidr_block
        self.public_subnet_ids = pulumi.Output.from_input(args.get("public_subnet_ids") or [])
        self.private_subnet_ids = pulumi.Output.from_input(args["private_subnet_ids"])
        self.isolated_subnet_ids = pulumi.Output.from_input(args.get("isolated_subnet_ids") or [])
        self.availability_zones = pulumi.Output.from_input([])
        self.public_subnet_cidrs = pulumi.Output.from_input(list(args.get("public_subnet_cidrs") or []))
        self.load_balancer_subnet_ids = pulumi.Output.from_input(args.get("load_balancer_subnet_ids") or [])
        self.load_balancer_subnet_cidrs = pulumi.Output.from_input(list(args.get("load_balancer_subnet_cidrs") or []))
        self.load_balancer_tiers = tuple(tier for tier, key in (("public", "public_subnet_cidrs"),
                                                                ("internal", "load_balancer_subnet_cidrs"))
                                         if args.get(key))

    def _create(self, name: str, args: Mapping[str, Any], prof: Profile, child: pulumi.ResourceOptions) -> None:
        cidr = args.get("cidr", "10.0.0.0/16")
        count = int(args.get("availability_zones", prof.availability_zones))
        nat = args.get("nat", prof.nat)
        if args.get("availability_zone_names"):
            zones = pulumi.Output.from_input(list(args["availability_zone_names"])[:count])
        else:
            # Only the region's own zones: Local Zones and Wavelength Zones are opt-in, lack services
            # (NAT gateways, most instance types, load balancers) and would take a subnet slot.
            available = aws.get_availability_zones_output(
                state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
                opts=pulumi.InvokeOutputOptions(parent=self))
            zones = available.names.apply(lambda names: _first_zones(names, count))
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

        public, private, isolated, private_rts, isolated_rts, nats, lbs = [], [], [], [], [], [], []
        for i in range(count):
            slots = subnet_cidrs(cidr, i)
            az = zones[i]
            pub = aws.ec2.Subnet(f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=slots["public"],
                                 availability_zone=az, map_public_ip_on_launch=False,
                                 tags=tagged(f"public-{i}", {"Tier": "public", "kubernetes.io/role/elb": "1"}),
                                 opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=pub.id, route_table_id=public_rt.id, opts=child)
            public.append(pub)
            # Pods run here: internal load balancers get subnets of their own, so a NetworkPolicy can admit
            # exactly them without admitting every pod of the VPC.
            priv = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=slots["private"],
                                  availability_zone=az, tags=tagged(f"private-{i}", {"Tier": "private"}), opts=child)
            private.append(priv)
            # One private route table per AZ whatever the NAT strategy, so changing it never renumbers.
            rt = aws.ec2.RouteTable(f"{name}-private-{i}", vpc_id=vpc.id, tags=tagged(f"private-{i}"), opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=priv.id, route_table_id=rt.id, opts=child)
            private_rts.append(rt)
            lb = aws.ec2.Subnet(f"{name}-lb-{i}", vpc_id=vpc.id, cidr_block=slots["load_balancer"],
                                availability_zone=az, map_public_ip_on_launch=False,
                                tags=tagged(f"lb-{i}", {"Tier": "load-balancer", "kubernetes.io/role/internal-elb": "1"}),
                                opts=child)
            # Internal load balancers answer inside the VPC only: the AZ's private routes, no internet gateway.
            aws.ec2.RouteTableAssociation(f"{name}-lb-{i}", subnet_id=lb.id, route_table_id=rt.id, opts=child)
            lbs.append(lb)
            if args.get("isolated_subnets"):
                iso = aws.ec2.Subnet(f"{name}-isolated-{i}", vpc_id=vpc.id, cidr_block=slots["isolated"],
                                     availability_zone=az, tags=tagged(f"isolated-{i}", {"Tier": "isolated"}), opts=child)
                irt = aws.ec2.RouteTable(f"{name}-isolated-{i}", vpc_id=vpc.id, tags=tagged(f"isolated-{i}"), opts=child)
                aws.ec2.RouteTableAssociation(f"{name}-isolated-{i}", subnet_id=iso.id, route_table_id=irt.id, opts=child)
                isolated.append(iso)
                isolated_rts.append(irt)

        nat_count = {"none": 0, "single": 1, "per_az": count}[nat]
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=tagged(f"nat-{i}"), opts=child)
            nats.append(aws.ec2.NatGateway(f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=public[i].id,
                                           connectivity_type="public", tags=tagged(f"nat-{i}"),
                                           opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        for i, rt in enumerate(private_rts):
            if nats:
                aws.ec2.Route(f"{name}-private-{i}-nat", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                              nat_gateway_id=nats[i if nat == "per_az" else 0].id, opts=child)

        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
                            service_name=region.apply(lambda r: f"com.amazonaws.{r}.s3"),
                            route_table_ids=[rt.id for rt in private_rts + isolated_rts],
                            tags=tagged("s3"), opts=child)

        if args.get("endpoints"):
            self._endpoints(name, vpc, private, list(args["endpoints"]), region, tagged, child)

        if args.get("flow_logs", prof.flow_logs):
            self._flow_logs(name, vpc, prof, int(args.get("log_retention_days", prof.log_retention_days)), child)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])
        self.isolated_subnet_ids = pulumi.Output.all(*[s.id for s in isolated])
        self.availability_zones = zones
        self.load_balancer_tiers = ("public", "internal")
        # Known when planning: the slots depend only on the VPC CIDR and the AZ number.
        self.public_subnet_cidrs = pulumi.Output.from_input([subnet_cidrs(cidr, i)["public"] for i in range(count)])
        self.load_balancer_subnet_ids = pulumi.Output.all(*[s.id for s in lbs])
        self.load_balancer_subnet_cidrs = pulumi.Output.from_input(
            [subnet_cidrs(cidr, i)["load_balancer"] for i in range(count)])

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


# ---------------------------------------------------------------------------------------------
# What the services of a catalog need from the network
# ---------------------------------------------------------------------------------------------

#: Patterns whose exposed services sit behind an ALB (of their own, shared, or the EKS ingress controller's).
_ALB_PATTERNS = ("vm", "ecs", "eks")
#: The endpoints an Image Builder build instance uses: SSM Agent (commands) and Image Builder, logs to CloudWatch.
_BAKE_ENDPOINTS = {"ssm", "ssmmessages", "ec2messages", "imagebuilder", "logs"}
#: EKS nodes without NAT: EC2 (the VPC CNI), ECR (images), STS and EKS Auth (IRSA and Pod Identity credentials).
_EKS_NODE_ENDPOINTS = {"ec2", "ecr.api", "ecr.dkr", "sts", "eks-auth"}
#: ECS container instances (``capacity: ec2``): the agent's endpoints, all three required (else it goes public).
_ECS_AGENT_ENDPOINTS = {"ecs", "ecs-agent", "ecs-telemetry"}
_LBC_IMAGE = "public.ecr.aws/eks/aws-load-balancer-controller"
#: Where the EKS pattern's cluster autoscaler image comes from (components/eks/addons.py CLUSTER_AUTOSCALER_IMAGE).
_CLUSTER_AUTOSCALER_REGISTRY = "registry.k8s.io"
_ECR_PRIVATE = r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"


def _exposed(pattern: str, spec: Mapping[str, Any]) -> bool:
    if pattern == "ecs" and (spec.get("schedule") is not None or spec.get("queue") is not None):
        return spec.get("expose", "none") != "none"
    return spec.get("expose", "internal") != "none"


def _uses_alb(pattern: str, spec: Mapping[str, Any]) -> bool:
    lb = spec.get("load_balancer") if isinstance(spec.get("load_balancer"), Mapping) else {}
    return pattern in _ALB_PATTERNS and _exposed(pattern, spec) and lb.get("type", "alb") == "alb"


def _secret_endpoints(spec: Mapping[str, Any]) -> set[str]:
    secrets = spec.get("secrets") if isinstance(spec.get("secrets"), Mapping) else {}
    out = set()
    for arn in secrets.values():
        if isinstance(arn, str):
            out |= {"ssm"} if ":ssm:" in arn else ({"secretsmanager"} if ":secretsmanager:" in arn else set())
    return out


def _image_needs(spec: Mapping[str, Any], path: str, problems: Problems) -> set[str]:
    """ECR endpoints for an image built here or pulled from private ECR; any other registry is unreachable."""
    import re
    image = spec.get("image") if isinstance(spec.get("image"), Mapping) else None
    if image is None:
        return set()
    ref = image.get("ref")
    if "context" in image or (isinstance(ref, str) and re.match(_ECR_PRIVATE, ref)):
        return {"ecr.api", "ecr.dkr"}
    if isinstance(ref, str):
        problems.add(join_path(path, "image", "ref"),
                     f"is pulled from outside this account's ECR ({ref.split('/')[0]}), which private subnets "
                     "cannot reach with network.nat 'none': copy the image to ECR or choose a NAT strategy")
    return set()


def service_endpoint_needs(pattern: str, spec: Mapping[str, Any], path: str, problems: Problems) -> dict[str, set[str]]:
    """What one service reaches in AWS from the private subnets, as ``{reason: endpoints}``."""
    needs: dict[str, set[str]] = {}
    secrets = _secret_endpoints(spec)
    if pattern == "vm":
        ami = spec.get("ami") if isinstance(spec.get("ami"), Mapping) else {}
        if ami.get("bake") is not None:
            needs["the Image Builder bake"] = set(_BAKE_ENDPOINTS)
    elif pattern == "ecs":
        needs["ECR image pulls"] = _image_needs(spec, path, problems)
        needs["container logs"] = {"logs"}
        if spec.get("capacity") == "ec2":
            # The ECS agent on container instances registers and polls through these three.
            needs["the ECS agent on the cluster's EC2 instances"] = set(_ECS_AGENT_ENDPOINTS)
        if spec.get("enable_exec") is True:
            needs["ECS Exec"] = {"ssmmessages"}
        if spec.get("queue") is not None:
            needs["its queue"] = {"sqs"}
    elif pattern == "eks":
        needs["EKS nodes"] = set(_EKS_NODE_ENDPOINTS)
        needs["ECR image pulls"] = _image_needs(spec, path, problems)
        if _exposed(pattern, spec):
            needs["the load balancer controller"] = {"elasticloadbalancing"}
            # The eks-charts chart's default image, which the cluster does not override.
            problems.add(join_path(path, "expose"),
                         f"needs the AWS Load Balancer Controller, whose image is pulled from {_LBC_IMAGE}, which "
                         "private subnets cannot reach with network.nat 'none' (public ECR has no VPC endpoint): "
                         "choose a NAT strategy, or expose 'none'")
    elif pattern == "lambda" and not spec.get("vpc"):
        return {}
    if pattern in ("vm", "ecs", "eks", "lambda"):
        needs["its secrets"] = secrets
    if pattern in ("eks", "lambda"):
        needs["its access"] = _access_needs(spec, path, problems)
    return {reason: found for reason, found in needs.items() if found}


def _access_needs(spec: Mapping[str, Any], path: str, problems: Problems) -> set[str]:
    """``access`` from private subnets without NAT: buckets through the S3 gateway endpoint, queues through
    an ``sqs`` endpoint; tables and streams have no endpoint here, so they are reported as unreachable."""
    access = spec.get("access") if isinstance(spec.get("access"), Mapping) else {}
    for kind, service in (("tables", "DynamoDB"), ("streams", "Kinesis")):
        if access.get(kind):
            problems.add(join_path(path, "access", kind),
                         f"reaches {service}, which private subnets cannot reach with network.nat 'none' (no "
                         "endpoint for it is created): choose a NAT strategy")
    return {"sqs"} if access.get("queues") else set()


def validate_network_needs(network: Mapping[str, Any], profile: Profile,
                           specs: Mapping[str, Mapping[str, Mapping[str, Any]]], path: str = "network", *,
                           eks: Mapping[str, Any] | None = None) -> Problems:
    """What the catalog's services (``{pattern: {name: spec}}``) need from the stack's network: two AZs
    for every ALB, and with ``nat: none`` an interface endpoint for every AWS service they reach (``eks``:
    the stack's ``eks`` settings, whose cluster autoscaler runs in the private subnets too)."""
    problems = Problems()
    if not isinstance(network, Mapping):
        return problems
    services = sorted((name, pattern, spec) for pattern, named in specs.items() for name, spec in named.items()
                      if isinstance(spec, Mapping))
    if network.get("vpc_id") is not None:
        for name, pattern, spec in services:
            if not _uses_alb(pattern, spec):
                continue
            key = "public_subnet_ids" if spec.get("expose") == "public" else "private_subnet_ids"
            ids = network.get(key)
            if isinstance(ids, (list, tuple)) and len(ids) < 2:
                problems.add(join_path(path, key),
                             f"lists {len(ids)} subnet but services.{name} (expose {spec.get('expose', 'internal')!r}) "
                             "has an Application Load Balancer, which needs subnets in at least two Availability Zones")
        return problems

    count = network.get("availability_zones", profile.availability_zones)
    if isinstance(count, int) and count < 2:
        for name, pattern, spec in services:
            if _uses_alb(pattern, spec):
                given = "" if "availability_zones" in network else f" (the {profile.name} profile's)"
                problems.add(join_path(path, "availability_zones"),
                             f"is {count}{given} but services.{name}.expose is "
                             f"{spec.get('expose', 'internal')!r}: its Application Load Balancer needs subnets in at "
                             "least two Availability Zones; set network.availability_zones to 2 or more, or "
                             f"services.{name}.expose to 'none'")

    if network.get("nat", profile.nat) != "none":
        return problems
    endpoints = network.get("endpoints") if isinstance(network.get("endpoints"), (list, tuple)) else []
    have = set(map(str, endpoints))
    for name, pattern, spec in services:
        spath = join_path("services", name)
        for reason, needed in service_endpoint_needs(pattern, spec, spath, problems).items():
            missing = sorted(needed - have)
            if missing:
                problems.add(join_path(path, "endpoints"),
                             f"lacks {', '.join(missing)}, needed by {spath} ({reason}) because network.nat is "
                             "'none': add them to network.endpoints, or choose nat 'single' or 'per_az'")
    autoscaler = (eks or {}).get("cluster_autoscaler") if isinstance(eks, Mapping) else None
    autoscaler = autoscaler if isinstance(autoscaler, Mapping) else {}
    if specs.get("eks") and autoscaler.get("enabled", True) is not False:
        # The EKS cluster installs it by default (a Helm release, atomic): without this check the up waits for
        # its pods for ten minutes and fails on the image pull.
        problems.add("eks.cluster_autoscaler",
                     f"is enabled (the default), and its image is pulled from {_CLUSTER_AUTOSCALER_REGISTRY}, which "
                     "private subnets cannot reach with network.nat 'none' (no VPC endpoint reaches it), and it calls "
                     "the Auto Scaling API (the 'autoscaling' endpoint): choose a NAT strategy, or set "
                     "eks.cluster_autoscaler.enabled to false (node groups then keep their size)")
    return problems


def _first_zones(names: list[str], count: int) -> list[str]:
    if len(names) < count:
        raise ValueError(f"network.availability_zones: the region has {len(names)} available zones, {count} asked")
    return list(names)[:count]
