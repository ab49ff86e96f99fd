"""EksCluster: GIVEN cluster args / WHEN planned under mocks / THEN the AWS and Kubernetes registrations."""

from __future__ import annotations

import json

import pytest

from components.blocks.architecture import is_arm64 as is_arm
from components.eks import DEFAULT_VERSION, STANDARD_SUPPORT, EksCluster, validate_eks_cluster
from tests.conftest import assert_problem

NET = {"vpc_id": "vpc-0abc", "vpc_cidr": "10.20.0.0/16", "private_subnet_ids": ["subnet-a", "subnet-b", "subnet-c"]}
ADMIN = "arn:aws:iam::123456789012:role/PlatformAdmin"
LBC = {"policy_arn": "arn:aws:iam::123456789012:policy/AWSLoadBalancerControllerIAMPolicy", "chart_version": "1.14.1"}


@pytest.fixture(scope="module")
def prod(request):
    from components.tools.plan.runtime import run
    from tests.conftest import ROOT
    return run(lambda: EksCluster("eks", {"admin_role_arns": [ADMIN], "load_balancer_controller": LBC},
                                  network=NET, profile="prod"),
               config={"microservices:environment": "prod", "aws:region": "us-east-1"}, project_dir=ROOT, stack="prod")


@pytest.fixture(scope="module")
def dev():
    from components.tools.plan.runtime import run
    from tests.conftest import ROOT
    return run(lambda: EksCluster("eks", {}, network=NET, profile="dev"),
               config={"microservices:environment": "dev", "aws:region": "us-east-1"}, project_dir=ROOT, stack="dev")


def test_cluster_runs_the_default_standard_support_version_with_standard_upgrade_policy(dev):
    cluster = dev.one("aws:eks/cluster:Cluster")
    assert DEFAULT_VERSION in STANDARD_SUPPORT
    assert cluster.inputs["version"] == DEFAULT_VERSION
    assert cluster.get("upgradePolicy.supportType") == "STANDARD"


def test_api_endpoint_is_private_by_default(dev):
    vpc = dev.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    assert vpc["subnetIds"] == NET["private_subnet_ids"]


def test_public_endpoint_is_limited_to_the_given_cidrs(plan):
    g = plan(lambda: EksCluster("eks", {"public_endpoint": True, "public_access_cidrs": ["203.0.113.0/24"]},
                                network=NET))
    vpc = g.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_secrets_are_encrypted_with_a_rotating_kms_key(prod):
    key = prod.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True and key.protect is True
    enc = prod.one("aws:eks/cluster:Cluster").inputs["encryptionConfig"]
    assert enc["resources"] == ["secrets"] and enc["provider"]["keyArn"].startswith("arn:aws:kms:")


def test_control_plane_logs_go_to_a_log_group_with_the_profile_retention_created_first(prod, dev):
    cluster = prod.one("aws:eks/cluster:Cluster")
    # prod ships all five log types; dev the three that audit access.
    assert cluster.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager",
                                                        "scheduler"]
    assert dev.one("aws:eks/cluster:Cluster").inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    group = prod.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    assert group.inputs["retentionInDays"] == 365
    assert dev.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 7
    assert group.urn in cluster.dependencies


def test_authentication_mode_api_with_admin_access_entries(prod):
    cluster = prod.one("aws:eks/cluster:Cluster")
    assert cluster.get("accessConfig.authenticationMode") == "API"
    entry = prod.one("aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["principalArn"] == ADMIN and entry.inputs["type"] == "STANDARD"
    assoc = prod.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert assoc.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    assert assoc.inputs["accessScope"] == {"type": "cluster"}


def test_prod_cluster_has_deletion_protection_and_is_protected(prod, dev):
    assert prod.one("aws:eks/cluster:Cluster").inputs["deletionProtection"] is True
    assert prod.one("aws:eks/cluster:Cluster").protect is True
    assert dev.one("aws:eks/cluster:Cluster").inputs["deletionProtection"] is False


def test_node_group_uses_a_hardened_launch_template_in_private_subnets(prod):
    group = prod.one("aws:eks/nodeGroup:NodeGroup")
    assert group.inputs["subnetIds"] == NET["private_subnet_ids"]
    assert group.inputs["amiType"] == "AL2023_ARM_64_STANDARD"
    assert group.inputs["instanceTypes"] == ["m7g.large"] and group.inputs["capacityType"] == "ON_DEMAND"
    assert group.inputs["scalingConfig"] == {"desiredSize": 3, "maxSize": 6, "minSize": 3}
    assert group.inputs["updateConfig"] == {"maxUnavailablePercentage": 33}
    assert "scalingConfig.desiredSize" in group.ignore_changes
    lt = prod.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    # Hop limit 1: pods cannot reach IMDS, so they never fall back to the node role.
    assert lt.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    ebs = lt.inputs["blockDeviceMappings"][0]["ebs"]
    assert ebs["volumeType"] == "gp3" and ebs["encrypted"] == "true"
    # EKS chooses the AMI, sets the instance profile and attaches the cluster security group; a node group's
    # launch template may not set what EKS owns (the node group fails to create or update otherwise).
    forbidden = ("imageId", "instanceType", "iamInstanceProfile", "networkInterfaces", "instanceMarketOptions",
                 "hibernationOptions", "instanceInitiatedShutdownBehavior")
    assert not [key for key in forbidden if key in lt.inputs]
    assert lt.urn in group.dependencies and group.get("launchTemplate.version") == "1"


def test_dev_node_group_runs_on_spot(dev):
    assert dev.one("aws:eks/nodeGroup:NodeGroup").inputs["capacityType"] == "SPOT"


def test_x86_instance_types_get_the_x86_ami(plan):
    g = plan(lambda: EksCluster("eks", {"node_groups": {"general": {"instance_types": ["m7i.large", "m6i.large"],
                                                                    "min": 1, "max": 4, "spot": False}}},
                                network=NET))
    group = g.one("aws:eks/nodeGroup:NodeGroup", "eks-general")
    assert group.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert group.inputs["scalingConfig"] == {"desiredSize": 1, "maxSize": 4, "minSize": 1}
    assert group.inputs["labels"] == {"node-group": "general"}


def test_managed_addons_are_installed_with_coredns_after_the_nodes(prod):
    addons = {a.inputs["addonName"]: a for a in prod.of_type("aws:eks/addon:Addon")}
    assert {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent"} <= set(addons)
    assert "aws-secrets-store-csi-driver-provider" in addons
    group = prod.one("aws:eks/nodeGroup:NodeGroup")
    assert group.urn in addons["coredns"].dependencies
    # Without metrics-server no HorizontalPodAutoscaler gets the CPU figures it scales on.
    assert group.urn in addons["metrics-server"].dependencies
    assert addons["vpc-cni"].urn in group.dependencies
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_roles_trust_eks_and_ec2_with_the_managed_policies(prod):
    roles = {r.name: r for r in prod.of_type("aws:iam/role:Role")}
    trust = json.loads(roles["eks-cluster-role"].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "eks.amazonaws.com"}
    node_trust = json.loads(roles["eks-node-role"].inputs["assumeRolePolicy"])
    assert node_trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    policies = sorted(a.inputs["policyArn"].rsplit("/", 1)[1] for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                      if a.name.startswith("eks-node-role"))
    assert policies == sorted(["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly",
                               "AmazonEKS_CNI_Policy", "AmazonSSMManagedInstanceCore"])


def _exec_of(provider) -> dict:
    config = json.loads(provider.inputs["kubeconfig"])
    user = config["users"][0]["user"]
    assert "token" not in user, "a token in the provider's configuration goes stale in the Pulumi state"
    return user["exec"]


def test_kubernetes_providers_store_no_token_and_make_one_with_the_package_plugin(prod):
    assert not any(tok == "aws:eks/getClusterAuth:getClusterAuth" for tok, _ in prod.invokes)
    cluster_name = prod.one("aws:eks/cluster:Cluster").inputs["name"]
    for name in ("eks-k8s", "eks-k8s-system"):
        provider = prod.one("pulumi:providers:kubernetes", name)
        assert "k8s-aws-v1." not in provider.inputs["kubeconfig"]
        plugin = _exec_of(provider)
        assert plugin["apiVersion"] == "client.authentication.k8s.io/v1beta1"
        assert plugin["args"] == ["-m", "components.eks_token", "--cluster-name", cluster_name,
                                  "--region", "us-east-1"]
        # The project's virtualenv, written relative to the project (no machine-specific path in the state).
        assert plugin["command"] == "venv/bin/python"
    assert prod.one("aws:eks/nodeGroup:NodeGroup").urn in prod.one("pulumi:providers:kubernetes", "eks-k8s").dependencies


def test_kubeconfig_output_for_people_uses_aws_eks_get_token(prod):
    component = prod.one("microservices:eks:EksCluster")
    config = json.loads(component.outputs["kubeconfig"])
    user = config["users"][0]["user"]["exec"]
    assert user["command"] == "aws" and user["args"][:2] == ["eks", "get-token"]
    assert "token" not in config["users"][0]["user"]


def test_oidc_provider_enables_irsa(prod):
    oidc = prod.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.inputs["url"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")


def test_load_balancer_controller_is_installed_with_a_pod_identity_role(prod):
    release = prod.one("kubernetes:helm.sh/v3:Release", "eks-lbc")
    assert release.inputs["chart"] == "aws-load-balancer-controller" and release.inputs["version"] == "1.14.1"
    assert release.inputs["values"]["vpcId"] == NET["vpc_id"]
    assoc = prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "eks-lbc")
    assert assoc.inputs["serviceAccount"] == "aws-load-balancer-controller" and assoc.inputs["namespace"] == "kube-system"
    trust = json.loads(prod.one("aws:iam/role:Role", "eks-lbc").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["aws:RequestTag/eks-cluster-name"] == prod.one("aws:eks/cluster:Cluster").inputs["name"]
    assert (condition["aws:RequestTag/kubernetes-namespace"], condition["aws:RequestTag/kubernetes-service-account"]) \
        == ("kube-system", "aws-load-balancer-controller")
    assert release.urn in prod.one("pulumi:providers:kubernetes", "eks-k8s").dependencies


def test_graviton_types_are_recognised():
    assert [is_arm(t) for t in ("t4g.medium", "m7g.large", "c7gn.xlarge", "r8gd.2xlarge", "m7i.large", "g4dn.xlarge",
                                "m7i-flex.large")] == [True, True, True, True, False, False, False]


# -- validation -----------------------------------------------------------------------------------
def _validate(args):
    validate_eks_cluster(args, "eks").raise_if_any()


def test_rejects_a_version_outside_standard_support():
    assert_problem(lambda: _validate({"version": "1.29"}), "eks.version", "standard support", "'1.29'")


def test_public_endpoint_needs_cidrs_and_refuses_the_whole_internet():
    assert_problem(lambda: _validate({"public_endpoint": True}), "eks.public_access_cidrs", "is required")
    assert_problem(lambda: _validate({"public_endpoint": True, "public_access_cidrs": ["0.0.0.0/0"]}),
                   "eks.public_access_cidrs[0]", "whole internet")
    assert_problem(lambda: _validate({"public_access_cidrs": ["10.0.0.0/8"]}), "eks.public_access_cidrs",
                   "no effect without public_endpoint")
    assert_problem(lambda: _validate({"public_endpoint": True, "public_access_cidrs": ["300.1.1.1/24"]}),
                   "eks.public_access_cidrs[0]", "valid IPv4 CIDR")


def test_rejects_admin_principals_that_are_not_role_arns():
    assert_problem(lambda: _validate({"admin_role_arns": ["arn:aws:iam::123456789012:user/alice"]}),
                   "eks.admin_role_arns[0]", "IAM role ARN")


def test_rejects_node_groups_mixing_architectures_and_bad_sizes():
    lines = assert_problem(lambda: _validate({"node_groups": {"web": {"instance_types": ["m7g.large", "m7i.large"],
                                                                      "min": 5, "max": 2}}}),
                           "eks.node_groups.web.instance_types", "one architecture")
    assert any("eks.node_groups.web.min" in line and "at most max (2)" in line for line in lines)
    assert_problem(lambda: _validate({"node_groups": {"Web_1": {}}}), "eks.node_groups.Web_1", "DNS-1123")
    assert_problem(lambda: _validate({"node_groups": {"web": {"disk_size": 5}}}), "eks.node_groups.web.disk_size",
                   "between 20 and 16384")
    assert_problem(lambda: _validate({"node_groups": {}}), "eks.node_groups", "at least one node group")


def test_rejects_unknown_keys_log_types_and_retention():
    assert_problem(lambda: _validate({"verison": "1.35"}), "eks.verison", "did you mean 'version'")
    assert_problem(lambda: _validate({"log_types": ["apiserver"]}), "eks.log_types[0]", "must be one of")
    assert_problem(lambda: _validate({"log_retention_days": 10}), "eks.log_retention_days", "must be one of")


def test_load_balancer_controller_needs_a_policy_and_a_pinned_chart():
    assert_problem(lambda: _validate({"load_balancer_controller": {}}), "eks.load_balancer_controller.policy_arn",
                   "is required")
    assert_problem(lambda: _validate({"load_balancer_controller": {**LBC, "chart_version": "latest"}}),
                   "eks.load_balancer_controller.chart_version", "chart version")


def test_constructor_validates_before_registering(plan):
    assert_problem(lambda: EksCluster("eks", {"version": "1.20"}, network=NET), "eks.version")


def test_cluster_provider_for_an_existing_cluster_needs_no_cli_and_stores_no_token(plan):
    from components.eks import cluster_provider
    g = plan(lambda: cluster_provider("shared", "platform-prod-eks"))
    plugin = _exec_of(g.one("pulumi:providers:kubernetes", "shared"))
    assert plugin["args"][:4] == ["-m", "components.eks_token", "--cluster-name", "platform-prod-eks"]
    tokens = {tok for tok, _ in g.invokes}
    assert "aws:eks/getCluster:getCluster" in tokens and "aws:eks/getClusterAuth:getClusterAuth" not in tokens


def test_node_groups_follow_the_cluster_version(dev):
    assert dev.one("aws:eks/nodeGroup:NodeGroup").inputs["version"] == DEFAULT_VERSION


def test_admin_access_policy_is_in_the_cluster_partition(plan, monkeypatch):
    import components.tools.plan.mocks as mocks
    monkeypatch.setattr(mocks, "PARTITION", "aws-us-gov")
    g = plan(lambda: EksCluster("eks", {"admin_role_arns": ["arn:aws-us-gov:iam::123456789012:role/Admin"]},
                                network=NET))
    assoc = g.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert assoc.inputs["policyArn"] == "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def test_rejects_admin_roles_whose_access_entries_would_share_a_name():
    assert_problem(lambda: _validate({"admin_role_arns": [ADMIN, "arn:aws:iam::123456789012:role/ops/PlatformAdmin"]}),
                   "eks.admin_role_arns[1]", "'PlatformAdmin'", "distinct names")
    _validate({"admin_role_arns": [ADMIN, ADMIN, "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/Ops"]})


def test_default_cluster_name_is_valid_for_dotted_stack_names(plan):
    g = plan(lambda: EksCluster("eks", {}, network=NET), stack="prod.eu-west-1")
    name = g.one("aws:eks/cluster:Cluster").inputs["name"]
    assert name == "microservices-prod-eu-west-1-eks"
    assert g.one("aws:cloudwatch/logGroup:LogGroup").inputs["name"] == f"/aws/eks/{name}/cluster"
    validate_eks_cluster({"cluster_name": name}).raise_if_any()


def test_rejects_node_groups_that_start_no_node():
    assert_problem(lambda: _validate({"node_groups": {"web": {"min": 0, "max": 3}, "batch": {"min": 0, "desired": 0,
                                                                                        "max": 2}}}),
                   "eks.node_groups", "must start at least one node")
    assert_problem(lambda: _validate({"node_groups": {"web": {"desired": 0, "max": 3}}}), "eks.node_groups",
                   "must start at least one node")
    _validate({"node_groups": {"web": {"min": 0, "desired": 1, "max": 3}, "batch": {"min": 0, "max": 2}}})
    _validate({"node_groups": {"web": {"max": 3}}})


def test_profile_node_count_gives_way_to_an_explicit_desired_or_max(plan):
    # prod's node_count is 3: a min of 3 above max 2 (or desired 1) would be refused by EKS.
    g = plan(lambda: EksCluster("eks", {"node_groups": {"small": {"max": 2}, "batch": {"desired": 1, "max": 4}}},
                                network=NET, profile="prod"), environment="prod")
    assert g.one("aws:eks/nodeGroup:NodeGroup", "eks-small").inputs["scalingConfig"] == \
        {"desiredSize": 2, "maxSize": 2, "minSize": 2}
    assert g.one("aws:eks/nodeGroup:NodeGroup", "eks-batch").inputs["scalingConfig"] == \
        {"desiredSize": 1, "maxSize": 4, "minSize": 1}


# -- issue 11: a CI runner can deploy and operate the cluster ------------------------------------
def test_private_endpoint_admits_https_from_the_vpc_before_any_kubernetes_object(dev):
    rules = {r.name: r for r in dev.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    vpc = rules["eks-api-vpc"]
    assert (vpc.inputs["cidrIpv4"], vpc.inputs["ipProtocol"], vpc.inputs["fromPort"], vpc.inputs["toPort"]) \
        == (NET["vpc_cidr"], "tcp", 443, 443)
    # On a security group of the control plane's interfaces only: EKS's cluster security group admits only
    # itself, and it is on the nodes too (a rule there would open the nodes' and pods' port 443 to the VPC).
    api = dev.one("aws:ec2/securityGroup:SecurityGroup", "eks-api")
    assert vpc.property_dependencies["securityGroupId"] == [api.urn]
    cluster = dev.one("aws:eks/cluster:Cluster")
    assert api.urn in cluster.property_dependencies["vpcConfig"]
    assert len(cluster.inputs["vpcConfig"]["securityGroupIds"]) == 1
    for name in ("eks-k8s", "eks-k8s-system"):
        assert vpc.urn in dev.one("pulumi:providers:kubernetes", name).dependencies


def test_api_access_adds_runner_cidrs_and_security_groups_and_public_stays_opt_in(plan):
    g = plan(lambda: EksCluster("eks", {"api_access_cidrs": ["172.16.0.0/20"],
                                        "api_access_security_group_ids": ["sg-0123456789abcdef0"]}, network=NET))
    rules = {r.name: r.inputs for r in g.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert rules["eks-api-172-16-0-0-20"]["cidrIpv4"] == "172.16.0.0/20"
    assert rules["eks-api-sg-0123456789abcdef0"]["referencedSecurityGroupId"] == "sg-0123456789abcdef0"
    assert all(r["fromPort"] == 443 and r["toPort"] == 443 for r in rules.values())
    assert g.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["endpointPublicAccess"] is False


def test_rejects_the_vpc_cidr_in_api_access_cidrs_it_is_always_admitted():
    assert_problem(lambda: EksCluster("eks", {"api_access_cidrs": [NET["vpc_cidr"]]}, network=NET),
                   "eks.api_access_cidrs", "always admitted", "'10.20.0.0/16'")


def test_rejects_bad_api_access_cidrs_and_security_groups():
    assert_problem(lambda: _validate({"api_access_cidrs": ["0.0.0.0/0"]}), "eks.api_access_cidrs[0]", "whole internet")
    assert_problem(lambda: _validate({"api_access_cidrs": ["10.0.0.0/33"]}), "eks.api_access_cidrs[0]", "valid IPv4")
    assert_problem(lambda: _validate({"api_access_security_group_ids": ["runner"]}),
                   "eks.api_access_security_group_ids[0]", "security group id", "'runner'")


def test_addon_versions_follow_the_cluster_version(plan):
    def versions(version):
        g = plan(lambda: EksCluster("eks", {"version": version}, network=NET))
        asked = {a["addonName"]: a["kubernetesVersion"] for tok, a in g.invokes
                 if tok == "aws:eks/getAddonVersion:getAddonVersion"}
        return asked, {a.inputs["addonName"]: a.inputs["addonVersion"] for a in g.of_type("aws:eks/addon:Addon")}

    asked, old = versions("1.35")
    assert set(asked) == set(old) and set(asked.values()) == {"1.35"}
    _, new = versions("1.36")
    assert all(old[a].startswith("v1.35.") and new[a].startswith("v1.36.") for a in old)


def test_pinned_addon_versions_win_over_the_lookup(plan):
    g = plan(lambda: EksCluster("eks", {"addon_versions": {"metrics-server": "v0.8.0-eksbuild.2"}}, network=NET))
    versions = {a.inputs["addonName"]: a.inputs["addonVersion"] for a in g.of_type("aws:eks/addon:Addon")}
    assert versions["metrics-server"] == "v0.8.0-eksbuild.2"
    assert not any(a["addonName"] == "metrics-server" for tok, a in g.invokes
                   if tok == "aws:eks/getAddonVersion:getAddonVersion")
    assert_problem(lambda: _validate({"addon_versions": {"metrics-server": "latest"}}),
                   "eks.addon_versions.metrics-server", "v1.20.1-eksbuild.1")
    assert_problem(lambda: _validate({"addon_versions": {"metric-server": "v0.8.0"}}),
                   "eks.addon_versions.metric-server", "unknown key")


def test_desired_beyond_the_default_max_raises_the_max(plan):
    # prod: min 3 from the profile, max defaulted to twice that, would be below desired 8 (EKS refuses).
    g = plan(lambda: EksCluster("eks", {"node_groups": {"web": {"desired": 8}}}, network=NET, profile="prod"),
             environment="prod")
    assert g.one("aws:eks/nodeGroup:NodeGroup").inputs["scalingConfig"] == {"desiredSize": 8, "maxSize": 8,
                                                                             "minSize": 3}


def test_rejects_node_group_sizes_that_do_not_fit_once_resolved():
    def check(group, profile="prod"):
        validate_eks_cluster({"node_groups": {"web": group}}, "eks", profile=profile).raise_if_any()

    assert_problem(lambda: check({"desired": 2, "min": 3}), "eks.node_groups.web.desired",
                   "between min (3) and max (6 (the default for prod))", "got 2")
    assert_problem(lambda: check({"min": 5, "max": 4}), "eks.node_groups.web.min", "at most max (4)", "got 5")
    assert_problem(lambda: check({"desired": 1, "max": 4, "min": 2}), "eks.node_groups.web.desired",
                   "between min (2) and max (4)")
    check({"desired": 8})
    check({"max": 2})


def test_stack_loader_resolves_node_group_sizes_with_the_stack_profile():
    from components.catalog import load_catalog  # noqa: F401  (the loader passes the profile)
    lines = validate_eks_cluster({"node_groups": {"web": {"min": 4, "desired": 3}}}, "eks", profile="dev")
    assert any("eks.node_groups.web.desired" in str(p) for p in lines)


def test_spot_node_groups_need_several_instance_types(dev):
    group = dev.one("aws:eks/nodeGroup:NodeGroup")
    assert group.inputs["capacityType"] == "SPOT" and len(group.inputs["instanceTypes"]) >= 3
    assert_problem(lambda: _validate({"node_groups": {"web": {"spot": True, "instance_types": ["m7g.large"]}}}),
                   "eks.node_groups.web.instance_types", "at least two instance types", "['m7g.large']")
    assert_problem(lambda: validate_eks_cluster({"node_groups": {"web": {"spot": True}}}, "eks",
                                                profile="staging").raise_if_any(),
                   "eks.node_groups.web.instance_types", "the staging profile's default")


def test_cluster_autoscaler_scales_only_this_clusters_node_groups_through_pod_identity(prod):
    release = prod.one("kubernetes:helm.sh/v3:Release", "eks-autoscaler")
    cluster_name = prod.one("aws:eks/cluster:Cluster").inputs["name"]
    values = release.inputs["values"]
    assert release.inputs["chart"] == "cluster-autoscaler" and release.inputs["version"] == "9.38.0"
    assert values["autoDiscovery"] == {"clusterName": cluster_name} and values["awsRegion"] == "us-east-1"
    assert values["image"]["tag"] == f"v{DEFAULT_VERSION}.0"
    assoc = prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "eks-autoscaler")
    assert (assoc.inputs["namespace"], assoc.inputs["serviceAccount"]) == ("kube-system", "cluster-autoscaler")
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", "eks-autoscaler").inputs["policy"])
    writes = [s for s in policy["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"]][0]
    assert writes["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}":
                                                    "owned"}}
    assert release.urn in prod.one("pulumi:providers:kubernetes", "eks-k8s").dependencies
    # The autoscaler owns the count: a changed desired never reaches EKS after creation.
    assert "scalingConfig.desiredSize" in prod.one("aws:eks/nodeGroup:NodeGroup").ignore_changes


def test_cluster_autoscaler_follows_the_version_and_can_be_turned_off(plan):
    g = plan(lambda: EksCluster("eks", {"version": "1.35", "cluster_autoscaler": {"chart_version": "9.40.0"}},
                                network=NET))
    release = g.one("kubernetes:helm.sh/v3:Release", "eks-autoscaler")
    assert release.inputs["values"]["image"]["tag"] == "v1.35.0" and release.inputs["version"] == "9.40.0"
    g = plan(lambda: EksCluster("eks", {"cluster_autoscaler": {"enabled": False}}, network=NET))
    assert not g.of_type("kubernetes:helm.sh/v3:Release")
    assert_problem(lambda: _validate({"cluster_autoscaler": {"image_tag": "latest"}}),
                   "eks.cluster_autoscaler.image_tag", "v1.36.0")


def test_load_balancer_controller_default_tags_leave_each_load_balancer_its_service_tag(prod):
    values = prod.one("kubernetes:helm.sh/v3:Release", "eks-lbc").inputs["values"]
    assert "Service" not in values["defaultTags"] and values["defaultTags"]["Environment"] == "prod"


def test_credential_command_is_relative_inside_the_project_and_absolute_outside(monkeypatch, tmp_path):
    import os
    import sys

    from components.eks.kubeconfig import credential_command
    monkeypatch.setattr(sys, "executable", os.path.join(os.getcwd(), "venv", "bin", "python"))
    assert credential_command() == "venv/bin/python"
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
    monkeypatch.chdir(tmp_path)
    assert credential_command() == "/usr/bin/python3"


def test_token_python_can_be_named_by_the_stack_for_every_machine(plan, monkeypatch):
    # An interpreter outside the project is stored as an absolute path that refresh/destroy on another machine
    # (a laptop after CI's toolcache Python) cannot run: the stack can name one every machine has.
    import sys
    monkeypatch.setattr(sys, "executable", "/opt/hostedtoolcache/Python/3.11.9/x64/bin/python")
    g = plan(lambda: EksCluster("eks", {}, network=NET), config={"microservices:eks_token_python": "python3"})
    assert _exec_of(g.one("pulumi:providers:kubernetes", "eks-k8s"))["command"] == "python3"


def test_cluster_autoscaler_can_read_what_a_recent_version_watches_whatever_the_chart(prod):
    # An older chart's ClusterRole lacks volumeattachments (and DRA's resource.k8s.io objects): the autoscaler's
    # informers then fail with "forbidden" and it stops scaling up (kubernetes/autoscaler#7663).
    role = prod.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "eks-autoscaler-read")
    granted = {(group, res) for rule in role.inputs["rules"] for group in rule["apiGroups"]
               for res in rule["resources"] if set(rule["verbs"]) == {"get", "list", "watch"}}
    assert {("storage.k8s.io", "volumeattachments"), ("resource.k8s.io", "resourceslices"),
            ("resource.k8s.io", "resourceclaims"), ("resource.k8s.io", "deviceclasses")} <= granted
    binding = prod.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "eks-autoscaler-read")
    assert binding.inputs["subjects"] == [{"kind": "ServiceAccount", "name": "cluster-autoscaler",
                                           "namespace": "kube-system"}]
    assert binding.inputs["roleRef"]["name"] == role.inputs["metadata"]["name"]
    assert binding.urn in prod.one("kubernetes:helm.sh/v3:Release", "eks-autoscaler").dependencies


def test_plugin_signs_as_the_stacks_aws_provider_profile_and_assumed_roles(plan):
    # The cluster's creator (its admin) is whoever the AWS provider is: with aws:profile or aws:assumeRoles in
    # the stack, the environment's default credentials are someone else and every Kubernetes call is Unauthorized.
    roles = [{"roleArn": "arn:aws:iam::111111111111:role/Hop"},
             {"roleArn": "arn:aws:iam::222222222222:role/Deploy", "externalId": "ext-1"}]
    g = plan(lambda: EksCluster("eks", {}, network=NET),
             config={"aws:profile": "platform", "aws:assumeRoles": json.dumps(roles)})
    args = _exec_of(g.one("pulumi:providers:kubernetes", "eks-k8s"))["args"]
    assert args[args.index("--profile") + 1] == "platform"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--role-arn"] == [r["roleArn"] for r in roles]
    assert args[args.index("--external-id") + 1] == "ext-1"
    # Without them, the plugin uses the default chain, as the AWS provider does.
    g = plan(lambda: EksCluster("eks", {}, network=NET))
    args = _exec_of(g.one("pulumi:providers:kubernetes", "eks-k8s"))["args"]
    assert "--profile" not in args and "--role-arn" not in args


def test_stack_config_accepts_the_token_python_and_refuses_a_non_string():
    from components.catalog import load_catalog
    from tests.conftest import ROOT
    load_catalog({"environment": "dev", "catalog_dir": "", "eks_token_python": "python3"}, ROOT)
    assert_problem(lambda: load_catalog({"environment": "dev", "eks_token_python": 3}, ROOT), "eks_token_python")


def test_plugin_signs_with_the_stacks_static_keys_like_the_deploy_providers(plan):
    # aws:accessKey/aws:secretKey in the stack's config: the AWS provider (and blocks/aws_api.py's deploy
    # providers) use them ahead of aws:profile, so the cluster's creator is that key's identity. The plugin
    # must sign with them too (else every Kubernetes call is Unauthorized), and the kubeconfig carrying them
    # must be a secret in the state.
    from components.eks.kubeconfig import aws_credential_args, aws_credential_env, exec_user
    from components.tools.plan.runtime import run
    from tests.conftest import ROOT
    config = {"aws:region": "us-east-1", "aws:profile": "platform", "aws:accessKey": "AKIAEXAMPLE",
              "aws:secretKey": "s3cr3t", "aws:token": "tok"}
    seen: dict = {}

    def program():
        EksCluster("eks", {}, network=NET)
        seen["args"] = aws_credential_args()
        aws_credential_env().apply(lambda env: seen.update(env=env, user=exec_user("c", "us-east-1", env),
                                                           bare=exec_user("c", "us-east-1", [])))

    g = run(program, config=config, secret_keys=["aws:accessKey", "aws:secretKey", "aws:token"], project_dir=ROOT)
    assert g.one("pulumi:providers:kubernetes", "eks-k8s").inputs["kubeconfig"] == "[secret]"
    assert "--profile" not in seen["args"]
    assert seen["env"] == [{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAEXAMPLE"},
                           {"name": "AWS_SECRET_ACCESS_KEY", "value": "s3cr3t"},
                           {"name": "AWS_SESSION_TOKEN", "value": "tok"}]
    assert seen["user"]["exec"]["env"] == seen["env"] and "env" not in seen["bare"]["exec"]


def test_plugin_gets_each_assumed_roles_own_external_id_and_session_name(plan):
    # aws:assumeRoles gives every hop its own externalId/sessionName, and the AWS provider (like the deploy
    # providers of blocks/aws_api.py) assumes each with its own: the plugin must too, or the first hop's
    # AssumeRole is refused and every Kubernetes call fails.
    roles = [{"roleArn": "arn:aws:iam::111111111111:role/Hop", "externalId": "ext-hop", "sessionName": "ci"},
             {"roleArn": "arn:aws:iam::222222222222:role/Deploy"}]
    g = plan(lambda: EksCluster("eks", {}, network=NET), config={"aws:assumeRoles": json.dumps(roles)})
    args = _exec_of(g.one("pulumi:providers:kubernetes", "eks-k8s"))["args"]
    assert args[args.index("--role-arn"):] == ["--role-arn", roles[0]["roleArn"], "--external-id", "ext-hop",
                                               "--session-name", "ci", "--role-arn", roles[1]["roleArn"]]


def test_view_roles_get_read_only_access_entries_for_the_preview_refresh(plan):
    # Pulumi.yaml refreshes before every preview, and the PR preview runs as a read-only role: without an access
    # entry of its own, refreshing any Kubernetes object (Helm releases live in Secrets) fails Unauthorized.
    viewer = "arn:aws:iam::123456789012:role/PulumiPreview"
    g = plan(lambda: EksCluster("eks", {"admin_role_arns": [ADMIN], "view_role_arns": [viewer]}, network=NET))
    entry = g.one("aws:eks/accessEntry:AccessEntry", "eks-view-PulumiPreview")
    assert entry.inputs["principalArn"] == viewer
    assoc = g.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "eks-view-PulumiPreview")
    assert assoc.inputs["policyArn"].endswith(":cluster-access-policy/AmazonEKSAdminViewPolicy")
    assert assoc.inputs["accessScope"] == {"type": "cluster"} and entry.urn in assoc.dependencies
    assert_problem(lambda: _validate({"admin_role_arns": [viewer], "view_role_arns": [viewer]}),
                   "eks.view_role_arns[0]", "one access entry")
    assert_problem(lambda: _validate({"view_role_arns": ["arn:aws:iam::123456789012:user/bob"]}),
                   "eks.view_role_arns[0]", "IAM role ARN")
