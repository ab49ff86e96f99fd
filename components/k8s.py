"""``KubernetesService``: one long-running service on any Kubernetes cluster, hardened by default.

Every object gets an explicit ``metadata.name`` (the service's name), so selectors, Service DNS
names and Ingress backends never move, and the recorded inputs are complete manifests that
``python -m components.plan --k8s-dir`` writes out for schema validation and checkov.

Secrets are never copied into the cluster: each ARN in ``secrets`` is mounted as a file by the
Secrets Store CSI driver and the AWS provider (ASCP, the EKS add-on
``aws-secrets-store-csi-driver-provider``), which fetches it with the pod's own IAM role through EKS
Pod Identity. The manifests only ever hold ARNs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi

from .blocks.access import Account, access_statements, validate_access
from .blocks.container_image import default_image_spec
from .profiles import Profile, get_profile
from .blocks.service import (
    CORE_KEYS,
    HealthCheck,
    HealthCheckArgs,
    ScalingArgs,
    resolve_core,
    standard_tags,
    validate_core,
    validate_service_name,
)
from .validation import Problems, is_unknown, join_path

__all__ = [
    "KubernetesService", "KubernetesServiceArgs", "K8S_KEYS", "DNS1123_LABEL", "validate_kubernetes_service",
]

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
ACM_ARN = r"arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+"
HOSTNAME = r"(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}"
INT_OR_PERCENT = r"(100|[1-9]?[0-9])%"
PROBES = ("startup", "liveness", "readiness")
PROBE_KEYS = ("period_seconds", "timeout_seconds", "failure_threshold", "success_threshold", "initial_delay_seconds")
K8S_KEYS = ("image", "namespace", "create_namespace", "cpu", "memory", "cpu_limit", "memory_limit",
            "rolling_update", "disruption_budget", "probes", "ingress", "access", "allow_from", "run_as_user",
            "iam_binding", "load_balancer_cidrs")
IAM_BINDINGS = ("pod_identity", "irsa")
SECRETS_DIR = "/var/run/secrets/app"
RUN_AS_USER = 10001
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
#: Where the load balancer of each exposure lives, as a Network names the subnet ids and CIDRs.
LB_SUBNET_KEYS = {"public": ("public_subnet_ids", "public_subnet_cidrs"),
                  "internal": ("load_balancer_subnet_ids", "load_balancer_subnet_cidrs")}


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
    """ACM certificate: the load balancer listens on HTTPS 443 and redirects HTTP to it. Default: HTTP only."""
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


# -- validation -----------------------------------------------------------------------------------
def _validate_image(image: Any, path: str, problems: Problems, vctx: Any) -> None:
    from .blocks.container_image import validate_image
    from .patterns import ValidationContext
    validate_image(image, path, problems, vctx if vctx is not None else ValidationContext(profile=get_profile("dev")))


def _int_or_percent(value: Any, path: str, problems: Problems, lo: int = 0) -> bool:
    if value is None or is_unknown(value):
        return True
    if isinstance(value, str):
        if not re.fullmatch(INT_OR_PERCENT, value):
            problems.add(path, f"must be a whole number or a percentage 'N%' (0-100), got {value!r}")
            return False
        return True
    return problems.check_int(value, path, lo, 1000)


def _is_zero(value: Any) -> bool:
    return value in (0, "0%")


def _validate_probes(probes: Any, path: str, problems: Problems, health_check: Mapping[str, Any]) -> None:
    if not problems.check_mapping(probes, path) or not isinstance(probes, Mapping):
        return
    problems.check_known_keys(probes, PROBES, path)
    for kind in PROBES:
        probe = probes.get(kind)
        pp = join_path(path, kind)
        if not problems.check_mapping(probe, pp) or not isinstance(probe, Mapping):
            continue
        problems.check_known_keys(probe, PROBE_KEYS, pp)
        ok_p = problems.check_int(probe.get("period_seconds"), join_path(pp, "period_seconds"), 1, 300, "seconds")
        ok_t = problems.check_int(probe.get("timeout_seconds"), join_path(pp, "timeout_seconds"), 1, 120, "seconds")
        problems.check_int(probe.get("failure_threshold"), join_path(pp, "failure_threshold"), 1,
                           1000 if kind == "startup" else 100)
        problems.check_int(probe.get("initial_delay_seconds"), join_path(pp, "initial_delay_seconds"), 0, 3600, "seconds")
        success = probe.get("success_threshold")
        if kind == "readiness":
            problems.check_int(success, join_path(pp, "success_threshold"), 1, 10)
        elif success is not None and success != 1:
            problems.add(join_path(pp, "success_threshold"), f"must be 1 for a {kind} probe (Kubernetes rule), got {success!r}")
        interval = health_check.get("interval", HealthCheck.interval)
        period, timeout = probe.get("period_seconds"), probe.get("timeout_seconds")
        source = ""
        if period is None and isinstance(interval, int):
            period, source = _default_period(kind, interval), ", derived from health_check.interval"
        if ok_p and ok_t and isinstance(period, int) and isinstance(timeout, int) and timeout > period:
            problems.add(join_path(pp, "timeout_seconds"),
                         f"must be at most period_seconds ({period}{source}), got {timeout}")


def validate_kubernetes_service(name: Any, spec: Mapping[str, Any], path: str, vctx: Any = None) -> Problems:
    """Every problem in one ``KubernetesService``'s args (the ``eks`` catalog entry)."""
    problems = Problems()
    validate_service_name(name, path, problems)
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return problems
    problems.check_known_keys(spec, CORE_KEYS + K8S_KEYS, path)
    validate_core(spec, path, problems)

    _validate_image(spec.get("image", default_image_spec(str(name))), join_path(path, "image"), problems, vctx)

    ns = spec.get("namespace")
    problems.check_str(ns, join_path(path, "namespace"), DNS1123_LABEL,
                       "a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)", max_len=63)
    problems.check_bool(spec.get("create_namespace"), join_path(path, "create_namespace"))
    for key, lo, hi, unit in (("cpu", 32, 65536, "CPU units (1024 = 1 vCPU)"), ("cpu_limit", 32, 65536, "CPU units"),
                              ("memory", 16, 262144, "MiB"), ("memory_limit", 16, 262144, "MiB")):
        problems.check_int(spec.get(key), join_path(path, key), lo, hi, unit)
    profile = getattr(vctx, "profile", None)
    for req, lim, default in (("cpu", "cpu_limit", getattr(profile, "container_cpu", None)),
                              ("memory", "memory_limit", getattr(profile, "container_memory", None))):
        r, lv = spec.get(req, default), spec.get(lim)
        if isinstance(r, int) and isinstance(lv, int) and lv < r:
            source = "" if req in spec else " (the profile's default)"
            problems.add(join_path(path, lim), f"must be at least the request {req} ({r}{source}), got {lv}")
    problems.check_int(spec.get("run_as_user"), join_path(path, "run_as_user"), 10000, 2147483647)
    problems.check_enum(spec.get("iam_binding"), join_path(path, "iam_binding"), IAM_BINDINGS)

    scaling = spec.get("scaling")
    if isinstance(scaling, Mapping) and isinstance(scaling.get("min"), int) and scaling["min"] < 1:
        problems.add(join_path(path, "scaling", "min"),
                     f"must be at least 1 (a HorizontalPodAutoscaler's minReplicas), got {scaling['min']}")

    ru = spec.get("rolling_update")
    rp = join_path(path, "rolling_update")
    if problems.check_mapping(ru, rp) and isinstance(ru, Mapping):
        problems.check_known_keys(ru, ("max_surge", "max_unavailable"), rp)
        ok = _int_or_percent(ru.get("max_surge"), join_path(rp, "max_surge"), problems) & \
            _int_or_percent(ru.get("max_unavailable"), join_path(rp, "max_unavailable"), problems)
        if ok and _is_zero(ru.get("max_surge", "25%")) and _is_zero(ru.get("max_unavailable", 0)):
            problems.add(rp, "max_surge and max_unavailable cannot both be 0: the rollout could never make progress")

    _validate_disruption_budget(spec, path, problems, getattr(profile, "min_capacity", None))
    hc = spec.get("health_check") if isinstance(spec.get("health_check"), Mapping) else {}
    _validate_probes(spec.get("probes"), join_path(path, "probes"), problems, hc)

    ing = spec.get("ingress")
    ip = join_path(path, "ingress")
    if problems.check_mapping(ing, ip) and isinstance(ing, Mapping):
        problems.check_known_keys(ing, ("certificate_arn", "host", "path", "group"), ip)
        problems.check_str(ing.get("certificate_arn"), join_path(ip, "certificate_arn"), ACM_ARN,
                           "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)")
        problems.check_str(ing.get("host"), join_path(ip, "host"), HOSTNAME, "a DNS host name such as 'api.example.com'",
                           max_len=253)
        p = ing.get("path")
        if problems.check_str(p, join_path(ip, "path"), max_len=1024) and isinstance(p, str) and not p.startswith("/"):
            problems.add(join_path(ip, "path"), f"must start with '/', got {p!r}")
        problems.check_str(ing.get("group"), join_path(ip, "group"), DNS1123_LABEL,
                           "a DNS-1123 label (lowercase letters, digits and '-')", max_len=63)
        if spec.get("expose") == "none":
            problems.add(ip, "has no effect with expose: none (no Ingress is created)")

    # One access vocabulary for every pattern: the Lambda pattern's (buckets, tables, queues, streams).
    validate_access(spec.get("access"), join_path(path, "access"), problems)
    af = spec.get("allow_from")
    ap = join_path(path, "allow_from")
    if problems.check_list(af, ap) and isinstance(af, (list, tuple)):
        for i, ref in enumerate(af):
            problems.check_str(ref, join_path(ap, i), rf"({DNS1123_LABEL}/)?{DNS1123_LABEL}",
                               "a service name, or 'namespace/name'", max_len=127)
    lbc = spec.get("load_balancer_cidrs")
    lp = join_path(path, "load_balancer_cidrs")
    if problems.check_list(lbc, lp) and isinstance(lbc, (list, tuple)):
        for i, cidr in enumerate(lbc):
            problems.check_str(cidr, join_path(lp, i), r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}", "an IPv4 CIDR such as '10.0.0.0/16'")
    return problems


def _validate_disruption_budget(spec: Mapping[str, Any], path: str, problems: Problems,
                                default_min: int | None) -> None:
    db = spec.get("disruption_budget")
    dp = join_path(path, "disruption_budget")
    if not problems.check_mapping(db, dp) or not isinstance(db, Mapping):
        return
    problems.check_known_keys(db, ("max_unavailable", "min_available"), dp)
    if "max_unavailable" in db and "min_available" in db:
        problems.add(dp, "needs at most one of max_unavailable, min_available (given: both)")
        return
    if "max_unavailable" in db:
        value = db["max_unavailable"]
        if _int_or_percent(value, join_path(dp, "max_unavailable"), problems) and _is_zero(value):
            problems.add(join_path(dp, "max_unavailable"), "must be at least 1 (or 1%): 0 blocks every node drain")
    if "min_available" in db:
        value = db["min_available"]
        if not _int_or_percent(value, join_path(dp, "min_available"), problems) or is_unknown(value):
            return
        scaling = spec.get("scaling") if isinstance(spec.get("scaling"), Mapping) else {}
        replicas = scaling.get("min", default_min)
        if not isinstance(replicas, int):
            problems.add(join_path(dp, "min_available"), "needs scaling.min to prove it never blocks a "
                                                         "node drain (or use max_unavailable)")
            return
        needed = math.ceil(int(value[:-1]) * replicas / 100) if isinstance(value, str) else value
        if needed >= replicas:
            problems.add(join_path(dp, "min_available"),
                         f"must leave at least one of scaling.min ({replicas}) pods evictable, or node drains "
                         f"block; got {value!r}")


# -- rendering helpers ----------------------------------------------------------------------------
def millicores(units: int) -> str:
    """CPU units (1024 = one vCPU, as ECS counts) as a Kubernetes quantity."""
    return f"{max(1, round(units * 1000 / 1024))}m"


def _percent_or_int(value: int | str) -> int | str:
    return value if isinstance(value, str) else int(value)


def _default_period(kind: str, interval: int) -> int:
    # Startup probes poll fast so a pod starts serving as soon as it can; readiness gates traffic during
    # rollouts, so it probes at least every 10 s; liveness follows the health check.
    return {"startup": 5, "readiness": min(interval, 10)}.get(kind, interval)


def _probe(kind: str, hc: Any, port_name: str, override: Mapping[str, Any]) -> dict[str, Any]:
    period = int(override.get("period_seconds", _default_period(kind, hc.interval)))
    # A probe still running when the next one is due would overlap it: the timeout never exceeds the period.
    base = {"periodSeconds": period, "timeoutSeconds": min(hc.timeout, period),
            "failureThreshold": hc.unhealthy_threshold, "successThreshold": 1}
    if kind == "startup":
        base["failureThreshold"] = max(1, math.ceil(hc.grace_period / period))
    names = {"period_seconds": "periodSeconds", "timeout_seconds": "timeoutSeconds",
             "failure_threshold": "failureThreshold", "success_threshold": "successThreshold",
             "initial_delay_seconds": "initialDelaySeconds"}
    for key, value in override.items():
        base[names[key]] = int(value)
    return {"httpGet": {"path": hc.path, "port": port_name, "scheme": "HTTP"}, **base}


def trust_policy_pod_identity(cluster_name: pulumi.Input[str], namespace: str,
                              service_account: str) -> pulumi.Output[str]:
    """A role EKS Pod Identity assumes for one ServiceAccount of one cluster only. Without the conditions
    on the session tags Pod Identity sets, any association in the account could hand the role to its pods."""
    return pulumi.Output.from_input(cluster_name).apply(lambda cluster: json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"aws:RequestTag/eks-cluster-name": cluster,
                                           "aws:RequestTag/kubernetes-namespace": namespace,
                                           "aws:RequestTag/kubernetes-service-account": service_account}}}]},
        sort_keys=True))


def _trust_policy_irsa(provider_arn: str, issuer: str, namespace: str, account: str) -> str:
    host = issuer.removeprefix("https://")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{namespace}:{account}",
                                       f"{host}:aud": "sts.amazonaws.com"}}}]}, sort_keys=True)


def _secret_objects(secrets: Mapping[str, str]) -> str:
    objects = [{"objectName": arn, "objectType": "ssmparameter" if ":ssm:" in arn else "secretsmanager",
                "objectAlias": key} for key, arn in sorted(secrets.items())]
    return json.dumps(objects, sort_keys=True)


def _cluster_ref(cluster: Any) -> dict[str, Any]:
    if cluster is None:
        return {}
    if isinstance(cluster, Mapping):
        return dict(cluster)
    return {"cluster_name": cluster.cluster_name, "oidc_provider_arn": getattr(cluster, "oidc_provider_arn", None),
            "oidc_issuer": getattr(cluster, "oidc_issuer", None), "provider": getattr(cluster, "provider", None),
            "load_balancer_subnets": getattr(cluster, "load_balancer_subnets", None)}


class KubernetesService(pulumi.ComponentResource):
    """A Deployment behind a ClusterIP Service, with Ingress, HPA, PDB, NetworkPolicy and an IAM-bound ServiceAccount."""

    namespace: pulumi.Output[str]
    """The service's namespace."""
    service_name: pulumi.Output[str]
    """Name of the ClusterIP Service (``<name>.<namespace>.svc.cluster.local``)."""
    url: pulumi.Output[str]
    """``http(s)://`` address of the load balancer (empty with ``expose: none``)."""
    role_arn: pulumi.Output[str] | None
    """ARN of the pods' IAM role (None without ``access`` or ``secrets``)."""

    def __init__(self, name: str, args: KubernetesServiceArgs, opts: pulumi.ResourceOptions | None = None, *,
                 cluster: Any = None, provider: Any = None, kubeconfig: pulumi.Input[str] | None = None,
                 network: Any = None, profile: Profile | str | None = None, project_dir: Any = None,
                 await_load_balancer: bool = True):
        """``cluster`` is an :class:`~components.eks.EksCluster` (or a mapping with ``cluster_name`` and, for
        IRSA, ``oidc_provider_arn`` and ``oidc_issuer``); the Kubernetes provider is ``provider``, else one
        built from ``kubeconfig``, else the cluster's. Without any of them the ambient kubeconfig is used.
        ``await_load_balancer=False`` lets ``pulumi up`` finish before a load balancer controller has given
        the Ingress an address (when the controller is installed outside this program, or later)."""
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        args = dict(args)
        from .patterns import ValidationContext
        vctx = ValidationContext(profile=prof, project_dir=Path(project_dir) if project_dir is not None else Path.cwd())
        problems = validate_kubernetes_service(name, args, name, vctx)
        ref = _cluster_ref(cluster)
        _validate_context(name, args, ref, network, problems)
        problems.raise_if_any()
        super().__init__("microservices:k8s:KubernetesService", name, None, opts)
        import pulumi_kubernetes as k8s

        core = resolve_core(args, prof)
        tags = standard_tags(name, prof.name, core.tags)
        aws_child = pulumi.ResourceOptions(parent=self)
        k8s_provider = provider or ref.get("provider")
        if k8s_provider is None and kubeconfig is not None:
            k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, opts=aws_child)
        kchild = pulumi.ResourceOptions(parent=self, provider=k8s_provider)

        ns = args.get("namespace", name)
        image = self._image(name, args.get("image") or default_image_spec(name), prof, project_dir, tags, aws_child)
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{prof.name}",
                  "app.kubernetes.io/component": "server", "app.kubernetes.io/part-of": pulumi.get_project(),
                  "app.kubernetes.io/managed-by": "pulumi"}
        selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{prof.name}"}

        deps: list[pulumi.Resource] = []
        if args.get("create_namespace", True):
            deps.append(k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": ns, "labels": namespace_labels(ns)},
                                              opts=kchild))
        kopts = pulumi.ResourceOptions.merge(kchild, pulumi.ResourceOptions(depends_on=list(deps)))

        self.role_arn = None
        binding = args.get("iam_binding", "pod_identity")
        role = None
        if args.get("access") or core.secrets:
            role = self._role(name, args, core.secrets, ref, ns, tags, aws_child)
            self.role_arn = role.arn
        sa_meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels}
        if role is not None and binding == "irsa":
            sa_meta["annotations"] = {"eks.amazonaws.com/role-arn": role.arn}
        # Pod Identity and the CSI driver get their own projected tokens: the API token is never mounted.
        account = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata=sa_meta, automount_service_account_token=False,
                                             opts=kopts)
        # The pods start only once their identity and their secrets' mount are in place.
        pod_deps: list[pulumi.Resource] = [*deps, account]
        if role is not None and binding == "pod_identity":
            import pulumi_aws as aws
            pod_deps.append(aws.eks.PodIdentityAssociation(f"{name}-pod-identity", cluster_name=ref["cluster_name"],
                                           namespace=ns, service_account=name, role_arn=role.arn, tags=tags,
                                           opts=pulumi.ResourceOptions(parent=self, depends_on=[account])))

        volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
        mounts = [{"name": "tmp", "mountPath": "/tmp"}]
        env = [{"name": k, "value": v} for k, v in sorted(core.environment.items())]
        if core.secrets:
            spc = k8s.apiextensions.CustomResource(
                f"{name}-secrets", api_version="secrets-store.csi.x-k8s.io/v1", kind="SecretProviderClass",
                metadata={"name": f"{name}-secrets", "namespace": ns, "labels": labels},
                spec={"provider": "aws", "parameters": {"usePodIdentity": "true" if args.get(
                    "iam_binding", "pod_identity") == "pod_identity" else "false",
                    "objects": _secret_objects(core.secrets)}}, opts=kopts)
            pod_deps.append(spc)
            volumes.append({"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                                       "volumeAttributes": {"secretProviderClass": f"{name}-secrets"}}})
            mounts.append({"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True})
            env += [{"name": f"{k}_FILE", "value": f"{SECRETS_DIR}/{k}"} for k in sorted(core.secrets)]

        uid = int(args.get("run_as_user", RUN_AS_USER))
        probes = args.get("probes") or {}
        cpu = int(args.get("cpu", prof.container_cpu))
        memory = int(args.get("memory", prof.container_memory))
        ru = args.get("rolling_update") or {}
        container = {
            "name": name, "image": image, "imagePullPolicy": "Always",
            "ports": [{"name": "http", "containerPort": core.port, "protocol": "TCP"}],
            "env": env,
            "resources": {"requests": {"cpu": millicores(cpu), "memory": f"{memory}Mi"},
                          "limits": {"cpu": millicores(int(args.get("cpu_limit", 2 * cpu))),
                                     "memory": f"{int(args.get('memory_limit', memory))}Mi"}},
            "startupProbe": _probe("startup", core.health_check, "http", probes.get("startup") or {}),
            "livenessProbe": _probe("liveness", core.health_check, "http", probes.get("liveness") or {}),
            "readinessProbe": _probe("readiness", core.health_check, "http", probes.get("readiness") or {}),
            # The load balancer keeps sending for a few seconds after a pod is marked for deletion.
            "lifecycle": {"preStop": {"sleep": {"seconds": 10}}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid,
                                "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumeMounts": mounts,
        }
        pod_labels = {**labels, "app.kubernetes.io/version": image_version(image)}
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": name, "namespace": ns, "labels": labels},
            spec={
                "replicas": core.scaling.desired,
                "revisionHistoryLimit": 5,
                "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                    "maxSurge": _percent_or_int(ru.get("max_surge", "25%")),
                    "maxUnavailable": _percent_or_int(ru.get("max_unavailable", 0))}},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        "serviceAccountName": name,
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        "terminationGracePeriodSeconds": 30,
                        "securityContext": {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
                                            "seccompProfile": {"type": "RuntimeDefault"}},
                        "topologySpreadConstraints": [
                            {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                             "labelSelector": {"matchLabels": selector}}
                            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")],
                        "containers": [container],
                        "volumes": volumes,
                    },
                },
            },
            # The HorizontalPodAutoscaler owns the replica count after creation.
            opts=pulumi.ResourceOptions.merge(kchild, pulumi.ResourceOptions(
                depends_on=pod_deps, ignore_changes=["spec.replicas"])))

        service = k8s.core.v1.Service(
            f"{name}-svc", metadata={"name": name, "namespace": ns, "labels": labels},
            spec={"type": "ClusterIP", "selector": selector,
                  "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}, opts=kopts)

        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa", metadata={"name": name, "namespace": ns, "labels": labels},
            spec={"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                  "minReplicas": core.scaling.min, "maxReplicas": core.scaling.max,
                  "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                      "type": "Utilization", "averageUtilization": core.scaling.target_cpu}}}],
                  "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}},
            opts=pulumi.ResourceOptions.merge(kopts, pulumi.ResourceOptions(depends_on=[deployment])))

        db = args.get("disruption_budget") or {"max_unavailable": 1}
        budget = {"maxUnavailable": _percent_or_int(db["max_unavailable"])} if "max_unavailable" in db \
            else {"minAvailable": _percent_or_int(db["min_available"])}
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata={"name": name, "namespace": ns, "labels": labels},
            # Pods that are not ready never hold up a drain.
            spec={**budget, "selector": {"matchLabels": selector}, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
            opts=kopts)

        lb_ids, lb_cidrs = (None, None) if core.expose == "none" else _load_balancer_subnets(network, ref, core.expose)
        if args.get("load_balancer_cidrs"):
            lb_ids, lb_cidrs = None, list(args["load_balancer_cidrs"])
        self._network_policy(name, ns, labels, selector, core, lb_cidrs, args.get("allow_from") or [], kopts)

        self.url = pulumi.Output.from_input("")
        if core.expose != "none":
            ingress = self._ingress(name, ns, labels, core, args.get("ingress") or {}, tags, prof, await_load_balancer,
                                    lb_ids,
                                    pulumi.ResourceOptions.merge(kopts, pulumi.ResourceOptions(depends_on=[service])))
            scheme = "https" if (args.get("ingress") or {}).get("certificate_arn") else "http"
            self.url = ingress.status.apply(lambda s: _ingress_url(s, scheme))
        self.namespace = pulumi.Output.from_input(ns)
        self.service_name = service.metadata.name
        self.register_outputs({"namespace": self.namespace, "service_name": self.service_name, "url": self.url,
                               "role_arn": self.role_arn})

    # -- pieces -----------------------------------------------------------------------------------
    def _image(self, name: str, image: Mapping[str, Any], prof: Profile, project_dir: Any,
               tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> pulumi.Input[str]:
        if image.get("ref") is not None:
            return image["ref"]
        from .blocks.container_image import ContainerImage
        return ContainerImage(f"{name}-image", dict(image), opts, profile=prof, project_dir=project_dir,
                              tags=tags).image_ref

    def _role(self, name: str, args: Mapping[str, Any], secrets: Mapping[str, str], ref: Mapping[str, Any],
              ns: str, tags: Mapping[str, str], opts: pulumi.ResourceOptions):
        import pulumi_aws as aws

        from .blocks.iam import policy_document, secret_read_statements
        if args.get("iam_binding", "pod_identity") == "irsa":
            trust = pulumi.Output.all(ref["oidc_provider_arn"], ref["oidc_issuer"]).apply(
                lambda v: _trust_policy_irsa(v[0], v[1], ns, name))
        else:
            trust = trust_policy_pod_identity(ref["cluster_name"], ns, name)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=trust, tags=tags, opts=opts)
        statements: list[dict[str, Any]] = []
        if args.get("access"):
            statements += access_statements(args["access"], Account(self))
        statements += secret_read_statements(secrets.values(), describe=True,
                                             kms_keys=args.get("secrets_kms_keys") or ())
        aws.iam.RolePolicy(f"{name}-role", role=role.id, policy=policy_document(statements), opts=opts)
        return role

    def _network_policy(self, name: str, ns: str, labels: Mapping[str, str], selector: Mapping[str, str], core: Any,
                        lb_cidrs: pulumi.Input[Sequence[str]] | None, allow_from: Sequence[str],
                        opts: pulumi.ResourceOptions) -> None:
        import pulumi_kubernetes as k8s
        port = [{"port": core.port, "protocol": "TCP"}]
        rules: list[dict[str, Any]] = [{"from": [{"podSelector": {"matchLabels": selector}}]}]
        if lb_cidrs is not None:
            rules.append({"from": pulumi.Output.from_input(lb_cidrs).apply(lambda cs: _ip_blocks(name, cs)),
                          "ports": port})
        peers = []
        for ref in sorted(set(allow_from)):
            other_ns, other = ref.split("/", 1) if "/" in ref else (ns, ref)
            peers.append({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": other_ns}},
                          "podSelector": {"matchLabels": {"app.kubernetes.io/name": other}}})
        if peers:
            rules.append({"from": peers, "ports": port})
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata={"name": name, "namespace": ns, "labels": labels},
            spec={"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": rules}, opts=opts)

    def _ingress(self, name: str, ns: str, labels: Mapping[str, str], core: Any, ing: Mapping[str, Any],
                 tags: Mapping[str, str], prof: Profile, await_lb: bool, subnet_ids: pulumi.Input[Sequence[str]] | None,
                 opts: pulumi.ResourceOptions):
        import pulumi_kubernetes as k8s
        hc = core.health_check
        prefix = "alb.ingress.kubernetes.io"
        if ing.get("group"):
            # The controller merges the tags of every Ingress of a group onto its one load balancer and
            # refuses the whole group when two members tag one key differently: tag it after the group.
            tags = standard_tags(ing["group"], prof.name, core.tags)
        annotations = {
            f"{prefix}/scheme": "internet-facing" if core.expose == "public" else "internal",
            f"{prefix}/target-type": "ip",
            f"{prefix}/backend-protocol": "HTTP",
            f"{prefix}/healthcheck-path": hc.path,
            f"{prefix}/healthcheck-port": "traffic-port",
            f"{prefix}/healthcheck-interval-seconds": str(hc.interval),
            f"{prefix}/healthcheck-timeout-seconds": str(hc.timeout),
            f"{prefix}/healthy-threshold-count": str(hc.healthy_threshold),
            f"{prefix}/unhealthy-threshold-count": str(hc.unhealthy_threshold),
            f"{prefix}/success-codes": "200-399",
            # No ALB deletion protection: the controller could then never delete the load balancer, so removing
            # the service or moving it to another ingress group would leave the Ingress's finalizer and its
            # namespace stuck Terminating. Prod protects the Ingress in Pulumi instead (below). Said explicitly:
            # the controller only sets the attributes this annotation names, so dropping the key would leave it
            # on for every load balancer created while it was true.
            f"{prefix}/load-balancer-attributes": "deletion_protection.enabled=false,"
                                                  "routing.http.drop_invalid_header_fields.enabled=true",
            f"{prefix}/target-group-attributes": "deregistration_delay.timeout_seconds=30",
            f"{prefix}/tags": ",".join(f"{k}={v}" for k, v in sorted(tags.items())),
        }
        if ing.get("certificate_arn"):
            annotations.update({
                f"{prefix}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
                f"{prefix}/certificate-arn": ing["certificate_arn"],
                f"{prefix}/ssl-redirect": "443",
                f"{prefix}/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            })
        else:
            annotations[f"{prefix}/listen-ports"] = json.dumps([{"HTTP": 80}])
        if not await_lb:
            annotations["pulumi.com/skipAwait"] = "true"
        if ing.get("group"):
            annotations[f"{prefix}/group.name"] = ing["group"]
        if subnet_ids is not None:
            # The load balancer lives exactly in the subnets whose CIDRs the NetworkPolicy admits.
            annotations[f"{prefix}/subnets"] = pulumi.Output.from_input(subnet_ids).apply(lambda ids: ",".join(ids))
        rule: dict[str, Any] = {"http": {"paths": [{
            "path": ing.get("path", "/"), "pathType": "Prefix",
            "backend": {"service": {"name": name, "port": {"name": "http"}}}}]}}
        if ing.get("host"):
            rule["host"] = ing["host"]
        # In prod the load balancer's DNS name is what clients and DNS records point at: removing the service
        # fails at preview ("marked for protection") until `pulumi state unprotect` says it is meant.
        return k8s.networking.v1.Ingress(
            f"{name}-ingress", metadata={"name": name, "namespace": ns, "labels": labels, "annotations": annotations},
            spec={"ingressClassName": "alb", "rules": [rule]},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=prof.protect)))


def namespace_labels(namespace: str) -> dict[str, str]:
    """Labels enforcing the ``restricted`` Pod Security Standard on a namespace, and asking the AWS Load
    Balancer Controller for pod readiness gates: a rollout then waits until the load balancer sees the new
    pods healthy before it removes old ones (``maxUnavailable: 0`` alone only waits for the readiness probe)."""
    return {"kubernetes.io/metadata.name": namespace, "app.kubernetes.io/managed-by": "pulumi",
            "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled",
            **{f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")},
            **{f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")}}


def image_version(image: pulumi.Input[str]) -> pulumi.Input[str]:
    """The ``app.kubernetes.io/version`` label of an image reference: its tag, or the digest's first 12 characters."""
    def version(ref: str) -> str:
        if "@sha256:" in ref:
            return ref.split("@sha256:", 1)[1][:12]
        last = ref.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else "unknown"
        return re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:63].strip("-_.") or "unknown"
    return pulumi.Output.from_input(image).apply(version) if is_unknown(image) else version(image)


def _load_balancer_subnets(network: Any, ref: Mapping[str, Any], expose: str) -> tuple[Any, Any]:
    """(subnet ids, CIDRs) of the load balancers of ``expose``, from the network, else the cluster; (None, None)
    when neither names them."""
    ids_key, cidrs_key = LB_SUBNET_KEYS[expose]
    if network is not None:
        if isinstance(network, Mapping):
            return network.get(ids_key), network.get(cidrs_key)
        if expose in getattr(network, "load_balancer_tiers", ()):
            return getattr(network, ids_key), getattr(network, cidrs_key)
        return None, None
    found = (ref.get("load_balancer_subnets") or {}).get(expose) or {}
    return found.get("ids"), found.get("cidrs")


def _ip_blocks(name: str, cidrs: Sequence[str]) -> list[dict[str, Any]]:
    # An empty `from` admits everyone: refuse rather than open the service to the whole cluster.
    if not cidrs:
        raise ValueError(f"{name}: no load balancer CIDRs for the NetworkPolicy; give load_balancer_cidrs or a "
                         "network with load balancer subnets")
    return [{"ipBlock": {"cidr": c}} for c in cidrs]


def _ingress_url(status: Any, scheme: str) -> str:
    lb = getattr(status, "load_balancer", None) if status is not None else None
    entries = getattr(lb, "ingress", None) or []
    host = getattr(entries[0], "hostname", None) if entries else None
    return f"{scheme}://{host}" if host else ""


def _validate_context(name: str, args: Mapping[str, Any], ref: Mapping[str, Any], network: Any,
                      problems: Problems) -> None:
    """Rules on what the component is given besides its args (the cluster, the network)."""
    needs_role = bool(args.get("access")) or bool(args.get("secrets"))
    if needs_role and args.get("iam_binding", "pod_identity") == "pod_identity" and not ref.get("cluster_name"):
        problems.add(join_path(name, "access" if args.get("access") else "secrets"),
                     "needs an EKS cluster (cluster=...) to bind an IAM role to the pods through Pod Identity")
    if needs_role and args.get("iam_binding") == "irsa" and not ref.get("oidc_provider_arn"):
        problems.add(join_path(name, "iam_binding"), "irsa needs the cluster's oidc_provider_arn and oidc_issuer")
    expose = args.get("expose", "internal")
    if expose in LB_SUBNET_KEYS and not args.get("load_balancer_cidrs") \
            and _load_balancer_subnets(network, ref, expose)[1] is None:
        problems.add(join_path(name, "load_balancer_cidrs"),
                     f"is required for expose: {expose} when the network names no {LB_SUBNET_KEYS[expose][1]}: the "
                     "NetworkPolicy admits the load balancer from exactly these CIDRs (never the whole VPC, where "
                     "every pod has an address)")


