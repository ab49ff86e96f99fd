"""Kubernetes exec credential plugin for EKS: ``python -m components.eks_token --cluster-name NAME --region R``.

The Kubernetes provider of :class:`~components.eks.EksCluster` runs this module each time it needs a
token (``users[].user.exec`` of its kubeconfig), so no token is ever stored in the Pulumi state and
``pulumi refresh`` and ``destroy`` work months later. It prints an ``ExecCredential`` whose token is what
``aws eks get-token`` makes: an STS ``GetCallerIdentity`` URL presigned with the caller's AWS credentials
(the standard botocore chain: environment, profile, SSO, web identity, instance role) and the
``x-k8s-aws-id`` header naming the cluster, so it needs botocore but no AWS CLI and no network call.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import sys
from typing import Any

__all__ = ["TOKEN_PREFIX", "credentials_session", "exec_credential", "main", "token"]

TOKEN_PREFIX = "k8s-aws-v1."
#: EKS accepts a token for 15 minutes; announce 14 so clients ask for a new one before it is refused.
TOKEN_LIFETIME = dt.timedelta(minutes=14)
#: The presigned URL's own validity, as ``aws eks get-token`` signs it.
URL_EXPIRES_SECONDS = 60
CLUSTER_HEADER = "x-k8s-aws-id"


ROLE_SESSION_NAME = "components-eks-token"


def credentials_session(region: str, profile: str | None = None, role_arns: list[Any] | tuple[Any, ...] = (),
                        external_id: str | None = None, session: Any = None) -> Any:
    """The botocore session whose credentials sign the token: the one Pulumi's AWS provider uses. ``profile`` and
    ``role_arns`` (assumed in order, ``external_id`` for the last) mirror ``aws:profile`` and ``aws:assumeRoles``
    of the stack, so the token names the identity that created the cluster, not whatever the environment has.
    A role may also be a dict (``arn``, ``external_id``, ``session_name``): each role of ``aws:assumeRoles``
    has its own external id and session name, as the AWS provider and ``blocks/aws_api.py`` assume them."""
    import botocore.session
    if session is None:
        session = botocore.session.Session(profile=profile) if profile else botocore.session.get_session()
    if session.get_credentials() is None:
        raise RuntimeError("no AWS credentials found (environment, profile, SSO or instance role): the EKS "
                           "token is signed with the credentials of whoever runs pulumi")
    for i, role in enumerate(role_arns):
        role = dict(role) if isinstance(role, dict) else {"arn": role}
        if external_id and i == len(role_arns) - 1 and not role.get("external_id"):
            role["external_id"] = external_id
        params = {"RoleArn": role["arn"], "RoleSessionName": role.get("session_name") or ROLE_SESSION_NAME}
        if role.get("external_id"):
            params["ExternalId"] = role["external_id"]
        creds = session.create_client("sts", region_name=region).assume_role(**params)["Credentials"]
        session = botocore.session.Session()
        session.set_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    return session


def token(cluster_name: str, region: str, session: Any = None) -> str:
    """An EKS bearer token for ``cluster_name``: ``k8s-aws-v1.`` and the base64url of a presigned STS URL."""
    session = credentials_session(region, session=session)
    sts = session.create_client("sts", region_name=region)

    def name_the_cluster(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_HEADER] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", name_the_cluster)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=URL_EXPIRES_SECONDS,
                                     HttpMethod="GET")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def exec_credential(bearer: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The ``client.authentication.k8s.io/v1beta1`` ``ExecCredential`` carrying ``bearer``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    expires = (now + TOKEN_LIFETIME).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "spec": {},
            "status": {"expirationTimestamp": expires, "token": bearer}}


class _Role(argparse.Action):
    """``--role-arn`` starts a role; ``--external-id`` and ``--session-name`` belong to the one before them."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, value: Any, option: str | None = None) -> None:
        roles = list(getattr(namespace, self.dest) or [])
        if option == "--role-arn":
            roles.append({"arn": value})
        elif not roles:
            parser.error(f"{option} must follow the --role-arn it belongs to")
        else:
            roles[-1] = {**roles[-1], option.removeprefix("--").replace("-", "_"): value}
        setattr(namespace, self.dest, roles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.eks_token", description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-name", required=True, help="the EKS cluster's name")
    parser.add_argument("--region", required=True, help="the cluster's AWS region")
    parser.add_argument("--profile", help="the AWS profile to sign with (the stack's aws:profile)")
    parser.add_argument("--role-arn", action=_Role, dest="roles", default=[],
                        help="a role to assume first, repeatable, in order (the stack's aws:assumeRoles)")
    parser.add_argument("--external-id", action=_Role, dest="roles", help="the external id of the --role-arn before it")
    parser.add_argument("--session-name", action=_Role, dest="roles", help="the session name of the --role-arn before it")
    args = parser.parse_args(argv)
    try:
        session = credentials_session(args.region, args.profile, args.roles)
        bearer = token(args.cluster_name, args.region, session)
    except Exception as err:  # the Kubernetes client shows stderr; a traceback would hide the reason
        print(f"components.eks_token: cannot make a token for EKS cluster {args.cluster_name!r}: {err}",
              file=sys.stderr)
        return 1
    json.dump(exec_credential(bearer), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
