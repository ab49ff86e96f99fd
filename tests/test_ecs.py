"""ECS: the shared cluster (Fargate, Spot, EC2 bin-packing, Service Connect) and services of every shape."""

from __future__ import annotations

import json

import pytest

from components.blocks.architecture import instance_architecture
from components.blocks.container import default_health_command
from components.ecs import EcsCluster, EcsService
from components.tools.plan.runtime import run
from tests.conftest import ROOT, assert_problem

NET = {"vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16", "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"],
       "private_subnet_ids": ["subnet-priv-a", "subnet-priv-b"]}
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password"
IMAGE = {"context": "services/cart"}
SERVICE = "aws:ecs/service:Service"
TASKDEF = "aws:ecs/taskDefinition:TaskDefinition"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
POLICY = "aws:appautoscaling/policy:Policy"


def _plan(services: dict, environment: str = "prod", cluster: dict | None = None):
    def program():
        ecs = EcsCluster("ecs", cluster or {}, network=NET, profile=environment)
        for name, spec in services.items():
            EcsService(name, spec, cluster=ecs, network=NET, profile=environment, project_dir=ROOT)
    return run(program, config={"microservices:environment": environment, "aws:region": "us-east-1"},
               project_dir=ROOT, stack=environment)


def _container(graph, name: str) -> dict:
    return json.loads(graph.one(TASKDEF, f"{name}-taskdef").inputs["containerDefinitions"])[0]


def _policy(graph, name: str) -> dict:
    return json.loads(graph.one("aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])


@pytest.fixture(scope="module")
def fargate():
    return _plan({"cart": {"image": IMAGE, "expose": "public", "port": 9000, "secrets": {"DB_PASSWORD": SECRET},
                           "load_balancer": {"domain": "cart.example.com", "zone": "example.com"},
                           "environment": {"MODE": "fast"}, "user": "10001", "scaling": {"min": 2, "max": 6},
                           "target_memory": 70, "target_requests": 500, "ephemeral_storage": 40,
                           "cpu": 1024, "memory": 4096, "writable_paths": ["/tmp", "/var/cache/app"]}})


@pytest.fixture(scope="module")
def ec2():
    return _plan({"pricing": {"image": IMAGE, "capacity": "ec2", "memory": 768},
                  "quotes": {"image": IMAGE, "capacity": "ec2"}}, cluster={"ec2": {"max_size": 6}})


@pytest.fixture(scope="module")
def shapes():
    return _plan({"mailer": {"image": IMAGE, "queue": {"messages_per_task": 25, "max_receive_count": 3}},
                  "sweeper": {"image": IMAGE, "schedule": "cron(0 3 * * ? *)", "command": ["python", "app.py", "job"]}})


# -- cluster ------------------------------------------------------------------------------------

def test_cluster_has_container_insights_and_service_connect_namespace(fargate):
    cluster = fargate.one("aws:ecs/cluster:Cluster", "ecs-cluster")
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    namespace = fargate.one("aws:servicediscovery/httpNamespace:HttpNamespace", "ecs-ns")
    assert cluster.inputs["serviceConnectDefaults"]["namespace"].startswith("arn:aws:servicediscovery:")
    assert namespace.inputs["name"] == "microservices-prod-ecs"
    assert cluster.protect


def test_cluster_uses_fargate_and_fargate_spot_and_dev_prefers_spot(fargate):
    providers = fargate.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert providers.inputs["defaultCapacityProviderStrategies"][0]["capacityProvider"] == "FARGATE"
    dev = run(lambda: EcsCluster("ecs", {}, network=NET, profile="dev"), config={"microservices:environment": "dev"})
    strategy = dev.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert strategy["defaultCapacityProviderStrategies"][0]["capacityProvider"] == "FARGATE_SPOT"


def test_cluster_without_ec2_capacity_creates_no_instances(fargate):
    assert fargate.of_type("aws:autoscaling/group:Group") == []
    assert fargate.of_type("aws:ecs/capacityProvider:CapacityProvider") == []


def test_ec2_capacity_is_an_ecs_optimized_asg_behind_a_managed_capacity_provider(ec2):
    lt = ec2.one("aws:ec2/launchTemplate:LaunchTemplate", "ecs-hosts-lt")
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    assert lt.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert lt.inputs["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    assert lt.inputs["blockDeviceMappings"][0]["ebs"]["volumeType"] == "gp3"
    assert lt.inputs["instanceType"] == "m7g.large"
    assert ("aws:ssm/getParameter:getParameter",
            {"name": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"}) in ec2.invokes
    asg = ec2.one("aws:autoscaling/group:Group", "ecs-hosts-asg")
    assert asg.inputs["protectFromScaleIn"] is True
    assert asg.inputs["maxSize"] == 6 and asg.inputs["minSize"] == 2
    assert asg.inputs["vpcZoneIdentifiers"] == NET["private_subnet_ids"]
    assert {"key": "AmazonECSManaged", "value": "true", "propagateAtLaunch": True} in asg.inputs["tags"]
    provider = ec2.one("aws:ecs/capacityProvider:CapacityProvider").inputs["autoScalingGroupProvider"]
    assert provider["managedTerminationProtection"] == "ENABLED"
    assert provider["managedScaling"]["status"] == "ENABLED"
    assert provider["managedScaling"]["targetCapacity"] == 100
    providers = ec2.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs["capacityProviders"]
    assert providers == ["FARGATE", "FARGATE_SPOT", "cp-microservices-prod-ecs-hosts"]
    roles = [a.inputs["policyArn"] for a in ec2.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    assert "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role" in roles


def test_ec2_hosts_join_the_cluster_through_user_data(ec2):
    import base64
    script = base64.b64decode(ec2.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["userData"]).decode()
    assert "ECS_CLUSTER=ecs-cluster-" in script


# -- fargate service ----------------------------------------------------------------------------

def test_fargate_task_definition_sizes_networking_and_platform(fargate):
    td = fargate.one(TASKDEF, "cart-taskdef").inputs
    assert (td["cpu"], td["memory"]) == ("1024", "4096")
    assert td["networkMode"] == "awsvpc" and td["requiresCompatibilities"] == ["FARGATE"]
    assert td["ephemeralStorage"] == {"sizeInGib": 40}
    # The stack's architecture (prod's Graviton m7g), on Fargate too
    assert td["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert td["executionRoleArn"] != td["taskRoleArn"]
    assert td["volumes"] == [{"name": "writable-0"}, {"name": "writable-1"}]


def test_fargate_container_is_read_only_non_root_with_secrets_logs_and_health_check(fargate):
    c = _container(fargate, "cart")
    assert c["readonlyRootFilesystem"] is True and c["user"] == "10001"
    assert c["mountPoints"] == [{"containerPath": "/tmp", "readOnly": False, "sourceVolume": "writable-0"},
                                {"containerPath": "/var/cache/app", "readOnly": False, "sourceVolume": "writable-1"}]
    assert c["portMappings"] == [{"appProtocol": "http", "containerPort": 9000, "hostPort": 9000, "name": "http",
                                  "protocol": "tcp"}]
    assert c["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": SECRET}]
    assert c["environment"] == [{"name": "MODE", "value": "fast"}]
    assert c["healthCheck"]["command"][1].startswith("wget -q -O /dev/null http://127.0.0.1:9000/health")
    assert c["logConfiguration"]["logDriver"] == "awslogs"
    group = fargate.one("aws:cloudwatch/logGroup:LogGroup", "cart-logs")
    assert c["logConfiguration"]["options"]["awslogs-group"].startswith("cart-logs-")
    assert c["logConfiguration"]["options"]["awslogs-region"] == "us-east-1"  # the cluster's, from its ARN
    assert group.inputs["retentionInDays"] == 365


def test_image_is_built_for_the_task_architecture_and_pushed(fargate):
    image = fargate.one("docker:index/image:Image", "cart-image")
    assert image.inputs["build"]["platform"] == "linux/arm64"
    assert _container(fargate, "cart")["image"] == image.inputs["imageName"]
    x86 = _plan({"cart": {"image": IMAGE, "architecture": "x86_64"}}, environment="dev")
    assert x86.one("docker:index/image:Image", "cart-image").inputs["build"]["platform"] == "linux/amd64"


def test_only_the_execution_role_reads_secrets_and_pulls_from_its_own_repository(fargate):
    execution = _policy(fargate, "cart-execution")
    by_sid = {s["Sid"]: s for s in execution["Statement"]}
    assert by_sid["ReadSecrets"]["Resource"] == [SECRET, f"{SECRET}-??????"]
    assert by_sid["PullImage"]["Resource"].startswith("arn:aws:ecr:us-east-1:123456789012:repository/cart-repo-")
    assert by_sid["WriteLogs"]["Resource"].endswith(":*")
    assert by_sid["EcrLogin"] == {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
                                  "Resource": "*"}
    assert all(s["Resource"] != "*" or s["Action"] == ["ecr:GetAuthorizationToken"] for s in execution["Statement"])
    # ECS Exec is off and nothing else was asked for: the task role has no inline policy at all.
    assert [p.name for p in fargate.of_type("aws:iam/rolePolicy:RolePolicy")] == ["cart-execution"]
    trust = json.loads(fargate.one("aws:iam/role:Role", "cart-task").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}


def test_fargate_service_runs_in_private_subnets_without_public_ip_and_rolls_back(fargate):
    svc = fargate.one(SERVICE, "cart-service")
    net = svc.inputs["networkConfiguration"]
    assert net["subnets"] == NET["private_subnet_ids"] and net["assignPublicIp"] is False
    assert len(net["securityGroups"]) == 2
    assert svc.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert svc.inputs["deploymentMinimumHealthyPercent"] == 100 and svc.inputs["deploymentMaximumPercent"] == 200
    assert svc.inputs["healthCheckGracePeriodSeconds"] == 60
    assert svc.inputs["enableExecuteCommand"] is False
    assert svc.inputs["capacityProviderStrategies"] == [{"base": 0, "capacityProvider": "FARGATE", "weight": 1}]
    assert svc.inputs["alarms"]["rollback"] is True and len(svc.inputs["alarms"]["alarmNames"]) == 3
    assert svc.ignore_changes == ["desiredCount"]
    listener = fargate.one("aws:lb/listener:Listener", "cart-https")
    assert listener.urn in svc.dependencies


def test_service_connect_publishes_the_service_by_name(fargate):
    connect = fargate.one(SERVICE, "cart-service").inputs["serviceConnectConfiguration"]
    assert connect["enabled"] is True and connect["namespace"].startswith("arn:aws:servicediscovery:")
    assert connect["services"] == [{"clientAlias": [{"dnsName": "cart", "port": 9000}], "discoveryName": "cart",
                                    "portName": "http"}]


def test_task_security_group_admits_the_port_only_from_the_lb_and_the_cluster_tasks(fargate):
    rules = [r for r in fargate.of_type(INGRESS) if r.name in ("cart-from-lb", "cart-from-tasks")]
    assert len(rules) == 2
    for rule in rules:
        assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 9000
        assert "referencedSecurityGroupId" in rule.inputs and "cidrIpv4" not in rule.inputs
    tg = fargate.one("aws:lb/targetGroup:TargetGroup", "cart-tg")
    assert tg.inputs["targetType"] == "ip"


def test_autoscaling_tracks_cpu_memory_and_alb_requests_within_min_max(fargate):
    target = fargate.one("aws:appautoscaling/target:Target", "cart-scaling").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    assert target["resourceId"].startswith("service/ecs-cluster-")
    metrics = {p.name: p.inputs["targetTrackingScalingPolicyConfiguration"] for p in fargate.of_type(POLICY)}
    assert metrics["cart-cpu"]["predefinedMetricSpecification"]["predefinedMetricType"] == \
        "ECSServiceAverageCPUUtilization"
    assert metrics["cart-cpu"]["targetValue"] == 60
    assert metrics["cart-memory"]["targetValue"] == 70
    requests = metrics["cart-requests"]["predefinedMetricSpecification"]
    assert requests["predefinedMetricType"] == "ALBRequestCountPerTarget"
    assert "/targetgroup/cart-tg-" in requests["resourceLabel"]


def test_every_child_is_tagged_and_parented(fargate):
    service = fargate.one("microservices:ecs:EcsService", "cart")
    for res in fargate.descendants(service):
        if res.custom and "tags" in res.inputs and res.type.startswith("aws:"):
            assert res.inputs["tags"]["Service"] == "cart", res.name


def test_capacity_provider_name_avoids_the_prefixes_aws_reserves(ec2):
    # AWS rejects names starting with aws, ecs or fargate; auto-naming would give "ecs-hosts-cp-1a2b3c4".
    provider = ec2.one("aws:ecs/capacityProvider:CapacityProvider", "ecs-hosts-cp")
    assert provider.inputs["name"] == "cp-microservices-prod-ecs-hosts"
    assert provider.delete_before_replace


def test_ecs_exec_grants_only_the_ssm_channels():
    graph = _plan({"cart": {"image": IMAGE, "enable_exec": True, "read_only_root_filesystem": False}},
                  environment="dev")
    assert graph.one(SERVICE).inputs["enableExecuteCommand"] is True
    assert _policy(graph, "cart-task")["Statement"][0]["Action"] == [
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel"]


def test_dev_runs_on_fargate_spot_whatever_the_architecture():
    # Fargate Spot runs ARM64 tasks on platform version 1.4.0: choosing arm64 no longer moves a dev
    # service off Spot (a capacity change the provider refuses without a new deployment).
    graph = _plan({"cart": {"image": IMAGE}, "arm": {"image": IMAGE, "architecture": "arm64"},
                   "intel": {"image": IMAGE, "architecture": "x86_64"}}, environment="dev")
    strategies = {s.name: s.inputs["capacityProviderStrategies"][0]["capacityProvider"] for s in graph.of_type(SERVICE)}
    assert strategies == {"cart-service": "FARGATE_SPOT", "arm-service": "FARGATE_SPOT", "intel-service": "FARGATE_SPOT"}
    assert graph.one(TASKDEF, "cart-taskdef").inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert graph.one(TASKDEF, "intel-taskdef").inputs["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    assert graph.one("docker:index/image:Image", "arm-image").inputs["build"]["platform"] == "linux/arm64"


def test_prebuilt_image_from_another_registry_needs_no_ecr_permissions():
    ref = "public.ecr.aws/nginx/nginx@sha256:" + "b" * 64
    graph = _plan({"web": {"image": {"ref": ref}, "health_command": ["NONE"]}}, environment="dev")
    assert graph.of_type("aws:ecr/repository:Repository") == []
    assert _container(graph, "web")["image"] == ref and "healthCheck" not in _container(graph, "web")
    assert [s["Sid"] for s in _policy(graph, "web-execution")["Statement"]] == ["WriteLogs"]


def test_internal_service_without_exposure_has_no_load_balancer():
    graph = _plan({"cart": {"image": IMAGE, "expose": "none"}}, environment="dev")
    assert graph.of_type("aws:lb/loadBalancer:LoadBalancer") == []
    assert "loadBalancers" not in graph.one(SERVICE).inputs


# -- ec2 bin-packing ----------------------------------------------------------------------------

def test_ec2_services_use_bridge_networking_dynamic_ports_and_binpack_on_memory(ec2):
    td = ec2.one(TASKDEF, "pricing-taskdef").inputs
    assert td["networkMode"] == "bridge" and td["requiresCompatibilities"] == ["EC2"]
    assert td["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert _container(ec2, "pricing")["portMappings"][0]["hostPort"] == 0
    svc = ec2.one(SERVICE, "pricing-service").inputs
    assert {"type": "binpack", "field": "memory"} in svc["orderedPlacementStrategies"]
    assert "networkConfiguration" not in svc
    assert svc["capacityProviderStrategies"][0]["capacityProvider"] == "cp-microservices-prod-ecs-hosts"
    assert ec2.one("aws:lb/targetGroup:TargetGroup", "pricing-tg").inputs["targetType"] == "instance"
    assert ec2.one("docker:index/image:Image", "pricing-image").inputs["build"]["platform"] == "linux/arm64"


def test_ec2_hosts_admit_dynamic_ports_only_from_load_balancers_and_cluster_tasks(ec2):
    hosts_sg = ec2.one("aws:ec2/securityGroup:SecurityGroup", "ecs-hosts-sg")
    on_hosts = [r for r in ec2.of_type(INGRESS) if r.property_dependencies.get("securityGroupId") == [hosts_sg.urn]]
    assert sorted(r.name for r in on_hosts) == ["ecs-hosts-from-tasks", "pricing-hosts-from-lb", "quotes-hosts-from-lb"]
    for rule in on_hosts:
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (32768, 65535)
        assert "cidrIpv4" not in rule.inputs and rule.inputs["referencedSecurityGroupId"].startswith("sg-")
    # Bridge-mode tasks share their host's network: no per-service security group.
    sg_names = {r.name for r in ec2.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert "pricing-sg" not in sg_names and "pricing-lb-sg" in sg_names


def test_instance_architecture_of_graviton_and_x86_types():
    assert [instance_architecture(t) for t in ("t4g.small", "m7g.large", "c7gn.xlarge", "x2gd.large", "a1.large")] \
        == ["arm64"] * 5
    assert [instance_architecture(t) for t in ("m7i.large", "g4dn.xlarge", "t3.micro", "c6in.large")] == ["x86_64"] * 4


# -- worker shapes ------------------------------------------------------------------------------

def test_queue_worker_has_encrypted_queue_with_dead_letter_queue_and_no_load_balancer(shapes):
    queue = shapes.one("aws:sqs/queue:Queue", "mailer-queue")
    dlq = shapes.one("aws:sqs/queue:Queue", "mailer-dlq")
    assert queue.inputs["sqsManagedSseEnabled"] is True and dlq.inputs["sqsManagedSseEnabled"] is True
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive["maxReceiveCount"] == 3
    assert redrive["deadLetterTargetArn"].startswith("arn:aws:sqs:us-east-1:123456789012:mailer-dlq-")
    assert queue.protect and dlq.protect
    alarm = shapes.one("aws:cloudwatch/metricAlarm:MetricAlarm", "mailer-dlq-messages").inputs
    assert alarm["dimensions"]["QueueName"].startswith("mailer-dlq-") and alarm["threshold"] == 0
    assert not [lb for lb in shapes.of_type("aws:lb/loadBalancer:LoadBalancer")]
    env = {e["name"]: e["value"] for e in _container(shapes, "mailer")["environment"]}
    assert env["QUEUE_URL"].startswith("https://sqs.us-east-1.amazonaws.com/")
    assert "portMappings" not in _container(shapes, "mailer") and "healthCheck" not in _container(shapes, "mailer")
    consume = _policy(shapes, "mailer-task")["Statement"][0]
    assert consume["Resource"].startswith("arn:aws:sqs:us-east-1:123456789012:mailer-queue-")
    assert "sqs:DeleteMessage" in consume["Action"]


def test_queue_worker_scales_on_backlog_per_task(shapes):
    config = shapes.one(POLICY, "mailer-backlog").inputs["targetTrackingScalingPolicyConfiguration"]
    assert config["targetValue"] == 25
    metrics = {m["id"]: m for m in config["customizedMetricSpecification"]["metrics"]}
    assert metrics["backlog"]["expression"] == "visible / tasks" and metrics["backlog"]["returnData"] is True
    assert metrics["visible"]["metricStat"]["metric"]["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert metrics["tasks"]["metricStat"]["metric"]["namespace"] == "ECS/ContainerInsights"
    assert not any(p.name == "mailer-cpu" for p in shapes.of_type(POLICY))
    connect = shapes.one(SERVICE, "mailer-service").inputs["serviceConnectConfiguration"]
    assert connect["enabled"] is True and "services" not in connect


def test_scheduled_task_runs_from_an_eventbridge_rule_with_a_scoped_role(shapes):
    assert not any(s.name == "sweeper-service" for s in shapes.of_type(SERVICE))
    rule = shapes.one("aws:cloudwatch/eventRule:EventRule", "sweeper-schedule")
    assert rule.inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    target = shapes.one("aws:cloudwatch/eventTarget:EventTarget", "sweeper-schedule").inputs
    assert target["arn"].startswith("arn:aws:ecs:us-east-1:123456789012:cluster/")
    ecs = target["ecsTarget"]
    assert ecs["taskCount"] == 1 and ecs["networkConfiguration"]["assignPublicIp"] is False
    assert ecs["taskDefinitionArn"].endswith(":1")
    statements = {s["Sid"]: s for s in _policy(shapes, "sweeper-events")["Statement"]}
    assert statements["RunTask"]["Resource"].endswith("task-definition/microservices-prod-sweeper:*")
    assert statements["RunTask"]["Condition"]["ArnEquals"]["ecs:cluster"] == target["arn"]
    assert statements["PassTaskRoles"]["Condition"] == {
        "StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    # The target propagates tags to the task: RunTask needs TagResource on the cluster's tasks only.
    cluster_tasks = target["arn"].replace(":cluster/", ":task/") + "/*"
    assert statements["TagTask"] == {"Sid": "TagTask", "Effect": "Allow", "Action": ["ecs:TagResource"],
                                     "Resource": cluster_tasks,
                                     "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}}
    assert ecs["propagateTags"] == "TASK_DEFINITION"
    assert _container(shapes, "sweeper")["command"] == ["python", "app.py", "job"]


# -- validation ---------------------------------------------------------------------------------

def _service(spec: dict, environment: str = "dev", cluster: dict | None = None):
    cluster = cluster or {"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c", "name": "c",
                          "namespace_arn": "arn:ns", "tasks_security_group_id": "sg-1"}
    return lambda: EcsService("orders", spec, cluster=cluster, network=NET, profile=environment, project_dir=ROOT)


def test_rejects_cpu_memory_pair_not_in_the_fargate_table():
    assert_problem(_service({"image": IMAGE, "cpu": 512, "memory": 512}), "orders.memory",
                   "Fargate allows with cpu 512: 1024-4096 in steps of 1024 MiB, got 512")
    assert_problem(_service({"image": IMAGE, "cpu": 8192, "memory": 18432}), "orders.memory",
                   "16384-61440 in steps of 4096")
    assert_problem(_service({"image": IMAGE, "cpu": 300}), "orders.cpu", "must be a Fargate CPU size")
    assert_problem(_service({"image": IMAGE, "memory": 4096}), "orders.memory",
                   "cpu 256 (the dev profile's default): 512, 1024, 2048")


def test_accepts_every_listed_fargate_size():
    from components.ecs import FARGATE_SIZES, validate_ecs
    from components.patterns import ValidationContext
    from components.profiles import get_profile
    vctx = ValidationContext(profile=get_profile("prod"), project_dir=ROOT)
    assert FARGATE_SIZES[16384][-1] == 122880 and FARGATE_SIZES[4096][-1] == 30720
    for cpu, memories in FARGATE_SIZES.items():
        for memory in memories:
            assert not validate_ecs("x", {"image": IMAGE, "cpu": cpu, "memory": memory}, "x", vctx)


def test_rejects_ephemeral_storage_outside_21_to_200_and_on_ec2():
    assert_problem(_service({"image": IMAGE, "ephemeral_storage": 20}), "orders.ephemeral_storage",
                   "between 21 and 200 GiB")
    assert_problem(_service({"image": IMAGE, "ephemeral_storage": 201}), "orders.ephemeral_storage", "201")
    assert_problem(_service({"image": IMAGE, "ephemeral_storage": 30, "capacity": "ec2"}),
                   "orders.ephemeral_storage", "Fargate only")


def test_rejects_min_above_max_port_out_of_range_and_secret_not_an_arn():
    lines = assert_problem(_service({"image": IMAGE, "scaling": {"min": 5, "max": 2}, "port": 70000,
                                     "secrets": {"TOKEN": "my-token"}}),
                           "orders.scaling.min", "at most scaling.max (2)")
    assert any("orders.port" in line and "between 1 and 65535" in line for line in lines)
    assert any("orders.secrets.TOKEN" in line and "ARN" in line for line in lines)


def test_rejects_build_context_that_does_not_exist():
    assert_problem(_service({"image": {"context": "services/nope"}}), "orders.image.context", "does not exist")
    assert_problem(_service({}), "orders.image.context", "'services/orders' does not exist")


def test_rejects_architecture_that_does_not_match_the_image_platform():
    assert_problem(_service({"image": {**IMAGE, "platform": "linux/amd64"}, "architecture": "arm64"}),
                   "orders.architecture", "must match")


def test_rejects_ec2_capacity_without_cluster_capacity():
    assert_problem(_service({"image": IMAGE, "capacity": "ec2"}), "orders.capacity", "no EC2 capacity")


def test_rejects_root_user_bad_writable_paths_and_health_command():
    lines = assert_problem(_service({"image": IMAGE, "user": "root", "writable_paths": ["tmp", "/"],
                                     "health_command": ["RUN", "x"]}), "orders.user", "non-root")
    assert any("orders.writable_paths[0]" in line and "absolute path" in line for line in lines)
    assert any("orders.writable_paths[1]" in line for line in lines)
    assert any("orders.health_command[0]" in line and "CMD-SHELL" in line for line in lines)


def test_ecs_exec_keeps_the_root_filesystem_read_only_and_passes_the_mandatory_policy():
    # GIVEN ECS Exec on a service with the default read-only root
    from components.tools.policy import MANDATORY, evaluate
    graph = _plan({"cart": {"image": IMAGE, "enable_exec": True}}, environment="prod")
    container = _container(graph, "cart")
    # THEN the SSM agent's state and log directories are writable task volumes, the root stays read-only
    assert container["readonlyRootFilesystem"] is True
    mounts = {m["containerPath"]: m["sourceVolume"] for m in container["mountPoints"]}
    assert mounts == {"/tmp": "writable-0", "/var/lib/amazon": "exec-var-lib-amazon",
                      "/var/log/amazon": "exec-var-log-amazon"}
    assert {v["name"] for v in graph.one(TASKDEF).inputs["volumes"]} == set(mounts.values())
    assert graph.one(SERVICE).inputs["enableExecuteCommand"] is True
    # AND the combination the README documents deploys: no mandatory policy violation
    assert [p for p in evaluate(graph.resources, "prod") if p.enforcement == MANDATORY] == []


def test_sample_image_declares_the_default_writable_path_as_a_volume():
    # ECS mounts writable paths root-owned 0755 unless the image declares them VOLUMEs: user 10001 could
    # not write to /tmp otherwise.
    from components.blocks.container import DEFAULT_WRITABLE_PATHS
    dockerfile = (ROOT / "services" / "cart" / "Dockerfile").read_text()
    volumes = [json.loads(line.split(None, 1)[1]) for line in dockerfile.splitlines() if line.startswith("VOLUME ")]
    assert sorted(p for v in volumes for p in v) == sorted(DEFAULT_WRITABLE_PATHS)


def test_rejects_worker_shapes_that_take_traffic_or_cannot_scale():
    assert_problem(_service({"image": IMAGE, "queue": {}, "expose": "public"}), "orders.expose", "takes no traffic")
    assert_problem(_service({"image": IMAGE, "queue": {}, "scaling": {"min": 0}}), "orders.scaling.min",
                   "at least 1 for a queue worker")
    assert_problem(_service({"image": IMAGE, "queue": {"visibility_timeout": 50000, "retries": 2}}),
                   "orders.queue.visibility_timeout", "between 0 and 43200")
    assert_problem(_service({"image": IMAGE, "schedule": "every day"}), "orders.schedule", "rate(5 minutes)")
    assert_problem(_service({"image": IMAGE, "schedule": "rate(1 hours)"}), "orders.schedule", "EventBridge schedule")
    assert_problem(_service({"image": IMAGE, "schedule": "rate(1 hour)", "queue": {}}), "orders.queue",
                   "not both")


@pytest.mark.parametrize("schedule, message", [
    ("cron(99 99 * * ? *)", "minutes: '99' is outside 0-59"),
    ("cron(0 3 * * * *)", "must be '?': EventBridge cannot match both"),
    ("cron(0 3 ? * MON#6 *)", "the occurrence in 'MON#6' must be 1-5"),
    ("rate(0 minutes)", "the rate value must be a positive whole number, got '0'"),
])
def test_scheduled_task_rejects_schedules_eventbridge_rejects_as_the_lambda_trigger_does(schedule, message):
    assert_problem(_service({"image": IMAGE, "schedule": schedule}), "orders.schedule",
                   f"{message} (an EventBridge schedule such as rate(5 minutes) or cron(0 3 * * ? *)), "
                   f"got {schedule!r}")


def test_ecs_and_lambda_schedules_share_one_validator():
    from components.blocks.schedule import check_schedule
    import components.ecs.validate as ecs
    import components.serverless.triggers.schedule as lambda_spec
    assert ecs.check_schedule is lambda_spec.check_schedule is check_schedule


def test_rejects_request_scaling_without_an_alb_and_unknown_keys():
    assert_problem(_service({"image": IMAGE, "target_requests": 100, "expose": "none"}), "orders.target_requests",
                   "no ALB")
    assert_problem(_service({"image": IMAGE, "memroy": 512}), "orders.memroy", "did you mean 'memory'")
    assert_problem(_service({"image": IMAGE, "policy_arns": ["AdministratorAccess"]}), "orders.policy_arns[0]",
                   "IAM policy ARN")


def test_cluster_hosts_can_pin_their_ami():
    graph = run(lambda: EcsCluster("ecs", {"ec2": {"ami_id": "ami-0123456789abcdef0"}}, network=NET, profile="dev"),
                config={"microservices:environment": "dev"})
    assert graph.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == "ami-0123456789abcdef0"
    assert not [tok for tok, _ in graph.invokes if tok == "aws:ssm/getParameter:getParameter"]


def test_rejects_invalid_cluster_settings():
    bad = lambda: EcsCluster("ecs", {"ec2": {"min_size": 5, "max_size": 2, "instance_type": "big",  # noqa: E731
                                             "ami_id": "ubuntu"}, "container_insights": "on"}, network=NET,
                             profile="dev")
    lines = assert_problem(bad, "ecs.ec2.min_size", "at most max_size (2)")
    assert any("ecs.ec2.instance_type" in line for line in lines)
    assert any("ecs.ec2.ami_id" in line for line in lines)
    assert any("ecs.container_insights" in line for line in lines)


# -- the pattern in a stack ---------------------------------------------------------------------

def _platform(services: dict, environment: str = "dev"):
    from components.platform import Platform
    return run(lambda: Platform("platform", {"environment": environment, "catalog_dir": "", "services": services},
                                project_dir=ROOT),
               config={"microservices:environment": environment}, project_dir=ROOT, stack=environment)


def test_stack_shares_one_cluster_with_ec2_capacity_only_when_a_service_asks():
    fargate_only = _platform({"cart": {"pattern": "ecs", "image": IMAGE}, "api": {"pattern": "ecs", "image": IMAGE}})
    assert len(fargate_only.of_type("aws:ecs/cluster:Cluster")) == 1
    assert fargate_only.of_type("aws:autoscaling/group:Group") == []
    clusters = {s.inputs["cluster"] for s in fargate_only.of_type(SERVICE)}
    assert len(clusters) == 1
    outputs = fargate_only.one("microservices:platform:Platform").outputs["services"]
    assert outputs["cart"]["url"].startswith("http://cart-lb-")
    assert outputs["cart"]["service"].startswith("cart-service")

    mixed = _platform({"cart": {"pattern": "ecs", "image": IMAGE},
                       "pricing": {"pattern": "ecs", "image": IMAGE, "capacity": "ec2"}})
    assert len(mixed.of_type("aws:autoscaling/group:Group")) == 1


def test_ec2_services_on_one_shared_alb_open_the_hosts_once():
    lb = {"shared": "edge", "path": "/a/*"}
    graph = _platform({"a": {"pattern": "ecs", "image": IMAGE, "capacity": "ec2", "load_balancer": lb},
                       "b": {"pattern": "ecs", "image": IMAGE, "capacity": "ec2",
                             "load_balancer": {**lb, "path": "/b/*"}}})
    rules = [r for r in graph.of_type(INGRESS) if r.name.endswith("-ecs-hosts-from-lb")]
    assert [r.name for r in rules] == ["edge-ecs-hosts-from-lb"]
    assert rules[0].parent == graph.one("microservices:lb:SharedLoadBalancer", "edge").urn


def test_catalog_rejects_ec2_tasks_of_another_architecture_than_the_hosts():
    from components.catalog import load_catalog
    from components.validation import CatalogError
    with pytest.raises(CatalogError) as info:
        load_catalog({"environment": "dev", "catalog_dir": "", "services": {
            "pricing": {"pattern": "ecs", "image": IMAGE, "capacity": "ec2", "architecture": "x86_64"}}}, ROOT)
    assert any("services.pricing.architecture" in str(p) and "'arm64'" in str(p) for p in info.value.problems)


def test_readme_stack_file_examples_are_valid():
    import re as _re

    import yaml

    from components.patterns import ValidationContext, load_pattern
    from components.profiles import get_profile
    text = (ROOT / "docs" / "ecs.md").read_text()
    section = text.split("<!-- section:ecs -->")[1].split("<!-- /section:ecs -->")[0]
    blocks = [yaml.safe_load(b) for b in _re.findall(r"```yaml\n(.*?)```", section, flags=_re.S)
              if b.startswith("microservices:services:")]
    assert len(blocks) == 2
    vctx = ValidationContext(profile=get_profile("prod"), project_dir=ROOT)
    for block in blocks:
        for name, spec in block["microservices:services"].items():
            spec = dict(spec)
            pattern = load_pattern(spec.pop("pattern"))
            # The examples name build contexts of the reader's project, not of this repository.
            problems = [str(p) for p in pattern.validate(name, spec, f"services.{name}", vctx)
                        if "does not exist" not in p.message]
            assert problems == [], name


def test_stack_ecs_config_shapes_the_shared_cluster(plan):
    from components.ecs.pattern import PATTERN
    from components.patterns import BuildContext
    from components.profiles import get_profile

    def program():
        ctx = BuildContext(parent=None, profile=get_profile("dev"), network=NET, project_dir=ROOT,
                           settings={"ecs": {"container_insights": "enhanced",
                                                  "ec2": {"instance_type": "c7i.large"}}})
        PATTERN.prepare({"cart": {"image": IMAGE}}, ctx)
        PATTERN.build("cart", {"image": IMAGE, "capacity": "ec2"}, ctx)

    graph = plan(program)
    assert graph.one("aws:ecs/cluster:Cluster").inputs["settings"][0]["value"] == "enhanced"
    assert graph.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["instanceType"] == "c7i.large"
    assert graph.one(TASKDEF).inputs["runtimePlatform"]["cpuArchitecture"] == "X86_64"


# -- deployments: capacity changes, waiting, ordering ---------------------------------------------

def test_changing_the_capacity_strategy_forces_the_new_deployment_the_provider_requires():
    # GIVEN one service planned on Fargate Spot, then on Fargate
    before = _plan({"cart": {"image": IMAGE, "capacity": "fargate_spot"}}, environment="dev").one(SERVICE).inputs
    after = _plan({"cart": {"image": IMAGE, "capacity": "fargate"}}, environment="dev").one(SERVICE).inputs
    # THEN the strategy changes, and the provider's rule (force_new_deployment must be true when
    # capacity_provider_strategy changes on an existing service) is met by both plans
    assert before["capacityProviderStrategies"][0]["capacityProvider"] == "FARGATE_SPOT"
    assert after["capacityProviderStrategies"][0]["capacityProvider"] == "FARGATE"
    assert before["forceNewDeployment"] is True and after["forceNewDeployment"] is True


def test_up_waits_for_the_deployment_with_a_bounded_timeout_and_rolls_back(fargate):
    service = fargate.one(SERVICE)
    assert service.inputs["waitForSteadyState"] is True
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_a_healthy_deployment_is_never_rolled_back_by_the_provider_itself(fargate, ec2):
    # sigint_rollback made terraform-provider-aws 6.53-6.54 stop every deployment it waited for with
    # "Service deployment rolled back by user" (hashicorp/terraform-provider-aws#49031, fixed by #49077;
    # the rollback wait itself is still being fixed in #49243): rollbacks are left to the circuit breaker
    # and the alarms.
    for graph in (fargate, ec2):
        for service in graph.of_type(SERVICE):
            assert not service.inputs.get("sigintRollback"), service.name
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["alarms"]["rollback"] is True
    assert service.custom_timeouts == {"create": "30m", "update": "30m"}


def test_deployment_timeout_is_configurable_and_validated():
    graph = _plan({"cart": {"image": IMAGE, "deployment_timeout": 45}}, environment="dev")
    assert graph.one(SERVICE).custom_timeouts == {"create": "45m", "update": "45m"}
    assert_problem(_service({"image": IMAGE, "deployment_timeout": 2}), "orders.deployment_timeout", "5", "180")
    assert_problem(_service({"image": IMAGE, "schedule": "rate(5 minutes)", "deployment_timeout": 10}),
                   "orders.deployment_timeout", "does not apply to a scheduled task")


def test_tasks_start_only_after_their_roles_policies_exist(shapes):
    td = shapes.one(TASKDEF, "mailer-taskdef")
    execution_policy = shapes.one("aws:iam/rolePolicy:RolePolicy", "mailer-execution").urn
    task_policy = shapes.one("aws:iam/rolePolicy:RolePolicy", "mailer-task").urn
    assert execution_policy in td.property_dependencies["executionRoleArn"]
    assert task_policy in td.property_dependencies["taskRoleArn"]


def test_targets_register_only_after_the_load_balancer_may_reach_them(fargate, ec2):
    service = fargate.one(SERVICE)
    for rule in (fargate.one(INGRESS, "cart-from-lb"),
                 fargate.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "cart-to-targets")):
        assert rule.urn in service.property_dependencies["loadBalancers"]
    pricing = ec2.one(SERVICE, "pricing-service")
    assert ec2.one(INGRESS, "pricing-hosts-from-lb").urn in pricing.property_dependencies["loadBalancers"]


def test_ec2_services_behind_one_shared_alb_both_wait_for_the_hosts_rule():
    lb = {"shared": "edge", "path": "/a/*"}
    graph = _platform({"a": {"pattern": "ecs", "image": IMAGE, "capacity": "ec2", "load_balancer": lb},
                       "b": {"pattern": "ecs", "image": IMAGE, "capacity": "ec2",
                             "load_balancer": {**lb, "path": "/b/*"}}})
    rule = graph.one(INGRESS, "edge-ecs-hosts-from-lb").urn
    for name in ("a-service", "b-service"):
        assert rule in graph.one(SERVICE, name).property_dependencies["loadBalancers"]


def test_every_up_refreshes_first_so_a_rolled_back_deployment_is_retried():
    # A failed update keeps the new task definition in Pulumi's state while ECS runs the old one: only a
    # refresh before the next `up` shows that difference, so the next `up` deploys the new version again.
    import yaml
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["options"]["refresh"] == "always"


# -- secrets: every valueFrom form ECS accepts ----------------------------------------------------

SM_BASE = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"
VALUE_FROM = {
    "FULL": f"{SM_BASE}-AbCdEf",                                           # the secret's full ARN
    "JSON_KEY": f"{SM_BASE}-AbCdEf:username::",                            # + json-key
    "STAGE": f"{SM_BASE}-AbCdEf:password:AWSPREVIOUS:",                    # + version-stage
    "VERSION": f"{SM_BASE}-AbCdEf:::0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",  # + version-id
    "PARTIAL": f"{SM_BASE}:password::",                                    # partial ARN (no suffix) + json-key
    "PARAM": "arn:aws:ssm:us-east-1:123456789012:parameter/cart/api-key",  # SSM parameter ARN
}


def test_execution_role_reads_the_secret_itself_for_every_value_from_form():
    graph = _plan({"cart": {"image": IMAGE, "secrets": VALUE_FROM}}, environment="dev")
    by_sid = {s["Sid"]: s for s in _policy(graph, "cart-execution")["Statement"]}
    assert by_sid["ReadSecrets"]["Resource"] == sorted(
        [SM_BASE, f"{SM_BASE}-??????", f"{SM_BASE}-AbCdEf", f"{SM_BASE}-AbCdEf-??????"])
    assert by_sid["ReadParameters"]["Resource"] == VALUE_FROM["PARAM"]
    # The task definition keeps each valueFrom exactly as given: ECS resolves the key and version.
    assert {s["name"]: s["valueFrom"] for s in _container(graph, "cart")["secrets"]} == VALUE_FROM


# -- EC2 hosts, Service Connect logs, health checks -------------------------------------------------

def test_ec2_hosts_launch_only_once_their_role_has_its_policies(ec2):
    lt = ec2.one("aws:ec2/launchTemplate:LaunchTemplate", "ecs-hosts-lt")
    attachments = [r.urn for r in ec2.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                   if r.name.startswith("ecs-hosts-role-")]
    assert len(attachments) == 2  # SSM core and the ECS instance policy
    assert set(attachments) <= set(lt.property_dependencies["iamInstanceProfile"])


def test_a_new_ecs_optimized_ami_replaces_the_hosts_by_a_rolling_refresh_that_drains_them(ec2):
    asg = ec2.one("aws:autoscaling/group:Group", "ecs-hosts-asg")
    refresh = asg.inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    prefs = refresh["preferences"]
    assert (prefs["minHealthyPercentage"], prefs["maxHealthyPercentage"]) == (100, 200)
    # ECS holds scale-in protection on hosts running tasks; managed draining moves the tasks first
    assert prefs["scaleInProtectedInstances"] == "Refresh" and prefs["autoRollback"] is True
    provider = ec2.one("aws:ecs/capacityProvider:CapacityProvider").inputs["autoScalingGroupProvider"]
    assert provider["managedDraining"] == "ENABLED"
    # The launch template version the group runs follows the AMI read at each deployment
    assert ec2.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] is not None


def test_service_connect_proxy_logs_go_to_the_services_log_group(fargate):
    logs = fargate.one(SERVICE).inputs["serviceConnectConfiguration"]["logConfiguration"]
    container_logs = _container(fargate, "cart")["logConfiguration"]["options"]
    assert logs["logDriver"] == "awslogs"
    assert logs["options"]["awslogs-group"] == container_logs["awslogs-group"]
    assert logs["options"]["awslogs-region"] == "us-east-1"
    assert logs["options"]["awslogs-stream-prefix"] == "cart-service-connect"


def test_default_health_check_says_the_image_needs_wget():
    from tests.test_docs import arg_fields
    docs = {where.split()[-1]: doc for where, doc, _ in arg_fields()}
    for field in ("EcsServiceArgs.health_command", "DockerServiceArgs.health_command"):
        assert "the image must ship ``wget``" in docs[field], field
    assert "wget" in default_health_command(8080, "/health")[1]


# -- resolved once: settings whose fields carry the defaults ----------------------------------------------------
SETTINGS_OF_ARGS = {"QueueArgs": "QueueSettings", "EcsServiceArgs": "EcsSettings", "Ec2CapacityArgs": "Ec2Capacity",
                    "EcsClusterArgs": "ClusterSettings"}


def _arg_docstrings(cls_name: str) -> dict[str, str]:
    import ast
    tree = ast.parse((ROOT / "components" / "ecs" / "args.py").read_text())
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name).body
    return {node.target.id: following.value.value for node, following in zip(body, body[1:])
            if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr)}


@pytest.mark.parametrize("args_class", sorted(SETTINGS_OF_ARGS))
def test_each_documented_default_is_the_default_of_the_settings_field(args_class):
    import dataclasses
    import components.ecs.args as ecs_args
    settings_class = getattr(ecs_args, SETTINGS_OF_ARGS[args_class])
    docs = _arg_docstrings(args_class)
    checked = []
    for f in dataclasses.fields(settings_class):
        if f.name not in docs or not isinstance(f.default, (bool, int, str)):
            continue
        shown = str(f.default).lower() if isinstance(f.default, bool) else \
            f"``{f.default}``" if isinstance(f.default, str) else str(f.default)
        assert f"Default: {shown}" in " ".join(docs[f.name].split()), (args_class, f.name, f.default)
        checked.append(f.name)
    assert checked, f"{args_class}: no literal default checked"


def test_a_spec_resolves_once_into_settings_with_the_pattern_and_profile_defaults():
    from components.blocks.container import DEFAULT_WRITABLE_PATHS
    from components.ecs.args import QueueSettings, resolve_cluster, resolve_ecs
    from components.profiles import get_profile
    dev, prod = get_profile("dev"), get_profile("prod")
    service = resolve_ecs("cart", {"image": IMAGE}, dev)
    assert (service.shape, service.capacity, service.cpu, service.memory, service.architecture) == \
        ("service", "fargate_spot", dev.container_cpu, dev.container_memory, "arm64")
    assert (service.core.port, service.core.expose, service.core.health_check.grace_period) == (8080, "internal", 60)
    assert (service.deployment_timeout, service.enable_exec, service.queue, service.schedule) == (30, False, None, None)
    assert service.container.writable_paths == list(DEFAULT_WRITABLE_PATHS)
    worker = resolve_ecs("mailer", {"image": IMAGE, "queue": {"max_receive_count": 3}}, prod)
    assert (worker.shape, worker.capacity, worker.core.expose, worker.container.health_command) == \
        ("worker", "fargate", "none", None)
    assert worker.queue == QueueSettings(visibility_timeout=60, max_receive_count=3, retention_days=4,
                                         messages_per_task=10)
    cluster = resolve_cluster({"ec2": {"min_size": 3}}, prod)
    assert (cluster.container_insights, cluster.namespace) == ("enabled", None)
    assert (cluster.ec2.instance_type, cluster.ec2.min_size, cluster.ec2.max_size, cluster.ec2.root_volume_size,
            cluster.ec2.target_capacity, cluster.ec2.ami_id) == \
        (prod.instance_type, 3, 2 * prod.max_capacity, 30, 100, None)


def test_validation_the_cluster_and_the_service_agree_on_the_capacity():
    """One resolution: a capacity left out (or null) is the profile's, a value not known yet is Fargate, so
    the validator, the cluster's EC2 decision and the service read the same capacity."""
    from components.ecs.args import resolve_capacity
    from components.profiles import get_profile
    dev, prod = get_profile("dev"), get_profile("prod")
    assert resolve_capacity({}, dev) == resolve_capacity({"capacity": None}, dev) == "fargate_spot"
    assert resolve_capacity({}, prod) == "fargate"
    not_known_yet = object()  # an Output where validation skips the value
    assert resolve_capacity({"capacity": not_known_yet}, dev) == "fargate"
    assert resolve_capacity({"capacity": "ec2"}, dev) == "ec2"


def test_ecs_modules_read_settings_fields_not_dict_fallbacks():
    import re
    fallback = re.compile(r"""\.get\(["'][a-z_]+["'], """)
    found = [f"{path.name}:{i}: {line.strip()}" for path in sorted((ROOT / "components" / "ecs").glob("*.py"))
             for i, line in enumerate(path.read_text().splitlines(), 1) if fallback.search(line)]
    assert found == []


def test_rejects_ec2_task_of_another_architecture_than_the_cluster_hosts():
    cluster = {"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c", "name": "c", "namespace_arn": "arn:ns",
               "tasks_security_group_id": "sg-1", "capacity_provider_name": "cp-1", "architecture": "arm64"}
    assert_problem(_service({"image": IMAGE, "capacity": "ec2", "architecture": "x86_64"}, cluster=cluster),
                   "orders.architecture", "is 'x86_64' but the cluster's EC2 instances are 'arm64'")
