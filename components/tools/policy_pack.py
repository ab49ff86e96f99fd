"""The policy pack ``microservices-defaults``: the rules of :mod:`.policy` adapted to pulumi-policy.

This repository's ``policy/`` folder runs it; a team that installed the library writes a pack of its own
that runs the installed rules (so they follow the library's version)::

    python -m microservice_components.policy_pack policy     # writes policy/PulumiPolicy.yaml, __main__.py, requirements.txt
    pulumi preview --policy-pack policy

- a rule that looks at one resource becomes a ``ResourceValidationPolicy``: it runs before the resource
  is created or updated, so a mandatory violation stops ``pulumi up`` before any change;
- a rule that follows property dependencies to related resources (a bucket and its public access block, a
  security group and its load balancer's listeners) becomes a ``StackValidationPolicy``.

The engine sends resource inputs with camelCase names, numbers as floats and, during a preview, sentinels
for values not known yet; the rules handle all three. The environment (for ``stateful-protected-in-prod``)
is the stack's ``microservices:environment`` config, else the stack's name (``acme/prod`` -> ``prod``),
whatever the program's project is called. Importing this module needs neither pulumi-aws nor
pulumi-policy; :func:`serve` and the policy builders need pulumi-policy.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import policy as rules

#: The library's package (``microservice_components`` installed, ``components`` in its repository).
PACKAGE = (__package__ or "microservice_components.tools").rsplit(".", 1)[0]

__all__ = ["PACK_NAME", "environment", "plain", "policies", "serve", "write_pack"]

PACK_NAME = "microservices-defaults"
#: pulumi-policy as tested with this library (the pack's own requirement).
PULUMI_POLICY_REQUIREMENT = "pulumi-policy==1.21.0"
DISTRIBUTION = "microservice-components"


def environment() -> str | None:
    """``microservices:environment`` from the stack's config, else the stack name's last segment."""
    import pulumi
    configured = pulumi.Config(rules.CONFIG_NAMESPACE).get("environment")
    return rules.stack_environment(configured, os.environ.get("PULUMI_STACK", ""))


def plain(value: Any) -> Any:
    """Engine properties as plain dicts and lists. pulumi-policy wraps them in proxies that raise on
    an unknown value; unwrapped, unknowns stay sentinel strings that the rules skip."""
    if isinstance(value, Mapping):
        raw = value["__target"] if hasattr(value, "_DictProxy__target") else value
        return {k: plain(raw[k]) for k in raw}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        raw = value["__target"] if hasattr(value, "_ListProxy__target") else value
        return [plain(v) for v in raw]
    return value


def resource_policy(rule: rules.Rule):
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

    def validate(args, report_violation) -> None:
        if args.resource_type not in rule.resource_types:
            return
        resource = rules.Resource(urn=args.urn, type=args.resource_type, name=args.name, inputs=plain(args.props),
                                  protect=bool(args.opts.protect), parent=args.opts.parent)
        for result in rules.evaluate([resource], environment(), [rule]):
            report_violation(result.message, None)

    return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                    enforcement_level=EnforcementLevel(rule.enforcement),
                                    severity=Severity(rule.severity))


def stack_policy(rule: rules.Rule):
    from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

    def validate(args, report_violation) -> None:
        resources = [
            rules.Resource(urn=r.urn, type=r.resource_type, name=r.name, inputs=plain(r.props),
                           protect=bool(r.opts.protect), parent=r.parent.urn if r.parent is not None else None,
                           property_dependencies={k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()})
            for r in args.resources
        ]
        for result in rules.evaluate(resources, environment(), [rule]):
            report_violation(result.message, result.urn)

    return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                 enforcement_level=EnforcementLevel(rule.enforcement),
                                 severity=Severity(rule.severity))


def policies() -> list[Any]:
    return [stack_policy(r) if r.stack else resource_policy(r) for r in rules.RULES]


def serve() -> None:
    """Run the pack: what a pack's ``__main__.py`` calls when the Pulumi CLI starts it."""
    from pulumi_policy import EnforcementLevel, PolicyPack
    PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.MANDATORY)


PACK_MAIN = '''"""Policy pack {name}: the rules of the installed {package} (see its README, "The policy pack")."""

from {package}.tools.policy_pack import serve

if __name__ == "__main__":
    serve()
'''

PACK_PROJECT = '''# `pulumi preview --policy-pack {directory}`: the rules of the installed {package}.
description: Secure and reliable defaults for microservices on AWS and Kubernetes ({package}).
version: {version}
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: {virtualenv}
'''


def _version() -> str:
    from importlib import metadata
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0.0.0"


def write_pack(directory: Path | str, *, requirement: str | None = None, virtualenv: str = "venv") -> list[Path]:
    """Write a policy pack that runs this library's rules into ``directory`` (created if missing):
    ``PulumiPolicy.yaml``, ``__main__.py`` and ``requirements.txt``. ``requirement`` is how the pack's
    virtualenv installs the library. Default: ``microservice-components==<the installed version>``; pass
    the same specifier your program uses (a ``git+https://`` URL with a tag) when it does not come from an
    index. ``virtualenv`` is the pack's virtualenv, relative to the pack. Default: ``venv``."""
    package = PACKAGE
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    version = _version()
    files = {
        "PulumiPolicy.yaml": PACK_PROJECT.format(directory=target.name, package=package, version=version,
                                                 virtualenv=virtualenv),
        "__main__.py": PACK_MAIN.format(name=PACK_NAME, package=package),
        "requirements.txt": f"{requirement or f'{DISTRIBUTION}=={version}'}\n{PULUMI_POLICY_REQUIREMENT}\n",
    }
    written = []
    for name, text in files.items():
        path = target / name
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.policy_pack",
                                     description="Write a Pulumi policy pack that runs this library's rules.")
    parser.add_argument("directory", help="the pack's folder, e.g. policy")
    parser.add_argument("--requirement", help=f"how the pack installs the library (default: {DISTRIBUTION}==VERSION)")
    parser.add_argument("--virtualenv", default="venv", help="the pack's virtualenv, relative to it (default: venv)")
    args = parser.parse_args(argv)
    try:
        written = write_pack(args.directory, requirement=args.requirement, virtualenv=args.virtualenv)
    except OSError as err:
        print(f"error: {args.directory}: {err.strerror or err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    venv = Path(args.directory) / args.virtualenv
    print(f"then: python -m venv {venv} && {venv / 'bin' / 'pip'} install -r {Path(args.directory) / 'requirements.txt'}")
    print(f"      pulumi preview --policy-pack {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
