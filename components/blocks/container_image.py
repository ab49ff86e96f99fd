"""``ContainerImage``: an image built from source and pushed to its own ECR repository, or a prebuilt one.

The image spec is shared by every container pattern (``ecs``, ``eks``, ``docker``): either
``{context, dockerfile, build_args, platform}`` (build) or ``{ref}`` (a prebuilt image). A built
image is tagged with a content hash of everything that goes into the build
(:func:`~components.blocks.build_context.content_tag`), so unchanged source never shows a diff in a
preview and any changed file always does.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform as host_platform
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from ..patterns import BuildContext, ValidationContext
from ..profiles import Profile, get_profile
from .build_context import content_tag, ignore_file_name, unread_ignore_files
from .service import standard_tags
from ..validation import Problems, is_unknown, join_path

__all__ = [
    "BUILD_KEYS",
    "ContainerImage",
    "ContainerImageArgs",
    "IMAGE_KEYS",
    "ImageSettings",
    "RepositorySettings",
    "PLATFORMS",
    "default_image_spec",
    "docker_host_platform",
    "image_architecture",
    "platform_of",
    "remote_docker_engine",
    "resolve_image",
    "shared_image",
    "shared_image_name",
    "validate_image",
]

BUILD_KEYS = ("context", "dockerfile", "build_args", "platform")
IMAGE_KEYS = BUILD_KEYS + ("ref",)
PLATFORMS = ("linux/arm64", "linux/amd64")
#: The default platform matches the profiles' Graviton instance types (t4g, m7g) and ARM64 Fargate.
DEFAULT_PLATFORM = "linux/arm64"
#: ``registry/name[:tag][@sha256:digest]`` as Docker parses it (lowercase repository path).
REF_PATTERN = (r"(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
               r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?")
BUILD_ARG_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
ECR_REF_PATTERN = r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)"
_MACHINE_PLATFORMS = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "arm64": "linux/arm64", "aarch64": "linux/arm64"}


class ContainerImageArgs(TypedDict):
    """The image spec: the settings of a build, or ``ref`` alone."""

    context: NotRequired[str]
    """Build context directory, relative to the Pulumi project (``services/<name>``). Must exist.
    Default: none; with neither ``context`` nor ``ref`` the spec is invalid (catalog entries default
    to ``services/<name>``, see :func:`default_image_spec`)."""
    dockerfile: NotRequired[str]
    """Dockerfile path relative to ``context``. Default: ``Dockerfile``."""
    build_args: NotRequired[Mapping[str, str]]
    """``--build-arg`` values; plain strings, since they are part of the image tag. Default: none."""
    platform: NotRequired[str]
    """``linux/arm64`` or ``linux/amd64`` (with ``ref``: the variant a Docker host pulls). Default: the
    stack's architecture when pushed (the profiles' Graviton hosts: ``linux/arm64``); for a local Docker
    engine ``DOCKER_DEFAULT_PLATFORM``, else this machine's; a remote engine needs it set."""
    ref: NotRequired[str]
    """A prebuilt image instead of a build, preferably pinned by digest
    (``registry/repo@sha256:...``); an untagged or ``:latest`` reference is rejected. Default: none."""


@dataclass(frozen=True)
class ImageSettings:
    """An image spec resolved once (:func:`resolve_image`): a build of ``context``, or ``ref``. The fields
    carry the defaults."""

    context: str | None = None
    dockerfile: str = "Dockerfile"
    """Relative to ``context``, as given."""
    build_args: tuple[tuple[str, str], ...] = ()
    """``(name, value)`` pairs sorted by name, as strings."""
    platform: str | None = None
    """None: the stack's architecture when pushed, the Docker host's otherwise (see the args)."""
    ref: str | None = None


def resolve_image(spec: Mapping[str, Any]) -> ImageSettings:
    """The :class:`ImageSettings` of a validated image spec; what it leaves out (or sets to null) takes the
    field's default."""
    given = {key: spec[key] for key in IMAGE_KEYS if spec.get(key) is not None}
    for key in ("context", "dockerfile"):
        if key in given:
            given[key] = str(given[key])
    if "build_args" in given:
        given["build_args"] = tuple(sorted((str(k), str(v)) for k, v in given["build_args"].items()))
    return ImageSettings(**given)


def default_image_spec(name: str) -> dict[str, Any]:
    """The image spec a catalog entry without ``image`` gets: build ``services/<name>``."""
    return {"context": f"services/{name}"}


def platform_of(architecture: str) -> str:
    """The Docker platform of a CPU architecture: ``arm64`` -> ``linux/arm64``, ``x86_64`` -> ``linux/amd64``."""
    return "linux/arm64" if architecture == "arm64" else "linux/amd64"


def docker_host_platform(remote: bool = False) -> str | None:
    """The platform an image built or pulled for a Docker host must have when the spec names none:
    ``DOCKER_DEFAULT_PLATFORM`` (Docker's own setting) if set, else this machine's for the local engine.
    None for a remote engine without it: its architecture is not known here, and pulumi-docker would pull
    for this machine's platform."""
    env = os.environ.get("DOCKER_DEFAULT_PLATFORM")
    if env in PLATFORMS:
        return env
    return None if remote else _MACHINE_PLATFORMS.get(host_platform.machine().lower())


def remote_docker_engine(docker_host: str | None = None) -> bool:
    """Whether images are built on another machine's engine: ``docker_host`` (a service's), else the stack's
    ``docker:host`` config or ``DOCKER_HOST`` (a ``unix://`` or ``npipe://`` socket is this machine)."""
    host = docker_host or pulumi.Config("docker").get("host") or os.environ.get("DOCKER_HOST")
    return bool(host) and not str(host).startswith(("unix://", "npipe://"))


def image_architecture(spec: Mapping[str, Any]) -> str | None:
    """``arm64`` or ``x86_64`` when the spec pins a platform, else None."""
    platform = spec.get("platform") if isinstance(spec, Mapping) else None
    return {"linux/arm64": "arm64", "linux/amd64": "x86_64"}.get(platform) if isinstance(platform, str) else None


def validate_image(spec: Any, path: str, problems: Problems, vctx: ValidationContext) -> None:
    """Record every problem of the image spec ``spec`` (the value of an ``image`` key) at ``path``.

    The build context and Dockerfile must exist (relative paths resolve from ``vctx.project_dir``).
    """
    if spec is None:
        problems.add(path, "is required: {context: services/<name>, dockerfile, build_args, platform} or {ref: ...}")
        return
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return
    problems.check_known_keys(spec, IMAGE_KEYS, path)
    if spec.get("ref") is not None:
        # platform picks the variant of a multi-platform image that a Docker host pulls.
        for key in BUILD_KEYS:
            if key != "platform" and spec.get(key) is not None:
                problems.add(join_path(path, key), "cannot be set with ref: a prebuilt image is used as it is")
        _validate_ref(spec["ref"], join_path(path, "ref"), problems)
        problems.check_enum(spec.get("platform"), join_path(path, "platform"), PLATFORMS)
        return
    context = spec.get("context")
    if context is None:
        problems.add(path, "needs context (a build directory) or ref (a prebuilt image)")
        return
    ctx_path = join_path(path, "context")
    if not problems.check_str(context, ctx_path, allowed="a directory path"):
        return
    if is_unknown(context):
        problems.add(ctx_path, "must be known at plan time: the image tag is a hash of its files")
        return
    root = _resolve(context, vctx.project_dir)
    if not root.is_dir():
        problems.add(ctx_path, f"build context {context!r} does not exist (looked for directory {root})")
        return
    dockerfile = spec.get("dockerfile")
    if dockerfile is None:
        dockerfile = ImageSettings.dockerfile
    df_path = join_path(path, "dockerfile")
    if problems.check_str(dockerfile, df_path, allowed="a file path relative to context") \
            and not is_unknown(dockerfile):
        if not (root / dockerfile).is_file():
            problems.add(df_path, f"Dockerfile {dockerfile!r} does not exist in build context {context!r}")
    args = spec.get("build_args")
    args_path = join_path(path, "build_args")
    if problems.check_str_map(args, args_path) and isinstance(args, Mapping):
        for key, value in args.items():
            if not re.fullmatch(BUILD_ARG_PATTERN, str(key)):
                problems.add(join_path(args_path, str(key)), "must be a build argument name: letters, digits and '_'")
            if is_unknown(value):
                problems.add(join_path(args_path, str(key)),
                             "must be known at plan time: build args are part of the image tag")
    problems.check_enum(spec.get("platform"), join_path(path, "platform"), PLATFORMS)


def _validate_ref(ref: Any, path: str, problems: Problems) -> None:
    if not problems.check_str(ref, path, REF_PATTERN, "an image reference such as "
                              "'public.ecr.aws/nginx/nginx@sha256:<64 hex>' or 'registry/repo:1.2.3'"):
        return
    if is_unknown(ref):
        return
    name, _, digest = ref.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    if not digest and (not tag or tag == "latest"):
        problems.add(path, f"must be pinned by digest (@sha256:...) or a version tag, got {ref!r}: "
                           "a moving tag such as 'latest' makes deployments irreproducible")


def _resolve(path: str, project_dir: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else Path(project_dir) / p


# -- component ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RepositorySettings:
    """The ECR repository a pushed build gets: its lifecycle (tagged images kept, days before untagged ones
    expire) and its encryption (None: AES256, S3-managed keys)."""

    keep_images: int = 20
    untagged_expiry_days: int = 7
    kms_key_arn: pulumi.Input[str] | None = None


def _validate(name: str, args: Any, prof: Profile, root_dir: Path, repository: RepositorySettings, push: bool,
              docker_host: str | None) -> str:
    """Raise every problem of a :class:`ContainerImage`'s arguments; else return the platform it builds or
    pulls for (the spec's, else the stack's when pushed, else the Docker host's)."""
    problems = Problems()
    validate_image(args, name, problems, ValidationContext(profile=prof, project_dir=root_dir))
    problems.check_int(repository.keep_images, "keep_images", 1, 1000)
    problems.check_int(repository.untagged_expiry_days, "untagged_expiry_days", 1, 365, "days")
    platform = args.get("platform") if isinstance(args, Mapping) else None
    if not platform:
        platform = DEFAULT_PLATFORM if push else docker_host_platform(remote_docker_engine(docker_host))
    if platform is None:
        problems.add(join_path(name, "platform"), "must be set for a remote Docker engine (linux/arm64 or "
                                                  "linux/amd64, or DOCKER_DEFAULT_PLATFORM): its architecture "
                                                  "is not known here, and pulumi-docker would build and pull "
                                                  "for this machine's")
    problems.raise_if_any()
    return platform


def ecr_repository_arn(ref: str) -> str | None:
    """The ARN of the ECR repository an image reference points into, or None for another registry."""
    ecr = re.match(ECR_REF_PATTERN, ref)
    if not ecr:
        return None
    account, region, repo = ecr.groups()
    partition = "aws-cn" if ".amazonaws.com.cn/" in ref else "aws"
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repo}"


class ContainerImage(pulumi.ComponentResource):
    """An ECR repository (immutable tags, scan on push, encryption, lifecycle policy) and the image
    built from ``context`` and pushed to it under a content-hash tag; or, with ``push=False`` (the
    ``local`` profile), the image built on the Docker host only; or a prebuilt ``ref``."""

    image_ref: pulumi.Output[str]
    """What a container runs: ``<repository URL>:<content hash>`` when pushed, ``<name>:<content hash>``
    when built locally, or ``ref``."""
    tag: pulumi.Output[str | None]
    """The content-hash tag of a built image; None for ``ref``."""
    repository_url: pulumi.Output[str | None]
    """URL of the ECR repository; None when nothing is pushed."""
    repository_arn: pulumi.Output[str | None]
    """ARN of the ECR repository, for pull permissions; None when nothing is pushed (for an ECR
    ``ref`` use :attr:`pull_repository_arn`)."""
    pull_repository_arn: pulumi.Output[str | None]
    """The ECR repository a task must be allowed to pull from: ours, or the repository of an ECR
    ``ref``; None for images from other registries."""
    repo_digest: pulumi.Output[str | None]
    """``repository@sha256:...`` of the pushed image, once built; None for ``ref``."""

    def __init__(self, name: str, args: ContainerImageArgs, opts: pulumi.ResourceOptions | None = None, *,
                 profile: Profile | str | None = None, project_dir: str | Path | None = None,
                 push: bool | None = None, keep_images: int = RepositorySettings.keep_images,
                 untagged_expiry_days: int = RepositorySettings.untagged_expiry_days,
                 kms_key_arn: pulumi.Input[str] | None = None, tags: Mapping[str, str] | None = None,
                 docker_host: str | None = None):
        """``push`` defaults to the profile's ``cloud`` (False in ``local``). ``keep_images`` tagged
        images are kept (1-1000), untagged ones expire after ``untagged_expiry_days`` (1-365).
        ``kms_key_arn`` encrypts the repository with that key. Default: AES256 (S3-managed keys).
        ``docker_host`` is the engine a local build or pull runs on (default: the provider's); every build
        and pull names its platform, since pulumi-docker would otherwise pull for this machine's."""
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        root_dir = Path(project_dir) if project_dir is not None else Path.cwd()
        push = prof.cloud if push is None else push
        repository = RepositorySettings(keep_images=keep_images, untagged_expiry_days=untagged_expiry_days,
                                        kms_key_arn=kms_key_arn)
        platform = _validate(name, args, prof, root_dir, repository, push, docker_host)
        super().__init__("microservices:ecs:ContainerImage", name, None, opts)
        settings = resolve_image(args)
        none: pulumi.Output[Any] = pulumi.Output.from_input(None)
        self.repository_url = self.repository_arn = self.repo_digest = self.tag = none
        self.pull_repository_arn = none
        if settings.ref is not None:
            self._prebuilt(name, settings.ref, platform, push)
        else:
            self._build(name, settings, platform, root_dir, push, repository, standard_tags(name, prof.name, tags),
                        prof)
        self.register_outputs({
            "image_ref": self.image_ref, "tag": self.tag, "repository_url": self.repository_url,
            "repository_arn": self.repository_arn, "pull_repository_arn": self.pull_repository_arn,
            "repo_digest": self.repo_digest,
        })

    def _prebuilt(self, name: str, ref: Any, platform: str, push: bool) -> None:
        self.image_ref = pulumi.Output.from_input(ref)
        self.pull_repository_arn = pulumi.Output.from_input(ecr_repository_arn(ref))
        if not push:
            # The Docker provider does not pull images a container names: pull it explicitly.
            pulled = docker.RemoteImage(f"{name}-image", name=ref, keep_locally=True, platform=platform,
                                        opts=pulumi.ResourceOptions(parent=self))
            self.image_ref = pulled.image_id

    def _build(self, name: str, settings: ImageSettings, platform: str, root_dir: Path, push: bool,
               repository: RepositorySettings, tags: Mapping[str, str], prof: Profile) -> None:
        child = pulumi.ResourceOptions(parent=self)
        context, dockerfile, build_args = str(settings.context), settings.dockerfile, dict(settings.build_args)
        tag = content_tag(_resolve(context, root_dir), dockerfile, build_args, platform)
        for unread in unread_ignore_files(_resolve(context, root_dir), dockerfile):
            pulumi.log.warn(f"{name}: {context}/{unread} is not read by pulumi-docker, which applies only "
                            f"{context}/{ignore_file_name(dockerfile)}: move its patterns there")
        self.tag = pulumi.Output.from_input(tag)
        build: dict[str, Any] = {"context": context}
        if dockerfile != ImageSettings.dockerfile:
            # pulumi-docker resolves a given dockerfile from the project directory, not the context.
            build["dockerfile"] = posixpath.join(Path(context).as_posix(), Path(dockerfile).as_posix())
        if build_args:
            build["args"] = build_args
        build["platform"] = platform
        if push:
            repo = self._repository(name, prof, repository, tags)
            token = aws.ecr.get_authorization_token_output(registry_id=repo.registry_id,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
            image = docker.Image(
                f"{name}-image", image_name=repo.repository_url.apply(lambda url: f"{url}:{tag}"), build=build,
                registry={"server": repo.repository_url, "username": token.user_name,
                          "password": pulumi.Output.secret(token.password)},
                skip_push=False, opts=child)
            self.repository_url = repo.repository_url
            self.repository_arn = self.pull_repository_arn = repo.arn
            self.repo_digest = image.repo_digest
        else:
            image = docker.Image(f"{name}-image", image_name=f"{name}:{tag}", build=build, skip_push=True,
                                 opts=child)
        # The image's own output, so whatever runs it waits for the build (and the push).
        self.image_ref = image.image_name

    def _repository(self, name: str, prof: Profile, settings: RepositorySettings,
                    tags: Mapping[str, str]) -> aws.ecr.Repository:
        keep, untagged_days = settings.keep_images, settings.untagged_expiry_days
        encryption = ({"encryption_type": "KMS", "kms_key": settings.kms_key_arn} if settings.kms_key_arn
                      else {"encryption_type": "AES256"})
        repo = aws.ecr.Repository(
            f"{name}-repo", image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True}, encryption_configurations=[encryption],
            # Unprotected environments can be destroyed with their images; protected ones cannot.
            force_delete=not prof.protect, tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, protect=prof.protect))
        policy = {"rules": [
            {"rulePriority": 1, "description": f"Expire untagged images after {untagged_days} days",
             "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                           "countNumber": untagged_days},
             "action": {"type": "expire"}},
            {"rulePriority": 2, "description": f"Keep the last {keep} images",
             "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
             "action": {"type": "expire"}},
        ]}
        aws.ecr.LifecyclePolicy(f"{name}-lifecycle", repository=repo.name, policy=json.dumps(policy, sort_keys=True),
                                opts=pulumi.ResourceOptions(parent=self))
        return repo


def shared_image(ctx: BuildContext, spec: Mapping[str, Any], *, platform: str | None = None,
                 push: bool | None = None) -> ContainerImage | None:
    """The stack's one :class:`ContainerImage` for a build: services of any container pattern that build the
    same context, Dockerfile and build args for the same platform share one image (and one repository),
    created under the platform on first use. ``platform`` applies when the spec pins none. None for a
    prebuilt ``ref``, which builds nothing."""
    settings = resolve_image(spec)
    if settings.ref is not None:
        return None
    push = ctx.profile.cloud if push is None else push
    platform = settings.platform or platform or (DEFAULT_PLATFORM if push else docker_host_platform(
        remote_docker_engine()))
    context = posixpath.normpath(Path(str(settings.context)).as_posix())
    dockerfile = posixpath.normpath(Path(settings.dockerfile).as_posix())
    key = (context, dockerfile, settings.build_args, platform, push)
    images: dict[Any, ContainerImage] = ctx.images
    if key not in images:
        args: dict[str, Any] = {"context": context}
        if dockerfile != ImageSettings.dockerfile:
            args["dockerfile"] = dockerfile
        if settings.build_args:
            args["build_args"] = dict(settings.build_args)
        if platform:
            args["platform"] = platform
        images[key] = ContainerImage(shared_image_name(context, dockerfile, settings.build_args, platform, push),
                                     args, pulumi.ResourceOptions(parent=ctx.parent), profile=ctx.profile,
                                     project_dir=ctx.project_dir, push=push)
    return images[key]


def shared_image_name(context: str, dockerfile: str = "Dockerfile", build_args: tuple[tuple[str, str], ...] = (),
                      platform: str | None = None, push: bool = True) -> str:
    """``image-<context's last directory>-<arch>``, e.g. ``image-cart-arm64``; a build of another Dockerfile,
    with build args, or of a context outside ``services/`` adds a short hash of them, and a local build
    ``-local``. Derived from the build alone, so adding or removing a service never renames an image."""
    base = re.sub(r"[^a-z0-9]+", "-", posixpath.basename(context.rstrip("/")).lower()).strip("-") or "context"
    name = f"image-{base}"
    if context != f"services/{posixpath.basename(context)}" or dockerfile != "Dockerfile" or build_args:
        variant = json.dumps([context, dockerfile, list(build_args)])
        name += "-" + hashlib.sha256(variant.encode()).hexdigest()[:8]
    arch = {"linux/arm64": "arm64", "linux/amd64": "amd64"}.get(platform or "", "native")
    return f"{name}-{arch}" + ("" if push else "-local")
