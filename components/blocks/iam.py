"""IAM policy documents, built as plain JSON so they are deterministic and visible in a plan."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi

__all__ = ["assume_role_policy", "policy_document", "scoped_trust_policy", "secret_read_statements", "statement"]


def assume_role_policy(*services: str, conditions: Mapping[str, Any] | None = None) -> str:
    """Trust policy letting AWS services (``lambda.amazonaws.com``, ...) assume a role."""
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": sorted(services) if len(services) > 1 else services[0]},
                            "Action": "sts:AssumeRole"}
    if conditions:
        stmt["Condition"] = dict(conditions)
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]}, sort_keys=True)


def scoped_trust_policy(service: str, account_id: pulumi.Input[str],
                        source_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """A trust policy letting ``service`` assume the role only on behalf of this account's resources matching
    ``source_arn`` (``aws:SourceAccount`` and ``aws:SourceArn``): no confused deputy. Only for services that
    set both keys when they assume a role (VPC Flow Logs, ECS tasks...); EC2 and Lambda do not."""
    return pulumi.Output.all(account_id, source_arn).apply(lambda v: assume_role_policy(service, conditions={
        "StringEquals": {"aws:SourceAccount": v[0]}, "ArnLike": {"aws:SourceArn": v[1]}}))


def statement(actions: Sequence[str], resources: Sequence[pulumi.Input[str]], sid: str | None = None,
              conditions: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One Allow statement. Resources may be Outputs; :func:`policy_document` resolves them."""
    if not resources:
        raise ValueError("an IAM statement needs at least one resource; never use '*' for lack of one")
    stmt: dict[str, Any] = {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": list(resources)}
    if sid:
        stmt["Sid"] = sid
    if conditions:
        stmt["Condition"] = dict(conditions)
    return stmt


def policy_document(statements: Iterable[Mapping[str, Any]]) -> pulumi.Output[str]:
    """A policy document as a JSON string Output (resources may be Outputs)."""

    def render(resolved: Any) -> str:
        out = []
        for stmt in resolved:
            stmt = dict(stmt)
            res = stmt["Resource"]
            stmt["Resource"] = sorted(set(res)) if isinstance(res, list) and len(set(res)) > 1 else (
                res[0] if isinstance(res, list) else res)
            out.append(stmt)
        return json.dumps({"Version": "2012-10-17", "Statement": out}, sort_keys=True)

    return pulumi.Output.from_input([dict(s) for s in statements]).apply(render)


def secret_read_statements(arns: Iterable[str], *, describe: bool = False,
                           kms_keys: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Least-privilege read access to exactly these SSM parameters and Secrets Manager secrets.
    ``describe`` adds ``secretsmanager:DescribeSecret`` (the Secrets Store CSI driver's AWS provider needs it).
    ``kms_keys`` (customer-managed key ARNs encrypting them) adds ``kms:Decrypt`` on those keys only when
    Secrets Manager or SSM calls KMS on the caller's behalf (``kms:ViaService``), in the secrets' regions."""
    arns = sorted(set(arns))
    ssm = [a for a in arns if ":ssm:" in a]
    # A Secrets Manager valueFrom may select a JSON key and a version after the secret's ARN
    # (arn:...:secret:NAME-AbCdEf:json-key:version-stage:version-id): permissions name the secret itself.
    sm = sorted({":".join(a.split(":")[:7]) for a in arns if ":secretsmanager:" in a})
    out = []
    if ssm:
        out.append(statement(["ssm:GetParameters", "ssm:GetParameter"], ssm, sid="ReadParameters"))
    if sm:
        # A Secrets Manager ARN ends in a random 6-character suffix that a configured ARN may omit:
        # grant the ARN as given and the same ARN followed by any suffix.
        actions = ["secretsmanager:GetSecretValue"] + (["secretsmanager:DescribeSecret"] if describe else [])
        out.append(statement(actions, sm + [f"{a}-??????" for a in sm], sid="ReadSecrets"))
    keys = sorted(set(kms_keys))
    if keys and arns:
        via = sorted({_via_service(a) for a in ssm + sm})
        out.append(statement(["kms:Decrypt"], keys, sid="DecryptSecrets",
                             conditions={"StringEquals": {"kms:ViaService": via}}))
    return out


def _via_service(arn: str) -> str:
    """The ``kms:ViaService`` value of the service holding ``arn``: ``secretsmanager.eu-west-1.amazonaws.com``."""
    _, partition, service, region = arn.split(":")[:4]
    return f"{service}.{region}.amazonaws.com" + (".cn" if partition == "aws-cn" else "")
