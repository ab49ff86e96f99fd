"""Tag keys a component sets and a policy rule reads: defined once for both.

This module imports nothing: ``components/tools/policy.py`` reads it inside the policy pack's own small
virtualenv, which has no ``pulumi-aws``.
"""

from __future__ import annotations

__all__ = ["PUBLIC_URL_TAG"]

#: On a Lambda function whose URL is public on purpose (``url`` trigger with ``public: true``): the policy
#: rule ``lambda-url-iam-auth`` then accepts its ``AuthType NONE``.
PUBLIC_URL_TAG = "PublicFunctionUrl"
