"""The ``vm`` pattern: one service per VM, from an AMI per service, in an Auto Scaling Group behind a load balancer.

Modules: :mod:`.args` (``VmServiceArgs`` and the settings they resolve into), :mod:`.validate`, :mod:`.component`
(``VmService``), :mod:`.ami` (lookup and Image Builder bake), :mod:`.user_data`, :mod:`.refresh` (the rollout's
dynamic resource and provider), :mod:`.refresher` (the instance refresh it runs against Auto Scaling) and
:mod:`.pattern` (``PATTERN``, the catalog's registration).

The names below are imported on first use: the rollout's dynamic provider process imports
``components.vm.refresh``, which needs boto3 but not ``pulumi_aws`` and the component.
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__ = ["VmService", "VmServiceArgs", "validate_vm"]

_EXPORTS = {"VmService": ".component", "VmServiceArgs": ".args", "validate_vm": ".validate"}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
