"""The component reference (docs/components.md) is generated from the components, is current, documents every
output, and its minimal examples run from a project folder and are minimal; the argument tables of the pages
are generated from the components' args TypedDicts and are current."""

from __future__ import annotations

import sys

import pulumi
import pytest

import components
from components.tools.reference import COMPONENTS, component_class, component_outputs, render
from components.testing import catalog_problems, run_component
from tests.conftest import ROOT

DOC = ROOT / "docs" / "components.md"
#: The generator's module, wherever it lives (its path is in the regenerate hints).
reference = sys.modules[render.__module__]


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


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_argument_tables_on_the_pages_are_generated_from_the_args_types(page) -> None:
    text = page.read_text()
    assert reference.refresh_args_tables(text) == text, f"regenerate them: python -m {reference.__name__} --write"


def test_every_component_with_args_has_its_argument_table_on_a_page() -> None:
    tables = {m.group(2) for page in PAGES for m in reference.ARGS_BLOCK.finditer(page.read_text())}
    with_args = {doc.name for doc in COMPONENTS if reference.args_class(component_class(doc)) is not None}
    assert with_args == {doc.name for doc in COMPONENTS}
    assert sorted(with_args - tables) == []


def test_argument_table_expands_nested_args_with_their_default() -> None:
    table = reference.render_args_table("VmService")
    # A nested TypedDict is dotted, a mapping of them keyed by <name>; each row is the field's docstring.
    assert "| `health_check.grace_period` | `int` |" in table
    assert "| `autoscaling.schedules.<name>.recurrence` | `str` | Cron expression" in table
    assert "| `ami` | `AmiArgs \\| str` |" in table
    vm = next(d for d in COMPONENTS if d.name == "VmService")
    rows = reference.args_rows(reference.args_class(component_class(vm)))
    assert all(doc for _, _, doc in rows)


def test_a_stale_or_unknown_argument_table_is_regenerated_or_refused() -> None:
    stale = "<!-- args:Network -->\n| argument | type | default and meaning |\n| `cidr` | old |\n<!-- /args -->"
    fresh = reference.refresh_args_tables(stale)
    assert fresh != stale and "| `cidr` | `str` |" in fresh and reference.refresh_args_tables(fresh) == fresh
    with pytest.raises(KeyError, match="no such component"):
        reference.refresh_args_tables("<!-- args:Nothing -->\n<!-- /args -->")


def test_write_regenerates_the_reference_and_the_tables(tmp_path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "vm.md").write_text("# vm\n\n<!-- args:VmService -->\n<!-- /args -->\n")
    changed = reference.write(tmp_path)
    assert {p.name for p in changed} == {"components.md", "vm.md"}
    assert (tmp_path / "docs" / "components.md").read_text() == render()
    assert reference.render_args_table("VmService") in (tmp_path / "docs" / "vm.md").read_text()
    assert reference.write(tmp_path) == []
