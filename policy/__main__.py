"""Policy pack ``microservices-defaults``: ``pulumi preview --policy-pack policy`` (or ``pulumi up ...``).

The rules are the functions in ``components/tools/policy.py``, the same ones ``python -m components.plan
--policy`` runs offline; ``components/tools/policy_pack.py`` adapts them to pulumi-policy (and writes this same
pack for a program that installed the library: ``python -m microservice_components.policy_pack DIR``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Pulumi runs this file with runpy from the pack's directory: put the repository root on the path.
# ``components/__init__.py`` imports nothing eagerly, so the pack's venv needs no pulumi-aws.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components.tools.policy_pack import PACK_NAME, environment, plain, policies, serve  # noqa: E402

__all__ = ["PACK_NAME", "environment", "plain", "policies", "serve"]

if __name__ == "__main__":
    serve()
