"""The examples of the README and of every page under docs/ are executed: stack-file catalogs validate, each
Python snippet runs as a program of a project outside the repository, and the import example plans."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from components.catalog import load_catalog
from tests.conftest import in_project

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
#: Every page whose examples the tests run: moving text between pages keeps its example tested.
PAGES = {path.relative_to(ROOT).as_posix(): path.read_text()
         for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}
#: The page each pattern is documented on, and the patterns its catalog examples must show.
PATTERN_PAGES = {"docs/lambda.md": {"lambda"}, "docs/vm.md": {"vm"}, "docs/ecs.md": {"ecs", "docker"},
                 "docs/eks.md": {"eks"}}


def _blocks(language: str) -> list[tuple[str, str]]:
    return [(page, block) for page, text in PAGES.items()
            for block in re.findall(rf"```{language}\n(.*?)```", text, re.S)]


CATALOG_BLOCKS = [(page, b) for page, b in _blocks("yaml") if b.startswith("microservices:services:")]


def test_every_page_is_checked_and_the_pattern_pages_exist():
    assert set(PATTERN_PAGES) <= set(PAGES)
    assert {"README.md", "docs/stack-catalog.md", "docs/network.md", "docs/plan.md", "docs/workflow.md"} <= set(PAGES)


@pytest.mark.parametrize("page", sorted(PATTERN_PAGES))
def test_each_pattern_page_has_a_catalog_example_of_its_pattern(page):
    patterns = {m for p, b in CATALOG_BLOCKS if p == page for m in re.findall(r"pattern: (\w+)", b)}
    assert patterns >= PATTERN_PAGES[page], page


def _first_service(block: str) -> str:
    return re.findall(r"\n  (\S+):", block)[0]


@pytest.mark.parametrize("page,block", CATALOG_BLOCKS, ids=[f"{p}:{_first_service(b)}" for p, b in CATALOG_BLOCKS])
def test_catalog_example_is_valid(page, block):
    services = yaml.safe_load(block)["microservices:services"]
    load_catalog({"environment": "prod", "catalog_dir": "", "services": services}, ROOT)


PYTHON_BLOCKS = _blocks("python")
#: The README's first program is the scratch project's own __main__.py (the adoption example).
MAIN_PROGRAM = re.findall(r"```python\n(.*?)```", README, re.S)[0]

#: Run one README snippet in a scratch project, as its own program would under the mock runtime (prod
#: profile unless the snippet names one); then any test_* function it defines, as pytest would.
SNIPPET_RUNNER = textwrap.dedent('''
    import json, sys
    from microservice_components.testing import run_component
    code = open(sys.argv[1]).read()
    namespace = {"__name__": "__main__"}
    # The outputs of the stack the EKS example references (what that stack would export).
    references = {"acme/platform/prod": {"cluster_name": "platform"}}
    graph = run_component(lambda: exec(compile(code, "README snippet", "exec"), namespace), environment="prod",
                          stack_references=references)
    tests = sorted(name for name, fn in namespace.items() if name.startswith("test_") and callable(fn))
    for name in tests:
        namespace[name]()
    print(json.dumps({"types": sorted({r.type for r in graph.resources}), "tests": tests}))
''')


def scratch_project(root: Path) -> Path:
    """A team's project outside this repository: the README's first program as its __main__.py, a staging
    stack, the sample code the snippets point at or default to (services/, jobs/batch) and a components/ folder of its own."""
    project = root / "shop"
    project.mkdir()
    shutil.copytree(ROOT / "services", project / "services",
                    ignore=shutil.ignore_patterns("__pycache__", ".build", "node_modules"))
    (project / "services" / "status").mkdir()        # DockerService("status") builds services/<name> by default
    (project / "services" / "status" / "Dockerfile").write_text("FROM public.ecr.aws/nginx/nginx:1.27\n")
    (project / "jobs" / "batch").mkdir(parents=True)
    (project / "jobs" / "batch" / "Dockerfile").write_text("FROM public.ecr.aws/docker/library/python:3.13-slim\n")
    (project / "components").mkdir()
    (project / "components" / "__init__.py").write_text("")
    (project / "Pulumi.yaml").write_text("name: shop\nruntime:\n  name: python\n")
    (project / "Pulumi.staging.yaml").write_text("config:\n  aws:region: us-east-1\n  microservices:environment: staging\n")
    (project / "__main__.py").write_text(MAIN_PROGRAM)
    (project / "run_snippet.py").write_text(SNIPPET_RUNNER)
    return project


def test_every_python_snippet_imports_what_it_uses():
    for page, block in PYTHON_BLOCKS:
        assert "from components" not in block and "import components" not in block, (page, block[:200])
        if "pulumi." in block:
            assert re.search(r"^import pulumi$", block, re.M), (page, block[:200])


def _snippet_id(index: int, page: str, block: str) -> str:
    imported = re.search(r"^from microservice_components\S* import (\w+)", block, re.M)
    return f"{page}:{imported.group(1) if imported else index}"


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)),
                         ids=[_snippet_id(i, p, b) for i, (p, b) in enumerate(PYTHON_BLOCKS)])
def test_python_snippet_runs_in_a_project_outside_the_repository(index, installed, tmp_path):
    page, block = PYTHON_BLOCKS[index]
    project = scratch_project(tmp_path)
    (project / "snippet.py").write_text(block)
    result = in_project(project, installed, "run_snippet.py", "snippet.py")
    assert result.returncode == 0, f"{page}, snippet {index}:\n{block}\n{result.stderr[-4000:]}"
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["types"] or seen["tests"], "the snippet created nothing and tested nothing"


def test_readme_import_example_plans_as_a_program_of_another_name(installed, tmp_path):
    project = scratch_project(tmp_path)
    result = in_project(project, installed, "-m", "microservice_components.plan", "--stack", "staging",
                        "--json", "plan.json", "--policy", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads((project / "plan.json").read_text())
    assert (doc["project"], doc["environment"]) == ("shop", "staging")
    names = {(r["type"], r["name"]) for r in doc["resources"]}
    assert {("microservices:network:Network", "core"), ("microservices:lambda:LambdaService", "thumbnails"),
            ("microservices:ecs:EcsService", "orders")} <= names


def test_readme_install_instruction_names_no_unpublished_release():
    # Either a tag with a changelog entry, or an instruction that needs none (a checkout or a commit).
    for ref in re.findall(r"microservice-components@(v[\w.]+)", README):
        changelog = ROOT / "CHANGELOG.md"
        assert changelog.is_file() and f"## {ref}" in changelog.read_text(), ref
    assert "pip install path/to/microservice-components" in README
