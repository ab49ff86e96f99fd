"""Realistic, deterministic answers for the mock runtime: resource ids, ARNs and invoke results.

Every value is derived from the resource's type and name, so two runs give the same plan.
Pattern-specific computed outputs live in :data:`STATE_EXTRAS` (resource type -> function).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pulumi

__all__ = ["ACCOUNT_ID", "PlanMocks", "STATE_EXTRAS"]

ACCOUNT_ID = "123456789012"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
PARTITION = "aws"
MOCK_AMI = "ami-0abcdef1234567890"
#: Elastic Load Balancing's log-delivery accounts of a few regions (AWS documents the full list).
ELB_ACCOUNTS = {"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-2": "797873946194",
                "eu-west-1": "156460612806", "eu-central-1": "054676820928"}

#: Prefixes of EC2 ids by resource type.
ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/instance:Instance": "i-",
    "aws:ec2/networkAcl:NetworkAcl": "acl-",
}


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _service_of(type_: str) -> str:
    # "aws:lambda/function:Function" -> "lambda"
    module = type_.split(":")[1] if type_.count(":") >= 2 else type_
    return module.split("/")[0]


def _lambda_extras(name: str, inputs: dict, region: str) -> dict:
    fn = inputs.get("name") or name
    arn = f"arn:{PARTITION}:lambda:{region}:{ACCOUNT_ID}:function:{fn}"
    return {
        "arn": arn, "qualifiedArn": f"{arn}:1", "version": "1",
        "invokeArn": f"arn:{PARTITION}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "qualifiedInvokeArn": f"arn:{PARTITION}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}:1/invocations",
    }


def _lb_extras(name: str, inputs: dict, region: str) -> dict:
    lb = inputs.get("name") or name
    kind = "net" if inputs.get("loadBalancerType") == "network" else "app"
    suffix = f"{kind}/{lb}/{_digest(name, length=16)}"
    return {"arn": f"arn:{PARTITION}:elasticloadbalancing:{region}:{ACCOUNT_ID}:loadbalancer/{suffix}",
            "arnSuffix": suffix, "dnsName": f"{lb}-{_digest(name, length=10)}.{region}.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K"}


def _tg_extras(name: str, inputs: dict, region: str) -> dict:
    tg = inputs.get("name") or name
    suffix = f"targetgroup/{tg}/{_digest(name, length=16)}"
    return {"arn": f"arn:{PARTITION}:elasticloadbalancing:{region}:{ACCOUNT_ID}:{suffix}", "arnSuffix": suffix}


def _eks_extras(name: str, inputs: dict, region: str) -> dict:
    cluster = inputs.get("name") or name
    ca = base64.b64encode(f"mock-ca-{cluster}".encode()).decode()
    return {
        "arn": f"arn:{PARTITION}:eks:{region}:{ACCOUNT_ID}:cluster/{cluster}",
        "endpoint": f"https://{_digest(cluster, length=32).upper()}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": ca},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{_digest(cluster, length=32).upper()}"}]}],
        "clusterSecurityGroupId": f"sg-{_digest(cluster, 'cluster')}",
        "version": inputs.get("version", "1.33"),
        "vpcConfig": {**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{_digest(cluster, 'cluster')}"},
    }


def _api_extras(name: str, inputs: dict, region: str) -> dict:
    api_id = _digest(name, length=10)
    return {"apiEndpoint": f"https://{api_id}.execute-api.{region}.amazonaws.com",
            "executionArn": f"arn:{PARTITION}:execute-api:{region}:{ACCOUNT_ID}:{api_id}",
            "arn": f"arn:{PARTITION}:apigateway:{region}::/apis/{api_id}"}


def _ecr_extras(name: str, inputs: dict, region: str) -> dict:
    repo = inputs.get("name") or name
    return {"repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{repo}",
            "registryId": ACCOUNT_ID, "arn": f"arn:{PARTITION}:ecr:{region}:{ACCOUNT_ID}:repository/{repo}"}


def _sqs_extras(name: str, inputs: dict, region: str) -> dict:
    queue = inputs.get("name") or name
    return {"arn": f"arn:{PARTITION}:sqs:{region}:{ACCOUNT_ID}:{queue}",
            "url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{queue}"}


def _launch_template_extras(name: str, inputs: dict, region: str) -> dict:
    return {"latestVersion": 1, "defaultVersion": 1}


def _docker_image_extras(name: str, inputs: dict, region: str) -> dict:
    image = inputs.get("imageName") or name
    return {"repoDigest": f"{str(image).split(':')[0]}@sha256:{_digest(str(image), length=64)}",
            "imageName": image}


def _kinesis_extras(name: str, inputs: dict, region: str) -> dict:
    stream = inputs.get("name") or name
    return {"arn": f"arn:{PARTITION}:kinesis:{region}:{ACCOUNT_ID}:stream/{stream}"}


def _dynamodb_extras(name: str, inputs: dict, region: str) -> dict:
    table = inputs.get("name") or name
    arn = f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
    return {"arn": arn, "streamArn": f"{arn}/stream/2026-01-01T00:00:00.000"}


def _log_group_extras(name: str, inputs: dict, region: str) -> dict:
    group = inputs.get("name") or name
    return {"arn": f"arn:{PARTITION}:logs:{region}:{ACCOUNT_ID}:log-group:{group}"}


def _iam_extras(kind: str) -> Callable[[str, dict, str], dict]:
    def extras(name: str, inputs: dict, region: str) -> dict:
        res = inputs.get("name") or name
        return {"arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:{kind}/{res}", "uniqueId": f"AROA{_digest(name, length=17).upper()}"}
    return extras


def _s3_extras(name: str, inputs: dict, region: str) -> dict:
    bucket = inputs.get("bucket") or name
    return {"arn": f"arn:{PARTITION}:s3:::{bucket}", "bucket": bucket,
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com"}


def _remote_image_extras(name: str, inputs: dict, region: str) -> dict:
    ref = str(inputs.get("name") or name)
    return {"imageId": f"sha256:{_digest(ref, length=64)}",
            "repoDigest": f"{ref.split('@')[0].rsplit(':', 1)[0]}@sha256:{_digest(ref, length=64)}"}


def _docker_named_extras(name: str, inputs: dict, region: str) -> dict:
    return {"name": inputs.get("name") or f"{name}-{_digest(name, length=7)}"}


def _task_definition_extras(name: str, inputs: dict, region: str) -> dict:
    family = inputs.get("family") or name
    base = f"arn:{PARTITION}:ecs:{region}:{ACCOUNT_ID}:task-definition/{family}"
    return {"arn": f"{base}:1", "arnWithoutRevision": base, "revision": 1}


def _http_namespace_extras(name: str, inputs: dict, region: str) -> dict:
    ns = f"ns-{_digest(name, length=16)}"
    return {"arn": f"arn:{PARTITION}:servicediscovery:{region}:{ACCOUNT_ID}:namespace/{ns}"}


def _imagebuilder_image_extras(name: str, inputs: dict, region: str) -> dict:
    # A new service version bakes a new AMI: derive the id from the name and the Version tag.
    version = str((inputs.get("tags") or {}).get("Version", "1.0.0"))
    ami = f"ami-{_digest(name, version)}"
    return {"arn": f"arn:{PARTITION}:imagebuilder:{region}:{ACCOUNT_ID}:image/{name}/{version}/1",
            "version": f"{version}/1", "platform": "Linux",
            "outputResources": [{"amis": [{"image": ami, "region": region, "accountId": ACCOUNT_ID,
                                           "name": f"{name}-{version}", "description": ""}], "containers": []}]}


def _imagebuilder_extras(kind: str, versioned: bool) -> Callable[[str, dict, str], dict]:
    """Image Builder ARNs as AWS shapes them: hyphenated kinds, lowercase names, semantic versions."""
    def extras(name: str, inputs: dict, region: str) -> dict:
        res = str(inputs.get("name") or f"{name}-{_digest(name, length=7)}").lower()
        version = f"/{inputs.get('version') or '1.0.0'}" if versioned else ""
        build = "/1" if kind == "component" else ""
        return {"arn": f"arn:{PARTITION}:imagebuilder:{region}:{ACCOUNT_ID}:{kind}/{res}{version}{build}"}
    return extras


def _lambda_alias_extras(name: str, inputs: dict, region: str) -> dict:
    fn_arn = f"arn:{PARTITION}:lambda:{region}:{ACCOUNT_ID}:function:{inputs.get('functionName') or name}"
    arn = f"{fn_arn}:{inputs.get('name') or 'live'}"
    return {"arn": arn,
            "invokeArn": f"arn:{PARTITION}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"}


def _event_rule_extras(name: str, inputs: dict, region: str) -> dict:
    rule = inputs.get("name") or name
    return {"arn": f"arn:{PARTITION}:events:{region}:{ACCOUNT_ID}:rule/{rule}"}


def _function_url_extras(name: str, inputs: dict, region: str) -> dict:
    return {"functionUrl": f"https://{_digest(name, length=32)}.lambda-url.{region}.on.aws/",
            "urlId": _digest(name, length=32)}


def _certificate_extras(name: str, inputs: dict, region: str) -> dict:
    # ACM asks for one CNAME per domain: _<hash>.<domain>. -> _<hash>.<hash>.acm-validations.aws.
    domains = [inputs.get("domainName")] + list(inputs.get("subjectAlternativeNames") or [])
    d = _digest(name, "certificate", length=32)
    cert_id = f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:]}"
    return {"arn": f"arn:{PARTITION}:acm:{region}:{ACCOUNT_ID}:certificate/{cert_id}",
            "domainValidationOptions": [
                {"domainName": d, "resourceRecordName": f"_{_digest(str(d), length=32)}.{d}.",
                 "resourceRecordType": "CNAME",
                 "resourceRecordValue": f"_{_digest(str(d), 'value', length=32)}.mock.acm-validations.aws."}
                for d in domains if d]}


def _domain_name_extras(name: str, inputs: dict, region: str) -> dict:
    # A regional custom domain answers on its own d-<id> name in API Gateway's hosted zone for the region
    # (Z1UJRXOUMOOFQ8 in us-east-1), which the alias record points at.
    config = dict(inputs.get("domainNameConfiguration") or {})
    config.update(targetDomainName=f"d-{_digest(name, length=10)}.execute-api.{region}.amazonaws.com",
                  hostedZoneId="Z1UJRXOUMOOFQ8")
    return {"domainNameConfiguration": config, "apiMappingSelectionExpression": "$request.basepath",
            "arn": f"arn:{PARTITION}:apigateway:{region}::/domainnames/{inputs.get('domainName')}"}


def _record_extras(name: str, inputs: dict, region: str) -> dict:
    return {"fqdn": str(inputs.get("name") or name).rstrip(".")}


#: Resource type -> function(name, inputs, region) giving computed outputs. Extend for new types.
STATE_EXTRAS: dict[str, Callable[[str, dict, str], dict]] = {
    "aws:lambda/function:Function": _lambda_extras,
    "aws:lambda/alias:Alias": _lambda_alias_extras,
    "aws:cloudwatch/eventRule:EventRule": _event_rule_extras,
    "aws:lambda/functionUrl:FunctionUrl": _function_url_extras,
    "aws:lb/loadBalancer:LoadBalancer": _lb_extras,
    "aws:acm/certificate:Certificate": _certificate_extras,
    "aws:route53/record:Record": _record_extras,
    "aws:lb/targetGroup:TargetGroup": _tg_extras,
    "aws:eks/cluster:Cluster": _eks_extras,
    "aws:apigatewayv2/api:Api": _api_extras,
    "aws:apigatewayv2/domainName:DomainName": _domain_name_extras,
    "aws:ecr/repository:Repository": _ecr_extras,
    "aws:sqs/queue:Queue": _sqs_extras,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template_extras,
    "docker:index/image:Image": _docker_image_extras,
    "docker:index/remoteImage:RemoteImage": _remote_image_extras,
    "docker:index/network:Network": _docker_named_extras,
    "docker:index/container:Container": _docker_named_extras,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition_extras,
    "aws:servicediscovery/httpNamespace:HttpNamespace": _http_namespace_extras,
    "aws:kinesis/stream:Stream": _kinesis_extras,
    "aws:dynamodb/table:Table": _dynamodb_extras,
    "aws:cloudwatch/logGroup:LogGroup": _log_group_extras,
    "aws:iam/role:Role": _iam_extras("role"),
    "aws:iam/policy:Policy": _iam_extras("policy"),
    "aws:iam/instanceProfile:InstanceProfile": _iam_extras("instance-profile"),
    "aws:s3/bucket:Bucket": _s3_extras,
    "aws:s3/bucketV2:BucketV2": _s3_extras,
    "aws:imagebuilder/image:Image": _imagebuilder_image_extras,
    "aws:imagebuilder/component:Component": _imagebuilder_extras("component", versioned=True),
    "aws:imagebuilder/imageRecipe:ImageRecipe": _imagebuilder_extras("image-recipe", versioned=True),
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration":
        _imagebuilder_extras("distribution-configuration", versioned=False),
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration":
        _imagebuilder_extras("infrastructure-configuration", versioned=False),
}


class PlanMocks(pulumi.runtime.Mocks):
    """Deterministic resource state and invoke answers for region ``region``."""

    def __init__(self, region: str = "us-east-1", stack_references: dict[str, dict[str, Any]] | None = None):
        self.region = region
        self.stack_references = dict(stack_references or {})
        """Outputs of the stacks a program references (``pulumi.StackReference``), by stack name. A stack not
        listed has no outputs: ``get_output`` gives ``None`` and ``require_output`` fails naming the output."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        type_ = args.typ
        if type_ == STACK_REFERENCE:
            stack = str(inputs.get("name") or args.name)
            outputs = self.stack_references.get(stack, {})
            return stack, {"name": stack, "outputs": outputs, "secretOutputNames": []}
        if type_.startswith("kubernetes:"):
            meta = dict(inputs.get("metadata") or {})
            meta.setdefault("name", f"{args.name}-{_digest(args.name, length=8)}")
            inputs["metadata"] = meta
            return f"{meta.get('namespace', 'default')}/{meta['name']}", inputs
        prefix = ID_PREFIXES.get(type_)
        resource_id = f"{prefix}{_digest(type_, args.name)}" if prefix else f"{args.name}-{_digest(type_, args.name, length=7)}"
        state: dict[str, Any] = {"id": resource_id}
        if type_.startswith("aws:"):
            service = _service_of(type_)
            physical = inputs.get("name") or f"{args.name}-{_digest(args.name, length=7)}"
            state["arn"] = f"arn:{PARTITION}:{service}:{self.region}:{ACCOUNT_ID}:{type_.rsplit(':', 1)[-1].lower()}/{physical}"
            if "name" not in inputs and "name_prefix" not in inputs:
                state["name"] = physical
        extras = STATE_EXTRAS.get(type_)
        if extras is not None:
            state.update(extras(args.name, {**state, **inputs}, self.region))
        computed = {k: v for k, v in state.items() if isinstance(v, dict)}
        state.update(inputs)
        # Computed fields nested in an input block (an EKS cluster's vpcConfig.clusterSecurityGroupId) survive.
        for key, value in computed.items():
            if isinstance(state.get(key), dict):
                state[key] = {**value, **state[key]}
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        token, a = args.token, dict(args.args or {})
        region = self.region
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{s}" for s in "abcdef"]
            return {"names": names, "zoneIds": [f"use1-az{i + 1}" for i in range(len(names))],
                    "id": region, "groupNames": [region]}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/plan",
                    "userId": "AIDAMOCKUSER", "id": ACCOUNT_ID}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION,
                    "reverseDnsPrefix": "com.amazonaws"}
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com",
                    "description": region}
        if token == "aws:ec2/getAmi:getAmi":
            built = next((f["values"][0] for f in a.get("filters", []) if f.get("name") == "tag:Ec2ImageBuilderArn"
                          and f.get("values")), None)
            if built:
                # The newest AMI of an Image Builder recipe version: the one its Image resource built.
                _, image_name, version = built.rsplit("/", 3)[:3]
                ami = f"ami-{_digest(image_name, version)}"
                return {"id": ami, "imageId": ami, "name": f"{image_name}-{version}", "architecture": "arm64",
                        "creationDate": "2026-01-01T00:00:00.000Z", "ownerId": ACCOUNT_ID, "tags": {}}
            by_id = next((f["values"][0] for f in a.get("filters", []) if f.get("name") == "image-id"
                          and f.get("values")), None)
            if by_id:
                # An explicit AMI: offline its architecture is unknown (None), so no check fails on it.
                return {"id": by_id, "imageId": by_id, "name": by_id, "ownerId": ACCOUNT_ID, "tags": {}}
            return {"id": MOCK_AMI, "imageId": MOCK_AMI, "name": "mock-ami", "architecture": "x86_64",
                    "creationDate": "2026-01-01T00:00:00.000Z", "ownerId": ACCOUNT_ID,
                    "tags": {t["name"].removeprefix("tag:"): t["values"][0] for t in a.get("filters", [])
                             if str(t.get("name", "")).startswith("tag:") and t.get("values")}}
        if token == "aws:ssm/getParameter:getParameter":
            name = a.get("name", "")
            value = MOCK_AMI if "ami" in name else f"mock-{_digest(name, length=8)}"
            return {"name": name, "value": value, "insecureValue": value, "type": "String", "version": 1,
                    "id": name, "arn": f"arn:{PARTITION}:ssm:{region}:{ACCOUNT_ID}:parameter{name}"}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "mock-ecr-password",
                    "authorizationToken": base64.b64encode(b"AWS:mock-ecr-password").decode(),
                    "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com",
                    "expiresAt": "2026-01-01T12:00:00Z", "id": region}
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            # The regional Elastic Load Balancing account that writes access logs (us-east-1's by default).
            account = ELB_ACCOUNTS.get(region, "127311923021")
            return {"arn": f"arn:{PARTITION}:iam::{account}:root", "id": account, "region": region}
        if token == "aws:eks/getAddonVersion:getAddonVersion":
            # EKS's default version of an add-on depends on the cluster's Kubernetes version.
            kube = a.get("kubernetesVersion") or "0.0"
            version = f"v{kube}.0-eksbuild.{len(a.get('addonName') or '') % 9 + 1}"
            return {"addonName": a.get("addonName"), "kubernetesVersion": kube, "version": version,
                    "mostRecent": bool(a.get("mostRecent")), "id": a.get("addonName")}
        if token == "aws:lb/getHostedZoneId:getHostedZoneId":
            # ELB's canonical hosted zone of us-east-1 (ALB); each region has its own.
            return {"id": "Z35SXDOTRQ7X7K", "loadBalancerType": a.get("loadBalancerType"), "region": region}
        if token == "aws:route53/getZone:getZone":
            zone = str(a.get("name") or "example.com").rstrip(".")
            zone_id = f"Z{_digest(zone, length=20).upper()}"
            return {"name": zone, "zoneId": zone_id, "id": zone_id, "privateZone": bool(a.get("privateZone")),
                    "arn": f"arn:{PARTITION}:route53:::hostedzone/{zone_id}", "nameServers": [], "tags": {}}
        if token == "aws:eks/getClusterAuth:getClusterAuth":
            return {"name": a.get("name"), "token": "k8s-aws-v1.mock-token", "id": a.get("name")}
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            import json
            return {"json": json.dumps({"Version": "2012-10-17", "Statement": a.get("statements", [])}, sort_keys=True),
                    "id": "policy"}
        if token == "kubernetes:yaml:decode":
            import yaml
            return {"result": [d for d in yaml.safe_load_all(a.get("text", "")) if d]}
        return {}
