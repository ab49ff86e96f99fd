"""The Kubernetes objects of a :class:`~components.eks.KubernetesService` as manifests (plain dicts, with
Pulumi inputs inside), built from its resolved settings. Every object gets an explicit ``metadata.name``,
so selectors, Service DNS names and Ingress backends never move."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from ..validation import is_unknown
from .args import KubernetesServiceSettings, ProbeSettings

__all__ = ["SECRETS_DIR", "container", "image_version", "ingress_annotations", "ingress_rule", "ingress_url",
           "ip_blocks", "millicores", "namespace_labels", "pod_template", "pod_volumes", "probe", "secret_objects"]

SECRETS_DIR = "/var/run/secrets/app"
ALB = "alb.ingress.kubernetes.io"


def millicores(units: int) -> str:
    """CPU units (1024 = one vCPU, as ECS counts) as a Kubernetes quantity."""
    return f"{max(1, round(units * 1000 / 1024))}m"


def namespace_labels(namespace: str) -> dict[str, str]:
    """Labels enforcing the ``restricted`` Pod Security Standard on a namespace, and asking the AWS Load
    Balancer Controller for pod readiness gates: a rollout then waits until the load balancer sees the new
    pods healthy before it removes old ones (``maxUnavailable: 0`` alone only waits for the readiness probe)."""
    return {"kubernetes.io/metadata.name": namespace, "app.kubernetes.io/managed-by": "pulumi",
            "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled",
            **{f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")},
            **{f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")}}


def image_version(image: pulumi.Input[str]) -> pulumi.Input[str]:
    """The ``app.kubernetes.io/version`` label of an image reference: its tag, or the digest's first 12 characters."""
    def version(ref: str) -> str:
        if "@sha256:" in ref:
            return ref.split("@sha256:", 1)[1][:12]
        last = ref.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else "unknown"
        return re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:63].strip("-_.") or "unknown"
    return pulumi.Output.from_input(image).apply(version) if is_unknown(image) else version(image)


def probe(settings: ProbeSettings, hc: Any, port_name: str) -> dict[str, Any]:
    """An HTTP probe of the health check's path."""
    out = {"httpGet": {"path": hc.path, "port": port_name, "scheme": "HTTP"},
           "periodSeconds": settings.period_seconds, "timeoutSeconds": settings.timeout_seconds,
           "failureThreshold": settings.failure_threshold, "successThreshold": settings.success_threshold}
    if settings.initial_delay_seconds is not None:
        out["initialDelaySeconds"] = settings.initial_delay_seconds
    return out


def secret_objects(secrets: Mapping[str, str]) -> str:
    """The ``objects`` parameter of the SecretProviderClass: each ARN, aliased to its variable's name."""
    objects = [{"objectName": arn, "objectType": "ssmparameter" if ":ssm:" in arn else "secretsmanager",
                "objectAlias": key} for key, arn in sorted(secrets.items())]
    return json.dumps(objects, sort_keys=True)


def pod_volumes(name: str, settings: KubernetesServiceSettings) -> tuple[list, list, list]:
    """(volumes, volume mounts, environment) of the pod: a writable ``/tmp`` (the root filesystem is read-only)
    and, with secrets, the CSI volume of the SecretProviderClass ``<name>-secrets`` (each ``NAME_FILE``
    variable holds a secret's path)."""
    secrets = settings.core.secrets
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
    env = [{"name": k, "value": v} for k, v in sorted(settings.core.environment.items())]
    if secrets:
        volumes.append({"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                                   "volumeAttributes": {"secretProviderClass": f"{name}-secrets"}}})
        mounts.append({"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True})
        env += [{"name": f"{k}_FILE", "value": f"{SECRETS_DIR}/{k}"} for k in sorted(secrets)]
    return volumes, mounts, env


def container(name: str, image: pulumi.Input[str], settings: KubernetesServiceSettings, env: list,
              mounts: list) -> dict[str, Any]:
    """The service's one container: restricted, read-only root filesystem, probes from the health check."""
    core, uid = settings.core, settings.run_as_user
    return {
        "name": name, "image": image, "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": core.port, "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": {"cpu": millicores(settings.cpu), "memory": f"{settings.memory}Mi"},
                      "limits": {"cpu": millicores(settings.cpu_limit), "memory": f"{settings.memory_limit}Mi"}},
        **{f"{kind}Probe": probe(settings.probes[kind], core.health_check, "http")
           for kind in ("startup", "liveness", "readiness")},
        # The load balancer keeps sending for a few seconds after a pod is marked for deletion.
        "lifecycle": {"preStop": {"sleep": {"seconds": 10}}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": mounts,
    }


def pod_template(name: str, settings: KubernetesServiceSettings, labels: Mapping[str, Any],
                 selector: Mapping[str, str], main: Mapping[str, Any], volumes: list) -> dict[str, Any]:
    """The Deployment's pod template: spread over zones and hosts, no API token, no service links."""
    uid = settings.run_as_user
    return {
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": name,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 30,
            "securityContext": {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                 "labelSelector": {"matchLabels": selector}}
                for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")],
            "containers": [main],
            "volumes": volumes,
        },
    }


def ingress_annotations(settings: KubernetesServiceSettings, tags: Mapping[str, str], await_lb: bool,
                        subnet_ids: pulumi.Input[Sequence[str]] | None,
                        tls_annotations: Mapping[str, Any]) -> dict[str, Any]:
    """The AWS Load Balancer Controller's annotations: the load balancer, its listeners (``tls_annotations``,
    from :func:`~components.blocks.certificate.ingress_tls`) and its health check."""
    core, ing = settings.core, settings.ingress
    hc = core.health_check
    annotations = {
        f"{ALB}/scheme": "internet-facing" if core.expose == "public" else "internal",
        f"{ALB}/target-type": "ip",
        f"{ALB}/backend-protocol": "HTTP",
        f"{ALB}/healthcheck-path": hc.path,
        f"{ALB}/healthcheck-port": "traffic-port",
        f"{ALB}/healthcheck-interval-seconds": str(hc.interval),
        f"{ALB}/healthcheck-timeout-seconds": str(hc.timeout),
        f"{ALB}/healthy-threshold-count": str(hc.healthy_threshold),
        f"{ALB}/unhealthy-threshold-count": str(hc.unhealthy_threshold),
        f"{ALB}/success-codes": "200-399",
        # No ALB deletion protection: the controller could then never delete the load balancer, so removing
        # the service or moving it to another ingress group would leave the Ingress's finalizer and its
        # namespace stuck Terminating. Prod protects the Ingress in Pulumi instead. Said explicitly:
        # the controller only sets the attributes this annotation names, so dropping the key would leave it
        # on for every load balancer created while it was true.
        f"{ALB}/load-balancer-attributes": "deletion_protection.enabled=false,"
                                           "routing.http.drop_invalid_header_fields.enabled=true",
        f"{ALB}/target-group-attributes": "deregistration_delay.timeout_seconds=30",
        f"{ALB}/tags": ",".join(f"{k}={v}" for k, v in sorted(tags.items())),
    }
    annotations.update(tls_annotations)
    if not await_lb:
        annotations["pulumi.com/skipAwait"] = "true"
    if ing.group:
        annotations[f"{ALB}/group.name"] = ing.group
    if subnet_ids is not None:
        # The load balancer lives exactly in the subnets whose CIDRs the NetworkPolicy admits.
        annotations[f"{ALB}/subnets"] = pulumi.Output.from_input(subnet_ids).apply(lambda ids: ",".join(ids))
    return annotations


def ingress_rule(name: str, settings: KubernetesServiceSettings) -> dict[str, Any]:
    """The Ingress rule routing the service's host (any, by default) and path prefix to its Service."""
    ing = settings.ingress
    rule: dict[str, Any] = {"http": {"paths": [{
        "path": ing.path, "pathType": "Prefix",
        "backend": {"service": {"name": name, "port": {"name": "http"}}}}]}}
    if ing.host:
        rule["host"] = ing.host
    return rule


def ip_blocks(name: str, cidrs: Sequence[str]) -> list[dict[str, Any]]:
    """The NetworkPolicy peers of the load balancer's CIDRs."""
    # An empty `from` admits everyone: refuse rather than open the service to the whole cluster.
    if not cidrs:
        raise ValueError(f"{name}: no load balancer CIDRs for the NetworkPolicy; give load_balancer_cidrs or a "
                         "network with load balancer subnets")
    return [{"ipBlock": {"cidr": c}} for c in cidrs]


def ingress_hostname(status: Any) -> str | None:
    """The DNS name of the load balancer the controller gave the Ingress (``status.loadBalancer.ingress[0]``)."""
    lb = getattr(status, "load_balancer", None) if status is not None else None
    entries = getattr(lb, "ingress", None) or []
    return getattr(entries[0], "hostname", None) if entries else None


def ingress_url(status: Any, scheme: str) -> str:
    host = ingress_hostname(status)
    return f"{scheme}://{host}" if host else ""
