"""Secrets under a customer-managed KMS key: every pattern's role may decrypt them, through the secret's service only."""

from __future__ import annotations

import json

import pytest

from components.blocks.iam import secret_read_statements
from components.platform import Platform
from components.tools.plan.runtime import run
from tests.conftest import ROOT, assert_problem

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/db-AbCdEf"
PARAM = "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api-key"
IMAGE = {"ref": "public.ecr.aws/acme/shop:3.1.0"}
SECRETS = {"DB_URL": SECRET, "API_KEY": PARAM}


def _decrypt(statements):
    return [s for s in statements if "kms:Decrypt" in s["Action"]]


def test_decrypt_is_granted_on_the_keys_only_through_the_secrets_services_and_regions():
    (stmt,) = _decrypt(secret_read_statements(SECRETS.values(), kms_keys=[OTHER_KEY, KEY]))
    assert stmt["Action"] == ["kms:Decrypt"] and stmt["Resource"] == sorted([KEY, OTHER_KEY])
    assert stmt["Condition"] == {"StringEquals": {"kms:ViaService": [
        "secretsmanager.us-east-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"]}}


def test_no_decrypt_without_keys_or_without_secrets():
    assert _decrypt(secret_read_statements(SECRETS.values())) == []
    assert _decrypt(secret_read_statements([], kms_keys=[KEY])) == []


def test_china_secrets_are_decrypted_via_the_china_endpoint():
    arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db"
    key = "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    (stmt,) = _decrypt(secret_read_statements([arn], kms_keys=[key]))
    assert stmt["Condition"]["StringEquals"]["kms:ViaService"] == ["secretsmanager.cn-north-1.amazonaws.com.cn"]


@pytest.fixture(scope="module")
def every_pattern():
    common = {"secrets": SECRETS, "secrets_kms_keys": [KEY]}
    services = {
        "inventory": {"pattern": "vm", "ami": "ami-0123456789abcdef0", **common},
        "cart": {"pattern": "ecs", "image": IMAGE, **common},
        "shop": {"pattern": "eks", "image": IMAGE, "expose": "none", **common},
        "orders-api": {"pattern": "lambda", "code": "services/orders-api", **common},
    }
    config = {"environment": "dev", "catalog_dir": "", "services": services, "eks": {"version": "1.35"}}
    return run(lambda: Platform("platform", config, project_dir=ROOT),
               config={"microservices:environment": "dev"}, project_dir=ROOT, stack="dev")


@pytest.mark.parametrize("policy_name", ["inventory-role", "cart-execution", "shop-role", "orders-api-policy"])
def test_every_pattern_role_may_decrypt_its_secrets_with_their_customer_managed_key(every_pattern, policy_name):
    policy = every_pattern.one("aws:iam/rolePolicy:RolePolicy", policy_name)
    (stmt,) = _decrypt(json.loads(policy.inputs["policy"])["Statement"])
    assert stmt["Resource"] == KEY
    assert stmt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.us-east-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"]


@pytest.mark.parametrize("pattern, extra", [("vm", {"ami": "ami-0123456789abcdef0"}), ("ecs", {"image": IMAGE}),
                                            ("eks", {"image": IMAGE}), ("lambda", {"code": "services/orders-api"})])
@pytest.mark.parametrize("keys, fragment", [
    (["alias/shop"], "the ARN of a KMS key"),
    ([KEY, KEY], "lists a key twice"),
    ([], "at least one KMS key ARN"),
    ("arn:aws:kms:us-east-1:123456789012:key/x", "must be a list"),
])
def test_every_pattern_validates_secrets_kms_keys(pattern, extra, keys, fragment):
    from components.catalog import load_catalog
    spec = {"pattern": pattern, **extra, "secrets": SECRETS, "secrets_kms_keys": keys}
    assert_problem(lambda: load_catalog({"environment": "dev", "catalog_dir": "", "services": {"svc": spec}}, ROOT),
                   "services.svc.secrets_kms_keys", fragment)


def test_keys_without_secrets_are_refused():
    from components.catalog import load_catalog
    spec = {"pattern": "vm", "ami": "ami-0123456789abcdef0", "secrets_kms_keys": [KEY]}
    assert_problem(lambda: load_catalog({"environment": "dev", "catalog_dir": "", "services": {"svc": spec}}, ROOT),
                   "services.svc.secrets_kms_keys", "no secrets to decrypt")
