"""The ``http`` trigger: routes of an API Gateway HTTP API (the function's own, or one shared by several
services through ``api``), optionally behind a JWT authorizer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NotRequired, TypedDict

from ...validation import Problems, is_unknown, join_path
from ...blocks.http_routes import HTTP_METHODS, parse_route, validate_cors, validate_throttle
from .base import Trigger, TriggerContext

__all__ = ["API_NAME_PATTERN", "HTTP_TIMEOUT_LIMIT", "HttpTrigger", "HttpTriggerArgs", "api_name"]

#: API Gateway HTTP API integrations time out at 30 seconds.
HTTP_TIMEOUT_LIMIT = 30
API_NAME_PATTERN = r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?"
MAX_AUDIENCES = 50
MAX_SCOPES_PER_ROUTE = 10


class HttpTriggerArgs(TypedDict):
    """An ``http`` trigger (at most one per function: it lists every route)."""

    api: NotRequired[str]
    """The HTTP API, by name, shared by every service that names it. Default: the function's name (its own API)."""
    routes: Sequence[str]
    """Required: ``METHOD /path`` route keys (``{param}``, a final ``{proxy+}``) or ``$default``."""
    authorizer: NotRequired[Mapping[str, Any]]
    """A JWT authorizer: ``issuer`` (https URL), ``audience`` (one or a list), ``scopes``. Default: none
    (the routes are open)."""
    cors: NotRequired[Mapping[str, Any]]
    """CORS of the API, the keys of :class:`~components.serverless.http_api.HttpApiArgs` ``cors``. Default: none."""
    throttle: NotRequired[Mapping[str, int]]
    """Stage throttling of the API: ``rate`` and ``burst``. Default: rate 100, burst 200."""


def api_name(body: Mapping[str, Any], service: str) -> str:
    """The HTTP API an ``http`` entry (raw, possibly invalid) routes through: ``api``, or the service's own."""
    api = body.get("api")
    return service if api is None else str(api)


@dataclass(frozen=True)
class HttpTrigger(Trigger):
    kind: ClassVar[str] = "http"
    keys: ClassVar[tuple[str, ...]] = tuple(HttpTriggerArgs.__annotations__)
    single: ClassVar[str | None] = "list every route in one"

    api: str | None = None
    routes: Sequence[str] = ()
    authorizer: Mapping[str, Any] | None = None
    cors: Mapping[str, Any] | None = None
    throttle: Mapping[str, int] | None = None

    @classmethod
    def check(cls, body: Mapping[str, Any], path: str, timeout: Any) -> Problems:
        problems = Problems()
        problems.check_str(body.get("api"), join_path(path, "api"), API_NAME_PATTERN,
                           "an API name: a DNS-1123 label of at most 20 characters")
        problems.extend(cls._check_routes(body, path))
        problems.extend(cls._check_authorizer(body.get("authorizer"), join_path(path, "authorizer")))
        problems.extend(validate_cors(body.get("cors"), join_path(path, "cors")))
        problems.extend(validate_throttle(body.get("throttle"), join_path(path, "throttle")))
        if timeout is not None and not is_unknown(timeout) and timeout > HTTP_TIMEOUT_LIMIT:
            problems.add(path, f"HTTP API integrations time out after {HTTP_TIMEOUT_LIMIT} seconds: the function's "
                               f"timeout must be at most {HTTP_TIMEOUT_LIMIT} with an http trigger, got {timeout}")
        return problems

    @staticmethod
    def _check_routes(body: Mapping[str, Any], path: str) -> Problems:
        problems = Problems()
        routes = body.get("routes")
        if not (problems.require(body, "routes", path, "a list such as ['GET /orders/{id}']")
                and problems.check_list(routes, join_path(path, "routes")) and isinstance(routes, (list, tuple))):
            return problems
        if not routes:
            problems.add(join_path(path, "routes"), "needs at least one route")
        seen = set()
        for j, route in enumerate(routes):
            rp = join_path(path, "routes", j)
            if route == "$default":
                continue
            if not isinstance(route, str) or parse_route(route) is None:
                problems.add(rp, f"must be 'METHOD /path' with METHOD one of {', '.join(HTTP_METHODS)} and a path of "
                                 f"segments, {{param}} or a final {{proxy+}} (or '$default'), got {route!r}")
            elif route in seen:
                problems.add(rp, f"route {route!r} is listed twice")
            seen.add(route)
        return problems

    @staticmethod
    def _check_authorizer(auth: Any, ap: str) -> Problems:
        problems = Problems()
        if not problems.check_mapping(auth, ap) or not isinstance(auth, Mapping):
            return problems
        problems.check_known_keys(auth, ("issuer", "audience", "scopes"), ap)
        problems.require(auth, "issuer", ap, "the JWT issuer URL")
        problems.check_str(auth.get("issuer"), join_path(ap, "issuer"), r"https://\S+", "an https:// issuer URL")
        audience = auth.get("audience")
        if problems.require(auth, "audience", ap, "the accepted audiences (client ids)"):
            if isinstance(audience, str):
                audience = [audience]
            if not isinstance(audience, (list, tuple)) or not audience or not all(isinstance(a, str) for a in audience):
                problems.add(join_path(ap, "audience"), f"must be a non-empty list of strings, got {audience!r}")
            elif len(audience) > MAX_AUDIENCES:
                problems.add(join_path(ap, "audience"), f"at most {MAX_AUDIENCES} audiences per JWT authorizer, "
                                                        f"got {len(audience)}")
        scopes = auth.get("scopes")
        if problems.check_list(scopes, join_path(ap, "scopes")) and isinstance(scopes, (list, tuple)):
            if len(scopes) > MAX_SCOPES_PER_ROUTE:
                problems.add(join_path(ap, "scopes"), f"at most {MAX_SCOPES_PER_ROUTE} scopes per route, got {len(scopes)}")
            for j, s in enumerate(scopes):
                problems.check_str(s, join_path(ap, "scopes", j))
        return problems

    def api_settings(self) -> dict[str, Any]:
        """The ``HttpApiArgs`` this trigger gives the API it creates or shares (``cors``, ``throttle``)."""
        return {k: v for k, v in (("cors", self.cors), ("throttle", self.throttle)) if v is not None}

    def build(self, ctx: TriggerContext, index: int) -> None:
        api = ctx.http_api
        if api is None:
            api = ctx.make_http_api(self.api_settings())
            ctx.http_api = api
        api.add_routes(ctx.name, function_name=ctx.function.name, alias_name=ctx.alias.name,
                       alias_arn=ctx.alias.arn, routes=list(self.routes), authorizer=self.authorizer, opts=ctx.opts)
        ctx.outputs["api_endpoint"] = api.api_endpoint
