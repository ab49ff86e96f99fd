"""The gateway's args (``microservices:gateway``), a service's ``routes``, and the settings they resolve into.

A stack file sets the gateway once; each service lists the routes it owns in its own catalog entry::

    microservices:gateway:
      domain: api.example.com          # with zone: a DNS-validated certificate, TLS 1.2, an alias record
      zone: example.com
      throttle: {rate: 200, burst: 400}
      authorizer: {issuer: https://auth.example.com/, audience: [shop]}
      cors: {allow_origins: [https://shop.example.com], allow_methods: [GET, POST]}
    microservices:services:
      orders-api:
        routes: ["GET /orders/{id}", {route: "POST /orders", scopes: [orders:write]}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi

__all__ = ["ApiGatewayArgs", "AuthorizerArgs", "GATEWAY_KEYS", "GatewaySettings", "Route", "RouteArgs",
           "ROUTE_KEYS", "Throttle", "ThrottleArgs", "resolve_gateway", "resolve_routes", "route_key"]

GATEWAY_KEYS = ("cors", "throttle", "authorizer", "domain", "zone", "certificate_arn",
                "disable_execute_api_endpoint", "integration_timeout", "tags")
ROUTE_KEYS = ("route", "throttle", "scopes", "authorization")
#: API Gateway's maximum integration timeout for HTTP APIs (quota "Maximum integration timeout": 30 seconds).
MAX_INTEGRATION_TIMEOUT = 30


class ThrottleArgs(TypedDict):
    rate: NotRequired[int]
    """Steady requests per second, 1-10000. Default: 100 (stage) or the stage's (route)."""
    burst: NotRequired[int]
    """Burst of requests, 1-5000. Default: 200 (stage) or the stage's (route)."""


class AuthorizerArgs(TypedDict):
    issuer: str
    """The JWT issuer URL (``https://...``); API Gateway fetches its keys from the OIDC discovery document.
    Required."""
    audience: str | Sequence[str]
    """Accepted audiences (``aud`` or ``client_id`` claims), at most 50. Required."""


class RouteArgs(TypedDict):
    """One entry of a service's ``routes``, in its long form (the short form is the route key alone)."""

    route: str
    """The route key: ``METHOD /path`` (``GET /orders/{id}``, ``ANY /orders/{proxy+}``). Required."""
    throttle: NotRequired[ThrottleArgs]
    """Throttling of this route. Default: the stage's (``throttle`` of the gateway)."""
    scopes: NotRequired[Sequence[str]]
    """OAuth scopes the JWT must carry for this route, at most 10. Default: none (any valid token)."""
    authorization: NotRequired[str]
    """``jwt`` (the gateway's authorizer checks a token) or ``none`` (public route). Default: ``jwt`` when the
    gateway has an ``authorizer``, else ``none``. ``OPTIONS`` routes are never authorized (browser preflights
    carry no token)."""


class ApiGatewayArgs(TypedDict):
    """``microservices:gateway``: the stack's one HTTP API in front of every service that lists ``routes``."""

    cors: NotRequired[Mapping[str, Any]]
    """CORS: ``allow_origins``, ``allow_methods``, ``allow_headers``, ``expose_headers``, ``max_age``,
    ``allow_credentials``; API Gateway answers preflights itself. Default: no CORS headers (browsers on other
    origins are refused)."""
    throttle: NotRequired[ThrottleArgs]
    """Stage default throttling. Default: rate 100, burst 200 (far below the account's 10,000 per second, so one
    noisy client cannot starve the other APIs of the account)."""
    authorizer: NotRequired[AuthorizerArgs]
    """A JWT authorizer every route uses unless it says ``authorization: none``. Default: none (no
    authorization at the gateway)."""
    domain: NotRequired[str]
    """Custom domain name (``api.example.com``), served with the TLS 1.2 security policy. Default: none (only the
    ``execute-api`` endpoint, HTTPS with an AWS certificate). Needs ``zone`` or ``certificate_arn``."""
    zone: NotRequired[str]
    """Route 53 hosted zone of ``domain``, by id (``Z...``) or name: the certificate is validated through DNS there
    and an alias record points ``domain`` at the gateway. Default: none (bring ``certificate_arn`` and your own
    DNS record)."""
    certificate_arn: NotRequired[pulumi.Input[str]]
    """An existing ACM certificate for ``domain`` in the stack's region. Default: none (with ``zone``, one is
    created and validated)."""
    disable_execute_api_endpoint: NotRequired[bool]
    """Turn off the ``execute-api`` endpoint, so clients can only use ``domain``. Default: true when ``domain`` is
    set, else false."""
    integration_timeout: NotRequired[int]
    """Seconds the gateway waits for a backend, 1-30 (API Gateway's maximum). Default: 30."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags. Default: none."""


@dataclass(frozen=True)
class Throttle:
    rate: int = 100
    burst: int = 200


@dataclass(frozen=True)
class Authorizer:
    issuer: str
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class GatewaySettings:
    """``microservices:gateway`` with every default resolved."""

    throttle: Throttle = field(default_factory=Throttle)
    cors: dict[str, Any] | None = None
    authorizer: Authorizer | None = None
    domain: str | None = None
    zone: str | None = None
    certificate_arn: pulumi.Input[str] | None = None
    disable_execute_api_endpoint: bool = False
    integration_timeout: int = MAX_INTEGRATION_TIMEOUT
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One route of a service, resolved."""

    key: str
    throttle: Throttle | None = None
    scopes: tuple[str, ...] = ()
    authorization: str = "none"


def resolve_gateway(args: Mapping[str, Any]) -> GatewaySettings:
    """The settings of a validated ``microservices:gateway``."""
    throttle = {**vars(Throttle()), **(args.get("throttle") or {})}
    auth = args.get("authorizer")
    authorizer = None
    if auth:
        audience = auth["audience"]
        authorizer = Authorizer(issuer=auth["issuer"],
                                audiences=(audience,) if isinstance(audience, str) else tuple(sorted(audience)))
    domain = args.get("domain")
    return GatewaySettings(
        throttle=Throttle(**throttle), cors=dict(args["cors"]) if args.get("cors") else None, authorizer=authorizer,
        domain=domain, zone=args.get("zone"), certificate_arn=args.get("certificate_arn"),
        disable_execute_api_endpoint=bool(args.get("disable_execute_api_endpoint", domain is not None)),
        integration_timeout=int(args.get("integration_timeout", MAX_INTEGRATION_TIMEOUT)),
        tags=dict(args.get("tags") or {}))


def route_key(entry: Any) -> Any:
    """The route key of a ``routes`` entry (short form: the key itself; long form: its ``route``)."""
    return entry.get("route") if isinstance(entry, Mapping) else entry


def resolve_routes(spec: Mapping[str, Any], settings: GatewaySettings) -> tuple[Route, ...]:
    """A validated service's ``routes``, with the gateway's defaults."""
    default_auth = "jwt" if settings.authorizer is not None else "none"
    out = []
    for entry in spec.get("routes") or ():
        body = entry if isinstance(entry, Mapping) else {"route": entry}
        thr = body.get("throttle")
        key = body["route"]
        auth = body.get("authorization", default_auth)
        if key.startswith("OPTIONS ") and settings.cors is not None:
            auth = "none"
        out.append(Route(key=key, throttle=Throttle(**{**vars(settings.throttle), **thr}) if thr else None,
                         scopes=tuple(sorted(body.get("scopes") or ())) if auth == "jwt" else (),
                         authorization=auth))
    return tuple(out)
