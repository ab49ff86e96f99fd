"""Alias of :mod:`components.vm.refresh`. Pulumi stores a dynamic provider in the stack's state by module path:
state written by earlier versions names ``vm_refresh``, and ``pulumi up``/``destroy`` load the provider from it."""

from .vm.refresh import InstanceRefresh, InstanceRefreshProvider

__all__ = ["InstanceRefresh", "InstanceRefreshProvider"]
