"""Compare two plans: what a preview of the head would add, change, replace and remove."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Change", "PlanDiff", "diff_plans", "property_changes", "REPLACE_ON"]

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


def property_changes(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf-level differences between two JSON values."""
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
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out.extend(property_changes(b, a, f"{path}[{i}]"))
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
    """Resources are matched by URN (a rename without an alias is a remove and an add, as in Pulumi)."""
    old = {r["urn"]: r for r in base.get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    changes: list[Change] = []
    unchanged = 0
    for urn in sorted(set(old) | set(new)):
        b, a = old.get(urn), new.get(urn)
        if b is None:
            changes.append(Change(urn, a["type"], a["name"], "add",
                                  [(p, None, v) for p, _, v in property_changes({}, a.get("inputs", {}))],
                                  custom=a.get("custom", True)))
            continue
        if a is None:
            changes.append(Change(urn, b["type"], b["name"], "remove", custom=b.get("custom", True)))
            continue
        props = property_changes(b.get("inputs", {}), a.get("inputs", {}))
        options = [(f"(option) {k}", b.get(k), a.get(k)) for k in OPTION_KEYS if b.get(k) != a.get(k)]
        if not props and not options:
            unchanged += 1
            continue
        reasons = _forces_replacement(a["type"], [p for p, _, _ in props], a.get("replaceOnChanges", [])) \
            if a.get("custom") else []
        changes.append(Change(urn, a["type"], a["name"], "replace" if reasons else "update", props + options, reasons,
                              custom=a.get("custom", True)))
    return PlanDiff(stack=head.get("stack", ""), changes=changes, unchanged=unchanged)
