"""ContainerImage: ECR repository defaults, content-hash tags, prebuilt refs, and image spec validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.blocks.build_context import content_tag, context_files
from components.blocks.container_image import ContainerImage, docker_host_platform
from tests.conftest import ROOT, assert_problem

IMAGE = "docker:index/image:Image"
REPO = "aws:ecr/repository:Repository"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A small build context with a .dockerignore."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12-alpine\nCOPY . /app\n")
    (tmp_path / "app" / "main.py").write_text("print('hello')\n")
    (tmp_path / "app" / "lib").mkdir()
    (tmp_path / "app" / "lib" / "util.py").write_text("X = 1\n")
    (tmp_path / "app" / "notes.md").write_text("docs\n")
    (tmp_path / "app" / "build").mkdir()
    (tmp_path / "app" / "build" / "out.bin").write_text("artifact\n")
    (tmp_path / "app" / "build" / "keep.txt").write_text("kept\n")
    (tmp_path / "app" / ".dockerignore").write_text("# comments are ignored\n*.md\nbuild\n!build/keep.txt\n")
    return tmp_path


def _image(plan, project: Path, spec: dict, environment: str = "dev", **kwargs):
    return plan(lambda: ContainerImage("orders", spec, profile=environment, project_dir=project, **kwargs),
                environment=environment)


def test_repository_has_immutable_tags_scan_on_push_encryption_and_lifecycle(plan, app):
    graph = _image(plan, app, {"context": "app"})
    repo = graph.one(REPO, "orders-repo")
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
    rules = json.loads(graph.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"]
    assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": 7}
    assert rules[1]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}


def test_repository_with_kms_key_uses_kms_encryption(plan, app):
    key = "arn:aws:kms:us-east-1:123456789012:key/abcd"
    graph = _image(plan, app, {"context": "app"}, kms_key_arn=key)
    assert graph.one(REPO).inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}]


def test_repository_is_protected_in_prod_and_force_deletable_in_dev(plan, app):
    prod = _image(plan, app, {"context": "app"}, environment="prod").one(REPO)
    dev = _image(plan, app, {"context": "app"}).one(REPO)
    assert prod.protect and prod.inputs["forceDelete"] is False
    assert not dev.protect and dev.inputs["forceDelete"] is True


def test_image_is_pushed_with_ecr_token_credentials_under_a_content_hash_tag(plan, app):
    graph = _image(plan, app, {"context": "app", "build_args": {"VERSION": "1"}})
    image = graph.one(IMAGE, "orders-image")
    tag = content_tag(app / "app", "Dockerfile", {"VERSION": "1"}, "linux/arm64")
    server = image.inputs["registry"]["server"]
    assert server.startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-repo-")
    assert image.inputs["imageName"] == f"{server}:{tag}"
    assert image.inputs["skipPush"] is False
    assert image.inputs["build"] == {"context": "app", "platform": "linux/arm64", "args": {"VERSION": "1"}}
    assert image.inputs["registry"]["username"] == "AWS"
    assert image.inputs["registry"]["password"] == "[secret]"
    assert any(tok == "aws:ecr/getAuthorizationToken:getAuthorizationToken" for tok, _ in graph.invokes)
    outputs = graph.one("microservices:ecs:ContainerImage").outputs
    assert outputs["image_ref"] == image.inputs["imageName"] and outputs["tag"] == tag


def test_same_source_gives_the_same_tag_and_plan(plan, app):
    first = _image(plan, app, {"context": "app"}).one(IMAGE).inputs
    second = _image(plan, app, {"context": "app"}).one(IMAGE).inputs
    assert first == second


def test_changed_file_changes_the_tag(plan, app):
    before = _image(plan, app, {"context": "app"}).one(IMAGE).inputs["imageName"]
    (app / "app" / "lib" / "util.py").write_text("X = 2\n")
    after = _image(plan, app, {"context": "app"}).one(IMAGE).inputs["imageName"]
    assert before != after


def test_dockerignored_file_does_not_change_the_tag_but_a_reincluded_one_does(app):
    before = content_tag(app / "app")
    (app / "app" / "notes.md").write_text("other docs\n")
    (app / "app" / "build" / "out.bin").write_text("other artifact\n")
    assert content_tag(app / "app") == before
    (app / "app" / "build" / "keep.txt").write_text("changed\n")
    assert content_tag(app / "app") != before


def test_context_files_follow_dockerignore_sorted(app):
    assert context_files(app / "app") == [".dockerignore", "Dockerfile", "build/keep.txt", "lib/util.py", "main.py"]


def test_file_mode_change_changes_the_tag(app):
    # COPY keeps modes, and pulumi-docker's own context digest counts them: an unchanged tag would
    # rebuild and push onto an immutable tag.
    util = app / "app" / "lib" / "util.py"
    util.chmod(0o644)
    before = content_tag(app / "app")
    util.chmod(0o664)
    assert content_tag(app / "app") != before


def test_symlinked_directory_is_part_of_the_context(app):
    (app / "app" / "shared-a").mkdir()
    (app / "app" / "shared-b").mkdir()
    (app / "app" / "current").symlink_to("shared-a", target_is_directory=True)
    assert "current" in context_files(app / "app")
    before = content_tag(app / "app")
    (app / "app" / "current").unlink()
    (app / "app" / "current").symlink_to("shared-b", target_is_directory=True)
    assert content_tag(app / "app") != before


def test_custom_dockerfile_uses_its_own_ignore_file_like_pulumi_docker(app):
    # pulumi-docker reads <context>/Dockerfile.prod.dockerignore for Dockerfile.prod, never .dockerignore.
    (app / "app" / "Dockerfile.prod").write_text("FROM scratch\n")
    assert "notes.md" in context_files(app / "app", "Dockerfile.prod")
    (app / "app" / "Dockerfile.prod.dockerignore").write_text("lib\n")
    files = context_files(app / "app", "Dockerfile.prod")
    assert "notes.md" in files and "lib/util.py" not in files
    before = content_tag(app / "app", "Dockerfile.prod")
    (app / "app" / "notes.md").write_text("sent with Dockerfile.prod\n")
    assert content_tag(app / "app", "Dockerfile.prod") != before


def test_build_args_platform_and_dockerfile_are_part_of_the_tag(app):
    base = content_tag(app / "app")
    assert content_tag(app / "app", build_args={"A": "1"}) != base
    assert content_tag(app / "app", platform="linux/amd64") != base
    (app / "app" / "Dockerfile").write_text("FROM python:3.13-alpine\nCOPY . /app\n")
    assert content_tag(app / "app") != base


def test_custom_dockerfile_is_passed_relative_to_the_project(plan, app):
    (app / "app" / "Dockerfile.prod").write_text("FROM scratch\n")
    image = _image(plan, app, {"context": "app", "dockerfile": "Dockerfile.prod"}).one(IMAGE)
    assert image.inputs["build"]["dockerfile"] == "app/Dockerfile.prod"


def test_prebuilt_ref_creates_no_repository_and_is_used_as_is(plan, app):
    ref = "public.ecr.aws/nginx/nginx@sha256:" + "a" * 64
    graph = _image(plan, app, {"ref": ref})
    assert graph.of_type(REPO) == [] and graph.of_type(IMAGE) == []
    outputs = graph.one("microservices:ecs:ContainerImage").outputs
    assert outputs["image_ref"] == ref and outputs.get("pull_repository_arn") is None


def test_prebuilt_ecr_ref_names_the_repository_to_pull_from(plan, app):
    ref = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4.2"
    outputs = _image(plan, app, {"ref": ref}).one("microservices:ecs:ContainerImage").outputs
    assert outputs["pull_repository_arn"] == "arn:aws:ecr:eu-west-1:123456789012:repository/team/api"


def test_local_build_is_not_pushed_and_has_no_repository(plan, app):
    graph = _image(plan, app, {"context": "app"}, environment="local")
    image = graph.one(IMAGE)
    assert graph.of_type(REPO) == []
    assert image.inputs["skipPush"] is True
    # Built for the local engine's platform, named explicitly (pulumi-docker would otherwise pick this
    # machine's for pulls, whatever the engine's)
    platform = docker_host_platform()
    assert image.inputs["imageName"] == f"orders:{content_tag(app / 'app', platform=platform)}"
    assert "registry" not in image.inputs and image.inputs["build"]["platform"] == platform


def test_local_prebuilt_ref_is_pulled(plan, app):
    graph = _image(plan, app, {"ref": "nginx:1.27"}, environment="local")
    assert graph.one("docker:index/remoteImage:RemoteImage").inputs["name"] == "nginx:1.27"


def test_rejects_build_context_that_does_not_exist(app):
    assert_problem(lambda: ContainerImage("orders", {"context": "nope"}, profile="dev", project_dir=app),
                   "orders.context", "build context 'nope' does not exist")


def test_rejects_missing_dockerfile(app):
    assert_problem(lambda: ContainerImage("orders", {"context": "app", "dockerfile": "Missing"}, profile="dev",
                                          project_dir=app), "orders.dockerfile", "does not exist")


def test_rejects_moving_tag_ref(app):
    assert_problem(lambda: ContainerImage("orders", {"ref": "nginx:latest"}, profile="dev", project_dir=app),
                   "orders.ref", "pinned by digest")
    assert_problem(lambda: ContainerImage("orders", {"ref": "nginx"}, profile="dev", project_dir=app),
                   "orders.ref", "pinned by digest")


def test_rejects_ref_with_build_settings_and_unknown_keys_and_platforms(app):
    lines = assert_problem(lambda: ContainerImage("orders", {"ref": "nginx:1.27", "context": "app", "tag": "x"},
                                                  profile="dev", project_dir=app),
                           "orders.context", "cannot be set with ref")
    assert any("orders.tag: unknown key" in line for line in lines)
    assert_problem(lambda: ContainerImage("orders", {"context": "app", "platform": "linux/386"}, profile="dev",
                                          project_dir=app), "orders.platform", "'linux/arm64'")


def test_rejects_spec_without_context_or_ref(app):
    assert_problem(lambda: ContainerImage("orders", {}, profile="dev", project_dir=app), "orders", "needs context")


# -- one image per build, shared by every container pattern ---------------------------------------

@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "local"])
def test_sample_catalog_builds_services_cart_once_per_stack_and_platform(stack):
    from tests.conftest import stack_plan
    doc = stack_plan(stack)
    builds = [(r["inputs"]["build"]["context"], r["inputs"]["build"]["platform"])
              for r in doc["resources"] if r["type"] == IMAGE]
    # ecs cart, pricing and cart-sweeper, eks orders and payments: one build of services/cart
    assert builds.count(builds[0]) == 1 and len(set(builds)) == len(builds)
    assert [b for b in builds if b[0] == "services/cart"] == [("services/cart", builds[0][1])]
    if stack != "local":
        assert builds == [("services/cart", "linux/arm64")]
        assert len([r for r in doc["resources"] if r["type"] == REPO]) == 1


def test_services_of_every_container_pattern_share_one_image_per_build_and_platform(plan):
    from components.patterns import BuildContext
    from components.profiles import get_profile
    from components.blocks.container_image import shared_image

    def program():
        ctx = BuildContext(parent=None, profile=get_profile("dev"), network=None, project_dir=ROOT)
        a = shared_image(ctx, {"context": "services/cart"}, platform="linux/arm64")
        b = shared_image(ctx, {"context": "services/cart/"}, platform="linux/arm64")
        c = shared_image(ctx, {"context": "services/cart"}, platform="linux/amd64")
        d = shared_image(ctx, {"context": "services/cart", "platform": "linux/amd64"}, platform="linux/arm64")
        e = shared_image(ctx, {"context": "services/cart", "build_args": {"V": "1"}}, platform="linux/arm64")
        assert a is b and c is d and a is not c and e not in (a, c)
        assert shared_image(ctx, {"ref": "public.ecr.aws/x/y:1.0"}) is None
    graph = plan(program)
    names = sorted(r.name for r in graph.of_type("microservices:ecs:ContainerImage"))
    assert {"image-cart-amd64", "image-cart-arm64"} <= set(names) and len(names) == 3
    variant = (set(names) - {"image-cart-amd64", "image-cart-arm64"}).pop()
    assert variant.startswith("image-cart-") and variant.endswith("-arm64")  # build args: a hash in the name
    assert len(graph.of_type(REPO)) == 3


# -- the ignore file pulumi-docker reads (provider/image.go: <context>/mapDockerignore(basename)) ----------

def _context(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ctx"
    for rel, text in {"docker/Dockerfile": "FROM scratch\n", "docker/Dockerfile.prod": "FROM scratch\n",
                      "main.py": "x\n", "notes.md": "n\n", "secret.env": "s\n", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("dockerfile, ignore_files, excluded, included", [
    # only the context's .dockerignore: it applies, to a Dockerfile in a subdirectory too
    ("docker/Dockerfile", {".dockerignore": "*.md\n"}, ["notes.md"], ["secret.env"]),
    # only an ignore file beside the Dockerfile: BuildKit's rule, not pulumi-docker's: nothing is excluded
    ("docker/Dockerfile", {"docker/Dockerfile.dockerignore": "*.md\n"}, [], ["notes.md", "secret.env"]),
    # both: the context's file wins, the one beside the Dockerfile is a plain context file
    ("docker/Dockerfile", {".dockerignore": "*.env\n", "docker/Dockerfile.dockerignore": "*.md\n"},
     ["secret.env"], ["notes.md", "docker/Dockerfile.dockerignore"]),
    # another Dockerfile name: <name>.dockerignore at the context root, never .dockerignore as a fallback
    ("docker/Dockerfile.prod", {".dockerignore": "*.md\n", "Dockerfile.prod.dockerignore": "*.env\n"},
     ["secret.env"], ["notes.md"]),
    ("docker/Dockerfile.prod", {".dockerignore": "*.md\n"}, [], ["notes.md", "secret.env"]),
    ("docker/Dockerfile.prod", {"docker/Dockerfile.prod.dockerignore": "*.md\n"}, [], ["notes.md"]),
])
def test_tag_hashes_the_files_pulumi_docker_sends(tmp_path, dockerfile, ignore_files, excluded, included):
    root = _context(tmp_path, ignore_files)
    files = context_files(root, dockerfile)
    assert not set(excluded) & set(files) and set(included) <= set(files)
    # a change pulumi-docker sees changes the tag (else it would push onto an existing immutable tag) ...
    for rel in included:
        before = content_tag(root, dockerfile)
        (root / rel).write_text((root / rel).read_text() + "changed\n")
        assert content_tag(root, dockerfile) != before, rel
    # ... and one it does not see leaves the tag alone (no needless rebuild)
    for rel in excluded:
        before = content_tag(root, dockerfile)
        (root / rel).write_text("changed\n")
        assert content_tag(root, dockerfile) == before, rel


def test_an_ignore_file_beside_a_dockerfile_in_a_subdirectory_is_reported_as_unread(tmp_path):
    from components.blocks.build_context import unread_ignore_files
    root = _context(tmp_path, {"docker/Dockerfile.prod.dockerignore": "*.md\n"})
    assert unread_ignore_files(root, "docker/Dockerfile.prod") == ["docker/Dockerfile.prod.dockerignore"]
    assert unread_ignore_files(root, "docker/Dockerfile") == []
    assert unread_ignore_files(root, "Dockerfile") == []
