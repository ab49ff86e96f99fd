"""``python -m components.plan`` (installed: ``python -m microservice_components.plan``), the documented
command of the offline planner that ``tasks.py plan``, the workflows and the guide run. The planner lives in
:mod:`.tools.plan`; this module only launches it."""

if __name__ == "__main__":
    from .tools.plan.__main__ import cli

    cli()
