"""Validation of the ``docker`` pattern on the raw spec (wrong types and values not known yet tolerated):
one function per service, and the rule across services of a catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..blocks.container import validate_container
from ..blocks.container_image import docker_host_platform, remote_docker_engine
from ..blocks.service import validate_core
from ..patterns import ValidationContext
from ..profiles import Profile
from ..validation import Problems, join_path
from .args import CPU_MAX, CPU_MIN, DOCKER_HOST_PATTERN, DOCKER_KEYS, MEMORY_MIN, RESTART_POLICIES, replicas_of

__all__ = ["validate_docker", "validate_docker_catalog"]


def _safe_replicas(spec: Mapping[str, Any], profile: Profile) -> int:
    """Replicas for cross-checks; an invalid scaling block counts as one (its own validation reports it)."""
    try:
        return replicas_of(spec, profile)
    except (TypeError, ValueError, AttributeError):
        return 1


def validate_docker(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    """Every problem of one ``docker`` service spec."""
    problems = Problems()
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return problems
    problems.check_known_keys(spec, DOCKER_KEYS, path)
    validate_core(spec, path, problems)
    validate_container(name, spec, path, problems, vctx)
    problems.check_int(spec.get("cpu"), join_path(path, "cpu"), CPU_MIN, CPU_MAX, "CPU units")
    problems.check_int(spec.get("memory"), join_path(path, "memory"), MEMORY_MIN, None, "MiB")
    _check_host_port(spec, path, problems, vctx)
    _check_docker_host(spec, path, problems)
    problems.check_enum(spec.get("restart"), join_path(path, "restart"), RESTART_POLICIES)
    return problems


def _check_host_port(spec: Mapping[str, Any], path: str, problems: Problems, vctx: ValidationContext) -> None:
    if problems.check_int(spec.get("host_port"), join_path(path, "host_port"), 1, 65535) \
            and isinstance(spec.get("host_port"), int):
        last = spec["host_port"] + _safe_replicas(spec, vctx.profile) - 1
        if last > 65535:
            problems.add(join_path(path, "host_port"), f"leaves no room for every replica: the last would "
                                                       f"listen on {last}, above 65535")
    if spec.get("host_port") is not None and spec.get("expose") == "none":
        problems.add(join_path(path, "host_port"), "is set but expose is 'none': nothing is published on the host")


def _check_docker_host(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    if problems.check_str(spec.get("docker_host"), join_path(path, "docker_host"), DOCKER_HOST_PATTERN,
                          "a Docker host URL: ssh://user@host, tcp://host:2376 or unix:///var/run/docker.sock") \
            and isinstance(spec.get("docker_host"), str) and remote_docker_engine(spec["docker_host"]):
        image = spec.get("image")
        if not (isinstance(image, Mapping) and image.get("platform")) and docker_host_platform(remote=True) is None:
            problems.add(join_path(path, "image", "platform"),
                         f"is required with docker_host {spec['docker_host']!r} (linux/arm64 or linux/amd64, or "
                         "set DOCKER_DEFAULT_PLATFORM): a remote engine's architecture is not known here, and "
                         "pulumi-docker would build and pull for this machine's")


def validate_docker_catalog(specs: Mapping[str, Mapping[str, Any]], vctx: ValidationContext) -> Problems:
    """Two services on one Docker host cannot publish the same host port."""
    problems = Problems()
    taken: dict[tuple[str, int], str] = {}
    for name in sorted(specs):
        spec = specs[name]
        port = spec.get("host_port") if isinstance(spec, Mapping) else None
        if not isinstance(port, int) or isinstance(port, bool):
            continue
        host = spec.get("docker_host") or ""
        for p in range(port, port + _safe_replicas(spec, vctx.profile)):
            other = taken.get((host, p))
            if other is not None:
                problems.add(join_path("services", name, "host_port"),
                             f"host port {p} is already published by service {other!r} on the same Docker host")
                break
            taken[(host, p)] = name
    return problems
