"""Validation of the ``eks`` pattern: one function per component (:func:`validate_eks_cluster` for the
stack's ``microservices:eks``, :func:`validate_kubernetes_service` for each catalog entry), the rules on what a
component is given besides its args, and the rules across the catalog's ``eks`` services. They work on the
raw args (tolerating values not known yet and wrong types) and return every problem, never raising."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ..blocks.access import validate_access
from ..blocks.certificate import TLS_REQUIRED_IN, has_tls, missing_tls_message, validate_tls_settings
from ..blocks.architecture import is_arm64 as is_arm
from ..blocks.container_image import default_image_spec, validate_image
from ..blocks.service import CORE_KEYS, CoreSpec, HealthCheck, validate_core, validate_service_name, validate_tags
from ..patterns import ValidationContext
from ..profiles import LOG_RETENTION_DAYS, Profile, get_profile
from ..validation import Problems, is_unknown, join_path
from .addons import ADDONS_AFTER_NODES, ADDONS_BEFORE_NODES
from .args import (LOG_TYPES, PROBES, STANDARD_SUPPORT, IngressSettings, KubernetesServiceSettings, RollingUpdateSettings,
                   access_entry_key, default_probe_period, resolve_node_group_size)
from .refs import LB_SUBNET_KEYS, load_balancer_subnets

__all__ = ["DNS1123_LABEL", "EKS_KEYS", "K8S_KEYS", "validate_catalog", "validate_cluster_context",
           "validate_eks_cluster", "validate_kubernetes_service", "validate_service_context"]

EKS_KEYS = ("version", "cluster_name", "public_endpoint", "public_access_cidrs", "api_access_cidrs",
            "api_access_security_group_ids", "admin_role_arns", "view_role_arns", "node_groups", "log_types", "log_retention_days",
            "deletion_protection", "load_balancer_controller", "cluster_autoscaler", "addon_versions", "tags")
ADDON_VERSION = r"v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?"
CLUSTER_AUTOSCALER_KEYS = ("enabled", "chart_version", "image_tag")
SECURITY_GROUP_ID = r"sg-[0-9a-f]{8,17}"
NODE_GROUP_KEYS = ("instance_types", "min", "max", "desired", "spot", "disk_size", "labels",
                   "max_unavailable_percentage")
ROLE_ARN = r"arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}"
POLICY_ARN = r"arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}"
CIDR = r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})"
CLUSTER_NAME = r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
INSTANCE_TYPE = r"[a-z][a-z0-9-]*\.[a-z0-9]+"
DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
ACM_ARN = r"arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+"
HOSTNAME = r"(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}"
INT_OR_PERCENT = r"(100|[1-9]?[0-9])%"
PROBE_KEYS = ("period_seconds", "timeout_seconds", "failure_threshold", "success_threshold", "initial_delay_seconds")
K8S_KEYS = ("image", "namespace", "create_namespace", "cpu", "memory", "cpu_limit", "memory_limit",
            "rolling_update", "disruption_budget", "probes", "ingress", "access", "allow_from", "run_as_user",
            "iam_binding", "load_balancer_cidrs")
IAM_BINDINGS = ("pod_identity", "irsa")


# -- EksCluster -----------------------------------------------------------------------------------
def _check_cidr(value: Any, path: str, problems: Problems) -> None:
    if not problems.check_str(value, path, CIDR, "an IPv4 CIDR such as '203.0.113.0/24'") or is_unknown(value):
        return
    parts = re.fullmatch(CIDR, value).groups()
    if any(int(p) > 255 for p in parts[:4]) or int(parts[4]) > 32:
        problems.add(path, f"must be a valid IPv4 CIDR, got {value!r}")
    elif int(parts[4]) == 0:
        problems.add(path, f"must not open the API endpoint to the whole internet, got {value!r}")


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
            key = access_entry_key(arn)
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
        got = resolve_node_group_size(group, prof)
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




def validate_cluster_context(name: str, args: Mapping[str, Any], net: Mapping[str, Any], problems: Problems) -> None:
    """Rules on what the cluster is given besides its args (the network)."""
    if isinstance(net.get("vpc_cidr"), str) and net["vpc_cidr"] in (args.get("api_access_cidrs") or []):
        # EKS would refuse the second rule for one CIDR as a duplicate at `up`.
        problems.add(join_path(name, "api_access_cidrs"),
                     f"needs no {net['vpc_cidr']!r}: the VPC's CIDR is always admitted")


# -- KubernetesService ----------------------------------------------------------------------------
def _validate_image(image: Any, path: str, problems: Problems, vctx: Any) -> None:
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
            period, source = default_probe_period(kind, interval), ", derived from health_check.interval"
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
        if ok and _is_zero(ru.get("max_surge", RollingUpdateSettings.max_surge)) \
                and _is_zero(ru.get("max_unavailable", RollingUpdateSettings.max_unavailable)):
            problems.add(rp, "max_surge and max_unavailable cannot both be 0: the rollout could never make progress")

    _validate_disruption_budget(spec, path, problems, getattr(profile, "min_capacity", None))
    hc = spec.get("health_check") if isinstance(spec.get("health_check"), Mapping) else {}
    _validate_probes(spec.get("probes"), join_path(path, "probes"), problems, hc)

    ing = spec.get("ingress")
    ip = join_path(path, "ingress")
    if problems.check_mapping(ing, ip) and isinstance(ing, Mapping):
        problems.check_known_keys(ing, ("certificate_arn", "domain", "zone", "host", "path", "group"), ip)
        validate_tls_settings(ing, ip, problems)
        problems.check_str(ing.get("certificate_arn"), join_path(ip, "certificate_arn"), ACM_ARN,
                           "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)")
        problems.check_str(ing.get("host"), join_path(ip, "host"), HOSTNAME, "a DNS host name such as 'api.example.com'",
                           max_len=253)
        host, domain = ing.get("host"), ing.get("domain")
        if isinstance(host, str) and isinstance(domain, str) and host != domain:
            problems.add(join_path(ip, "host"),
                         f"is {host!r} but domain is {domain!r}: the certificate and the alias record are for the "
                         f"domain, and the Ingress rule would only match {host!r} (omit host, or make it the domain)")
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



def validate_service_context(name: str, args: Mapping[str, Any], ref: Mapping[str, Any], network: Any,
                             problems: Problems, *, await_load_balancer: bool = True,
                             environment: str = "dev") -> None:
    """Rules on what the component is given besides its args (the cluster, the network, whether the program
    waits for the Ingress's load balancer, the environment: in prod a public Ingress speaks TLS)."""
    ing = args.get("ingress")
    if args.get("expose", CoreSpec.expose) == "public" and environment == TLS_REQUIRED_IN and not has_tls(ing):
        problems.add(join_path(name, "ingress"), missing_tls_message(environment))
    if isinstance(ing, Mapping) and ing.get("domain") is not None and not await_load_balancer \
            and args.get("expose", CoreSpec.expose) != "none":
        problems.add(join_path(name, "ingress", "domain"),
                     "needs the address of the Ingress's load balancer for its DNS record, which this program knows "
                     "only when it installs the AWS Load Balancer Controller and waits for the Ingress (set "
                     "microservices:eks load_balancer_controller); or give certificate_arn and create the record "
                     "yourself")
    needs_role = bool(args.get("access")) or bool(args.get("secrets"))
    if needs_role and args.get("iam_binding", KubernetesServiceSettings.iam_binding) == "pod_identity" and not ref.get("cluster_name"):
        problems.add(join_path(name, "access" if args.get("access") else "secrets"),
                     "needs an EKS cluster (cluster=...) to bind an IAM role to the pods through Pod Identity")
    if needs_role and args.get("iam_binding") == "irsa" and not ref.get("oidc_provider_arn"):
        problems.add(join_path(name, "iam_binding"), "irsa needs the cluster's oidc_provider_arn and oidc_issuer")
    expose = args.get("expose", CoreSpec.expose)
    if expose in LB_SUBNET_KEYS and not args.get("load_balancer_cidrs") \
            and load_balancer_subnets(network, ref, expose)[1] is None:
        problems.add(join_path(name, "load_balancer_cidrs"),
                     f"is required for expose: {expose} when the network names no {LB_SUBNET_KEYS[expose][1]}: the "
                     "NetworkPolicy admits the load balancer from exactly these CIDRs (never the whole VPC, where "
                     "every pod has an address)")




# -- the catalog ----------------------------------------------------------------------------------
def validate_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
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
        if ing.get("group") and spec.get("expose", CoreSpec.expose) != "none":
            route = (ing["group"], ing.get("host"), ing.get("path", IngressSettings.path))
            if route in routes:
                problems.add(join_path("services", svc, "ingress"),
                             f"routes host {route[1] or '*'} path {route[2]} of group {route[0]!r}, "
                             f"already routed to {routes[route]}")
            routes.setdefault(route, svc)
            # One load balancer serves the group: the controller refuses members whose tags conflict, and
            # one member's HTTP-to-HTTPS redirect applies to all of them.
            tags = dict(spec["tags"]) if isinstance(spec.get("tags"), Mapping) else {}
            # TLS: a certificate_arn and a domain (a certificate requested for it) both give HTTPS on 443, and
            # the controller merges the certificates of a group onto that listener. What members must agree on
            # is whether there is TLS at all: one member's ssl-redirect turns the group's port-80 listener into a
            # redirect, so a plain-HTTP member's rules (on port 80 only) would never be reached.
            shared = {"expose": spec.get("expose", CoreSpec.expose), "tags": tags,
                      "ingress": "TLS (certificate_arn or domain)" if has_tls(ing) else "plain HTTP"}
            first_svc, first = groups.setdefault(ing["group"], (svc, shared))
            for key, value in shared.items():
                if first[key] != value:
                    why = (": the group's port 80 only redirects to HTTPS once one member has TLS, so give every "
                           "member certificate_arn or domain and zone" if key == "ingress" else "")
                    problems.add(join_path("services", svc, key),
                                 f"must match the other services of ingress group {ing['group']!r} (one load "
                                 f"balancer): {first_svc} has {first[key]!r}, got {value!r}{why}")
    return problems

