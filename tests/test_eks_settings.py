"""The ``eks`` pattern resolves its args once: GIVEN args / WHEN resolved / THEN frozen settings whose fields hold
the documented defaults, and components that read those fields instead of falling back on literals."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from pathlib import Path

import pytest

from components.eks import args as eks_args
from components.eks.args import (DEFAULT_VERSION, resolve_eks_cluster, resolve_kubernetes_service)
from components.profiles import get_profile

PACKAGE = Path(eks_args.__file__).parent
IMAGE = {"ref": "public.ecr.aws/acme/orders:1.4.2"}
#: Each args TypedDict and the settings dataclass it resolves into.
PAIRS = [("NodeGroupArgs", "NodeGroupSettings"), ("ClusterAutoscalerArgs", "ClusterAutoscalerSettings"),
         ("EksClusterArgs", "EksClusterSettings"), ("KubernetesServiceArgs", "KubernetesServiceSettings"),
         ("RollingUpdateArgs", "RollingUpdateSettings"), ("DisruptionBudgetArgs", "DisruptionBudgetSettings"),
         ("IngressArgs", "IngressSettings"), ("ProbeArgs", "ProbeSettings")]


def _field_docs(cls: type) -> dict[str, str]:
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    return {node.target.id: following.value.value for node, following in zip(body, body[1:])
            if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)}


def _documented(doc: str) -> str:
    token = doc.split("Default: ", 1)[1].split()[0].rstrip(".;,")
    return token.strip('`"')


@pytest.mark.parametrize("args_name, settings_name", PAIRS)
def test_settings_fields_hold_the_defaults_the_args_document(args_name, settings_name):
    docs = _field_docs(getattr(eks_args, args_name))
    checked = 0
    for f in dataclasses.fields(getattr(eks_args, settings_name)):
        if f.name in docs and isinstance(f.default, (bool, int, str)) and "Default: " in docs[f.name]:
            expected = str(f.default).lower() if isinstance(f.default, bool) else str(f.default)
            assert _documented(docs[f.name]) == expected, f"{args_name}.{f.name}"
            checked += 1
    assert checked, f"no documented default of {args_name} was compared"


def test_cluster_args_resolve_once_into_frozen_settings():
    s = resolve_eks_cluster("eks", {"cluster_name": "shop"}, get_profile("dev"))
    assert (s.cluster_name, s.version, s.public_endpoint, s.public_access_cidrs) == ("shop", DEFAULT_VERSION, False, ())
    assert s.log_types == ("api", "audit", "authenticator") and s.load_balancer_controller is None
    autoscaler = s.cluster_autoscaler
    assert (autoscaler.enabled, autoscaler.chart_version, autoscaler.image_tag) == (True, "9.38.0", f"v{DEFAULT_VERSION}.0")
    [group] = s.node_groups
    assert (group.key, group.disk_size, group.max_unavailable_percentage, group.labels) == ("default", 50, 33, {})
    assert group.size.instance_types == tuple(get_profile("dev").node_instance_types)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.version = "1.35"


def test_cluster_settings_follow_the_profile_and_sort_what_they_list():
    s = resolve_eks_cluster("eks", {"cluster_name": "shop", "api_access_cidrs": ["10.9.0.0/16", "10.1.0.0/16",
                                                                             "10.9.0.0/16"]}, get_profile("prod"))
    assert s.log_types == ("api", "audit", "authenticator", "controllerManager", "scheduler")
    assert s.deletion_protection is get_profile("prod").deletion_protection
    assert s.api_access_cidrs == ("10.1.0.0/16", "10.9.0.0/16")


def test_service_args_resolve_once_into_frozen_settings():
    prof = get_profile("dev")
    s = resolve_kubernetes_service("orders", {"image": IMAGE}, prof)
    assert (s.namespace, s.create_namespace, s.run_as_user, s.iam_binding) == ("orders", True, 10001, "pod_identity")
    assert (s.cpu, s.memory, s.cpu_limit, s.memory_limit) == (prof.container_cpu, prof.container_memory,
                                                              2 * prof.container_cpu, prof.container_memory)
    assert (s.rolling_update.max_surge, s.rolling_update.max_unavailable) == ("25%", 0)
    assert (s.disruption_budget.max_unavailable, s.disruption_budget.min_available) == (1, None)
    assert (s.ingress.path, s.ingress.host, s.ingress.group) == ("/", None, None)
    # Probes derive from the health check (every 30 s, 5 s timeout, 60 s to start).
    assert (s.probes["startup"].period_seconds, s.probes["startup"].failure_threshold) == (5, 12)
    assert (s.probes["readiness"].period_seconds, s.probes["liveness"].period_seconds) == (10, 30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.namespace = "shop"


def test_probe_overrides_win_over_what_the_health_check_derives():
    s = resolve_kubernetes_service("orders", {"image": IMAGE, "probes": {"startup": {
        "period_seconds": 10, "initial_delay_seconds": 3}}}, get_profile("dev"))
    startup = s.probes["startup"]
    assert (startup.period_seconds, startup.failure_threshold, startup.initial_delay_seconds) == (10, 6, 3)


@pytest.mark.parametrize("module", ["cluster", "addons", "service", "manifests", "pattern", "kubeconfig"])
def test_components_read_settings_never_dict_fallbacks_with_literals(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    fallbacks = [ast.unparse(node) for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                 and len(node.args) == 2 and isinstance(node.args[1], ast.Constant)]
    assert fallbacks == []


def test_no_constructor_of_the_pattern_is_longer_than_80_lines():
    long = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "__init__" \
                    and node.end_lineno - node.lineno + 1 > 80:
                long.append(f"{path.name}:{node.lineno}")
    assert long == []
