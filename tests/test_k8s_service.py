"""KubernetesService: GIVEN args / WHEN planned under mocks / THEN the Kubernetes objects and IAM bindings."""

from __future__ import annotations

import json

import pytest

from components.eks import KubernetesService, validate_kubernetes_service
from components.patterns import ValidationContext
from components.profiles import get_profile
from tests.conftest import ROOT, assert_problem

NET = {"vpc_id": "vpc-0abc", "vpc_cidr": "10.20.0.0/16", "private_subnet_ids": ["subnet-a", "subnet-b"],
       "public_subnet_ids": ["subnet-p1", "subnet-p2"], "public_subnet_cidrs": ["10.20.128.0/22", "10.20.132.0/22"],
       "load_balancer_subnet_ids": ["subnet-l1", "subnet-l2"],
       "load_balancer_subnet_cidrs": ["10.20.192.0/22", "10.20.196.0/22"]}
CLUSTER = {"cluster_name": "microservices-dev-eks",
           "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
           "oidc_issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"}
IMAGE = {"ref": "public.ecr.aws/acme/orders:1.4.2"}
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/db"
PARAM = "arn:aws:ssm:us-east-1:123456789012:parameter/orders/api-key"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789012"
FULL = {
    "image": IMAGE, "port": 9000, "expose": "public",
    "health_check": {"path": "/ready", "interval": 15, "timeout": 3, "grace_period": 90},
    "scaling": {"min": 3, "max": 8, "target_cpu": 70},
    "environment": {"LOG_LEVEL": "debug"}, "secrets": {"DB_URL": SECRET, "API_KEY": PARAM},
    "access": {"buckets": {"orders-assets": "read"}, "queues": {"orders-events": "send"}},
    "ingress": {"certificate_arn": CERT, "host": "orders.example.com"},
    "allow_from": ["checkout/cart"], "cpu": 512, "memory": 1024,
}


def _k8s(g, kind):
    return next(r for r in g.resources if r.type.endswith(f":{kind}") and r.type.startswith("kubernetes:"))


@pytest.fixture(scope="module")
def full():
    from components.tools.plan.runtime import run
    return run(lambda: KubernetesService("orders", FULL, cluster=CLUSTER, network=NET, profile="prod"),
               config={"microservices:environment": "prod", "aws:region": "us-east-1"}, project_dir=ROOT, stack="prod")


@pytest.fixture(scope="module")
def minimal():
    from components.tools.plan.runtime import run
    return run(lambda: KubernetesService("catalog", {"image": IMAGE, "expose": "none"}, profile="dev"),
               config={"microservices:environment": "dev", "aws:region": "us-east-1"}, project_dir=ROOT, stack="dev")


def test_namespace_enforces_the_restricted_pod_security_standard(full):
    ns = _k8s(full, "Namespace")
    assert ns.inputs["metadata"]["name"] == "orders"
    labels = ns.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_every_object_has_an_explicit_name_in_the_service_namespace(full):
    for r in full.resources:
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Namespace":
            assert r.inputs["metadata"]["name"].startswith("orders"), r.type
            assert r.inputs["metadata"]["namespace"] == "orders", r.type


def test_deployment_runs_the_restricted_security_context(full):
    pod = _k8s(full, "Deployment").inputs["spec"]["template"]["spec"]
    container = pod["containers"][0]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] >= 10000
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "orders"
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_deployment_image_port_environment_and_resources(full):
    container = _k8s(full, "Deployment").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE["ref"]
    assert container["ports"] == [{"containerPort": 9000, "name": "http", "protocol": "TCP"}]
    assert {"name": "LOG_LEVEL", "value": "debug"} in container["env"]
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1024Mi"},
                                      "limits": {"cpu": "1000m", "memory": "1024Mi"}}


def test_resources_default_to_the_profile(minimal):
    container = _k8s(minimal, "Deployment").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}


def test_probes_come_from_the_health_check(full):
    container = _k8s(full, "Deployment").inputs["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/ready", "port": "http", "scheme": "HTTP"}
    assert container["livenessProbe"]["periodSeconds"] == 15 and container["livenessProbe"]["timeoutSeconds"] == 3
    assert container["readinessProbe"]["periodSeconds"] == 10
    # 90 s to start, probed every 5 s.
    assert container["startupProbe"]["periodSeconds"] == 5 and container["startupProbe"]["failureThreshold"] == 18


def test_probe_overrides_win(plan):
    g = plan(lambda: KubernetesService("catalog", {"image": IMAGE, "expose": "none", "probes": {
        "liveness": {"period_seconds": 20, "timeout_seconds": 2, "failure_threshold": 5}}}))
    live = _k8s(g, "Deployment").inputs["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert (live["periodSeconds"], live["timeoutSeconds"], live["failureThreshold"]) == (20, 2, 5)


def test_rollout_never_drops_capacity_and_spreads_across_zones(full):
    spec = _k8s(full, "Deployment").inputs["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    spread = spec["template"]["spec"]["topologySpreadConstraints"]
    zone = next(c for c in spread if c["topologyKey"] == "topology.kubernetes.io/zone")
    assert zone["maxSkew"] == 1 and zone["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]


def test_recommended_labels_and_a_stable_selector(full):
    deployment = _k8s(full, "Deployment")
    labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "orders" and labels["app.kubernetes.io/version"] == "1.4.2"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi" and labels["app.kubernetes.io/instance"] == "orders-prod"
    assert "app.kubernetes.io/version" not in deployment.inputs["spec"]["selector"]["matchLabels"]
    assert "spec.replicas" in deployment.ignore_changes and deployment.inputs["spec"]["replicas"] == 3


def test_secrets_are_mounted_as_files_through_the_csi_driver_never_as_values(full):
    spc = _k8s(full, "SecretProviderClass")
    assert spc.inputs["spec"]["provider"] == "aws" and spc.inputs["spec"]["parameters"]["usePodIdentity"] == "true"
    objects = json.loads(spc.inputs["spec"]["parameters"]["objects"])
    assert objects == [{"objectAlias": "API_KEY", "objectName": PARAM, "objectType": "ssmparameter"},
                       {"objectAlias": "DB_URL", "objectName": SECRET, "objectType": "secretsmanager"}]
    pod = _k8s(full, "Deployment").inputs["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "secrets")
    assert volume["csi"]["volumeAttributes"] == {"secretProviderClass": spc.inputs["metadata"]["name"]}
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert env["DB_URL_FILE"] == "/var/run/secrets/app/DB_URL" and "DB_URL" not in env
    assert not full.of_type("kubernetes:core/v1:Secret")


def test_pod_identity_role_trusts_eks_pods_and_grants_only_what_is_declared(full):
    role = full.one("aws:iam/role:Role", "orders-role")
    stmt = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert stmt["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert stmt["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    # Only this ServiceAccount of this cluster, not any Pod Identity association of the account.
    assert stmt["Condition"] == {"StringEquals": {"aws:RequestTag/eks-cluster-name": CLUSTER["cluster_name"],
                                                  "aws:RequestTag/kubernetes-namespace": "orders",
                                                  "aws:RequestTag/kubernetes-service-account": "orders"}}
    policy = full.one("aws:iam/rolePolicy:RolePolicy", "orders-role").json_input("policy")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["BucketsOrdersAssetsReadObjects"]["Action"] == ["s3:GetObject"]
    assert by_sid["BucketsOrdersAssetsReadObjects"]["Resource"] == "arn:aws:s3:::orders-assets/*"
    assert "sqs:SendMessage" in by_sid["QueuesOrdersEvents"]["Action"]
    assert by_sid["ReadSecrets"]["Resource"] == [SECRET, f"{SECRET}-??????"]
    assert by_sid["ReadSecrets"]["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert by_sid["ReadParameters"]["Resource"] == PARAM
    assoc = full.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert assoc.inputs["clusterName"] == CLUSTER["cluster_name"]
    assert (assoc.inputs["namespace"], assoc.inputs["serviceAccount"]) == ("orders", "orders")
    assert assoc.urn in _k8s(full, "Deployment").dependencies


def test_no_role_and_no_token_without_declared_access(minimal):
    assert not minimal.of_type("aws:iam/role:Role")
    assert not minimal.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert _k8s(minimal, "ServiceAccount").inputs["automountServiceAccountToken"] is False


def test_irsa_binding_annotates_the_service_account(plan):
    g = plan(lambda: KubernetesService("orders", {"image": IMAGE, "expose": "none", "iam_binding": "irsa",
                                                  "access": {"queues": {"jobs": "send"}}},
                                       cluster=CLUSTER))
    sa = _k8s(g, "ServiceAccount")
    assert sa.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    trust = json.loads(g.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"] == \
        "system:serviceaccount:orders:orders"
    assert not g.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")


def test_consuming_a_queue_grants_get_queue_url(plan):
    # SDKs resolve a queue by name (GetQueueUrl) before receiving from it: without it, consume fails.
    g = plan(lambda: KubernetesService("worker", {"image": IMAGE, "expose": "none",
                                                  "access": {"queues": {"jobs": "consume"}}}, cluster=CLUSTER))
    statements = json.loads(g.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    consume = [s for s in statements if "sqs:ReceiveMessage" in s["Action"]][0]
    assert "sqs:GetQueueUrl" in consume["Action"]


def test_cluster_ip_service_targets_the_named_port(full):
    svc = _k8s(full, "Service")
    assert svc.inputs["spec"]["type"] == "ClusterIP"
    assert svc.inputs["spec"]["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]


def test_public_ingress_is_internet_facing_with_tls_and_redirect(full):
    ing = _k8s(full, "Ingress")
    ann = ing.inputs["metadata"]["annotations"]
    assert ann["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert ann["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert ann["alb.ingress.kubernetes.io/certificate-arn"] == CERT
    assert ann["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert json.loads(ann["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert ann["alb.ingress.kubernetes.io/healthcheck-path"] == "/ready"
    assert ing.inputs["spec"]["ingressClassName"] == "alb"
    assert ing.inputs["spec"]["rules"][0]["host"] == "orders.example.com"


def test_internal_ingress_without_certificate_listens_on_http_only(plan):
    g = plan(lambda: KubernetesService("orders", {"image": IMAGE}, network=NET, await_load_balancer=False))
    ann = _k8s(g, "Ingress").inputs["metadata"]["annotations"]
    assert ann["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert json.loads(ann["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
    assert "alb.ingress.kubernetes.io/certificate-arn" not in ann
    assert ann["pulumi.com/skipAwait"] == "true"


def test_no_ingress_when_not_exposed(minimal):
    assert not minimal.of_type("kubernetes:networking.k8s.io/v1:Ingress")


def test_hpa_scales_on_cpu_between_min_and_max(full):
    hpa = _k8s(full, "HorizontalPodAutoscaler").inputs
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 8)
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "orders"}


def test_pdb_never_blocks_a_drain(full):
    pdb = _k8s(full, "PodDisruptionBudget").inputs["spec"]
    assert pdb["maxUnavailable"] == 1 and pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_network_policy_admits_only_the_load_balancer_own_pods_and_allowed_services(full):
    np = _k8s(full, "NetworkPolicy").inputs["spec"]
    assert np["policyTypes"] == ["Ingress"]
    selector = _k8s(full, "Deployment").inputs["spec"]["selector"]["matchLabels"]
    own, lb, peers = np["ingress"]
    assert own == {"from": [{"podSelector": {"matchLabels": selector}}]}
    # expose: public -> exactly the public subnets, where the internet-facing load balancer lives.
    assert lb == {"from": [{"ipBlock": {"cidr": c}} for c in NET["public_subnet_cidrs"]],
                  "ports": [{"port": 9000, "protocol": "TCP"}]}
    assert _k8s(full, "Ingress").inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/subnets"] == \
        "subnet-p1,subnet-p2"
    assert peers["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "checkout"}},
                              "podSelector": {"matchLabels": {"app.kubernetes.io/name": "cart"}}}]


def test_network_policy_without_exposure_admits_no_outside_traffic(minimal):
    np = _k8s(minimal, "NetworkPolicy").inputs["spec"]
    assert len(np["ingress"]) == 1 and "podSelector" in np["ingress"][0]["from"][0]


def test_works_with_any_cluster_given_a_kubeconfig(plan):
    g = plan(lambda: KubernetesService("catalog", {"image": IMAGE, "expose": "none", "namespace": "shop"},
                                       kubeconfig="apiVersion: v1\nkind: Config\n"))
    provider = g.one("pulumi:providers:kubernetes", "catalog-k8s")
    assert all(r.provider and r.provider.startswith(provider.urn) for r in g.resources
               if r.type.startswith("kubernetes:") and r.custom)
    assert _k8s(g, "Deployment").inputs["metadata"]["namespace"] == "shop"


def test_shared_namespace_is_not_created_twice(plan):
    g = plan(lambda: KubernetesService("catalog", {"image": IMAGE, "expose": "none", "namespace": "shop",
                                                   "create_namespace": False}))
    assert not g.of_type("kubernetes:core/v1:Namespace")


# -- validation -----------------------------------------------------------------------------------
def _v(spec, name="orders"):
    validate_kubernetes_service(name, spec, f"services.{name}",
                                ValidationContext(profile=get_profile("dev"), project_dir=ROOT)).raise_if_any()


def test_rejects_max_surge_and_max_unavailable_both_zero():
    assert_problem(lambda: _v({"image": IMAGE, "rolling_update": {"max_surge": 0, "max_unavailable": "0%"}}),
                   "services.orders.rolling_update", "cannot both be 0")
    assert_problem(lambda: _v({"image": IMAGE, "rolling_update": {"max_surge": "150%"}}),
                   "services.orders.rolling_update.max_surge", "percentage")


def test_rejects_a_disruption_budget_that_would_block_drains():
    assert_problem(lambda: _v({"image": IMAGE, "scaling": {"min": 2, "max": 4},
                               "disruption_budget": {"min_available": 2}}),
                   "services.orders.disruption_budget.min_available", "node drains block")
    assert_problem(lambda: _v({"image": IMAGE, "scaling": {"min": 3, "max": 4},
                               "disruption_budget": {"min_available": "90%"}}),
                   "services.orders.disruption_budget.min_available", "node drains block")
    assert_problem(lambda: _v({"image": IMAGE, "disruption_budget": {"max_unavailable": 0}}),
                   "services.orders.disruption_budget.max_unavailable", "blocks every node drain")
    # dev runs one replica by default: keeping one available would block every drain.
    assert_problem(lambda: _v({"image": IMAGE, "disruption_budget": {"min_available": 1}}),
                   "services.orders.disruption_budget.min_available", "scaling.min (1)")
    assert_problem(lambda: _v({"image": IMAGE, "disruption_budget": {"min_available": 1, "max_unavailable": 1}}),
                   "services.orders.disruption_budget", "at most one")


def test_accepts_a_disruption_budget_that_leaves_a_pod_evictable():
    _v({"image": IMAGE, "scaling": {"min": 3, "max": 6}, "disruption_budget": {"min_available": "50%"}})


def test_rejects_hpa_min_above_max_and_zero_min():
    assert_problem(lambda: _v({"image": IMAGE, "scaling": {"min": 5, "max": 2}}), "services.orders.scaling.min",
                   "at most scaling.max (2)")
    assert_problem(lambda: _v({"image": IMAGE, "scaling": {"min": 0, "max": 2}}), "services.orders.scaling.min",
                   "at least 1")


def test_rejects_limits_below_requests():
    lines = assert_problem(lambda: _v({"image": IMAGE, "cpu": 1024, "cpu_limit": 512, "memory": 2048,
                                       "memory_limit": 1024}), "services.orders.cpu_limit", "at least the request")
    assert any("services.orders.memory_limit" in line for line in lines)
    assert_problem(lambda: _v({"image": IMAGE, "memory_limit": 256}), "services.orders.memory_limit",
                   "(512 (the profile's default)")


def test_rejects_names_that_are_not_dns_1123():
    assert_problem(lambda: _v({"image": IMAGE}, name="Orders_API"), "services.Orders_API", "DNS-1123")
    assert_problem(lambda: _v({"image": IMAGE, "namespace": "Shop"}), "services.orders.namespace", "DNS-1123")


def test_rejects_probe_timings_out_of_range():
    assert_problem(lambda: _v({"image": IMAGE, "probes": {"liveness": {"period_seconds": 5, "timeout_seconds": 10}}}),
                   "services.orders.probes.liveness.timeout_seconds", "at most period_seconds (5)")
    assert_problem(lambda: _v({"image": IMAGE, "probes": {"startup": {"period_seconds": 0}}}),
                   "services.orders.probes.startup.period_seconds", "between 1 and 300")
    assert_problem(lambda: _v({"image": IMAGE, "probes": {"liveness": {"success_threshold": 2}}}),
                   "services.orders.probes.liveness.success_threshold", "must be 1")
    assert_problem(lambda: _v({"image": IMAGE, "probes": {"ready": {}}}), "services.orders.probes.ready",
                   "unknown key")
    assert_problem(lambda: _v({"image": IMAGE, "health_check": {"interval": 400}}),
                   "services.orders.health_check.interval", "between 5 and 300")


def test_rejects_latest_and_untagged_images():
    assert_problem(lambda: _v({"image": {"ref": "acme/orders:latest"}}), "services.orders.image.ref", "latest")
    assert_problem(lambda: _v({"image": {"ref": "acme/orders"}}), "services.orders.image.ref", "pinned")


def test_rejects_wildcard_access_and_bad_ingress():
    assert_problem(lambda: _v({"image": IMAGE, "access": {"buckets": {"*": "read"}}}),
                   "services.orders.access.buckets.*", "not a wildcard")
    assert_problem(lambda: _v({"image": IMAGE, "access": {"queues": {"jobs": "read"}}}),
                   "services.orders.access.queues.jobs", "must be one of")
    assert_problem(lambda: _v({"image": IMAGE, "access": {"topics": {"t": "publish"}}}),
                   "services.orders.access.topics", "unknown key")
    assert_problem(lambda: _v({"image": IMAGE, "ingress": {"certificate_arn": "arn:aws:iam::1:cert/x"}}),
                   "services.orders.ingress.certificate_arn", "ACM certificate ARN")
    assert_problem(lambda: _v({"image": IMAGE, "expose": "none", "ingress": {"host": "a.example.com"}}),
                   "services.orders.ingress", "no effect with expose: none")


def test_rejects_low_uids_and_unknown_keys():
    assert_problem(lambda: _v({"image": IMAGE, "run_as_user": 1000}), "services.orders.run_as_user", "between 10000")
    assert_problem(lambda: _v({"image": IMAGE, "replica": 2}), "services.orders.replica", "unknown key")


def test_access_needs_a_cluster_to_bind_the_role(plan):
    assert_problem(lambda: KubernetesService("orders", {"image": IMAGE, "expose": "none", "secrets": {"DB": SECRET}}),
                   "orders.secrets", "needs an EKS cluster")
    assert_problem(lambda: KubernetesService("orders", {"image": IMAGE}), "orders.load_balancer_cidrs", "is required")


def test_grouped_ingresses_tag_their_shared_load_balancer_alike(plan):
    # The controller refuses a whole ingress group whose members tag one key differently.
    def two():
        for svc in ("cart", "web"):
            KubernetesService(svc, {"image": IMAGE, "ingress": {"group": "shop", "path": f"/{svc}"}},
                              network=NET, await_load_balancer=False)
    g = plan(two)
    tags = {r.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/tags"]
            for r in g.of_type("kubernetes:networking.k8s.io/v1:Ingress")}
    assert tags == {"Environment=dev,ManagedBy=pulumi,Service=shop"}


def test_namespace_asks_the_load_balancer_controller_for_pod_readiness_gates(full):
    labels = _k8s(full, "Namespace").inputs["metadata"]["labels"]
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"


def test_a_shorter_probe_period_never_leaves_the_derived_timeout_above_it(plan):
    g = plan(lambda: KubernetesService("catalog", {"image": IMAGE, "expose": "none", "health_check": {"timeout": 8},
                                                   "probes": {"readiness": {"period_seconds": 4}}}))
    ready = _k8s(g, "Deployment").inputs["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert (ready["periodSeconds"], ready["timeoutSeconds"]) == (4, 4)


def test_rejects_a_probe_timeout_above_the_period_derived_from_the_health_check():
    assert_problem(lambda: _v({"image": IMAGE, "health_check": {"interval": 15},
                               "probes": {"liveness": {"timeout_seconds": 20}}}),
                   "services.orders.probes.liveness.timeout_seconds", "at most period_seconds (15, derived")
    assert_problem(lambda: _v({"image": IMAGE, "probes": {"startup": {"timeout_seconds": 6}}}),
                   "services.orders.probes.startup.timeout_seconds", "(5, derived")


def test_internal_service_admits_only_the_internal_load_balancer_subnets_never_the_vpc(plan):
    g = plan(lambda: KubernetesService("orders", {"image": IMAGE}, network=NET, await_load_balancer=False))
    blocks = [peer["ipBlock"]["cidr"] for rule in _k8s(g, "NetworkPolicy").inputs["spec"]["ingress"]
              for peer in rule["from"] if "ipBlock" in peer]
    assert blocks == NET["load_balancer_subnet_cidrs"] and NET["vpc_cidr"] not in blocks
    ann = _k8s(g, "Ingress").inputs["metadata"]["annotations"]
    assert ann["alb.ingress.kubernetes.io/subnets"] == "subnet-l1,subnet-l2"


def test_exposed_service_needs_load_balancer_cidrs_when_the_network_names_no_load_balancer_subnets():
    bare = {"vpc_id": "vpc-0abc", "vpc_cidr": "10.20.0.0/16", "private_subnet_ids": ["subnet-a"]}
    assert_problem(lambda: KubernetesService("orders", {"image": IMAGE}, network=bare),
                   "orders.load_balancer_cidrs", "expose: internal", "load_balancer_subnet_cidrs", "never the whole VPC")


def test_prod_load_balancer_can_be_deleted_by_the_controller_and_removal_fails_at_preview(full, plan):
    # ALB deletion protection would stop the controller from deleting the load balancer: the Ingress finalizer
    # and the namespace would hang. Prod protects the Ingress in Pulumi instead: removing the service fails at
    # preview with Pulumi's "marked for protection" message, and `pulumi state unprotect` lets it proceed.
    ing = _k8s(full, "Ingress")
    attributes = ing.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-attributes"]
    # Explicitly off: the controller leaves an attribute the annotation no longer names as it is, so a load
    # balancer created with protection on (prod, before this change) keeps it unless the annotation turns it off.
    assert "deletion_protection.enabled=false" in attributes.split(",")
    assert "deletion_protection.enabled=true" not in attributes
    assert ing.protect is True
    dev = plan(lambda: KubernetesService("orders", {"image": IMAGE}, network=NET, await_load_balancer=False))
    assert _k8s(dev, "Ingress").protect is False
