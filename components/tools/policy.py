"""Policy rules for our secure and reliable defaults, shared by the offline plan and the policy pack.

``python -m components.plan --policy`` runs :func:`evaluate` over the resources it recorded under
mocks; ``pulumi preview --policy-pack policy`` runs the same rule functions over what the real
engine sends (``policy/__main__.py``). Both see resource inputs with camelCase keys exactly as
registered, so one rule function serves both.

This module imports nothing from Pulumi, and from the rest of ``components`` only the dependency-free
``blocks/tags.py`` (the tag keys components set and rules read): the policy pack imports it (with the
repository root on ``sys.path``) in its own small virtualenv, which has no ``pulumi-aws``.

A rule is either per resource (``stack=False``: it looks at one resource's inputs and options; the
pack runs it before the resource is created) or per stack (``stack=True``: it follows property
dependencies to related resources, such as the public access block of a bucket; the pack runs it
over the whole stack at the end of a preview).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..blocks.tags import PUBLIC_URL_TAG

__all__ = [
    "ADVISORY", "MANDATORY", "PROTECTED_ENVIRONMENTS", "PUBLIC_URL_TAG", "RULES", "SEVERITIES",
    "CONFIG_NAMESPACE", "Context", "PolicyResult", "Resource", "Rule", "as_resource", "dig", "evaluate", "rule",
    "stack_environment",
]

MANDATORY = "mandatory"
ADVISORY = "advisory"
SEVERITIES = ("low", "medium", "high", "critical")

#: Environments whose stateful resources must carry Pulumi ``protect`` (the profiles with ``protect=True``).
PROTECTED_ENVIRONMENTS = ("prod",)

#: How a value not known yet looks: the offline plan writes ``[unknown]``; the engine sends sentinels.
UNKNOWN_VALUES = frozenset({
    "[unknown]",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
})

WORLD = ("0.0.0.0/0", "::/0")

#: The config namespace of the components' settings, whatever the program's own project is called.
CONFIG_NAMESPACE = "microservices"


def stack_environment(configured: str | None, stack: str | None) -> str | None:
    """The environment the rules judge a stack by: its ``microservices:environment`` config when set,
    else the last segment of the stack's name (``acme/prod`` -> ``prod``). The policy pack and the offline
    plan both use this, so a project of any name gets the same verdict from each."""
    if configured:
        return str(configured)
    return (stack or "").rsplit("/", 1)[-1] or None


@dataclass(frozen=True)
class PolicyResult:
    """One violation of one rule by one resource."""

    rule: str
    description: str
    enforcement: str
    """``mandatory`` (fails ``--policy`` with exit 3 and blocks ``pulumi up``) or ``advisory``."""
    severity: str
    """``low`` | ``medium`` | ``high`` | ``critical``."""
    urn: str
    type: str
    name: str
    message: str


@dataclass(frozen=True)
class Resource:
    """The view of a resource every rule gets: the same for a recorded plan and the real engine."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    custom: bool = True
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, path: str, default: Any = None) -> Any:
        """Input at a dotted camelCase path (``metadataOptions.httpTokens``, ``ingress.0.fromPort``)."""
        return dig(self.inputs, path, default)


class Context:
    """The environment and every resource of the stack, for rules that relate resources."""

    def __init__(self, environment: str | None, resources: Iterable[Resource]):
        self.environment = environment
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}

    def referencing(self, target: Resource, types: Sequence[str], prop: str) -> list[Resource]:
        """Resources of ``types`` whose input ``prop`` was computed from ``target`` (a property dependency)."""
        return [r for r in self.resources
                if r.type in types and target.urn in r.property_dependencies.get(prop, ())]

    def referenced(self, source: Resource, prop: str, types: Sequence[str]) -> list[Resource]:
        """Resources of ``types`` that ``source``'s input ``prop`` was computed from."""
        found = (self.by_urn.get(urn) for urn in source.property_dependencies.get(prop, ()))
        return [r for r in found if r is not None and r.type in types]


Check = Callable[[Resource, Context], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    """A rule definition: metadata for docs and the pack, and the check that yields violation messages."""

    name: str
    description: str
    enforcement: str
    severity: str
    resource_types: tuple[str, ...]
    check: Check = field(repr=False, compare=False)
    stack: bool = False
    """True when the check follows property dependencies to other resources."""


RULES: list[Rule] = []


def rule(name: str, description: str, *, types: Sequence[str], severity: str,
         enforcement: str = MANDATORY, stack: bool = False) -> Callable[[Check], Check]:
    """Register a check function as a rule."""
    assert severity in SEVERITIES and enforcement in (MANDATORY, ADVISORY)

    def register(check: Check) -> Check:
        RULES.append(Rule(name, description, enforcement, severity, tuple(types), check, stack))
        return check

    return register


# ---------------------------------------------------------------------------------------------
# Value helpers: inputs may come as JSON strings, floats for integers, "true" strings for booleans
# (launch templates), or unknown placeholders during a preview.


def dig(value: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted path (``"metadataOptions.httpTokens"``, list items by index), else ``default``."""
    cur = value
    for part in path.split("."):
        if isinstance(cur, Sequence) and not isinstance(cur, str):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return default
        elif isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        else:
            return default
    return cur


def unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def items(value: Any) -> list[Any]:
    """A list input as a list (None and unknown give an empty list)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def as_list(value: Any) -> list[Any]:
    """IAM allows a string or a list of strings wherever a list is expected."""
    return items(value) if not isinstance(value, str) else [value]


def parse_json(value: Any) -> Any:
    """A JSON document input (IAM policy, container definitions) parsed; None when not known yet."""
    if isinstance(value, str):
        if unknown(value) or "[unknown]" in value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def port_range(from_port: Any, to_port: Any, protocol: Any) -> range | None:
    """The ports a security group rule opens; None means every port (protocol ``-1``/``all``)."""
    if str(protocol).lower() in ("-1", "all"):
        return None
    try:
        low, high = int(float(from_port)), int(float(to_port))
    except (TypeError, ValueError):
        return None
    if low in (-1, 0) and high in (-1, 0, 65535):
        return None
    return range(low, high + 1)


def describe_ports(ports: range | None) -> str:
    if ports is None:
        return "all ports"
    return f"port {ports.start}" if len(ports) == 1 else f"ports {ports.start}-{ports.stop - 1}"


def is_world(cidr: Any) -> bool:
    if not isinstance(cidr, str) or unknown(cidr):
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# Resource types

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
BUCKET_PAB = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
STREAM = "aws:kinesis/stream:Stream"
QUEUE = "aws:sqs/queue:Queue"
REPOSITORY = "aws:ecr/repository:Repository"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
FUNCTION = "aws:lambda/function:Function"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
IAM_POLICY_DOCS = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy",
                   "aws:iam/groupPolicy:GroupPolicy")
IAM_ROLE = "aws:iam/role:Role"
IAM_ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                   "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                   "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
                   "aws:iam/policyAttachment:PolicyAttachment")
POD_SPEC_PATHS = {
    "kubernetes:core/v1:Pod": "spec",
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
}
#: Resources that hold data: deleting them loses it, so prod protects them (see ``Profile.protect``).
STATEFUL_TYPES = (*BUCKETS, "aws:dynamodb/table:Table", STREAM, QUEUE, REPOSITORY, EKS_CLUSTER,
                  "aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "aws:efs/fileSystem:FileSystem")
ADMIN_POLICY_ARN_SUFFIX = ":policy/AdministratorAccess"


# ---------------------------------------------------------------------------------------------
# Instances


@rule("imdsv2-required", "EC2 instances and launch templates require IMDSv2 session tokens.",
      types=(LAUNCH_TEMPLATE, INSTANCE), severity="high")
def _imdsv2(r: Resource, ctx: Context) -> Iterator[str]:
    if r.get("metadataOptions.httpEndpoint") == "disabled":
        return
    tokens = r.get("metadataOptions.httpTokens")
    if not unknown(tokens) and tokens != "required":
        yield (f"metadataOptions.httpTokens is {tokens!r} (AWS default \"optional\" allows IMDSv1): set it to "
               "\"required\" so a request forged through the instance cannot read its role's credentials")


@rule("ebs-encrypted", "EBS volumes (launch template and instance block devices, volumes) are encrypted.",
      types=(LAUNCH_TEMPLATE, INSTANCE, VOLUME), severity="high")
def _ebs_encrypted(r: Resource, ctx: Context) -> Iterator[str]:
    if r.type == VOLUME:
        if not _encrypted(r.get("encrypted")):
            yield "encrypted is not true: set encrypted = true"
        return
    if r.type == INSTANCE:
        devices = [("rootBlockDevice", r.get("rootBlockDevice"))]
        devices += [(f"ebsBlockDevices.{i}", d) for i, d in enumerate(items(r.get("ebsBlockDevices")))]
    else:
        devices = [(f"blockDeviceMappings.{i}.ebs", m.get("ebs")) for i, m in enumerate(items(r.get("blockDeviceMappings")))
                   if isinstance(m, Mapping) and m.get("ebs") is not None]
        if not devices:
            yield ("declares no EBS block device: the root volume then follows the AMI's snapshot, which may be "
                   "unencrypted; declare it with ebs.encrypted = \"true\"")
            return
    for path, device in devices:
        value = device.get("encrypted") if isinstance(device, Mapping) else None
        if device is None and r.type == INSTANCE:
            yield f"{path} is not declared: declare it with encrypted = true"
        elif not _encrypted(value):
            yield f"{path}.encrypted is {value!r}: set it to true"


def _encrypted(value: Any) -> bool:
    return unknown(value) or is_true(value)


@rule("no-public-ip", "Instances and ECS tasks get no public IP address.",
      types=(LAUNCH_TEMPLATE, INSTANCE, ECS_SERVICE), severity="high")
def _no_public_ip(r: Resource, ctx: Context) -> Iterator[str]:
    if r.type == INSTANCE and is_true(r.get("associatePublicIpAddress")):
        yield "associatePublicIpAddress is true: run instances in private subnets behind a load balancer"
    if r.type == LAUNCH_TEMPLATE:
        for i, nic in enumerate(items(r.get("networkInterfaces"))):
            if isinstance(nic, Mapping) and is_true(nic.get("associatePublicIpAddress")):
                yield f"networkInterfaces.{i}.associatePublicIpAddress is true: instances must not get a public IP"
    if r.type == ECS_SERVICE and is_true(r.get("networkConfiguration.assignPublicIp")):
        yield "networkConfiguration.assignPublicIp is true: tasks run in private subnets without a public IP"


# ---------------------------------------------------------------------------------------------
# Encryption at rest of data services


@rule("s3-encrypted", "S3 buckets have default server-side encryption configured.",
      types=BUCKETS, severity="high", stack=True)
def _s3_encrypted(r: Resource, ctx: Context) -> Iterator[str]:
    inline = r.get("serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault.sseAlgorithm")
    if inline:
        return
    for sse in ctx.referencing(r, BUCKET_SSE, "bucket"):
        for rule_ in items(sse.get("rules")):
            if dig(rule_, "applyServerSideEncryptionByDefault.sseAlgorithm"):
                return
    yield ("no BucketServerSideEncryptionConfiguration applies to this bucket: add one with "
           "sseAlgorithm \"aws:kms\" or \"AES256\"")


@rule("s3-public-access-blocked", "S3 buckets block every kind of public access.",
      types=BUCKETS, severity="critical", stack=True)
def _s3_public_access(r: Resource, ctx: Context) -> Iterator[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    blocks = ctx.referencing(r, BUCKET_PAB, "bucket")
    if not blocks:
        yield f"no BucketPublicAccessBlock applies to this bucket: add one with {', '.join(flags)} all true"
        return
    for block in blocks:
        off = [f for f in flags if not (is_true(block.get(f)) or unknown(block.get(f)))]
        if off:
            yield f"{block.name}: {', '.join(off)} not true: set all four flags to true"


@rule("s3-tls-only", "S3 bucket policies deny requests that do not use TLS (aws:SecureTransport).",
      types=BUCKETS, severity="high", stack=True)
def _s3_tls_only(r: Resource, ctx: Context) -> Iterator[str]:
    documents = [r.get("policy")] + [p.get("policy") for p in ctx.referencing(r, BUCKET_POLICY, "bucket")]
    parsed = [parse_json(d) for d in documents if d is not None]
    if any(d is None for d in parsed):
        return
    if not any(_denies_insecure_transport(d) for d in parsed):
        yield ("no bucket policy denies requests with aws:SecureTransport \"false\": add a BucketPolicy with a "
               "Deny statement for that condition")


def _denies_insecure_transport(document: Any) -> bool:
    for stmt in _statements(document):
        if stmt.get("Effect") != "Deny":
            continue
        condition = dig(stmt, "Condition.Bool.aws:SecureTransport")
        if any(str(v).lower() == "false" for v in as_list(condition)):
            return True
    return False


@rule("kinesis-encrypted", "Kinesis streams are encrypted with KMS.", types=(STREAM,), severity="high")
def _kinesis_encrypted(r: Resource, ctx: Context) -> Iterator[str]:
    value = r.get("encryptionType")
    if not unknown(value) and value != "KMS":
        yield f"encryptionType is {value!r}: set it to \"KMS\" (kmsKeyId \"alias/aws/kinesis\" or your own key)"


@rule("sqs-encrypted", "SQS queues are encrypted (SQS-managed SSE or a KMS key), declared explicitly.",
      types=(QUEUE,), severity="high")
def _sqs_encrypted(r: Resource, ctx: Context) -> Iterator[str]:
    sse, kms = r.get("sqsManagedSseEnabled"), r.get("kmsMasterKeyId")
    if not (is_true(sse) or unknown(sse) or kms):
        yield "neither sqsManagedSseEnabled nor kmsMasterKeyId is set: set sqsManagedSseEnabled = true or a KMS key"


@rule("ecr-encrypted", "ECR repositories declare their encryption (AES256 or KMS).",
      types=(REPOSITORY,), severity="medium")
def _ecr_encrypted(r: Resource, ctx: Context) -> Iterator[str]:
    configs = items(r.get("encryptionConfigurations"))
    kinds = [dig(c, "encryptionType") for c in configs]
    if not configs or not all(unknown(k) or k in ("AES256", "KMS", "KMS_DSSE") for k in kinds):
        yield f"encryptionConfigurations is {configs!r}: declare encryptionType \"KMS\" or \"AES256\""


# ---------------------------------------------------------------------------------------------
# Network exposure


@rule("sg-no-world-ingress", "Security groups admit 0.0.0.0/0 or ::/0 only on their load balancer's listener ports.",
      types=(SECURITY_GROUP, SG_RULE, SG_INGRESS_RULE), severity="critical", stack=True)
def _sg_world_ingress(r: Resource, ctx: Context) -> Iterator[str]:
    for label, group, cidrs, ports in _world_ingress(r, ctx):
        allowed = _listener_ports(group, ctx) if group is not None else set()
        if ports is not None and allowed and set(ports) <= allowed:
            continue
        shown = ", ".join(str(p) for p in sorted(allowed)) or "none"
        yield (f"{label} opens {describe_ports(ports)} to {', '.join(cidrs)}; only the listener ports of a load "
               f"balancer using this security group may be open to the internet (here: {shown})")


def _world_ingress(r: Resource, ctx: Context) -> Iterator[tuple[str, Resource | None, list[str], range | None]]:
    """(label, security group, world CIDRs, ports) of each ingress rule ``r`` opens to the world."""
    if r.type == SECURITY_GROUP:
        for i, rule_ in enumerate(items(r.get("ingress"))):
            cidrs = [c for c in as_list(dig(rule_, "cidrBlocks")) + as_list(dig(rule_, "ipv6CidrBlocks")) if is_world(c)]
            if cidrs:
                yield (f"ingress.{i}", r, cidrs,
                       port_range(dig(rule_, "fromPort"), dig(rule_, "toPort"), dig(rule_, "protocol")))
        return
    if r.type == SG_RULE:
        if r.get("type") != "ingress":
            return
        cidrs = [c for c in as_list(r.get("cidrBlocks")) + as_list(r.get("ipv6CidrBlocks")) if is_world(c)]
        protocol = r.get("protocol")
    else:
        cidrs = [c for c in (r.get("cidrIpv4"), r.get("cidrIpv6")) if is_world(c)]
        protocol = r.get("ipProtocol")
    if cidrs:
        groups = ctx.referenced(r, "securityGroupId", (SECURITY_GROUP,))
        yield ("the rule", groups[0] if groups else None, cidrs,
               port_range(r.get("fromPort"), r.get("toPort"), protocol))


def _listener_ports(group: Resource, ctx: Context) -> set[int]:
    ports: set[int] = set()
    for lb in ctx.referencing(group, LOAD_BALANCERS, "securityGroups"):
        for listener in ctx.referencing(lb, LISTENERS, "loadBalancerArn"):
            port = listener.get("port")
            if isinstance(port, (int, float)):
                ports.add(int(port))
    return ports


@rule("alb-drop-invalid-headers", "Application load balancers drop invalid HTTP header fields.",
      types=LOAD_BALANCERS, severity="medium")
def _alb_headers(r: Resource, ctx: Context) -> Iterator[str]:
    if r.get("loadBalancerType", "application") != "application":
        return
    value = r.get("dropInvalidHeaderFields")
    if not (is_true(value) or unknown(value)):
        yield "dropInvalidHeaderFields is not true: set it to true (header smuggling protection)"


@rule("alb-tls13-policy", "HTTPS and TLS listeners use a TLS 1.3 security policy.",
      types=LISTENERS, severity="high")
def _listener_tls13(r: Resource, ctx: Context) -> Iterator[str]:
    if r.get("protocol") not in ("HTTPS", "TLS"):
        return
    policy = r.get("sslPolicy")
    if not unknown(policy) and "TLS13" not in str(policy or ""):
        yield (f"sslPolicy is {policy!r} (AWS default ELBSecurityPolicy-2016-08 allows TLS 1.0): "
               "use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS13 policy")


@rule("alb-http-redirects-to-https", "A load balancer that serves HTTPS uses its HTTP listeners only to redirect to HTTPS.",
      types=LISTENERS, severity="high", stack=True)
def _http_redirects(r: Resource, ctx: Context) -> Iterator[str]:
    if r.get("protocol") != "HTTP":
        return
    for lb in ctx.referenced(r, "loadBalancerArn", LOAD_BALANCERS):
        siblings = ctx.referencing(lb, LISTENERS, "loadBalancerArn")
        if any(s.get("protocol") == "HTTPS" for s in siblings) and not _only_redirects_to_https(r):
            yield (f"load balancer {lb.name} serves HTTPS but this HTTP listener does not only redirect: "
                   "make its default action a redirect with protocol HTTPS")


def _only_redirects_to_https(listener: Resource) -> bool:
    actions = items(listener.get("defaultActions"))
    return bool(actions) and all(dig(a, "type") == "redirect" and dig(a, "redirect.protocol") == "HTTPS"
                                 for a in actions)


@rule("alb-public-https", "Internet-facing application load balancers serve HTTPS.",
      types=LOAD_BALANCERS, severity="medium", enforcement=ADVISORY, stack=True)
def _public_https(r: Resource, ctx: Context) -> Iterator[str]:
    if r.get("loadBalancerType", "application") != "application" or r.get("internal") is not False:
        return
    listeners = ctx.referencing(r, LISTENERS, "loadBalancerArn")
    if listeners and not any(l.get("protocol") == "HTTPS" for l in listeners):
        yield "internet-facing and serves plain HTTP only: give the service a certificate_arn to add HTTPS"


# ---------------------------------------------------------------------------------------------
# Lambda


@rule("lambda-permission-source-arn", "Lambda permissions for AWS services are scoped by source ARN.",
      types=(LAMBDA_PERMISSION,), severity="high")
def _lambda_permission(r: Resource, ctx: Context) -> Iterator[str]:
    if r.get("action") == "lambda:InvokeFunctionUrl" or is_true(r.get("invokedViaFunctionUrl")):
        return  # the grants behind a function URL: lambda-url-iam-auth judges those
    principal = str(r.get("principal") or "")
    if principal == "*":
        yield "principal is \"*\": grant the invoking service and scope it with sourceArn"
    elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
        if not r.get("sourceArn"):
            yield f"principal {principal} without sourceArn lets any {principal} resource of any account invoke it"
        if principal.startswith("s3.") and not r.get("sourceAccount"):
            yield "S3 bucket ARNs carry no account: also set sourceAccount"


@rule("lambda-url-iam-auth", f"Function URLs use AWS_IAM auth unless the function is tagged {PUBLIC_URL_TAG}=true (public: true).",
      types=(FUNCTION_URL,), severity="high", stack=True)
def _function_url(r: Resource, ctx: Context) -> Iterator[str]:
    auth = r.get("authorizationType")
    if auth == "AWS_IAM" or unknown(auth):
        return
    functions = ctx.referenced(r, "functionName", (FUNCTION,))
    if functions and all(is_true(dig(f.inputs, f"tags.{PUBLIC_URL_TAG}")) for f in functions):
        return
    yield (f"authorizationType is {auth!r} on a function not marked public: use \"AWS_IAM\", or set public: true "
           f"on the url trigger (tags the function {PUBLIC_URL_TAG}=true)")


# ---------------------------------------------------------------------------------------------
# Containers


@rule("ecr-immutable-scan", "ECR repositories have immutable tags and scan images on push.",
      types=(REPOSITORY,), severity="medium")
def _ecr_immutable(r: Resource, ctx: Context) -> Iterator[str]:
    mutability = r.get("imageTagMutability", "MUTABLE")
    if not unknown(mutability) and not str(mutability).startswith("IMMUTABLE"):
        yield f"imageTagMutability is {mutability!r}: set it to \"IMMUTABLE\" so a deployed tag never changes"
    scan = r.get("imageScanningConfiguration.scanOnPush")
    if not (is_true(scan) or unknown(scan)):
        yield "imageScanningConfiguration.scanOnPush is not true: set it to true"


@rule("ecs-circuit-breaker", "ECS services roll back failed deployments (deployment circuit breaker with rollback).",
      types=(ECS_SERVICE,), severity="high")
def _ecs_circuit_breaker(r: Resource, ctx: Context) -> Iterator[str]:
    if r.get("deploymentController.type", "ECS") != "ECS":
        return
    enable, rollback = r.get("deploymentCircuitBreaker.enable"), r.get("deploymentCircuitBreaker.rollback")
    if not ((is_true(enable) or unknown(enable)) and (is_true(rollback) or unknown(rollback))):
        yield "deploymentCircuitBreaker must have enable = true and rollback = true"


@rule("ecs-read-only-root", "ECS containers run with a read-only root filesystem.",
      types=(TASK_DEFINITION,), severity="high")
def _ecs_read_only(r: Resource, ctx: Context) -> Iterator[str]:
    containers = parse_json(r.get("containerDefinitions"))
    for container in items(containers):
        if isinstance(container, Mapping) and container.get("readonlyRootFilesystem") is not True:
            yield (f"container {container.get('name')!r} has readonlyRootFilesystem "
                   f"{container.get('readonlyRootFilesystem')!r}: set it to true (writable paths as volumes)")


@rule("eks-private-endpoint", "EKS API endpoints are private; a public endpoint is limited to given CIDRs.",
      types=(EKS_CLUSTER,), severity="high")
def _eks_endpoint(r: Resource, ctx: Context) -> Iterator[str]:
    private, public = r.get("vpcConfig.endpointPrivateAccess"), r.get("vpcConfig.endpointPublicAccess")
    if not (is_true(private) or unknown(private)):
        yield "vpcConfig.endpointPrivateAccess is not true: enable the private endpoint"
    if public is False or unknown(public):
        return
    cidrs = as_list(r.get("vpcConfig.publicAccessCidrs"))
    if not cidrs or any(is_world(c) for c in cidrs):
        yield ("the public endpoint (AWS default: on) is open to 0.0.0.0/0: set endpointPublicAccess = false, "
               "or publicAccessCidrs to your admin networks")


@rule("eks-secrets-encryption", "EKS clusters encrypt Kubernetes secrets with a KMS key.",
      types=(EKS_CLUSTER,), severity="high")
def _eks_secrets(r: Resource, ctx: Context) -> Iterator[str]:
    resources = as_list(r.get("encryptionConfig.resources"))
    if "secrets" not in resources or not r.get("encryptionConfig.provider.keyArn"):
        yield "encryptionConfig must list resources [\"secrets\"] with provider.keyArn set to a KMS key"


@rule("k8s-restricted-security-context", "Kubernetes workloads meet the restricted Pod Security Standard and a read-only root filesystem.",
      types=tuple(POD_SPEC_PATHS), severity="high")
def _k8s_restricted(r: Resource, ctx: Context) -> Iterator[str]:
    spec = r.get(POD_SPEC_PATHS[r.type])
    if not isinstance(spec, Mapping):
        return
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(spec.get(key)):
            yield f"pod {key} is true: not allowed"
    if any(isinstance(v, Mapping) and "hostPath" in v for v in items(spec.get("volumes"))):
        yield "pod mounts a hostPath volume: not allowed"
    pod_ctx = spec.get("securityContext") if isinstance(spec.get("securityContext"), Mapping) else {}
    for kind in ("initContainers", "containers"):
        for container in items(spec.get(kind)):
            if isinstance(container, Mapping):
                problems = _container_problems(container, pod_ctx)
                if problems:
                    yield f"container {container.get('name')!r}: {'; '.join(problems)}"


def _container_problems(container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    sc = container.get("securityContext") if isinstance(container.get("securityContext"), Mapping) else {}

    def effective(key: str) -> Any:
        return sc[key] if key in sc else pod.get(key)

    problems = []
    if effective("runAsNonRoot") is not True:
        problems.append("runAsNonRoot must be true")
    user = effective("runAsUser")
    if isinstance(user, (int, float)) and int(user) == 0:
        problems.append("runAsUser must not be 0")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation must be false")
    if sc.get("privileged") is True:
        problems.append("privileged must not be true")
    caps = sc.get("capabilities") if isinstance(sc.get("capabilities"), Mapping) else {}
    if "ALL" not in as_list(caps.get("drop")):
        problems.append("capabilities.drop must include ALL")
    added = [c for c in as_list(caps.get("add")) if c != "NET_BIND_SERVICE"]
    if added:
        problems.append(f"capabilities.add may only hold NET_BIND_SERVICE, got {added}")
    seccomp = dig(effective("seccompProfile") or {}, "type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append("seccompProfile.type must be RuntimeDefault (or Localhost)")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem must be true")
    return problems


# ---------------------------------------------------------------------------------------------
# Operations and identity


@rule("log-group-retention", "CloudWatch log groups have a retention period.", types=(LOG_GROUP,), severity="medium")
def _log_retention(r: Resource, ctx: Context) -> Iterator[str]:
    days = r.get("retentionInDays")
    if unknown(days):
        return
    if not isinstance(days, (int, float)) or days <= 0:
        yield f"retentionInDays is {days!r}: logs would be kept (and billed) forever; set a retention"


@rule("iam-no-wildcard-admin", "IAM policies never allow every action, or every action of a service (\"iam:*\", "
      "\"s3:*\"), on every resource, nor use NotAction/NotResource to the same effect (nor attach AdministratorAccess).",
      types=(*IAM_POLICY_DOCS, IAM_ROLE, *IAM_ATTACHMENTS), severity="critical")
def _iam_wildcard(r: Resource, ctx: Context) -> Iterator[str]:
    if r.type in IAM_ATTACHMENTS:
        if str(r.get("policyArn") or "").endswith(ADMIN_POLICY_ARN_SUFFIX):
            yield "attaches AdministratorAccess: grant the actions and resources the service needs"
        return
    documents: list[tuple[str, Any]] = []
    if r.type == IAM_ROLE:
        documents = [(f"inlinePolicies.{i}", dig(p, "policy")) for i, p in enumerate(items(r.get("inlinePolicies")))]
        if any(str(a).endswith(ADMIN_POLICY_ARN_SUFFIX) for a in as_list(r.get("managedPolicyArns"))):
            yield "managedPolicyArns includes AdministratorAccess: grant the actions and resources the service needs"
    else:
        documents = [("policy", r.get("policy"))]
    for label, document in documents:
        for i, stmt in enumerate(_statements(parse_json(document))):
            if str(stmt.get("Effect", "Allow")) != "Allow":
                continue
            actions = _broad_actions(stmt)
            resources = _broad_resources(stmt)
            if actions and resources:
                yield (f"{label} statement {i} allows {actions} on {resources}: name the actions the service calls "
                       "and the resources it uses")


def _broad_actions(stmt: Mapping[str, Any]) -> str | None:
    """How a statement's actions cover a whole service or more, or None. IAM action names are
    case-insensitive; ``NotAction`` with ``Allow`` grants every action but the listed ones."""
    if "NotAction" in stmt:
        return f"every action except NotAction {json.dumps(stmt['NotAction'])}"
    found = [a for a in as_list(stmt.get("Action")) if isinstance(a, str) and not unknown(a)
             and (a.strip() in ("*", "*:*") or re.fullmatch(r"[a-z0-9-]+:\*", a.strip().lower()))]
    if not found:
        return None
    return "\"*\" actions" if any(a.strip() in ("*", "*:*") for a in found) else \
        f"every action of a service ({', '.join(json.dumps(a) for a in found)})"


def _broad_resources(stmt: Mapping[str, Any]) -> str | None:
    """How a statement's resources cover every resource, or None: ``*``, an ARN whose resource part is
    only ``*`` (``arn:aws:s3:::*``), or ``NotResource`` (every resource but the listed ones)."""
    if "NotResource" in stmt:
        return f"every resource except NotResource {json.dumps(stmt['NotResource'])}"
    for res in as_list(stmt.get("Resource")):
        if not isinstance(res, str) or unknown(res):
            continue
        parts = res.split(":", 5)
        if res.strip() == "*" or (len(parts) == 6 and parts[0] == "arn" and parts[5].strip("/") == "*"):
            return "\"*\" resources" if res.strip() == "*" else f"every resource ({json.dumps(res)})"
    return None


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    stmts = document.get("Statement")
    return [s for s in ([stmts] if isinstance(stmts, Mapping) else items(stmts)) if isinstance(s, Mapping)]


@rule("stateful-protected-in-prod", "In prod, stateful resources (buckets, tables, streams, queues, repositories, "
      "EKS clusters, databases) are protected from deletion by Pulumi protect.",
      types=STATEFUL_TYPES, severity="high")
def _protected(r: Resource, ctx: Context) -> Iterator[str]:
    if ctx.environment in PROTECTED_ENVIRONMENTS and not r.protect:
        yield (f"not protected in {ctx.environment}: a rename or a removed catalog entry would delete its data; "
               "create it with ResourceOptions(protect=True) (the prod profile does)")


# ---------------------------------------------------------------------------------------------
# Running the rules


def as_resource(obj: Any) -> Resource:
    """A :class:`Resource` from a recorded registration, a plan JSON entry or a Resource."""
    if isinstance(obj, Resource):
        return obj

    def attr(name: str, json_key: str | None = None, default: Any = None) -> Any:
        if isinstance(obj, Mapping):
            return obj.get(json_key or name, default)
        return getattr(obj, name, default)

    deps = attr("property_dependencies", "propertyDependencies", {}) or {}
    return Resource(urn=attr("urn"), type=attr("type"), name=attr("name"), inputs=attr("inputs", default={}) or {},
                    protect=bool(attr("protect", default=False)), parent=attr("parent"),
                    custom=bool(attr("custom", default=True)),
                    property_dependencies={k: tuple(v) for k, v in deps.items()})


def evaluate(resources: Iterable[Any], environment: str | None, rules: Sequence[Rule] | None = None) -> list[PolicyResult]:
    """Every violation of ``rules`` (default: all) by ``resources``: mandatory first, then by rule and URN."""
    ctx = Context(environment, [as_resource(r) for r in resources])
    results = []
    for rule_ in RULES if rules is None else rules:
        for res in ctx.resources:
            if res.custom and res.type in rule_.resource_types:
                for message in rule_.check(res, ctx):
                    results.append(PolicyResult(rule_.name, rule_.description, rule_.enforcement, rule_.severity,
                                                res.urn, res.type, res.name, message))
    order = {MANDATORY: 0, ADVISORY: 1}
    return sorted(results, key=lambda p: (order[p.enforcement], p.rule, p.urn, p.message))
