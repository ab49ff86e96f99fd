"""Load and validate a stack's service catalog: the user-facing contract of the reference program.

Stack config, under the ``microservices`` namespace::

    microservices:environment: dev         # dev | staging | prod | local
    microservices:network: {...}           # Network args; the profile gives defaults
    microservices:services: {name: spec}   # merged over the shared catalog/*.yaml
    microservices:eks: {...}               # EksCluster args, shared by every eks service
    microservices:gateway: {...}           # ApiGateway args: one HTTP API in front of services with routes
    microservices:profile: {...}           # overrides of the profile's defaults

Every problem in the whole catalog is collected and raised as one :class:`CatalogError`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from .network import validate_network, validate_network_needs
from .patterns import (FEATURE_MODULES, PATTERN_MODULES, STACK_SECTIONS, Pattern, ValidationContext, catalog_rules,
                       catalog_warnings, load_feature, load_pattern)
from .profiles import PROFILES, Profile
from .blocks.service import validate_service_name
from .validation import CatalogError, Problem, Problems, join_path

__all__ = ["Catalog", "CONFIG_KEYS", "StackSettings", "load_catalog", "catalog_from_config", "merge_specs",
           "read_shared_catalog", "resolve_stack"]

NAMESPACE = "microservices"
CONFIG_KEYS = ("environment", "network", "services", "ecs", "eks", "gateway", "profile", "catalog_dir",
               "eks_token_python")
PROFILE_OVERRIDABLE = tuple(f.name for f in dataclasses.fields(Profile) if f.name not in ("name", "cloud"))


@dataclass(frozen=True)
class StackSettings:
    """The stack-wide keys of the config (``PlatformArgs``) other than its sections, resolved once
    (:func:`resolve_stack`); the fields carry the defaults."""

    environment: Any = "dev"
    """The profile's name, as given (validated against the profiles after resolution)."""
    catalog_dir: Any = "catalog"
    """Folder of the shared catalog; None or empty: none."""


def resolve_stack(config: Mapping[str, Any]) -> StackSettings:
    """:class:`StackSettings` of a stack's config: an empty ``environment`` is the default one; ``catalog_dir``
    set to null or empty means no shared catalog."""
    given: dict[str, Any] = {}
    if config.get("environment"):
        given["environment"] = config["environment"]
    if "catalog_dir" in config:
        given["catalog_dir"] = config["catalog_dir"] or None
    return StackSettings(**given)


@dataclass
class Catalog:
    """A validated catalog: the profile to use, the network args, and each service's spec."""

    environment: str
    profile: Profile
    network: dict[str, Any] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Stack-wide cluster settings by pattern (``ecs``, ``eks``)."""
    patterns: dict[str, Pattern] = field(default_factory=dict)
    """The pattern of each pattern name used by the catalog."""
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Settings of each stack feature the stack sets (``gateway``: its ``microservices:gateway``)."""
    warnings: list[Problem] = field(default_factory=list)
    """What is allowed here but worth knowing (outside prod, a public endpoint without TLS), each with its
    path; :class:`~components.Platform` logs them as warnings."""

    def services_of(self, pattern: str) -> dict[str, dict[str, Any]]:
        """Specs (without the ``pattern`` key) of every service of one pattern, by name."""
        return {name: _without_pattern(spec) for name, spec in sorted(self.services.items())
                if spec.get("pattern") == pattern}


def _without_pattern(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "pattern"}


def merge_specs(base: Any, override: Any) -> Any:
    """Deep-merge ``override`` over ``base``: mappings merge key by key, anything else is replaced."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = {k: copy.deepcopy(v) for k, v in base.items()}
        for key, value in override.items():
            out[key] = merge_specs(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def read_shared_catalog(directory: Path, problems: Problems) -> dict[str, dict[str, Any]]:
    """Services from every ``*.yaml`` file in ``directory`` (sorted); a service defined twice is an error."""
    services: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    if not directory.is_dir():
        return services
    for path in sorted(directory.glob("*.yaml")):
        label = f"{directory.name}/{path.name}"
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            problems.add(label, f"is not valid YAML: {err}")
            continue
        if not isinstance(doc, Mapping) or set(doc) - {"services"}:
            problems.add(label, "must be a mapping with one key, 'services' (name -> spec)")
            continue
        entries = doc.get("services") or {}
        if not isinstance(entries, Mapping):
            problems.add(f"{label}: services", "must be a mapping of service name to spec")
            continue
        for name, spec in entries.items():
            if name in services:
                problems.add(f"{label}: services.{name}", f"is already defined in {where[name]}")
                continue
            services[name] = spec
            where[name] = label
    return services


def load_catalog(config: Mapping[str, Any], project_dir: Path | str | None = None) -> Catalog:
    """Validate ``config`` (the ``microservices:*`` values, without the namespace) and return the catalog.

    Raises :class:`CatalogError` listing every problem, before anything is registered.
    """
    pdir = Path(project_dir) if project_dir is not None else Path.cwd()
    problems = Problems()
    problems.check_known_keys(config, CONFIG_KEYS, "")
    problems.check_str(config.get("eks_token_python"), "eks_token_python", r"\S+",
                       "a Python command every machine running pulumi has, such as 'python3'")

    stack = resolve_stack(config)
    environment = stack.environment
    if not problems.check_enum(environment, "environment", PROFILES):
        raise CatalogError(problems)
    profile = PROFILES[environment]
    overrides = config.get("profile") or {}
    if problems.check_mapping(overrides, "profile") and isinstance(overrides, Mapping):
        problems.check_known_keys(overrides, PROFILE_OVERRIDABLE, "profile")
        valid = {k: v for k, v in overrides.items() if k in PROFILE_OVERRIDABLE}
        _check_profile_values(valid, problems)
        if not problems:
            profile = profile.with_overrides(**{k: tuple(v) if isinstance(v, list) else v for k, v in valid.items()})

    network = config.get("network") or {}
    problems.extend(validate_network(network, "network"))

    shared = read_shared_catalog(pdir / str(stack.catalog_dir), problems) if stack.catalog_dir else {}
    stack_services = config.get("services") or {}
    if not problems.check_mapping(stack_services, "services"):
        stack_services = {}
    services: dict[str, dict[str, Any]] = {}
    for name in sorted(set(shared) | set(stack_services), key=str):
        merged = merge_specs(shared.get(name) or {}, stack_services.get(name) or {}) \
            if name in shared and name in stack_services else (stack_services.get(name) if name in stack_services
                                                                else shared.get(name))
        services[str(name)] = merged

    sections = {key: config[key] for key in (*STACK_SECTIONS, *FEATURE_MODULES) if config.get(key) is not None}
    vctx = ValidationContext(profile=profile, project_dir=pdir, sections=sections)
    patterns: dict[str, Pattern] = {}
    valid_specs: dict[str, dict[str, dict[str, Any]]] = {}
    for name, spec in services.items():
        path = join_path("services", name)
        validate_service_name(name, path, problems)
        if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
            continue
        kind = spec.get("pattern")
        if kind is None:
            problems.add(join_path(path, "pattern"), f"is required (one of {', '.join(PATTERN_MODULES)})")
            continue
        if not problems.check_enum(kind, join_path(path, "pattern"), PATTERN_MODULES):
            continue
        pattern = patterns.get(kind) or load_pattern(kind)
        if pattern is None:
            available = [p for p in PATTERN_MODULES if load_pattern(p) is not None]
            problems.add(join_path(path, "pattern"),
                         f"pattern {kind!r} is not available in this version (available: {', '.join(available) or 'none'})")
            continue
        patterns[kind] = pattern
        problems.extend(pattern.validate(name, _without_pattern(spec), path, vctx))
        valid_specs.setdefault(kind, {})[name] = _without_pattern(spec)
    for kind, specs in valid_specs.items():
        if patterns[kind].validate_catalog is not None:
            problems.extend(patterns[kind].validate_catalog(specs, vctx))
    every_spec = {name: spec for specs in valid_specs.values() for name, spec in specs.items()}
    rules_ctx = dataclasses.replace(vctx, patterns={name: kind for kind, specs in valid_specs.items() for name in specs})
    for rule in catalog_rules():
        problems.extend(rule(every_spec, rules_ctx))
    warnings = Problems()
    for rule in catalog_warnings():
        warnings.extend(rule(every_spec, rules_ctx))
    if profile.name != "local" and isinstance(network, Mapping):
        eks_settings = config.get("eks") if isinstance(config.get("eks"), Mapping) else {}
        problems.extend(validate_network_needs(network, profile, valid_specs, eks=eks_settings))

    clusters: dict[str, dict[str, Any]] = {}
    for section, owner in STACK_SECTIONS.items():
        settings = config.get(section) or {}
        if not problems.check_mapping(settings, section) or not isinstance(settings, Mapping):
            continue
        clusters[section] = dict(settings)
        if not settings and owner not in valid_specs:
            continue
        pattern = patterns.get(owner) or load_pattern(owner)
        if pattern is None or pattern.validate_section is None:
            problems.add(section, f"the {owner} pattern is not available in this version")
            continue
        problems.extend(pattern.validate_section(section, settings, section, vctx))

    features: dict[str, dict[str, Any]] = {}
    for key in FEATURE_MODULES:
        if key not in sections:
            continue
        feature = load_feature(key)
        if feature is None:
            problems.add(key, f"microservices:{key} is not available in this version")
            continue
        settings = sections[key]
        problems.extend(feature.validate(key, settings, key, vctx))
        if feature.warn is not None:
            warnings.extend(feature.warn(key, settings, key, vctx))
        features[key] = dict(settings) if isinstance(settings, Mapping) else {}

    problems.raise_if_any()
    return Catalog(environment=environment, profile=profile, network=dict(network), services=services,
                   clusters=clusters, patterns=patterns, features=features, warnings=list(warnings))


def _check_profile_values(values: Mapping[str, Any], problems: Problems) -> None:
    from .network import NAT_STRATEGIES
    from .profiles import LOG_RETENTION_DAYS
    for key, value in values.items():
        path = join_path("profile", key)
        default = getattr(PROFILES["dev"], key)
        if key == "nat":
            problems.check_enum(value, path, NAT_STRATEGIES)
        elif key == "log_retention_days":
            problems.check_enum(value, path, LOG_RETENTION_DAYS)
        elif key == "deploy_strategy":
            problems.check_enum(value, path, ("all_at_once", "canary", "linear"))
        elif key == "availability_zones":
            problems.check_int(value, path, 1, 6)
        elif isinstance(default, bool):
            problems.check_bool(value, path)
        elif isinstance(default, int):
            problems.check_int(value, path, 0, 100000)
        elif isinstance(default, tuple):
            problems.check_list(value, path)
        else:
            problems.check_str(value, path)


def config_values(namespace: str = NAMESPACE) -> dict[str, Any]:
    """Every ``<namespace>:*`` value of the running stack, structured values decoded."""
    from pulumi.runtime import config as runtime_config
    prefix = f"{namespace}:"
    # Programs started by the Pulumi CLI get their config through PULUMI_CONFIG; the mock runtime sets CONFIG.
    raw = set(runtime_config.CONFIG.get() or {}) | set(runtime_config.get_config_env())
    out: dict[str, Any] = {}
    cfg = pulumi.Config(namespace)
    for full_key in sorted(raw):
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix):]
        value = cfg.get(key)
        try:
            out[key] = json.loads(value) if value is not None and value[:1] in "{[" else value
        except json.JSONDecodeError:
            out[key] = value
    return out


def catalog_from_config(project_dir: Path | str | None = None) -> Catalog:
    """The running stack's catalog (``microservices:*`` config plus ``catalog/*.yaml``), validated."""
    return load_catalog(config_values(), project_dir)
