"""The ``docker`` pattern: N replicas of a container service on one Docker host, and the ``local`` stack.

Pattern ``docker`` runs a service's containers on the user's Docker engine (or a remote host,
``docker_host: ssh://user@host``), built locally without a push. :func:`build_docker_local` runs any
container service (``ecs``, ``eks``) the same way in the ``local`` profile, from its core spec and
``image``: ``pulumi up -s local`` needs no cloud account.

Modules: ``args`` (:class:`DockerServiceArgs` and the :class:`DockerSettings` they resolve into),
``validate``, ``component`` (:class:`DockerService`) and ``pattern`` (the registration, ``PATTERN``).
"""

from __future__ import annotations

from .args import DOCKER_KEYS, DockerServiceArgs, DockerSettings, resolve_docker
from .component import DockerService
from .pattern import build_docker_local, docker_args_from
from .validate import validate_docker, validate_docker_catalog

__all__ = [
    "DOCKER_KEYS",
    "DockerService",
    "DockerServiceArgs",
    "DockerSettings",
    "build_docker_local",
    "docker_args_from",
    "resolve_docker",
    "validate_docker",
    "validate_docker_catalog",
]
