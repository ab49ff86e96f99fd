"""Every planned AWS resource checked against AWS's own resource schemas, with cfn-lint.

The plan is translated into a CloudFormation template (:mod:`.cfn_types` says how, type by type) and linted
in the stack's region: the CloudFormation registry schemas (types, enums such as the region's instance types,
patterns, lengths, ranges, required and dependent properties) plus cfn-lint's own rules for what schemas
cannot say (Fargate sizes, Auto Scaling sizes, reserved Lambda environment names, log retention values...).
Each finding names the resource's URN and the CloudFormation property path.

Findings are fixed, not silenced: an exception is one rule for one resource type, with its reason, in
:data:`EXCEPTIONS`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .cfn_types import CFN_TYPES, PLACEHOLDERS, UNMAPPABLE, to_cfn
from .mocks import _digest

__all__ = ["EXCEPTIONS", "Finding", "LintUnavailable", "findings_markdown", "lint_plan", "template_of"]

#: (cfn-lint rule, provider type) -> why the rule does not apply to how the provider calls the API.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("W3010", "aws:ec2/subnet:Subnet"):
        "a warning about writing templates (avoid hard-coded zones): the network takes each subnet's zone from "
        "the region's zone list at plan time (an invoke), which the template can only show as its value",
}

#: Rules that compare whole resources; a provider resource translated as one part of a CloudFormation
#: resource (``CfnType.part``) shares the identifiers of the resource it is part of.
PART_RULES = frozenset({"E3019"})


class LintUnavailable(RuntimeError):
    """cfn-lint is not installed (it is pinned in requirements-dev.txt)."""


@dataclass(frozen=True)
class Finding:
    """One cfn-lint finding on one planned resource."""

    rule: str
    level: str
    message: str
    urn: str
    type: str
    name: str
    cfn_type: str
    path: str
    """The CloudFormation property path (``Properties.LaunchTemplateData.MetadataOptions``): CloudFormation's
    names, which are the provider's inputs capitalised except where :mod:`.cfn_types` renames or reshapes."""

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "level": self.level, "message": self.message, "urn": self.urn,
                "type": self.type, "name": self.name, "cfnType": self.cfn_type, "path": self.path}

    def __str__(self) -> str:
        line = f"{self.rule} {self.type} {self.name} ({self.cfn_type}) {self.path}: {self.message}"
        return f"{line}\n    urn: {self.urn}" if self.urn else line


#: Provider types whose planned id or ARN becomes a ``Ref`` where another resource uses it: exactly the types
#: whose CloudFormation ``Ref`` returns that same value (an EC2 id; a target group's or task definition's ARN).
#: Rules across resources (a subnet inside its VPC's CIDR, ECS dynamic ports and target groups) then apply.
REF_OUTPUTS = {
    "aws:ec2/vpc:Vpc": "id", "aws:ec2/subnet:Subnet": "id", "aws:ec2/securityGroup:SecurityGroup": "id",
    "aws:ec2/routeTable:RouteTable": "id", "aws:ec2/internetGateway:InternetGateway": "id",
    "aws:ec2/natGateway:NatGateway": "id", "aws:lb/targetGroup:TargetGroup": "arn",
    "aws:ecs/taskDefinition:TaskDefinition": "arn",
}


def _planned_outputs(r: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The outputs the plan's mocks gave a resource (they derive them from its type, name and inputs)."""
    import pulumi

    from .mocks import PlanMocks
    _, state = PlanMocks(region).new_resource(pulumi.runtime.MockResourceArgs(
        r["type"], r["name"], dict(r.get("inputs") or {}), custom=True))
    return state


def _link(value: Any, refs: Mapping[str, str], own: str) -> Any:
    if isinstance(value, str):
        target = refs.get(value)
        return {"Ref": target} if target is not None and target != own else value
    if isinstance(value, list):
        return [_link(v, refs, own) for v in value]
    if isinstance(value, dict):
        return {k: _link(v, refs, own) for k, v in value.items()}
    return value


def _logical_id(index: int, name: str) -> str:
    return f"R{index:04d}{re.sub('[^A-Za-z0-9]', '', name)[:40]}"


def template_of(resources: Iterable[Mapping[str, Any]], region: str = "us-east-1",
                ) -> tuple[dict[str, Any], dict[str, Mapping[str, Any]]]:
    """The CloudFormation template of a plan's mapped AWS resources, and logical id -> plan resource.

    A value that is the planned id or ARN of another resource in :data:`REF_OUTPUTS` becomes a ``Ref`` to it.
    """
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}
    owners: dict[str, Mapping[str, Any]] = {}
    mapped = sorted((r for r in resources if r.get("custom") and r["type"] in CFN_TYPES), key=lambda r: r["urn"])
    for index, r in enumerate(mapped):
        spec = CFN_TYPES[r["type"]]
        logical = _logical_id(index, r["name"])
        placeholder = f"{r['name']}-{_digest(r['name'], length=7)}"
        template["Resources"][logical] = {"Type": spec.cfn, "Properties": to_cfn(spec, r.get("inputs") or {}, placeholder)}
        owners[logical] = r
    refs = {}
    for logical, r in owners.items():
        if r["type"] in REF_OUTPUTS and not CFN_TYPES[r["type"]].part:
            value = _planned_outputs(r, region).get(REF_OUTPUTS[r["type"]])
            if isinstance(value, str) and value:
                refs[value] = logical
    for logical, body in template["Resources"].items():
        body["Properties"] = _link(body["Properties"], refs, logical)
    return template, owners


def unmapped_types(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    """AWS types in the plan that are neither mapped nor listed as unmappable."""
    return sorted({r["type"] for r in resources if r.get("custom") and r["type"].startswith("aws:")
                   and r["type"] not in CFN_TYPES and r["type"] not in UNMAPPABLE})


def lint_plan(doc: Mapping[str, Any], region: str, *, exceptions: Mapping[tuple[str, str], str] | None = None,
              levels: str = "EW") -> list[Finding]:
    """cfn-lint's findings on a plan document's AWS resources, in ``region``, sorted by URN then rule.

    Informational findings are left out unless ``levels`` includes ``I``. An AWS type that is neither
    mapped nor listed unmappable is a finding of its own (``MAP``), so no resource goes unchecked silently.
    """
    try:
        from cfnlint import api as cfnlint_api
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise LintUnavailable("cfn-lint is not installed: pip install -r requirements-dev.txt") from err
    exceptions = EXCEPTIONS if exceptions is None else exceptions
    resources = doc["resources"]
    template, owners = template_of(resources, region)
    findings = []
    for type_ in unmapped_types(resources):
        first = next(r for r in resources if r["type"] == type_)
        findings.append(Finding("MAP", "E", f"no CloudFormation mapping for {type_}: add it to "
                                "components/tools/plan/cfn_types.py (CFN_TYPES, or UNMAPPABLE with the reason)",
                                first["urn"], type_, first["name"], "", ""))
    if template["Resources"]:
        matches = cfnlint_api.lint(json.dumps(template, indent=1),
                                   config=cfnlint_api.ManualArgs(regions=[region]))
        for m in matches:
            rule = m.rule.id
            if rule[0] not in levels:
                continue
            path = list(m.path) if getattr(m, "path", None) else []
            logical = path[1] if len(path) > 1 and path[0] == "Resources" else None
            owner = owners.get(logical) if logical else None
            if owner is None:
                findings.append(Finding(rule, rule[0], m.message, "", "", "", "", ".".join(map(str, path))))
                continue
            if (rule, owner["type"]) in exceptions or (rule in PART_RULES and _involves_a_part(m.message, logical, owners)):
                continue
            if _on_a_placeholder(template["Resources"][logical], path[2:]):
                continue  # a secret or unknown value: the plan does not know it, so neither does the check
            findings.append(Finding(rule, rule[0], m.message, owner["urn"], owner["type"], owner["name"],
                                    template["Resources"][logical]["Type"], ".".join(map(str, path[2:]))))
    return sorted(set(findings), key=lambda f: (f.urn, f.rule, f.path, f.message))


def _on_a_placeholder(resource: Mapping[str, Any], path: list[Any]) -> bool:
    """Whether the value at ``path`` (or a value holding it) is what the plan records for a secret or unknown."""
    value: Any = resource
    for key in path:
        if isinstance(value, str) and value in PLACEHOLDERS:
            return True
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            return False
    return isinstance(value, str) and value in PLACEHOLDERS


def _involves_a_part(message: str, logical: str, owners: Mapping[str, Mapping[str, Any]]) -> bool:
    ids = {logical, *re.findall(r"R\d{4}[A-Za-z0-9]*", message)}
    return any(CFN_TYPES[owners[i]["type"]].part for i in ids if i in owners)


def findings_markdown(findings: list[Finding] | None, covered: tuple[int, int] | None = None) -> str:
    """The findings as a Markdown section of the pull-request comment ('' when the check did not run)."""
    if findings is None:
        return ""
    head = "#### AWS schema check (cfn-lint)"
    if covered:
        head += f": {covered[0]} of {covered[1]} AWS resources checked"
    if not findings:
        return f"{head}\n\nNo findings.\n"
    lines = [head, "", f"{len(findings)} finding{'s' if len(findings) != 1 else ''}:", "",
             "| rule | resource | property | message |", "|---|---|---|---|"]
    for f in findings:
        message = f.message.replace("|", "\\|").replace("\n", " ")[:300]
        urn = f"<br>`{f.urn}`" if f.urn else ""
        lines.append(f"| `{f.rule}` | `{f.type}` {f.name}{urn} | `{f.path}` | {message} |")
    return "\n".join(lines) + "\n"


def coverage(doc: Mapping[str, Any]) -> tuple[int, int]:
    """(AWS resources translated and checked, AWS resources planned)."""
    aws = [r for r in doc["resources"] if r.get("custom") and r["type"].startswith("aws:")]
    return sum(1 for r in aws if r["type"] in CFN_TYPES), len(aws)
