"""The ``lambda`` pattern: :class:`LambdaService` (a function, its code, its ``live`` alias, safe deploys and
its triggers) and the :class:`HttpApi` its ``http`` triggers share.

Modules: ``args`` (the args and the settings they resolve into), ``validate`` (the function's validation),
``component`` (``LambdaService``), ``http_api``, ``triggers/`` (one module per trigger kind), ``packaging``,
``artifacts``, ``notifications``, ``deployment`` (the CodeDeploy dynamic provider) and ``pattern`` (the
catalog registration, ``PATTERN``).

The names below are imported on first use: the deployment's dynamic provider process imports
``components.serverless.deployment``, which needs boto3 but not ``pulumi_aws`` and the component.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["HttpApi", "HttpApiArgs", "LambdaService", "LambdaServiceArgs", "LambdaSettings", "S3Notifications",
           "resolve_lambda", "validate_lambda"]

_EXPORTS = {"HttpApi": ".http_api", "HttpApiArgs": ".http_api", "LambdaService": ".component",
            "LambdaServiceArgs": ".args", "LambdaSettings": ".args", "S3Notifications": ".notifications",
            "resolve_lambda": ".args", "validate_lambda": ".validate"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
