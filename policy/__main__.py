"""Policy pack ``microservices-defaults``: ``pulumi preview --policy-pack policy`` (or ``pulumi up ...``).

The rules are the functions in ``components/policy.py``, the same ones ``python -m components.plan
--policy`` runs offline; this file only adapts them to pulumi-policy:

- a rule that looks at one resource becomes a ``ResourceValidationPolicy``: it runs before the
  resource is created or updated, so a mandatory violation stops ``pulumi up`` before any change;
- a rule that follows property dependencies to related resources (a bucket and its public access
  block, a security group and its load balancer's listeners) becomes a ``StackValidationPolicy``.

The engine sends resource inputs with camelCase names, numbers as floats and, during a preview,
sentinels for values not known yet; the rules handle all three. The environment (for
``stateful-protected-in-prod``) is the stack's ``microservices:environment`` config, else the
stack's name (``acme/prod`` -> ``prod``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Pulumi runs this file with runpy from the pack's directory: put the repository root on the path.
# ``components/__init__.py`` imports nothing eagerly, so the pack's venv needs no pulumi-aws.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import policy as rules  # noqa: E402

PACK_NAME = "microservices-defaults"


def environment() -> str | None:
    """``microservices:environment`` from the stack's config, else the stack name's last segment."""
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


def resource_policy(rule: rules.Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.resource_types:
            return
        resource = rules.Resource(urn=args.urn, type=args.resource_type, name=args.name, inputs=plain(args.props),
                                  protect=bool(args.opts.protect), parent=args.opts.parent)
        for result in rules.evaluate([resource], environment(), [rule]):
            report_violation(result.message, None)

    return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                    enforcement_level=EnforcementLevel(rule.enforcement),
                                    severity=Severity(rule.severity))


def stack_policy(rule: rules.Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
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


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [stack_policy(r) if r.stack else resource_policy(r) for r in rules.RULES]


if __name__ == "__main__":
    PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.MANDATORY)
