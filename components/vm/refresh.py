"""The ``vm`` pattern's rollout as a Pulumi dynamic resource, run by ``pulumi up`` itself: ``InstanceRefresh``
rolls the group to a launch template version with an instance refresh (:mod:`components.vm.refresher` says how)
and fails the ``up`` with the refresh's reason when it does not deploy the version.

The provider holds no state of its own and closes over nothing: every value comes from its inputs, so its
pickled form is a reference to this module, the same on every run. Pulumi stores that reference in the stack's
state: state written before the pattern became a package names ``components.vm_refresh``, an alias of this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from ..blocks import aws_api
from .refresher import MAX_ALARMS, Refresher, RefreshTarget

__all__ = ["InstanceRefresh", "InstanceRefreshProvider", "run_refresh"]

# -- the dynamic provider -------------------------------------------------------------------------
#: Inputs whose change means "roll out again"; preferences, region, credentials and the bound only say how.
ROLLOUT_INPUTS = ("group", "launch_template_id", "version", "mixed_instances_policy")
OUTPUT_KEYS = ("status", "refresh_id")


def _client(props: Mapping[str, Any]) -> Any:
    session = aws_api.session(props, session_name="pulumi-vm-rollout")
    return session.client("autoscaling", config=aws_api.client_config())


def _cloudwatch(props: Mapping[str, Any]) -> Any:
    session = aws_api.session(props, session_name="pulumi-vm-rollout")
    return session.client("cloudwatch", config=aws_api.client_config())


def _elbv2(props: Mapping[str, Any]) -> Any:
    session = aws_api.session(props, session_name="pulumi-vm-rollout")
    return session.client("elbv2", config=aws_api.client_config())


def _target(props: Mapping[str, Any]) -> RefreshTarget:
    return RefreshTarget(group=str(props["group"]), launch_template_id=str(props["launch_template_id"]),
                         version=str(props["version"]),
                         mixed_instances_policy=props.get("mixed_instances_policy") or None,
                         instance_warmup=int(props.get("instance_warmup") or 0),
                         alarms=tuple(sorted(props.get("alarms") or []))[:MAX_ALARMS])


def run_refresh(props: Mapping[str, Any], client: Callable[[Mapping[str, Any]], Any] | None = None, *,
                first: bool = False, **refresher_kwargs: Any) -> dict[str, Any]:
    """Roll out ``props`` (the resource's inputs) and return the outputs to record. ``first``: the rollout
    resource is being created, so a group found already on the version must also be healthy in its load
    balancer (``target_group_arn``, ``min_healthy``), the first deploy's promise."""
    if client is None and props.get("alarms"):
        refresher_kwargs.setdefault("cloudwatch", _cloudwatch(props))
    check = first and props.get("target_group_arn") and int(props.get("min_healthy") or 0) > 0
    if client is None and check:
        refresher_kwargs.setdefault("elbv2", _elbv2(props))
    refresher = Refresher((client or _client)(props), timeout=float(props.get("timeout_seconds") or 900),
                          **refresher_kwargs)
    target = _target(props)
    outcome = refresher.refresh(target)
    if check and outcome["status"] == "current" and refresher.elbv2 is not None:
        refresher.healthy(target, str(props["target_group_arn"]), int(props["min_healthy"]))
    return {**aws_api.public(props), **outcome}


def _same(olds: Mapping[str, Any], news: Mapping[str, Any], key: str) -> bool:
    return (olds.get(key) or None) == (news.get(key) or None)


class InstanceRefreshProvider(pulumi.dynamic.ResourceProvider):
    """Create and update roll out (see :func:`run_refresh`); delete leaves the group as it is."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        keys = (*ROLLOUT_INPUTS, "instance_warmup", "alarms", "region", "profile", "assume_roles", "timeout_seconds")
        changed = [k for k in keys if not _same(olds, news, k)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=str(props["group"]), outs=run_refresh(props, first=True))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        if all(_same(olds, news, k) for k in ROLLOUT_INPUTS):
            # Only how to roll out or how to reach AWS changed: nothing to roll out now.
            return pulumi.dynamic.UpdateResult(
                outs={**aws_api.public(olds), **aws_api.public(news), **{k: olds.get(k) for k in OUTPUT_KEYS}})
        return pulumi.dynamic.UpdateResult(outs=run_refresh(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class InstanceRefresh(pulumi.dynamic.Resource, module="vm", name="InstanceRefresh"):
    """One rollout of a launch template version to an Auto Scaling group, waited for by ``pulumi up``."""

    status: pulumi.Output[str]
    """``current`` (the group already ran the version) or ``succeeded``."""
    refresh_id: pulumi.Output[str]
    """The instance refresh that rolled the version out (empty for ``current``)."""

    def __init__(self, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(InstanceRefreshProvider(), name, {**props, **{k: None for k in OUTPUT_KEYS}}, opts)
