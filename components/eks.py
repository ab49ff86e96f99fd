"""``EksCluster`` and the ``eks`` catalog pattern: one hardened EKS cluster per stack, shared by every
``eks`` service, each deployed as a :class:`~components.k8s.KubernetesService`.

Built from pulumi-aws and pulumi-kubernetes resources directly (pulumi-eks is a remote component that
cannot be planned offline). The Kubernetes provider authenticates with a token from
``aws.eks.get_cluster_auth``, so deploying needs no AWS CLI; the ``kubeconfig`` output for people uses
``aws eks get-token``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi

from .k8s import (DNS1123_LABEL, KubernetesService, namespace_labels, validate_kubernetes_service)
from .patterns import BuildContext, Pattern, ValidationContext
from .profiles import LOG_RETENTION_DAYS, Profile, get_profile
from .service_spec import standard_tags, validate_tags
from .validation import Problems, is_unknown, join_path

__all__ = [
    "DEFAULT_VERSION", "EKS_KEYS", "EksCluster", "EksClusterArgs", "NodeGroupArgs", "PATTERN", "cluster_provider",
    "STANDARD_SUPPORT", "validate_eks_cluster",
]

#: Kubernetes versions in EKS standard support, with the day standard support ends (EKS release
#: calendar). A cluster on the STANDARD upgrade policy is upgraded automatically on that day.
STANDARD_SUPPORT = {"1.34": "2026-12-02", "1.35": "2027-03-27", "1.36": "2027-08-02"}
#: The newest version in standard support (AWS recommends creating clusters on it).
DEFAULT_VERSION = "1.36"
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
DEFAULT_LOG_TYPES = ("api", "audit", "authenticator")
EKS_KEYS = ("version", "cluster_name", "public_endpoint", "public_access_cidrs", "admin_role_arns", "node_groups",
            "log_types", "log_retention_days", "deletion_protection", "load_balancer_controller", "tags")
NODE_GROUP_KEYS = ("instance_types", "min", "max", "desired", "spot", "disk_size", "labels",
                   "max_unavailable_percentage")
ROLE_ARN = r"arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}"
POLICY_ARN = r"arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}"
CIDR = r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})"
CLUSTER_NAME = r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
INSTANCE_TYPE = r"[a-z][a-z0-9-]*\.[a-z0-9]+"
ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy",
                 "AmazonSSMManagedInstanceCore")
#: Add-ons the nodes need to join (created before the node groups) and those that need nodes to run.
#: metrics-server (an EKS community add-on) serves the CPU metrics every HorizontalPodAutoscaler scales on.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
ADDONS_AFTER_NODES = ("coredns", "metrics-server", "aws-secrets-store-csi-driver-provider")
LBC_CHART_REPO = "https://aws.github.io/eks-charts"


class NodeGroupArgs(TypedDict):
    """One EKS managed node group, in the private subnets."""

    instance_types: NotRequired[Sequence[str]]
    """EC2 instance types, all of one architecture (Graviton ``*g`` types run the ARM64 AMI).
    Default: the profile's ``node_instance_types`` (``t4g.medium``; prod ``m7g.large``)."""
    min: NotRequired[int]
    """Fewest nodes, 0-450. Default: the profile's ``node_count`` (dev 2, prod 3), lowered to ``desired`` or
    ``max`` when they are smaller."""
    max: NotRequired[int]
    """Most nodes, 1-450, at least ``min``. Default: twice ``min`` (at least 2)."""
    desired: NotRequired[int]
    """Nodes at creation, between ``min`` and ``max``; later owned by any autoscaler. Default: ``min``."""
    spot: NotRequired[bool]
    """Spot capacity (give several instance types). Default: the profile's ``spot`` (dev on)."""
    disk_size: NotRequired[int]
    """Root volume in GiB (gp3, encrypted), 20-16384. Default: 50."""
    labels: NotRequired[Mapping[str, str]]
    """Kubernetes labels on the nodes. Default: none."""
    max_unavailable_percentage: NotRequired[int]
    """Nodes replaced at once during an update, 1-100 percent. Default: 33."""


class LoadBalancerControllerArgs(TypedDict):
    policy_arn: str
    """The IAM policy of the AWS Load Balancer Controller (created from the ``iam_policy.json`` of the
    release you pin). Required."""
    chart_version: str
    """Version of the ``aws-load-balancer-controller`` Helm chart from ``eks-charts``. Required."""


class EksClusterArgs(TypedDict):
    """Arguments of :class:`EksCluster` (the stack config ``microservices:eks``)."""

    version: NotRequired[str]
    """Kubernetes minor version in EKS standard support (1.34, 1.35, 1.36). Default: 1.36. The STANDARD
    upgrade policy upgrades the cluster when standard support ends instead of paying for extended support."""
    cluster_name: NotRequired[str]
    """Physical cluster name (its log group ``/aws/eks/NAME/cluster`` is created first, with retention).
    Default: ``<project>-<stack>-<name>``."""
    public_endpoint: NotRequired[bool]
    """Also expose the API endpoint publicly, limited to ``public_access_cidrs``. Default: false (private only)."""
    public_access_cidrs: NotRequired[Sequence[str]]
    """CIDRs allowed to reach the public endpoint; required with ``public_endpoint``; ``0.0.0.0/0`` refused.
    Default: none (no public endpoint)."""
    admin_role_arns: NotRequired[Sequence[str]]
    """IAM roles given cluster-admin access entries (``AmazonEKSClusterAdminPolicy``). Default: none
    beyond the identity that creates the cluster."""
    node_groups: NotRequired[Mapping[str, NodeGroupArgs]]
    """Managed node groups by stable key. Default: one group ``default`` from the profile."""
    log_types: NotRequired[Sequence[str]]
    """Control-plane logs. Default: ``api``, ``audit``, ``authenticator``."""
    log_retention_days: NotRequired[int]
    """Retention of the control-plane log group. Default: the profile's (dev 7, staging 30, prod 365)."""
    deletion_protection: NotRequired[bool]
    """EKS deletion protection. Default: the profile's (on in prod)."""
    load_balancer_controller: NotRequired[LoadBalancerControllerArgs]
    """Install the AWS Load Balancer Controller (Helm) with a Pod Identity role, so Ingresses get ALBs.
    Default: not installed (Ingresses wait for a controller you install)."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every AWS resource. Default: none."""


# -- validation -----------------------------------------------------------------------------------
def is_arm(instance_type: str) -> bool:
    """Graviton types carry a ``g`` after the generation digit: t4g, m7g, c7gn, r8gd."""
    m = re.fullmatch(r"[a-z]+\d+([a-z-]*)\.[a-z0-9]+", instance_type)
    return bool(m and "g" in m.group(1).split("-")[0])


def _entry_key(role_arn: str) -> str:
    """The part of an admin role's ARN that names its access entry: the role name, without the path."""
    return re.sub(r"[^A-Za-z0-9-]", "-", role_arn.rsplit("/", 1)[-1])


def _check_cidr(value: Any, path: str, problems: Problems) -> None:
    if not problems.check_str(value, path, CIDR, "an IPv4 CIDR such as '203.0.113.0/24'") or is_unknown(value):
        return
    parts = re.fullmatch(CIDR, value).groups()
    if any(int(p) > 255 for p in parts[:4]) or int(parts[4]) > 32:
        problems.add(path, f"must be a valid IPv4 CIDR, got {value!r}")
    elif int(parts[4]) == 0:
        problems.add(path, f"must not open the API endpoint to the whole internet, got {value!r}")


def validate_eks_cluster(args: Any, path: str = "eks", problems: Problems | None = None) -> Problems:
    """Every problem in ``args`` of :class:`EksCluster` (the stack's ``microservices:eks``)."""
    problems = Problems() if problems is None else problems
    if not problems.check_mapping(args, path) or not isinstance(args, Mapping):
        return problems
    problems.check_known_keys(args, EKS_KEYS, path)
    version = args.get("version")
    if version is not None and not is_unknown(version) and str(version) not in STANDARD_SUPPORT:
        supported = ", ".join(f"{v} (until {d})" for v, d in STANDARD_SUPPORT.items())
        problems.add(join_path(path, "version"),
                     f"must be a Kubernetes version in EKS standard support: {supported}; got {version!r}")
    problems.check_str(args.get("cluster_name"), join_path(path, "cluster_name"), CLUSTER_NAME,
                       "1-100 letters, digits, '-' and '_', starting with a letter or digit")
    problems.check_bool(args.get("public_endpoint"), join_path(path, "public_endpoint"))
    problems.check_bool(args.get("deletion_protection"), join_path(path, "deletion_protection"))
    cidrs = args.get("public_access_cidrs")
    cp = join_path(path, "public_access_cidrs")
    if problems.check_list(cidrs, cp) and isinstance(cidrs, (list, tuple)):
        for i, cidr in enumerate(cidrs):
            _check_cidr(cidr, join_path(cp, i), problems)
    if args.get("public_endpoint") is True and not cidrs:
        problems.add(cp, "is required with public_endpoint: true (the CIDRs allowed to reach the API)")
    if cidrs and args.get("public_endpoint") is not True:
        problems.add(cp, "has no effect without public_endpoint: true")
    roles = args.get("admin_role_arns")
    rp = join_path(path, "admin_role_arns")
    if problems.check_list(roles, rp) and isinstance(roles, (list, tuple)):
        seen: dict[str, str] = {}
        for i, arn in enumerate(roles):
            ok = problems.check_str(arn, join_path(rp, i), ROLE_ARN, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
            if not ok or not isinstance(arn, str):
                continue
            # Access entries are named after the role's name (not its path), so two paths may not share one.
            key = _entry_key(arn)
            if seen.setdefault(key, arn) != arn:
                problems.add(join_path(rp, i), f"names its access entry {key!r} like {seen[key]!r}: admin roles "
                                               f"need distinct names, got {arn!r}")
    logs = args.get("log_types")
    lp = join_path(path, "log_types")
    if problems.check_list(logs, lp) and isinstance(logs, (list, tuple)):
        for i, kind in enumerate(logs):
            problems.check_enum(kind, join_path(lp, i), LOG_TYPES)
    problems.check_enum(args.get("log_retention_days"), join_path(path, "log_retention_days"), LOG_RETENTION_DAYS)
    lbc = args.get("load_balancer_controller")
    bp = join_path(path, "load_balancer_controller")
    if problems.check_mapping(lbc, bp) and isinstance(lbc, Mapping):
        problems.check_known_keys(lbc, ("policy_arn", "chart_version"), bp)
        if problems.require(lbc, "policy_arn", bp, "the controller's IAM policy ARN"):
            problems.check_str(lbc["policy_arn"], join_path(bp, "policy_arn"), POLICY_ARN,
                               "an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)")
        if problems.require(lbc, "chart_version", bp, "a pinned Helm chart version such as '1.14.1'"):
            problems.check_str(lbc["chart_version"], join_path(bp, "chart_version"), r"\d+\.\d+\.\d+",
                               "a chart version such as '1.14.1'")
    validate_tags(args.get("tags"), join_path(path, "tags"), problems)
    groups = args.get("node_groups")
    gp = join_path(path, "node_groups")
    if problems.check_mapping(groups, gp) and isinstance(groups, Mapping):
        if not groups:
            problems.add(gp, "needs at least one node group (or leave it out for the profile's default)")
        for key, group in groups.items():
            _validate_node_group(key, group, join_path(gp, str(key)), problems)
        # coredns waits for a node to become active, and so would every workload: an empty cluster never
        # finishes its first deployment (without min, the profile's node_count applies).
        starts = [g.get("desired", g.get("min")) for g in groups.values() if isinstance(g, Mapping)]
        if groups and len(starts) == len(groups) and all(n == 0 for n in starts):
            problems.add(gp, "must start at least one node (coredns and the workloads need one): give a group "
                             "min or desired of 1 or more")
    return problems


def _validate_node_group(key: Any, group: Any, path: str, problems: Problems) -> None:
    if not isinstance(key, str) or not re.fullmatch(DNS1123_LABEL, key) or len(key) > 20:
        problems.add(path, f"node group key {key!r} must be a DNS-1123 label of at most 20 characters")
    if not problems.check_mapping(group, path) or not isinstance(group, Mapping):
        return
    problems.check_known_keys(group, NODE_GROUP_KEYS, path)
    types = group.get("instance_types")
    tp = join_path(path, "instance_types")
    if problems.check_list(types, tp) and isinstance(types, (list, tuple)):
        if not types:
            problems.add(tp, "needs at least one instance type")
        ok = all([problems.check_str(t, join_path(tp, i), INSTANCE_TYPE, "an EC2 instance type such as 'm7g.large'")
                  for i, t in enumerate(types)])
        if ok and len({is_arm(t) for t in types if isinstance(t, str)}) > 1:
            problems.add(tp, f"must all be one architecture (ARM64 Graviton or x86_64), got {list(types)}")
    ok = all([problems.check_int(group.get("min"), join_path(path, "min"), 0, 450),
              problems.check_int(group.get("max"), join_path(path, "max"), 1, 450),
              problems.check_int(group.get("desired"), join_path(path, "desired"), 0, 450)])
    lo, hi, want = group.get("min"), group.get("max"), group.get("desired")
    if ok and isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        problems.add(join_path(path, "min"), f"must be at most max ({hi}), got {lo}")
    if ok and isinstance(want, int) and ((isinstance(lo, int) and want < lo) or (isinstance(hi, int) and want > hi)):
        problems.add(join_path(path, "desired"), f"must be between min and max, got {want}")
    problems.check_bool(group.get("spot"), join_path(path, "spot"))
    problems.check_int(group.get("disk_size"), join_path(path, "disk_size"), 20, 16384, "GiB")
    problems.check_int(group.get("max_unavailable_percentage"), join_path(path, "max_unavailable_percentage"), 1, 100,
                       "percent")
    problems.check_str_map(group.get("labels"), join_path(path, "labels"))


# -- component ------------------------------------------------------------------------------------
def _network_ref(network: Any) -> dict[str, Any]:
    if network is None:
        raise ValueError("EksCluster needs network= (a Network or a dict with vpc_id, vpc_cidr, private_subnet_ids)")
    if isinstance(network, Mapping):
        return dict(network)
    return {"vpc_id": network.vpc_id, "vpc_cidr": network.vpc_cidr, "private_subnet_ids": network.private_subnet_ids}


def _kubeconfig(cluster_name: str, endpoint: str, ca: str, user: dict[str, Any]) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster_name,
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "users": [{"name": cluster_name, "user": user}],
    }, sort_keys=True)


def cluster_provider(resource_name: str, cluster_name: pulumi.Input[str],
                     opts: pulumi.ResourceOptions | None = None):
    """A ``pulumi_kubernetes.Provider`` for an existing EKS cluster (another stack's, another program's), looked
    up by name and authenticated with ``aws.eks.get_cluster_auth``: no AWS CLI needed."""
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent) if opts is not None and opts.parent else None
    found = aws.eks.get_cluster_output(name=cluster_name, opts=invoke)
    token = aws.eks.get_cluster_auth_output(name=cluster_name, opts=invoke).token
    config = pulumi.Output.all(cluster_name, found.endpoint, found.certificate_authorities, token).apply(
        lambda v: _kubeconfig(v[0], v[1], v[2][0].data if v[2] else "", {"token": v[3]}))
    return k8s.Provider(resource_name, kubeconfig=pulumi.Output.secret(config), enable_server_side_apply=True,
                        opts=opts)


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster with private API, encrypted secrets, control-plane logs, managed node groups and add-ons."""

    cluster_name: pulumi.Output[str]
    """Name of the EKS cluster."""
    cluster_arn: pulumi.Output[str]
    """ARN of the EKS cluster."""
    endpoint: pulumi.Output[str]
    """API server URL."""
    certificate_authority: pulumi.Output[str]
    """Base64 CA bundle of the API server."""
    oidc_issuer: pulumi.Output[str]
    """OIDC issuer URL (for IRSA)."""
    oidc_provider_arn: pulumi.Output[str]
    """ARN of the IAM OIDC provider of the cluster (for IRSA)."""
    cluster_security_group_id: pulumi.Output[str]
    """The security group EKS attaches to the control plane and managed nodes."""
    node_role_arn: pulumi.Output[str]
    """IAM role of the managed nodes."""
    kms_key_arn: pulumi.Output[str]
    """KMS key encrypting Kubernetes Secrets."""
    vpc_cidr: pulumi.Output[str]
    """CIDR of the cluster's VPC (where load balancers send traffic from)."""
    provider: Any
    """``pulumi_kubernetes.Provider`` for workloads: token from ``aws.eks.get_cluster_auth``, waits for nodes,
    add-ons and the load balancer controller."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig for people (``aws eks get-token``; no credentials inside)."""

    def __init__(self, name: str, args: EksClusterArgs | None = None, opts: pulumi.ResourceOptions | None = None, *,
                 network: Any = None, profile: Profile | str | None = None):
        args = dict(args or {})
        validate_eks_cluster(args, name).raise_if_any()
        net = _network_ref(network)
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        super().__init__("microservices:eks:EksCluster", name, None, opts)
        import pulumi_aws as aws
        import pulumi_kubernetes as k8s
        from .blocks.iam import assume_role_policy
        from .blocks.logs import log_group

        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=prof.protect)
        tags = standard_tags(name, prof.name, args.get("tags"))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        # Project and stack names may hold '.', which EKS refuses in a cluster name ("prod.eu-west-1").
        cluster_name = args.get("cluster_name") or re.sub(
            r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}")[:100]

        def managed(policy: str) -> pulumi.Output[str]:
            return partition.apply(lambda p: f"arn:{p}:iam::aws:policy/{policy}")

        role = aws.iam.Role(f"{name}-cluster-role", assume_role_policy=assume_role_policy("eks.amazonaws.com"),
                            description=f"EKS control plane of {cluster_name}", tags=tags, opts=child)
        role_policy = aws.iam.RolePolicyAttachment(f"{name}-cluster-role", role=role.name,
                                                   policy_arn=managed("AmazonEKSClusterPolicy"), opts=child)
        key = aws.kms.Key(f"{name}-secrets", description=f"Kubernetes Secrets of EKS cluster {cluster_name}",
                          enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=stateful)
        # EKS creates this log group itself, without retention, unless it exists before the cluster.
        logs = log_group(f"{name}-logs", prof, name=f"/aws/eks/{cluster_name}/cluster",
                         retention_days=args.get("log_retention_days"), tags=tags, opts=child)
        public = bool(args.get("public_endpoint", False))
        vpc_config: dict[str, Any] = {"subnet_ids": net["private_subnet_ids"], "endpoint_private_access": True,
                                      "endpoint_public_access": public}
        if public:
            vpc_config["public_access_cidrs"] = sorted(args["public_access_cidrs"])
        cluster = aws.eks.Cluster(
            f"{name}-cluster", name=cluster_name, role_arn=role.arn, version=str(args.get("version", DEFAULT_VERSION)),
            vpc_config=vpc_config,
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(args.get("log_types", DEFAULT_LOG_TYPES)),
            # The identity running Pulumi must administer the cluster to deploy the workloads.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            upgrade_policy={"support_type": "STANDARD"},
            # Add-ons are installed below as managed add-ons, so their versions are visible and upgradable.
            bootstrap_self_managed_addons=False,
            deletion_protection=bool(args.get("deletion_protection", prof.deletion_protection)),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=prof.protect, depends_on=[logs, role_policy]))

        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer if ids and ids[0].oidcs else "")
        oidc = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                                             tags=tags, opts=child)

        for arn in sorted(set(args.get("admin_role_arns") or [])):
            key_name = _entry_key(arn)
            entry = aws.eks.AccessEntry(f"{name}-admin-{key_name}", cluster_name=cluster.name, principal_arn=arn,
                                        type="STANDARD", tags=tags, opts=child)
            aws.eks.AccessPolicyAssociation(f"{name}-admin-{key_name}", cluster_name=cluster.name, principal_arn=arn,
                                            policy_arn=partition.apply(lambda p: ADMIN_POLICY.format(partition=p)),
                                            access_scope={"type": "cluster"},
                                            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]))

        early = [aws.eks.Addon(f"{name}-{addon}", cluster_name=cluster.name, addon_name=addon,
                               configuration_values=json.dumps({"enableNetworkPolicy": "true"}) if addon == "vpc-cni"
                               else None,
                               resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
                               tags=tags, opts=child) for addon in ADDONS_BEFORE_NODES]

        node_role = aws.iam.Role(f"{name}-node-role", assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                                 description=f"EKS nodes of {cluster_name}", tags=tags, opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-node-role-{i}", role=node_role.name,
                                                    policy_arn=managed(policy), opts=child)
                       for i, policy in enumerate(NODE_POLICIES)]
        groups = args.get("node_groups") or {"default": {}}
        node_groups = [self._node_group(name, key, dict(group), cluster, node_role, net, tags, prof,
                                        pulumi.ResourceOptions(parent=self, depends_on=attachments + early))
                       for key, group in sorted(groups.items())]
        late = [aws.eks.Addon(f"{name}-{addon}", cluster_name=cluster.name, addon_name=addon,
                              resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
                              tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=node_groups))
                for addon in ADDONS_AFTER_NODES]

        ca = cluster.certificate_authority.apply(lambda c: c.data)

        def kubeconfig_after(ready: list[pulumi.Resource]) -> pulumi.Output[str]:
            # A get_cluster_auth token lives 15 minutes. Fetched as soon as the cluster exists, it would
            # expire while node groups are created or rolled; fetched once what the provider waits for is
            # done, it is fresh when the first Kubernetes object is applied.
            token = aws.eks.get_cluster_auth_output(
                name=cluster.name, opts=pulumi.InvokeOutputOptions(parent=self, depends_on=ready)).token
            return pulumi.Output.secret(pulumi.Output.all(cluster.name, cluster.endpoint, ca, token).apply(
                lambda v: _kubeconfig(v[0], v[1], v[2], {"token": v[3]})))

        ready: list[pulumi.Resource] = node_groups + late
        system = k8s.Provider(f"{name}-k8s-system", kubeconfig=kubeconfig_after(list(ready)),
                              enable_server_side_apply=True,
                              opts=pulumi.ResourceOptions(parent=self, depends_on=list(ready)))
        lbc = args.get("load_balancer_controller")
        if lbc:
            ready.append(self._load_balancer_controller(name, lbc, cluster, net, region, system, tags))
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig_after(ready), enable_server_side_apply=True,
                                     opts=pulumi.ResourceOptions(parent=self, depends_on=ready))

        self.kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, ca, region).apply(
            lambda v: _kubeconfig(v[0], v[1], v[2], {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", v[0], "--region", v[3], "--output", "json"]}}))
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.certificate_authority = ca
        self.oidc_issuer = issuer
        self.oidc_provider_arn = oidc.arn
        self.cluster_security_group_id = cluster.vpc_config.apply(lambda v: v.cluster_security_group_id)
        self.node_role_arn = node_role.arn
        self.kms_key_arn = key.arn
        self.vpc_cidr = pulumi.Output.from_input(net.get("vpc_cidr"))
        self.register_outputs({
            "cluster_name": self.cluster_name, "cluster_arn": self.cluster_arn, "endpoint": self.endpoint,
            "oidc_issuer": self.oidc_issuer, "oidc_provider_arn": self.oidc_provider_arn,
            "cluster_security_group_id": self.cluster_security_group_id, "node_role_arn": self.node_role_arn,
            "kms_key_arn": self.kms_key_arn, "kubeconfig": self.kubeconfig,
        })

    def _node_group(self, name: str, key: str, group: Mapping[str, Any], cluster: Any, node_role: Any,
                    net: Mapping[str, Any], tags: Mapping[str, str], prof: Profile, opts: pulumi.ResourceOptions):
        import pulumi_aws as aws
        from .blocks.launch_template import launch_template
        types = list(group.get("instance_types") or prof.node_instance_types)
        # EKS refuses min above desired or max: the profile's node_count gives way to an explicit desired or max.
        lo = int(group.get("min", min([prof.node_count, *(int(group[k]) for k in ("desired", "max") if k in group)])))
        hi = int(group.get("max", max(2, 2 * lo)))
        spot = bool(group.get("spot", prof.spot))
        # Pods reach IMDS through one more hop than the node: hop limit 2. EKS picks the AMI (ami_type)
        # and attaches the cluster security group, so the template sets neither.
        lt = launch_template(f"{name}-{key}", image_id=None, instance_type=None, security_group_ids=None,
                             instance_profile_arn=None, tags=tags, hop_limit=2,
                             root_volume_size=int(group.get("disk_size", 50)),
                             opts=pulumi.ResourceOptions(parent=self))
        return aws.eks.NodeGroup(
            f"{name}-{key}", cluster_name=cluster.name, node_role_arn=node_role.arn,
            # Nodes follow the control plane: a version bump rolls them onto the new AMI (within the
            # update config) instead of leaving them behind until the version skew is unsupported.
            version=cluster.version,
            subnet_ids=net["private_subnet_ids"], instance_types=types,
            ami_type="AL2023_ARM_64_STANDARD" if is_arm(types[0]) else "AL2023_x86_64_STANDARD",
            capacity_type="SPOT" if spot else "ON_DEMAND",
            scaling_config={"min_size": lo, "max_size": hi, "desired_size": int(group.get("desired", lo))},
            update_config={"max_unavailable_percentage": int(group.get("max_unavailable_percentage", 33))},
            launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
            labels={**{str(k): str(v) for k, v in (group.get("labels") or {}).items()}, "node-group": key},
            tags=tags,
            # A cluster autoscaler owns the node count once the group exists.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                ignore_changes=["scalingConfig.desiredSize"])))

    def _load_balancer_controller(self, name: str, lbc: Mapping[str, Any], cluster: Any, net: Mapping[str, Any],
                                  region: pulumi.Output[str], provider: Any, tags: Mapping[str, str]):
        import pulumi_aws as aws
        import pulumi_kubernetes as k8s
        from .k8s import trust_policy_pod_identity
        child = pulumi.ResourceOptions(parent=self)
        trust = trust_policy_pod_identity(cluster.name, "kube-system", "aws-load-balancer-controller")
        role = aws.iam.Role(f"{name}-lbc", assume_role_policy=trust, description="AWS Load Balancer Controller",
                            tags=tags, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-lbc", role=role.name, policy_arn=lbc["policy_arn"], opts=child)
        association = aws.eks.PodIdentityAssociation(
            f"{name}-lbc", cluster_name=cluster.name, namespace="kube-system",
            service_account="aws-load-balancer-controller", role_arn=role.arn, tags=tags, opts=child)
        return k8s.helm.v3.Release(
            f"{name}-lbc", name="aws-load-balancer-controller", namespace="kube-system",
            chart="aws-load-balancer-controller", version=lbc["chart_version"],
            repository_opts={"repo": LBC_CHART_REPO}, atomic=True, timeout=600,
            values={"clusterName": cluster.name, "region": region, "vpcId": net["vpc_id"], "replicaCount": 2,
                    "serviceAccount": {"create": True, "name": "aws-load-balancer-controller"},
                    "defaultTags": dict(tags)},
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[association]))


# -- the catalog pattern --------------------------------------------------------------------------
def _validate(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_kubernetes_service(name, spec, path, vctx)


def _validate_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
    """Cross-service rules: ``allow_from`` names known services; no two services claim one route."""
    problems = Problems()
    routes: dict[tuple, str] = {}
    groups: dict[str, tuple[str, dict[str, Any]]] = {}
    for svc, spec in sorted(specs.items()):
        for i, ref in enumerate(spec.get("allow_from") or []):
            if isinstance(ref, str) and "/" not in ref and ref not in specs:
                problems.add(join_path("services", svc, "allow_from", i),
                             f"names no eks service: {ref!r} (known: {', '.join(sorted(specs))})")
        ing = spec.get("ingress") if isinstance(spec.get("ingress"), Mapping) else {}
        if ing.get("group") and spec.get("expose", "internal") != "none":
            route = (ing["group"], ing.get("host"), ing.get("path", "/"))
            if route in routes:
                problems.add(join_path("services", svc, "ingress"),
                             f"routes host {route[1] or '*'} path {route[2]} of group {route[0]!r}, "
                             f"already routed to {routes[route]}")
            routes.setdefault(route, svc)
            # One load balancer serves the group: the controller refuses members whose tags conflict, and
            # one member's HTTP-to-HTTPS redirect applies to all of them.
            tags = dict(spec["tags"]) if isinstance(spec.get("tags"), Mapping) else {}
            shared = {"expose": spec.get("expose", "internal"), "tags": tags,
                      "ingress.certificate_arn": "given" if ing.get("certificate_arn") else "not given"}
            first_svc, first = groups.setdefault(ing["group"], (svc, shared))
            for key, value in shared.items():
                if first[key] != value:
                    problems.add(join_path("services", svc, key),
                                 f"must match the other services of ingress group {ing['group']!r} (one load "
                                 f"balancer): {first_svc} has {first[key]!r}, got {value!r}")
    return problems


def _namespace_of(name: str, spec: Mapping[str, Any]) -> str:
    return spec.get("namespace", name)


def _prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    if not specs:
        return
    import pulumi_kubernetes as k8s
    cluster = EksCluster("eks", ctx.shared.get("eks:config") or {}, pulumi.ResourceOptions(parent=ctx.parent),
                         network=ctx.network, profile=ctx.profile)
    ctx.shared["eks:cluster"] = cluster
    users: dict[str, list[str]] = {}
    for svc, spec in specs.items():
        users.setdefault(_namespace_of(svc, spec), []).append(svc)
    ctx.shared["eks:namespaces"] = {svc: _namespace_of(svc, spec) for svc, spec in specs.items()}
    # A namespace shared by several services is created once, here, so none of them owns it.
    ctx.shared["eks:shared_namespaces"] = {
        ns: k8s.core.v1.Namespace(f"eks-ns-{ns}", metadata={"name": ns, "labels": namespace_labels(ns)},
                                  opts=pulumi.ResourceOptions(parent=cluster, provider=cluster.provider))
        for ns, members in sorted(users.items()) if len(members) > 1}


def _build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> pulumi.Resource:
    cluster = ctx.shared["eks:cluster"]
    namespaces = ctx.shared.get("eks:namespaces", {})
    args = dict(spec)
    deps = []
    shared_ns = ctx.shared.get("eks:shared_namespaces", {}).get(_namespace_of(name, spec))
    if shared_ns is not None:
        args["create_namespace"] = False
        deps.append(shared_ns)
    if args.get("allow_from"):
        args["allow_from"] = [ref if "/" in ref else f"{namespaces.get(ref, ref)}/{ref}" for ref in args["allow_from"]]
    image = _shared_image(name, spec, ctx)
    if image is not None:
        args["image"] = {"ref": image.image_ref}
    # Without the controller in this program, an Ingress has no address until one is installed.
    managed_lbc = bool((ctx.shared.get("eks:config") or {}).get("load_balancer_controller"))
    service = KubernetesService(name, args, pulumi.ResourceOptions(parent=ctx.parent, depends_on=deps),
                                cluster=cluster, network=ctx.network, profile=ctx.profile, project_dir=ctx.project_dir,
                                await_load_balancer=managed_lbc)
    ctx.outputs[name] = {"namespace": service.namespace, "url": service.url, "cluster": cluster.cluster_name}
    return service


def _shared_image(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> Any:
    """The stack's shared build of the service's image (see ``shared_image``), for its nodes' architecture."""
    from .container_image import default_image_spec, shared_image
    groups = (ctx.shared.get("eks:config") or {}).get("node_groups") or {"default": {}}
    types = [t for g in groups.values() if isinstance(g, Mapping)
             for t in (g.get("instance_types") or ctx.profile.node_instance_types)]
    archs = {is_arm(t) for t in types if isinstance(t, str)}
    platform = None if len(archs) != 1 else ("linux/arm64" if archs.pop() else "linux/amd64")
    return shared_image(ctx, spec.get("image") or default_image_spec(name), platform=platform, push=True)


def _build_local(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> pulumi.Resource:
    # Imported here so this module loads without the docker pattern; it keeps the keys a Docker host understands.
    from .docker import build_docker_local
    return build_docker_local(name, spec, ctx)


PATTERN = Pattern(name="eks", validate=_validate, build=_build, validate_catalog=_validate_catalog,
                  prepare=_prepare, build_local=_build_local, needs_network=True)
