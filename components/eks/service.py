"""``KubernetesService``: one long-running service on any Kubernetes cluster, hardened by default.

Every object gets an explicit ``metadata.name`` (the service's name), so selectors, Service DNS
names and Ingress backends never move, and the recorded inputs are complete manifests that
``python -m components.plan --k8s-dir`` writes out for schema validation and checkov.

Secrets are never copied into the cluster: each ARN in ``secrets`` is mounted as a file by the
Secrets Store CSI driver and the AWS provider (ASCP, the EKS add-on
``aws-secrets-store-csi-driver-provider``), which fetches it with the pod's own IAM role through EKS
Pod Identity. The manifests only ever hold ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from ..blocks.access import Account, access_statements
from ..blocks.certificate import ingress_alias_record, ingress_tls
from ..blocks.service import standard_tags
from ..patterns import ValidationContext
from ..profiles import Profile, get_profile
from .args import KubernetesServiceArgs, KubernetesServiceSettings, resolve_kubernetes_service
from .identity import trust_policy_irsa, trust_policy_pod_identity
from .manifests import (container, image_version, ingress_annotations, ingress_hostname, ingress_rule, ingress_url,
                        ip_blocks, namespace_labels, pod_template, pod_volumes, secret_objects)
from .refs import cluster_ref, load_balancer_subnets
from .validate import validate_kubernetes_service, validate_service_context

__all__ = ["KubernetesService"]


@dataclass(frozen=True)
class _Workload:
    """What every Kubernetes object of one service shares."""

    name: str
    namespace: str
    labels: dict[str, Any]
    selector: dict[str, str]
    settings: KubernetesServiceSettings
    opts: pulumi.ResourceOptions
    """Parent, provider, and the namespace (when the service creates it) as a dependency."""


class KubernetesService(pulumi.ComponentResource):
    """A Deployment behind a ClusterIP Service, with Ingress, HPA, PDB, NetworkPolicy and an IAM-bound ServiceAccount."""

    namespace: pulumi.Output[str]
    """The service's namespace."""
    service_name: pulumi.Output[str]
    """Name of the ClusterIP Service (``<name>.<namespace>.svc.cluster.local``)."""
    url: pulumi.Output[str]
    """``https://<ingress.domain>`` with a domain, else ``http(s)://`` address of the load balancer (empty with
    ``expose: none``)."""
    role_arn: pulumi.Output[str] | None
    """ARN of the pods' IAM role (None without ``access`` or ``secrets``)."""

    def __init__(self, name: str, args: KubernetesServiceArgs, opts: pulumi.ResourceOptions | None = None, *,
                 cluster: Any = None, provider: Any = None, kubeconfig: pulumi.Input[str] | None = None,
                 network: Any = None, profile: Profile | str | None = None, project_dir: Any = None,
                 await_load_balancer: bool = True):
        """``cluster`` is an :class:`~components.eks.EksCluster` (or a mapping with ``cluster_name`` and, for
        IRSA, ``oidc_provider_arn`` and ``oidc_issuer``); the Kubernetes provider is ``provider``, else one
        built from ``kubeconfig``, else the cluster's. Without any of them the ambient kubeconfig is used.
        ``await_load_balancer=False`` lets ``pulumi up`` finish before a load balancer controller has given
        the Ingress an address (when the controller is installed outside this program, or later)."""
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        args = dict(args)
        vctx = ValidationContext(profile=prof, project_dir=Path(project_dir) if project_dir is not None else Path.cwd())
        problems = validate_kubernetes_service(name, args, name, vctx)
        ref = cluster_ref(cluster)
        validate_service_context(name, args, ref, network, problems, await_load_balancer=await_load_balancer,
                                 environment=prof.name)
        problems.raise_if_any()
        super().__init__("microservices:k8s:KubernetesService", name, None, opts)
        import pulumi_kubernetes as k8s

        settings = resolve_kubernetes_service(name, args, prof)
        core = settings.core
        tags = standard_tags(name, prof.name, core.tags)
        aws_child = pulumi.ResourceOptions(parent=self)
        k8s_provider = provider or ref.get("provider")
        if k8s_provider is None and kubeconfig is not None:
            k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, opts=aws_child)
        kchild = pulumi.ResourceOptions(parent=self, provider=k8s_provider)

        ns = settings.namespace
        image = self._image(name, settings.image, prof, project_dir, tags, aws_child)
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{prof.name}",
                  "app.kubernetes.io/component": "server", "app.kubernetes.io/part-of": pulumi.get_project(),
                  "app.kubernetes.io/managed-by": "pulumi"}
        selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{prof.name}"}

        deps: list[pulumi.Resource] = []
        if settings.create_namespace:
            deps.append(k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": ns, "labels": namespace_labels(ns)},
                                              opts=kchild))
        work = _Workload(name, ns, labels, selector, settings,
                         pulumi.ResourceOptions.merge(kchild, pulumi.ResourceOptions(depends_on=list(deps))))
        pod_deps = [*deps, *self._identity(work, ref, tags)]
        if core.secrets:
            pod_deps.append(k8s.apiextensions.CustomResource(
                f"{name}-secrets", api_version="secrets-store.csi.x-k8s.io/v1", kind="SecretProviderClass",
                metadata={"name": f"{name}-secrets", "namespace": ns, "labels": labels},
                spec={"provider": "aws", "parameters": {
                    "usePodIdentity": "true" if settings.iam_binding == "pod_identity" else "false",
                    "objects": secret_objects(core.secrets)}}, opts=work.opts))
        deployment = self._deployment(work, image, pod_deps)
        service = k8s.core.v1.Service(
            f"{name}-svc", metadata={"name": name, "namespace": ns, "labels": labels},
            spec={"type": "ClusterIP", "selector": selector,
                  "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}, opts=work.opts)
        self._scaling(work, deployment)
        self.url = self._exposure(work, network, ref, service, tags, prof, await_load_balancer)
        # The Service's namespace: the same name, known once the namespace (when this component creates it) and
        # the Service exist, so what is placed in it by name waits for them without depending on everything.
        self.namespace = service.metadata.namespace
        self.service_name = service.metadata.name
        self.register_outputs({"namespace": self.namespace, "service_name": self.service_name, "url": self.url,
                               "role_arn": self.role_arn})

    # -- pieces -----------------------------------------------------------------------------------
    def _image(self, name: str, image: Mapping[str, Any], prof: Profile, project_dir: Any,
               tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> pulumi.Input[str]:
        if image.get("ref") is not None:
            return image["ref"]
        from ..blocks.container_image import ContainerImage
        return ContainerImage(f"{name}-image", dict(image), opts, profile=prof, project_dir=project_dir,
                              tags=tags).image_ref

    def _identity(self, work: _Workload, ref: Mapping[str, Any], tags: Mapping[str, str]) -> list[pulumi.Resource]:
        """The pods' ServiceAccount and, with ``access`` or ``secrets``, their IAM role bound to it: what the
        pods wait for. Sets ``role_arn``."""
        import pulumi_kubernetes as k8s
        name, ns, settings = work.name, work.namespace, work.settings
        self.role_arn = None
        role = None
        if settings.access or settings.core.secrets:
            role = self._role(work, ref, tags)
            self.role_arn = role.arn
        sa_meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": work.labels}
        if role is not None and settings.iam_binding == "irsa":
            sa_meta["annotations"] = {"eks.amazonaws.com/role-arn": role.arn}
        # Pod Identity and the CSI driver get their own projected tokens: the API token is never mounted.
        account = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata=sa_meta, automount_service_account_token=False,
                                             opts=work.opts)
        # The pods start only once their identity and their secrets' mount are in place.
        out: list[pulumi.Resource] = [account]
        if role is not None and settings.iam_binding == "pod_identity":
            import pulumi_aws as aws
            out.append(aws.eks.PodIdentityAssociation(
                f"{name}-pod-identity", cluster_name=ref["cluster_name"], namespace=ns, service_account=name,
                role_arn=role.arn, tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[account])))
        return out

    def _role(self, work: _Workload, ref: Mapping[str, Any], tags: Mapping[str, str]):
        import pulumi_aws as aws

        from ..blocks.iam import policy_document, secret_read_statements
        name, ns, settings = work.name, work.namespace, work.settings
        opts = pulumi.ResourceOptions(parent=self)
        if settings.iam_binding == "irsa":
            trust = pulumi.Output.all(ref["oidc_provider_arn"], ref["oidc_issuer"]).apply(
                lambda v: trust_policy_irsa(v[0], v[1], ns, name))
        else:
            trust = trust_policy_pod_identity(ref["cluster_name"], ns, name)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=trust, tags=tags, opts=opts)
        statements: list[dict[str, Any]] = []
        if settings.access:
            statements += access_statements(settings.access, Account(self))
        statements += secret_read_statements(settings.core.secrets.values(), describe=True,
                                             kms_keys=settings.core.secrets_kms_keys)
        aws.iam.RolePolicy(f"{name}-role", role=role.id, policy=policy_document(statements), opts=opts)
        return role

    def _deployment(self, work: _Workload, image: pulumi.Input[str], pod_deps: list[pulumi.Resource]):
        import pulumi_kubernetes as k8s
        name, settings = work.name, work.settings
        volumes, mounts, env = pod_volumes(name, settings)
        main = container(name, image, settings, env, mounts)
        pod_labels = {**work.labels, "app.kubernetes.io/version": image_version(image)}
        ru = settings.rolling_update
        return k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": name, "namespace": work.namespace, "labels": work.labels},
            spec={
                "replicas": settings.core.scaling.desired,
                "revisionHistoryLimit": 5,
                "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": work.selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                    "maxSurge": ru.max_surge, "maxUnavailable": ru.max_unavailable}},
                "template": pod_template(name, settings, pod_labels, work.selector, main, volumes),
            },
            # The HorizontalPodAutoscaler owns the replica count after creation.
            opts=pulumi.ResourceOptions.merge(work.opts, pulumi.ResourceOptions(
                depends_on=pod_deps, ignore_changes=["spec.replicas"])))

    def _scaling(self, work: _Workload, deployment: pulumi.Resource) -> None:
        """The HorizontalPodAutoscaler, and the PodDisruptionBudget that never blocks a node drain."""
        import pulumi_kubernetes as k8s
        name, ns, labels, scaling = work.name, work.namespace, work.labels, work.settings.core.scaling
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa", metadata={"name": name, "namespace": ns, "labels": labels},
            spec={"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                  "minReplicas": scaling.min, "maxReplicas": scaling.max,
                  "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                      "type": "Utilization", "averageUtilization": scaling.target_cpu}}}],
                  "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}},
            opts=pulumi.ResourceOptions.merge(work.opts, pulumi.ResourceOptions(depends_on=[deployment])))
        db = work.settings.disruption_budget
        budget = {"maxUnavailable": db.max_unavailable} if db.max_unavailable is not None \
            else {"minAvailable": db.min_available}
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata={"name": name, "namespace": ns, "labels": labels},
            # Pods that are not ready never hold up a drain.
            spec={**budget, "selector": {"matchLabels": work.selector}, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
            opts=work.opts)

    def _exposure(self, work: _Workload, network: Any, ref: Mapping[str, Any], service: pulumi.Resource,
                  tags: Mapping[str, str], prof: Profile, await_lb: bool) -> pulumi.Output[str]:
        """The NetworkPolicy and, unless ``expose: none``, the Ingress: the service's URL."""
        settings = work.settings
        core = settings.core
        lb_ids, lb_cidrs = (None, None) if core.expose == "none" else load_balancer_subnets(network, ref, core.expose)
        if settings.load_balancer_cidrs:
            lb_ids, lb_cidrs = None, list(settings.load_balancer_cidrs)
        self._network_policy(work, lb_cidrs)
        if core.expose == "none":
            return pulumi.Output.from_input("")
        ingress = self._ingress(work, tags, prof, await_lb, lb_ids,
                                pulumi.ResourceOptions.merge(work.opts, pulumi.ResourceOptions(depends_on=[service])))
        domain = settings.ingress.domain
        if domain is not None:
            # The certificate names the domain, not the load balancer's own DNS name: https://<elb name> would
            # fail certificate verification. The alias record points the domain at the load balancer.
            return ingress.status.apply(lambda _: f"https://{domain}")
        scheme = "https" if settings.ingress.certificate_arn else "http"
        return ingress.status.apply(lambda s: ingress_url(s, scheme))

    def _network_policy(self, work: _Workload, lb_cidrs: pulumi.Input[Sequence[str]] | None) -> None:
        import pulumi_kubernetes as k8s
        name, ns, selector = work.name, work.namespace, work.selector
        port = [{"port": work.settings.core.port, "protocol": "TCP"}]
        rules: list[dict[str, Any]] = [{"from": [{"podSelector": {"matchLabels": selector}}]}]
        if lb_cidrs is not None:
            rules.append({"from": pulumi.Output.from_input(lb_cidrs).apply(lambda cs: ip_blocks(name, cs)),
                          "ports": port})
        peers = []
        for ref in sorted(set(work.settings.allow_from)):
            other_ns, other = ref.split("/", 1) if "/" in ref else (ns, ref)
            peers.append({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": other_ns}},
                          "podSelector": {"matchLabels": {"app.kubernetes.io/name": other}}})
        if peers:
            rules.append({"from": peers, "ports": port})
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata={"name": name, "namespace": ns, "labels": work.labels},
            spec={"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": rules},
            opts=work.opts)

    def _ingress(self, work: _Workload, tags: Mapping[str, str], prof: Profile, await_lb: bool,
                 subnet_ids: pulumi.Input[Sequence[str]] | None, opts: pulumi.ResourceOptions):
        import pulumi_kubernetes as k8s
        ing = work.settings.ingress
        if ing.group:
            # The controller merges the tags of every Ingress of a group onto its one load balancer and
            # refuses the whole group when two members tag one key differently: tag it after the group.
            tags = standard_tags(ing.group, prof.name, work.settings.core.tags)
        # The certificate and the record are AWS resources: children of this component, not of the
        # Kubernetes provider.
        aws_child = pulumi.ResourceOptions(parent=self)
        tls = ingress_tls(work.name, {"certificate_arn": ing.certificate_arn, "domain": ing.domain, "zone": ing.zone},
                          tags=tags, opts=aws_child)
        annotations = ingress_annotations(work.settings, tags, await_lb, subnet_ids, tls)
        # In prod the load balancer's DNS name is what clients and DNS records point at: removing the service
        # fails at preview ("marked for protection") until `pulumi state unprotect` says it is meant.
        ingress = k8s.networking.v1.Ingress(
            f"{work.name}-ingress",
            metadata={"name": work.name, "namespace": work.namespace, "labels": work.labels, "annotations": annotations},
            spec={"ingressClassName": "alb", "rules": [ingress_rule(work.name, work.settings)]},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=prof.protect)))
        if ing.domain is not None:
            ingress_alias_record(work.name, domain=ing.domain, zone=ing.zone, opts=aws_child,
                                 hostname=ingress.status.apply(ingress_hostname))
        return ingress
