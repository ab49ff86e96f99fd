"""A function's triggers: one module per kind, each holding that kind's args, validation and builder (one
:class:`~.base.Trigger` class, like an ``aws-lambda-event-sources`` event source), and here what concerns
a function's whole list: the kinds by key, the rules across triggers, and building them all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from ...blocks.access import normalize_bucket
from ...validation import Problems, join_path
from ...blocks.http_routes import parse_route
from .base import AsyncInvoke, AsyncTrigger, Trigger, TriggerContext
from .dynamodb import DynamodbTrigger
from .http import HttpTrigger, api_name
from .kinesis import KinesisTrigger
from .s3 import S3Trigger, build_notifications, s3_filters_overlap
from .schedule import ScheduleTrigger
from .sqs import SqsTrigger
from .url import UrlTrigger

__all__ = ["KINDS", "TRIGGER_KINDS", "Trigger", "TriggerContext", "attach_deferred", "build_triggers",
           "resolve_triggers", "validate_triggers"]

#: Each trigger kind by its key in the stack file.
KINDS: dict[str, type[Trigger]] = {
    "http": HttpTrigger, "url": UrlTrigger, "s3": S3Trigger, "kinesis": KinesisTrigger, "dynamodb": DynamodbTrigger,
    "sqs": SqsTrigger, "schedule": ScheduleTrigger,
}
TRIGGER_KINDS = tuple(KINDS)


def validate_triggers(name: str, triggers: Any, path: str, timeout: Any) -> Problems:
    """Every problem of a function's ``triggers`` (raw), each entry by its kind, then the rules across them:
    one ``http`` and one ``url`` trigger at most, no route twice, no overlapping S3 notifications on one
    bucket, and asynchronous triggers that agree on the function's one async configuration."""
    problems = Problems()
    if not problems.check_list(triggers, path) or not isinstance(triggers, (list, tuple)):
        return problems
    routes: dict[tuple[str, str], str] = {}
    s3_seen: list[tuple[str, Mapping[str, Any], str]] = []
    async_seen: dict[str, tuple[Any, str]] = {}
    singles: dict[str, str] = {}
    for i, trig in enumerate(triggers):
        tp = join_path(path, i)
        if not isinstance(trig, Mapping) or len(trig) != 1:
            got = ", ".join(map(str, trig)) if isinstance(trig, Mapping) else repr(trig)
            problems.add(tp, f"each trigger has exactly one key, one of {', '.join(TRIGGER_KINDS)} (given: {got or 'none'})")
            continue
        kind, body = next(iter(trig.items()))
        cls = KINDS.get(kind)
        if cls is None:
            problems.check_enum(kind, tp, TRIGGER_KINDS)
            continue
        kp = join_path(tp, kind)
        body = {} if body is None else body
        if not problems.check_mapping(body, kp) or not isinstance(body, Mapping):
            continue
        problems.check_known_keys(body, cls.keys, kp)
        if cls.single is not None:
            if kind in singles:
                problems.add(tp, f"a function has at most one {kind} trigger ({singles[kind]} is the first): "
                                 f"{cls.single}")
            singles.setdefault(kind, tp)
        problems.extend(cls.check(body, kp, timeout))
        if cls is HttpTrigger:
            problems.extend(_claim_routes(body, kp, api_name(body, name), routes))
        if cls is S3Trigger:
            problems.extend(_s3_overlaps(body, kp, s3_seen))
        if issubclass(cls, AsyncTrigger):
            problems.extend(_async_agreement(body, kp, async_seen))
    return problems


def _claim_routes(body: Mapping[str, Any], path: str, api: str, routes: dict[tuple[str, str], str]) -> Problems:
    problems = Problems()
    for j, route in enumerate(body.get("routes") or []):
        if isinstance(route, str) and parse_route(route):
            key = (api, route)
            if key in routes:
                problems.add(join_path(path, "routes", j), f"route {route!r} on API {api!r} is already claimed by "
                                                           f"{routes[key]}")
            routes[key] = join_path(path, "routes", j)
    return problems


def _s3_overlaps(body: Mapping[str, Any], path: str, seen: list[tuple[str, Mapping[str, Any], str]]) -> Problems:
    problems = Problems()
    bucket = normalize_bucket(str(body["bucket"])) if isinstance(body.get("bucket"), str) else "(created)"
    for other_bucket, other, other_path in seen:
        if other_bucket == bucket and s3_filters_overlap(body, other):
            problems.add(path, f"events, prefix and suffix overlap {other_path} on bucket {bucket}; "
                               "S3 rejects overlapping notifications for the same event")
    seen.append((bucket, body, path))
    return problems


def _async_agreement(body: Mapping[str, Any], path: str, seen: dict[str, tuple[Any, str]]) -> Problems:
    """One async invoke configuration per alias: every asynchronous trigger must agree."""
    problems = Problems()
    for key in AsyncTrigger.ASYNC_KEYS:
        if body.get(key) is None:
            continue
        if key in seen and seen[key][0] != body[key]:
            problems.add(join_path(path, key), f"async invoke settings apply to the whole function: "
                                               f"{body[key]!r} conflicts with {seen[key][0]!r} at {seen[key][1]}")
        seen.setdefault(key, (body[key], join_path(path, key)))
    return problems


def resolve_triggers(triggers: Sequence[Mapping[str, Any]] | None) -> tuple[Trigger, ...]:
    """The settings of validated ``triggers``, in order: one :class:`Trigger` of its kind each."""
    return tuple(KINDS[kind].resolve(body) for trig in triggers or () for kind, body in trig.items())


def build_triggers(ctx: TriggerContext, triggers: Sequence[Trigger]) -> None:
    """Build every trigger, then what they share: the S3 notifications and the async invoke configuration."""
    for index, trigger in enumerate(triggers):
        trigger.build(ctx, index)
    build_notifications(ctx)
    if ctx.async_used:
        settings = AsyncInvoke(**ctx.async_settings)
        destination = ctx.on_failure_arn(settings.on_failure, f"{ctx.name}-async")
        ctx.deferred.append(lambda opts: aws.lambda_.FunctionEventInvokeConfig(
            f"{ctx.name}-async", function_name=ctx.function.name, qualifier=ctx.alias.name,
            maximum_retry_attempts=settings.retries, maximum_event_age_in_seconds=settings.max_event_age,
            destination_config={"on_failure": {"destination": destination}}, opts=opts))


def attach_deferred(ctx: TriggerContext, policy: pulumi.Resource | None) -> None:
    """Create what Lambda checks the role's permissions for (event source mappings, async destinations)
    once the role's policy exists; AWS rejects them before."""
    opts = pulumi.ResourceOptions.merge(ctx.opts, pulumi.ResourceOptions(depends_on=[policy] if policy else []))
    for create in ctx.deferred:
        create(opts)
    ctx.deferred.clear()
