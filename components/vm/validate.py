"""Validation of a ``vm`` service: every problem of a spec at once, each with its path, the value given and what
is allowed, before anything is registered. Works on the raw spec (wrong types, values not known yet)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..blocks.architecture import instance_architecture as architecture
from ..blocks.launch_template import (AMI_ID_EXAMPLE, AMI_ID_PATTERN, INSTANCE_TYPE_PATTERN, LAUNCH_KEYS,
                                      validate_launch_settings)
from ..blocks.load_balancer import validate_load_balancer
from ..blocks.service import CORE_KEYS, validate_core
from ..profiles import Profile, get_profile
from ..validation import Problems, is_unknown, join_path
from .args import DEFAULT_GRACE_PERIOD, DEFAULT_PORT, Bake, instance_types
from .user_data import render_user_data

__all__ = ["VM_KEYS", "parameter_architecture", "validate_vm"]

VM_KEYS = ("ami", "instance_types", "spot_percentage", "on_demand_base_capacity", "load_balancer",
           "rollout", "autoscaling") + LAUNCH_KEYS
AMI_KEYS = ("id", "lookup", "bake")
LOOKUP_KEYS = ("version", "tags")
BAKE_KEYS = ("version", "document", "parent_parameter", "build_instance_type", "schedule", "keep", "timeout")
ROLLOUT_KEYS = ("timeout", "instance_warmup")
AUTOSCALING_KEYS = ("requests_per_target", "schedules", "warm_pool")
SCHEDULE_KEYS = ("recurrence", "min", "max", "desired", "time_zone")
WARM_POOL_KEYS = ("min_size", "max_prepared_capacity", "pool_state", "reuse_on_scale_in")

BAKE_TIMEOUT_MIN, BAKE_TIMEOUT_MAX = 60, 1440
KEEP_MIN, KEEP_MAX = 2, 100
ROLLOUT_TIMEOUT_MIN, ROLLOUT_TIMEOUT_MAX = 300, 7200
#: Image Builder component and recipe versions are semantic versions ``major.minor.patch``.
VERSION_PATTERN = r"\d+\.\d+\.\d+"
SSM_PARAMETER_PATTERN = r"/[A-Za-z0-9_.\-/]+"
CRON_PATTERN = r"\S+ \S+ \S+ \S+ \S+"
TIME_ZONE_PATTERN = r"[A-Za-z]+(/[A-Za-z0-9_+\-]+)*|UTC"
#: EC2 takes at most 16 KB of user data, counted before base64 encoding.
USER_DATA_MAX = 16384


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



def _validate_user_data_size(name: str, spec: Mapping[str, Any], path: str, problems: Problems,
                             profile: Profile) -> None:
    env, secrets = spec.get("environment") or {}, spec.get("secrets") or {}
    port = DEFAULT_PORT if spec.get("port") is None else spec["port"]
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
    types = instance_types(spec, profile)
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
    document = Bake.document if bake.get("document") is None else bake["document"]
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


def _grace_period(spec: Mapping[str, Any]) -> int:
    hc = spec.get("health_check") if isinstance(spec.get("health_check"), Mapping) else {}
    grace = hc.get("grace_period")
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

