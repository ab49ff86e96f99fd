"""The registry of deployment patterns, and what the platform hands each one.

Each pattern module (``components/serverless/pattern.py``, ``components/vm/pattern.py``, ...) defines a
module-level ``PATTERN = Pattern(...)``. The catalog loader and :class:`~components.Platform`
only talk to patterns through this interface, so a pattern is added in one place.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pulumi

from .profiles import Profile
from .validation import Problems

__all__ = ["BuildContext", "FEATURE_MODULES", "Pattern", "PATTERN_MODULES", "STACK_SECTIONS", "StackFeature",
           "ValidationContext", "catalog_rules", "catalog_warnings", "load_feature", "load_pattern",
           "run_on_docker_host"]

#: Catalog pattern name -> the module that defines ``PATTERN``. Named from this package's own name, so the
#: registry works whether the package is imported as ``components`` (this repository) or installed as
#: ``microservice_components``.
PATTERN_MODULES: dict[str, str] = {
    "vm": f"{__package__}.vm.pattern",
    "ecs": f"{__package__}.ecs.pattern",
    "eks": f"{__package__}.eks.pattern",
    "lambda": f"{__package__}.serverless.pattern",
    "docker": f"{__package__}.docker.pattern",
}


@dataclass(frozen=True)
class ValidationContext:
    """What validation may look at besides the spec itself."""

    profile: Profile
    project_dir: Path = field(default_factory=Path.cwd)
    """Relative paths in specs (``code``, image build contexts, ``services/<name>``) resolve from here."""
    patterns: Mapping[str, str] = field(default_factory=dict)
    """The pattern name of each service of the catalog, for catalog rules across patterns (empty while
    single services are validated)."""
    sections: Mapping[str, Any] = field(default_factory=dict)
    """The stack-wide sections the stack sets, as given (``ecs``, ``eks``, ``gateway``); a section the stack does
    not set is absent."""


T = TypeVar("T")


@dataclass
class BuildContext:
    """What :class:`~components.Platform` passes down to each pattern while it builds one stack.

    What services of more than one pattern share is a typed field (shared load balancers, image builds,
    clusters); what one pattern shares between its own services is that pattern's state object,
    ``ctx.state(EcsState)``: one instance per stack of a dataclass the pattern defines."""

    parent: pulumi.Resource
    profile: Profile
    network: Any
    """The stack's :class:`~components.Network` (``None`` in the ``local`` profile)."""
    project_dir: Path
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Validated stack-wide sections by pattern name: ``ecs`` holds a stack's ``microservices:ecs``,
    ``eks`` its ``microservices:eks`` (empty when the stack sets none)."""
    load_balancers: dict[str, Any] = field(default_factory=dict)
    """The stack's shared ALBs (:class:`~components.blocks.load_balancer.SharedLoadBalancer`) by the name
    services give in ``load_balancer.shared``; ``vm`` and ``ecs`` services attach to the same ones."""
    images: dict[Any, Any] = field(default_factory=dict)
    """The stack's image builds (:class:`~components.ContainerImage`) by build key, so services of any
    container pattern built from one context share one image."""
    clusters: dict[str, pulumi.Resource] = field(default_factory=dict)
    """The shared cluster of each pattern that has one, by pattern name (``ecs``: an ``EcsCluster``,
    ``eks``: an ``EksCluster``)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Per-service outputs the platform exports, ``{service: {key: value}}``."""
    gateway: Any = None
    """The stack's :class:`~components.ApiGateway` when the stack sets ``microservices:gateway`` (created before
    the patterns' ``prepare``, finished once every service is built)."""
    components: dict[str, pulumi.Resource] = field(default_factory=dict)
    """Every service built so far, by name (what a stack feature attaches to once the services exist)."""
    _states: dict[type, Any] = field(default_factory=dict, repr=False)

    @property
    def environment(self) -> str:
        return self.profile.name

    def state(self, kind: type[T]) -> T:
        """This stack's one ``kind`` (a pattern's own build state: a dataclass whose fields all have
        defaults), created on first use."""
        if kind not in self._states:
            self._states[kind] = kind()
        return self._states[kind]


Validator = Callable[[str, Mapping[str, Any], str, ValidationContext], Problems]
"""Every validator of a pattern: ``(name, value, path, ctx) -> Problems``. For a service, ``name`` is the
service and ``value`` its catalog entry; for a stack section, ``name`` is the section (``ecs``) and
``value`` its settings. ``path`` is where ``value`` sits (``services.orders``); problems are returned, never
raised, so the catalog loader reports every problem of a stack at once."""
CatalogValidator = Callable[[Mapping[str, Mapping[str, Any]], ValidationContext], Problems]
"""A rule across services: ``(specs, ctx) -> Problems``, ``specs`` by service name."""
Builder = Callable[[str, Mapping[str, Any], BuildContext], pulumi.Resource]


@dataclass(frozen=True)
class Pattern:
    """One deployment pattern as the catalog sees it.

    ``validate(name, spec, path, ctx)`` returns every problem of one catalog entry (``spec``
    without the ``pattern`` key; ``path`` is where it sits, e.g. ``services.orders``).
    ``validate_catalog(specs, ctx)`` checks rules across services of this pattern (a route
    or listener rule claimed twice). ``prepare`` builds what services share, ``build`` one
    service, ``finalize`` what can only be built once every service is known (one S3
    notification per bucket). ``build_local`` runs the service on a Docker host in the
    ``local`` profile; without it the service is skipped there, for ``local_skip_reason``.
    """

    name: str
    validate: Validator
    build: Builder
    validate_catalog: CatalogValidator | None = None
    validate_section: Validator | None = None
    prepare: Callable[[Mapping[str, Mapping[str, Any]], BuildContext], None] | None = None
    finalize: Callable[[BuildContext], None] | None = None
    build_local: Builder | None = None
    local_skip_reason: str = "this pattern needs AWS and cannot run on a Docker host"
    needs_network: bool | Callable[[Mapping[str, Any]], bool] = True
    """Whether a service needs the stack's network: a bool, or a function of its spec (a Lambda
    function needs it only when placed in the VPC)."""

    run_container: Callable[..., pulumi.Resource] | None = None
    """``run_container(name, spec, ctx, overrides=None)`` runs another container pattern's service spec on
    this pattern's host (the ``docker`` pattern: the stack's Docker host); see :func:`run_on_docker_host`."""

    def wants_network(self, spec: Mapping[str, Any]) -> bool:
        return self.needs_network(spec) if callable(self.needs_network) else bool(self.needs_network)


#: Config keys of stack-wide sections -> the pattern that owns and validates each.
STACK_SECTIONS: dict[str, str] = {"ecs": "ecs", "eks": "eks"}


@dataclass(frozen=True)
class StackFeature:
    """A stack-wide section that is not a service pattern but works around them (the API gateway).

    ``validate(name, value, path, ctx)`` checks the section; ``validate_catalog(specs, ctx)`` checks what services
    ask of it, whether or not the stack sets the section (``routes`` in a stack without a gateway is an error).
    ``create(settings, services, ctx)`` runs before the patterns' ``prepare`` (``services``: every catalog entry
    with its ``pattern``); ``finish(ctx)`` once every service is built (``ctx.components``). The ``local`` profile
    skips the feature, for ``local_skip_reason``."""

    name: str
    validate: Validator
    validate_catalog: CatalogValidator
    create: Callable[[Mapping[str, Any], Mapping[str, Mapping[str, Any]], BuildContext], None]
    finish: Callable[[BuildContext], None]
    local_skip_reason: str
    warn: Validator | None = None
    """``warn(name, value, path, ctx)``: what is allowed in this section but worth knowing (the catalog keeps
    them as warnings)."""


#: Config key of each stack feature -> the module that defines its ``FEATURE``.
FEATURE_MODULES: dict[str, str] = {"gateway": f"{__package__}.gateway.pattern"}


def load_feature(name: str) -> StackFeature | None:
    """The stack feature configured by ``microservices:<name>``, or None when this version does not provide it."""
    module_name = FEATURE_MODULES.get(name)
    return getattr(importlib.import_module(module_name), "FEATURE", None) if module_name else None


def catalog_rules() -> list[CatalogValidator]:
    """Rules over every service of a catalog whatever its pattern: a shared load balancer's listener
    rules may be claimed by ``vm`` and ``ecs`` services alike; in prod every public endpoint has TLS; each stack
    feature's (routes of any pattern)."""
    from .blocks.certificate import validate_public_tls
    from .blocks.load_balancer import validate_shared_rules
    features = [load_feature(name) for name in FEATURE_MODULES]
    return [validate_shared_rules, validate_public_tls, *(f.validate_catalog for f in features if f is not None)]


def catalog_warnings() -> list[CatalogValidator]:
    """Rules whose problems are warnings, not errors: the catalog keeps them (``Catalog.warnings``), the
    platform logs them (``pulumi preview`` shows them) and the offline plan prints them. Outside prod, a
    public endpoint without TLS."""
    from .blocks.certificate import public_tls_warnings
    return [public_tls_warnings]


def load_pattern(name: str) -> Pattern | None:
    """The pattern called ``name``, or None when this version does not provide it."""
    module_name = PATTERN_MODULES.get(name)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            return None
        raise
    return getattr(module, "PATTERN", None)


def run_on_docker_host(name: str, spec: Mapping[str, Any], ctx: BuildContext, *,
                       overrides: Mapping[str, Any] | None = None) -> pulumi.Resource:
    """``build_local`` of the container patterns (``ecs``, ``eks``): the ``docker`` pattern runs the service on
    the stack's Docker host. Reached through this registry, so no pattern imports another; ``overrides``
    (``DockerServiceArgs`` keys) adapt a pattern's own shapes, e.g. a run-once job."""
    docker = load_pattern("docker")
    if docker is None or docker.run_container is None:
        raise ValueError(f"{name}: the local profile runs container services with the docker pattern, "
                         "which this version does not provide")
    return docker.run_container(name, spec, ctx, overrides=overrides)
