"""components.eks_token: GIVEN AWS credentials / WHEN the Kubernetes provider runs the plugin / THEN an
ExecCredential whose token is a presigned STS GetCallerIdentity URL naming the cluster (no network)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qs, urlparse

import botocore.session
import pytest
from botocore.stub import Stubber

from components import eks_token


@pytest.fixture
def session(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    return botocore.session.get_session()


def _url(token: str) -> str:
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    body = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_token_is_a_presigned_get_caller_identity_url_naming_the_cluster(session):
    url = urlparse(_url(eks_token.token("shop-prod-eks", "eu-west-1", session)))
    query = parse_qs(url.query)
    assert url.scheme == "https" and url.netloc == "sts.eu-west-1.amazonaws.com"
    assert query["Action"] == ["GetCallerIdentity"] and query["Version"] == ["2011-06-15"]
    assert query["X-Amz-Expires"] == ["60"] and query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")
    # EKS only accepts a token whose signature covers the cluster's name.
    assert query["X-Amz-SignedHeaders"] == ["host;x-k8s-aws-id"]


def test_token_needs_no_network_call(session):
    # Presigning is local: a stubbed STS client with no queued responses would fail on any request.
    sts = session.create_client("sts", region_name="us-east-1")
    with Stubber(sts):
        assert eks_token.token("c", "us-east-1", session).startswith("k8s-aws-v1.")


def test_exec_credential_expires_before_eks_refuses_the_token():
    now = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc)
    cred = eks_token.exec_credential("k8s-aws-v1.abc", now)
    assert cred == {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "spec": {},
                    "status": {"expirationTimestamp": "2026-12-01T10:14:00Z", "token": "k8s-aws-v1.abc"}}


def test_main_prints_an_exec_credential(session, capsys):
    assert eks_token.main(["--cluster-name", "shop-dev-eks", "--region", "us-east-1"]) == 0
    cred = json.loads(capsys.readouterr().out)
    assert cred["kind"] == "ExecCredential"
    assert "sts.us-east-1.amazonaws.com" in _url(cred["status"]["token"])


def test_main_without_credentials_explains_on_stderr(monkeypatch, capsys):
    class NoCredentials:
        def get_credentials(self):
            return None

    monkeypatch.setattr(botocore.session, "get_session", lambda: NoCredentials())
    assert eks_token.main(["--cluster-name", "c", "--region", "us-east-1"]) == 1
    err = capsys.readouterr()
    assert err.out == "" and "no AWS credentials found" in err.err and "'c'" in err.err


def test_token_is_signed_by_the_assumed_role_of_the_stack(session):
    # aws:assumeRoles: the AWS provider created the cluster as the assumed role, so the token must be signed so.
    sts = session.create_client("sts", region_name="us-east-1")
    expiry = dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.timezone.utc)
    stub = Stubber(sts)
    stub.add_response("assume_role", {"Credentials": {"AccessKeyId": "ASIAROLEEXAMPLE1", "SecretAccessKey": "s" * 40,
                                                      "SessionToken": "tok", "Expiration": expiry}},
                      {"RoleArn": "arn:aws:iam::222222222222:role/Deploy", "RoleSessionName": "components-eks-token",
                       "ExternalId": "ext-1"})
    stub.activate()
    session.create_client = lambda *a, **k: sts
    signed = eks_token.credentials_session("us-east-1", role_arns=["arn:aws:iam::222222222222:role/Deploy"],
                                           external_id="ext-1", session=session)
    stub.assert_no_pending_responses()
    query = parse_qs(urlparse(_url(eks_token.token("c", "us-east-1", signed))).query)
    assert query["X-Amz-Credential"][0].startswith("ASIAROLEEXAMPLE1/")
    assert query["X-Amz-Security-Token"] == ["tok"]


def test_main_takes_the_stacks_profile(monkeypatch, tmp_path, capsys):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = x\n"
                     "[platform]\naws_access_key_id = AKIDPLATFORM\naws_secret_access_key = y\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    assert eks_token.main(["--cluster-name", "c", "--region", "us-east-1", "--profile", "platform"]) == 0
    cred = json.loads(capsys.readouterr().out)
    assert parse_qs(urlparse(_url(cred["status"]["token"])).query)["X-Amz-Credential"][0].startswith("AKIDPLATFORM/")


def test_main_gives_each_role_its_own_external_id_and_session_name(monkeypatch, capsys):
    seen = {}

    def fake_session(region, profile=None, role_arns=(), external_id=None, session=None):
        seen["roles"] = role_arns
        raise RuntimeError("stop")

    monkeypatch.setattr(eks_token, "credentials_session", fake_session)
    eks_token.main(["--cluster-name", "c", "--region", "us-east-1", "--role-arn", "arn:a", "--external-id", "e1",
                    "--session-name", "ci", "--role-arn", "arn:b"])
    assert seen["roles"] == [{"arn": "arn:a", "external_id": "e1", "session_name": "ci"}, {"arn": "arn:b"}]
    # The form an older state stored (--external-id after the last role) still means the last role.
    eks_token.main(["--cluster-name", "c", "--region", "us-east-1", "--role-arn", "arn:a", "--role-arn", "arn:b",
                    "--external-id", "e2"])
    assert seen["roles"] == [{"arn": "arn:a"}, {"arn": "arn:b", "external_id": "e2"}]


def test_each_role_is_assumed_with_its_own_external_id_and_session_name(session):
    sts = session.create_client("sts", region_name="us-east-1")
    creds = {"Credentials": {"AccessKeyId": "ASIAHOPEXAMPLE001", "SecretAccessKey": "s" * 40, "SessionToken": "t",
                             "Expiration": dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.timezone.utc)}}
    stub = Stubber(sts)
    stub.add_response("assume_role", creds, {"RoleArn": "arn:aws:iam::1:role/Hop", "RoleSessionName": "ci",
                                             "ExternalId": "ext-hop"})
    stub.activate()
    session.create_client = lambda *a, **k: sts
    eks_token.credentials_session("us-east-1", role_arns=[{"arn": "arn:aws:iam::1:role/Hop",
                                                           "external_id": "ext-hop", "session_name": "ci"}],
                                  session=session)
    stub.assert_no_pending_responses()
