"""The ``url`` trigger: a function URL on the ``live`` alias, IAM-authenticated unless made public on purpose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NotRequired, TypedDict

import pulumi_aws as aws

from ...validation import Problems, join_path
from ...blocks.http_routes import cors_configuration, validate_cors
from .base import Trigger, TriggerContext

__all__ = ["UrlTrigger", "UrlTriggerArgs"]


class UrlTriggerArgs(TypedDict):
    """A ``url`` trigger (at most one per function: the alias has one URL)."""

    auth: NotRequired[str]
    """``AWS_IAM`` | ``NONE`` (anyone on the internet, with ``public: true``). Default: ``AWS_IAM``."""
    public: NotRequired[bool]
    """Confirms ``auth: NONE``; the function is tagged as deliberately public. Default: false."""
    cors: NotRequired[Mapping[str, Any]]
    """CORS of the URL, the keys of :class:`~components.serverless.http_api.HttpApiArgs` ``cors``.
    Default: none."""
    invoke_mode: NotRequired[str]
    """``BUFFERED`` | ``RESPONSE_STREAM``. Default: ``BUFFERED``."""


@dataclass(frozen=True)
class UrlTrigger(Trigger):
    kind: ClassVar[str] = "url"
    keys: ClassVar[tuple[str, ...]] = tuple(UrlTriggerArgs.__annotations__)
    single: ClassVar[str | None] = "the live alias has one function URL"

    auth: str = "AWS_IAM"
    public: bool = False
    cors: Mapping[str, Any] | None = None
    invoke_mode: str = "BUFFERED"

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        problems = Problems()
        problems.check_enum(body.get("auth"), join_path(path, "auth"), ("AWS_IAM", "NONE"))
        problems.check_bool(body.get("public"), join_path(path, "public"))
        problems.check_enum(body.get("invoke_mode"), join_path(path, "invoke_mode"), ("BUFFERED", "RESPONSE_STREAM"))
        if body.get("auth") == "NONE" and body.get("public") is not True:
            problems.add(join_path(path, "auth"), "NONE makes the URL callable by anyone on the internet; "
                                                  "set public: true to confirm, or keep AWS_IAM")
        if body.get("public") is True and body.get("auth") != "NONE":
            problems.add(join_path(path, "public"), "public: true needs auth: NONE")
        problems.extend(validate_cors(body.get("cors"), join_path(path, "cors")))
        return problems

    def build(self, ctx: TriggerContext, index: int) -> None:
        label = ctx.label(self.kind)
        url = aws.lambda_.FunctionUrl(label, function_name=ctx.function.name, qualifier=ctx.alias.name,
                                      authorization_type=self.auth, invoke_mode=self.invoke_mode,
                                      cors=cors_configuration(self.cors), opts=ctx.opts)
        if self.auth == "NONE":
            # Public URLs need both grants since October 2025; each is scoped to calls through the URL.
            aws.lambda_.Permission(f"{label}-public", action="lambda:InvokeFunctionUrl", function=ctx.function.name,
                                   qualifier=ctx.alias.name, principal="*", function_url_auth_type="NONE",
                                   opts=ctx.opts)
            aws.lambda_.Permission(f"{label}-public-invoke", action="lambda:InvokeFunction",
                                   function=ctx.function.name, qualifier=ctx.alias.name, principal="*",
                                   invoked_via_function_url=True, opts=ctx.opts)
        ctx.outputs["function_url"] = url.function_url
