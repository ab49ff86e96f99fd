"""What every trigger kind shares: the contract of a kind (:class:`Trigger`), what the function gives its
triggers while they build (:class:`TriggerContext`), and the checks and settings two kinds or more use
(failure destinations, event filters, asynchronous invocation)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import pulumi
import pulumi_aws as aws

from ...blocks.access import Account
from ...blocks.iam import statement
from ...profiles import Profile
from ...validation import Problems, join_path
from ..http_api import HttpApi
from ..notifications import S3Notifications

__all__ = ["AsyncInvoke", "AsyncTrigger", "FAILURE_QUEUE_RETENTION", "MAX_FILTERS", "Trigger", "TriggerContext",
           "check_filters", "check_on_failure", "event_filter_criteria", "sid"]

FAILURE_QUEUE_RETENTION = 1209600  # 14 days, the SQS maximum: time to inspect and replay failures
MAX_FILTERS = 10


@dataclass(frozen=True)
class Trigger:
    """One event source of a function, like an ``aws-lambda-event-sources`` class: its settings are the
    dataclass fields (which carry the defaults), ``check`` validates the raw stack-file entry and ``build``
    creates the source, its invoke permission and the grants it needs, bound to the function's alias."""

    kind: ClassVar[str]
    """The trigger's key in the stack file (``kinesis``)."""
    keys: ClassVar[tuple[str, ...]]
    """The keys its entry may have (those of its args ``TypedDict``)."""
    single: ClassVar[str | None] = None
    """Why a function has at most one trigger of this kind (None: any number)."""

    @classmethod
    def resolve(cls, body: Mapping[str, Any] | None) -> Self:
        """The settings of a validated entry; keys set to null take the default."""
        return cls(**{k: v for k, v in (body or {}).items() if v is not None})

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        """Every problem of one entry (a mapping, possibly holding unknown values), with paths under ``path``;
        ``timeout`` is the function's (None when it is itself invalid)."""
        raise NotImplementedError

    def build(self, ctx: TriggerContext, index: int) -> None:
        """Create this trigger for ``ctx``'s function; ``index`` is its position in ``triggers``."""
        raise NotImplementedError


@dataclass(frozen=True)
class AsyncInvoke:
    """How Lambda retries an asynchronous invocation and where it sends the events that still fail. Lambda
    keeps one such configuration per alias, so every asynchronous trigger of a function shares it."""

    retries: int = 2
    """Retries of a failed invocation, 0-2."""
    max_event_age: int = 21600
    """Seconds an event may wait for a (re)try, 60-21600."""
    on_failure: str | None = None
    """Where failed events go (an SQS queue or SNS topic ARN); None: a new encrypted queue."""


@dataclass(frozen=True)
class AsyncTrigger(Trigger):
    """A trigger whose service invokes the function asynchronously (``s3``, ``schedule``). Its ``retries``,
    ``max_event_age`` and ``on_failure`` set the function's one :class:`AsyncInvoke` (None: its default);
    validation requires that the asynchronous triggers of a function agree on them."""

    ASYNC_KEYS: ClassVar[tuple[str, ...]] = ("retries", "max_event_age", "on_failure")

    retries: int | None = None
    max_event_age: int | None = None
    on_failure: str | None = None

    @staticmethod
    def check_async(body: Mapping[str, Any], path: str) -> Problems:
        problems = Problems()
        problems.check_int(body.get("retries"), join_path(path, "retries"), 0, 2)
        problems.check_int(body.get("max_event_age"), join_path(path, "max_event_age"), 60, 21600, "seconds")
        problems.extend(check_on_failure(body.get("on_failure"), join_path(path, "on_failure")))
        return problems

    def add_async(self, ctx: TriggerContext) -> None:
        """Give the function's asynchronous invoke configuration the settings this trigger sets."""
        given = {"retries": self.retries, "max_event_age": self.max_event_age, "on_failure": self.on_failure}
        ctx.async_settings.update({k: v for k, v in given.items() if v is not None})
        ctx.async_used = True


@dataclass
class TriggerContext:
    """What the function gives its triggers, and what they give back."""

    name: str
    profile: Profile
    tags: dict[str, str]
    timeout: int
    function: aws.lambda_.Function
    alias: aws.lambda_.Alias
    opts: pulumi.ResourceOptions
    account: Account
    protect_opts: pulumi.ResourceOptions
    http_api: HttpApi | None = None
    make_http_api: Callable[[Mapping[str, Any]], HttpApi] | None = None
    s3_notifications: S3Notifications | None = None
    statements: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list)
    queues_to_watch: list[tuple[str, aws.sqs.Queue]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    async_settings: dict[str, Any] = field(default_factory=dict)
    """The asynchronous triggers' explicit ``retries``, ``max_event_age`` and ``on_failure``."""
    async_used: bool = False
    created_bucket: aws.s3.Bucket | None = None
    """The bucket ``s3`` triggers without ``bucket`` share (``<name>-bucket``), once one created it."""
    created_bucket_ready: list[pulumi.Resource] = field(default_factory=list)
    created_bucket_configs: list[tuple[dict[str, Any], pulumi.Resource]] = field(default_factory=list)
    own_notifications: S3Notifications | None = None
    """Notifications of existing buckets the function writes itself (without a stack-wide collector)."""
    deferred: list[Callable[[pulumi.ResourceOptions], pulumi.Resource]] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)

    def label(self, kind: str) -> str:
        """``orders-kinesis`` for the first trigger of a kind, ``orders-kinesis-2`` for the second: adding
        a trigger of another kind never renames existing resources."""
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        return f"{self.name}-{kind}" if n == 1 else f"{self.name}-{kind}-{n}"

    def failure_queue(self, label: str, fifo: bool = False) -> aws.sqs.Queue:
        queue = aws.sqs.Queue(f"{label}-failures", sqs_managed_sse_enabled=True, fifo_queue=fifo or None,
                              message_retention_seconds=FAILURE_QUEUE_RETENTION, tags=self.tags,
                              opts=self.protect_opts)
        self.queues_to_watch.append((f"{label}-failures", queue))
        return queue

    def on_failure_arn(self, given: str | None, label: str) -> pulumi.Input[str]:
        """The given on-failure destination, or a new encrypted queue; the role may send to it."""
        arn = given if given is not None else self.failure_queue(label).arn
        action = "sns:Publish" if isinstance(given, str) and ":sns:" in given else "sqs:SendMessage"
        self.statements.append(statement([action], [arn], sid=sid(label, "OnFailure")))
        return arn


def sid(label: str, suffix: str) -> str:
    """An IAM statement id from a resource label: ``orders-kinesis`` + ``Read`` -> ``OrdersKinesisRead``."""
    return "".join(part.capitalize() for part in label.replace("_", "-").split("-")) + suffix


def check_filters(filters: Any, path: str) -> Problems:
    """Event filter patterns of an event source mapping (``kinesis``, ``dynamodb``, ``sqs``)."""
    problems = Problems()
    if not problems.check_list(filters, path) or not isinstance(filters, (list, tuple)):
        return problems
    if len(filters) > MAX_FILTERS:
        problems.add(path, f"at most {MAX_FILTERS} filters per event source, got {len(filters)}")
    for i, flt in enumerate(filters):
        fp = join_path(path, i)
        if isinstance(flt, str):
            try:
                flt = json.loads(flt)
            except ValueError as err:
                problems.add(fp, f"must be an event filter pattern (a mapping or its JSON), got invalid JSON: {err}")
                continue
        if not isinstance(flt, Mapping) or not flt:
            problems.add(fp, f"must be a non-empty event filter pattern (a mapping), got {flt!r}")
    return problems


def event_filter_criteria(filters: Any) -> dict[str, Any] | None:
    """``filter_criteria`` of an event source mapping from validated filters (mappings or their JSON)."""
    patterns = [json.loads(f) if isinstance(f, str) else f for f in filters or []]
    return {"filters": [{"pattern": json.dumps(f, sort_keys=True)} for f in patterns]} if patterns else None


def check_on_failure(value: Any, path: str) -> Problems:
    """An on-failure destination: a standard SQS queue or SNS topic ARN."""
    problems = Problems()
    if problems.check_str(value, path, r"arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:\d{12}:[\w.-]+",
                          "the ARN of an SQS queue or SNS topic") and isinstance(value, str) and value.endswith(".fifo"):
        # Lambda accepts the setting but cannot deliver to FIFO destinations: the records would be lost.
        problems.add(path, f"must be a standard SQS queue or SNS topic; Lambda cannot send failure records to a "
                           f"FIFO one, got {value!r}")
    return problems
