"""The ``eks`` pattern: :class:`EksCluster` (one hardened EKS cluster per stack) and :class:`KubernetesService`
(one long-running service on it, or on any Kubernetes cluster).

Modules: ``args`` (args and resolved settings), ``validate``, ``cluster`` (with ``addons`` and ``kubeconfig``),
``service`` (with ``manifests``), ``pattern`` (the catalog registration). ``cluster_provider`` gives a
Kubernetes provider for an existing EKS cluster.
"""

from __future__ import annotations

from .args import DEFAULT_VERSION, STANDARD_SUPPORT, EksClusterArgs, KubernetesServiceArgs, NodeGroupArgs
from .cluster import EksCluster
from .kubeconfig import cluster_provider
from .service import KubernetesService
from .validate import DNS1123_LABEL, EKS_KEYS, K8S_KEYS, validate_eks_cluster, validate_kubernetes_service

__all__ = [
    "DEFAULT_VERSION", "DNS1123_LABEL", "EKS_KEYS", "EksCluster", "EksClusterArgs", "K8S_KEYS", "KubernetesService",
    "KubernetesServiceArgs", "NodeGroupArgs", "STANDARD_SUPPORT", "cluster_provider", "validate_eks_cluster",
    "validate_kubernetes_service",
]
