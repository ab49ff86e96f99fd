"""The CPU architecture of an EC2 instance type, one answer for every pattern (``vm``, ``ecs``, ``eks``).

An instance type is ``<family><generation><attributes>[-<variant>].<size>`` (``c7gn.xlarge``,
``m7i-flex.large``). A ``g`` among the attributes after the generation digit names an AWS Graviton
processor (``t4g``, ``m6g``, ``c7gn``, ``r8g``, ``x2gd``, ``im4gn``, ``is4gen``, ``g5g``); ``a1`` is the
first-generation Arm family that predates the convention. Every other type is ``x86_64``.
"""

from __future__ import annotations

import re

__all__ = ["ARCHITECTURES", "instance_architecture", "is_arm64"]

#: Architectures as EC2 (``DescribeImages``), ECS (``runtimePlatform``) and SSM AMI parameters name them.
ARCHITECTURES = ("arm64", "x86_64")

_INSTANCE_FAMILY = re.compile(r"(?P<family>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z]*)(-[a-z0-9]+)?")


def is_arm64(instance_type: str) -> bool:
    """Whether ``instance_type`` runs arm64 code: ``a1`` and the Graviton families (a ``g`` after the
    generation digit: ``t4g``, ``m6g``, ``c7gn``, ``r8g``, ``x2gd``, ``im4gn``, ``is4gen``, ``g5g``)."""
    m = _INSTANCE_FAMILY.fullmatch(instance_type.split(".", 1)[0])
    if m is None:
        return False
    return (m["family"], m["generation"]) == ("a", "1") or "g" in m["attributes"]


def instance_architecture(instance_type: str) -> str:
    """``arm64`` for ``a1`` and the Graviton families (see :func:`is_arm64`), else ``x86_64``."""
    return "arm64" if is_arm64(instance_type) else "x86_64"
