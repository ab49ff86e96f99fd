"""The composition root: read the stack's catalog, build the platform, export what users need."""

import pulumi

from components import Platform
from components.catalog import catalog_from_config

platform = Platform("platform", catalog_from_config())

pulumi.export("environment", platform.catalog.environment)
if platform.network is not None:
    pulumi.export("vpc_id", platform.network.vpc_id)
    pulumi.export("private_subnet_ids", platform.network.private_subnet_ids)
    pulumi.export("public_subnet_ids", platform.network.public_subnet_ids)
if "ecs" in platform.clusters:
    pulumi.export("ecs_cluster_name", platform.clusters["ecs"].name)
if "eks" in platform.clusters:
    pulumi.export("eks_cluster_name", platform.clusters["eks"].cluster_name)
    pulumi.export("kubeconfig", platform.clusters["eks"].kubeconfig)
if platform.gateway is not None:
    pulumi.export("gateway_url", platform.gateway.url)
pulumi.export("services", platform.service_outputs)
if platform.skipped:
    pulumi.export("skipped", platform.skipped)
