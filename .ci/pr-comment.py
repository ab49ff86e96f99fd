#!/usr/bin/env python3
"""The offline preview of a pull request: plan the base, then one comment for every stack, in sections.

    python .ci/pr-comment.py base --stack dev --out .plan/base.json          # run inside the base checkout
    python .ci/pr-comment.py section --stack dev --body .plan/comment.md --status 0 --log .plan/errors.log \
        --out .plan/sections                                                  # after planning the head
    python .ci/pr-comment.py body --sections .plan/sections --stacks dev,staging,prod,local
    python .ci/pr-comment.py post --sections .plan/sections --stacks dev,staging,prod,local --repo OWNER/NAME --pr 42

Each stack's plan job writes its ``section`` (the plan's Markdown, or the redacted error of a failed plan, with
its exit status); one job then combines every section into **one comment per pull request**: a table of every
stack's result first, then each stack's section. ``body`` prints what ``post`` would write, so the whole flow
runs locally. ``post`` finds the comment it wrote before by a hidden marker (``<!-- microservices-plan -->``)
and edits it, and deletes the per-stack comments of earlier versions. With the read-only token of a pull
request from a fork it cannot comment: it warns and writes the body to the job summary instead. Standard
library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

#: GitHub rejects comment bodies over 65,536 characters.
MAX_BODY = 65_000
LOG_TAIL = 12_000
STATUS_TEXT = {
    0: "no mandatory policy violation",
    3: "**mandatory policy violations**: the check fails until they are fixed",
    5: "no mandatory policy violation, but **AWS schema findings** (cfn-lint): the check fails until they are fixed",
}
#: Credentials that must never reach a comment, whatever a failing program printed.
SECRET_PATTERNS = [
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"),
    re.compile(r"\bpul-[0-9a-f]{40}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
]
#: In a failed program's output, also anything printed as ``password=...`` or ``token: ...``.
LOG_ASSIGNMENT = re.compile(r"(?i)\b(\w*(?:secret|password|passphrase|token)\w*)(\s*[=:]\s*)(\S+)")


MARKER = "<!-- microservices-plan -->"
#: The stacks' order in the comment; other stacks follow, sorted.
STACK_ORDER = ("dev", "staging", "prod", "local")
SUMMARY_ROW = re.compile(r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", re.M)


def marker(stack: str) -> str:
    """The marker of the per-stack comments earlier versions wrote (found again to delete them)."""
    return f"<!-- microservices-plan:{stack} -->"


def plan_module() -> str:
    """The planner: this repository's ``components.plan``, else the installed library's."""
    if os.environ.get("PLAN_MODULE"):
        return os.environ["PLAN_MODULE"]
    # A base checked out from before the tools moved has components/plan/__main__.py instead.
    here = Path("components/plan.py").is_file() or Path("components/plan/__main__.py").is_file()
    return "components.plan" if here else "microservice_components.plan"


def redact(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


def redact_log(text: str) -> str:
    return LOG_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", redact(text))


def empty_plan(stack: str) -> dict:
    return {"project": None, "stack": stack, "environment": None, "resources": [], "outputs": {}}


def plan_base(stack: str, out: Path) -> int:
    """Plan the current directory (the base checkout); an empty plan when the base cannot be planned,
    so a pull request that introduces the project or a new stack still gets a diff."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not Path(f"stacks/Pulumi.{stack}.yaml").is_file() and not Path(f"Pulumi.{stack}.yaml").is_file():
        print(f"the base has no stack {stack!r}: diffing against an empty plan")
        out.write_text(json.dumps(empty_plan(stack)))
        return 0
    proc = subprocess.run([sys.executable, "-m", plan_module(), "--stack", stack, "--json", str(out), "--quiet"],
                          capture_output=True, text=True)
    print(redact_log(proc.stdout))
    if proc.returncode not in (0, 3) or not out.is_file():
        print(f"::warning::the base of stack {stack} could not be planned (exit {proc.returncode}); "
              f"diffing against an empty plan\n{redact_log(proc.stderr)[-LOG_TAIL:]}")
        out.write_text(json.dumps(empty_plan(stack)))
    return 0


def build_section(stack: str, body_file: Path | None, status: int, log_file: Path | None = None) -> dict:
    """One stack's part of the comment: its plan's Markdown (or the redacted log of a failed plan), its
    exit status and its counts (added, changed, replaced, removed, unchanged) when it diffed."""
    text = body_file.read_text() if body_file is not None and body_file.is_file() else ""
    counts = None
    if status in STATUS_TEXT and text.strip():
        content = re.sub(r"^<!-- microservices-plan(:[^>]*)? -->\n", "", text).lstrip("\n")
        row = SUMMARY_ROW.search(content)
        counts = [int(n) for n in row.groups()] if row else None
    elif status in STATUS_TEXT:
        content = f"### Plan of stack `{stack}`\n\n:x: the plan wrote no Markdown to show.\n"
    else:
        log = redact_log(log_file.read_text()) if log_file is not None and log_file.is_file() else ""
        reason = {2: "the stack's catalog is invalid", 4: "the plan's command line is wrong"}.get(
            status, "the program failed under the mock runtime")
        content = (f"### Plan of stack `{stack}` failed\n\n:x: {reason} (exit {status}); nothing could be planned.\n\n"
                   f"```text\n{log[-LOG_TAIL:].strip() or '(no output)'}\n```\n")
    return {"stack": stack, "status": status, "counts": counts, "markdown": redact(content.rstrip() + "\n")}


def write_section(section: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{section['stack']}.json"
    path.write_text(json.dumps(section, indent=2, sort_keys=True) + "\n")
    return path


def read_sections(directory: Path | None) -> dict[str, dict]:
    sections = {}
    for path in sorted(directory.glob("*.json")) if directory is not None and directory.is_dir() else []:
        try:
            section = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(section, dict) and isinstance(section.get("stack"), str):
            sections[section["stack"]] = section
    return sections


def _ordered(stacks: list[str]) -> list[str]:
    known = [s for s in STACK_ORDER if s in stacks]
    return known + sorted(s for s in set(stacks) if s not in STACK_ORDER)


def _result(section: dict | None) -> str:
    if section is None:
        return ":x: no result: the job failed before planning (see its log)"
    status = section["status"]
    if status == 0:
        return ":white_check_mark: " + STATUS_TEXT[0]
    if status == 3:
        return ":x: mandatory policy violations"
    if status == 5:
        return ":x: AWS schema findings (cfn-lint)"
    return f":x: the plan failed (exit {status})"


def _fit(markdown: str, budget: int) -> str:
    """A section cut to ``budget`` characters at a resource boundary, saying so."""
    if len(markdown) <= budget:
        return markdown
    note = "\n_…cut to fit one comment for every stack; the full plan is in the job's artifacts._\n"
    cut = markdown.rfind("\n<details>", 0, max(0, budget - len(note)))
    cut = cut if cut > 0 else max(0, budget - len(note))
    return markdown[:cut] + note


def build_body(sections: dict[str, dict], stacks: list[str] | None = None, sha: str | None = None) -> str:
    """One comment: every stack's result in a table, then each stack's section, within GitHub's limit."""
    names = _ordered(list(stacks or []) + list(sections))
    rows = ["| stack | result | added | changed | replaced | removed |", "|---|---|---:|---:|---:|---:|"]
    for name in names:
        section = sections.get(name)
        counts = (section or {}).get("counts") or []
        cells = [str(n) for n in counts[:4]] if len(counts) >= 4 else ["", "", "", ""]
        rows.append(f"| `{name}` | {_result(section)} | " + " | ".join(cells) + " |")
    head = f"{MARKER}\n## Offline plan of this pull request\n\n" + "\n".join(rows) + "\n"
    footer = (f"\n---\n<sub>Offline plan under Pulumi's mock runtime{f' of {sha[:12]}' if sha else ''}: "
              "no cloud account was used. This comment is updated on every push.</sub>\n")
    present = [n for n in names if n in sections]
    budget = (MAX_BODY - len(head) - len(footer) - 200) // max(1, len(present))
    parts = [head]
    for name in present:
        parts.append("\n" + _fit(sections[name]["markdown"], budget))
    return redact("".join(parts) + footer)


class GitHub:
    def __init__(self, token: str, repo: str, api: str = "https://api.github.com"):
        self.token, self.repo, self.api = token, repo, api.rstrip("/")

    def request(self, method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(f"{self.api}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "microservices-plan-comment",
            **({"Content-Type": "application/json"} if data is not None else {})})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def bot_comments(self, pr: int) -> list[dict]:
        """The pull request's comments written by a bot (this workflow's token); people's are never touched."""
        found, page = [], 1
        while True:
            comments = self.request("GET", f"/repos/{self.repo}/issues/{pr}/comments?per_page=100&page={page}")
            found += [c for c in comments if (c.get("user") or {}).get("type") == "Bot"]
            if len(comments) < 100:
                return found
            page += 1

    def upsert(self, pr: int, body: str) -> str:
        """Edit the comment that carries the marker, or create it; delete the per-stack comments of earlier
        versions of this workflow."""
        comments = self.bot_comments(pr)
        existing = next((c["id"] for c in comments if (c.get("body") or "").startswith(MARKER)), None)
        for c in comments:
            if re.match(r"<!-- microservices-plan:[^>]+ -->", c.get("body") or ""):
                self.request("DELETE", f"/repos/{self.repo}/issues/comments/{c['id']}")
        if existing is not None:
            self.request("PATCH", f"/repos/{self.repo}/issues/comments/{existing}", {"body": body})
            return f"edited comment {existing}"
        created = self.request("POST", f"/repos/{self.repo}/issues/{pr}/comments", {"body": body})
        return f"created comment {created['id']}"


def write_summary(body: str) -> None:
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(body + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pr-comment.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    base = sub.add_parser("base", help="plan the base checkout (the current directory) as JSON")
    base.add_argument("--stack", required=True)
    base.add_argument("--out", required=True, type=Path)
    section = sub.add_parser("section", help="write one stack's section of the comment")
    section.add_argument("--stack", required=True)
    section.add_argument("--body", type=Path, help="the Markdown the plan wrote (--markdown)")
    section.add_argument("--status", type=int, default=0, help="the plan's exit code (0 to 5)")
    section.add_argument("--log", type=Path, help="the plan's stderr, shown when it failed")
    section.add_argument("--out", required=True, type=Path, help="the folder of sections")
    for name in ("body", "post"):
        p = sub.add_parser(name, help="print the comment" if name == "body" else "create or edit the PR comment")
        p.add_argument("--sections", required=True, type=Path, help="the folder of every stack's section")
        p.add_argument("--stacks", default="", help="comma-separated stacks expected (a missing one is reported)")
        p.add_argument("--sha", default=os.environ.get("HEAD_SHA"), help="the commit planned")
        if name == "post":
            p.add_argument("--repo", required=True, help="OWNER/NAME")
            p.add_argument("--pr", required=True, type=int)
            p.add_argument("--api", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    args = parser.parse_args(argv)

    if args.command == "base":
        return plan_base(args.stack, args.out)
    if args.command == "section":
        print(f"wrote {write_section(build_section(args.stack, args.body, args.status, args.log), args.out)}")
        return 0
    stacks = [s for s in args.stacks.split(",") if s]
    body = build_body(read_sections(args.sections), stacks, args.sha)
    if args.command == "body":
        sys.stdout.write(body)
        return 0
    write_summary(body)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        print("::warning::GITHUB_TOKEN is not set: the comment is only in the job summary")
        return 0
    try:
        print(GitHub(token, args.repo, args.api).upsert(args.pr, body))
    except urllib.error.HTTPError as err:
        if err.code in (401, 403, 404):
            # A pull request from a fork gets a read-only token: the summary still has the plan.
            print(f"::warning::could not comment on #{args.pr} (HTTP {err.code}); the plan is in the job summary")
            return 0
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
