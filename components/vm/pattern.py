"""The ``vm`` pattern's registration: how the catalog validates and builds a ``vm`` service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from ..blocks.load_balancer import prepare_shared_load_balancers, shared_load_balancer
from ..patterns import BuildContext, Pattern, ValidationContext
from ..validation import Problems
from .component import VmService
from .validate import validate_vm

__all__ = ["PATTERN"]


def validate(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_vm(name, spec, path, project_dir=vctx.project_dir, profile=vctx.profile)


def prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    prepare_shared_load_balancers(specs, ctx)


def build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> VmService:
    service = VmService(name, dict(spec), pulumi.ResourceOptions(parent=ctx.parent), network=ctx.network,
                        profile=ctx.profile, project_dir=ctx.project_dir,
                        shared_load_balancer=shared_load_balancer(spec, ctx))
    ctx.outputs[name] = {"url": service.url, "asg_name": service.asg_name, "ami_id": service.ami_id,
                         "launch_template_version": service.launch_template_version}
    return service


PATTERN = Pattern(
    name="vm",
    validate=validate,
    build=build,
    prepare=prepare,
    local_skip_reason="VM services run on EC2 (an AMI and an Auto Scaling Group); the local profile "
                      "runs only Docker-host patterns",
)
