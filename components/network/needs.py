"""What the services of a catalog need from the stack's network: two AZs for every ALB, and with ``nat: none``
an interface endpoint for every AWS service they reach. Reads the raw (validated) specs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..blocks.service import CoreSpec
from ..profiles import Profile
from ..validation import Problems, join_path
from .args import profile_value

__all__ = ["service_endpoint_needs", "validate_network_needs"]

#: Patterns whose exposed services sit behind an ALB (of their own, shared, or the EKS ingress controller's).
_ALB_PATTERNS = ("vm", "ecs", "eks")
#: The endpoints an Image Builder build instance uses: SSM Agent (commands) and Image Builder, logs to CloudWatch.
_BAKE_ENDPOINTS = {"ssm", "ssmmessages", "ec2messages", "imagebuilder", "logs"}
#: EKS nodes without NAT: EC2 (the VPC CNI), ECR (images), STS and EKS Auth (IRSA and Pod Identity credentials).
_EKS_NODE_ENDPOINTS = {"ec2", "ecr.api", "ecr.dkr", "sts", "eks-auth"}
#: ECS container instances (``capacity: ec2``): the agent's endpoints, all three required (else it goes public).
_ECS_AGENT_ENDPOINTS = {"ecs", "ecs-agent", "ecs-telemetry"}
_LBC_IMAGE = "public.ecr.aws/eks/aws-load-balancer-controller"
#: Where the EKS pattern's cluster autoscaler image comes from (components/eks/addons.py CLUSTER_AUTOSCALER_IMAGE).
_CLUSTER_AUTOSCALER_REGISTRY = "registry.k8s.io"
_ECR_PRIVATE = r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"


def _expose(pattern: str, spec: Mapping[str, Any]) -> Any:
    """The exposure a service spec asks for: as given; else ``none`` for ECS queue workers and scheduled tasks,
    else the core spec's default."""
    given = spec.get("expose")
    if given is not None:
        return given
    if pattern == "ecs" and (spec.get("schedule") is not None or spec.get("queue") is not None):
        return "none"
    return CoreSpec.expose


def _exposed(pattern: str, spec: Mapping[str, Any]) -> bool:
    return _expose(pattern, spec) != "none"


def _uses_alb(pattern: str, spec: Mapping[str, Any]) -> bool:
    lb = spec.get("load_balancer") if isinstance(spec.get("load_balancer"), Mapping) else {}
    return pattern in _ALB_PATTERNS and _exposed(pattern, spec) and lb.get("type", "alb") == "alb"


def _secret_endpoints(spec: Mapping[str, Any]) -> set[str]:
    secrets = spec.get("secrets") if isinstance(spec.get("secrets"), Mapping) else {}
    out = set()
    for arn in secrets.values():
        if isinstance(arn, str):
            out |= {"ssm"} if ":ssm:" in arn else ({"secretsmanager"} if ":secretsmanager:" in arn else set())
    return out


def _image_needs(spec: Mapping[str, Any], path: str, problems: Problems) -> set[str]:
    """ECR endpoints for an image built here or pulled from private ECR; any other registry is unreachable."""
    image = spec.get("image") if isinstance(spec.get("image"), Mapping) else None
    if image is None:
        return set()
    ref = image.get("ref")
    if "context" in image or (isinstance(ref, str) and re.match(_ECR_PRIVATE, ref)):
        return {"ecr.api", "ecr.dkr"}
    if isinstance(ref, str):
        problems.add(join_path(path, "image", "ref"),
                     f"is pulled from outside this account's ECR ({ref.split('/')[0]}), which private subnets "
                     "cannot reach with network.nat 'none': copy the image to ECR or choose a NAT strategy")
    return set()


def service_endpoint_needs(pattern: str, spec: Mapping[str, Any], path: str, problems: Problems) -> dict[str, set[str]]:
    """What one service reaches in AWS from the private subnets, as ``{reason: endpoints}``."""
    needs: dict[str, set[str]] = {}
    secrets = _secret_endpoints(spec)
    if pattern == "vm":
        ami = spec.get("ami") if isinstance(spec.get("ami"), Mapping) else {}
        if ami.get("bake") is not None:
            needs["the Image Builder bake"] = set(_BAKE_ENDPOINTS)
    elif pattern == "ecs":
        needs["ECR image pulls"] = _image_needs(spec, path, problems)
        needs["container logs"] = {"logs"}
        if spec.get("capacity") == "ec2":
            # The ECS agent on container instances registers and polls through these three.
            needs["the ECS agent on the cluster's EC2 instances"] = set(_ECS_AGENT_ENDPOINTS)
        if spec.get("enable_exec") is True:
            needs["ECS Exec"] = {"ssmmessages"}
        if spec.get("queue") is not None:
            needs["its queue"] = {"sqs"}
    elif pattern == "eks":
        needs["EKS nodes"] = set(_EKS_NODE_ENDPOINTS)
        needs["ECR image pulls"] = _image_needs(spec, path, problems)
        if _exposed(pattern, spec):
            needs["the load balancer controller"] = {"elasticloadbalancing"}
            # The eks-charts chart's default image, which the cluster does not override.
            problems.add(join_path(path, "expose"),
                         f"needs the AWS Load Balancer Controller, whose image is pulled from {_LBC_IMAGE}, which "
                         "private subnets cannot reach with network.nat 'none' (public ECR has no VPC endpoint): "
                         "choose a NAT strategy, or expose 'none'")
    elif pattern == "lambda" and not spec.get("vpc"):
        return {}
    if pattern in ("vm", "ecs", "eks", "lambda"):
        needs["its secrets"] = secrets
    if pattern in ("eks", "lambda"):
        needs["its access"] = _access_needs(spec, path, problems)
    return {reason: found for reason, found in needs.items() if found}


def _access_needs(spec: Mapping[str, Any], path: str, problems: Problems) -> set[str]:
    """``access`` from private subnets without NAT: buckets through the S3 gateway endpoint, queues through
    an ``sqs`` endpoint; tables and streams have no endpoint here, so they are reported as unreachable."""
    access = spec.get("access") if isinstance(spec.get("access"), Mapping) else {}
    for kind, service in (("tables", "DynamoDB"), ("streams", "Kinesis")):
        if access.get(kind):
            problems.add(join_path(path, "access", kind),
                         f"reaches {service}, which private subnets cannot reach with network.nat 'none' (no "
                         "endpoint for it is created): choose a NAT strategy")
    return {"sqs"} if access.get("queues") else set()


def validate_network_needs(network: Mapping[str, Any], profile: Profile,
                           specs: Mapping[str, Mapping[str, Mapping[str, Any]]], path: str = "network", *,
                           eks: Mapping[str, Any] | None = None) -> Problems:
    """What the catalog's services (``{pattern: {name: spec}}``) need from the stack's network: two AZs
    for every ALB, and with ``nat: none`` an interface endpoint for every AWS service they reach (``eks``:
    the stack's ``eks`` settings, whose cluster autoscaler runs in the private subnets too)."""
    problems = Problems()
    if not isinstance(network, Mapping):
        return problems
    services = sorted((name, pattern, spec) for pattern, named in specs.items() for name, spec in named.items()
                      if isinstance(spec, Mapping))
    if network.get("vpc_id") is not None:
        for name, pattern, spec in services:
            if not _uses_alb(pattern, spec):
                continue
            key = "public_subnet_ids" if spec.get("expose") == "public" else "private_subnet_ids"
            ids = network.get(key)
            if isinstance(ids, (list, tuple)) and len(ids) < 2:
                problems.add(join_path(path, key),
                             f"lists {len(ids)} subnet but services.{name} (expose {_expose(pattern, spec)!r}) "
                             "has an Application Load Balancer, which needs subnets in at least two Availability Zones")
        return problems

    count = profile_value(network, "availability_zones", profile)
    if isinstance(count, int) and count < 2:
        for name, pattern, spec in services:
            if _uses_alb(pattern, spec):
                given = "" if network.get("availability_zones") is not None else f" (the {profile.name} profile's)"
                problems.add(join_path(path, "availability_zones"),
                             f"is {count}{given} but services.{name}.expose is "
                             f"{_expose(pattern, spec)!r}: its Application Load Balancer needs subnets in at "
                             "least two Availability Zones; set network.availability_zones to 2 or more, or "
                             f"services.{name}.expose to 'none'")

    if profile_value(network, "nat", profile) != "none":
        return problems
    endpoints = network.get("endpoints") if isinstance(network.get("endpoints"), (list, tuple)) else []
    have = set(map(str, endpoints))
    for name, pattern, spec in services:
        spath = join_path("services", name)
        for reason, needed in service_endpoint_needs(pattern, spec, spath, problems).items():
            missing = sorted(needed - have)
            if missing:
                problems.add(join_path(path, "endpoints"),
                             f"lacks {', '.join(missing)}, needed by {spath} ({reason}) because network.nat is "
                             "'none': add them to network.endpoints, or choose nat 'single' or 'per_az'")
    autoscaler = (eks or {}).get("cluster_autoscaler") if isinstance(eks, Mapping) else None
    autoscaler = autoscaler if isinstance(autoscaler, Mapping) else {}
    if specs.get("eks") and autoscaler.get("enabled") is not False:
        # The EKS cluster installs it by default (a Helm release, atomic): without this check the up waits for
        # its pods for ten minutes and fails on the image pull.
        problems.add("eks.cluster_autoscaler",
                     f"is enabled (the default), and its image is pulled from {_CLUSTER_AUTOSCALER_REGISTRY}, which "
                     "private subnets cannot reach with network.nat 'none' (no VPC endpoint reaches it), and it calls "
                     "the Auto Scaling API (the 'autoscaling' endpoint): choose a NAT strategy, or set "
                     "eks.cluster_autoscaler.enabled to false (node groups then keep their size)")
    return problems
