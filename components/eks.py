"""``EksCluster`` and the ``eks`` catalog pattern: one hardened EKS cluster per stack, shared by every
``eks`` service, each deployed as a :class:`~components.k8s.KubernetesService`.

Built from pulumi-aws and pulumi-kubernetes resources directly (pulumi-eks is a remote component that
cannot be planned offline). The Kubernetes provider authenticates with a token from
``aws.eks.get_cluster_auth``, so deploying needs no AWS CLI; the ``kubeconfig`` output for people uses
``aws eks get-token``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi

from .blocks.architecture import is_arm64 as is_arm
from .k8s import (DNS1123_LABEL, LB_SUBNET_KEYS, KubernetesService, namespace_labels, validate_kubernetes_service)
from .patterns import BuildContext, Pattern, ValidationContext, run_on_docker_host
from .profiles import LOG_RETENTION_DAYS, Profile, get_profile
from .blocks.service import standard_tags, validate_tags
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
#: Control-plane logs by profile: prod ships all five (controllerManager and scheduler explain evictions,
#: scaling and scheduling decisions after the fact); the others the three that audit access.
LOG_TYPES_BY_PROFILE = {"prod": LOG_TYPES}
EKS_KEYS = ("version", "cluster_name", "public_endpoint", "public_access_cidrs", "api_access_cidrs",
            "api_access_security_group_ids", "admin_role_arns", "view_role_arns", "node_groups", "log_types", "log_retention_days",
            "deletion_protection", "load_balancer_controller", "cluster_autoscaler", "addon_versions", "tags")
ADDON_VERSION = r"v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?"
CLUSTER_AUTOSCALER_KEYS = ("enabled", "chart_version", "image_tag")
#: The ``cluster-autoscaler`` chart of kubernetes/autoscaler; its image is pinned separately to the release
#: made for the cluster's Kubernetes minor version (the autoscaler simulates that version's scheduler).
CLUSTER_AUTOSCALER_CHART = "9.38.0"
CLUSTER_AUTOSCALER_CHART_REPO = "https://kubernetes.github.io/autoscaler"
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
#: Read access the autoscaler of a recent Kubernetes version needs beyond the ClusterRole of older charts
#: (kubernetes/autoscaler#7663: without volumeattachments it stops scaling up).
CLUSTER_AUTOSCALER_EXTRA_ROLE = "cluster-autoscaler-extra-read"
CLUSTER_AUTOSCALER_EXTRA_READ = (("storage.k8s.io", ("volumeattachments",)),
                                 ("resource.k8s.io", ("deviceclasses", "resourceclaims", "resourceslices")),
                                 ("", ("podtemplates",)))
SECURITY_GROUP_ID = r"sg-[0-9a-f]{8,17}"
NODE_GROUP_KEYS = ("instance_types", "min", "max", "desired", "spot", "disk_size", "labels",
                   "max_unavailable_percentage")
ROLE_ARN = r"arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}"
POLICY_ARN = r"arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}"
CIDR = r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})"
CLUSTER_NAME = r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
INSTANCE_TYPE = r"[a-z][a-z0-9-]*\.[a-z0-9]+"
ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
#: Read access to every object, Secrets included (Helm keeps its releases in Secrets): what a refresh reads.
VIEW_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
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
    """EC2 instance types, all of one architecture (``a1`` and Graviton ``*g`` types run the ARM64 AMI).
    Default: the profile's ``node_instance_types`` (``t4g.medium``; prod ``m7g.large``)."""
    min: NotRequired[int]
    """Fewest nodes, 0-450. Default: the profile's ``node_count`` (dev 2, prod 3), lowered to ``desired`` or
    ``max`` when they are smaller."""
    max: NotRequired[int]
    """Most nodes, 1-450, at least ``min``; the Cluster Autoscaler scales up to it. Default: twice ``min``
    (at least 2, and at least ``desired``)."""
    desired: NotRequired[int]
    """Nodes at creation, between ``min`` and ``max``; ignored afterwards (the Cluster Autoscaler owns the
    count). Default: ``min``."""
    spot: NotRequired[bool]
    """Spot capacity; needs at least two instance types of one size, so a reclaimed type can be replaced.
    Default: the profile's ``spot`` (dev on, with ``t4g.medium``, ``c7g.large`` and ``c6g.large``)."""
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


class ClusterAutoscalerArgs(TypedDict):
    enabled: NotRequired[bool]
    """Install it. Default: true (false leaves node groups at their size, and pods Pending beyond it)."""
    chart_version: NotRequired[str]
    """Version of the ``cluster-autoscaler`` Helm chart from kubernetes.github.io/autoscaler. Default: 9.38.0."""
    image_tag: NotRequired[str]
    """Cluster Autoscaler image tag; it must be the release for the cluster's Kubernetes minor version.
    Default: ``v<version>.0`` (follows ``version``)."""


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
    api_access_cidrs: NotRequired[Sequence[str]]
    """More CIDRs (a VPN, a peered VPC holding CI runners) allowed to reach the private API endpoint on 443;
    ``0.0.0.0/0`` refused. Default: none (the VPC's own CIDR is always admitted)."""
    api_access_security_group_ids: NotRequired[Sequence[str]]
    """Security groups (a CI runner's) allowed to reach the private API endpoint on 443. Default: none."""
    admin_role_arns: NotRequired[Sequence[str]]
    """IAM roles given cluster-admin access entries (``AmazonEKSClusterAdminPolicy``). Default: none
    beyond the identity that creates the cluster."""
    view_role_arns: NotRequired[Sequence[str]]
    """IAM roles given read-only access entries (``AmazonEKSAdminViewPolicy``, Secrets included): the pull-request
    preview role, whose refresh (``Pulumi.yaml`` refreshes before every preview) reads every Kubernetes object
    of the stack. Default: none."""
    node_groups: NotRequired[Mapping[str, NodeGroupArgs]]
    """Managed node groups by stable key. Default: one group ``default`` from the profile."""
    log_types: NotRequired[Sequence[str]]
    """Control-plane logs. Default: ``api``, ``audit``, ``authenticator``."""
    log_retention_days: NotRequired[int]
    """Retention of the control-plane log group. Default: the profile's (dev 7, staging 30, prod 365)."""
    deletion_protection: NotRequired[bool]
    """EKS deletion protection. Default: the profile's (on in prod)."""
    addon_versions: NotRequired[Mapping[str, str]]
    """Pinned versions of managed add-ons by name (``vpc-cni: v1.20.1-eksbuild.1``), for an add-on EKS gives no
    default version for, or to hold one back. Default: each add-on runs the version EKS gives as default for
    the cluster's ``version``."""
    cluster_autoscaler: NotRequired[ClusterAutoscalerArgs]
    """The Cluster Autoscaler that grows and shrinks the node groups with pending pods. Default: installed
    (Helm, Pod Identity role), image ``v<version>.0``."""
    load_balancer_controller: NotRequired[LoadBalancerControllerArgs]
    """Install the AWS Load Balancer Controller (Helm) with a Pod Identity role, so Ingresses get ALBs.
    Default: not installed (Ingresses wait for a controller you install)."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every AWS resource. Default: none."""


# -- validation -----------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class NodeGroupSettings:
    """One node group's args resolved against the profile: what EKS is asked for."""

    instance_types: tuple[str, ...]
    min: int
    max: int
    desired: int
    spot: bool


def resolve_node_group(group: Mapping[str, Any], prof: Profile) -> NodeGroupSettings:
    """The sizes EKS gets: an explicit ``desired`` or ``max`` lowers the profile's ``node_count`` used as
    ``min``, and the default ``max`` (twice ``min``) is raised to an explicit ``desired``."""
    types = tuple(group.get("instance_types") or prof.node_instance_types)
    lo = int(group["min"]) if "min" in group else min(
        [prof.node_count, *(int(group[k]) for k in ("desired", "max") if k in group)])
    want = int(group.get("desired", lo))
    hi = int(group["max"]) if "max" in group else max(2, 2 * lo, want)
    return NodeGroupSettings(types, lo, hi, want, bool(group.get("spot", prof.spot)))


def validate_eks_cluster(args: Any, path: str = "eks", problems: Problems | None = None, *,
                         profile: Profile | str | None = None) -> Problems:
    """Every problem in ``args`` of :class:`EksCluster` (the stack's ``microservices:eks``), node group sizes
    resolved against ``profile`` (default: dev)."""
    problems = Problems() if problems is None else problems
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
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
    ap = join_path(path, "api_access_cidrs")
    extra = args.get("api_access_cidrs")
    if problems.check_list(extra, ap) and isinstance(extra, (list, tuple)):
        for i, cidr in enumerate(extra):
            _check_cidr(cidr, join_path(ap, i), problems)
    sp = join_path(path, "api_access_security_group_ids")
    groups_in = args.get("api_access_security_group_ids")
    if problems.check_list(groups_in, sp) and isinstance(groups_in, (list, tuple)):
        for i, sg in enumerate(groups_in):
            problems.check_str(sg, join_path(sp, i), SECURITY_GROUP_ID, "a security group id such as 'sg-0123456789abcdef0'")
    pins = args.get("addon_versions")
    pp = join_path(path, "addon_versions")
    if problems.check_mapping(pins, pp) and isinstance(pins, Mapping):
        problems.check_known_keys(pins, ADDONS_BEFORE_NODES + ADDONS_AFTER_NODES, pp)
        for addon_name, pinned in pins.items():
            problems.check_str(pinned, join_path(pp, str(addon_name)), ADDON_VERSION,
                               "an add-on version such as 'v1.20.1-eksbuild.1'")
    ca = args.get("cluster_autoscaler")
    cap = join_path(path, "cluster_autoscaler")
    if problems.check_mapping(ca, cap) and isinstance(ca, Mapping):
        problems.check_known_keys(ca, CLUSTER_AUTOSCALER_KEYS, cap)
        problems.check_bool(ca.get("enabled"), join_path(cap, "enabled"))
        problems.check_str(ca.get("chart_version"), join_path(cap, "chart_version"), r"\d+\.\d+\.\d+",
                           "a chart version such as '9.38.0'")
        problems.check_str(ca.get("image_tag"), join_path(cap, "image_tag"), r"v\d+\.\d+\.\d+",
                           "an image tag such as 'v1.36.0' (the release for the cluster's version)")
    admins: set[str] = set()
    for setting, kind in (("admin_role_arns", "admin"), ("view_role_arns", "view")):
        roles = args.get(setting)
        rp = join_path(path, setting)
        if not (problems.check_list(roles, rp) and isinstance(roles, (list, tuple))):
            continue
        seen: dict[str, str] = {}
        for i, arn in enumerate(roles):
            ok = problems.check_str(arn, join_path(rp, i), ROLE_ARN, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
            if not ok or not isinstance(arn, str):
                continue
            # Access entries are named after the role's name (not its path), so two paths may not share one.
            key = _entry_key(arn)
            if seen.setdefault(key, arn) != arn:
                problems.add(join_path(rp, i), f"names its access entry {key!r} like {seen[key]!r}: {kind} roles "
                                               f"need distinct names, got {arn!r}")
            if kind == "admin":
                admins.add(arn)
            elif arn in admins:
                # One access entry per principal: EKS refuses a second one for the same role.
                problems.add(join_path(rp, i), f"is also in admin_role_arns ({arn!r}): a role has one access entry")
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
            _validate_node_group(key, group, join_path(gp, str(key)), problems, prof)
        # coredns waits for a node to become active, and so would every workload: an empty cluster never
        # finishes its first deployment (without min, the profile's node_count applies).
        starts = [g.get("desired", g.get("min")) for g in groups.values() if isinstance(g, Mapping)]
        if groups and len(starts) == len(groups) and all(n == 0 for n in starts):
            problems.add(gp, "must start at least one node (coredns and the workloads need one): give a group "
                             "min or desired of 1 or more")
    return problems


def _validate_node_group(key: Any, group: Any, path: str, problems: Problems, prof: Profile) -> None:
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
    ok = ok & problems.check_bool(group.get("spot"), join_path(path, "spot"))
    types_ok = not isinstance(types, (list, tuple)) or all(isinstance(t, str) for t in types)
    if ok and types_ok and not any(is_unknown(group.get(k)) for k in ("min", "max", "desired")):
        # EKS refuses min > desired or desired > max: check the sizes it will get, defaults included.
        got = resolve_node_group(group, prof)
        shown = {k: f"{getattr(got, k)}" + ("" if k in group else f" (the default for {prof.name})")
                 for k in ("min", "max", "desired")}
        if got.min > got.max:
            problems.add(join_path(path, "min"), f"must be at most max ({shown['max']}), got {shown['min']}")
        elif not got.min <= got.desired <= got.max:
            problems.add(join_path(path, "desired"),
                         f"must be between min ({shown['min']}) and max ({shown['max']}), got {shown['desired']}")
        if got.spot and len(set(got.instance_types)) < 2:
            where = "" if "instance_types" in group else f" (the {prof.name} profile's default)"
            problems.add(join_path(path, "instance_types"),
                         f"needs at least two instance types of one size with spot: true, so Spot capacity "
                         f"reclaimed in one type can be replaced by another; got {list(got.instance_types)}{where}")
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
    ref = {"vpc_id": network.vpc_id, "vpc_cidr": network.vpc_cidr, "private_subnet_ids": network.private_subnet_ids}
    for tier in getattr(network, "load_balancer_tiers", ()):
        ref.update({key: getattr(network, key) for key in LB_SUBNET_KEYS[tier]})
    return ref


def _kubeconfig(cluster_name: str, endpoint: str, ca: str, user: dict[str, Any]) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster_name,
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "users": [{"name": cluster_name, "user": user}],
    }, sort_keys=True)


_WARNED_ABSOLUTE: set[str] = set()


def credential_command() -> str:
    """The Python that runs ``components.eks_token`` for the Kubernetes provider: ``microservices:eks_token_python``
    when the stack sets it, else the interpreter running this program (the project's virtualenv, where botocore
    is installed). Pulumi stores the provider's kubeconfig, and ``refresh`` and ``destroy`` run the stored
    command: inside the project directory it is written relative to it (``venv/bin/python``), which is where
    Pulumi starts providers, so every machine with that layout runs it. Outside the project (a Poetry or system
    interpreter, a CI runner's toolcache) only an absolute path is possible, which another machine does not have:
    that is warned about, and the config setting names a command every machine has."""
    configured = pulumi.Config("microservices").get("eks_token_python")
    if configured:
        return configured
    exe = sys.executable
    try:
        rel = os.path.relpath(exe, os.getcwd())
    except ValueError:  # another drive on Windows
        rel = ".."
    if not rel.startswith(".."):
        return rel.replace(os.sep, "/")
    if exe not in _WARNED_ABSOLUTE:
        _WARNED_ABSOLUTE.add(exe)
        pulumi.log.warn(
            f"the EKS token plugin runs {exe}, outside the project directory: Pulumi stores this path, so "
            "`pulumi refresh`/`destroy` on a machine without it fail, and other machines show a provider diff. "
            "Create the virtualenv inside the project (venv/ or .venv/), or set microservices:eks_token_python "
            "to a Python every machine has (with this package and botocore installed).")
    return exe


def aws_credential_args() -> list[str]:
    """The plugin's arguments naming the credentials of the stack's default AWS provider: ``aws:profile`` and the
    roles of ``aws:assumeRoles``. Without them the plugin signs with whatever the environment holds, which is
    not the identity that created the cluster (and holds its admin access entry) when the stack's config chooses
    a profile or a role: every Kubernetes call would be Unauthorized."""
    cfg = pulumi.Config("aws")
    args: list[str] = []
    profile = cfg.get("profile")
    # Static keys in the stack's config take precedence over aws:profile for the AWS provider (and for the
    # deploy providers of blocks/aws_api.py); the plugin gets them in its environment (aws_credential_env),
    # and an explicit --profile would make botocore ignore them.
    if profile and not _static_keys_configured():
        args += ["--profile", profile]
    roles = cfg.get_object("assumeRoles") or []
    roles = [roles] if isinstance(roles, Mapping) else [r for r in roles if isinstance(r, Mapping)]
    for role in roles:
        if role.get("roleArn"):
            # Each role's own external id and session name, as the AWS provider (and blocks/aws_api.py) assume it.
            args += ["--role-arn", str(role["roleArn"])]
            if role.get("externalId"):
                args += ["--external-id", str(role["externalId"])]
            if role.get("sessionName"):
                args += ["--session-name", str(role["sessionName"])]
    return args


def _static_keys_configured() -> bool:
    cfg = pulumi.Config("aws")
    return cfg.get_secret("accessKey") is not None and cfg.get_secret("secretKey") is not None


def aws_credential_env() -> pulumi.Output[list[dict[str, str]]]:
    """The plugin's environment when the stack's config holds static keys (``aws:accessKey``, ``aws:secretKey``,
    ``aws:token``): the AWS provider created the cluster with them, so the token must be signed with them too
    (the deploy providers of ``blocks/aws_api.py`` use them as well). A secret output, so the kubeconfig that
    carries them is encrypted in the state; an empty list without them."""
    cfg = pulumi.Config("aws")
    if not _static_keys_configured():
        return pulumi.Output.from_input([])
    names = (("AWS_ACCESS_KEY_ID", "accessKey"), ("AWS_SECRET_ACCESS_KEY", "secretKey"), ("AWS_SESSION_TOKEN", "token"))
    values = [cfg.get_secret(key) for _, key in names]
    return pulumi.Output.all(*[v if v is not None else "" for v in values]).apply(
        lambda v: [{"name": env, "value": value} for (env, _), value in zip(names, v) if value])


def exec_user(cluster_name: str, region: str, env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The kubeconfig user of the Kubernetes provider: a token made by ``components.eks_token`` whenever the
    provider needs one (never stored, never stale), signed as the stack's AWS provider signs (``env``: see
    :func:`aws_credential_env`)."""
    user = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": credential_command(),
            "args": ["-m", f"{__package__}.eks_token", "--cluster-name", cluster_name, "--region", region,
                     *aws_credential_args()],
            "interactiveMode": "Never"}
    if env:
        user["env"] = env
    return {"exec": user}


def cluster_provider(resource_name: str, cluster_name: pulumi.Input[str],
                     opts: pulumi.ResourceOptions | None = None):
    """A ``pulumi_kubernetes.Provider`` for an existing EKS cluster (another stack's, another program's), looked
    up by name and authenticated by ``components.eks_token`` when it is used: no AWS CLI, no stored token."""
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent) if opts is not None and opts.parent else None
    found = aws.eks.get_cluster_output(name=cluster_name, opts=invoke)
    region = aws.get_region_output(opts=invoke).region
    config = pulumi.Output.all(cluster_name, found.endpoint, found.certificate_authorities, region,
                               aws_credential_env()).apply(
        lambda v: _kubeconfig(v[0], v[1], v[2][0].data if v[2] else "", exec_user(v[0], v[3], v[4])))
    return k8s.Provider(resource_name, kubeconfig=config, enable_server_side_apply=True, opts=opts)


def _rule_key(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", value)


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
    """CIDR of the cluster's VPC."""
    load_balancer_subnets: dict[str, dict[str, Any]]
    """Subnet ids and CIDRs of load balancers by exposure (``public``, ``internal``), when the network has them."""
    provider: Any
    """``pulumi_kubernetes.Provider`` for workloads: credentials from ``components.eks_token`` at each use;
    waits for the API access rules, nodes, add-ons and controllers."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig for people (``aws eks get-token``; no credentials inside)."""

    def __init__(self, name: str, args: EksClusterArgs | None = None, opts: pulumi.ResourceOptions | None = None, *,
                 network: Any = None, profile: Profile | str | None = None):
        args = dict(args or {})
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        problems = validate_eks_cluster(args, name, profile=prof)
        net = _network_ref(network)
        if isinstance(net.get("vpc_cidr"), str) and net["vpc_cidr"] in (args.get("api_access_cidrs") or []):
            # EKS would refuse the second rule for one CIDR as a duplicate at `up`.
            problems.add(join_path(name, "api_access_cidrs"),
                         f"needs no {net['vpc_cidr']!r}: the VPC's CIDR is always admitted")
        problems.raise_if_any()
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
        api_sg, api_rules = self._api_access(name, args, net, tags)
        vpc_config: dict[str, Any] = {"subnet_ids": net["private_subnet_ids"], "endpoint_private_access": True,
                                      "endpoint_public_access": public, "security_group_ids": [api_sg.id]}
        if public:
            vpc_config["public_access_cidrs"] = sorted(args["public_access_cidrs"])
        version = str(args.get("version", DEFAULT_VERSION))
        cluster = aws.eks.Cluster(
            f"{name}-cluster", name=cluster_name, role_arn=role.arn, version=version,
            vpc_config=vpc_config,
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(args.get("log_types", LOG_TYPES_BY_PROFILE.get(prof.name,
                                                                                      DEFAULT_LOG_TYPES))),
            # The identity running Pulumi must administer the cluster to deploy the workloads.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            upgrade_policy={"support_type": "STANDARD"},
            # Add-ons are installed below as managed add-ons, so their versions are visible and upgradable.
            bootstrap_self_managed_addons=False,
            deletion_protection=bool(args.get("deletion_protection", prof.deletion_protection)),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=prof.protect, depends_on=[logs, role_policy]))
        cluster_sg = cluster.vpc_config.apply(lambda v: v.cluster_security_group_id)

        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer if ids and ids[0].oidcs else "")
        oidc = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                                             tags=tags, opts=child)

        # Admins (cluster admin) and viewers (read-only, e.g. the PR preview's refresh): one access entry each.
        for role, policy in (("admin", ADMIN_POLICY), ("view", VIEW_POLICY)):
            for arn in sorted(set(args.get(f"{role}_role_arns") or [])):
                key_name = _entry_key(arn)
                entry = aws.eks.AccessEntry(f"{name}-{role}-{key_name}", cluster_name=cluster.name, principal_arn=arn,
                                            type="STANDARD", tags=tags, opts=child)
                aws.eks.AccessPolicyAssociation(
                    f"{name}-{role}-{key_name}", cluster_name=cluster.name, principal_arn=arn,
                    policy_arn=partition.apply(lambda p, policy=policy: policy.format(partition=p)),
                    access_scope={"type": "cluster"}, opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]))

        pins = dict(args.get("addon_versions") or {})

        def addon(addon_name: str, opts: pulumi.ResourceOptions, configuration: str | None = None):
            # EKS upgrades the control plane only: each add-on is pinned to the default version EKS gives for
            # the cluster's version, so raising `version` upgrades the cluster first, then the add-ons. The
            # default (not the newest) keeps plans stable when AWS publishes a new build.
            version_of = pins.get(addon_name) or aws.eks.get_addon_version_output(
                addon_name=addon_name, kubernetes_version=cluster.version,
                opts=pulumi.InvokeOutputOptions(parent=self)).version
            return aws.eks.Addon(f"{name}-{addon_name}", cluster_name=cluster.name, addon_name=addon_name,
                                 addon_version=version_of, configuration_values=configuration,
                                 resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
                                 tags=tags, opts=opts)

        early = [addon(a, child, json.dumps({"enableNetworkPolicy": "true"}) if a == "vpc-cni" else None)
                 for a in ADDONS_BEFORE_NODES]

        node_role = aws.iam.Role(f"{name}-node-role", assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                                 description=f"EKS nodes of {cluster_name}", tags=tags, opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-node-role-{i}", role=node_role.name,
                                                    policy_arn=managed(policy), opts=child)
                       for i, policy in enumerate(NODE_POLICIES)]
        groups = args.get("node_groups") or {"default": {}}
        node_groups = [self._node_group(name, key, dict(group), cluster, node_role, net, tags, prof,
                                        pulumi.ResourceOptions(parent=self, depends_on=attachments + early))
                       for key, group in sorted(groups.items())]
        late = [addon(a, pulumi.ResourceOptions(parent=self, depends_on=node_groups)) for a in ADDONS_AFTER_NODES]

        ca = cluster.certificate_authority.apply(lambda c: c.data)
        # No token in the provider's configuration (Pulumi stores it, and refresh and destroy reuse it): the
        # provider runs components.eks_token each time it needs credentials.
        provider_config = pulumi.Output.all(cluster.name, cluster.endpoint, ca, region, aws_credential_env()).apply(
            lambda v: _kubeconfig(v[0], v[1], v[2], exec_user(v[0], v[3], v[4])))
        ready: list[pulumi.Resource] = [*api_rules, *node_groups, *late]
        system = k8s.Provider(f"{name}-k8s-system", kubeconfig=provider_config, enable_server_side_apply=True,
                              opts=pulumi.ResourceOptions(parent=self, depends_on=list(ready)))
        autoscaler = args.get("cluster_autoscaler") or {}
        if autoscaler.get("enabled", True):
            ready.append(self._cluster_autoscaler(name, autoscaler, cluster, version, region, system, tags))
        lbc = args.get("load_balancer_controller")
        if lbc:
            ready.append(self._load_balancer_controller(name, lbc, cluster, net, region, system, tags))
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=provider_config, enable_server_side_apply=True,
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
        self.cluster_security_group_id = cluster_sg
        self.node_role_arn = node_role.arn
        self.kms_key_arn = key.arn
        self.vpc_cidr = pulumi.Output.from_input(net.get("vpc_cidr"))
        self.load_balancer_subnets = {
            expose: {"ids": net[ids], "cidrs": net[cidrs]}
            for expose, (ids, cidrs) in LB_SUBNET_KEYS.items() if net.get(ids) is not None and net.get(cidrs) is not None}
        self.register_outputs({
            "cluster_name": self.cluster_name, "cluster_arn": self.cluster_arn, "endpoint": self.endpoint,
            "oidc_issuer": self.oidc_issuer, "oidc_provider_arn": self.oidc_provider_arn,
            "cluster_security_group_id": self.cluster_security_group_id, "node_role_arn": self.node_role_arn,
            "kms_key_arn": self.kms_key_arn, "kubeconfig": self.kubeconfig,
        })

    def _api_access(self, name: str, args: Mapping[str, Any], net: Mapping[str, Any],
                    tags: Mapping[str, str]) -> tuple[Any, list[pulumi.Resource]]:
        """HTTPS to the private endpoint: EKS's cluster security group admits only itself (the control plane and
        the nodes), so nothing else in the VPC, a CI runner included, reaches the API. These rules live on a
        security group of their own, attached to the control plane's network interfaces only (not to the nodes,
        which carry the cluster security group too)."""
        import pulumi_aws as aws
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(f"{name}-api", vpc_id=net["vpc_id"],
                                   description="Kubernetes API (private endpoint) from the VPC and CI runners",
                                   tags={**tags, "Name": f"{name}-api"}, opts=child)
        https = {"security_group_id": sg.id, "ip_protocol": "tcp", "from_port": 443, "to_port": 443}
        rules = [aws.vpc.SecurityGroupIngressRule(f"{name}-api-vpc", cidr_ipv4=net["vpc_cidr"],
                                                  description="Kubernetes API from the VPC", tags=tags, **https,
                                                  opts=child)]
        for cidr in sorted(set(args.get("api_access_cidrs") or [])):
            rules.append(aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-{_rule_key(cidr)}", cidr_ipv4=cidr, description="Kubernetes API (api_access_cidrs)",
                tags=tags, **https, opts=child))
        for runner in sorted(set(args.get("api_access_security_group_ids") or [])):
            rules.append(aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-{runner}", referenced_security_group_id=runner,
                description="Kubernetes API (api_access_security_group_ids)", tags=tags, **https, opts=child))
        return sg, rules

    def _node_group(self, name: str, key: str, group: Mapping[str, Any], cluster: Any, node_role: Any,
                    net: Mapping[str, Any], tags: Mapping[str, str], prof: Profile, opts: pulumi.ResourceOptions):
        import pulumi_aws as aws
        from .blocks.launch_template import launch_template
        size = resolve_node_group(group, prof)
        # Hop limit 1: IMDS answers the node only, never a pod, so a pod without an IAM role of its own has no
        # AWS identity at all (Pod Identity needs no IMDS; controllers get their region and VPC explicitly).
        # EKS picks the AMI (ami_type) and attaches the cluster security group, so the template sets neither.
        lt = launch_template(f"{name}-{key}", image_id=None, instance_type=None, security_group_ids=None,
                             instance_profile_arn=None, tags=tags, hop_limit=1,
                             root_volume_size=int(group.get("disk_size", 50)),
                             opts=pulumi.ResourceOptions(parent=self))
        return aws.eks.NodeGroup(
            f"{name}-{key}", cluster_name=cluster.name, node_role_arn=node_role.arn,
            # Nodes follow the control plane: a version bump rolls them onto the new AMI (within the
            # update config) instead of leaving them behind until the version skew is unsupported.
            version=cluster.version,
            subnet_ids=net["private_subnet_ids"], instance_types=list(size.instance_types),
            ami_type="AL2023_ARM_64_STANDARD" if is_arm(size.instance_types[0]) else "AL2023_x86_64_STANDARD",
            capacity_type="SPOT" if size.spot else "ON_DEMAND",
            scaling_config={"min_size": size.min, "max_size": size.max, "desired_size": size.desired},
            update_config={"max_unavailable_percentage": int(group.get("max_unavailable_percentage", 33))},
            launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
            labels={**{str(k): str(v) for k, v in (group.get("labels") or {}).items()}, "node-group": key},
            tags=tags,
            # The Cluster Autoscaler owns the node count once the group exists.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                ignore_changes=["scalingConfig.desiredSize"])))

    def _cluster_autoscaler(self, name: str, settings: Mapping[str, Any], cluster: Any, version: str,
                            region: pulumi.Output[str], provider: Any, tags: Mapping[str, str]):
        """The Cluster Autoscaler, finding the node groups by the tags EKS puts on their Auto Scaling groups
        (``k8s.io/cluster-autoscaler/enabled`` and ``k8s.io/cluster-autoscaler/<cluster>``), with a Pod
        Identity role that may resize only this cluster's groups."""
        import pulumi_aws as aws
        import pulumi_kubernetes as k8s
        from .blocks.iam import policy_document, statement
        from .k8s import trust_policy_pod_identity
        child = pulumi.ResourceOptions(parent=self)
        account = "cluster-autoscaler"
        role = aws.iam.Role(f"{name}-autoscaler", description="Cluster Autoscaler",
                            assume_role_policy=trust_policy_pod_identity(cluster.name, "kube-system", account),
                            tags=tags, opts=child)
        owned = {"StringEquals": cluster.name.apply(lambda c: {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{c}": "owned"})}
        policy = aws.iam.RolePolicy(f"{name}-autoscaler", role=role.id, policy=policy_document([
            statement(["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                       "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                       "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                       "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
                       "eks:DescribeNodegroup"], ["*"]),
            statement(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"], ["*"],
                      conditions=owned)]), opts=child)
        association = aws.eks.PodIdentityAssociation(
            f"{name}-autoscaler", cluster_name=cluster.name, namespace="kube-system", service_account=account,
            role_arn=role.arn, tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        # The autoscaler of a recent Kubernetes version watches objects an older chart's ClusterRole does not
        # grant (VolumeAttachments since 1.32, DRA's resource.k8s.io objects, PodTemplates): its informers then
        # fail with "forbidden" and it stops scaling. Granted here whatever chart_version is pinned.
        kopts = pulumi.ResourceOptions(parent=self, provider=provider)
        extra = k8s.rbac.v1.ClusterRole(
            f"{name}-autoscaler-read", metadata={"name": CLUSTER_AUTOSCALER_EXTRA_ROLE},
            rules=[{"apiGroups": [group], "resources": list(resources), "verbs": ["get", "list", "watch"]}
                   for group, resources in CLUSTER_AUTOSCALER_EXTRA_READ], opts=kopts)
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-autoscaler-read", metadata={"name": CLUSTER_AUTOSCALER_EXTRA_ROLE},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                      "name": CLUSTER_AUTOSCALER_EXTRA_ROLE},
            subjects=[{"kind": "ServiceAccount", "name": account, "namespace": "kube-system"}],
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[extra]))
        return k8s.helm.v3.Release(
            f"{name}-autoscaler", name="cluster-autoscaler", namespace="kube-system", chart="cluster-autoscaler",
            version=settings.get("chart_version", CLUSTER_AUTOSCALER_CHART),
            repository_opts={"repo": CLUSTER_AUTOSCALER_CHART_REPO}, atomic=True, timeout=600,
            values={"cloudProvider": "aws", "awsRegion": region, "autoDiscovery": {"clusterName": cluster.name},
                    "image": {"repository": CLUSTER_AUTOSCALER_IMAGE,
                              "tag": settings.get("image_tag", f"v{version}.0")},
                    "rbac": {"serviceAccount": {"create": True, "name": account}},
                    # Spot and on-demand groups of similar nodes grow together; the cheapest fit wins.
                    "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste",
                                  "skip-nodes-with-system-pods": False},
                    "replicaCount": 1},
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[association, binding]))

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
        # The controller's default tags win over an Ingress's own: without `Service` here, each load balancer
        # keeps the Service tag of the service (or ingress group) it belongs to.
        default_tags = {k: v for k, v in tags.items() if k != "Service"}
        return k8s.helm.v3.Release(
            f"{name}-lbc", name="aws-load-balancer-controller", namespace="kube-system",
            chart="aws-load-balancer-controller", version=lbc["chart_version"],
            repository_opts={"repo": LBC_CHART_REPO}, atomic=True, timeout=600,
            values={"clusterName": cluster.name, "region": region, "vpcId": net["vpc_id"], "replicaCount": 2,
                    "serviceAccount": {"create": True, "name": "aws-load-balancer-controller"},
                    "defaultTags": default_tags},
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


@dataclass
class EksState:
    """What the ``eks`` services of one stack share while building."""

    namespaces: dict[str, str] = field(default_factory=dict)
    """Each service's namespace, by service name."""
    shared_namespaces: dict[str, Any] = field(default_factory=dict)
    """Namespaces several services use, created once by the pattern (none of them owns it), by name."""


def _namespace_of(name: str, spec: Mapping[str, Any]) -> str:
    return spec.get("namespace", name)


def _prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    if not specs:
        return
    import pulumi_kubernetes as k8s
    cluster = EksCluster("eks", ctx.settings.get("eks") or {}, pulumi.ResourceOptions(parent=ctx.parent),
                         network=ctx.network, profile=ctx.profile)
    ctx.clusters["eks"] = cluster
    state = ctx.state(EksState)
    users: dict[str, list[str]] = {}
    for svc, spec in specs.items():
        users.setdefault(_namespace_of(svc, spec), []).append(svc)
    state.namespaces = {svc: _namespace_of(svc, spec) for svc, spec in specs.items()}
    # A namespace shared by several services is created once, here, so none of them owns it.
    state.shared_namespaces = {
        ns: k8s.core.v1.Namespace(f"eks-ns-{ns}", metadata={"name": ns, "labels": namespace_labels(ns)},
                                  opts=pulumi.ResourceOptions(parent=cluster, provider=cluster.provider))
        for ns, members in sorted(users.items()) if len(members) > 1}


def _build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> pulumi.Resource:
    cluster = ctx.clusters["eks"]
    state = ctx.state(EksState)
    namespaces = state.namespaces
    args = dict(spec)
    deps = []
    shared_ns = state.shared_namespaces.get(_namespace_of(name, spec))
    if shared_ns is not None:
        args["create_namespace"] = False
        deps.append(shared_ns)
    if args.get("allow_from"):
        args["allow_from"] = [ref if "/" in ref else f"{namespaces.get(ref, ref)}/{ref}" for ref in args["allow_from"]]
    image = _shared_image(name, spec, ctx)
    if image is not None:
        args["image"] = {"ref": image.image_ref}
    # Without the controller in this program, an Ingress has no address until one is installed.
    managed_lbc = bool((ctx.settings.get("eks") or {}).get("load_balancer_controller"))
    service = KubernetesService(name, args, pulumi.ResourceOptions(parent=ctx.parent, depends_on=deps),
                                cluster=cluster, network=ctx.network, profile=ctx.profile, project_dir=ctx.project_dir,
                                await_load_balancer=managed_lbc)
    ctx.outputs[name] = {"namespace": service.namespace, "url": service.url, "cluster": cluster.cluster_name}
    return service


def _shared_image(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> Any:
    """The stack's shared build of the service's image (see ``shared_image``), for its nodes' architecture."""
    from .blocks.container_image import default_image_spec, shared_image
    groups = (ctx.settings.get("eks") or {}).get("node_groups") or {"default": {}}
    types = [t for g in groups.values() if isinstance(g, Mapping)
             for t in (g.get("instance_types") or ctx.profile.node_instance_types)]
    archs = {is_arm(t) for t in types if isinstance(t, str)}
    platform = None if len(archs) != 1 else ("linux/arm64" if archs.pop() else "linux/amd64")
    return shared_image(ctx, spec.get("image") or default_image_spec(name), platform=platform, push=True)


def _build_local(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> pulumi.Resource:
    """In the ``local`` profile: the ``docker`` pattern runs the service, with the keys a Docker host understands."""
    return run_on_docker_host(name, spec, ctx)


def _validate_section(section: str, settings: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_eks_cluster(settings, path, profile=vctx.profile)


PATTERN = Pattern(name="eks", validate=_validate, build=_build, validate_catalog=_validate_catalog,
                  validate_section=_validate_section,
                  prepare=_prepare, build_local=_build_local, needs_network=True)
