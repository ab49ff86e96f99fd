"""microservice-components: Pulumi components for the standard ways to deploy microservices on AWS and Kubernetes.

``from microservice_components import Network, Platform, LambdaService, VmService, EcsService, ...`` once
installed (``from components import ...`` inside this repository: the same package, imported by its folder's
name). Each name is imported on first use, so a program pays only for the AWS modules of the patterns it uses.
"""

from __future__ import annotations

from .lazy import lazy_exports

__all__ = [
    "ApiGateway", "Catalog", "CatalogError", "ContainerImage", "DockerService", "EcsCluster", "EcsService", "EksCluster",
    "HttpApi", "KubernetesService", "LambdaService", "Network", "Platform", "Profile", "VmService",
    "get_profile", "load_catalog",
]

_EXPORTS = {
    "Catalog": ".catalog",
    "load_catalog": ".catalog",
    "CatalogError": ".validation",
    "Network": ".network",
    "Platform": ".platform",
    "Profile": ".profiles",
    "get_profile": ".profiles",
    "LambdaService": ".serverless",
    "HttpApi": ".serverless",
    "VmService": ".vm.component",
    "EcsCluster": ".ecs.cluster",
    "EcsService": ".ecs.service",
    "ContainerImage": ".blocks.container_image",
    "DockerService": ".docker.component",
    "EksCluster": ".eks",
    "KubernetesService": ".eks",
    "ApiGateway": ".gateway",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
