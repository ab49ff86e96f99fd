"""A minimal pattern on the core spec, so catalog and platform tests do not depend on any real pattern."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.patterns import Pattern
from components.blocks.service import CORE_KEYS, resolve_core, standard_tags, validate_core
from components.validation import Problems


def validate(name, spec, path, ctx):
    problems = Problems()
    problems.check_known_keys(spec, CORE_KEYS + ("size",), path)
    validate_core(spec, path, problems)
    problems.check_int(spec.get("size"), f"{path}.size", 1, 4)
    return problems


def validate_catalog(specs, ctx):
    problems = Problems()
    ports = {}
    for name, spec in sorted(specs.items()):
        port = spec.get("port")
        if port in ports:
            problems.add(f"services.{name}.port", f"is already used by services.{ports[port]}")
        ports.setdefault(port, name)
    return problems


class FakeService(pulumi.ComponentResource):
    def __init__(self, name, spec, ctx):
        super().__init__("microservices:test:FakeService", name, None, pulumi.ResourceOptions(parent=ctx.parent))
        core = resolve_core(spec, ctx.profile)
        self.group = aws.cloudwatch.LogGroup(f"{name}-logs", retention_in_days=ctx.profile.log_retention_days,
                                             tags=standard_tags(name, ctx.profile.name, core.tags),
                                             opts=pulumi.ResourceOptions(parent=self))
        ctx.outputs[name] = {"port": core.port, "min": core.scaling.min}
        self.register_outputs({})


PATTERN = Pattern(name="fake", validate=validate, validate_catalog=validate_catalog,
                  build=lambda name, spec, ctx: FakeService(name, spec, ctx),
                  local_skip_reason="fake services need AWS")
