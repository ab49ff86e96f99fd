"""Markdown views of a plan and of a diff, fit for a pull-request comment, and a Mermaid diagram."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from typing import Any

from .diff import AFTER_REPLACEMENT, Change, PlanDiff

__all__ = ["MAX_COMMENT", "diff_markdown", "mermaid", "plan_markdown", "policy_markdown", "warnings_markdown"]

#: GitHub rejects comments over 65,536 characters; stay well under.
MAX_COMMENT = 60_000
SYMBOL = {"add": "+", "remove": "-", "update": "~", "replace": "+-"}
TITLE = {"add": "added", "remove": "removed", "update": "changed", "replace": "replaced"}


#: Values longer than this are shown in full under the table (a line diff for text), never cut.
INLINE_LIMIT = 120


def _text(value: Any) -> str:
    return "—" if value is None else (value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def _short(value: Any, limit: int = INLINE_LIMIT) -> str:
    text = _text(value).replace("|", "\\|").replace("\n", " ")
    return f"`{text[:limit]}{'…' if len(text) > limit else ''}`"


def _cell(value: Any) -> str:
    if value == AFTER_REPLACEMENT:
        return "_known after replacement_"
    return _short(value)


def _long_value(path: str, before: Any, after: Any) -> str:
    """A value too long for the table, in full: a unified diff of its lines (JSON pretty-printed)."""
    def lines(value: Any) -> list[str]:
        if value is None:
            return []
        return (value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True)).splitlines()
    diff = list(difflib.unified_diff(lines(before), lines(after), "before", "after", lineterm="", n=3))
    body = "\n".join(diff[2:] if diff else lines(after)).replace("```", "`\u200b``")
    return f"\n<details><summary><code>{path}</code> in full</summary>\n\n```diff\n{body}\n```\n\n</details>\n"


def _change_block(change: Change) -> str:
    head = f"<details><summary><code>{SYMBOL[change.kind]} {change.type}</code> <b>{change.name}</b>"
    if change.kind == "replace":
        head += f" (replaced: {', '.join(change.replace_reasons[:3])})"
    elif change.kind == "update":
        head += f" ({len(change.properties)} propert{'y' if len(change.properties) == 1 else 'ies'}"
        head += f"; inputs from the replacement of {', '.join(change.caused_by)})" if change.caused_by else ")"
    elif change.kind == "remove":
        head += " (deleted" + (": **protected**, `pulumi up` fails until `protect` is lifted" if change.protect else
                               ", but left in the cloud (retainOnDelete)" if change.retain_on_delete else "") + ")"
    head += "</summary>\n\n"
    if change.kind == "remove" or not change.properties:
        return head + f"`{change.urn}`\n\n</details>\n"
    rows = ["| property | before | after |", "|---|---|---|"]
    long_values = []
    for p, b, a in change.properties:
        rows.append(f"| `{p}` | {_cell(b)} | {_cell(a)} |")
        if max(len(_text(b)), len(_text(a))) > INLINE_LIMIT and a != AFTER_REPLACEMENT:
            long_values.append(_long_value(p, b, a))
    return head + "\n".join(rows) + "\n" + "".join(long_values) + "\n</details>\n"


def policy_markdown(results: list[dict[str, Any]] | None) -> str:
    if results is None:
        return ""
    if not results:
        return "#### Policy\n\nNo policy violations.\n"
    counts = Counter(r["enforcement"] for r in results)
    lines = [f"#### Policy: {counts.get('mandatory', 0)} mandatory, {counts.get('advisory', 0)} advisory",
             "", "| enforcement | rule | resource | message |", "|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r["enforcement"] != "mandatory", r["rule"], r["urn"])):
        lines.append(f"| {r['enforcement']} | `{r['rule']}` | `{r['type']}` {r['name']} | {_short(r['message'], 200)} |")
    return "\n".join(lines) + "\n"


def warnings_markdown(warnings: list[str] | None) -> list[str]:
    """The plan's warnings as Markdown lines (none when there are none)."""
    if not warnings:
        return []
    return [f"#### Warnings ({len(warnings)})", "", *(f"- :warning: `{w}`" for w in warnings), ""]


def _assemble(parts: list[str], blocks: list[str], tail: list[str], limit: int) -> str:
    text = "\n".join(parts) + "\n"
    budget = limit - len(text) - sum(len(t) for t in tail) - 200
    shown = 0
    for block in blocks:
        if len(block) > budget:
            break
        text += block
        budget -= len(block)
        shown += 1
    if shown < len(blocks):
        text += f"\n_…and {len(blocks) - shown} more resources not shown (the comment is limited to {limit:,} characters; " \
                "the full plan is in the job's artifacts)._\n"
    return text + "".join(tail)


def diff_markdown(diff: PlanDiff, *, policy: list[dict[str, Any]] | None = None, mermaid_text: str | None = None,
                  marker: str = "", limit: int = MAX_COMMENT, warnings: list[str] | None = None) -> str:
    """Summary first (added, changed, replaced, removed), then the warnings of the new plan, then each change
    with its properties."""
    parts = [marker, f"### Plan of stack `{diff.stack}`", ""] if marker else [f"### Plan of stack `{diff.stack}`", ""]
    parts += ["| added | changed | replaced | removed | unchanged |", "|---:|---:|---:|---:|---:|",
              f"| {diff.count('add')} | {diff.count('update')} | {diff.count('replace')} | {diff.count('remove')} "
              f"| {diff.unchanged} |", ""]
    if diff.empty:
        parts.append("No changes.")
    if warnings:
        parts += ["", *warnings_markdown(warnings)]
    order = {"replace": 0, "remove": 1, "update": 2, "add": 3}
    blocks = []
    for kind in sorted(order, key=order.get):
        group = [c for c in diff.changes if c.kind == kind]
        if group:
            blocks.append(f"\n#### {TITLE[kind].capitalize()} ({len(group)})\n\n")
            blocks.extend(_change_block(c) for c in group)
    tail = []
    if mermaid_text:
        tail.append(f"\n<details><summary>Diagram of what changed</summary>\n\n```mermaid\n{mermaid_text}```\n\n</details>\n")
    if policy is not None:
        tail.append("\n" + policy_markdown(policy))
    return _assemble(parts, blocks, tail, limit)


def plan_markdown(doc: dict[str, Any], *, policy: list[dict[str, Any]] | None = None, limit: int = MAX_COMMENT) -> str:
    counts = Counter(r["type"] for r in doc["resources"])
    parts = [f"### Plan of stack `{doc['stack']}` ({doc.get('environment') or 'no environment'})", "",
             f"{len(doc['resources'])} resources.", "", *warnings_markdown(doc.get("warnings")),
             "| type | count |", "|---|---:|"]
    parts += [f"| `{t}` | {n} |" for t, n in sorted(counts.items())]
    components = [r for r in doc["resources"] if not r["custom"]]
    by_parent: dict[str, list[dict[str, Any]]] = {}
    for r in doc["resources"]:
        if r.get("parent"):
            by_parent.setdefault(r["parent"], []).append(r)
    blocks = []
    for comp in components:
        kids = sorted(by_parent.get(comp["urn"], []), key=lambda r: (r["type"], r["name"]))
        rows = "\n".join(f"- `{k['type']}` {k['name']}{' (protected)' if k.get('protect') else ''}" for k in kids)
        blocks.append(f"\n<details><summary><code>{comp['type']}</code> <b>{comp['name']}</b> ({len(kids)} children)"
                      f"</summary>\n\n{rows}\n\n</details>\n")
    tail = ["\n" + policy_markdown(policy)] if policy is not None else []
    return _assemble(parts, blocks, tail, limit)


def mermaid(doc: dict[str, Any], diff: PlanDiff | None = None) -> str:
    """Components as nodes, nested by parent, with a dotted edge where one component's resources depend
    on another's. With ``diff``, only what changed: the components holding changes (coloured as added,
    changed, replaced or removed) and the components they sit in."""
    resources = {r["urn"]: r for r in doc["resources"]}
    components = {u: r for u, r in resources.items() if not r["custom"]}

    def owner(urn: str | None) -> str | None:
        while urn is not None and urn not in components:
            urn = resources.get(urn, {}).get("parent")
        return urn

    labels = {u: (r["name"], r["type"]) for u, r in components.items()}
    status: dict[str, str] = {}
    if diff is not None:
        rank = {"update": 1, "add": 2, "remove": 2, "replace": 3}
        for change in diff.changes:
            if change.kind == "remove" and change.urn not in resources:
                if change.custom:
                    continue
                target = change.urn
                labels[target] = (change.name, change.type)
            else:
                target = change.urn if change.urn in components else owner(resources.get(change.urn, {}).get("parent"))
            if target is not None and rank[change.kind] > rank.get(status.get(target, ""), 0):
                status[target] = change.kind
        shown = set(status)
        for urn in list(status):
            parent = resources.get(urn, {}).get("parent")
            while parent in components:
                shown.add(parent)
                parent = components[parent].get("parent")
    else:
        shown = set(components)
    ids = {urn: f"c{i}" for i, urn in enumerate(sorted(shown))}
    lines = ["flowchart LR"]
    if not shown:
        lines.append('  c0["no changes"]')
    for urn in sorted(shown):
        name, type_ = labels[urn]
        lines.append(f'  {ids[urn]}["{name}<br/><small>{type_}</small>"]')
    for urn in sorted(shown):
        parent = resources.get(urn, {}).get("parent")
        if parent in ids:
            lines.append(f"  {ids[parent]} --- {ids[urn]}")
    edges = set()
    for urn, r in resources.items():
        src = owner(urn)
        for dep in r.get("dependencies", []):
            dst = owner(dep)
            if src in ids and dst in ids and src != dst and resources[src].get("parent") != dst \
                    and resources[dst].get("parent") != src:
                edges.add((src, dst))
    for src, dst in sorted(edges):
        lines.append(f"  {ids[src]} -.->|uses| {ids[dst]}")
    if status:
        lines += ["  classDef add fill:#d4f8d4,stroke:#2a2", "  classDef update fill:#fff3c4,stroke:#b90",
                  "  classDef replace fill:#ffd8b0,stroke:#d60", "  classDef remove fill:#ffd4d4,stroke:#c22"]
        for urn, kind in sorted(status.items()):
            lines.append(f"  class {ids[urn]} {kind}")
    return "\n".join(lines) + "\n"
