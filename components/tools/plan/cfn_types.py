"""How each AWS resource type the library registers translates to CloudFormation, as data.

The provider's inputs follow the Terraform schema (camelCase here); CloudFormation's follow the AWS API
(PascalCase). Most properties differ only in case: :func:`to_cfn` capitalises every key unless a
:class:`CfnType` says otherwise. One entry a type:

- ``rename``: a dotted path of provider keys (list items are transparent) -> the CloudFormation key;
- ``drop``: a path -> why it has no CloudFormation counterpart (provider-side behaviour, not an AWS setting);
- ``keep``: paths whose value is data whose keys are user-chosen (tag maps, environment variables, log
  driver options): copied verbatim;
- ``parse``: paths holding a JSON document in a string (policies, container definitions): parsed first;
- ``tags``: the shape CloudFormation wants for ``tags`` (a ``Key``/``Value`` list, or a map);
- ``reshape``: a function for the few shape changes renames cannot express (a block nested one level
  deeper, a Terraform string boolean), applied to the provider inputs before everything else;
- ``name``: the CloudFormation property holding the physical name, which Pulumi auto-names when the program
  gives none: filled as Pulumi fills it (the resource name, a hyphen and 7 random characters; lowercase
  where ``lower``), so AWS's name patterns and lengths apply to the names Pulumi will really send;
- ``defaults``: values the provider sends when the program gives none (a security group's description);
- ``part``: the provider resource is one part of a CloudFormation resource (S3 bucket settings, an
  EventBridge target, an EKS access policy association, an SQS redrive-allow policy).

A type CloudFormation cannot express at all is in :data:`UNMAPPABLE` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CFN_TYPES", "CfnType", "PLACEHOLDERS", "UNMAPPABLE", "to_cfn"]

Inputs = dict[str, Any]


@dataclass(frozen=True)
class CfnType:
    """The translation of one provider resource type into one CloudFormation resource type."""

    cfn: str
    rename: Mapping[str, str] = field(default_factory=dict)
    drop: Mapping[str, str] = field(default_factory=dict)
    keep: frozenset[str] = frozenset()
    parse: frozenset[str] = frozenset()
    tags: str = "list"
    reshape: Callable[[Inputs], Inputs] | None = None
    name: str | None = None
    lower: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)
    part: bool = False
    """The provider resource is one part of a CloudFormation resource (an S3 bucket's encryption, a rule's
    target): rules about uniqueness across resources do not apply to it."""


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def _bool(value: Any) -> Any:
    """Terraform's tri-state booleans are strings ("true", "false", "")."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


#: What the plan records for a value it cannot see (a secret, an output unknown offline): kept as it is, and
#: a finding on it is not reported (:func:`components.tools.plan.lint.lint_plan`), since nothing about it is known.
PLACEHOLDERS = frozenset({"[secret]", "[unknown]"})


def _json(value: Any) -> Any:
    """A JSON document held in a string, parsed (a placeholder stays as it is)."""
    return json.loads(value) if isinstance(value, str) and value not in PLACEHOLDERS else value


def _convert(value: Any, spec: CfnType, path: str) -> Any:
    if isinstance(value, list):
        return [_convert(v, spec, path) for v in value]
    if not isinstance(value, dict) or path in spec.keep:
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = f"{path}.{key}" if path else key
        if sub in spec.drop or item is None:
            continue
        if sub in spec.parse:
            item = _json(item)
        out[spec.rename.get(sub, _pascal(key))] = _convert(item, spec, sub)
    return out


def _tags(tags: Any, shape: str) -> Any:
    if isinstance(tags, list):  # Auto Scaling's tag blocks: key, value, propagateAtLaunch
        return [{_pascal(k): v for k, v in t.items()} for t in tags if isinstance(t, dict)]
    if not isinstance(tags, dict):
        return tags
    if shape == "map":
        return dict(tags)
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def to_cfn(spec: CfnType, inputs: Inputs, placeholder_name: str) -> Inputs:
    """The CloudFormation ``Properties`` of a resource registered with ``inputs``."""
    inputs = dict(inputs)
    if spec.reshape is not None:
        inputs = spec.reshape(inputs)
    tags = inputs.pop("tags", None)
    props = _convert(inputs, spec, "")
    if tags and spec.tags != "none":
        props["Tags"] = _tags(tags, spec.tags)
    if spec.name and spec.name not in props:
        props[spec.name] = placeholder_name.lower() if spec.lower else placeholder_name
    for key, value in spec.defaults.items():
        props.setdefault(key, value)
    return props


# --- shape changes -------------------------------------------------------------------------------------------

def _launch_template(i: Inputs) -> Inputs:
    top = {k: i.pop(k) for k in ("name", "description", "tags") if k in i}
    for k in ("namePrefix", "updateDefaultVersion", "defaultVersion"):
        i.pop(k, None)
    for bdm in i.get("blockDeviceMappings") or []:
        ebs = bdm.get("ebs") or {}
        for k in ("deleteOnTermination", "encrypted"):
            if k in ebs:
                ebs[k] = _bool(ebs[k])
    for nic in i.get("networkInterfaces") or []:
        for k in ("associatePublicIpAddress", "deleteOnTermination"):
            if k in nic:
                nic[k] = _bool(nic[k])
    for spec in i.get("tagSpecifications") or []:
        spec["tags"] = _tags(spec.get("tags"), "list")
    out: Inputs = {"launchTemplateData": i}
    if "name" in top:
        out["launchTemplateName"] = top["name"]
    if "description" in top:
        out["versionDescription"] = top["description"]
    if top.get("tags"):
        out["tagSpecifications"] = [{"resourceType": "launch-template", "tags": _tags(top["tags"], "list")}]
    return out


def _asg(i: Inputs) -> Inputs:
    metrics = i.pop("enabledMetrics", None)
    granularity = i.pop("metricsGranularity", "1Minute")
    if metrics:
        i["metricsCollection"] = [{"granularity": granularity, "metrics": metrics}]
    lt = i.get("launchTemplate")
    if isinstance(lt, dict):
        i["launchTemplate"] = {("launchTemplateId" if k == "id" else "launchTemplateName" if k == "name" else k): v
                               for k, v in lt.items()}
    return i


def _alarm(i: Inputs) -> Inputs:
    if isinstance(i.get("dimensions"), dict):
        i["dimensions"] = [{"name": k, "value": v} for k, v in i["dimensions"].items()]
    queries = []
    for q in i.pop("metricQueries", None) or []:
        q = dict(q)
        metric = q.pop("metric", None)
        if metric:
            metric = dict(metric)
            dims = [{"name": k, "value": v} for k, v in (metric.pop("dimensions", None) or {}).items()]
            stat = {"metric": {"metricName": metric.pop("metricName", None), "namespace": metric.pop("namespace", None),
                               **({"dimensions": dims} if dims else {})},
                    **{k: metric[k] for k in ("period", "stat", "unit") if k in metric}}
            q["metricStat"] = stat
        queries.append(q)
    if queries:
        i["metrics"] = queries
    return i


def _ecs_service(i: Inputs) -> Inputs:
    deployment: Inputs = {}
    if "deploymentCircuitBreaker" in i:
        deployment["deploymentCircuitBreaker"] = i.pop("deploymentCircuitBreaker")
    if "alarms" in i:
        deployment["alarms"] = i.pop("alarms")
    if "deploymentMaximumPercent" in i:
        deployment["maximumPercent"] = i.pop("deploymentMaximumPercent")
    if "deploymentMinimumHealthyPercent" in i:
        deployment["minimumHealthyPercent"] = i.pop("deploymentMinimumHealthyPercent")
    if deployment:  # merged into the provider's own block (strategy, bake time, lifecycle hooks), never over it
        i["deploymentConfiguration"] = {**(i.get("deploymentConfiguration") or {}), **deployment}
    net = i.pop("networkConfiguration", None)
    if net:
        net = dict(net)
        public = net.pop("assignPublicIp", False)
        i["networkConfiguration"] = {"awsvpcConfiguration": {**net, "assignPublicIp": "ENABLED" if public else "DISABLED"}}
    sc = i.get("serviceConnectConfiguration")
    if isinstance(sc, dict):
        for svc in sc.get("services") or []:
            if "clientAlias" in svc:
                svc["clientAliases"] = svc.pop("clientAlias")
    return i


def _event_target(i: Inputs) -> Inputs:
    """CloudFormation has no target resource: a target is one item of ``AWS::Events::Rule.Targets``."""
    target = {k: v for k, v in i.items() if k not in ("rule", "eventBusName", "targetId", "forceDestroy")}
    target["id"] = i.get("targetId") or "target"
    ecs = target.pop("ecsTarget", None)
    if ecs:
        ecs = dict(ecs)
        net = ecs.pop("networkConfiguration", None)
        if net:
            net = dict(net)
            public = net.pop("assignPublicIp", False)
            ecs["networkConfiguration"] = {"awsVpcConfiguration": {**net, "assignPublicIp": "ENABLED" if public else "DISABLED"}}
        if "capacityProviderStrategies" in ecs:
            ecs["capacityProviderStrategy"] = ecs.pop("capacityProviderStrategies")
        target["ecsParameters"] = ecs
    # The rule itself is its own resource (checked on its own); a rule needs a schedule or a pattern.
    return {"eventBusName": i.get("eventBusName"), "scheduleExpression": "rate(1 day)", "targets": [target]}


def _security_group(i: Inputs) -> Inputs:
    """Inline rules: the provider's rule has lists of peers; CloudFormation's rule has exactly one peer."""
    for key, peer in (("ingress", "sourceSecurityGroupId"), ("egress", "destinationSecurityGroupId")):
        rules = []
        for rule in i.get(key) or []:
            base = {"ipProtocol": rule.get("protocol"), "fromPort": rule.get("fromPort"), "toPort": rule.get("toPort")}
            if str(rule.get("protocol")).lower() in ("-1", "all") and rule.get("fromPort") in (0, None) \
                    and rule.get("toPort") in (0, None):
                # The provider requires ports 0 and 0 with the "all" protocol, where CloudFormation omits them;
                # any other ports are still translated, so cfn-lint reports them as ignored (W3687).
                del base["fromPort"], base["toPort"]
            if rule.get("description"):
                base["description"] = rule["description"]
            peers = [("cidrIp", c) for c in rule.get("cidrBlocks") or []]
            peers += [("cidrIpv6", c) for c in rule.get("ipv6CidrBlocks") or []]
            peers += [(peer, g) for g in rule.get("securityGroups") or []]
            if _bool(rule.get("self")) is True:  # the group itself: its id is not known inside its own template entry
                peers.append((peer, "sg-0000000000000000f"))
            peers += [(peer.replace("SecurityGroupId", "PrefixListId"), p) for p in rule.get("prefixListIds") or []]
            rules += [{**base, k: v} for k, v in peers]
        if key in i:
            i[key] = rules
    return i


def _flow_log(i: Inputs) -> Inputs:
    for key, kind in (("vpcId", "VPC"), ("subnetId", "Subnet"), ("eniId", "NetworkInterface")):
        if key in i:
            i["resourceId"], i["resourceType"] = i.pop(key), kind
    return i


def _lambda_function(i: Inputs) -> Inputs:
    code = i.pop("code", None)
    image = i.pop("imageUri", None)
    bucket, key, version = i.pop("s3Bucket", None), i.pop("s3Key", None), i.pop("s3ObjectVersion", None)
    if image:
        i["code"] = {"imageUri": image}
    elif bucket:
        i["code"] = {"s3Bucket": bucket, "s3Key": key, **({"s3ObjectVersion": version} if version else {})}
    elif code is not None:
        # The provider uploads the archive itself; CloudFormation would read it from S3.
        i["code"] = {"s3Bucket": "deployment-artifacts", "s3Key": "function.zip"}
    return i


def _qualified_function(i: Inputs) -> Inputs:
    """CloudFormation has no ``Qualifier`` on a permission: the function name carries it."""
    qualifier = i.pop("qualifier", None)
    if qualifier and isinstance(i.get("function"), str):
        i["function"] = f"{i['function']}:{qualifier}"
    return i


def _eks_cluster(i: Inputs) -> Inputs:
    logs = i.pop("enabledClusterLogTypes", None)
    if logs:
        i["logging"] = {"clusterLogging": {"enabledTypes": [{"type": t} for t in logs]}}
    enc = i.pop("encryptionConfig", None)
    if enc:
        i["encryptionConfig"] = [enc]
    return i


def _node_group(i: Inputs) -> Inputs:
    lt = i.get("launchTemplate")
    if isinstance(lt, dict) and "id" in lt:
        i["launchTemplate"] = {**{k: v for k, v in lt.items() if k != "id"}, "id": lt["id"]}
    if isinstance(i.get("taints"), list):
        i["taints"] = [{**t, "effect": {"NO_SCHEDULE": "NO_SCHEDULE"}.get(t.get("effect"), t.get("effect"))}
                       for t in i["taints"]]
    return i


def _access_policy(i: Inputs) -> Inputs:
    """An association is one item of ``AWS::EKS::AccessEntry.AccessPolicies``."""
    return {"clusterName": i.get("clusterName"), "principalArn": i.get("principalArn"),
            "accessPolicies": [{"policyArn": i.get("policyArn"), "accessScope": i.get("accessScope")}]}


def _bucket_part(prop: str, build: Callable[[Inputs], Any]) -> Callable[[Inputs], Inputs]:
    """S3 bucket settings are separate provider resources but properties of ``AWS::S3::Bucket``."""
    def reshape(i: Inputs) -> Inputs:
        return {prop: build(i)}
    return reshape


def _notification(i: Inputs) -> Inputs:
    def filters(n: Inputs) -> Inputs | None:
        rules = [{"name": "prefix", "value": n["filterPrefix"]}] if n.get("filterPrefix") else []
        rules += [{"name": "suffix", "value": n["filterSuffix"]}] if n.get("filterSuffix") else []
        return {"s3Key": {"rules": rules}} if rules else None

    out: Inputs = {}
    for src, dst, arn_key, cfn_arn in (("lambdaFunctions", "lambdaConfigurations", "lambdaFunctionArn", "function"),
                                       ("queues", "queueConfigurations", "queueArn", "queue"),
                                       ("topics", "topicConfigurations", "topicArn", "topic")):
        items = []
        for n in i.get(src) or []:
            for event in n.get("events") or []:
                item = {"event": event, cfn_arn: n.get(arn_key)}
                if filters(n):
                    item["filter"] = filters(n)
                items.append(item)
        if items:
            out[dst] = items
    if i.get("eventbridge"):
        out["eventBridgeConfiguration"] = {"eventBridgeEnabled": True}
    return {"notificationConfiguration": out}


def _lifecycle(i: Inputs) -> Inputs:
    rules = []
    for r in i.get("rules") or []:
        rule: Inputs = {"id": r.get("id"), "status": r.get("status")}
        flt = r.get("filter") or {}
        both = flt.get("and") or {}  # several conditions at once: the same keys, tags as a map
        for key in ("prefix", "objectSizeGreaterThan", "objectSizeLessThan"):
            value = flt.get(key) if flt.get(key) not in (None, "") else both.get(key)
            if value not in (None, ""):
                rule[key] = value
        tags = [{"key": t.get("key"), "value": t.get("value")} for t in [flt.get("tag")] if isinstance(t, dict)]
        tags += [{"key": k, "value": v} for k, v in (both.get("tags") or {}).items()]
        if tags:
            rule["tagFilters"] = tags
        if r.get("abortIncompleteMultipartUpload"):
            rule["abortIncompleteMultipartUpload"] = r["abortIncompleteMultipartUpload"]
        exp = r.get("expiration") or {}
        for key, cfn in (("days", "expirationInDays"), ("date", "expirationDate"),
                         ("expiredObjectDeleteMarker", "expiredObjectDeleteMarker")):
            if exp.get(key) not in (None, "", 0, False):
                rule[cfn] = exp[key]
        nce = r.get("noncurrentVersionExpiration") or {}
        if nce.get("noncurrentDays") is not None:
            rule["noncurrentVersionExpiration"] = nce
        for src, dst, days in (("transitions", "transitions", "days"),
                               ("noncurrentVersionTransitions", "noncurrentVersionTransitions", "noncurrentDays")):
            moved = [{"storageClass": t.get("storageClass"), "transitionInDays": t.get(days)} for t in r.get(src) or []]
            if moved:
                rule[dst] = moved
        rules.append(rule)
    return {"lifecycleConfiguration": {"rules": rules}}


def _deployment_group(i: Inputs) -> Inputs:
    alarms = i.get("alarmConfiguration")
    if isinstance(alarms, dict) and alarms.get("alarms"):
        i["alarmConfiguration"] = {**alarms, "alarms": [{"name": a} for a in alarms["alarms"]]}
    return i


def _attributes(i: Inputs, table: Mapping[str, str]) -> list[dict[str, str]]:
    """Provider arguments that are key/value attributes in the AWS API (load balancers, target groups)."""
    out = []
    for path, key in table.items():
        head, _, tail = path.partition(".")
        value = i.get(head) if not tail else (i.get(head) or {}).get(tail)
        if value is None or value == "":
            continue
        out.append({"key": key, "value": str(value).lower() if isinstance(value, bool) else str(value)})
    return out


_LB_ATTRIBUTES = {
    "accessLogs.enabled": "access_logs.s3.enabled", "accessLogs.bucket": "access_logs.s3.bucket",
    "accessLogs.prefix": "access_logs.s3.prefix", "connectionLogs.enabled": "connection_logs.s3.enabled",
    "connectionLogs.bucket": "connection_logs.s3.bucket", "connectionLogs.prefix": "connection_logs.s3.prefix",
    "desyncMitigationMode": "routing.http.desync_mitigation_mode",
    "dropInvalidHeaderFields": "routing.http.drop_invalid_header_fields.enabled",
    "enableDeletionProtection": "deletion_protection.enabled", "idleTimeout": "idle_timeout.timeout_seconds",
    "enableHttp2": "routing.http2.enabled", "enableCrossZoneLoadBalancing": "load_balancing.cross_zone.enabled",
    "clientKeepAlive": "client_keep_alive.seconds", "preserveHostHeader": "routing.http.preserve_host_header.enabled",
    "enableWafFailOpen": "waf.fail_open.enabled", "xffHeaderProcessingMode": "routing.http.xff_header_processing.mode",
    "enableTlsVersionAndCipherSuiteHeaders": "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
    "enableXffClientPort": "routing.http.xff_client_port.enabled",
}
_TG_ATTRIBUTES = {
    "deregistrationDelay": "deregistration_delay.timeout_seconds", "slowStart": "slow_start.duration_seconds",
    "loadBalancingAlgorithmType": "load_balancing.algorithm.type",
    "loadBalancingCrossZoneEnabled": "load_balancing.cross_zone.enabled",
    "stickiness.enabled": "stickiness.enabled", "stickiness.type": "stickiness.type",
    "stickiness.cookieDuration": "stickiness.lb_cookie.duration_seconds",
    "connectionTermination": "deregistration_delay.connection_termination.enabled",
    "preserveClientIp": "preserve_client_ip.enabled", "proxyProtocolV2": "proxy_protocol_v2.enabled",
    "appCookie.cookieName": "stickiness.app_cookie.cookie_name",
    "appCookie.cookieDuration": "stickiness.app_cookie.duration_seconds",
}
_HEALTH_CHECK = {"enabled": "healthCheckEnabled", "interval": "healthCheckIntervalSeconds", "path": "healthCheckPath",
                 "port": "healthCheckPort", "protocol": "healthCheckProtocol", "timeout": "healthCheckTimeoutSeconds",
                 "healthyThreshold": "healthyThresholdCount", "unhealthyThreshold": "unhealthyThresholdCount"}


def _load_balancer(i: Inputs) -> Inputs:
    attributes = _attributes(i, _LB_ATTRIBUTES)
    for key in {p.partition(".")[0] for p in _LB_ATTRIBUTES}:
        i.pop(key, None)
    if attributes:
        i["loadBalancerAttributes"] = attributes
    internal = i.pop("internal", None)
    if internal is not None:
        i["scheme"] = "internal" if internal else "internet-facing"
    return i


def _target_group(i: Inputs) -> Inputs:
    sticky = i.get("stickiness")
    if isinstance(sticky, dict) and sticky.get("type") == "app_cookie":  # the application's own cookie
        i = {**i, "stickiness": {k: v for k, v in sticky.items() if k not in ("cookieName", "cookieDuration")}}
        i["appCookie"] = {k: sticky[k] for k in ("cookieName", "cookieDuration") if k in sticky}
    attributes = _attributes(i, _TG_ATTRIBUTES)
    for key in {p.partition(".")[0] for p in _TG_ATTRIBUTES}:
        i.pop(key, None)
    if attributes:
        i["targetGroupAttributes"] = attributes
    health = i.pop("healthCheck", None) or {}
    for key, value in health.items():
        if key == "matcher":
            i["matcher"] = {"httpCode": value}
        elif key in _HEALTH_CHECK:
            i[_HEALTH_CHECK[key]] = value
    return i


def _instance_profile(i: Inputs) -> Inputs:
    role = i.pop("role", None)
    if role:
        i["roles"] = [role]
    return i


def _dynamodb(i: Inputs) -> Inputs:
    keys = [{"attributeName": i.pop("hashKey"), "keyType": "HASH"}] if "hashKey" in i else []
    if "rangeKey" in i:
        keys.append({"attributeName": i.pop("rangeKey"), "keyType": "RANGE"})
    i["keySchema"] = keys
    if "attributes" in i:
        i["attributeDefinitions"] = [{"attributeName": a["name"], "attributeType": a["type"]} for a in i.pop("attributes")]
    view = i.pop("streamViewType", None)
    if i.pop("streamEnabled", False):
        i["streamSpecification"] = {"streamViewType": view}
    pitr = i.pop("pointInTimeRecovery", None)
    if pitr is not None:
        i["pointInTimeRecoverySpecification"] = {"pointInTimeRecoveryEnabled": bool(pitr.get("enabled")), **(
            {"recoveryPeriodInDays": pitr["recoveryPeriodInDays"]} if pitr.get("recoveryPeriodInDays") is not None else {})}
    sse = i.pop("serverSideEncryption", None)
    if sse is not None:
        i["sSESpecification"] = {"sSEEnabled": bool(sse.get("enabled")),
                                 **({"kMSMasterKeyId": sse["kmsKeyArn"]} if sse.get("kmsKeyArn") else {})}
    ttl = i.pop("ttl", None)
    if ttl is not None:
        i["timeToLiveSpecification"] = {"attributeName": ttl.get("attributeName"), "enabled": bool(ttl.get("enabled"))}
    return i


def _record(i: Inputs) -> Inputs:
    # The provider's ``aliases`` list holds at most one alias target; CloudFormation's TTL is a string.
    aliases = i.pop("aliases", None)
    if aliases:
        i["aliasTarget"] = aliases[0]
    if isinstance(i.get("ttl"), (int, float)):
        i["ttl"] = str(int(i["ttl"]))
    return i


def _lb_actions(actions: Any) -> Any:
    """Listener actions: the provider's ``redirect``/``fixedResponse``/``forward`` blocks are ``...Config``."""
    out = []
    for a in actions or []:
        a = dict(a)
        for key in ("redirect", "fixedResponse", "forward", "authenticateOidc", "authenticateCognito"):
            if key in a:
                a[f"{key}Config"] = a.pop(key)
        out.append(a)
    return out


def _listener(i: Inputs) -> Inputs:
    if "defaultActions" in i:
        i["defaultActions"] = _lb_actions(i["defaultActions"])
    cert = i.pop("certificateArn", None)
    if cert:
        i["certificates"] = [{"certificateArn": cert}]
    return i


#: A listener rule condition block of the provider -> the ``Field`` of its CloudFormation condition.
_CONDITIONS = {"pathPattern": "path-pattern", "hostHeader": "host-header", "httpHeader": "http-header",
               "httpRequestMethod": "http-request-method", "queryString": "query-string", "sourceIp": "source-ip"}


def _listener_rule(i: Inputs) -> Inputs:
    conds = []
    for c in i.get("conditions") or []:
        for field_name, value in c.items():
            if value in (None, [], {}):
                continue
            if field_name == "queryString":  # a list of key/value pairs; CloudFormation wraps it in Values
                value = {"values": value}
            # An unknown block keeps its name, so the schema reports it instead of the translation losing it.
            conds.append({"field": _CONDITIONS.get(field_name, field_name), f"{field_name}Config": value})
    i["conditions"] = conds
    i["actions"] = _lb_actions(i.get("actions"))
    return i


def _schedule(i: Inputs) -> Inputs:
    return i


def _kinesis(i: Inputs) -> Inputs:
    enc, key = i.pop("encryptionType", None), i.pop("kmsKeyId", None)
    if enc == "KMS":
        i["streamEncryption"] = {"encryptionType": "KMS", "keyId": key}
    return i


def _sqs(i: Inputs) -> Inputs:
    for k in ("redrivePolicy", "redriveAllowPolicy", "policy"):
        if isinstance(i.get(k), str):
            i[k] = _json(i[k])
    return i


def _domain_name(i: Inputs) -> Inputs:
    # The provider takes one configuration; CloudFormation a list of them (one per endpoint type).
    config = i.pop("domainNameConfiguration", None)
    if config:
        i["domainNameConfigurations"] = [config]
    return i


def _ecr(i: Inputs) -> Inputs:
    enc = i.pop("encryptionConfigurations", None)
    if enc:
        i["encryptionConfiguration"] = enc[0]
    return i


_IAM_POLICY = "the policy document, parsed"
_NAME_PREFIX = "a prefix Pulumi uses to auto-name; CloudFormation auto-names on its own"
_PROVIDER = "behaviour of the Pulumi provider, not a setting of the AWS resource"
_REGION = "the provider's per-resource region override; the template is linted in the stack's region"

#: Provider type token -> its CloudFormation translation.
CFN_TYPES: dict[str, CfnType] = {
    # --- ACM and Route 53
    "aws:acm/certificate:Certificate": CfnType("AWS::CertificateManager::Certificate"),
    "aws:route53/record:Record": CfnType(
        "AWS::Route53::RecordSet", tags="none", reshape=_record,
        rename={"zoneId": "HostedZoneId", "ttl": "TTL", "records": "ResourceRecords",
                "aliasTarget.name": "DNSName", "aliasTarget.zoneId": "HostedZoneId"},
        drop={"allowOverwrite": _PROVIDER}),
    # --- API Gateway v2
    "aws:apigatewayv2/api:Api": CfnType("AWS::ApiGatewayV2::Api", tags="map", name="Name", drop={"region": _REGION}),
    "aws:apigatewayv2/authorizer:Authorizer": CfnType(
        "AWS::ApiGatewayV2::Authorizer", tags="none", name="Name",
        rename={"identitySources": "IdentitySource", "jwtConfiguration.audiences": "Audience"}),
    "aws:apigatewayv2/integration:Integration": CfnType(
        "AWS::ApiGatewayV2::Integration", tags="none", rename={"timeoutMilliseconds": "TimeoutInMillis"}),
    "aws:apigatewayv2/route:Route": CfnType("AWS::ApiGatewayV2::Route", tags="none"),
    "aws:apigatewayv2/stage:Stage": CfnType(
        "AWS::ApiGatewayV2::Stage", tags="map", rename={"name": "StageName"}, keep=frozenset({"stageVariables"})),
    "aws:apigatewayv2/vpcLink:VpcLink": CfnType("AWS::ApiGatewayV2::VpcLink", tags="map", name="Name",
                                                drop={"region": _REGION}),
    "aws:apigatewayv2/domainName:DomainName": CfnType(
        "AWS::ApiGatewayV2::DomainName", tags="map", reshape=_domain_name, drop={"region": _REGION}),
    "aws:apigatewayv2/apiMapping:ApiMapping": CfnType("AWS::ApiGatewayV2::ApiMapping", tags="none",
                                                      drop={"region": _REGION}),
    # --- Auto Scaling
    "aws:appautoscaling/policy:Policy": CfnType(
        "AWS::ApplicationAutoScaling::ScalingPolicy", tags="none", name="PolicyName", rename={"name": "PolicyName"}),
    "aws:appautoscaling/target:Target": CfnType(
        "AWS::ApplicationAutoScaling::ScalableTarget", rename={"roleArn": "RoleARN"}),
    "aws:autoscaling/group:Group": CfnType(
        "AWS::AutoScaling::AutoScalingGroup", reshape=_asg, name="AutoScalingGroupName",
        rename={"name": "AutoScalingGroupName", "vpcZoneIdentifiers": "VPCZoneIdentifier",
                "targetGroupArns": "TargetGroupARNs", "serviceLinkedRoleArn": "ServiceLinkedRoleARN",
                "protectFromScaleIn": "NewInstancesProtectedFromScaleIn"},
        drop={"instanceRefresh": "CloudFormation replaces instances through an UpdatePolicy, not a property",
              "warmPool": "a separate AWS::AutoScaling::WarmPool resource in CloudFormation, not checked",
              "waitForCapacityTimeout": _PROVIDER, "waitForElbCapacity": _PROVIDER, "minElbCapacity": _PROVIDER, "forceDelete": _PROVIDER,
              "forceDeleteWarmPool": _PROVIDER, "ignoreFailedScalingActivities": _PROVIDER,
              "namePrefix": _NAME_PREFIX}),
    "aws:autoscaling/policy:Policy": CfnType(
        "AWS::AutoScaling::ScalingPolicy", tags="none", name="PolicyName",
        rename={"name": "PolicyName", "autoscalingGroupName": "AutoScalingGroupName"}),
    "aws:autoscaling/schedule:Schedule": CfnType(
        "AWS::AutoScaling::ScheduledAction", tags="none", reshape=_schedule,
        rename={"autoscalingGroupName": "AutoScalingGroupName"}),
    # --- CloudWatch and EventBridge
    "aws:cloudwatch/eventRule:EventRule": CfnType("AWS::Events::Rule", name="Name", drop={"forceDestroy": _PROVIDER,
                                                                              "namePrefix": _NAME_PREFIX}),
    "aws:cloudwatch/eventTarget:EventTarget": CfnType(
        "AWS::Events::Rule", tags="none", part=True, reshape=_event_target,
        rename={"targets.arn": "Arn", "targets.ecsParameters.networkConfiguration.awsVpcConfiguration": "AwsVpcConfiguration",
                "targets.ecsParameters.enableEcsManagedTags": "EnableECSManagedTags",
                "targets.ecsParameters.taskDefinitionArn": "TaskDefinitionArn"},
        keep=frozenset({"targets.inputTransformer.inputPaths"})),
    "aws:cloudwatch/logGroup:LogGroup": CfnType(
        "AWS::Logs::LogGroup", name="LogGroupName", rename={"name": "LogGroupName"},
        drop={"skipDestroy": _PROVIDER, "namePrefix": _NAME_PREFIX}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": CfnType(
        "AWS::CloudWatch::Alarm", reshape=_alarm, name="AlarmName", rename={"name": "AlarmName", "okActions": "OKActions"}),
    # --- CodeDeploy
    "aws:codedeploy/application:Application": CfnType("AWS::CodeDeploy::Application", name="ApplicationName",
                                                       rename={"name": "ApplicationName"}),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": CfnType(
        "AWS::CodeDeploy::DeploymentGroup", rename={"appName": "ApplicationName"}, reshape=_deployment_group,
        drop={"outdatedInstancesStrategy": "an EC2/on-premises setting the provider always sends"}),
    # --- DynamoDB
    "aws:dynamodb/table:Table": CfnType(
        "AWS::DynamoDB::Table", reshape=_dynamodb, name="TableName",
        rename={"name": "TableName", "sSESpecification": "SSESpecification",
                "sSESpecification.sSEEnabled": "SSEEnabled", "sSESpecification.kMSMasterKeyId": "KMSMasterKeyId"}),
    # --- EC2 and VPC
    "aws:ec2/eip:Eip": CfnType("AWS::EC2::EIP"),
    "aws:ec2/flowLog:FlowLog": CfnType("AWS::EC2::FlowLog", reshape=_flow_log,
                                       rename={"iamRoleArn": "DeliverLogsPermissionArn"}),
    "aws:ec2/internetGateway:InternetGateway": CfnType(
        "AWS::EC2::InternetGateway",
        drop={"vpcId": "CloudFormation attaches a gateway through AWS::EC2::VPCGatewayAttachment"}),
    "aws:ec2/launchTemplate:LaunchTemplate": CfnType(
        "AWS::EC2::LaunchTemplate", reshape=_launch_template, tags="none",
        rename={"launchTemplateData.networkInterfaces.securityGroups": "Groups",
                "launchTemplateData.vpcSecurityGroupIds": "SecurityGroupIds"}),
    "aws:ec2/natGateway:NatGateway": CfnType("AWS::EC2::NatGateway"),
    "aws:ec2/route:Route": CfnType("AWS::EC2::Route", tags="none"),
    "aws:ec2/routeTable:RouteTable": CfnType("AWS::EC2::RouteTable",
                                             drop={"routes": "declared as separate AWS::EC2::Route resources"}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": CfnType("AWS::EC2::SubnetRouteTableAssociation", tags="none"),
    "aws:ec2/securityGroup:SecurityGroup": CfnType(
        "AWS::EC2::SecurityGroup", name="GroupName", defaults={"GroupDescription": "Managed by Pulumi"},
        reshape=_security_group,
        rename={"description": "GroupDescription", "name": "GroupName", "ingress": "SecurityGroupIngress",
                "egress": "SecurityGroupEgress"},
        drop={"revokeRulesOnDelete": _PROVIDER, "namePrefix": _NAME_PREFIX}),
    "aws:ec2/subnet:Subnet": CfnType("AWS::EC2::Subnet"),
    "aws:ec2/vpc:Vpc": CfnType("AWS::EC2::VPC"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": CfnType("AWS::EC2::VPCEndpoint", parse=frozenset({"policy"}),
                                               rename={"policy": "PolicyDocument"}, keep=frozenset({"policy"})),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": CfnType(
        "AWS::EC2::SecurityGroupIngress", tags="none",
        rename={"securityGroupId": "GroupId", "referencedSecurityGroupId": "SourceSecurityGroupId",
                "cidrIpv4": "CidrIp", "cidrIpv6": "CidrIpv6", "prefixListId": "SourcePrefixListId"}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": CfnType(
        "AWS::EC2::SecurityGroupEgress", tags="none",
        rename={"securityGroupId": "GroupId", "referencedSecurityGroupId": "DestinationSecurityGroupId",
                "cidrIpv4": "CidrIp", "cidrIpv6": "CidrIpv6", "prefixListId": "DestinationPrefixListId"}),
    # --- ECR and ECS
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": CfnType(
        "AWS::ECR::Repository", tags="none", part=True,
        reshape=lambda i: {"lifecyclePolicy": {"lifecyclePolicyText": i.get("policy")}}),
    "aws:ecr/repository:Repository": CfnType(
        "AWS::ECR::Repository", reshape=_ecr, name="RepositoryName", lower=True, rename={"name": "RepositoryName", "forceDelete": "EmptyOnDelete"}),
    "aws:ecs/capacityProvider:CapacityProvider": CfnType("AWS::ECS::CapacityProvider"),
    "aws:ecs/cluster:Cluster": CfnType(
        "AWS::ECS::Cluster", name="ClusterName", rename={"name": "ClusterName", "settings": "ClusterSettings"}),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": CfnType(
        "AWS::ECS::ClusterCapacityProviderAssociations", tags="none",
        rename={"clusterName": "Cluster", "defaultCapacityProviderStrategies": "DefaultCapacityProviderStrategy"}),
    "aws:ecs/service:Service": CfnType(
        "AWS::ECS::Service", reshape=_ecs_service, name="ServiceName",
        rename={"name": "ServiceName", "capacityProviderStrategies": "CapacityProviderStrategy",
                "enableEcsManagedTags": "EnableECSManagedTags",
                "orderedPlacementStrategies": "PlacementStrategies",
                "networkConfiguration.awsvpcConfiguration": "AwsvpcConfiguration"},
        drop={"waitForSteadyState": _PROVIDER, "forceDelete": _PROVIDER, "triggers": _PROVIDER,
              "forceNewDeployment": "a one-off deployment trigger of the provider"}),
    "aws:ecs/taskDefinition:TaskDefinition": CfnType(
        "AWS::ECS::TaskDefinition", parse=frozenset({"containerDefinitions"}),
        keep=frozenset({"containerDefinitions.logConfiguration.options", "containerDefinitions.dockerLabels",
                        "containerDefinitions.linuxParameters.sysctls"}),
        rename={"ephemeralStorage.sizeInGib": "SizeInGiB"},
        drop={"skipDestroy": _PROVIDER, "trackLatest": _PROVIDER}),
    # --- EKS
    "aws:eks/accessEntry:AccessEntry": CfnType("AWS::EKS::AccessEntry"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": CfnType(
        "AWS::EKS::AccessEntry", tags="none", part=True, reshape=_access_policy),
    "aws:eks/addon:Addon": CfnType(
        "AWS::EKS::Addon", rename={"resolveConflictsOnUpdate": "ResolveConflicts"},
        drop={"resolveConflictsOnCreate": "CloudFormation has one ResolveConflicts for create and update"}),
    "aws:eks/cluster:Cluster": CfnType(
        "AWS::EKS::Cluster", reshape=_eks_cluster, rename={"vpcConfig": "ResourcesVpcConfig"},
        drop={"defaultAddonsToRemoves": _PROVIDER}),
    "aws:eks/nodeGroup:NodeGroup": CfnType(
        "AWS::EKS::Nodegroup", reshape=_node_group, name="NodegroupName", keep=frozenset({"labels"}), tags="map",
        rename={"nodeRoleArn": "NodeRole", "subnetIds": "Subnets", "nodeGroupName": "NodegroupName"},
        drop={"nodeGroupNamePrefix": _NAME_PREFIX}),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": CfnType("AWS::EKS::PodIdentityAssociation"),
    # --- IAM
    "aws:iam/instanceProfile:InstanceProfile": CfnType(
        "AWS::IAM::InstanceProfile", tags="none", reshape=_instance_profile, name="InstanceProfileName", rename={"name": "InstanceProfileName"},
        drop={"namePrefix": _NAME_PREFIX}),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": CfnType(
        "AWS::IAM::OIDCProvider", rename={"clientIdLists": "ClientIdList", "thumbprintLists": "ThumbprintList"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": CfnType(
        "AWS::IAM::Role", tags="none", part=True, reshape=lambda i: {
            "managedPolicyArns": [i.get("policyArn")],
            # The role is checked on its own; a part needs the trust policy CloudFormation requires of a role.
            "assumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}},
        keep=frozenset({"assumeRolePolicyDocument"})),
    "aws:iam/role:Role": CfnType(
        "AWS::IAM::Role", name="RoleName", parse=frozenset({"assumeRolePolicy"}), keep=frozenset({"assumeRolePolicy"}),
        rename={"assumeRolePolicy": "AssumeRolePolicyDocument", "name": "RoleName"},
        drop={"forceDetachPolicies": _PROVIDER, "namePrefix": _NAME_PREFIX}),
    "aws:iam/rolePolicy:RolePolicy": CfnType(
        "AWS::IAM::RolePolicy", tags="none", name="PolicyName", parse=frozenset({"policy"}), keep=frozenset({"policy"}),
        rename={"policy": "PolicyDocument", "role": "RoleName", "name": "PolicyName"},
        drop={"namePrefix": _NAME_PREFIX}),
    # --- Image Builder
    "aws:imagebuilder/component:Component": CfnType(
        "AWS::ImageBuilder::Component", tags="map", name="Name", drop={"skipDestroy": _PROVIDER}),
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": CfnType(
        "AWS::ImageBuilder::DistributionConfiguration", tags="map", name="Name",
        keep=frozenset({"distributions.amiDistributionConfiguration.amiTags"}),
        rename={"distributions.region": "Region"}),
    "aws:imagebuilder/image:Image": CfnType("AWS::ImageBuilder::Image", tags="map"),
    "aws:imagebuilder/imagePipeline:ImagePipeline": CfnType("AWS::ImageBuilder::ImagePipeline", tags="map", name="Name"),
    "aws:imagebuilder/imageRecipe:ImageRecipe": CfnType(
        "AWS::ImageBuilder::ImageRecipe", tags="map", name="Name", reshape=lambda i: {
            **i, "blockDeviceMappings": [{**b, "ebs": {k: _bool(v) for k, v in (b.get("ebs") or {}).items()}}
                                         for b in i.get("blockDeviceMappings") or []]}),
    "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy": CfnType(
        "AWS::ImageBuilder::LifecyclePolicy", tags="map", name="Name",
        keep=frozenset({"policyDetails.exclusionRules.tagMap", "policyDetails.exclusionRules.amis.tagMap",
                        "resourceSelection.tagMap"})),
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": CfnType(
        "AWS::ImageBuilder::InfrastructureConfiguration", tags="map", name="Name", keep=frozenset({"resourceTags"})),
    # --- Kinesis and KMS
    "aws:kinesis/stream:Stream": CfnType(
        "AWS::Kinesis::Stream", reshape=_kinesis, name="Name", rename={"retentionPeriod": "RetentionPeriodHours"},
        drop={"enforceConsumerDeletion": _PROVIDER}),
    "aws:kms/key:Key": CfnType(
        "AWS::KMS::Key", parse=frozenset({"policy"}), keep=frozenset({"policy"}),
        rename={"deletionWindowInDays": "PendingWindowInDays", "policy": "KeyPolicy",
                "customerMasterKeySpec": "KeySpec", "isEnabled": "Enabled"}),
    # --- Lambda
    "aws:lambda/alias:Alias": CfnType("AWS::Lambda::Alias", tags="none"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": CfnType(
        "AWS::Lambda::EventSourceMapping", rename={"destinationConfig.onFailure.destinationArn": "Destination"}),
    "aws:lambda/function:Function": CfnType(
        "AWS::Lambda::Function", reshape=_lambda_function, name="FunctionName", keep=frozenset({"environment.variables"}),
        rename={"name": "FunctionName", "tracingConfig": "TracingConfig", "vpcConfig": "VpcConfig"},
        drop={"publish": "CloudFormation publishes versions as AWS::Lambda::Version resources",
              "sourceCodeHash": _PROVIDER, "skipDestroy": _PROVIDER, "replaceSecurityGroupsOnDestroy": _PROVIDER,
              "replacementSecurityGroupIds": _PROVIDER}),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": CfnType(
        "AWS::Lambda::EventInvokeConfig", tags="none"),
    "aws:lambda/functionUrl:FunctionUrl": CfnType(
        "AWS::Lambda::Url", tags="none", rename={"functionName": "TargetFunctionArn", "authorizationType": "AuthType"}),
    "aws:lambda/permission:Permission": CfnType(
        "AWS::Lambda::Permission", tags="none", reshape=_qualified_function,
        rename={"function": "FunctionName", "statementId": "Id"}, drop={"statementIdPrefix": _NAME_PREFIX}),
    # --- Elastic Load Balancing
    "aws:lb/listener:Listener": CfnType(
        "AWS::ElasticLoadBalancingV2::Listener", reshape=_listener),
    "aws:lb/listenerRule:ListenerRule": CfnType("AWS::ElasticLoadBalancingV2::ListenerRule", reshape=_listener_rule),
    "aws:lb/loadBalancer:LoadBalancer": CfnType(
        "AWS::ElasticLoadBalancingV2::LoadBalancer", reshape=_load_balancer, name="Name", rename={"loadBalancerType": "Type"},
        drop={"namePrefix": _NAME_PREFIX}),
    "aws:lb/targetGroup:TargetGroup": CfnType(
        "AWS::ElasticLoadBalancingV2::TargetGroup", reshape=_target_group, name="Name", drop={"namePrefix": _NAME_PREFIX}),
    # --- S3
    "aws:s3/bucket:Bucket": CfnType("AWS::S3::Bucket", name="BucketName", lower=True, rename={"bucket": "BucketName"},
                                    drop={"forceDestroy": _PROVIDER, "bucketPrefix": _NAME_PREFIX}),
    "aws:s3/bucketPolicy:BucketPolicy": CfnType(
        "AWS::S3::BucketPolicy", tags="none", parse=frozenset({"policy"}), keep=frozenset({"policy"}),
        rename={"policy": "PolicyDocument"}),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": CfnType(
        "AWS::S3::Bucket", tags="none", part=True, reshape=_lifecycle),
    "aws:s3/bucketNotification:BucketNotification": CfnType(
        "AWS::S3::Bucket", tags="none", part=True, reshape=_notification,
        rename={"notificationConfiguration.lambdaConfigurations.function": "Function",
                "notificationConfiguration.lambdaConfigurations.filter.s3Key": "S3Key"}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": CfnType(
        "AWS::S3::Bucket", tags="none", part=True,
        reshape=_bucket_part("ownershipControls", lambda i: {"rules": [i.get("rule")]})),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": CfnType(
        "AWS::S3::Bucket", tags="none", part=True, reshape=_bucket_part("publicAccessBlockConfiguration", lambda i: {
            k: v for k, v in i.items() if k not in ("bucket", "skipDestroy", "region")})),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": CfnType(
        "AWS::S3::Bucket", tags="none", part=True, reshape=_bucket_part("bucketEncryption", lambda i: {
            "serverSideEncryptionConfiguration": i.get("rules")}),
        rename={"bucketEncryption.serverSideEncryptionConfiguration.applyServerSideEncryptionByDefault.sseAlgorithm":
                "SSEAlgorithm",
                "bucketEncryption.serverSideEncryptionConfiguration.applyServerSideEncryptionByDefault.kmsMasterKeyId":
                "KMSMasterKeyID",
                "bucketEncryption.serverSideEncryptionConfiguration.applyServerSideEncryptionByDefault":
                "ServerSideEncryptionByDefault"}),
    "aws:s3/bucketVersioning:BucketVersioning": CfnType(
        "AWS::S3::Bucket", tags="none", part=True, reshape=_bucket_part("versioningConfiguration", lambda i: {
            "status": (i.get("versioningConfiguration") or {}).get("status")})),
    # --- Service discovery and SQS
    "aws:servicediscovery/httpNamespace:HttpNamespace": CfnType("AWS::ServiceDiscovery::HttpNamespace", name="Name"),
    "aws:sqs/queue:Queue": CfnType(
        "AWS::SQS::Queue", reshape=_sqs, keep=frozenset({"redrivePolicy", "redriveAllowPolicy", "policy"}),
        rename={"name": "QueueName", "messageRetentionSeconds": "MessageRetentionPeriod",
                "visibilityTimeoutSeconds": "VisibilityTimeout", "delaySeconds": "DelaySeconds",
                "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds", "kmsMasterKeyId": "KmsMasterKeyId",
                "kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds", "fifoQueue": "FifoQueue"},
        drop={"namePrefix": _NAME_PREFIX, "policy": "declared as AWS::SQS::QueuePolicy in CloudFormation"}),
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": CfnType(
        "AWS::SQS::Queue", tags="none", part=True, reshape=lambda i: {"redriveAllowPolicy": _json(i.get("redriveAllowPolicy"))},
        keep=frozenset({"redriveAllowPolicy"})),
}

#: Provider types the library can register that have no CloudFormation resource to check against.
UNMAPPABLE: dict[str, str] = {
    "aws:acm/certificateValidation:CertificateValidation":
        "no CloudFormation resource: it only waits for ACM to issue the certificate (AWS::CertificateManager::"
        "Certificate waits itself)",
    "aws:ec2/tag:Tag":
        "no CloudFormation resource tags a resource the template does not own (here an AMI made by Image Builder)",
    "aws:s3/bucketObjectv2:BucketObjectv2":
        "no CloudFormation resource uploads an S3 object (its inputs are a bucket, a key and a local file)",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
        "CloudFormation cannot manage a VPC's default security group (the provider adopts it and removes its rules)",
}
