"""``python -m microservice_components.policy_pack DIR``, the documented command that writes a policy pack
running this library's rules into ``DIR``. The pack's adapter lives in :mod:`.tools.policy_pack`; this module
only launches it."""

if __name__ == "__main__":
    import sys

    from .tools.policy_pack import main

    sys.exit(main())
