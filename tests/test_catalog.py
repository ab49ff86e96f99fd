"""The stack catalog: every rule has a bad input and an assertion on its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.catalog import load_catalog, merge_specs
from components.patterns import PATTERN_MODULES
from components.blocks.service import resolve_core, validate_core
from components.profiles import PROFILES
from components.validation import CatalogError, Problems
from tests.conftest import assert_problem, problems_of


@pytest.fixture
def fake_pattern(monkeypatch):
    monkeypatch.setitem(PATTERN_MODULES, "fake", "tests.fake_pattern")


def load(config, tmp_path: Path | None = None):
    return load_catalog({"catalog_dir": "", **config}, tmp_path)


def core_problems(spec):
    problems = Problems()
    validate_core(spec, "services.api", problems)
    return [str(p) for p in problems]


# -- the core spec -------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, expected", [
    ({"port": 0}, "services.api.port: must be between 1 and 65535 inclusive, got 0"),
    ({"port": 70000}, "services.api.port: must be between 1 and 65535 inclusive, got 70000"),
    ({"port": "80"}, "services.api.port: must be a whole number between 1 and 65535 inclusive, got '80'"),
    ({"expose": "private"}, "services.api.expose: must be one of 'public', 'internal', 'none', got 'private'"),
    ({"health_check": {"path": "health"}}, "services.api.health_check.path: must start with '/', got 'health'"),
    ({"health_check": {"path": "/" + "a" * 1024}}, "services.api.health_check.path: must be at most 1024 characters"),
    ({"health_check": {"interval": 4}}, "services.api.health_check.interval: must be between 5 and 300 seconds inclusive, got 4"),
    ({"health_check": {"timeout": 121}}, "services.api.health_check.timeout: must be between 2 and 120 seconds inclusive, got 121"),
    ({"health_check": {"interval": 10, "timeout": 10}},
     "services.api.health_check.interval: must be greater than health_check.timeout (10), got 10"),
    ({"health_check": {"healthy_threshold": 1}}, "services.api.health_check.healthy_threshold: must be between 2 and 10 inclusive, got 1"),
    ({"health_check": {"unhealthy_threshold": 11}}, "services.api.health_check.unhealthy_threshold: must be between 2 and 10 inclusive, got 11"),
    ({"health_check": {"grace_period": -1}}, "services.api.health_check.grace_period: must be between 0 and 7200 seconds inclusive, got -1"),
    ({"health_check": {"paht": "/x"}}, "services.api.health_check.paht: unknown key; did you mean 'path'?"),
    ({"scaling": {"min": 3, "max": 2}}, "services.api.scaling.min: must be at most scaling.max (2), got 3"),
    ({"scaling": {"min": 2, "max": 4, "desired": 1}}, "services.api.scaling.desired: must be between scaling.min (2) and scaling.max, got 1"),
    ({"scaling": {"min": 1, "max": 4, "desired": 5}}, "services.api.scaling.desired: must be between scaling.min and scaling.max (4), got 5"),
    ({"scaling": {"max": 0}}, "services.api.scaling.max: must be between 1 and 1000 inclusive, got 0"),
    ({"scaling": {"target_cpu": 95}}, "services.api.scaling.target_cpu: must be between 10 and 90 percent inclusive, got 95"),
    ({"scaling": 3}, "services.api.scaling: must be a mapping, got int 3"),
    ({"environment": {"1BAD": "x"}}, "services.api.environment.1BAD: must be a variable name"),
    ({"environment": {"A": {"nested": 1}}}, "services.api.environment.A: must be a string value"),
    ({"secrets": {"DB": "plaintext-password"}}, "services.api.secrets.DB: must be the ARN of an SSM parameter"),
    ({"secrets": {"DB": "arn:aws:s3:::bucket/key"}}, "services.api.secrets.DB: must be the ARN of an SSM parameter"),
    ({"environment": {"DB": "x"}, "secrets": {"DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}},
     "services.api.secrets.DB: is also set in environment"),
    ({"tags": {"aws:team": "x"}}, "services.api.tags.aws:team: tag keys starting with 'aws:' are reserved by AWS"),
    ({"tags": {"team": "x" * 257}}, "services.api.tags.team: tag values are at most 256 characters, got 257"),
])
def test_core_spec_rejects(spec, expected):
    problems = core_problems(spec)
    assert any(p.startswith(expected) for p in problems), problems


def test_core_spec_accepts_valid_secrets_in_every_form():
    assert core_problems({"secrets": {
        "A": "arn:aws:ssm:us-east-1:123456789012:parameter/app/a",
        "B": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/b-AbCdEf",
        "C": "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/c",
    }}) == []


def test_core_defaults_come_from_profile_and_explicit_values_win():
    dev = resolve_core({}, PROFILES["dev"], default_grace_period=300)
    assert (dev.port, dev.expose, dev.scaling.min, dev.scaling.max, dev.health_check.grace_period) == \
        (8080, "internal", 1, 2, 300)
    prod = resolve_core({"scaling": {"min": 3}}, PROFILES["prod"])
    assert (prod.scaling.min, prod.scaling.max, prod.scaling.desired) == (3, 10, 3)
    big = resolve_core({"scaling": {"min": 12}}, PROFILES["prod"])
    assert big.scaling.max == 12


# -- the catalog ---------------------------------------------------------------------------------------
def test_unknown_top_level_key_suggests_the_close_one():
    assert_problem(lambda: load({"servics": {}}), "servics: unknown key; did you mean 'services'?")


def test_environment_must_be_a_profile():
    assert_problem(lambda: load({"environment": "qa"}), "environment: must be one of 'dev', 'staging', 'prod', 'local', got 'qa'")


@pytest.mark.parametrize("name", ["Orders", "orders_api", "9lives", "a-very-long-service-name-x", "api-"])
def test_service_names_must_be_short_dns_labels(fake_pattern, name):
    assert_problem(lambda: load({"services": {name: {"pattern": "fake"}}}), f"services.{name}", "DNS-1123 label of at most 20")


def test_pattern_is_required_and_must_be_known(fake_pattern):
    assert_problem(lambda: load({"services": {"api": {"port": 80}}}), "services.api.pattern: is required")
    assert_problem(lambda: load({"services": {"api": {"pattern": "lamda"}}}), "services.api.pattern", "did you mean 'lambda'?")


def test_pattern_not_available_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(PATTERN_MODULES, "vm", "components.no_such_module")
    assert_problem(lambda: load({"services": {"api": {"pattern": "vm"}}}),
                   "services.api.pattern: pattern 'vm' is not available in this version")


def test_unknown_service_key_names_path_and_suggestion(fake_pattern):
    assert_problem(lambda: load({"services": {"api": {"pattern": "fake", "prot": 80}}}),
                   "services.api.prot: unknown key; did you mean 'port'?")


def test_cross_service_rules_run(fake_pattern):
    assert_problem(lambda: load({"services": {"a": {"pattern": "fake", "port": 80}, "b": {"pattern": "fake", "port": 80}}}),
                   "services.b.port: is already used by services.a")


def test_every_problem_of_the_catalog_is_reported_at_once(fake_pattern):
    problems = problems_of(lambda: load({
        "environment": "dev",
        "network": {"nat": "two"},
        "profile": {"log_retention_days": 12},
        "services": {
            "orders": {"pattern": "fake", "port": 0, "scaling": {"min": 5, "max": 1}},
            "Bad_Name": {"pattern": "fake"},
            "web": {"pattern": "fake", "size": 9, "secrets": {"K": "nope"}},
        },
    }))
    for expected in ("network.nat", "profile.log_retention_days", "services.orders.port", "services.orders.scaling.min",
                     "services.Bad_Name", "services.web.size", "services.web.secrets.K"):
        assert any(p.startswith(expected) for p in problems), (expected, problems)


def test_profile_overrides_apply_and_are_validated():
    catalog = load({"environment": "prod", "profile": {"log_retention_days": 90, "spot": True}})
    assert catalog.profile.log_retention_days == 90 and catalog.profile.spot and catalog.profile.protect
    assert_problem(lambda: load({"profile": {"spotty": True}}), "profile.spotty: unknown key; did you mean 'spot'?")
    assert_problem(lambda: load({"profile": {"nat": "all"}}), "profile.nat: must be one of")


def test_shared_catalog_is_merged_under_stack_entries(fake_pattern, tmp_path):
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "a.yaml").write_text(
        "services:\n  api:\n    pattern: fake\n    port: 8080\n    scaling: {min: 1, max: 3}\n    tags: {team: core}\n")
    catalog = load_catalog({"services": {"api": {"scaling": {"max": 6}}, "web": {"pattern": "fake"}}}, tmp_path)
    assert catalog.services["api"] == {"pattern": "fake", "port": 8080, "scaling": {"min": 1, "max": 6},
                                       "tags": {"team": "core"}}
    assert set(catalog.services) == {"api", "web"}


def test_shared_catalog_rejects_a_service_defined_twice(fake_pattern, tmp_path):
    (tmp_path / "catalog").mkdir()
    for f in ("a.yaml", "b.yaml"):
        (tmp_path / "catalog" / f).write_text("services:\n  api: {pattern: fake}\n")
    assert_problem(lambda: load_catalog({}, tmp_path), "catalog/b.yaml: services.api", "already defined in catalog/a.yaml")


def test_shared_catalog_file_must_have_services_key(tmp_path):
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "a.yaml").write_text("api: {pattern: fake}\n")
    assert_problem(lambda: load_catalog({}, tmp_path), "catalog/a.yaml", "one key, 'services'")


def test_merge_specs_replaces_lists_and_merges_mappings():
    assert merge_specs({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "e": 2}) == \
        {"a": {"b": 1, "c": [2]}, "d": 1, "e": 2}


def test_catalog_error_message_lists_each_problem_on_its_own_line(fake_pattern):
    with pytest.raises(CatalogError) as info:
        load({"services": {"api": {"pattern": "fake", "port": -1, "expose": "world"}}})
    text = str(info.value)
    assert text.startswith("2 problems in the configuration:")
    assert "\n  - services.api.expose:" in text and "\n  - services.api.port:" in text


# -- resolved once ----------------------------------------------------------------------------------------
def test_the_stack_defaults_are_the_fields_the_platform_args_document():
    from components.catalog import StackSettings
    from components.platform import PlatformArgs
    from tests.test_shared_blocks import documented_defaults
    assert documented_defaults(PlatformArgs, StackSettings) == ["environment", "catalog_dir"]


def test_the_stack_keys_resolve_once_with_null_or_empty_meaning_the_default_environment_and_no_catalog():
    from components.catalog import StackSettings, resolve_stack
    assert resolve_stack({}) == StackSettings(environment="dev", catalog_dir="catalog")
    assert resolve_stack({"environment": None, "catalog_dir": None}) == StackSettings(catalog_dir=None)
    assert resolve_stack({"environment": "", "catalog_dir": ""}) == StackSettings(catalog_dir=None)
    assert resolve_stack({"environment": "prod", "catalog_dir": "shared"}) == StackSettings("prod", "shared")


def test_without_catalog_dir_the_catalog_folder_is_merged_under_the_stack_services(fake_pattern, tmp_path):
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "shop.yaml").write_text("services:\n  orders: {pattern: fake}\n")
    assert set(load_catalog({"environment": "dev"}, tmp_path).services) == {"orders"}
    assert load_catalog({"environment": "dev", "catalog_dir": None}, tmp_path).services == {}
