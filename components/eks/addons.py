"""What an :class:`EksCluster` installs besides the control plane and the nodes: access entries, the EKS
managed add-ons, the Cluster Autoscaler and the AWS Load Balancer Controller. Each function registers its
resources as children of ``parent`` (the cluster component), named after ``name``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi

from .args import ClusterAutoscalerSettings, EksClusterSettings, LoadBalancerControllerSettings, access_entry_key
from .identity import trust_policy_pod_identity

__all__ = ["ADDONS_AFTER_NODES", "ADDONS_BEFORE_NODES", "CLUSTER_AUTOSCALER_IMAGE", "access_entries",
           "cluster_autoscaler", "load_balancer_controller", "managed_addons"]

ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
#: Read access to every object, Secrets included (Helm keeps its releases in Secrets): what a refresh reads.
VIEW_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
#: Add-ons the nodes need to join (created before the node groups) and those that need nodes to run.
#: metrics-server (an EKS community add-on) serves the CPU metrics every HorizontalPodAutoscaler scales on.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
ADDONS_AFTER_NODES = ("coredns", "metrics-server", "aws-secrets-store-csi-driver-provider")
CLUSTER_AUTOSCALER_CHART_REPO = "https://kubernetes.github.io/autoscaler"
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
#: Read access the autoscaler of a recent Kubernetes version needs beyond the ClusterRole of older charts
#: (kubernetes/autoscaler#7663: without volumeattachments it stops scaling up).
CLUSTER_AUTOSCALER_EXTRA_ROLE = "cluster-autoscaler-extra-read"
CLUSTER_AUTOSCALER_EXTRA_READ = (("storage.k8s.io", ("volumeattachments",)),
                                 ("resource.k8s.io", ("deviceclasses", "resourceclaims", "resourceslices")),
                                 ("", ("podtemplates",)))
LBC_CHART_REPO = "https://aws.github.io/eks-charts"


def access_entries(parent: pulumi.Resource, name: str, settings: EksClusterSettings, cluster: Any,
                   partition: pulumi.Output[str], tags: Mapping[str, str]) -> None:
    """Admins (cluster admin) and viewers (read-only, e.g. the PR preview's refresh): one access entry each."""
    import pulumi_aws as aws
    child = pulumi.ResourceOptions(parent=parent)
    for role, policy, arns in (("admin", ADMIN_POLICY, settings.admin_role_arns),
                               ("view", VIEW_POLICY, settings.view_role_arns)):
        for arn in arns:
            key_name = access_entry_key(arn)
            entry = aws.eks.AccessEntry(f"{name}-{role}-{key_name}", cluster_name=cluster.name, principal_arn=arn,
                                        type="STANDARD", tags=tags, opts=child)
            aws.eks.AccessPolicyAssociation(
                f"{name}-{role}-{key_name}", cluster_name=cluster.name, principal_arn=arn,
                policy_arn=partition.apply(lambda p, policy=policy: policy.format(partition=p)),
                access_scope={"type": "cluster"}, opts=pulumi.ResourceOptions(parent=parent, depends_on=[entry]))


def managed_addons(parent: pulumi.Resource, name: str, addons: tuple[str, ...], settings: EksClusterSettings,
                   cluster: Any, tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    """The EKS managed add-ons ``addons``. EKS upgrades the control plane only: each add-on is pinned to the
    default version EKS gives for the cluster's version, so raising ``version`` upgrades the cluster first,
    then the add-ons. The default (not the newest) keeps plans stable when AWS publishes a new build."""
    import pulumi_aws as aws
    out = []
    for addon_name in addons:
        version_of = settings.addon_versions.get(addon_name) or aws.eks.get_addon_version_output(
            addon_name=addon_name, kubernetes_version=cluster.version,
            opts=pulumi.InvokeOutputOptions(parent=parent)).version
        configuration = json.dumps({"enableNetworkPolicy": "true"}) if addon_name == "vpc-cni" else None
        out.append(aws.eks.Addon(f"{name}-{addon_name}", cluster_name=cluster.name, addon_name=addon_name,
                                 addon_version=version_of, configuration_values=configuration,
                                 resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
                                 tags=tags, opts=opts))
    return out


def cluster_autoscaler(parent: pulumi.Resource, name: str, settings: ClusterAutoscalerSettings, cluster: Any,
                       region: pulumi.Output[str], provider: Any, tags: Mapping[str, str]) -> pulumi.Resource:
    """The Cluster Autoscaler, finding the node groups by the tags EKS puts on their Auto Scaling groups
    (``k8s.io/cluster-autoscaler/enabled`` and ``k8s.io/cluster-autoscaler/<cluster>``), with a Pod
    Identity role that may resize only this cluster's groups."""
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s
    from ..blocks.iam import policy_document, statement
    child = pulumi.ResourceOptions(parent=parent)
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
        role_arn=role.arn, tags=tags, opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]))
    # The autoscaler of a recent Kubernetes version watches objects an older chart's ClusterRole does not
    # grant (VolumeAttachments since 1.32, DRA's resource.k8s.io objects, PodTemplates): its informers then
    # fail with "forbidden" and it stops scaling. Granted here whatever chart_version is pinned.
    kopts = pulumi.ResourceOptions(parent=parent, provider=provider)
    extra = k8s.rbac.v1.ClusterRole(
        f"{name}-autoscaler-read", metadata={"name": CLUSTER_AUTOSCALER_EXTRA_ROLE},
        rules=[{"apiGroups": [group], "resources": list(resources), "verbs": ["get", "list", "watch"]}
               for group, resources in CLUSTER_AUTOSCALER_EXTRA_READ], opts=kopts)
    binding = k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-autoscaler-read", metadata={"name": CLUSTER_AUTOSCALER_EXTRA_ROLE},
        role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                  "name": CLUSTER_AUTOSCALER_EXTRA_ROLE},
        subjects=[{"kind": "ServiceAccount", "name": account, "namespace": "kube-system"}],
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[extra]))
    return k8s.helm.v3.Release(
        f"{name}-autoscaler", name="cluster-autoscaler", namespace="kube-system", chart="cluster-autoscaler",
        version=settings.chart_version,
        repository_opts={"repo": CLUSTER_AUTOSCALER_CHART_REPO}, atomic=True, timeout=600,
        values={"cloudProvider": "aws", "awsRegion": region, "autoDiscovery": {"clusterName": cluster.name},
                "image": {"repository": CLUSTER_AUTOSCALER_IMAGE,
                          "tag": settings.image_tag},
                "rbac": {"serviceAccount": {"create": True, "name": account}},
                # Spot and on-demand groups of similar nodes grow together; the cheapest fit wins.
                "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste",
                              "skip-nodes-with-system-pods": False},
                "replicaCount": 1},
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[association, binding]))

def load_balancer_controller(parent: pulumi.Resource, name: str, lbc: LoadBalancerControllerSettings, cluster: Any,
                             net: Mapping[str, Any], region: pulumi.Output[str], provider: Any,
                             tags: Mapping[str, str]) -> pulumi.Resource:
    """The AWS Load Balancer Controller (Helm), with a Pod Identity role, so Ingresses get ALBs."""
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s
    child = pulumi.ResourceOptions(parent=parent)
    trust = trust_policy_pod_identity(cluster.name, "kube-system", "aws-load-balancer-controller")
    role = aws.iam.Role(f"{name}-lbc", assume_role_policy=trust, description="AWS Load Balancer Controller",
                        tags=tags, opts=child)
    aws.iam.RolePolicyAttachment(f"{name}-lbc", role=role.name, policy_arn=lbc.policy_arn, opts=child)
    association = aws.eks.PodIdentityAssociation(
        f"{name}-lbc", cluster_name=cluster.name, namespace="kube-system",
        service_account="aws-load-balancer-controller", role_arn=role.arn, tags=tags, opts=child)
    # The controller's default tags win over an Ingress's own: without `Service` here, each load balancer
    # keeps the Service tag of the service (or ingress group) it belongs to.
    default_tags = {k: v for k, v in tags.items() if k != "Service"}
    return k8s.helm.v3.Release(
        f"{name}-lbc", name="aws-load-balancer-controller", namespace="kube-system",
        chart="aws-load-balancer-controller", version=lbc.chart_version,
        repository_opts={"repo": LBC_CHART_REPO}, atomic=True, timeout=600,
        values={"clusterName": cluster.name, "region": region, "vpcId": net["vpc_id"], "replicaCount": 2,
                "serviceAccount": {"create": True, "name": "aws-load-balancer-controller"},
                "defaultTags": default_tags},
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[association]))
