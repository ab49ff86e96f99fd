"""Shared fixtures: run a program or a component under Pulumi's mock runtime and get the recorded graph."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.tools.plan.runtime import Graph
from components.testing import run_component
from components.validation import CatalogError

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=ResourceWarning)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project_dir() -> Path:
    """The reference project (this repository)."""
    return ROOT


@pytest.fixture
def plan() -> Callable[..., Graph]:
    """``plan(lambda: Component(...), environment="prod", config={...})`` -> the recorded :class:`Graph`
    (:func:`components.testing.run_component`, with this repository as ``project_dir``).

    GIVEN args / WHEN the program runs under mocks / THEN assert on the returned graph, which
    is only handed back after every registration has finished.
    """

    def _plan(program: Callable[[], Any], environment: str = "dev", config: dict[str, Any] | None = None,
              **kwargs: Any) -> Graph:
        kwargs.setdefault("project_dir", ROOT)
        return run_component(program, environment=environment, config=config, **kwargs)

    return _plan


STACKS = tuple(sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")))
_STACK_PLANS: dict[str, dict[str, Any]] = {}


def stack_plan(stack: str) -> dict[str, Any]:
    """The plan document of a reference stack, computed once per test process."""
    if stack not in _STACK_PLANS:
        from components.tools.plan.document import plan_document
        from components.testing import run_stack
        graph = run_stack(stack, ROOT)
        _STACK_PLANS[stack] = plan_document(graph, graph.environment)
    return _STACK_PLANS[stack]


def problems_of(fn: Callable[[], Any]) -> list[str]:
    """The problem lines of the CatalogError ``fn`` raises (fails the test if it raises none)."""
    with pytest.raises(CatalogError) as info:
        fn()
    return [str(p) for p in info.value.problems]


def assert_problem(fn: Callable[[], Any], *fragments: str) -> list[str]:
    """``fn`` raises a CatalogError with a problem containing every fragment; returns all problems."""
    lines = problems_of(fn)
    assert any(all(f in line for f in fragments) for line in lines), \
        f"no problem contains {fragments!r}; problems were:\n" + "\n".join(lines)
    return lines


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """What `pip install .` puts in site-packages, built from a copy of the sources (so the build leaves
    nothing in the checkout) and installed with --target, without touching the shared virtualenv."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "components", src / "components", ignore=shutil.ignore_patterns("__pycache__"))
    site = work / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--disable-pip-version-check",
                           "--target", str(site), str(src)], capture_output=True, text=True)
    offline = r"(?i)no matching distribution found for setuptools|network is unreachable|name resolution|connection"
    if proc.returncode != 0 and re.search(offline, proc.stderr):
        pytest.skip(f"building the wheel needs setuptools from the package index: {proc.stderr[-500:]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site


def in_project(project: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Python in a scratch project as its own program would: its folder first on sys.path, the
    installed library on the path, this repository nowhere."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_CURRENT_TEST")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300)
