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

from ..lazy import lazy_exports

__all__ = ["HttpApi", "HttpApiArgs", "LambdaService", "LambdaServiceArgs", "LambdaSettings", "S3Notifications",
           "resolve_lambda", "validate_lambda"]

_EXPORTS = {"HttpApi": ".http_api", "HttpApiArgs": ".http_api", "LambdaService": ".component",
            "LambdaServiceArgs": ".args", "LambdaSettings": ".args", "S3Notifications": ".notifications",
            "resolve_lambda": ".args", "validate_lambda": ".validate"}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
