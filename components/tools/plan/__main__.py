"""``python -m components.plan`` (``components/plan.py`` launches this module): what ``pulumi up`` would
create, offline, for any Pulumi Python program.

Exit codes: 0 planned; 1 the program or project failed, or a file could not be read or written; 2 the
catalog is invalid (every problem listed); 3 a mandatory policy was violated (with ``--policy``); 4 the
command line is wrong (an unknown option, a missing ``--stack``); 5 AWS's resource schemas reject a planned
resource (with ``--lint``: cfn-lint findings, listed). Every failure ends in one ``error:`` line.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import warnings
from pathlib import Path
from typing import Any

from ...validation import CatalogError
from .diff import diff_plans
from .document import dumps, plan_document, summary_lines, tree_lines, warning_lines
from .k8s import write_manifests
from .markdown import diff_markdown, mermaid, plan_markdown
from .project import Project, ProjectError, load_project
from .runtime import Graph, run

#: The documented command, ``python -m components.plan`` (``microservice_components.plan`` installed):
#: ``components/plan.py`` launches :func:`cli`.
COMMAND = f"python -m {(__package__ or 'components.tools.plan').rsplit('.', 2)[0]}.plan"

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_POLICY, EXIT_USAGE, EXIT_LINT = 0, 1, 2, 3, 4, 5


class UsageError(Exception):
    """The command line is wrong."""


class OutputError(Exception):
    """A file named on the command line could not be read or written."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        # argparse would exit 2, the code of an invalid catalog: keep the codes distinct.
        raise UsageError(message)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog=COMMAND,
        description="Plan a Pulumi Python program offline under Pulumi's mock runtime: no cloud account, no CLI.")
    parser.add_argument("--stack", required=True, help="stack name; its config is Pulumi.<stack>.yaml in stackConfigDir")
    parser.add_argument("--dir", default=".", help="project directory holding Pulumi.yaml (default: .)")
    parser.add_argument("--json", metavar="FILE", help="write the plan as JSON (byte-identical across runs)")
    parser.add_argument("--diff", metavar="BASE_JSON", help="compare with an earlier plan's JSON")
    parser.add_argument("--markdown", metavar="FILE", help="write the plan, or with --diff the diff, as Markdown")
    parser.add_argument("--mermaid", metavar="FILE", help="write a Mermaid diagram of the components and their relations")
    parser.add_argument("--k8s-dir", metavar="DIR", help="write every Kubernetes object as a YAML manifest")
    parser.add_argument("--policy", action="store_true", help="check the policy pack's rules; exit 3 on a mandatory violation")
    parser.add_argument("--lint", action="store_true",
                        help="check every AWS resource against AWS's resource schemas (cfn-lint); exit 5 on a finding")
    parser.add_argument("--marker", default="", help="a hidden line to start the Markdown with (to find a PR comment again)")
    parser.add_argument("--stack-reference", action="append", default=[], metavar="STACK=PLAN_JSON",
                        help="outputs for pulumi.StackReference(STACK): those of a plan written by --json (repeatable)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the summary")
    parser.add_argument("--traceback", action="store_true", help="print the full traceback of a failure")
    return parser.parse_args(argv)


def run_project(project: Project, stack_references: dict[str, dict[str, Any]] | None = None) -> Graph:
    """Run the project's program with its stack config, from its directory, as ``pulumi up`` would."""
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(project.directory)
    sys.path.insert(0, str(project.directory))
    try:
        return run(lambda: _run_main(project.main), config=project.config,
                   secret_keys=project.secret_keys, project=project.name, stack=project.stack,
                   project_dir=project.directory, stack_references=stack_references)
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def _run_main(main: Path) -> None:
    try:
        runpy.run_path(str(main), run_name="__main__")
    except SystemExit as exit_:
        # A program that calls sys.exit() under the mock runtime has failed, not finished the planner.
        raise RuntimeError(f"the program exited (sys.exit({exit_.code!r}))") from exit_


def project_environment(project: Project) -> str | None:
    """The stack's environment: ``microservices:environment`` (the components' namespace, whatever the
    project is called), else the stack name's last segment, as the policy pack decides it."""
    from ..policy import CONFIG_NAMESPACE, stack_environment
    return stack_environment(project.config.get(f"{CONFIG_NAMESPACE}:environment"), project.stack)


def evaluate_policy(graph: Graph, environment: str | None) -> list[dict[str, Any]]:
    from .. import policy
    results = policy.evaluate(graph.resources, environment)
    return [{"rule": r.rule, "description": r.description, "enforcement": r.enforcement, "severity": r.severity,
             "urn": r.urn, "type": r.type, "name": r.name, "message": r.message}
            for r in sorted(results, key=lambda r: (r.rule, r.urn, r.message))]


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as err:
        print(f"error: {err} ({COMMAND} --help lists the options)", file=sys.stderr)
        return EXIT_USAGE
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=ResourceWarning)
    try:
        references = stack_references(args.stack_reference)
    except (UsageError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE if isinstance(err, UsageError) else EXIT_FAILED
    try:
        project = load_project(args.dir, args.stack)
        graph = run_project(project, references)
    except CatalogError as err:
        print(f"error: stack {args.stack!r}: {err}", file=sys.stderr)
        return EXIT_INVALID
    except (ProjectError, Exception) as err:  # noqa: BLE001 - any failure of the user's program is reported, not raised
        if args.traceback:
            import traceback
            traceback.print_exc()
        print(f"error: stack {args.stack!r}: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    try:
        return _report(args, project, graph)
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED


def stack_references(values: list[str]) -> dict[str, dict[str, Any]]:
    """``STACK=PLAN_JSON`` pairs -> each referenced stack's outputs, read from its plan."""
    out: dict[str, dict[str, Any]] = {}
    for value in values:
        stack, sep, path = value.partition("=")
        if not sep or not stack or not path:
            raise UsageError(f"--stack-reference {value}: expected STACK=PLAN_JSON, e.g. acme/platform/prod=platform.json")
        outputs = read_plan(path, f"--stack-reference {stack}").get("outputs")
        out[stack] = outputs if isinstance(outputs, dict) else {}
    return out


def read_plan(path: str, option: str) -> dict[str, Any]:
    """A plan JSON written by ``--json``; :class:`OutputError` naming the option when it is not one."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OutputError(f"{option} {path}: {_reason(err)}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list) \
            or not all(isinstance(r, dict) and {"urn", "type", "name"} <= set(r) for r in doc["resources"]):
        raise OutputError(f"{option} {path}: not a plan written by --json (expected an object with 'resources')")
    return doc


def write_text(path: str, text: str, option: str) -> None:
    """Write an output file, creating its folder; :class:`OutputError` naming the option on failure."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as err:
        raise OutputError(f"{option} {path}: {_reason(err)}") from err


def _reason(err: Exception) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err)


def _report(args: argparse.Namespace, project: Project, graph: Graph) -> int:
    environment = project_environment(project)
    policy = evaluate_policy(graph, environment) if args.policy else None
    doc = plan_document(graph, environment, policy)
    lint = None
    if args.lint:
        from .lint import LintUnavailable, lint_plan
        try:
            lint = lint_plan(doc, str(project.config.get("aws:region", "us-east-1")))
        except LintUnavailable as err:
            print(f"error: --lint: {err}", file=sys.stderr)
            return EXIT_FAILED
        doc["lint"] = [f.as_dict() for f in lint]
    if args.json:
        write_text(args.json, dumps(doc), "--json")

    diff = diff_plans(read_plan(args.diff, "--diff"), doc) if args.diff else None

    diagram = mermaid(doc, diff) if (args.mermaid or (diff is not None and args.markdown)) else None
    if args.mermaid:
        write_text(args.mermaid, diagram, "--mermaid")
    if args.markdown:
        text = diff_markdown(diff, policy=policy, mermaid_text=diagram, marker=args.marker,
                             warnings=doc.get("warnings")) if diff is not None \
            else plan_markdown(doc, policy=policy)
        if diff is None and args.marker:
            text = f"{args.marker}\n{text}"
        if lint is not None:
            from .lint import coverage, findings_markdown
            text += "\n" + findings_markdown(lint, coverage(doc))
        write_text(args.markdown, text, "--markdown")
    if args.k8s_dir:
        try:
            write_manifests(doc, args.k8s_dir)
        except OSError as err:
            raise OutputError(f"--k8s-dir {args.k8s_dir}: {_reason(err)}") from err

    _print_report(doc, diff, policy, quiet=args.quiet)
    if lint is not None:
        from .lint import coverage
        checked, total = coverage(doc)
        print(f"\nAWS schema check (cfn-lint): {checked} of {total} AWS resources checked, {len(lint)} findings.")
        for f in lint:
            print(f"  {f}")
    if policy and any(r["enforcement"] == "mandatory" for r in policy):
        return EXIT_POLICY
    if lint:
        return EXIT_LINT
    return EXIT_OK


def _print_report(doc: dict[str, Any], diff, policy, *, quiet: bool) -> None:
    out = sys.stdout
    if diff is not None:
        marks = {c.urn: {"add": "+", "remove": "-", "update": "~", "replace": "±"}[c.kind] for c in diff.changes}
        if not quiet:
            for line in tree_lines(doc, marks):
                print(line, file=out)
            for c in diff.changes:
                if c.kind == "remove":
                    print(f"- {c.type}  {c.name}  (removed)", file=out)
        print(f"\nDiff of stack {doc['stack']}: {diff.count('add')} to add, {diff.count('update')} to change, "
              f"{diff.count('replace')} to replace, {diff.count('remove')} to remove, {diff.unchanged} unchanged.",
              file=out)
    else:
        if not quiet:
            for line in tree_lines(doc):
                print(line, file=out)
        print(f"\nPlan of stack {doc['stack']} ({doc.get('environment') or 'no environment'}):", file=out)
        for line in summary_lines(doc):
            print(line, file=out)
    for line in warning_lines(doc):
        print(line, file=out)
    skipped = doc.get("outputs", {}).get("skipped")
    if isinstance(skipped, dict) and skipped:
        print("\nSkipped in this environment:", file=out)
        for name, reason in sorted(skipped.items()):
            print(f"  {name}: {reason}", file=out)
    if policy is not None:
        mandatory = sum(1 for r in policy if r["enforcement"] == "mandatory")
        print(f"\nPolicy: {mandatory} mandatory and {len(policy) - mandatory} advisory violations.", file=out)
        for r in policy:
            print(f"  [{r['enforcement']}] {r['rule']}: {r['type']} {r['name']}: {r['message']}", file=out)


def cli() -> None:
    """Run the command line and exit with :func:`main`'s code."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the SDK leaves per-thread event loops whose finalizers print noise at exit.
    os._exit(code)


if __name__ == "__main__":
    cli()
