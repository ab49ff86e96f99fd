"""The args of the ``eks`` pattern's components (one docstring per field, stating its default) and the frozen
settings they resolve into once: :class:`EksClusterSettings` (the stack's ``microservices:eks``) and
:class:`KubernetesServiceSettings` (one ``eks`` catalog entry). Components read these fields, never the
args with fallbacks of their own."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from ..blocks.container_image import default_image_spec
from ..blocks.service import CoreSpec, HealthCheckArgs, ScalingArgs, resolve_core
from ..profiles import Profile

__all__ = [
    "access_entry_key", "ClusterAutoscalerArgs", "ClusterAutoscalerSettings", "default_probe_period",
    "DEFAULT_VERSION", "DisruptionBudgetArgs", "DisruptionBudgetSettings", "EksClusterArgs", "EksClusterSettings",
    "IngressArgs", "IngressSettings", "KubernetesServiceArgs", "KubernetesServiceSettings",
    "LoadBalancerControllerArgs", "LoadBalancerControllerSettings", "NodeGroupArgs", "NodeGroupSettings",
    "NodeGroupSize", "ProbeArgs", "ProbeSettings", "resolve_eks_cluster", "resolve_kubernetes_service",
    "resolve_node_group", "resolve_node_group_size", "resolve_probe", "RollingUpdateArgs", "RollingUpdateSettings",
    "STANDARD_SUPPORT",
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
#: The ``cluster-autoscaler`` chart of kubernetes/autoscaler; its image is pinned separately to the release
#: made for the cluster's Kubernetes minor version (the autoscaler simulates that version's scheduler).
CLUSTER_AUTOSCALER_CHART = "9.38.0"
RUN_AS_USER = 10001
PROBES = ("startup", "liveness", "readiness")


# -- EksCluster -----------------------------------------------------------------------------------
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


# -- KubernetesService ----------------------------------------------------------------------------
class RollingUpdateArgs(TypedDict):
    max_surge: NotRequired[int | str]
    """Extra pods during a rollout, a count or ``"N%"``. Default: ``"25%"``."""
    max_unavailable: NotRequired[int | str]
    """Pods that may be missing during a rollout, a count or ``"N%"``. Default: 0 (capacity never drops)."""


class DisruptionBudgetArgs(TypedDict):
    max_unavailable: NotRequired[int | str]
    """Pods a voluntary eviction (node drain) may take at once, at least 1 or 1%. Default: 1."""
    min_available: NotRequired[int | str]
    """Instead of ``max_unavailable``: pods that must stay up; must be below ``scaling.min`` so drains
    can always proceed. Default: unset."""


class ProbeArgs(TypedDict):
    period_seconds: NotRequired[int]
    """Seconds between probes, 1-300, at least ``timeout_seconds``. Default: ``health_check.interval``
    (readiness: at most 10; startup: 5)."""
    timeout_seconds: NotRequired[int]
    """Seconds before a probe fails, 1-120. Default: ``health_check.timeout``."""
    failure_threshold: NotRequired[int]
    """Failures before acting, 1-100 (startup: up to 1000). Default: ``health_check.unhealthy_threshold``
    (startup: enough periods to cover ``health_check.grace_period``)."""
    success_threshold: NotRequired[int]
    """Successes to become ready, 1-10; readiness only (Kubernetes requires 1 elsewhere). Default: 1."""
    initial_delay_seconds: NotRequired[int]
    """Seconds after start before the first probe, 0-3600. Default: 0 (the startup probe covers slow starts)."""


class IngressArgs(TypedDict):
    certificate_arn: NotRequired[str]
    """ACM certificate: the load balancer listens on HTTPS 443 and redirects HTTP to it. Not with ``domain``.
    Default: HTTP only (an error in prod for ``expose: public``: give this or ``domain`` and ``zone``)."""
    domain: NotRequired[str]
    """Host name clients use: an ACM certificate validated through DNS in ``zone``, HTTPS 443 with HTTP
    redirecting to it, and an alias record to the Ingress's load balancer (needs the load balancer
    controller installed by this program, so the Ingress's address is known). Default: none."""
    zone: NotRequired[str]
    """The public Route 53 hosted zone of ``domain``: its name or its id (``Z...``). Default: none (required
    with ``domain``)."""
    host: NotRequired[str]
    """Host name routed to this service. Default: any host."""
    path: NotRequired[str]
    """Path prefix routed to this service. Default: ``/``."""
    group: NotRequired[str]
    """AWS Load Balancer Controller ingress group: services in one group share one load balancer
    (give each a distinct ``host`` or ``path``). Default: a load balancer of its own."""


class KubernetesServiceArgs(TypedDict):
    """The shared core spec (``port``, ``health_check``, ``scaling``, ``environment``, ``secrets``, ``expose``,
    ``tags``) plus what is Kubernetes' own."""

    image: Mapping[str, Any]
    """``{ref: "registry/repo:tag"}`` (a tag other than ``latest``, or a digest), or a build spec
    ``{context, dockerfile, build_args, platform}`` pushed to ECR by ``ContainerImage``. Required."""
    port: NotRequired[int]
    """Container port, 1-65535. Default: 8080."""
    health_check: NotRequired[HealthCheckArgs]
    """HTTP health check: drives the startup, liveness and readiness probes and the load balancer's check.
    Default: ``/health`` every 30 s, 5 s timeout, 60 s to start."""
    scaling: NotRequired[ScalingArgs]
    """Replicas and the HorizontalPodAutoscaler: ``min`` at least 1. Default: the profile's."""
    environment: NotRequired[Mapping[str, str]]
    """Plain environment variables. Default: none."""
    secrets: NotRequired[Mapping[str, str]]
    """Variable name -> SSM parameter or Secrets Manager ARN, mounted as the file
    ``/var/run/secrets/app/NAME`` (its path is in ``NAME_FILE``). Default: none."""
    secrets_kms_keys: NotRequired[Sequence[str]]
    """ARNs of the customer-managed KMS keys that encrypt ``secrets``: the role may ``kms:Decrypt`` with them,
    only through Secrets Manager or SSM. Default: none (secrets under AWS managed keys need no grant)."""
    expose: NotRequired[str]
    """``public`` (internet-facing ALB), ``internal`` (internal ALB) or ``none`` (ClusterIP only). Default: ``internal``."""
    tags: NotRequired[Mapping[str, str]]
    """Extra AWS tags (IAM role, load balancer). Default: none."""
    routes: NotRequired[Sequence[str | Mapping[str, Any]]]
    """Routes of the stack's API gateway (``microservices:gateway``) that lead to this service: route keys
    (``GET /orders/{id}``, ``ANY /orders/{proxy+}``) or mappings with ``route``, ``throttle``, ``scopes`` and
    ``authorization`` (see ``components.gateway.RouteArgs``). The gateway's internal ALB then reaches the pods
    through a target group and a ``TargetGroupBinding`` (needs ``microservices:eks.load_balancer_controller``).
    Default: none."""
    namespace: NotRequired[str]
    """Namespace, a DNS-1123 label. Default: the service's name (one namespace per service)."""
    create_namespace: NotRequired[bool]
    """Create the namespace (labelled for the ``restricted`` Pod Security Standard). Default: true;
    false when it is shared and created elsewhere."""
    cpu: NotRequired[int]
    """CPU request in units of 1/1024 vCPU, 32-65536. Default: the profile's ``container_cpu``."""
    memory: NotRequired[int]
    """Memory request in MiB, 16-262144. Default: the profile's ``container_memory``."""
    cpu_limit: NotRequired[int]
    """CPU limit (same units), at least ``cpu``. Default: twice ``cpu``."""
    memory_limit: NotRequired[int]
    """Memory limit in MiB, at least ``memory``. Default: ``memory`` (no overcommit)."""
    rolling_update: NotRequired[RollingUpdateArgs]
    """How a rollout replaces pods. Default: max_surge 25%, max_unavailable 0."""
    disruption_budget: NotRequired[DisruptionBudgetArgs]
    """The PodDisruptionBudget; it may never block a node drain. Default: max_unavailable 1."""
    probes: NotRequired[Mapping[str, ProbeArgs]]
    """Overrides per probe (``startup``, ``liveness``, ``readiness``). Default: derived from ``health_check``."""
    ingress: NotRequired[IngressArgs]
    """Ingress settings for ``expose: public | internal``. Default: own load balancer, HTTP, any host, ``/``."""
    access: NotRequired[Mapping[str, Mapping[str, str]]]
    """AWS permissions of the pods, by resource name or ARN, as for Lambda: ``buckets``/``tables``/``streams``:
    ``read | write | read_write``; ``queues``: ``consume | send | consume_send``. Granted to an IAM role
    bound to the ServiceAccount. Default: none (no role)."""
    allow_from: NotRequired[Sequence[str]]
    """Other services (``name`` in this namespace, or ``namespace/name``) whose pods may call this one.
    Default: only the load balancer and this service's own pods."""
    run_as_user: NotRequired[int]
    """UID the container runs as, at least 10000. Default: 10001."""
    iam_binding: NotRequired[str]
    """``pod_identity`` (EKS Pod Identity) or ``irsa`` (IAM roles for service accounts, needs the cluster's
    OIDC provider). Default: ``pod_identity``."""
    load_balancer_cidrs: NotRequired[Sequence[str]]
    """Where the load balancer's traffic comes from, for the NetworkPolicy. Default: the CIDRs of the
    network's load balancer subnets (``public_subnet_cidrs`` for ``public``, ``load_balancer_subnet_cidrs``
    for ``internal``), never the VPC's: every pod has a VPC address."""




# -- settings -------------------------------------------------------------------------------------
def access_entry_key(role_arn: str) -> str:
    """The part of a role's ARN that names its access entry: the role name, without the path."""
    return re.sub(r"[^A-Za-z0-9-]", "-", role_arn.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class NodeGroupSize:
    """One node group's sizes resolved against the profile: what EKS is asked for."""

    instance_types: tuple[str, ...]
    min: int
    max: int
    desired: int
    spot: bool


@dataclass(frozen=True)
class NodeGroupSettings:
    """One node group, every default resolved."""

    key: str
    size: NodeGroupSize
    disk_size: int = 50
    labels: Mapping[str, str] = field(default_factory=dict)
    max_unavailable_percentage: int = 33


@dataclass(frozen=True)
class ClusterAutoscalerSettings:
    image_tag: str
    """Default ``v<version>.0``: the release for the cluster's Kubernetes minor version."""
    enabled: bool = True
    chart_version: str = CLUSTER_AUTOSCALER_CHART


@dataclass(frozen=True)
class LoadBalancerControllerSettings:
    policy_arn: str
    chart_version: str


@dataclass(frozen=True)
class EksClusterSettings:
    """:class:`EksClusterArgs` with every default resolved (the profile's included)."""

    cluster_name: Any
    """The physical name: given, else ``<project>-<stack>-<name>`` made valid for EKS."""
    node_groups: tuple[NodeGroupSettings, ...]
    """By key, sorted."""
    log_types: tuple[str, ...]
    deletion_protection: bool
    cluster_autoscaler: ClusterAutoscalerSettings
    version: str = DEFAULT_VERSION
    public_endpoint: bool = False
    public_access_cidrs: tuple[str, ...] = ()
    """Sorted; empty unless ``public_endpoint``."""
    api_access_cidrs: tuple[str, ...] = ()
    """Sorted, each once (as are the other lists of this class)."""
    api_access_security_group_ids: tuple[str, ...] = ()
    admin_role_arns: tuple[str, ...] = ()
    view_role_arns: tuple[str, ...] = ()
    log_retention_days: int | None = None
    """None: the profile's."""
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    load_balancer_controller: LoadBalancerControllerSettings | None = None
    """None: not installed."""
    tags: Mapping[str, str] = field(default_factory=dict)


def resolve_node_group_size(group: Mapping[str, Any], prof: Profile) -> NodeGroupSize:
    """The sizes EKS gets: an explicit ``desired`` or ``max`` lowers the profile's ``node_count`` used as
    ``min``, and the default ``max`` (twice ``min``) is raised to an explicit ``desired``."""
    types = tuple(group.get("instance_types") or prof.node_instance_types)
    lo = int(group["min"]) if "min" in group else min(
        [prof.node_count, *(int(group[k]) for k in ("desired", "max") if k in group)])
    want = int(group["desired"]) if "desired" in group else lo
    hi = int(group["max"]) if "max" in group else max(2, 2 * lo, want)
    return NodeGroupSize(types, lo, hi, want, bool(group.get("spot", prof.spot)))


def resolve_node_group(key: str, group: Mapping[str, Any], prof: Profile) -> NodeGroupSettings:
    return NodeGroupSettings(
        key=key, size=resolve_node_group_size(group, prof),
        disk_size=int(group.get("disk_size", NodeGroupSettings.disk_size)),
        labels={str(k): str(v) for k, v in (group.get("labels") or {}).items()},
        max_unavailable_percentage=int(group.get("max_unavailable_percentage",
                                                 NodeGroupSettings.max_unavailable_percentage)))


def resolve_eks_cluster(name: str, args: Mapping[str, Any], prof: Profile) -> EksClusterSettings:
    """``args`` (validated) of the cluster called ``name``, resolved against ``prof``."""
    import pulumi
    version = str(args.get("version", EksClusterSettings.version))
    autoscaler = args.get("cluster_autoscaler") or {}
    lbc = args.get("load_balancer_controller")
    public = bool(args.get("public_endpoint", EksClusterSettings.public_endpoint))
    groups = args.get("node_groups") or {"default": {}}
    return EksClusterSettings(
        # Project and stack names may hold '.', which EKS refuses in a cluster name ("prod.eu-west-1").
        cluster_name=args.get("cluster_name") or re.sub(
            r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}")[:100],
        node_groups=tuple(resolve_node_group(key, dict(group), prof) for key, group in sorted(groups.items())),
        log_types=tuple(args.get("log_types", LOG_TYPES_BY_PROFILE.get(prof.name, DEFAULT_LOG_TYPES))),
        deletion_protection=bool(args.get("deletion_protection", prof.deletion_protection)),
        cluster_autoscaler=ClusterAutoscalerSettings(
            enabled=bool(autoscaler.get("enabled", ClusterAutoscalerSettings.enabled)),
            chart_version=autoscaler.get("chart_version", ClusterAutoscalerSettings.chart_version),
            image_tag=autoscaler.get("image_tag", f"v{version}.0")),
        version=version,
        public_endpoint=public,
        public_access_cidrs=tuple(sorted(args["public_access_cidrs"])) if public else (),
        **{key: tuple(sorted(set(args.get(key) or ()))) for key in (
            "api_access_cidrs", "api_access_security_group_ids", "admin_role_arns", "view_role_arns")},
        log_retention_days=args.get("log_retention_days"),
        addon_versions=dict(args.get("addon_versions") or {}),
        load_balancer_controller=LoadBalancerControllerSettings(lbc["policy_arn"], lbc["chart_version"]) if lbc
        else None,
        tags=dict(args.get("tags") or {}),
    )


@dataclass(frozen=True)
class RollingUpdateSettings:
    max_surge: int | str = "25%"
    max_unavailable: int | str = 0


@dataclass(frozen=True)
class DisruptionBudgetSettings:
    """Exactly one of the two is set."""

    max_unavailable: int | str | None = 1
    min_available: int | str | None = None


@dataclass(frozen=True)
class ProbeSettings:
    """One probe, resolved from the health check and the probe's overrides."""

    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    success_threshold: int = 1
    initial_delay_seconds: int | None = None
    """None: not set (0)."""


@dataclass(frozen=True)
class IngressSettings:
    certificate_arn: Any = None
    """None: HTTP only, unless ``domain``."""
    domain: Any = None
    """None: no certificate requested and no record."""
    zone: Any = None
    """None: no zone (required with ``domain``)."""
    host: Any = None
    """None: any host."""
    path: str = "/"
    group: str | None = None
    """None: a load balancer of its own."""


@dataclass(frozen=True)
class KubernetesServiceSettings:
    """:class:`KubernetesServiceArgs` with every default resolved (the profile's included)."""

    core: CoreSpec
    image: Mapping[str, Any]
    """The image spec; default: a build of ``services/<name>``."""
    namespace: str
    cpu: int
    memory: int
    cpu_limit: int
    memory_limit: int
    probes: Mapping[str, ProbeSettings]
    """By kind: ``startup``, ``liveness``, ``readiness``."""
    create_namespace: bool = True
    rolling_update: RollingUpdateSettings = RollingUpdateSettings()
    disruption_budget: DisruptionBudgetSettings = DisruptionBudgetSettings()
    ingress: IngressSettings = IngressSettings()
    access: Mapping[str, Any] = field(default_factory=dict)
    allow_from: tuple[str, ...] = ()
    run_as_user: int = RUN_AS_USER
    iam_binding: str = "pod_identity"
    load_balancer_cidrs: tuple[str, ...] = ()
    """Empty: the network's load balancer subnets' CIDRs."""


def default_probe_period(kind: str, interval: int) -> int:
    # Startup probes poll fast so a pod starts serving as soon as it can; readiness gates traffic during
    # rollouts, so it probes at least every 10 s; liveness follows the health check.
    return {"startup": 5, "readiness": min(interval, 10)}.get(kind, interval)


def resolve_probe(kind: str, hc: Any, override: Mapping[str, Any]) -> ProbeSettings:
    period = int(override.get("period_seconds", default_probe_period(kind, hc.interval)))
    # A probe still running when the next one is due would overlap it: the timeout never exceeds the period.
    timeout = int(override["timeout_seconds"]) if "timeout_seconds" in override else min(hc.timeout, period)
    if "failure_threshold" in override:
        failure = int(override["failure_threshold"])
    else:
        failure = max(1, math.ceil(hc.grace_period / period)) if kind == "startup" else hc.unhealthy_threshold
    delay = override.get("initial_delay_seconds")
    return ProbeSettings(period, timeout, failure,
                         int(override.get("success_threshold", ProbeSettings.success_threshold)),
                         None if delay is None else int(delay))


def _percent_or_int(value: int | str) -> int | str:
    return value if isinstance(value, str) else int(value)


def resolve_kubernetes_service(name: str, args: Mapping[str, Any], prof: Profile) -> KubernetesServiceSettings:
    """``args`` (validated) of the service called ``name``, resolved against ``prof``."""
    core = resolve_core(args, prof)
    cpu = int(args.get("cpu", prof.container_cpu))
    memory = int(args.get("memory", prof.container_memory))
    ru = args.get("rolling_update") or {}
    db = args.get("disruption_budget") or {}
    ing = args.get("ingress") or {}
    probes = args.get("probes") or {}
    return KubernetesServiceSettings(
        core=core, image=args.get("image") or default_image_spec(name), namespace=args.get("namespace", name),
        cpu=cpu, memory=memory, cpu_limit=int(args.get("cpu_limit", 2 * cpu)),
        memory_limit=int(args.get("memory_limit", memory)),
        probes={kind: resolve_probe(kind, core.health_check, probes.get(kind) or {}) for kind in PROBES},
        create_namespace=bool(args.get("create_namespace", KubernetesServiceSettings.create_namespace)),
        rolling_update=RollingUpdateSettings(
            _percent_or_int(ru.get("max_surge", RollingUpdateSettings.max_surge)),
            _percent_or_int(ru.get("max_unavailable", RollingUpdateSettings.max_unavailable))),
        disruption_budget=DisruptionBudgetSettings(_percent_or_int(db["max_unavailable"]), None)
        if "max_unavailable" in db else DisruptionBudgetSettings(None, _percent_or_int(db["min_available"]))
        if "min_available" in db else DisruptionBudgetSettings(),
        ingress=IngressSettings(certificate_arn=ing.get("certificate_arn"), domain=ing.get("domain"),
                                zone=ing.get("zone"), host=ing.get("host"),
                                path=ing.get("path", IngressSettings.path), group=ing.get("group")),
        access=dict(args.get("access") or {}),
        allow_from=tuple(args.get("allow_from") or ()),
        run_as_user=int(args.get("run_as_user", KubernetesServiceSettings.run_as_user)),
        iam_binding=args.get("iam_binding", KubernetesServiceSettings.iam_binding),
        load_balancer_cidrs=tuple(args.get("load_balancer_cidrs") or ()),
    )
