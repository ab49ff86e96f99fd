"""The plan as a JSON document, and its text views (tree and summary)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .runtime import Graph, Recorded

__all__ = ["plan_document", "dumps", "tree_lines", "summary_lines", "resource_entry", "warning_lines"]


def resource_entry(r: Recorded) -> dict[str, Any]:
    return {
        "urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent, "custom": r.custom,
        "provider": r.provider, "protect": r.protect, "retainOnDelete": r.retain_on_delete,
        "deleteBeforeReplace": r.delete_before_replace, "dependencies": r.dependencies,
        "propertyDependencies": r.property_dependencies, "inputs": r.inputs, "source": r.source,
        **({"replaceOnChanges": r.replace_on_changes} if r.replace_on_changes else {}),
        **({"ignoreChanges": r.ignore_changes} if r.ignore_changes else {}),
        **({"aliases": r.aliases} if r.aliases else {}),
        **({"outputs": r.outputs} if not r.custom and r.outputs else {}),
    }


def plan_document(graph: Graph, environment: str | None, policy: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "project": graph.project, "stack": graph.stack, "environment": environment,
        "resources": [resource_entry(r) for r in graph.resources], "outputs": graph.outputs,
    }
    if graph.warnings:
        doc["warnings"] = list(graph.warnings)
    if policy is not None:
        doc["policy"] = policy
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """Byte-identical for identical plans: sorted keys, fixed indentation, trailing newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _children_index(resources: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    index: dict[str | None, list[dict[str, Any]]] = {}
    for r in resources:
        index.setdefault(r.get("parent"), []).append(r)
    for kids in index.values():
        kids.sort(key=lambda r: (r["custom"], r["type"], r["name"]))
    return index


def tree_lines(doc: dict[str, Any], marks: dict[str, str] | None = None) -> list[str]:
    """Components, then their children, indented; ``marks`` maps URN -> a one-character status."""
    index = _children_index(doc["resources"])
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in index.get(parent, []):
            mark = (marks or {}).get(r["urn"], " ") if marks is not None else ""
            prefix = f"{mark} " if marks is not None else ""
            flags = " [protected]" if r.get("protect") else ""
            lines.append(f"{prefix}{'  ' * depth}{r['type']}  {r['name']}{flags}")
            walk(r["urn"], depth + 1)

    walk(None, 0)
    return lines


def summary_lines(doc: dict[str, Any]) -> list[str]:
    counts = Counter(r["type"] for r in doc["resources"])
    width = max((len(t) for t in counts), default=10)
    lines = [f"  {t.ljust(width)}  {n}" for t, n in sorted(counts.items())]
    custom = sum(1 for r in doc["resources"] if r["custom"])
    lines.append(f"  {'total'.ljust(width)}  {len(doc['resources'])} ({custom} cloud resources, "
                 f"{len(doc['resources']) - custom} components)")
    return lines


def warning_lines(doc: dict[str, Any]) -> list[str]:
    """The plan's warnings (``doc["warnings"]``, what the program logged with ``pulumi.log.warn``), as text."""
    warnings = doc.get("warnings") or []
    return [f"\nWarnings ({len(warnings)}):", *(f"  warning: {w}" for w in warnings)] if warnings else []
