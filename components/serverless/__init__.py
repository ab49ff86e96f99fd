"""The ``lambda`` pattern: :class:`LambdaService` (a function, its code, its ``live`` alias, safe deploys and
its triggers) and the :class:`HttpApi` its ``http`` triggers share.

Modules: ``args`` (the args and the settings they resolve into), ``validate`` (the function's validation),
``component`` (``LambdaService``), ``http_api``, ``triggers/`` (one module per trigger kind), ``packaging``,
``artifacts``, ``notifications``, ``deployment`` (the CodeDeploy dynamic provider) and ``pattern`` (the
catalog registration, ``PATTERN``).
"""

from __future__ import annotations

from .args import LambdaServiceArgs, LambdaSettings, resolve_lambda
from .component import LambdaService
from .http_api import HttpApi, HttpApiArgs
from .notifications import S3Notifications
from .validate import validate_lambda

__all__ = ["HttpApi", "HttpApiArgs", "LambdaService", "LambdaServiceArgs", "LambdaSettings", "S3Notifications",
           "resolve_lambda", "validate_lambda"]
