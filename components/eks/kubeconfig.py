"""How the Kubernetes providers of the ``eks`` pattern authenticate: a kubeconfig whose user runs
``python -m <package>.eks_token`` each time the provider needs credentials (no AWS CLI, no stored token),
signed as the stack's AWS provider signs; and :func:`cluster_provider` for a cluster of another stack."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

import pulumi

__all__ = ["aws_credential_args", "aws_credential_env", "cluster_provider", "credential_command", "exec_user",
           "kubeconfig_json"]

#: The package holding ``eks_token`` (``components`` here, ``microservice_components`` installed): its module
#: path is in every provider's stored kubeconfig, so it stays where it is.
TOKEN_MODULE = f"{__package__.rsplit('.', 1)[0]}.eks_token"


def kubeconfig_json(cluster_name: str, endpoint: str, ca: str, user: dict[str, Any]) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster_name,
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "users": [{"name": cluster_name, "user": user}],
    }, sort_keys=True)


_WARNED_ABSOLUTE: set[str] = set()


def credential_command() -> str:
    """The Python that runs ``components.eks_token`` for the Kubernetes provider: ``microservices:eks_token_python``
    when the stack sets it, else the interpreter running this program (the project's virtualenv, where botocore
    is installed). Pulumi stores the provider's kubeconfig, and ``refresh`` and ``destroy`` run the stored
    command: inside the project directory it is written relative to it (``venv/bin/python``), which is where
    Pulumi starts providers, so every machine with that layout runs it. Outside the project (a Poetry or system
    interpreter, a CI runner's toolcache) only an absolute path is possible, which another machine does not have:
    that is warned about, and the config setting names a command every machine has."""
    configured = pulumi.Config("microservices").get("eks_token_python")
    if configured:
        return configured
    exe = sys.executable
    try:
        rel = os.path.relpath(exe, os.getcwd())
    except ValueError:  # another drive on Windows
        rel = ".."
    if not rel.startswith(".."):
        return rel.replace(os.sep, "/")
    if exe not in _WARNED_ABSOLUTE:
        _WARNED_ABSOLUTE.add(exe)
        pulumi.log.warn(
            f"the EKS token plugin runs {exe}, outside the project directory: Pulumi stores this path, so "
            "`pulumi refresh`/`destroy` on a machine without it fail, and other machines show a provider diff. "
            "Create the virtualenv inside the project (venv/ or .venv/), or set microservices:eks_token_python "
            "to a Python every machine has (with this package and botocore installed).")
    return exe


def aws_credential_args() -> list[str]:
    """The plugin's arguments naming the credentials of the stack's default AWS provider: ``aws:profile`` and the
    roles of ``aws:assumeRoles``. Without them the plugin signs with whatever the environment holds, which is
    not the identity that created the cluster (and holds its admin access entry) when the stack's config chooses
    a profile or a role: every Kubernetes call would be Unauthorized."""
    cfg = pulumi.Config("aws")
    args: list[str] = []
    profile = cfg.get("profile")
    # Static keys in the stack's config take precedence over aws:profile for the AWS provider (and for the
    # deploy providers of blocks/aws_api.py); the plugin gets them in its environment (aws_credential_env),
    # and an explicit --profile would make botocore ignore them.
    if profile and not _static_keys_configured():
        args += ["--profile", profile]
    roles = cfg.get_object("assumeRoles") or []
    roles = [roles] if isinstance(roles, Mapping) else [r for r in roles if isinstance(r, Mapping)]
    for role in roles:
        if role.get("roleArn"):
            # Each role's own external id and session name, as the AWS provider (and blocks/aws_api.py) assume it.
            args += ["--role-arn", str(role["roleArn"])]
            if role.get("externalId"):
                args += ["--external-id", str(role["externalId"])]
            if role.get("sessionName"):
                args += ["--session-name", str(role["sessionName"])]
    return args


def _static_keys_configured() -> bool:
    cfg = pulumi.Config("aws")
    return cfg.get_secret("accessKey") is not None and cfg.get_secret("secretKey") is not None


def aws_credential_env() -> pulumi.Output[list[dict[str, str]]]:
    """The plugin's environment when the stack's config holds static keys (``aws:accessKey``, ``aws:secretKey``,
    ``aws:token``): the AWS provider created the cluster with them, so the token must be signed with them too
    (the deploy providers of ``blocks/aws_api.py`` use them as well). A secret output, so the kubeconfig that
    carries them is encrypted in the state; an empty list without them."""
    cfg = pulumi.Config("aws")
    if not _static_keys_configured():
        return pulumi.Output.from_input([])
    names = (("AWS_ACCESS_KEY_ID", "accessKey"), ("AWS_SECRET_ACCESS_KEY", "secretKey"), ("AWS_SESSION_TOKEN", "token"))
    values = [cfg.get_secret(key) for _, key in names]
    return pulumi.Output.all(*[v if v is not None else "" for v in values]).apply(
        lambda v: [{"name": env, "value": value} for (env, _), value in zip(names, v) if value])


def exec_user(cluster_name: str, region: str, env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The kubeconfig user of the Kubernetes provider: a token made by ``components.eks_token`` whenever the
    provider needs one (never stored, never stale), signed as the stack's AWS provider signs (``env``: see
    :func:`aws_credential_env`)."""
    user = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": credential_command(),
            "args": ["-m", TOKEN_MODULE, "--cluster-name", cluster_name, "--region", region,
                     *aws_credential_args()],
            "interactiveMode": "Never"}
    if env:
        user["env"] = env
    return {"exec": user}


def cluster_provider(resource_name: str, cluster_name: pulumi.Input[str],
                     opts: pulumi.ResourceOptions | None = None):
    """A ``pulumi_kubernetes.Provider`` for an existing EKS cluster (another stack's, another program's), looked
    up by name and authenticated by ``components.eks_token`` when it is used: no AWS CLI, no stored token."""
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent) if opts is not None and opts.parent else None
    found = aws.eks.get_cluster_output(name=cluster_name, opts=invoke)
    region = aws.get_region_output(opts=invoke).region
    config = pulumi.Output.all(cluster_name, found.endpoint, found.certificate_authorities, region,
                               aws_credential_env()).apply(
        lambda v: kubeconfig_json(v[0], v[1], v[2][0].data if v[2] else "", exec_user(v[0], v[3], v[4])))
    return k8s.Provider(resource_name, kubeconfig=config, enable_server_side_apply=True, opts=opts)

