"""The ``lambda`` pattern's registration: its validation, the rules across its services, what its services
share while one stack builds (:class:`LambdaState`), and ``PATTERN``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ..blocks.service import standard_tags
from ..patterns import BuildContext, Pattern, ValidationContext
from ..validation import Problems, join_path
from .artifacts import ArtifactStore
from .component import LambdaService
from ..blocks.http_routes import MAX_AUTHORIZERS_PER_API, MAX_INTEGRATIONS_PER_API, parse_route, preflight_routes
from .http_api import HttpApi
from .notifications import S3Notifications
from .triggers.http import api_name
from .triggers.s3 import normalize_bucket, s3_filters_overlap
from .validate import validate_lambda

__all__ = ["LambdaState", "PATTERN"]

#: What the shared HTTP API takes from every ``http`` trigger that names it; they must agree.
SHARED_API_KEYS = ("cors", "throttle")


def _validate(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_lambda(name, spec, path, vctx.project_dir)


def _triggers_of(specs: Mapping[str, Mapping[str, Any]], kind: str) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    """``(service, index, body)`` of every ``kind`` trigger whose body is a mapping, by service name."""
    for svc in sorted(specs):
        spec = specs[svc]
        if not isinstance(spec, Mapping) or not isinstance(spec.get("triggers"), (list, tuple)):
            continue
        for i, trig in enumerate(spec["triggers"]):
            if isinstance(trig, Mapping) and isinstance(trig.get(kind), Mapping):
                yield svc, i, trig[kind]


def _validate_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
    """Rules across services: a route claimed twice on a shared API, disagreeing settings of a shared API,
    the API's quotas, overlapping S3 notifications on one bucket."""
    problems = _shared_api_problems(specs)
    problems.extend(_s3_overlap_problems(specs))
    return problems


def _shared_api_problems(specs: Mapping[str, Mapping[str, Any]]) -> Problems:
    problems = Problems()
    claimed: dict[tuple[str, str], str] = {}
    settings: dict[tuple[str, str], tuple[Any, str]] = {}
    api_cors: dict[str, Any] = {}
    for svc, _, body in _triggers_of(specs, "http"):
        if body.get("cors") is not None:
            api_cors.setdefault(api_name(body, svc), body["cors"])
    authorizers: dict[str, list[str]] = {}
    integrations: dict[str, list[str]] = {}
    for svc, i, body in _triggers_of(specs, "http"):
        api = api_name(body, svc)
        base = join_path("services", svc, "triggers", i, "http")
        integrations.setdefault(api, []).append(svc)
        if body.get("authorizer") is not None:
            authorizers.setdefault(api, []).append(base)
        routes = list(body.get("routes") or []) if isinstance(body.get("routes"), (list, tuple)) else []
        preflight = preflight_routes(routes, api_cors.get(api), body.get("authorizer"))
        for j, route in enumerate(routes + preflight):
            if not isinstance(route, str) or (route != "$default" and parse_route(route) is None):
                continue
            holder = claimed.get((api, route))
            if holder is not None and holder != svc:
                where = join_path(base, "routes", j) if j < len(routes) else join_path(base, "routes")
                what = f"route {route!r}" if j < len(routes) else f"the preflight route {route!r} (CORS with a JWT authorizer)"
                problems.add(where, f"{what} on HTTP API {api!r} is already claimed by service {holder!r}")
            claimed.setdefault((api, route), svc)
        for key in SHARED_API_KEYS:
            if body.get(key) is None:
                continue
            seen = settings.get((api, key))
            if seen is not None and seen[0] != body[key]:
                problems.add(join_path(base, key), f"HTTP API {api!r} is shared: its {key} must be the same in every "
                                                   f"service, but differs from {seen[1]}")
            settings.setdefault((api, key), (body[key], join_path(base, key)))
    for api, paths in sorted(authorizers.items()):
        if len(paths) > MAX_AUTHORIZERS_PER_API:
            problems.add(paths[MAX_AUTHORIZERS_PER_API], f"HTTP API {api!r} would get {len(paths)} JWT authorizers (one "
                                                         f"per service); API Gateway allows {MAX_AUTHORIZERS_PER_API} "
                                                         "per API: split the services over several APIs")
    for api, services in sorted(integrations.items()):
        if len(services) > MAX_INTEGRATIONS_PER_API:
            problems.add(join_path("services", services[MAX_INTEGRATIONS_PER_API], "triggers"),
                         f"HTTP API {api!r} would get {len(services)} integrations (one per service); API Gateway "
                         f"allows {MAX_INTEGRATIONS_PER_API} per API (not adjustable)")
    return problems


def _s3_overlap_problems(specs: Mapping[str, Mapping[str, Any]]) -> Problems:
    problems = Problems()
    seen: dict[str, list[tuple[str, Mapping[str, Any], str]]] = {}
    for svc, i, body in _triggers_of(specs, "s3"):
        if not isinstance(body.get("bucket"), str):
            continue
        bucket = normalize_bucket(body["bucket"])
        here = join_path("services", svc, "triggers", i, "s3")
        for other_svc, other, other_path in seen.get(bucket, []):
            if other_svc != svc and s3_filters_overlap(body, other):
                problems.add(here, f"events, prefix and suffix overlap {other_path} on bucket {bucket}; S3 "
                                   "rejects overlapping notifications for the same event")
        seen.setdefault(bucket, []).append((svc, body, here))
    return problems


@dataclass
class LambdaState:
    """What the ``lambda`` services of one stack share while building."""

    apis: dict[str, HttpApi] = field(default_factory=dict)
    """The HTTP APIs that ``http`` triggers name (``api``, default the function's name), by name."""
    s3: S3Notifications = field(default_factory=S3Notifications)
    """Every ``s3`` trigger's notification, built as one notification per bucket once all are known."""
    artifacts: ArtifactStore | None = None
    """The bucket of ZIP packages, when a function is built from ``code`` or ``zip``."""


def _prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    """The HTTP APIs (one per name, with the settings its services give) and the artifact bucket."""
    apis: dict[str, dict[str, Any]] = {}
    for svc, _, body in _triggers_of(specs, "http"):
        merged = apis.setdefault(api_name(body, svc), {})
        for key in SHARED_API_KEYS:
            if body.get(key) is not None:
                merged.setdefault(key, body[key])
    state = ctx.state(LambdaState)
    state.apis = {
        api: HttpApi(f"{api}-http", settings, pulumi.ResourceOptions(parent=ctx.parent), profile=ctx.profile)
        for api, settings in sorted(apis.items())}
    if any(isinstance(spec, Mapping) and (spec.get("code") or spec.get("zip")) for spec in specs.values()):
        state.artifacts = ArtifactStore.create(
            "lambda-artifacts", ctx.profile, standard_tags("lambda-artifacts", ctx.profile.name),
            pulumi.ResourceOptions(parent=ctx.parent))


def _build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> LambdaService:
    state = ctx.state(LambdaState)
    http = next((body for _, _, body in _triggers_of({name: spec}, "http")), None)
    service = LambdaService(
        name, dict(spec), pulumi.ResourceOptions(parent=ctx.parent),
        network=ctx.network if spec.get("vpc") else None, profile=ctx.profile, project_dir=ctx.project_dir,
        http_api=state.apis.get(api_name(http, name)) if http is not None else None,
        s3_notifications=state.s3, artifacts=state.artifacts)
    ctx.outputs[name] = service.outputs
    return service


def _finalize(ctx: BuildContext) -> None:
    ctx.state(LambdaState).s3.build("lambda-", pulumi.ResourceOptions(parent=ctx.parent))


PATTERN = Pattern(
    name="lambda", validate=_validate, build=_build, validate_catalog=_validate_catalog, prepare=_prepare,
    finalize=_finalize, needs_network=lambda spec: bool(spec.get("vpc")),
    local_skip_reason="Lambda functions need AWS (Lambda, API Gateway, EventBridge); the local profile runs "
                      "only long-running services on a Docker host",
)
