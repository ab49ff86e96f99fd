"""``python -m components.plan``: what ``pulumi up`` would create, offline, for any Pulumi Python program.

Exit codes: 0 planned; 1 the program or project failed; 2 the catalog is invalid (every problem listed);
3 a mandatory policy was violated (with ``--policy``); 4 AWS's resource schemas reject a planned resource
(with ``--lint``: cfn-lint findings, listed).
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

from ..validation import CatalogError
from .diff import diff_plans
from .document import dumps, plan_document, summary_lines, tree_lines
from .k8s import write_manifests
from .markdown import diff_markdown, mermaid, plan_markdown
from .project import Project, ProjectError, load_project
from .runtime import Graph, run

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_POLICY = 0, 1, 2, 3
EXIT_LINT = 4


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m components.plan",
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
                        help="check every AWS resource against AWS's resource schemas (cfn-lint); exit 4 on a finding")
    parser.add_argument("--marker", default="", help="a hidden line to start the Markdown with (to find a PR comment again)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the summary")
    parser.add_argument("--traceback", action="store_true", help="print the full traceback of a failure")
    return parser.parse_args(argv)


def run_project(project: Project) -> Graph:
    """Run the project's program with its stack config, from its directory, as ``pulumi up`` would."""
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(project.directory)
    sys.path.insert(0, str(project.directory))
    try:
        return run(lambda: runpy.run_path(str(project.main), run_name="__main__"), config=project.config,
                   secret_keys=project.secret_keys, project=project.name, stack=project.stack,
                   project_dir=project.directory)
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def evaluate_policy(graph: Graph, environment: str | None) -> list[dict[str, Any]]:
    from .. import policy
    results = policy.evaluate(graph.resources, environment)
    return [{"rule": r.rule, "description": r.description, "enforcement": r.enforcement, "severity": r.severity,
             "urn": r.urn, "type": r.type, "name": r.name, "message": r.message}
            for r in sorted(results, key=lambda r: (r.rule, r.urn, r.message))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=ResourceWarning)
    try:
        project = load_project(args.dir, args.stack)
        graph = run_project(project)
    except CatalogError as err:
        print(f"error: stack {args.stack!r}: {err}", file=sys.stderr)
        return EXIT_INVALID
    except (ProjectError, Exception) as err:  # noqa: BLE001 - any failure of the user's program is reported, not raised
        if args.traceback:
            import traceback
            traceback.print_exc()
        print(f"error: stack {args.stack!r}: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED

    environment = project.config.get(f"{project.name}:environment")
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
        Path(args.json).write_text(dumps(doc))

    diff = None
    if args.diff:
        try:
            base = json.loads(Path(args.diff).read_text())
        except (OSError, json.JSONDecodeError) as err:
            print(f"error: --diff {args.diff}: {err}", file=sys.stderr)
            return EXIT_FAILED
        diff = diff_plans(base, doc)

    diagram = mermaid(doc, diff) if (args.mermaid or (diff is not None and args.markdown)) else None
    if args.mermaid:
        Path(args.mermaid).write_text(diagram)
    if args.markdown:
        text = diff_markdown(diff, policy=policy, mermaid_text=diagram, marker=args.marker) if diff is not None \
            else plan_markdown(doc, policy=policy)
        if diff is None and args.marker:
            text = f"{args.marker}\n{text}"
        if lint is not None:
            from .lint import coverage, findings_markdown
            text += "\n" + findings_markdown(lint, coverage(doc))
        Path(args.markdown).write_text(text)
    if args.k8s_dir:
        write_manifests(doc, args.k8s_dir)

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


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the SDK leaves per-thread event loops whose finalizers print noise at exit.
    os._exit(code)
