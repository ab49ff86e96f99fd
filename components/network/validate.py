"""The validation of :class:`~components.network.NetworkArgs`, on the raw args: every problem at once."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from ..blocks.service import validate_tags
from ..profiles import LOG_RETENTION_DAYS
from ..validation import Problems, is_unknown, join_path
from .args import BYO_LB_KEYS, ENDPOINT_SERVICES, MAX_AZS, MAX_VPC_PREFIX, NAT_STRATEGIES, NETWORK_KEYS

__all__ = ["validate_network"]


def validate_network(args: Mapping[str, Any], path: str = "network") -> Problems:
    """Every problem in ``args`` of :class:`Network`."""
    problems = Problems()
    if not problems.check_mapping(args, path) or not isinstance(args, Mapping):
        return problems
    problems.check_known_keys(args, NETWORK_KEYS, path)
    if args.get("vpc_id") is not None:
        if args.get("private_subnet_ids") is None:
            problems.add(join_path(path, "private_subnet_ids"), "is required with vpc_id (the subnets services run in)")
        for key in ("cidr", "availability_zones", "nat", "isolated_subnets", "flow_logs", "endpoints"):
            if args.get(key) is not None:
                problems.add(join_path(path, key), "cannot be set with vpc_id: the existing VPC is used as it is")
        for ids, cidrs in BYO_LB_KEYS:
            if args.get(cidrs) is not None and args.get(ids) is None:
                problems.add(join_path(path, cidrs), f"needs {ids} (the subnets these CIDRs belong to)")
            if ids == "load_balancer_subnet_ids" and args.get(ids) is not None and args.get(cidrs) is None:
                problems.add(join_path(path, cidrs), f"is required with {ids} (NetworkPolicies admit these CIDRs)")
            listed = args.get(cidrs)
            if problems.check_list(listed, join_path(path, cidrs)) and isinstance(listed, (list, tuple)):
                for i, value in enumerate(listed):
                    _check_subnet_cidr(value, join_path(path, cidrs, i), problems)
    else:
        for key in ("public_subnet_ids", "private_subnet_ids", "isolated_subnet_ids", "vpc_cidr",
                    "public_subnet_cidrs", "load_balancer_subnet_ids", "load_balancer_subnet_cidrs"):
            if args.get(key) is not None:
                problems.add(join_path(path, key), "is only used with vpc_id (bring your own VPC)")
    cidr = args.get("cidr")
    if cidr is not None and not is_unknown(cidr):
        try:
            net = ipaddress.ip_network(cidr)
            if net.version != 4 or not 16 <= net.prefixlen <= MAX_VPC_PREFIX:
                problems.add(join_path(path, "cidr"),
                             f"must be an IPv4 CIDR with a prefix from /16 to /{MAX_VPC_PREFIX}, got {cidr!r}: "
                             f"public subnets are 1/64 of the VPC, and AWS recommends at least /27 for load "
                             f"balancer subnets (a /{net.prefixlen} VPC would give /{net.prefixlen + 6})")
            elif not net.is_private:
                problems.add(join_path(path, "cidr"), f"must be a private range (RFC 1918), got {cidr!r}")
        except ValueError:
            problems.add(join_path(path, "cidr"), f"must be an IPv4 network such as 10.20.0.0/16, got {cidr!r}")
    problems.check_int(args.get("availability_zones"), join_path(path, "availability_zones"), 1, MAX_AZS)
    names = args.get("availability_zone_names")
    if problems.check_list(names, join_path(path, "availability_zone_names")) and isinstance(names, (list, tuple)):
        count = args.get("availability_zones")
        if isinstance(count, int) and len(names) < count:
            problems.add(join_path(path, "availability_zone_names"),
                         f"lists {len(names)} zones but availability_zones is {count}")
    problems.check_enum(args.get("nat"), join_path(path, "nat"), NAT_STRATEGIES)
    problems.check_bool(args.get("isolated_subnets"), join_path(path, "isolated_subnets"))
    problems.check_bool(args.get("flow_logs"), join_path(path, "flow_logs"))
    problems.check_enum(args.get("log_retention_days"), join_path(path, "log_retention_days"), LOG_RETENTION_DAYS)
    validate_tags(args.get("tags"), join_path(path, "tags"), problems)
    endpoints, epath = args.get("endpoints"), join_path(path, "endpoints")
    if problems.check_list(endpoints, epath) and isinstance(endpoints, (list, tuple)):
        for i, service in enumerate(endpoints):
            problems.check_enum(service, join_path(epath, i), ENDPOINT_SERVICES)
        if len(set(map(str, endpoints))) != len(endpoints):
            problems.add(epath, "lists a service twice")
    return problems


def _check_subnet_cidr(value: Any, path: str, problems: Problems) -> None:
    if is_unknown(value):
        return
    try:
        net = ipaddress.ip_network(value) if isinstance(value, str) else None
    except ValueError:
        net = None
    if net is None or net.version != 4:
        problems.add(path, f"must be an IPv4 subnet CIDR such as '10.0.192.0/24', got {value!r}")
    elif net.prefixlen > 27:
        # AWS: a load balancer's subnet needs at least a /27 (and 8 free addresses).
        problems.add(path, f"must be at least a /27 to hold load balancers, got {value!r}")
