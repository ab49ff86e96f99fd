"""``VmService``: one service per VM, from an AMI per service, in an Auto Scaling Group behind a load balancer.

Catalog pattern ``vm``. The entry is the core service spec (port, health check, scaling, environment,
secrets, expose) plus the keys of :class:`VmServiceArgs`. The AMI is an explicit id, the newest
AMI of the account tagged with the service and a version (``lookup``), or baked by EC2 Image Builder
from ``services/<name>/<document>`` (``bake``). A new launch template version (new AMI, new user
data) is rolled out by an instance refresh started with that version as its desired configuration, without
updating the group first (:mod:`components.vm_refresh`): a failed refresh is rolled back to the version that
was serving, and ``pulumi up`` fails with its reason.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import yaml

from .blocks.access import Account
from .blocks.architecture import instance_architecture as architecture
from .blocks.aws_api import stack_settings
from .blocks.iam import assume_role_policy, secret_read_statements
from .blocks.launch_template import (AMI_ID_EXAMPLE, AMI_ID_PATTERN, LAUNCH_KEYS, INSTANCE_TYPE_PATTERN,
                                     instance_role, launch_template, validate_launch_settings)
from .blocks.load_balancer import (LoadBalancerArgs, ServiceLoadBalancer, network_value,
                                   prepare_shared_load_balancers, service_security_group, shared_load_balancer,
                                   standard_alarms, validate_load_balancer)
from .patterns import BuildContext, Pattern, ValidationContext
from .profiles import Profile, get_profile
from .blocks.service import (CORE_KEYS, HealthCheckArgs, ScalingArgs, resolve_core, standard_tags,
                           validate_core)
from .validation import Problems, is_unknown, join_path
from .vm_refresh import InstanceRefresh

__all__ = ["PATTERN", "VmService", "VmServiceArgs", "validate_vm"]

VM_KEYS = ("ami", "instance_types", "spot_percentage", "on_demand_base_capacity", "load_balancer",
           "rollout", "autoscaling") + LAUNCH_KEYS
AMI_KEYS = ("id", "lookup", "bake")
LOOKUP_KEYS = ("version", "tags")
BAKE_KEYS = ("version", "document", "parent_parameter", "build_instance_type", "schedule", "keep", "timeout")
#: Minutes ``pulumi up`` waits for a bake (the provider's own default is 60), and its allowed range.
DEFAULT_BAKE_TIMEOUT, BAKE_TIMEOUT_MIN, BAKE_TIMEOUT_MAX = 120, 60, 1440
#: The image tests' timeout, as before: AWS ignores it ("not currently active"), and changing it would replace the
#: Image (a new bake), so it is not a setting; ``bake.timeout`` bounds the whole bake, tests included.
IMAGE_TESTS_TIMEOUT = 60
DEFAULT_KEEP, KEEP_MIN, KEEP_MAX = 5, 2, 100
EC2_IMAGE_BUILDER_LIFECYCLE_POLICY = "arn:aws:iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy"
#: An AMI an instance was launched from this recently is never deleted, whatever its rank.
LIFECYCLE_IN_USE_DAYS = 30
#: Tag on the AMI the launch template uses, and on the Image resource's image: the lifecycle policy skips both.
IN_USE_TAG, KEEP_IMAGE_TAG = "InUseBy", "KeptBy"
ROLLOUT_KEYS = ("timeout", "instance_warmup")
AUTOSCALING_KEYS = ("requests_per_target", "schedules", "warm_pool")
SCHEDULE_KEYS = ("recurrence", "min", "max", "desired", "time_zone")
WARM_POOL_KEYS = ("min_size", "max_prepared_capacity", "pool_state", "reuse_on_scale_in")

#: Image Builder component and recipe versions are semantic versions ``major.minor.patch``.
VERSION_PATTERN = r"\d+\.\d+\.\d+"
SSM_PARAMETER_PATTERN = r"/[A-Za-z0-9_.\-/]+"
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
CRON_PATTERN = r"\S+ \S+ \S+ \S+ \S+"
TIME_ZONE_PATTERN = r"[A-Za-z]+(/[A-Za-z0-9_+\-]+)*|UTC"
DEFAULT_DOCUMENT = "component.yaml"
DEFAULT_GRACE_PERIOD = 300
#: A rollout waits this long beyond the health check grace period for the new instances to be healthy.
DEFAULT_ROLLOUT_MARGIN = 600
ROLLOUT_TIMEOUT_MIN, ROLLOUT_TIMEOUT_MAX = 300, 7200
#: What the group ignores after creation: the instance refresh moves the launch template version (Auto Scaling
#: saves it on the group when the refresh succeeds), and autoscaling owns the size.
GROUP_IGNORED = ("launchTemplate", "mixedInstancesPolicy", "desiredCapacity")
EC2_IMAGE_BUILDER_POLICY = "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder"


class LookupArgs(TypedDict):
    version: str
    """Value of the AMI's ``Version`` tag (required). The AMI must also carry ``Service: <name>``."""
    tags: NotRequired[Mapping[str, str]]
    """More tags the AMI must carry. Default: none."""


class BakeArgs(TypedDict):
    version: str
    """Semantic version ``major.minor.patch`` of the service (required); a new version bakes a new AMI."""
    document: NotRequired[str]
    """Image Builder component document in ``services/<name>/`` that installs the service as a systemd
    unit called ``<name>``. Default: ``component.yaml``."""
    parent_parameter: NotRequired[str]
    """SSM parameter holding the parent AMI id, resolved by Image Builder when it builds. Default: the
    current Amazon Linux 2023 AMI for the instance type's architecture
    (``/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arch>``)."""
    build_instance_type: NotRequired[str]
    """Instance type that builds the image. Default: the service's (first) instance type."""
    schedule: NotRequired[str]
    """Image Builder schedule (``cron(0 3 ? * MON *)``) re-baking when the parent image or components
    have updates; the next ``pulumi up`` rolls out the newest AMI the pipeline built for this version.
    Default: none, the pipeline runs when started by hand."""
    keep: NotRequired[int]
    """How many of this version's newest AMIs to keep, 2-100; older ones are deregistered with their
    snapshots by an Image Builder lifecycle policy, unless an instance launched from them in the last 30
    days. Default: 5."""
    timeout: NotRequired[int]
    """Minutes ``pulumi up`` waits for the bake (build and tests) before failing, 60-1440. Default: 120."""


class AmiArgs(TypedDict):
    """Exactly one of ``id``, ``lookup`` or ``bake`` (a plain string is taken as ``id``)."""

    id: NotRequired[pulumi.Input[str]]
    """An explicit AMI id. Default: none (one of the three sources is required)."""
    lookup: NotRequired[LookupArgs]
    """The newest AMI owned by this account tagged ``Service: <name>`` and ``Version: <version>``. Default: none."""
    bake: NotRequired[BakeArgs]
    """Bake the AMI with EC2 Image Builder. Default: none."""


class RolloutArgs(TypedDict):
    timeout: NotRequired[int]
    """Seconds ``pulumi up`` waits for the instance refresh of a new version (and, on the first deploy, for
    the new group's instances to be healthy in the load balancer) before it fails, 300-7200, more than
    ``health_check.grace_period``. Default: the grace period plus 600 (900 s with the VM default grace period)."""
    instance_warmup: NotRequired[int]
    """Seconds after a new instance is in service before its metrics count for scaling and before the
    refresh considers it ready, 0-3600. Default: the health check grace period."""


class ScheduleArgs(TypedDict):
    recurrence: str
    """Cron expression (five fields, ``0 8 * * 1-5``). Required."""
    min: NotRequired[int]
    """New minimum size, 0-1000. Default: unchanged."""
    max: NotRequired[int]
    """New maximum size, 0-1000. Default: unchanged."""
    desired: NotRequired[int]
    """New desired capacity, 0-1000. Default: unchanged."""
    time_zone: NotRequired[str]
    """IANA time zone of ``recurrence``. Default: UTC."""


class WarmPoolArgs(TypedDict):
    min_size: NotRequired[int]
    """Instances kept in the warm pool, 0-1000. Default: 0."""
    max_prepared_capacity: NotRequired[int]
    """Most instances in the group and the pool together, 0-1000. Default: the group's ``max``."""
    pool_state: NotRequired[str]
    """``Stopped`` (pay only for volumes) or ``Running``. Default: ``Stopped``."""
    reuse_on_scale_in: NotRequired[bool]
    """Return instances to the pool on scale in instead of terminating them. Default: false."""


class AutoscalingArgs(TypedDict):
    requests_per_target: NotRequired[int]
    """Also track ALB requests per instance (per minute) at this value, 1-1000000. Default: CPU tracking only."""
    schedules: NotRequired[Mapping[str, ScheduleArgs]]
    """Scheduled capacity changes by name (lowercase letters, digits, ``-``). Default: none."""
    warm_pool: NotRequired[WarmPoolArgs]
    """Pre-initialised instances for fast scale out (not with Spot or several instance types). Default: none."""


class VmServiceArgs(TypedDict):
    """A service on EC2 instances: the core spec plus the VM's own keys."""

    port: NotRequired[int]
    """Port the service listens on, 1-65535. Default: 8080."""
    health_check: NotRequired[HealthCheckArgs]
    """Target group health check. Default: the core spec's (``/health`` every 30 s), with a ``grace_period``
    of 300 s for VMs."""
    scaling: NotRequired[ScalingArgs]
    """Group size and CPU target. Default: the profile's capacity (dev 1-2, prod 2-10), 60% CPU.
    ``desired`` only sets the size of the group when it is created: later the scaling policies own it."""
    environment: NotRequired[Mapping[str, str]]
    """Plain environment variables, written to ``/etc/<name>/environment`` by user data. Default: none."""
    secrets: NotRequired[Mapping[str, str]]
    """Variable name -> SSM parameter or Secrets Manager ARN, fetched by the instance role into
    ``/run/<name>/secrets.env`` (tmpfs) before every start of the unit; never in user data. Default: none."""
    secrets_kms_keys: NotRequired[Sequence[str]]
    """ARNs of the customer-managed KMS keys that encrypt ``secrets``: the role may ``kms:Decrypt`` with them,
    only through Secrets Manager or SSM. Default: none (secrets under AWS managed keys need no grant)."""
    expose: NotRequired[str]
    """``public`` (internet-facing load balancer), ``internal`` (in the VPC) or ``none``. Default: ``internal``."""
    tags: NotRequired[Mapping[str, str]]
    """Extra tags on every resource. Default: none."""
    ami: AmiArgs | str
    """The image (required): an AMI id, ``{lookup: {version}}`` or ``{bake: {version}}``."""
    instance_type: NotRequired[str]
    """EC2 instance type. Default: the profile's (``t4g.small`` in dev, ``m7g.large`` in prod)."""
    instance_types: NotRequired[Sequence[str]]
    """Several instance types of one architecture, in order of preference (a mixed instances policy).
    Default: just ``instance_type``."""
    spot_percentage: NotRequired[int]
    """Share of capacity above ``on_demand_base_capacity`` on Spot, 0-100; Spot turns on capacity
    rebalancing. Default: 100 when the profile prefers Spot (dev) and there is no warm pool, else 0."""
    on_demand_base_capacity: NotRequired[int]
    """Instances always On-Demand before the Spot share applies, 0-1000. Default: 0."""
    root_volume_size: NotRequired[int]
    """Root volume (gp3, encrypted) in GiB, 8-16384. Default: 20."""
    key_name: NotRequired[str]
    """EC2 key pair for SSH. Default: none (use SSM Session Manager)."""
    metadata_hop_limit: NotRequired[int]
    """IMDSv2 response hop limit, 1-64. Default: 1 (containers on the host cannot reach instance credentials)."""
    load_balancer: NotRequired[LoadBalancerArgs]
    """Load balancer settings (see ``components.blocks.load_balancer``). Default: an ALB of its own."""
    rollout: NotRequired[RolloutArgs]
    """How a new launch template version (new AMI, new user data, other instance types) is rolled out: an
    instance refresh launches new instances before terminating old ones and is rolled back to the serving
    version if it fails. Default: a timeout of the grace period plus 600 s, warm-up of the grace period."""
    autoscaling: NotRequired[AutoscalingArgs]
    """Request-based scaling, schedules and a warm pool. Default: CPU target tracking only."""


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def _instance_types(spec: Mapping[str, Any], profile: Profile) -> list[str]:
    types = spec.get("instance_types")
    if isinstance(types, (list, tuple)) and types:
        return [str(t) for t in types]
    return [str(spec.get("instance_type") or profile.instance_type)]


def _spot_percentage(spec: Mapping[str, Any], profile: Profile) -> int:
    if spec.get("spot_percentage") is not None:
        return int(spec["spot_percentage"])
    warm = (spec.get("autoscaling") or {}).get("warm_pool") if isinstance(spec.get("autoscaling"), Mapping) else None
    return 100 if profile.spot and warm is None else 0


def _ami_spec(ami: Any) -> dict[str, Any]:
    return {"id": ami} if isinstance(ami, str) or is_unknown(ami) else dict(ami)


def validate_vm(name: str, spec: Mapping[str, Any], path: str | None = None, *,
                project_dir: Path | str | None = None, profile: Profile | str | None = None) -> Problems:
    """Every problem of a ``vm`` service ``spec`` (without ``pattern``) at ``path``."""
    path = name if path is None else path
    problems = Problems()
    if not problems.check_mapping(spec, path) or not isinstance(spec, Mapping):
        return problems
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    pdir = Path(project_dir) if project_dir is not None else Path.cwd()
    if "instance_refresh" in spec:
        problems.add(join_path(path, "instance_refresh"),
                     "is no longer used: a new launch template version is rolled out by an instance refresh "
                     "that the component starts and waits for; set rollout.timeout and "
                     "rollout.instance_warmup instead")
    problems.check_known_keys({k: v for k, v in spec.items() if k != "instance_refresh"}, CORE_KEYS + VM_KEYS, path)
    validate_core(spec, path, problems)
    validate_launch_settings(spec, path, problems)
    validate_load_balancer(spec.get("load_balancer"), join_path(path, "load_balancer"), problems, core=spec)

    _validate_instances(spec, path, problems, prof)
    _validate_ami(name, spec.get("ami"), join_path(path, "ami"), problems, pdir)
    _validate_image_architecture(spec, join_path(path, "ami"), problems, prof)
    _validate_rollout(spec, join_path(path, "rollout"), problems)
    _validate_autoscaling(spec, join_path(path, "autoscaling"), problems, prof)
    _validate_user_data_size(name, spec, path, problems, prof)
    return problems


#: EC2 takes at most 16 KB of user data, counted before base64 encoding.
USER_DATA_MAX = 16384


def _validate_user_data_size(name: str, spec: Mapping[str, Any], path: str, problems: Problems,
                             profile: Profile) -> None:
    env, secrets, port = spec.get("environment") or {}, spec.get("secrets") or {}, spec.get("port", 8080)
    plain = isinstance(env, Mapping) and isinstance(secrets, Mapping) and isinstance(port, int) and all(
        isinstance(k, str) and isinstance(v, str) for m in (env, secrets) for k, v in m.items())
    if not plain:
        return
    size = len(render_user_data(name, profile.name, port, env, secrets).encode())
    if size > USER_DATA_MAX:
        problems.add(join_path(path, "environment"),
                     f"makes the user data {size} bytes, more than EC2 allows ({USER_DATA_MAX}): move large "
                     "values into secrets or the image")


def _validate_instances(spec: Mapping[str, Any], path: str, problems: Problems, profile: Profile) -> None:
    types = spec.get("instance_types")
    tpath = join_path(path, "instance_types")
    if spec.get("instance_type") is not None and types is not None:
        problems.add(tpath, "cannot be set with instance_type: list every type in instance_types")
    if problems.check_list(types, tpath) and isinstance(types, (list, tuple)):
        if not types:
            problems.add(tpath, "must list at least one instance type")
        elif len(types) > 20:
            problems.add(tpath, f"must list at most 20 instance types, got {len(types)}")
        ok = True
        for i, t in enumerate(types):
            ok = problems.check_str(t, join_path(tpath, i), INSTANCE_TYPE_PATTERN,
                                    "an EC2 instance type such as 't4g.small'") and ok
        if ok and len(set(types)) != len(types):
            problems.add(tpath, "lists an instance type twice")
        if ok and len({architecture(t) for t in types}) > 1:
            shown = ", ".join(f"{t} ({architecture(t)})" for t in types)
            problems.add(tpath, f"must share one architecture (one AMI serves them all), got {shown}")
    problems.check_int(spec.get("spot_percentage"), join_path(path, "spot_percentage"), 0, 100, "percent")
    base = spec.get("on_demand_base_capacity")
    if problems.check_int(base, join_path(path, "on_demand_base_capacity"), 0, 1000) and isinstance(base, int):
        scaling = spec.get("scaling") if isinstance(spec.get("scaling"), Mapping) else {}
        top = scaling.get("max")
        if isinstance(top, int) and base > top:
            problems.add(join_path(path, "on_demand_base_capacity"), f"must be at most scaling.max ({top}), got {base}")


def _validate_ami(name: str, ami: Any, path: str, problems: Problems, project_dir: Path) -> None:
    if ami is None:
        problems.add(path, "is required: an AMI id, {lookup: {version: ...}} or {bake: {version: ...}}")
        return
    if not isinstance(ami, (str, Mapping)) and not is_unknown(ami):
        problems.add(path, f"must be an AMI id or a mapping with one of id, lookup, bake, got {ami!r}")
        return
    spec = _ami_spec(ami)
    problems.check_known_keys(spec, AMI_KEYS, path)
    kind = problems.check_exactly_one(spec, AMI_KEYS, path)
    if kind == "id":
        problems.check_str(spec["id"], path if isinstance(ami, str) else join_path(path, "id"), AMI_ID_PATTERN,
                           AMI_ID_EXAMPLE)
    elif kind == "lookup":
        lookup, lpath = spec["lookup"], join_path(path, "lookup")
        if problems.check_mapping(lookup, lpath) and isinstance(lookup, Mapping):
            problems.check_known_keys(lookup, LOOKUP_KEYS, lpath)
            if problems.require(lookup, "version", lpath, "the AMI's Version tag"):
                problems.check_str(str(lookup["version"]) if isinstance(lookup["version"], (int, float)) else
                                   lookup["version"], join_path(lpath, "version"), r"[\x20-\x7e]{1,256}",
                                   "a tag value of 1-256 printable characters")
            problems.check_str_map(lookup.get("tags"), join_path(lpath, "tags"))
    elif kind == "bake":
        _validate_bake(name, spec["bake"], join_path(path, "bake"), problems, project_dir)


#: Architecture names found in SSM parameter names of AMIs (Amazon Linux, ECS, EKS, Bottlerocket, Ubuntu).
_ARCH_WORDS = {"arm64": "arm64", "aarch64": "arm64", "x86_64": "x86_64", "amd64": "x86_64"}


def parameter_architecture(parameter: str) -> str | None:
    """The architecture an SSM parameter name states (``...-default-arm64``, ``.../amd64/...``), if any."""
    found = {arch for word, arch in _ARCH_WORDS.items() if re.search(rf"(^|[^a-z0-9]){word}($|[^a-z0-9])", parameter)}
    return found.pop() if len(found) == 1 else None


def _validate_image_architecture(spec: Mapping[str, Any], path: str, problems: Problems, profile: Profile) -> None:
    """The baked image's architecture (its build instance type and parent image) must be the fleet's:
    an x86_64 AMI on Graviton instances (or the reverse) fails every launch, after a long bake."""
    types = _instance_types(spec, profile)
    if not all(isinstance(t, str) and re.fullmatch(INSTANCE_TYPE_PATTERN, t) for t in types):
        return
    fleet = {architecture(t) for t in types}
    if len(fleet) != 1:
        return
    arch = fleet.pop()
    where = "instance_types" if spec.get("instance_types") else (
        "instance_type" if spec.get("instance_type") else "the profile's instance_type")
    shown = f"{where} ({', '.join(types)}: {arch})"
    ami = spec.get("ami")
    bake = ami.get("bake") if isinstance(ami, Mapping) else None
    if not isinstance(bake, Mapping):
        return
    build = bake.get("build_instance_type")
    if isinstance(build, str) and re.fullmatch(INSTANCE_TYPE_PATTERN, build) and architecture(build) != arch:
        problems.add(join_path(path, "bake.build_instance_type"),
                     f"builds {architecture(build)} images ({build!r}) but {shown} need {arch}: use a "
                     f"{arch} build instance type")
    parent = bake.get("parent_parameter")
    if isinstance(parent, str) and parameter_architecture(parent) not in (None, arch):
        problems.add(join_path(path, "bake.parent_parameter"),
                     f"names an {parameter_architecture(parent)} image ({parent!r}) but {shown} need {arch}")


def _validate_bake(name: str, bake: Any, path: str, problems: Problems, project_dir: Path) -> None:
    if not problems.check_mapping(bake, path) or not isinstance(bake, Mapping):
        return
    problems.check_known_keys(bake, BAKE_KEYS, path)
    if problems.require(bake, "version", path, "a semantic version such as '1.0.0'"):
        problems.check_str(bake["version"], join_path(path, "version"), VERSION_PATTERN,
                           "a semantic version major.minor.patch such as '1.4.2' (Image Builder requires it)")
    problems.check_str(bake.get("parent_parameter"), join_path(path, "parent_parameter"), SSM_PARAMETER_PATTERN,
                       "an SSM parameter name such as '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64'")
    problems.check_str(bake.get("build_instance_type"), join_path(path, "build_instance_type"), INSTANCE_TYPE_PATTERN,
                       "an EC2 instance type such as 't4g.small'")
    problems.check_str(bake.get("schedule"), join_path(path, "schedule"), r"cron\(.+\)",
                       "an Image Builder cron expression such as 'cron(0 3 ? * MON *)'")
    problems.check_int(bake.get("keep"), join_path(path, "keep"), KEEP_MIN, KEEP_MAX, "AMIs")
    problems.check_int(bake.get("timeout"), join_path(path, "timeout"), BAKE_TIMEOUT_MIN, BAKE_TIMEOUT_MAX, "minutes")
    document = bake.get("document", DEFAULT_DOCUMENT)
    dpath = join_path(path, "document")
    if not problems.check_str(document, dpath, r"[A-Za-z0-9_.\-/]+\.ya?ml",
                              "a .yaml file name inside the service's folder"):
        return
    folder = (project_dir / "services" / name).resolve()
    file = (folder / document).resolve()
    if folder not in file.parents:
        problems.add(dpath, f"must stay inside services/{name}/, got {document!r}")
    elif not file.is_file():
        problems.add(dpath, f"services/{name}/{document} does not exist (the Image Builder component document)")
    else:
        try:
            doc = yaml.safe_load(file.read_text())
        except yaml.YAMLError as err:
            problems.add(dpath, f"services/{name}/{document} is not valid YAML: {str(err).splitlines()[0]}")
            return
        if not isinstance(doc, Mapping) or "phases" not in doc or "schemaVersion" not in doc:
            problems.add(dpath, f"services/{name}/{document} must be an Image Builder component document "
                                "with schemaVersion and phases")


def rollout_timeout(spec: Mapping[str, Any]) -> int:
    """Seconds a rollout waits for the new group: ``rollout.timeout`` or the grace period plus 600."""
    rollout = spec.get("rollout") if isinstance(spec.get("rollout"), Mapping) else {}
    if isinstance(rollout.get("timeout"), int):
        return rollout["timeout"]
    return _grace_period(spec) + DEFAULT_ROLLOUT_MARGIN


def _grace_period(spec: Mapping[str, Any]) -> int:
    hc = spec.get("health_check") if isinstance(spec.get("health_check"), Mapping) else {}
    grace = hc.get("grace_period", DEFAULT_GRACE_PERIOD)
    return grace if isinstance(grace, int) and not isinstance(grace, bool) else DEFAULT_GRACE_PERIOD


def _validate_rollout(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    rollout = spec.get("rollout")
    if not problems.check_mapping(rollout, path) or not isinstance(rollout, Mapping):
        return
    problems.check_known_keys(rollout, ROLLOUT_KEYS, path)
    timeout = rollout.get("timeout")
    if problems.check_int(timeout, join_path(path, "timeout"), ROLLOUT_TIMEOUT_MIN, ROLLOUT_TIMEOUT_MAX,
                          "seconds") and isinstance(timeout, int):
        grace = _grace_period(spec)
        if timeout <= grace:
            problems.add(join_path(path, "timeout"),
                         f"must be more than health_check.grace_period ({grace} s), got {timeout}: "
                         "instances are not healthy before the grace period ends")
    problems.check_int(rollout.get("instance_warmup"), join_path(path, "instance_warmup"), 0, 3600, "seconds")


def _validate_autoscaling(spec: Mapping[str, Any], path: str, problems: Problems, profile: Profile) -> None:
    auto = spec.get("autoscaling")
    if not problems.check_mapping(auto, path) or not isinstance(auto, Mapping):
        return
    problems.check_known_keys(auto, AUTOSCALING_KEYS, path)
    rpt = auto.get("requests_per_target")
    problems.check_int(rpt, join_path(path, "requests_per_target"), 1, 1_000_000)
    lb = spec.get("load_balancer") if isinstance(spec.get("load_balancer"), Mapping) else {}
    if rpt is not None and (spec.get("expose") == "none" or lb.get("type") == "nlb"):
        problems.add(join_path(path, "requests_per_target"), "needs an ALB (expose public or internal, type alb)")

    schedules, spath = auto.get("schedules"), join_path(path, "schedules")
    if problems.check_mapping(schedules, spath) and isinstance(schedules, Mapping):
        for key, sched in schedules.items():
            kpath = join_path(spath, str(key))
            if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?", str(key)):
                problems.add(kpath, "schedule names are lowercase letters, digits and '-', at most 32 characters")
            if not problems.check_mapping(sched, kpath) or not isinstance(sched, Mapping):
                continue
            problems.check_known_keys(sched, SCHEDULE_KEYS, kpath)
            if problems.require(sched, "recurrence", kpath, "a cron expression such as '0 8 * * 1-5'"):
                problems.check_str(sched["recurrence"], join_path(kpath, "recurrence"), CRON_PATTERN,
                                   "a five-field cron expression such as '0 8 * * 1-5'")
            sizes = {k: sched.get(k) for k in ("min", "max", "desired")}
            ok = all(problems.check_int(v, join_path(kpath, k), 0, 1000) for k, v in sizes.items())
            if all(v is None for v in sizes.values()):
                problems.add(kpath, "must set at least one of min, max, desired")
            elif ok:
                lo, hi, want = sizes["min"], sizes["max"], sizes["desired"]
                if lo is not None and hi is not None and lo > hi:
                    problems.add(join_path(kpath, "min"), f"must be at most max ({hi}), got {lo}")
                if want is not None and ((lo is not None and want < lo) or (hi is not None and want > hi)):
                    problems.add(join_path(kpath, "desired"), f"must be between min and max, got {want}")
            problems.check_str(sched.get("time_zone"), join_path(kpath, "time_zone"), TIME_ZONE_PATTERN,
                               "an IANA time zone such as 'Europe/Paris'")

    warm, wpath = auto.get("warm_pool"), join_path(path, "warm_pool")
    if problems.check_mapping(warm, wpath) and isinstance(warm, Mapping):
        problems.check_known_keys(warm, WARM_POOL_KEYS, wpath)
        problems.check_int(warm.get("min_size"), join_path(wpath, "min_size"), 0, 1000)
        problems.check_int(warm.get("max_prepared_capacity"), join_path(wpath, "max_prepared_capacity"), 0, 1000)
        problems.check_enum(warm.get("pool_state"), join_path(wpath, "pool_state"), ("Stopped", "Running"))
        problems.check_bool(warm.get("reuse_on_scale_in"), join_path(wpath, "reuse_on_scale_in"))
        spot = spec.get("spot_percentage")
        if isinstance(spot, int) and spot > 0:
            problems.add(wpath, f"cannot be used with Spot instances (spot_percentage is {spot}); set it to 0")
        types = spec.get("instance_types")
        if isinstance(types, (list, tuple)) and len(types) > 1:
            problems.add(wpath, "cannot be used with several instance_types (a mixed instances policy)")


# ---------------------------------------------------------------------------------------------
# User data
# ---------------------------------------------------------------------------------------------

def _env_line(key: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{key}="{escaped}"'


def render_user_data(name: str, environment: str, port: int, env: Mapping[str, str],
                     secrets: Mapping[str, str]) -> str:
    """The boot script: writes the plain environment for the ``<name>`` systemd unit and, with secrets, a
    script the unit runs before every start (``ExecStartPre``) that fetches each secret by ARN with the
    instance role into tmpfs; then (re)starts the unit. Secret values never appear here.

    Fetching on every start, not once at first boot, matters because ``/run`` is empty again after a
    reboot or a warm pool's stop and start, and user data runs only once. A failed fetch fails the start
    (and the boot script) instead of starting the service without its secrets."""
    plain = {"PORT": str(port), "SERVICE_NAME": name, "ENVIRONMENT": environment, **env}
    lines = [
        "#!/bin/bash",
        f"# {name}: rendered by microservices:vm:VmService. Secrets are fetched at boot, never stored here.",
        "set -euo pipefail",
        f"install -d -m 0755 /etc/{name}",
        f"cat > /etc/{name}/environment <<'MICROSERVICES_ENV'",
        *[_env_line(k, plain[k]) for k in sorted(plain)],
        "MICROSERVICES_ENV",
    ]
    if secrets:
        script = f"/usr/local/libexec/{name}-secrets"
        lines += [
            "install -d -m 0755 /usr/local/libexec",
            f"cat > {script} <<'MICROSERVICES_SECRETS'",
            "#!/bin/bash",
            "set -euo pipefail",
            "fetch() {",
            '  local arn="$1" region',
            '  region="$(cut -d: -f4 <<<"$arn")"',
            '  case "$arn" in',
            '    *:ssm:*) aws ssm get-parameter --region "$region" --name "$arn" --with-decryption '
            '--query Parameter.Value --output text ;;',
            '    *) aws secretsmanager get-secret-value --region "$region" --secret-id "$arn" '
            '--query SecretString --output text ;;',
            "  esac",
            "}",
            # Escape backslashes and quotes so systemd reads the value back verbatim.
            "escape() { sed 's/[\\\\\"]/\\\\&/g'; }",
            f"install -d -m 0700 /run/{name}",
            f'tmp="$(mktemp /run/{name}/secrets.env.XXXXXX)"',
            "trap 'rm -f \"$tmp\"' EXIT",
        ]
        for key in sorted(secrets):
            # An assignment, so that a failed fetch stops the script under `set -e`.
            lines += [f"value=\"$(fetch {shlex.quote(secrets[key])})\"",
                      f"printf '%s=\"%s\"\\n' {key} \"$(escape <<<\"$value\")\" >> \"$tmp\""]
        lines += [
            f'mv -f "$tmp" /run/{name}/secrets.env',
            "trap - EXIT",
            "MICROSERVICES_SECRETS",
            f"chmod 0700 {script}",
            f"install -d -m 0755 /etc/systemd/system/{name}.service.d",
            f"cat > /etc/systemd/system/{name}.service.d/secrets.conf <<'MICROSERVICES_UNIT'",
            "[Service]",
            # '+' runs it as root although the unit runs as its own user; the unit reads the file next.
            f"ExecStartPre=+{script}",
            "MICROSERVICES_UNIT",
        ]
    lines += [
        "systemctl daemon-reload",
        f"systemctl enable {name}.service",
        f"systemctl restart {name}.service",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The component
# ---------------------------------------------------------------------------------------------

class VmService(pulumi.ComponentResource):
    """A service on EC2: an AMI per service, a launch template, an Auto Scaling Group across the private
    subnets, rolled to every new launch template version by an instance refresh, a load balancer, scaling
    policies and alarms."""

    asg_name: pulumi.Output[str]
    """Name of the Auto Scaling Group."""
    launch_template_id: pulumi.Output[str]
    """Id of the launch template."""
    launch_template_version: pulumi.Output[str]
    """The launch template version the group runs once this ``up`` has rolled it out."""
    rollout: InstanceRefresh
    """The rollout of the launch template version to the group (an instance refresh, waited for)."""
    ami_id: pulumi.Output[str]
    """The AMI the instances launch from."""
    security_group_id: pulumi.Output[str]
    """Security group of the instances."""
    role_arn: pulumi.Output[str]
    """ARN of the instance role."""
    url: pulumi.Output[str | None]
    """URL of the service through its load balancer (None with ``expose: none``)."""
    alarm_names: pulumi.Output[list[str]]
    """Names of the service's alarms (unhealthy hosts, 5xx rate, p99 latency)."""

    def __init__(self, name: str, args: VmServiceArgs, opts: pulumi.ResourceOptions | None = None, *,
                 network: Any = None, profile: Profile | str | None = None, project_dir: Path | str | None = None,
                 shared_load_balancer: Any = None):
        spec = dict(args or {})
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        pdir = Path(project_dir) if project_dir is not None else Path.cwd()
        problems = validate_vm(name, spec, name, project_dir=pdir, profile=prof)
        if network is None:
            problems.add(f"{name}.network", "is required: pass network=Network(...) or a dict of its outputs")
        problems.raise_if_any()
        super().__init__("microservices:vm:VmService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        core = resolve_core(spec, prof, default_port=8080, default_grace_period=DEFAULT_GRACE_PERIOD)
        tags = standard_tags(name, prof.name, core.tags)
        types = _instance_types(spec, prof)
        private_subnets = network_value(network, "private_subnet_ids")

        sg = service_security_group(name, vpc_id=network_value(network, "vpc_id"), tags=tags, opts=child)
        root_volume_size = int(spec.get("root_volume_size", 20))
        ami_id = self._ami(name, _ami_spec(spec["ami"]), types, tags, network, pdir, child, root_volume_size)

        role = instance_role(name, tags=tags, statements=secret_read_statements(core.secrets.values(),
                                                                                  kms_keys=core.secrets_kms_keys),
                             opts=child)
        user_data = render_user_data(name, prof.name, core.port, core.environment, core.secrets)
        lt = launch_template(name, image_id=ami_id, instance_type=types[0], security_group_ids=[sg.id],
                             instance_profile_arn=role.profile.arn, user_data=user_data, tags=tags,
                             hop_limit=int(spec.get("metadata_hop_limit", 1)),
                             root_volume_size=root_volume_size, key_name=spec.get("key_name"),
                             opts=child)

        lb = alarms = None
        if core.expose != "none":
            lb = ServiceLoadBalancer(name, spec.get("load_balancer") or {}, child, core=core, network=network,
                                     profile=prof, target_type="instance", target_security_group_id=sg.id,
                                     shared=shared_load_balancer, tags=core.tags)
            alarms = standard_alarms(name, lb, profile=prof, tags=tags, opts=child)

        group = self._group(name, spec, core, prof, lt, types, private_subnets, lb, alarms, tags, child,
                            role.policies)
        self._scaling(name, spec, core, group, lb, child)
        self.rollout = self._rollout(name, spec, core, prof, lt, types, group, alarms, lb, child)

        self.asg_name = group.name
        self.launch_template_id = lt.id
        self.launch_template_version = pulumi.Output.all(self.rollout.status, lt.latest_version).apply(
            lambda v: str(v[1]))
        self.ami_id = pulumi.Output.from_input(ami_id)
        self.security_group_id = sg.id
        self.role_arn = role.role.arn
        self.url = lb.url if lb is not None else pulumi.Output.from_input(None)
        self.alarm_names = pulumi.Output.all(*(alarms.names if alarms else []))
        self.register_outputs({"asg_name": self.asg_name, "launch_template_id": self.launch_template_id,
                               "launch_template_version": self.launch_template_version, "ami_id": self.ami_id,
                               "security_group_id": self.security_group_id, "role_arn": self.role_arn,
                               "url": self.url, "alarm_names": self.alarm_names})

    # -- the image --------------------------------------------------------------------------------
    def _ami(self, name: str, ami: Mapping[str, Any], types: list[str], tags: Mapping[str, str], network: Any,
             project_dir: Path, child: pulumi.ResourceOptions, root_volume_size: int) -> pulumi.Input[str]:
        if ami.get("id") is not None:
            # An explicit id says nothing about its architecture until AWS is asked: fail the preview, not
            # every launch, when it is not the fleet's.
            found = aws.ec2.get_ami_output(filters=[{"name": "image-id", "values": [ami["id"]]}],
                                           include_deprecated=True, opts=pulumi.InvokeOutputOptions(parent=self))
            return pulumi.Output.all(ami["id"], found.architecture).apply(
                lambda v: check_image_architecture(name, v[0], v[1], types))
        if ami.get("lookup") is not None:
            lookup = ami["lookup"]
            wanted = {**{str(k): str(v) for k, v in (lookup.get("tags") or {}).items()},
                      "Service": name, "Version": str(lookup["version"])}
            # Only an AMI of the fleet's architecture: another one would fail every launch.
            found = aws.ec2.get_ami_output(
                owners=["self"], most_recent=True,
                filters=[{"name": f"tag:{k}", "values": [wanted[k]]} for k in sorted(wanted)]
                + [{"name": "architecture", "values": [architecture(types[0])]},
                   {"name": "state", "values": ["available"]}],
                opts=pulumi.InvokeOutputOptions(parent=self))
            return found.id
        return self._bake(name, ami["bake"], types, tags, network, project_dir, child, root_volume_size)

    def _bake(self, name: str, bake: Mapping[str, Any], types: list[str], tags: Mapping[str, str], network: Any,
              project_dir: Path, child: pulumi.ResourceOptions, root_volume_size: int) -> pulumi.Output[str]:
        version = str(bake["version"])
        document = bake.get("document", DEFAULT_DOCUMENT)
        data = (project_dir / "services" / name / document).read_text()
        build_type = bake.get("build_instance_type", types[0])
        parameter = bake.get("parent_parameter") or AL2023_PARAMETER.format(arch=architecture(build_type))
        image_tags = {**tags, "Version": version}

        component = aws.imagebuilder.Component(
            f"{name}-component", platform="Linux", version=version, data=data,
            description=f"Installs {name} {version} as a systemd unit", supported_os_versions=["Amazon Linux 2023"],
            tags=image_tags, opts=child)
        # "ssm:<parameter>" makes Image Builder resolve the parent AMI when it builds: resolving it here
        # would replace the recipe and re-bake the image on every plan after each Amazon Linux release.
        # The image's root volume is the launch template's: a smaller template volume than the AMI's
        # snapshot fails every launch.
        recipe = aws.imagebuilder.ImageRecipe(
            f"{name}-recipe", version=version, parent_image=f"ssm:{parameter}",
            components=[{"component_arn": component.arn}],
            block_device_mappings=[{"device_name": "/dev/xvda",
                                    "ebs": {"volume_size": root_volume_size, "volume_type": "gp3",
                                            "encrypted": "true", "delete_on_termination": "true"}}],
            tags=image_tags, opts=child)
        builder = instance_role(f"{name}-build", tags=tags, managed_policy_arns=[EC2_IMAGE_BUILDER_POLICY],
                                opts=child)
        build_sg = service_security_group(f"{name}-build", vpc_id=network_value(network, "vpc_id"), tags=tags,
                                          opts=child)
        subnet = pulumi.Output.from_input(network_value(network, "private_subnet_ids")).apply(lambda ids: ids[0])
        infra = aws.imagebuilder.InfrastructureConfiguration(
            f"{name}-infra", instance_profile_name=builder.profile.name, instance_types=[build_type],
            subnet_id=subnet, security_group_ids=[build_sg.id], terminate_instance_on_failure=True,
            instance_metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
            resource_tags=dict(tags), tags=dict(tags), opts=child)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        distribution = aws.imagebuilder.DistributionConfiguration(
            f"{name}-dist",
            distributions=[{"region": region, "ami_distribution_configuration": {
                "name": f"{name}-{version}-{{{{ imagebuilder:buildDate }}}}",
                "description": f"{name} {version}",
                "ami_tags": {"Service": name, "Version": version, "ManagedBy": "pulumi"}}}],
            tags=dict(tags), opts=child)
        tests = {"image_tests_enabled": True, "timeout_minutes": IMAGE_TESTS_TIMEOUT}
        pipeline_kwargs: dict[str, Any] = {}
        if bake.get("schedule"):
            pipeline_kwargs["schedule"] = {
                "schedule_expression": bake["schedule"],
                "pipeline_execution_start_condition": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"}
        aws.imagebuilder.ImagePipeline(
            f"{name}-pipeline", image_recipe_arn=recipe.arn, infrastructure_configuration_arn=infra.arn,
            distribution_configuration_arn=distribution.arn, status="ENABLED", image_tests_configuration=tests,
            tags=dict(tags), opts=child, **pipeline_kwargs)
        # The build instance needs its SSM and Image Builder permissions from the first minute.
        image = aws.imagebuilder.Image(
            f"{name}-image", image_recipe_arn=recipe.arn, infrastructure_configuration_arn=infra.arn,
            distribution_configuration_arn=distribution.arn, image_tests_configuration=tests,
            tags={**image_tags, KEEP_IMAGE_TAG: _keep_value(name)},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=builder.policies,
                custom_timeouts=pulumi.CustomTimeouts(create=f"{int(bake.get('timeout', DEFAULT_BAKE_TIMEOUT))}m"))))
        self._ami_lifecycle(name, recipe, version, int(bake.get("keep", DEFAULT_KEEP)), tags, child)
        # The newest AMI this recipe version produced: the image above, or a later run of the pipeline
        # (its schedule re-bakes on parent image updates). Image Builder tags each AMI it distributes with
        # the build's ARN, ".../image/<recipe>/<version>/<build>". A new one is a new launch template
        # version in the next preview, rolled out by an instance refresh.
        builds = image.arn.apply(lambda arn: arn.rsplit("/", 1)[0] + "/*")
        newest = aws.ec2.get_ami_output(
            owners=["self"], most_recent=True,
            filters=[{"name": "tag:Ec2ImageBuilderArn", "values": [builds]},
                     {"name": "state", "values": ["available"]}],
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[image]))
        # The AMI the launch template uses must outlive the lifecycle policy's count: a stable group may not
        # launch an instance for 30 days (the last_launched exclusion) while scheduled re-bakes push it past
        # `keep`, and a deregistered AMI fails every later launch (scale-out, replacement of an unhealthy
        # instance). Tagged while in use; a new AMI moves the tag (replaced, created before deleted).
        aws.ec2.Tag(f"{name}-ami-in-use", resource_id=newest.id, key=IN_USE_TAG, value=_keep_value(name),
                    opts=child)
        return newest.id

    def _ami_lifecycle(self, name: str, recipe: aws.imagebuilder.ImageRecipe, version: str, keep: int,
                       tags: Mapping[str, str], child: pulumi.ResourceOptions) -> None:
        """Deregister this version's AMIs beyond the newest ``keep``, with their snapshots."""
        role = aws.iam.Role(f"{name}-lifecycle", assume_role_policy=assume_role_policy("imagebuilder.amazonaws.com"),
                            description=f"{name}: Image Builder deletes old AMIs", tags=dict(tags), opts=child)
        attachment = aws.iam.RolePolicyAttachment(f"{name}-lifecycle", role=role.name,
                                                  policy_arn=EC2_IMAGE_BUILDER_LIFECYCLE_POLICY, opts=child)
        aws.imagebuilder.LifecyclePolicy(
            f"{name}-amis", description=f"Keep the newest {keep} AMIs of {name} {version}",
            execution_role=role.arn, resource_type="AMI_IMAGE", status="ENABLED",
            resource_selection={"recipes": [{"name": recipe.name, "semantic_version": version}]},
            policy_details=[{
                "action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
                "filter": {"type": "COUNT", "value": keep},
                # Never the AMI the group launches (tagged in _bake), nor the image of the Image resource,
                # whose deletion would make `pulumi refresh` drop it and the next `up` bake again.
                "exclusion_rules": {
                    "amis": {"last_launched": {"unit": "DAYS", "value": LIFECYCLE_IN_USE_DAYS},
                             "tag_map": {IN_USE_TAG: _keep_value(name)}},
                    "tag_map": {KEEP_IMAGE_TAG: _keep_value(name)}},
            }],
            tags=dict(tags),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[attachment])))

    # -- the group --------------------------------------------------------------------------------
    def _group(self, name: str, spec: Mapping[str, Any], core: Any, prof: Profile, lt: aws.ec2.LaunchTemplate,
               types: list[str], subnets: Any, lb: ServiceLoadBalancer | None, alarms: Any,
               tags: Mapping[str, str], child: pulumi.ResourceOptions,
               role_policies: Sequence[pulumi.Resource] = ()) -> aws.autoscaling.Group:
        version = lt.latest_version.apply(str)
        rollout = dict(spec.get("rollout") or {})
        kwargs: dict[str, Any] = {}
        mixed = mixed_instances(spec, prof, types)
        if mixed is not None:
            kwargs["mixed_instances_policy"] = {
                "launch_template": {
                    "launch_template_specification": {"launch_template_id": lt.id, "version": version},
                    "overrides": [{"instance_type": o["InstanceType"]} for o in mixed["LaunchTemplate"]["Overrides"]],
                },
                "instances_distribution": {
                    "on_demand_base_capacity": mixed["InstancesDistribution"]["OnDemandBaseCapacity"],
                    "on_demand_percentage_above_base_capacity":
                        mixed["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"],
                    "on_demand_allocation_strategy": mixed["InstancesDistribution"]["OnDemandAllocationStrategy"],
                    "spot_allocation_strategy": mixed["InstancesDistribution"]["SpotAllocationStrategy"],
                },
            }
            kwargs["capacity_rebalance"] = _spot_percentage(spec, prof) > 0
        else:
            kwargs["launch_template"] = {"id": lt.id, "version": version}
        warm = ((spec.get("autoscaling") or {}).get("warm_pool"))
        if warm is not None:
            kwargs["warm_pool"] = {
                "min_size": int(warm.get("min_size", 0)),
                "max_group_prepared_capacity": int(warm.get("max_prepared_capacity", core.scaling.max)),
                "pool_state": warm.get("pool_state", "Stopped"),
                "instance_reuse_policy": {"reuse_on_scale_in": bool(warm.get("reuse_on_scale_in", False))},
            }
        if lb is not None:
            kwargs["target_group_arns"] = [lb.target_group_arn]
            # The first deploy waits until the first instances are healthy in the load balancer. Only on
            # creation: wait_for_elb_capacity would wait for exactly that many on every later update of the
            # group, whatever size autoscaling has moved it to since.
            kwargs["min_elb_capacity"] = core.scaling.desired
        grace = core.health_check.grace_period
        return aws.autoscaling.Group(
            f"{name}-asg",
            min_size=core.scaling.min, max_size=core.scaling.max, desired_capacity=core.scaling.desired,
            vpc_zone_identifiers=subnets,
            health_check_type="ELB" if lb is not None else "EC2",
            health_check_grace_period=grace,
            default_instance_warmup=int(rollout.get("instance_warmup", grace)),
            wait_for_capacity_timeout=f"{rollout_timeout(spec)}s",
            # One failed launch (no Spot capacity in one pool, an AZ out of an instance type) would otherwise
            # fail the first deploy's wait at once (terraform-provider-aws#29753, #33665), though the group
            # retries other pools and AZs. The timeout still bounds the wait.
            ignore_failed_scaling_activities=True,
            enabled_metrics=["GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
                             "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances"],
            metrics_granularity="1Minute",
            termination_policies=["OldestLaunchTemplate", "Default"],
            tags=[{"key": k, "value": v, "propagate_at_launch": False} for k, v in sorted(tags.items())],
            # One group for the service's life. Pulumi never moves its launch template version: the
            # instance refresh (self._rollout) does, and Auto Scaling saves the new version on the group only
            # when the refresh succeeds, so a failed one rolls back to the serving version. Updating the group
            # first (the provider's instance_refresh block) would roll back to the new version
            # (terraform-provider-aws#34189).
            # A target group on no listener yet does not health-check its targets ("unused"): create the
            # group, which relies on ELB health checks, once the listener or shared ALB rule exists.
            # The first instances fetch their secrets at boot: the role's policies must exist by then.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                ignore_changes=list(GROUP_IGNORED),
                depends_on=[*role_policies, *([lb.attachment] if lb is not None else [])])),
            **kwargs)

    def _rollout(self, name: str, spec: Mapping[str, Any], core: Any, prof: Profile, lt: aws.ec2.LaunchTemplate,
                 types: list[str], group: aws.autoscaling.Group, alarms: Any,
                 lb: ServiceLoadBalancer | None, child: pulumi.ResourceOptions) -> InstanceRefresh:
        """Roll the group to the launch template's latest version (nothing to do on the first deploy)."""
        rollout = dict(spec.get("rollout") or {})
        return InstanceRefresh(f"{name}-rollout", {
            "group": group.name, "launch_template_id": lt.id, "version": lt.latest_version.apply(str),
            "mixed_instances_policy": mixed_instances(spec, prof, types),
            "instance_warmup": int(rollout.get("instance_warmup", core.health_check.grace_period)),
            # Any of the service's alarms in ALARM fails the refresh, which then rolls back.
            "alarms": list(alarms.names) if alarms is not None else [],
            "timeout_seconds": rollout_timeout(spec),
            # The first deploy's rollout also checks that the group is healthy in its load balancer: after a
            # failed first deploy, the next `up` only updates the group, which waits for nothing.
            "target_group_arn": lb.target_group_arn if lb is not None else "",
            "min_healthy": core.scaling.desired if lb is not None else 0,
            **stack_settings(Account(self).region),
        }, opts=child)

    def _scaling(self, name: str, spec: Mapping[str, Any], core: Any, group: aws.autoscaling.Group,
                 lb: ServiceLoadBalancer | None, child: pulumi.ResourceOptions) -> None:
        aws.autoscaling.Policy(
            f"{name}-cpu", autoscaling_group_name=group.name, policy_type="TargetTrackingScaling",
            target_tracking_configuration={
                "predefined_metric_specification": {"predefined_metric_type": "ASGAverageCPUUtilization"},
                "target_value": core.scaling.target_cpu},
            opts=child)
        auto = spec.get("autoscaling") or {}
        if auto.get("requests_per_target") is not None and lb is not None:
            label = pulumi.Output.concat(lb.arn_suffix, "/", lb.target_group_arn_suffix)
            aws.autoscaling.Policy(
                f"{name}-requests", autoscaling_group_name=group.name, policy_type="TargetTrackingScaling",
                target_tracking_configuration={
                    "predefined_metric_specification": {"predefined_metric_type": "ALBRequestCountPerTarget",
                                                        "resource_label": label},
                    "target_value": auto["requests_per_target"]},
                opts=child)
        for key in sorted(auto.get("schedules") or {}):
            sched = auto["schedules"][key]
            aws.autoscaling.Schedule(
                f"{name}-schedule-{key}", autoscaling_group_name=group.name, scheduled_action_name=key,
                recurrence=sched["recurrence"], time_zone=sched.get("time_zone", "UTC"),
                min_size=sched.get("min", -1), max_size=sched.get("max", -1),
                desired_capacity=sched.get("desired", -1), opts=child)


def mixed_instances(spec: Mapping[str, Any], profile: Profile, types: Sequence[str]) -> dict[str, Any] | None:
    """The group's mixed instances policy in the Auto Scaling API's shape, without its launch template
    specification (the rollout adds the version), or None for a single On-Demand instance type."""
    spot = _spot_percentage(spec, profile)
    if len(types) <= 1 and spot <= 0:
        return None
    return {
        "LaunchTemplate": {"Overrides": [{"InstanceType": t} for t in types]},
        "InstancesDistribution": {
            "OnDemandBaseCapacity": int(spec.get("on_demand_base_capacity", 0)),
            "OnDemandPercentageAboveBaseCapacity": 100 - spot,
            "OnDemandAllocationStrategy": "prioritized",
            "SpotAllocationStrategy": "price-capacity-optimized",
        },
    }


def _keep_value(name: str) -> str:
    """``<project>/<stack>/<service>``: whose AMI or image the lifecycle policy must keep."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"


def check_image_architecture(name: str, image_id: str, image_arch: str | None, types: Sequence[str]) -> str:
    """``image_id`` when its architecture is the fleet's; else the error a preview reports."""
    fleet = architecture(types[0])
    if image_arch and image_arch != fleet:
        raise ValueError(f"{name}.ami: {image_id} is an {image_arch} image but the instance types "
                         f"({', '.join(types)}) are {fleet}: every launch would fail; use an {fleet} AMI")
    return image_id


def _first_ami(resources: Any) -> str:
    for resource in resources or []:
        amis = resource.get("amis") if isinstance(resource, Mapping) else getattr(resource, "amis", None)
        for ami in amis or []:
            image = ami.get("image") if isinstance(ami, Mapping) else getattr(ami, "image", None)
            if image:
                return image
    raise ValueError("the Image Builder image produced no AMI")


# ---------------------------------------------------------------------------------------------
# The pattern
# ---------------------------------------------------------------------------------------------

def _validate(name: str, spec: Mapping[str, Any], path: str, vctx: ValidationContext) -> Problems:
    return validate_vm(name, spec, path, project_dir=vctx.project_dir, profile=vctx.profile)


def _prepare(specs: Mapping[str, Mapping[str, Any]], ctx: BuildContext) -> None:
    prepare_shared_load_balancers(specs, ctx)


def _build(name: str, spec: Mapping[str, Any], ctx: BuildContext) -> VmService:
    service = VmService(name, dict(spec), pulumi.ResourceOptions(parent=ctx.parent), network=ctx.network,
                        profile=ctx.profile, project_dir=ctx.project_dir,
                        shared_load_balancer=shared_load_balancer(spec, ctx))
    ctx.outputs[name] = {"url": service.url, "asg_name": service.asg_name, "ami_id": service.ami_id,
                         "launch_template_version": service.launch_template_version}
    return service


PATTERN = Pattern(
    name="vm",
    validate=_validate,
    build=_build,
    prepare=_prepare,
    local_skip_reason="VM services run on EC2 (an AMI and an Auto Scaling Group); the local profile "
                      "runs only Docker-host patterns",
)
