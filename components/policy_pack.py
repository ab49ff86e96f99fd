"""``python -m microservice_components.policy_pack DIR``, the documented command that writes a policy pack running
this library's rules into ``DIR``. The adapter lives in :mod:`.tools.policy_pack`; this module launches it and
re-exports its names, because packs written by earlier versions import ``serve`` from here."""

from .tools.policy_pack import PACK_NAME, environment, main, plain, policies, serve, write_pack

__all__ = ["PACK_NAME", "environment", "main", "plain", "policies", "serve", "write_pack"]

if __name__ == "__main__":
    import sys

    sys.exit(main())
