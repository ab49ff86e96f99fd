"""Platform: validates the whole catalog first, then builds the network and each service through its pattern."""

from __future__ import annotations

import pytest

from components.patterns import PATTERN_MODULES
from components.platform import Platform
from components.validation import CatalogError


@pytest.fixture(autouse=True)
def fake_pattern(monkeypatch):
    monkeypatch.setitem(PATTERN_MODULES, "fake", "tests.fake_pattern")


CATALOG = {"catalog_dir": "", "services": {"api": {"pattern": "fake", "port": 9000}, "web": {"pattern": "fake"}}}


def test_builds_network_then_each_service_under_the_platform(plan):
    graph = plan(lambda: Platform("platform", CATALOG))
    platform = graph.one("microservices:platform:Platform")
    kids = {r.name: r.type for r in graph.children(platform)}
    assert kids == {"platform": "microservices:network:Network", "api": "microservices:test:FakeService",
                    "web": "microservices:test:FakeService"}
    assert platform.outputs["services"] == {"api": {"port": 9000, "min": 1}, "web": {"port": 8080, "min": 1}}


def test_profile_reaches_the_services(plan):
    graph = plan(lambda: Platform("platform", {**CATALOG, "environment": "prod"}), environment="prod")
    assert graph.one("aws:cloudwatch/logGroup:LogGroup", "api-logs").inputs["retentionInDays"] == 365
    assert graph.one("microservices:platform:Platform").outputs["services"]["api"]["min"] == 2


def test_invalid_catalog_registers_nothing(plan):
    errors = []

    def program():
        try:
            Platform("platform", {"catalog_dir": "", "services": {"api": {"pattern": "fake", "port": 0}}})
        except CatalogError as err:
            errors.append(err)

    graph = plan(program)
    assert len(graph) == 0
    assert "services.api.port" in str(errors[0])


def test_local_profile_skips_cloud_only_patterns_with_the_reason(plan):
    graph = plan(lambda: Platform("platform", {**CATALOG, "environment": "local"}), environment="local")
    assert [r.type for r in graph] == ["microservices:platform:Platform"]
    outputs = graph.one("microservices:platform:Platform").outputs
    assert outputs["skipped"] == {"api": "pattern 'fake': fake services need AWS",
                                  "web": "pattern 'fake': fake services need AWS"}
