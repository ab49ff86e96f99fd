"""microservice-components: Pulumi components for the standard ways to deploy microservices on AWS and Kubernetes.

``from components import Network, Platform, LambdaService, VmService, EcsService, ...``. Each name is
imported on first use, so a program pays only for the AWS modules of the patterns it uses.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Catalog", "CatalogError", "ContainerImage", "DockerService", "EcsCluster", "EcsService", "EksCluster",
    "HttpApi", "KubernetesService", "LambdaService", "Network", "Platform", "Profile", "VmService",
    "get_profile", "load_catalog",
]

_EXPORTS = {
    "Catalog": "components.catalog",
    "load_catalog": "components.catalog",
    "CatalogError": "components.validation",
    "Network": "components.network",
    "Platform": "components.platform",
    "Profile": "components.profiles",
    "get_profile": "components.profiles",
    "LambdaService": "components.lambda_service",
    "HttpApi": "components.lambda_service",
    "VmService": "components.vm",
    "EcsCluster": "components.ecs",
    "EcsService": "components.ecs",
    "ContainerImage": "components.container_image",
    "DockerService": "components.docker",
    "EksCluster": "components.eks",
    "KubernetesService": "components.k8s",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
