"""The component reference (docs/components.md) is generated from the components, is current, documents every
output, and its minimal examples run from a project folder and are minimal."""

from __future__ import annotations

import pulumi
import pytest

import components
from components.tools.reference import COMPONENTS, component_class, component_outputs, render
from components.testing import catalog_problems, run_component
from tests.conftest import ROOT

DOC = ROOT / "docs" / "components.md"


def test_component_reference_is_generated_from_the_current_components() -> None:
    assert DOC.read_text() == render(), "regenerate it: python -m components.tools.reference > docs/components.md"


def test_every_exported_component_is_in_the_reference_with_documented_outputs() -> None:
    exported = {n for n in components.__all__ if isinstance(getattr(components, n), type)
                and issubclass(getattr(components, n), pulumi.ComponentResource)}
    assert exported == {d.name for d in COMPONENTS}
    for doc in COMPONENTS:
        outputs = component_outputs(component_class(doc))
        assert outputs or doc.name == "Platform", doc.name
        for name, type_, meaning in outputs:
            assert meaning, f"{doc.name}.{name} has no docstring"
        assert f"## {doc.name}\n" in DOC.read_text()


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with the code the examples name, as the current directory."""
    (tmp_path / "services" / "thumbnails").mkdir(parents=True)
    (tmp_path / "services" / "thumbnails" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    for folder in ("services/status", "jobs/batch"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "Dockerfile").write_text("FROM public.ecr.aws/nginx/nginx:1.27\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _example(doc, code: str):
    def program():
        namespace = {name: getattr(components, name) for name in components.__all__}
        needs = {"net": "Network('core')", "cluster": "EcsCluster('apps', network=net)",
                 "eks": "EksCluster('platform', network=net)"}
        for var, expr in needs.items():
            if var in code:
                if var != "net" and "net" not in namespace:
                    namespace["net"] = eval("Network('core')", namespace)
                namespace[var] = eval(expr, namespace)
        return eval(code, namespace)
    return program


@pytest.mark.parametrize("doc", COMPONENTS, ids=lambda d: d.name)
def test_minimal_example_plans_from_a_project_folder(doc, project) -> None:
    graph = run_component(_example(doc, doc.minimal))
    assert [r for r in graph.resources if r.type.endswith(f":{doc.name}")], doc.name


@pytest.mark.parametrize("doc", [d for d in COMPONENTS if d.required], ids=lambda d: d.name)
def test_minimal_example_needs_each_required_arg(doc, project) -> None:
    for arg in doc.required:
        problems = catalog_problems(_example(doc, _drop_arg(doc.minimal, arg)))
        assert any(arg in p for p in problems), (doc.name, arg, problems)


def _drop_arg(code: str, arg: str) -> str:
    """The call with ``arg`` removed from its args dict (the examples' args are one flat dict literal)."""
    start = code.index("{")
    end = code.index("}", start) + 1 if code[start:].count("{") == 1 else _matching(code, start) + 1
    args = eval(code[start:end])
    args.pop(arg)
    return code[:start] + repr(args) + code[end:]


def _matching(code: str, start: int) -> int:
    depth = 0
    for i in range(start, len(code)):
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            return i
    raise ValueError(code)
