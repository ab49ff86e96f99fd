"""The IAM trust policies that bind a role to one ServiceAccount of one cluster: EKS Pod Identity (the
default) or IRSA (the cluster's OIDC provider)."""

from __future__ import annotations

import json

import pulumi

__all__ = ["POD_IDENTITY_PRINCIPAL", "trust_policy_irsa", "trust_policy_pod_identity"]

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


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


def trust_policy_irsa(provider_arn: str, issuer: str, namespace: str, account: str) -> str:
    host = issuer.removeprefix("https://")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{namespace}:{account}",
                                       f"{host}:aud": "sts.amazonaws.com"}}}]}, sort_keys=True)

