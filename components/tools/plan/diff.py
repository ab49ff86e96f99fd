"""Compare two plans: what a preview of the head would add, change, replace and remove."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Change", "PlanDiff", "diff_plans", "property_changes", "REPLACE_ON", "AFTER_REPLACEMENT"]

#: The "after" value of an input that comes from a replaced resource: known only once it is replaced.
AFTER_REPLACEMENT = "[known after replacement]"
#: Keys that identify the items of a list of objects (environment variables, containers, statements), so an
#: insertion shows as one added item rather than every later item changed.
ITEM_KEYS = ("name", "Sid", "containerName", "key", "Key")

#: Input properties whose change makes the provider replace the resource (as far as we can tell
#: from the providers' schemas). ``*`` means every input: the resource is immutable.
REPLACE_ON: dict[str, tuple[str, ...]] = {
    "aws:ec2/vpc:Vpc": ("cidrBlock", "instanceTenancy"),
    "aws:ec2/subnet:Subnet": ("availabilityZone", "availabilityZoneId", "cidrBlock", "vpcId"),
    "aws:ec2/securityGroup:SecurityGroup": ("description", "name", "namePrefix", "vpcId"),
    "aws:ec2/routeTable:RouteTable": ("vpcId",),
    "aws:ec2/route:Route": ("routeTableId", "destinationCidrBlock"),
    "aws:ec2/natGateway:NatGateway": ("allocationId", "subnetId", "connectivityType"),
    "aws:ec2/eip:Eip": ("domain",),
    "aws:ec2/internetGateway:InternetGateway": (),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("serviceName", "vpcId", "vpcEndpointType"),
    "aws:ec2/flowLog:FlowLog": ("*",),
    "aws:lambda/function:Function": ("name", "packageType"),
    "aws:lambda/alias:Alias": ("name", "functionName"),
    "aws:lambda/permission:Permission": ("*",),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("*",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "namePrefix", "internal", "loadBalancerType"),
    "aws:lb/targetGroup:TargetGroup": ("name", "namePrefix", "port", "protocol", "targetType", "vpcId", "protocolVersion"),
    "aws:lb/listener:Listener": ("loadBalancerArn",),
    "aws:ecs/taskDefinition:TaskDefinition": ("*",),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:ecs/service:Service": ("name", "cluster", "launchType", "schedulingStrategy"),
    "aws:ecr/repository:Repository": ("name",),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix"),
    "aws:s3/bucketV2:BucketV2": ("bucket", "bucketPrefix"),
    "aws:sqs/queue:Queue": ("name", "namePrefix", "fifoQueue"),
    "aws:kinesis/stream:Stream": ("name",),
    "aws:dynamodb/table:Table": ("name", "hashKey", "rangeKey"),
    "aws:eks/cluster:Cluster": ("name", "roleArn", "vpcConfig.subnetIds", "encryptionConfig"),
    "aws:eks/nodeGroup:NodeGroup": ("clusterName", "nodeGroupName", "nodeRoleArn", "subnetIds", "capacityType",
                                    "instanceTypes", "amiType", "diskSize"),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage"),
    "aws:autoscaling/group:Group": ("name", "namePrefix"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix"),
    "aws:apigatewayv2/api:Api": ("protocolType",),
    "aws:apigatewayv2/stage:Stage": ("apiId", "name"),
    "aws:apigatewayv2/route:Route": ("apiId",),
    "aws:cloudwatch/eventRule:EventRule": ("name", "namePrefix", "eventBusName"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": ("eventSourceArn", "startingPosition", "startingPositionTimestamp"),
    "docker:index/container:Container": ("*",),
    "docker:index/network:Network": ("*",),
}
K8S_REPLACE_ON = ("metadata.name", "metadata.namespace", "spec.selector", "spec.clusterIP")
OPTION_KEYS = ("parent", "provider", "protect", "retainOnDelete", "deleteBeforeReplace", "dependencies")


@dataclass
class Change:
    urn: str
    type: str
    name: str
    kind: str
    """``add`` | ``remove`` | ``update`` | ``replace``."""
    properties: list[tuple[str, Any, Any]] = field(default_factory=list)
    """(dotted path, before, after); a missing side is ``None``."""
    replace_reasons: list[str] = field(default_factory=list)
    custom: bool = True
    """False for a component resource."""
    caused_by: list[str] = field(default_factory=list)
    """Names of replaced resources whose new outputs this resource's inputs take (it changes because of them)."""
    protect: bool = False
    """A removed resource was protected: ``pulumi up`` fails until ``protect`` is lifted."""
    retain_on_delete: bool = False
    """A removed resource stays in the cloud, only Pulumi forgets it."""
    parent: str | None = None


@dataclass
class PlanDiff:
    stack: str
    changes: list[Change]
    unchanged: int

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def empty(self) -> bool:
        return not self.changes


_MISSING = object()


def _json_document(value: Any) -> Any:
    """A string property holding a JSON object or array (a policy, container definitions), parsed; else None."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, (dict, list)) else None


def _item_key(items: list[Any]) -> str | None:
    """The key that names every item of a list of objects uniquely, if there is one."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in ITEM_KEYS:
        values = [i.get(key) for i in items]
        if all(isinstance(v, (str, int)) for v in values) and len(set(values)) == len(values):
            return key
    return None


def property_changes(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf-level differences between two JSON values. Strings holding JSON documents are compared
    field by field (``containerDefinitions[name=app].image``); lists of named objects are matched by name."""
    if isinstance(before, str) and isinstance(after, str) and before != after:
        b_doc, a_doc = _json_document(before), _json_document(after)
        if b_doc is not None and a_doc is not None:
            return property_changes(b_doc, a_doc, path)
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else key
            b, a = before.get(key, _MISSING), after.get(key, _MISSING)
            if b is _MISSING:
                out.append((sub, None, a))
            elif a is _MISSING:
                out.append((sub, b, None))
            else:
                out.extend(property_changes(b, a, sub))
        return out
    if isinstance(before, list) and isinstance(after, list):
        key = _item_key(before) if before and after else None
        if key is not None and _item_key(after) == key:
            old = {i[key]: i for i in before}
            new = {i[key]: i for i in after}
            out = []
            for name in [i[key] for i in before] + [i[key] for i in after if i[key] not in old]:
                sub = f"{path}[{key}={name}]"
                if name not in new:
                    out.append((sub, old[name], None))
                elif name not in old:
                    out.append((sub, None, new[name]))
                else:
                    out.extend(property_changes(old[name], new[name], sub))
            if not out and [i[key] for i in before] != [i[key] for i in after]:
                out.append((f"{path} (order)", [i[key] for i in before], [i[key] for i in after]))
            return out
        if len(before) == len(after):
            out = []
            for i, (b, a) in enumerate(zip(before, after)):
                out.extend(property_changes(b, a, f"{path}[{i}]"))
            return out
        if before and after and len(before) != len(after):
            out = []
            for i in range(max(len(before), len(after))):
                b = before[i] if i < len(before) else None
                a = after[i] if i < len(after) else None
                out.extend(property_changes(b, a, f"{path}[{i}]") if b is not None and a is not None
                           else [(f"{path}[{i}]", b, a)])
            return out
    return [] if before == after else [(path, before, after)]


def _forces_replacement(type_: str, changed: list[str], replace_on_changes: list[str]) -> list[str]:
    keys = REPLACE_ON.get(type_, K8S_REPLACE_ON if type_.startswith("kubernetes:") else ())
    keys = tuple(keys) + tuple(replace_on_changes)
    if "*" in keys:
        return [f"{changed[0]} (the resource is immutable)"] if changed else []
    reasons = []
    for path in changed:
        plain = path.split("[", 1)[0]
        if any(plain == k or plain.startswith(k + ".") for k in keys):
            reasons.append(path)
    return reasons


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """Resources are matched by URN (a rename without an alias is a remove and an add, as in Pulumi).

    A replaced resource gets new outputs (an id, an ARN), so every resource whose inputs take them changes
    too, and is itself replaced when that input forces replacement: those show as changing with the input
    ``[known after replacement]``, as ``pulumi preview`` shows them."""
    old = {r["urn"]: r for r in base.get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    changes: dict[str, Change] = {}
    unchanged_urns: set[str] = set()
    for urn in sorted(set(old) | set(new)):
        b, a = old.get(urn), new.get(urn)
        if b is None:
            changes[urn] = Change(urn, a["type"], a["name"], "add",
                                  [(p, None, v) for p, _, v in property_changes({}, a.get("inputs", {}))],
                                  custom=a.get("custom", True), parent=a.get("parent"))
            continue
        if a is None:
            changes[urn] = Change(urn, b["type"], b["name"], "remove", custom=b.get("custom", True),
                                  protect=bool(b.get("protect")), retain_on_delete=bool(b.get("retainOnDelete")),
                                  parent=b.get("parent"))
            continue
        props = property_changes(b.get("inputs", {}), a.get("inputs", {}))
        options = [(f"(option) {k}", b.get(k), a.get(k)) for k in OPTION_KEYS if b.get(k) != a.get(k)]
        if not props and not options:
            unchanged_urns.add(urn)
            continue
        reasons = _forces_replacement(a["type"], [p for p, _, _ in props], a.get("replaceOnChanges", [])) \
            if a.get("custom") else []
        changes[urn] = Change(urn, a["type"], a["name"], "replace" if reasons else "update", props + options, reasons,
                              custom=a.get("custom", True), parent=a.get("parent"))
    _propagate_replacements(old, new, changes, unchanged_urns)
    ordered = [changes[u] for u in sorted(changes)]
    return PlanDiff(stack=head.get("stack", ""), changes=ordered, unchanged=len(unchanged_urns))


def _propagate_replacements(old: dict[str, Any], new: dict[str, Any], changes: dict[str, Change],
                            unchanged: set[str]) -> None:
    replaced = [u for u, c in changes.items() if c.kind == "replace" and c.custom]
    while replaced:
        source = replaced.pop()
        source_name = changes[source].name
        for urn, r in new.items():
            if urn not in old or not r.get("custom", True) or urn == source:
                continue
            props = [p for p, deps in (r.get("propertyDependencies") or {}).items() if source in deps]
            change = changes.get(urn)
            if not props or (change is not None and source_name in change.caused_by):
                continue
            if change is None:
                change = Change(urn, r["type"], r["name"], "update", custom=True, parent=r.get("parent"))
                changes[urn] = change
                unchanged.discard(urn)
            change.caused_by.append(source_name)
            known = {p for p, _, _ in change.properties}
            for prop in sorted(props):
                if prop not in known:
                    change.properties.append((prop, old[urn].get("inputs", {}).get(prop), AFTER_REPLACEMENT))
            if change.kind == "update":
                reasons = _forces_replacement(r["type"], sorted(props), r.get("replaceOnChanges", []))
                if reasons:
                    change.kind = "replace"
                    change.replace_reasons = [f"{p} (from the replacement of {source_name})" for p in reasons]
                    replaced.append(urn)
