#!/usr/bin/env python3
"""The offline preview of a pull request: plan the base, build the comment, post it (one per stack).

    python .ci/pr-comment.py base --stack dev --out .plan/base.json        # run inside the base checkout
    python .ci/pr-comment.py body --stack dev --body .plan/comment.md --status 0
    python .ci/pr-comment.py post --stack dev --body .plan/comment.md --status 0 --repo OWNER/NAME --pr 42

``body`` prints the comment that ``post`` would write, so the whole flow runs locally. ``post``
finds the comment it wrote before by a hidden marker (``<!-- microservices-plan:dev -->``) and
edits it, so each stack keeps one comment however many times the branch is pushed. With the
read-only token of a pull request from a fork it cannot comment: it warns and writes the body to
the job summary instead. Standard library only: it runs before anything is installed.
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
    4: "no mandatory policy violation, but **AWS schema findings** (cfn-lint): the check fails until they are fixed",
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


def marker(stack: str) -> str:
    return f"<!-- microservices-plan:{stack} -->"


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
    proc = subprocess.run([sys.executable, "-m", "components.plan", "--stack", stack, "--json", str(out), "--quiet"],
                          capture_output=True, text=True)
    print(redact_log(proc.stdout))
    if proc.returncode not in (0, 3) or not out.is_file():
        print(f"::warning::the base of stack {stack} could not be planned (exit {proc.returncode}); "
              f"diffing against an empty plan\n{redact_log(proc.stderr)[-LOG_TAIL:]}")
        out.write_text(json.dumps(empty_plan(stack)))
    return 0


def build_body(stack: str, body_file: Path | None, status: int, log_file: Path | None = None,
               sha: str | None = None) -> str:
    head = marker(stack)
    text = body_file.read_text() if body_file is not None and body_file.is_file() else ""
    if status in STATUS_TEXT and text.strip():
        content = text.replace(head, "", 1).lstrip("\n")
        verdict = STATUS_TEXT[status]
    elif status in STATUS_TEXT:
        content = f"### Plan of stack `{stack}`\n\n:x: the plan wrote no Markdown to show.\n"
        verdict = STATUS_TEXT[status]
    else:
        log = redact_log(log_file.read_text()) if log_file is not None and log_file.is_file() else ""
        reason = "the stack's catalog is invalid" if status == 2 else "the program failed under the mock runtime"
        content = (f"### Plan of stack `{stack}` failed\n\n:x: {reason} (exit {status}); nothing could be planned.\n\n"
                   f"```text\n{log[-LOG_TAIL:].strip() or '(no output)'}\n```\n")
        verdict = "not evaluated"
    footer = (f"\n---\n<sub>Offline plan under Pulumi's mock runtime"
              f"{f' of {sha[:12]}' if sha else ''}: no cloud account was used. Policy: {verdict}. "
              "This comment is updated on every push.</sub>\n")
    body = redact(f"{head}\n{content.rstrip()}\n{footer}")
    if len(body) > MAX_BODY:
        cut = MAX_BODY - len(footer) - 200
        body = body[:cut] + "\n\n_…truncated; the full plan is in the job's artifacts._\n" + footer
    return body


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

    def find_comment(self, pr: int, stack: str) -> int | None:
        page = 1
        while True:
            comments = self.request("GET", f"/repos/{self.repo}/issues/{pr}/comments?per_page=100&page={page}")
            for c in comments:
                if marker(stack) in (c.get("body") or "") and (c.get("user") or {}).get("type") == "Bot":
                    return c["id"]
            if len(comments) < 100:
                return None
            page += 1

    def upsert(self, pr: int, stack: str, body: str) -> str:
        existing = self.find_comment(pr, stack)
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
    for name in ("body", "post"):
        p = sub.add_parser(name, help="print the comment" if name == "body" else "create or edit the PR comment")
        p.add_argument("--stack", required=True)
        p.add_argument("--body", type=Path, help="the Markdown the plan wrote (--markdown)")
        p.add_argument("--status", type=int, default=0, help="the plan's exit code (0, 1, 2, 3 or 4)")
        p.add_argument("--log", type=Path, help="the plan's stderr, shown when it failed")
        p.add_argument("--sha", default=os.environ.get("HEAD_SHA"), help="the commit planned")
        if name == "post":
            p.add_argument("--repo", required=True, help="OWNER/NAME")
            p.add_argument("--pr", required=True, type=int)
            p.add_argument("--api", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    args = parser.parse_args(argv)

    if args.command == "base":
        return plan_base(args.stack, args.out)
    body = build_body(args.stack, args.body, args.status, args.log, args.sha)
    if args.command == "body":
        sys.stdout.write(body)
        return 0
    write_summary(body)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        print("::warning::GITHUB_TOKEN is not set: the comment is only in the job summary")
        return 0
    try:
        print(GitHub(token, args.repo, args.api).upsert(args.pr, args.stack, body))
    except urllib.error.HTTPError as err:
        if err.code in (401, 403, 404):
            # A pull request from a fork gets a read-only token: the summary still has the plan.
            print(f"::warning::could not comment on #{args.pr} (HTTP {err.code}); the plan is in the job summary")
            return 0
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
