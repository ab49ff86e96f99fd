"""``EksCluster``: one hardened EKS cluster per stack, shared by every ``eks`` service (each a
:class:`~components.eks.KubernetesService`).

Built from pulumi-aws and pulumi-kubernetes resources directly (pulumi-eks is a remote component that
cannot be planned offline). The Kubernetes providers authenticate with ``components.eks_token`` each time
they need a token (see :mod:`.kubeconfig`); the ``kubeconfig`` output for people uses ``aws eks get-token``.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

from ..blocks.architecture import is_arm64 as is_arm
from ..blocks.iam import assume_role_policy
from ..blocks.service import standard_tags
from ..profiles import Profile, get_profile
from .addons import (ADDONS_AFTER_NODES, ADDONS_BEFORE_NODES, access_entries, cluster_autoscaler,
                     load_balancer_controller, managed_addons)
from .args import EksClusterArgs, EksClusterSettings, NodeGroupSettings, resolve_eks_cluster
from .kubeconfig import aws_credential_env, exec_user, kubeconfig_json
from .refs import LB_SUBNET_KEYS, network_ref
from .validate import validate_cluster_context, validate_eks_cluster

__all__ = ["EksCluster"]

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy",
                 "AmazonSSMManagedInstanceCore")


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
        net = network_ref(network)
        validate_cluster_context(name, args, net, problems)
        problems.raise_if_any()
        super().__init__("microservices:eks:EksCluster", name, None, opts)
        import pulumi_aws as aws
        import pulumi_kubernetes as k8s

        settings = self.settings = resolve_eks_cluster(name, args, prof)
        child = pulumi.ResourceOptions(parent=self)
        tags = standard_tags(name, prof.name, settings.tags)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region

        def managed(policy: str) -> pulumi.Output[str]:
            return partition.apply(lambda p: f"arn:{p}:iam::aws:policy/{policy}")

        cluster, key, api_rules = self._control_plane(name, settings, prof, net, tags, managed)
        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer if ids and ids[0].oidcs else "")
        oidc = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                                             tags=tags, opts=child)
        access_entries(self, name, settings, cluster, partition, tags)
        early = managed_addons(self, name, ADDONS_BEFORE_NODES, settings, cluster, tags, child)

        node_role = aws.iam.Role(f"{name}-node-role", assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                                 description=f"EKS nodes of {settings.cluster_name}", tags=tags, opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-node-role-{i}", role=node_role.name,
                                                    policy_arn=managed(policy), opts=child)
                       for i, policy in enumerate(NODE_POLICIES)]
        node_groups = [self._node_group(name, group, cluster, node_role, net, tags,
                                        pulumi.ResourceOptions(parent=self, depends_on=attachments + early))
                       for group in settings.node_groups]
        late = managed_addons(self, name, ADDONS_AFTER_NODES, settings, cluster, tags,
                              pulumi.ResourceOptions(parent=self, depends_on=node_groups))

        ca = cluster.certificate_authority.apply(lambda c: c.data)
        # No token in the provider's configuration (Pulumi stores it, and refresh and destroy reuse it): the
        # provider runs components.eks_token each time it needs credentials.
        provider_config = pulumi.Output.all(cluster.name, cluster.endpoint, ca, region, aws_credential_env()).apply(
            lambda v: kubeconfig_json(v[0], v[1], v[2], exec_user(v[0], v[3], v[4])))
        ready: list[pulumi.Resource] = [*api_rules, *node_groups, *late]
        system = k8s.Provider(f"{name}-k8s-system", kubeconfig=provider_config, enable_server_side_apply=True,
                              opts=pulumi.ResourceOptions(parent=self, depends_on=list(ready)))
        if settings.cluster_autoscaler.enabled:
            ready.append(cluster_autoscaler(self, name, settings.cluster_autoscaler, cluster, region, system, tags))
        if settings.load_balancer_controller is not None:
            ready.append(load_balancer_controller(self, name, settings.load_balancer_controller, cluster, net, region,
                                                  system, tags))
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=provider_config, enable_server_side_apply=True,
                                     opts=pulumi.ResourceOptions(parent=self, depends_on=ready))
        self._set_outputs(cluster, ca, region, issuer, oidc, node_role, key, net)

    def _set_outputs(self, cluster: Any, ca: pulumi.Output[str], region: pulumi.Output[str],
                     issuer: pulumi.Output[str], oidc: Any, node_role: Any, key: Any, net: dict[str, Any]) -> None:
        self.kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, ca, region).apply(
            lambda v: kubeconfig_json(v[0], v[1], v[2], {"exec": {
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
        self.load_balancer_subnets = {
            expose: {"ids": net[ids], "cidrs": net[cidrs]}
            for expose, (ids, cidrs) in LB_SUBNET_KEYS.items() if net.get(ids) is not None and net.get(cidrs) is not None}
        self.register_outputs({
            "cluster_name": self.cluster_name, "cluster_arn": self.cluster_arn, "endpoint": self.endpoint,
            "oidc_issuer": self.oidc_issuer, "oidc_provider_arn": self.oidc_provider_arn,
            "cluster_security_group_id": self.cluster_security_group_id, "node_role_arn": self.node_role_arn,
            "kms_key_arn": self.kms_key_arn, "kubeconfig": self.kubeconfig,
        })

    def _control_plane(self, name: str, settings: EksClusterSettings, prof: Profile, net: dict[str, Any],
                       tags: dict[str, str], managed: Any) -> tuple[Any, Any, list[pulumi.Resource]]:
        """The cluster with its role, its Secrets key, its log group and its API access: (cluster, key, rules)."""
        import pulumi_aws as aws
        from ..blocks.logs import log_group
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=prof.protect)
        cluster_name = settings.cluster_name
        role = aws.iam.Role(f"{name}-cluster-role", assume_role_policy=assume_role_policy("eks.amazonaws.com"),
                            description=f"EKS control plane of {cluster_name}", tags=tags, opts=child)
        role_policy = aws.iam.RolePolicyAttachment(f"{name}-cluster-role", role=role.name,
                                                   policy_arn=managed("AmazonEKSClusterPolicy"), opts=child)
        key = aws.kms.Key(f"{name}-secrets", description=f"Kubernetes Secrets of EKS cluster {cluster_name}",
                          enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=stateful)
        # EKS creates this log group itself, without retention, unless it exists before the cluster.
        logs = log_group(f"{name}-logs", prof, name=f"/aws/eks/{cluster_name}/cluster",
                         retention_days=settings.log_retention_days, tags=tags, opts=child)
        api_sg, api_rules = self._api_access(name, settings, net, tags)
        vpc_config: dict[str, Any] = {"subnet_ids": net["private_subnet_ids"], "endpoint_private_access": True,
                                      "endpoint_public_access": settings.public_endpoint,
                                      "security_group_ids": [api_sg.id]}
        if settings.public_endpoint:
            vpc_config["public_access_cidrs"] = list(settings.public_access_cidrs)
        cluster = aws.eks.Cluster(
            f"{name}-cluster", name=cluster_name, role_arn=role.arn, version=settings.version,
            vpc_config=vpc_config,
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(settings.log_types),
            # The identity running Pulumi must administer the cluster to deploy the workloads.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            upgrade_policy={"support_type": "STANDARD"},
            # Add-ons are installed below as managed add-ons, so their versions are visible and upgradable.
            bootstrap_self_managed_addons=False,
            deletion_protection=settings.deletion_protection,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=prof.protect, depends_on=[logs, role_policy]))
        return cluster, key, api_rules

    def _api_access(self, name: str, settings: EksClusterSettings, net: dict[str, Any],
                    tags: dict[str, str]) -> tuple[Any, list[pulumi.Resource]]:
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
        for cidr in settings.api_access_cidrs:
            rules.append(aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-{_rule_key(cidr)}", cidr_ipv4=cidr, description="Kubernetes API (api_access_cidrs)",
                tags=tags, **https, opts=child))
        for runner in settings.api_access_security_group_ids:
            rules.append(aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-{runner}", referenced_security_group_id=runner,
                description="Kubernetes API (api_access_security_group_ids)", tags=tags, **https, opts=child))
        return sg, rules

    def _node_group(self, name: str, group: NodeGroupSettings, cluster: Any, node_role: Any, net: dict[str, Any],
                    tags: dict[str, str], opts: pulumi.ResourceOptions):
        import pulumi_aws as aws
        from ..blocks.launch_template import LaunchSettings, launch_template
        size = group.size
        # Hop limit 1: IMDS answers the node only, never a pod, so a pod without an IAM role of its own has no
        # AWS identity at all (Pod Identity needs no IMDS; controllers get their region and VPC explicitly).
        # EKS picks the AMI (ami_type) and attaches the cluster security group, so the template sets neither.
        lt = launch_template(f"{name}-{group.key}", LaunchSettings(hop_limit=1, root_volume_size=group.disk_size),
                             tags=tags, opts=pulumi.ResourceOptions(parent=self))
        return aws.eks.NodeGroup(
            f"{name}-{group.key}", cluster_name=cluster.name, node_role_arn=node_role.arn,
            # Nodes follow the control plane: a version bump rolls them onto the new AMI (within the
            # update config) instead of leaving them behind until the version skew is unsupported.
            version=cluster.version,
            subnet_ids=net["private_subnet_ids"], instance_types=list(size.instance_types),
            ami_type="AL2023_ARM_64_STANDARD" if is_arm(size.instance_types[0]) else "AL2023_x86_64_STANDARD",
            capacity_type="SPOT" if size.spot else "ON_DEMAND",
            scaling_config={"min_size": size.min, "max_size": size.max, "desired_size": size.desired},
            update_config={"max_unavailable_percentage": group.max_unavailable_percentage},
            launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
            labels={**group.labels, "node-group": group.key},
            tags=tags,
            # The Cluster Autoscaler owns the node count once the group exists.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                ignore_changes=["scalingConfig.desiredSize"])))
