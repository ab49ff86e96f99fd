"""The planning benchmark's floor re-registers, for every pattern, exactly what the catalog planned."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("plan_bench", ROOT / "bench" / "plan_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.RUNS = 1
    return module


@pytest.mark.parametrize("pattern", ["ecs", "vm", "lambda", "eks"])
def test_floor_registers_the_same_resources_as_the_catalog_for_every_pattern(bench, pattern, tmp_path, monkeypatch):
    from components.tools.plan import runtime

    graphs = []
    real_run = runtime.run

    def recording_run(*args, **kwargs):
        graphs.append(real_run(*args, **kwargs))
        return graphs[-1]

    monkeypatch.setattr(runtime, "run", recording_run)
    plan_file = tmp_path / "plan.json"
    ours = bench.run_ours(pattern, 1, plan_file)
    floor = bench.run_floor(plan_file)
    planned = Counter(r["type"] for r in json.loads(plan_file.read_text())["resources"] if r["custom"])
    floor_graph = graphs[-1]
    assert Counter(r.type for r in floor_graph) == planned
    assert floor["resources"] == sum(planned.values()) and ours["resources"] >= floor["resources"]
    # Assets and archives are passed as real assets again (which the SDK serializes from the file, so the
    # recorded path is the absolute one given), not as the plan document's description of them.
    for record in floor_graph:
        for value in record.inputs.values():
            if isinstance(value, dict) and set(value) in ({"asset"}, {"archive"}):
                assert Path(next(iter(value.values()))["path"]).is_absolute(), record.name
