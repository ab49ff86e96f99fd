"""The shared load balancer and launch template blocks: planned under mocks, and every validation rule."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pulumi
import pytest

from components.blocks.launch_template import (LaunchSettings, instance_role, launch_template,
                                              validate_launch_settings)
from components.blocks.load_balancer import (DEFAULT_SSL_POLICY, ServiceLoadBalancer, SharedLoadBalancer,
                                             prepare_shared_load_balancers, rule_priority, service_security_group,
                                             standard_alarms, validate_load_balancer, validate_shared_rules)
from components.tools.plan.runtime import run
from components.profiles import get_profile
from components.blocks.service import resolve_core
from components.validation import CatalogError, Problems

NET = {"vpc_id": "vpc-0123", "vpc_cidr": "10.20.0.0/16", "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"],
       "private_subnet_ids": ["subnet-priv-a", "subnet-priv-b"]}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"


def _plan(program, environment="dev"):
    return run(program, config={"microservices:environment": environment, "aws:region": "us-east-1"},
               stack=environment)


def _service(name, lb_args, core_spec, environment, target_type="instance", shared=None):
    profile = get_profile(environment)
    core = resolve_core(core_spec, profile, default_port=8080)
    sg = service_security_group(name, vpc_id=NET["vpc_id"], tags={"Service": name})
    lb = ServiceLoadBalancer(name, lb_args, core=core, network=NET, profile=profile, target_type=target_type,
                             target_security_group_id=sg.id, shared=shared)
    standard_alarms(name, lb, profile=profile, tags={"Service": name})
    return lb


@pytest.fixture(scope="module")
def internal_dev():
    return _plan(lambda: _service("orders", {}, {"port": 9000, "health_check": {"path": "/ready", "interval": 15,
                                                                              "timeout": 4, "healthy_threshold": 2}},
                                  "dev"))


@pytest.fixture(scope="module")
def public_prod():
    return _plan(lambda: _service("shop", {"certificate_arn": CERT, "deregistration_delay": 10, "matcher": "200,204"},
                                  {"expose": "public"}, "prod"), "prod")


@pytest.fixture(scope="module")
def nlb_dev():
    return _plan(lambda: _service("feed", {"type": "nlb", "allowed_cidrs": ["192.168.0.0/24", "10.9.0.0/16"]},
                                  {"expose": "internal"}, "dev", target_type="ip"))


# -- own load balancer ------------------------------------------------------------------------

def test_internal_alb_sits_in_private_subnets_and_admits_only_the_vpc_on_port_80(internal_dev):
    lb = internal_dev.one("aws:lb/loadBalancer:LoadBalancer", "orders-lb")
    assert lb.inputs["internal"] is True
    assert lb.inputs["loadBalancerType"] == "application"
    assert lb.inputs["subnets"] == NET["private_subnet_ids"]
    assert lb.inputs["dropInvalidHeaderFields"] is True
    assert lb.inputs["enableDeletionProtection"] is False
    assert "accessLogs" not in lb.inputs
    rules = [r for r in internal_dev.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.name.startswith("orders-lb-")]
    assert [(r.inputs["fromPort"], r.inputs["cidrIpv4"]) for r in rules] == [(80, "10.20.0.0/16")]


def test_service_security_group_admits_its_port_only_from_the_load_balancer_group(internal_dev):
    lb_sg = internal_dev.one("aws:ec2/securityGroup:SecurityGroup", "orders-lb-sg")
    svc_sg = internal_dev.one("aws:ec2/securityGroup:SecurityGroup", "orders-sg")
    assert "ingress" not in svc_sg.inputs and "ingress" not in lb_sg.inputs
    ingress = internal_dev.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "orders-from-lb")
    assert ingress.inputs["fromPort"] == ingress.inputs["toPort"] == 9000
    assert ingress.inputs["referencedSecurityGroupId"].startswith("sg-")
    assert "cidrIpv4" not in ingress.inputs
    egress = internal_dev.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "orders-to-targets")
    assert egress.inputs["fromPort"] == 9000 and "cidrIpv4" not in egress.inputs


def test_target_group_health_check_follows_the_core_spec(internal_dev):
    tg = internal_dev.one("aws:lb/targetGroup:TargetGroup", "orders-tg")
    assert tg.inputs["port"] == 9000 and tg.inputs["protocol"] == "HTTP" and tg.inputs["targetType"] == "instance"
    assert tg.inputs["deregistrationDelay"] == 30
    hc = tg.inputs["healthCheck"]
    assert (hc["path"], hc["interval"], hc["timeout"], hc["healthyThreshold"], hc["unhealthyThreshold"],
            hc["matcher"]) == ("/ready", 15, 4, 2, 3, "200-399")


def test_plain_http_listener_forwards_to_the_target_group(internal_dev):
    listeners = internal_dev.of_type("aws:lb/listener:Listener")
    assert [(r.name, r.inputs["port"], r.inputs["protocol"]) for r in listeners] == [("orders-http", 80, "HTTP")]
    assert listeners[0].get("defaultActions.0.type") == "forward"


def test_alb_alarms_cover_unhealthy_hosts_5xx_rate_and_p99_latency(internal_dev):
    alarms = {r.name: r for r in internal_dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert sorted(alarms) == ["orders-5xx-rate", "orders-p99-latency", "orders-unhealthy"]
    unhealthy = alarms["orders-unhealthy"].inputs
    assert unhealthy["metricName"] == "UnHealthyHostCount" and unhealthy["namespace"] == "AWS/ApplicationELB"
    assert unhealthy["dimensions"]["TargetGroup"].startswith("targetgroup/orders-tg")
    assert unhealthy["dimensions"]["LoadBalancer"].startswith("app/orders-lb")
    assert alarms["orders-p99-latency"].inputs["extendedStatistic"] == "p99"
    queries = {q["id"]: q for q in alarms["orders-5xx-rate"].inputs["metricQueries"]}
    assert queries["errors"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert "100 * FILL(errors, 0) / requests" in queries["rate"]["expression"]
    assert all(a.inputs["treatMissingData"] == "notBreaching" for a in alarms.values())


def test_public_alb_with_certificate_serves_https_with_tls13_and_redirects_http(public_prod):
    https = public_prod.one("aws:lb/listener:Listener", "shop-https")
    assert https.inputs["protocol"] == "HTTPS" and https.inputs["port"] == 443
    assert https.inputs["certificateArn"] == CERT and https.inputs["sslPolicy"] == DEFAULT_SSL_POLICY
    http = public_prod.one("aws:lb/listener:Listener", "shop-http")
    assert http.get("defaultActions.0.type") == "redirect"
    assert http.get("defaultActions.0.redirect.protocol") == "HTTPS"
    assert http.get("defaultActions.0.redirect.statusCode") == "HTTP_301"
    rules = sorted((r.inputs["fromPort"], r.inputs["cidrIpv4"])
                   for r in public_prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.name.startswith("shop-lb-"))
    assert rules == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0")]


def test_prod_alb_has_deletion_protection_and_encrypted_protected_access_logs(public_prod):
    lb = public_prod.one("aws:lb/loadBalancer:LoadBalancer", "shop-lb")
    assert lb.inputs["internal"] is False and lb.inputs["subnets"] == NET["public_subnet_ids"]
    assert lb.inputs["enableDeletionProtection"] is True
    assert lb.inputs["accessLogs"]["enabled"] is True
    bucket = public_prod.one("aws:s3/bucket:Bucket", "shop-lb-logs")
    assert bucket.protect is True and bucket.inputs["forceDestroy"] is False
    sse = public_prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.get("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") == "AES256"
    block = public_prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                         "restrictPublicBuckets"))
    policy = public_prod.one("aws:s3/bucketPolicy:BucketPolicy").json_input("policy")
    writes = [s for s in policy["Statement"] if s["Action"] == "s3:PutObject"]
    # ELB writes under <prefix>/AWSLogs/<account>/: a grant without the prefix fails when logs are enabled.
    assert lb.inputs["accessLogs"]["prefix"] == "shop"
    assert writes and all(s["Resource"].endswith("-logs/shop/AWSLogs/123456789012/*") for s in writes)
    policy_urn = public_prod.one("aws:s3/bucketPolicy:BucketPolicy").urn
    assert policy_urn in lb.dependencies


def _log_writers(region):
    # A certificate of the stack's own region: ACM certificates are regional.
    cert = CERT.replace("us-east-1", region)
    graph = run(lambda: _service("shop", {"certificate_arn": cert}, {"expose": "public"}, "prod"),
                config={"microservices:environment": "prod", "aws:region": region}, stack="prod")
    policy = graph.one("aws:s3/bucketPolicy:BucketPolicy").json_input("policy")
    principals = sorted(json.dumps(s["Principal"], sort_keys=True) for s in policy["Statement"]
                        if s["Action"] == "s3:PutObject")
    return graph, principals


def test_access_logs_in_an_older_region_are_delivered_by_its_elb_account():
    graph, principals = _log_writers("eu-west-1")
    assert '{"AWS": "arn:aws:iam::156460612806:root"}' in principals
    assert not [t for t, _ in graph.invokes if t == "aws:elb/getServiceAccount:getServiceAccount"]


def test_access_logs_in_a_region_opened_since_2022_use_the_log_delivery_principal_only():
    # aws.elb.get_service_account fails with "Unknown region" there, so it must not be called at all.
    graph, principals = _log_writers("il-central-1")
    assert principals == ['{"Service": "delivery.logs.amazonaws.com"}',
                          '{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}']
    assert not [t for t, _ in graph.invokes if t == "aws:elb/getServiceAccount:getServiceAccount"]


def test_target_group_takes_deregistration_delay_and_matcher(public_prod):
    tg = public_prod.one("aws:lb/targetGroup:TargetGroup", "shop-tg")
    assert tg.inputs["deregistrationDelay"] == 10 and tg.inputs["healthCheck"]["matcher"] == "200,204"


def test_nlb_uses_tcp_with_http_health_checks_and_allowed_cidrs(nlb_dev):
    lb = nlb_dev.one("aws:lb/loadBalancer:LoadBalancer", "feed-lb")
    assert lb.inputs["loadBalancerType"] == "network" and lb.inputs["securityGroups"]
    assert "dropInvalidHeaderFields" not in lb.inputs
    listener = nlb_dev.one("aws:lb/listener:Listener", "feed-tcp")
    assert listener.inputs["protocol"] == "TCP" and listener.inputs["port"] == 80
    tg = nlb_dev.one("aws:lb/targetGroup:TargetGroup", "feed-tg")
    assert tg.inputs["protocol"] == "TCP" and tg.inputs["targetType"] == "ip"
    assert tg.inputs["healthCheck"]["protocol"] == "HTTP"
    cidrs = sorted(r.inputs["cidrIpv4"] for r in nlb_dev.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.name.startswith("feed-lb-"))
    assert cidrs == ["10.9.0.0/16", "192.168.0.0/24"]


def test_listener_rules_are_named_after_their_cidr_so_adding_one_renames_none(nlb_dev):
    names = sorted(r.name for r in nlb_dev.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.name.startswith("feed-lb-"))
    assert names == ["feed-lb-80-10.9.0.0-16", "feed-lb-80-192.168.0.0-24"]


def test_nlb_alarms_only_on_unhealthy_hosts(nlb_dev):
    alarms = nlb_dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert [a.name for a in alarms] == ["feed-unhealthy"]
    assert alarms[0].inputs["namespace"] == "AWS/NetworkELB"


# -- shared ALB -------------------------------------------------------------------------------

SHARED_SPECS = {
    "orders": {"expose": "public", "load_balancer": {"shared": "edge", "path": "/orders/*", "certificate_arn": CERT}},
    "users": {"expose": "public", "load_balancer": {"shared": "edge", "host": "users.example.com", "priority": 10}},
}


@pytest.fixture(scope="module")
def shared_plan():
    def program():
        root = pulumi.ComponentResource("test:index:Root", "root")
        ctx = SimpleNamespace(load_balancers={}, parent=root, network=NET, profile=get_profile("dev"))
        prepare_shared_load_balancers(SHARED_SPECS, ctx)
        prepare_shared_load_balancers(SHARED_SPECS, ctx)
        for name, spec in SHARED_SPECS.items():
            _service(name, spec["load_balancer"], spec, "dev", shared=ctx.load_balancers["edge"])
    return _plan(program)


def test_shared_alb_is_created_once_with_a_404_default_and_https(shared_plan):
    assert len(shared_plan.of_type("microservices:lb:SharedLoadBalancer")) == 1
    assert [r.name for r in shared_plan.of_type("aws:lb/loadBalancer:LoadBalancer")] == ["edge-lb"]
    https = shared_plan.one("aws:lb/listener:Listener", "edge-https")
    assert https.get("defaultActions.0.fixedResponse.statusCode") == "404"
    assert shared_plan.one("aws:lb/listener:Listener", "edge-http").get("defaultActions.0.type") == "redirect"


def test_services_on_a_shared_alb_add_rules_and_admit_its_security_group(shared_plan):
    rules = {r.name: r for r in shared_plan.of_type("aws:lb/listenerRule:ListenerRule")}
    assert rules["orders-rule"].get("conditions.0.pathPattern.values") == ["/orders/*"]
    assert rules["orders-rule"].inputs["priority"] == rule_priority("orders", {})
    assert rules["users-rule"].get("conditions.0.hostHeader.values") == ["users.example.com"]
    assert rules["users-rule"].inputs["priority"] == 10
    edge_sg_id = shared_plan.one("aws:lb/loadBalancer:LoadBalancer", "edge-lb").inputs["securityGroups"][0]
    for service in SHARED_SPECS:
        ingress = shared_plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", f"{service}-from-lb")
        assert ingress.inputs["referencedSecurityGroupId"] == edge_sg_id
    assert all(tg.inputs["port"] == 8080 for tg in shared_plan.of_type("aws:lb/targetGroup:TargetGroup"))


def test_shared_alb_refuses_a_rule_claimed_twice_at_build_time():
    def program():
        shared = SharedLoadBalancer("edge", {}, expose="internal", network=NET, profile="dev")
        shared.claim("a", None, "/a/*", 5)
        with pytest.raises(CatalogError, match="already claimed by service 'a'"):
            shared.claim("b", None, "/a/*", 6)
        with pytest.raises(CatalogError, match="priority 5 .* already used by service 'a'"):
            shared.claim("c", None, "/c/*", 5)
    _plan(program)


def test_service_naming_a_shared_alb_needs_one_passed():
    core = resolve_core({}, get_profile("dev"))
    with pytest.raises(CatalogError, match="names shared ALB 'edge' but none was passed"):
        ServiceLoadBalancer("x", {"shared": "edge", "path": "/x"}, core=core, network=NET, profile="dev")


# -- validation -------------------------------------------------------------------------------

def _problems(spec, core=None):
    problems = Problems()
    validate_load_balancer(spec, "services.web.load_balancer", problems, core=core or {"expose": "public"})
    return [str(p) for p in problems]


@pytest.mark.parametrize("spec, core, path, fragment", [
    ({"type": "gwlb"}, None, "load_balancer.type", "must be one of 'alb', 'nlb'"),
    ({"certificate_arn": "arn:aws:iam::123456789012:server-certificate/x"}, None, "certificate_arn",
     "an ACM certificate ARN"),
    ({"certificate_arn": CERT, "ssl_policy": "TLS13"}, None, "ssl_policy", "an ELB security policy name"),
    ({"ssl_policy": DEFAULT_SSL_POLICY}, None, "ssl_policy", "only used with certificate_arn"),
    ({"allowed_cidrs": ["10.0.0.300/8"]}, None, "allowed_cidrs[0]", "must be an IPv4 CIDR"),
    ({"allowed_cidrs": []}, None, "allowed_cidrs", "at least one CIDR"),
    ({"deregistration_delay": 3601}, None, "deregistration_delay", "between 0 and 3600"),
    ({"deregistration_delay": -1}, None, "deregistration_delay", "between 0 and 3600"),
    ({"matcher": "500"}, None, "matcher", "between 200 and 499"),
    ({"matcher": "199-299"}, None, "matcher", "between 200 and 499"),
    ({"matcher": "ok"}, None, "matcher", "HTTP codes such as"),
    ({"idle_timeout": 0}, None, "idle_timeout", "between 1 and 4000"),
    ({"type": "nlb", "idle_timeout": 60}, None, "idle_timeout", "ALB only"),
    ({"path": "/orders/*"}, None, "load_balancer.path", "only used with shared"),
    ({"priority": 3}, None, "load_balancer.priority", "only used with shared"),
    ({"shared": "edge"}, None, "load_balancer", "needs a path and/or a host rule"),
    ({"shared": "Edge_ALB", "path": "/x"}, None, "shared", "DNS-1123 label"),
    ({"shared": "edge", "type": "nlb", "path": "/x"}, None, "load_balancer.type", "a shared load balancer is an ALB"),
    ({"shared": "edge", "path": "orders/*"}, None, "load_balancer.path", "must start with '/'"),
    ({"shared": "edge", "path": "/" + "a" * 128}, None, "load_balancer.path", "at most 128 characters"),
    ({"shared": "edge", "path": "/a b"}, None, "load_balancer.path", "may contain only"),
    ({"shared": "edge", "host": "localhost"}, None, "load_balancer.host", "must be a host name"),
    ({"shared": "edge", "path": "/x", "priority": 50001}, None, "priority", "between 1 and 50000"),
    ({"type": "alb"}, {"expose": "none"}, "services.web.load_balancer", "expose is 'none'"),
    ({"tpye": "alb"}, None, "load_balancer.tpye", "did you mean 'type'"),
    ({"shared": "edge", "host": "a" * 120 + ".example.com"}, None, "load_balancer.host", "at most 128 characters"),
    ("alb", None, "services.web.load_balancer", "must be a mapping"),
])
def test_load_balancer_validation_names_path_and_limit(spec, core, path, fragment):
    lines = _problems(spec, core)
    assert any(path in line and fragment in line for line in lines), lines


def test_valid_load_balancer_specs_have_no_problems():
    assert _problems({"type": "nlb", "certificate_arn": CERT, "deregistration_delay": 0, "matcher": "200-299"}) == []
    assert _problems({"shared": "edge", "path": "/orders/*", "host": "*.example.com", "priority": 50000}) == []


def _shared_problems(specs):
    return [str(p) for p in validate_shared_rules(specs)]


def test_a_rule_claimed_twice_on_a_shared_alb_is_an_error():
    specs = {"a": {"load_balancer": {"shared": "edge", "path": "/api/*"}},
             "b": {"load_balancer": {"shared": "edge", "path": "/api/*"}},
             "c": {"load_balancer": {"shared": "other", "path": "/api/*"}}}
    assert _shared_problems(specs) == [
        "services.b.load_balancer: the rule path '/api/*' on shared ALB 'edge' is already claimed by service 'a'"]


def test_a_priority_used_twice_on_a_shared_alb_is_an_error():
    specs = {"a": {"load_balancer": {"shared": "edge", "path": "/a/*", "priority": 7}},
             "b": {"load_balancer": {"shared": "edge", "path": "/b/*", "priority": 7}}}
    assert any("services.b.load_balancer.priority: priority 7" in p for p in _shared_problems(specs))


def test_services_on_one_shared_alb_must_agree_on_exposure_and_certificate():
    specs = {"a": {"expose": "public", "load_balancer": {"shared": "edge", "path": "/a/*", "certificate_arn": CERT}},
             "b": {"expose": "internal", "load_balancer": {"shared": "edge", "path": "/b/*",
                                                           "certificate_arn": CERT.replace("0f1e", "9999")}}}
    lines = _shared_problems(specs)
    assert any(line.startswith("services.b.expose: services on shared ALB 'edge' must agree on expose")
               for line in lines), lines
    assert any(line.startswith("services.b.load_balancer.certificate_arn:") for line in lines), lines


# -- launch template block --------------------------------------------------------------------

@pytest.fixture(scope="module")
def template_plan():
    def program():
        role = instance_role("node", tags={"Service": "node"})
        launch_template("node", LaunchSettings(image_id="ami-0123456789abcdef0", instance_type="t4g.small",
                                               security_group_ids=["sg-1"], instance_profile_arn=role.profile.arn,
                                               user_data="#!/bin/bash\necho hi\n"), tags={"Service": "node"})
        launch_template("eks", LaunchSettings(image_id="ami-0123456789abcdef0", instance_type="m7g.large",
                                              security_group_ids=["sg-2"], instance_profile_arn=role.profile.arn,
                                              hop_limit=2, root_volume_size=50), tags={"Service": "eks"})
    return _plan(program)


def test_launch_template_requires_imdsv2_with_hop_limit_one(template_plan):
    lt = template_plan.one("aws:ec2/launchTemplate:LaunchTemplate", "node-lt")
    assert lt.inputs["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                            "httpPutResponseHopLimit": 1, "instanceMetadataTags": "disabled"}
    eks = template_plan.one("aws:ec2/launchTemplate:LaunchTemplate", "eks-lt")
    assert eks.get("metadataOptions.httpPutResponseHopLimit") == 2
    assert eks.get("blockDeviceMappings.0.ebs.volumeSize") == 50


def test_launch_template_encrypts_gp3_root_and_gives_no_public_ip(template_plan):
    lt = template_plan.one("aws:ec2/launchTemplate:LaunchTemplate", "node-lt")
    ebs = lt.get("blockDeviceMappings.0.ebs")
    assert lt.get("blockDeviceMappings.0.deviceName") == "/dev/xvda"
    assert (ebs["volumeType"], ebs["encrypted"], ebs["volumeSize"]) == ("gp3", "true", 20)
    assert lt.get("networkInterfaces.0.associatePublicIpAddress") == "false"
    assert lt.get("networkInterfaces.0.securityGroups") == ["sg-1"]
    assert lt.inputs["monitoring"] == {"enabled": True}
    assert "keyName" not in lt.inputs
    assert lt.get("iamInstanceProfile.arn").startswith("arn:aws:iam::123456789012:instance-profile/node-profile")
    assert base64.b64decode(lt.inputs["userData"]).decode() == "#!/bin/bash\necho hi\n"
    kinds = sorted(t["resourceType"] for t in lt.inputs["tagSpecifications"])
    assert kinds == ["instance", "network-interface", "volume"]


def test_instance_role_grants_ssm_session_manager_and_nothing_else(template_plan):
    role = template_plan.one("aws:iam/role:Role", "node-role")
    assert role.json_input("assumeRolePolicy")["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attachments = template_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a.inputs["policyArn"] for a in attachments] == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    assert template_plan.of_type("aws:iam/rolePolicy:RolePolicy") == []


@pytest.mark.parametrize("spec, path, fragment", [
    ({"instance_type": "large"}, "instance_type", "an EC2 instance type"),
    ({"root_volume_size": 4}, "root_volume_size", "between 8 and 16384 GiB"),
    ({"metadata_hop_limit": 65}, "metadata_hop_limit", "between 1 and 64"),
    ({"key_name": ""}, "key_name", "the name of an EC2 key pair"),
])
def test_launch_settings_validation(spec, path, fragment):
    problems = Problems()
    validate_launch_settings(spec, "services.vm", problems)
    assert any(f"services.vm.{path}" in str(p) and fragment in str(p) for p in problems), problems


def test_launch_template_leaves_ami_role_and_interfaces_to_an_eks_node_group():
    graph = _plan(lambda: launch_template("nodes", LaunchSettings(hop_limit=2), tags={"Service": "eks"}))
    lt = graph.one("aws:ec2/launchTemplate:LaunchTemplate", "nodes-lt")
    assert not {"imageId", "instanceType", "iamInstanceProfile", "networkInterfaces"} & set(lt.inputs)
    assert lt.get("metadataOptions.httpTokens") == "required" and lt.get("metadataOptions.httpPutResponseHopLimit") == 2
    assert lt.get("blockDeviceMappings.0.ebs.encrypted") == "true"


def test_service_load_balancer_refuses_unexposed_services_and_unknown_target_types():
    core = resolve_core({"expose": "none"}, get_profile("dev"))
    with pytest.raises(CatalogError) as info:
        ServiceLoadBalancer("x", {}, core=core, network=NET, profile="dev", target_type="lambda")
    lines = [str(p) for p in info.value.problems]
    assert any(line.startswith("x.expose: is 'none'") for line in lines), lines
    assert any(line.startswith("x.target_type: must be 'instance' or 'ip'") for line in lines), lines


def test_shared_load_balancer_needs_an_exposure_and_valid_settings():
    with pytest.raises(CatalogError) as info:
        SharedLoadBalancer("edge", {"allowed_cidrs": ["nope"]}, expose="none", network=NET, profile="dev")
    lines = [str(p) for p in info.value.problems]
    assert any(line.startswith("edge.expose: must be 'public' or 'internal'") for line in lines), lines
    assert any(line.startswith("edge.allowed_cidrs[0]: must be an IPv4 CIDR") for line in lines), lines
