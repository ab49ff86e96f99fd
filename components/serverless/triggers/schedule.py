"""The ``schedule`` trigger: an EventBridge rule invoking the ``live`` alias on a rate or cron expression."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ...blocks.schedule import check_schedule
from ...validation import Problems, is_unknown, join_path
from .base import AsyncTrigger, TriggerContext

__all__ = ["MAX_INPUT_CHARS", "ScheduleTrigger", "ScheduleTriggerArgs", "check_schedule"]

#: EventBridge's limit on a target's constant input.
MAX_INPUT_CHARS = 8192


class ScheduleTriggerArgs(TypedDict):
    """A ``schedule`` trigger."""

    expression: str
    """Required: ``rate(...)`` or ``cron(...)``, as EventBridge accepts them."""
    input: NotRequired[Any]
    """The event the function receives: a mapping or a JSON document, at most 8192 characters. Default:
    EventBridge's scheduled event."""
    enabled: NotRequired[bool]
    """Whether the rule runs. Default: true."""
    retries: NotRequired[int]
    """Retries of a failed invocation, 0-2, shared by the function's asynchronous triggers. Default: 2."""
    max_event_age: NotRequired[int]
    """Seconds an event may wait, 60-21600, shared likewise. Default: 21600."""
    on_failure: NotRequired[str]
    """SQS queue or SNS topic ARN for events that still fail, shared likewise. Default: a new encrypted queue."""


@dataclass(frozen=True)
class ScheduleTrigger(AsyncTrigger):
    kind: ClassVar[str] = "schedule"
    keys: ClassVar[tuple[str, ...]] = tuple(ScheduleTriggerArgs.__annotations__)

    expression: str = ""
    input: Any = None
    enabled: bool = True

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        problems = Problems()
        if problems.require(body, "expression", path, "rate(...) or cron(...)"):
            check_schedule(body.get("expression"), join_path(path, "expression"), problems)
        problems.extend(cls._check_input(body.get("input"), join_path(path, "input")))
        problems.check_bool(body.get("enabled"), join_path(path, "enabled"))
        problems.extend(cls.check_async(body, path))
        return problems

    @staticmethod
    def _check_input(payload: Any, path: str) -> Problems:
        problems = Problems()
        if payload is None or is_unknown(payload):
            return problems
        if isinstance(payload, str):
            try:
                json.loads(payload)
            except ValueError as err:
                problems.add(path, f"must be a mapping or a JSON document, got invalid JSON: {err}")
        elif not isinstance(payload, (Mapping, list)):
            problems.add(path, f"must be a mapping or a JSON document, got {payload!r}")
        elif len(json.dumps(payload)) > MAX_INPUT_CHARS:
            problems.add(path, f"must be at most {MAX_INPUT_CHARS} characters of JSON")
        return problems

    def build(self, ctx: TriggerContext, index: int) -> None:
        label = ctx.label(self.kind)
        expression = self.expression.strip()
        rule = aws.cloudwatch.EventRule(label, schedule_expression=expression,
                                        state="ENABLED" if self.enabled else "DISABLED",
                                        description=f"{ctx.name}: {expression}", tags=ctx.tags, opts=ctx.opts)
        payload = self.input
        if payload is not None and not isinstance(payload, str):
            payload = json.dumps(payload, sort_keys=True)
        permission = aws.lambda_.Permission(f"{label}-invoke", action="lambda:InvokeFunction",
                                            function=ctx.function.name, qualifier=ctx.alias.name,
                                            principal="events.amazonaws.com", source_arn=rule.arn, opts=ctx.opts)
        aws.cloudwatch.EventTarget(
            f"{label}-target", rule=rule.name, arn=ctx.alias.arn, input=payload,
            opts=pulumi.ResourceOptions.merge(ctx.opts, pulumi.ResourceOptions(depends_on=[permission])))
        self.add_async(ctx)
