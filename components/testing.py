"""Test your own Pulumi program, or one component, offline: run it under Pulumi's mock runtime and assert
on what it registered. No cloud account, no Pulumi CLI. With pytest::

    from microservice_components.testing import run_stack, policy_violations

    def test_prod_protects_the_orders_queue():
        graph = run_stack("prod", "path/to/project")          # Pulumi.yaml + its stack file Pulumi.prod.yaml
        queue = graph.one("aws:sqs/queue:Queue", "orders-queue")
        assert queue.protect
        assert not policy_violations(graph)

    def test_function_is_traced():
        graph = run_component(lambda: LambdaService("fn", {"code": "services/fn"}), environment="prod")
        assert graph.one("aws:lambda/function:Function").get("tracingConfig.mode") == "Active"

A :class:`~.plan.runtime.Graph` holds every registration sorted by URN: ``graph.one(type, name)``,
``of_type``, ``named``, ``children``, ``descendants``; each :class:`~.plan.runtime.Recorded` has ``inputs``
exactly as the engine receives them (camelCase keys, secrets as ``"[secret]"``), its options (``protect``,
``parent``, ``provider``, ``dependencies``) and, for components, the registered ``outputs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .tools.plan.runtime import Graph, Recorded, run
from .tools.policy import CONFIG_NAMESPACE, PolicyResult, evaluate, stack_environment
from .validation import CatalogError

__all__ = ["CatalogError", "Graph", "Recorded", "catalog_problems", "policy_violations", "run_component",
           "run_stack", "stack_config"]


def stack_config(stack: str, directory: Path | str = ".") -> dict[str, Any]:
    """The configuration ``pulumi up`` would give the program of the project in ``directory`` on stack
    ``stack``: ``Pulumi.yaml``'s config, then the stack file found through its ``stackConfigDir``, with full
    keys (``aws:region``, ``microservices:services``); ``secure:`` values become ``"[secret]"``."""
    from .tools.plan.project import load_project
    return dict(load_project(directory, stack).config)


def run_stack(stack: str, directory: Path | str = ".", *,
              stack_references: Mapping[str, Mapping[str, Any]] | None = None) -> Graph:
    """Run the program of the Pulumi project in ``directory`` (default: the current directory) with the
    configuration of stack ``stack``, from that directory, as ``pulumi up`` would; return what it registered.

    The graph's ``environment`` is the stack's ``microservices:environment`` (whatever the project is called),
    else the stack name's last segment, as the policy pack decides it. Raises
    :class:`~.plan.project.ProjectError` when the project or the stack file is missing, and the program's own
    exception otherwise (:class:`CatalogError`, with every problem, for an invalid catalog).
    ``stack_references`` gives the outputs of the stacks the program reads with ``pulumi.StackReference``
    (stack name -> outputs). Default: none (``get_output`` gives ``None``, ``require_output`` fails)."""
    from .tools.plan.__main__ import project_environment, run_project
    from .tools.plan.project import load_project
    project = load_project(directory, stack)
    graph = run_project(project, {k: dict(v) for k, v in (stack_references or {}).items()})
    graph.environment = project_environment(project)
    return graph


def run_component(program: Callable[[], Any], *, environment: str = "dev", config: Mapping[str, Any] | None = None,
                  stack: str | None = None, project: str = "microservices", project_dir: Path | str | None = None,
                  stack_references: Mapping[str, Mapping[str, Any]] | None = None) -> Graph:
    """Run ``program`` (a function that creates components or resources) under mocks with the stack
    configuration ``{"microservices:environment": environment, "aws:region": "us-east-1", **config}``.
    ``stack`` defaults to ``environment``; relative paths (``code``, build contexts) resolve from the
    current directory, and ``project_dir`` (default: none) only shortens recorded source paths.
    ``stack_references``: as for :func:`run_stack`. Default: none."""
    cfg = {f"{CONFIG_NAMESPACE}:environment": environment, "aws:region": "us-east-1", **(config or {})}
    graph = run(program, config=cfg, project=project, stack=stack or environment, project_dir=project_dir,
                stack_references=stack_references)
    graph.environment = environment
    return graph


def policy_violations(graph: Graph, *, environment: str | None = None, mandatory_only: bool = True) -> list[PolicyResult]:
    """The policy pack's violations by ``graph``'s resources, judged as ``environment`` (default: the graph's
    own, see :func:`run_stack`); only the mandatory ones unless ``mandatory_only=False``."""
    env = environment if environment is not None else getattr(graph, "environment", None) \
        or stack_environment(None, graph.stack)
    results = evaluate(graph.resources, env)
    return [r for r in results if r.enforcement == "mandatory"] if mandatory_only else results


def catalog_problems(program: Callable[[], Any], *, environment: str = "dev") -> list[str]:
    """The problems ``program`` reports as a :class:`CatalogError` (each ``path: message``) when run under
    mocks as :func:`run_component` runs it; an empty list when it raises none. Validation runs before any
    resource is registered, so an invalid component registers nothing."""
    try:
        run_component(program, environment=environment)
    except CatalogError as err:
        return [str(p) for p in err.problems]
    return []
