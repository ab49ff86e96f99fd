"""The README's examples are executed: stack-file catalogs validate, and the import example plans."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from components.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", README, re.S)
CATALOG_BLOCKS = [b for b in YAML_BLOCKS if b.startswith("microservices:services:")]


def test_readme_has_a_catalog_example_for_every_pattern():
    patterns = {m for b in CATALOG_BLOCKS for m in re.findall(r"pattern: (\w+)", b)}
    assert patterns >= {"lambda", "vm", "ecs", "docker", "eks"}


@pytest.mark.parametrize("block", CATALOG_BLOCKS, ids=lambda b: re.findall(r"\n  (\S+):", b)[0])
def test_readme_catalog_example_is_valid(block):
    services = yaml.safe_load(block)["microservices:services"]
    load_catalog({"environment": "prod", "catalog_dir": "", "services": services}, ROOT)


def test_readme_import_example_plans(plan, monkeypatch, tmp_path):
    code = re.search(r"```python\n(import pulumi\nfrom components import Network, Platform.*?)```", README, re.S)
    assert code, "the README's import example is missing"
    # Another program's directory: the sample code it points at, and no catalog/ of this repository.
    (tmp_path / "services").symlink_to(ROOT / "services")
    monkeypatch.chdir(tmp_path)
    graph = plan(lambda: exec(textwrap.dedent(code.group(1)), {}), environment="staging")
    assert graph.one("microservices:network:Network", "core")
    assert graph.one("microservices:lambda:LambdaService", "thumbnails")
    assert graph.one("microservices:ecs:EcsService", "orders")
