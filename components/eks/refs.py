"""What the ``eks`` components are given besides their args, as plain mappings: the network (a
:class:`~components.Network` or a dict) and the cluster (an :class:`EksCluster` or a dict)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LB_SUBNET_KEYS", "cluster_ref", "load_balancer_subnets", "network_ref"]

#: Where the load balancer of each exposure lives, as a Network names the subnet ids and CIDRs.
LB_SUBNET_KEYS = {"public": ("public_subnet_ids", "public_subnet_cidrs"),
                  "internal": ("load_balancer_subnet_ids", "load_balancer_subnet_cidrs")}


def network_ref(network: Any) -> dict[str, Any]:
    """The network an :class:`EksCluster` is given, as a mapping (load balancer subnets only for the tiers it has)."""
    if network is None:
        raise ValueError("EksCluster needs network= (a Network or a dict with vpc_id, vpc_cidr, private_subnet_ids)")
    if isinstance(network, Mapping):
        return dict(network)
    ref = {"vpc_id": network.vpc_id, "vpc_cidr": network.vpc_cidr, "private_subnet_ids": network.private_subnet_ids}
    for tier in getattr(network, "load_balancer_tiers", ()):
        ref.update({key: getattr(network, key) for key in LB_SUBNET_KEYS[tier]})
    return ref


def cluster_ref(cluster: Any) -> dict[str, Any]:
    """The cluster a :class:`KubernetesService` is given, as a mapping (empty without one)."""
    if cluster is None:
        return {}
    if isinstance(cluster, Mapping):
        return dict(cluster)
    return {"cluster_name": cluster.cluster_name, "oidc_provider_arn": getattr(cluster, "oidc_provider_arn", None),
            "oidc_issuer": getattr(cluster, "oidc_issuer", None), "provider": getattr(cluster, "provider", None),
            "load_balancer_subnets": getattr(cluster, "load_balancer_subnets", None)}


def load_balancer_subnets(network: Any, ref: Mapping[str, Any], expose: str) -> tuple[Any, Any]:
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

