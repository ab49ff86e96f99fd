"""Read a Pulumi project the way the CLI does: ``Pulumi.yaml``, its ``stackConfigDir``, the stack file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Project", "ProjectError", "load_project"]

SECRET_PLACEHOLDER = "[secret]"


class ProjectError(Exception):
    """The project or stack files are missing or malformed."""


@dataclass
class Project:
    name: str
    directory: Path
    main: Path
    stack: str
    stack_file: Path
    config: dict[str, Any] = field(default_factory=dict)
    """Full keys (``aws:region``, ``microservices:services``) -> values; structured values stay structured."""
    secret_keys: list[str] = field(default_factory=list)


def _full_key(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def load_project(directory: Path | str, stack: str) -> Project:
    """The project in ``directory`` with the config of stack ``stack``: project-level config from
    ``Pulumi.yaml`` (its ``value`` or ``default``), overridden by ``<stackConfigDir>/Pulumi.<stack>.yaml``.
    ``secure:`` values become the placeholder ``[secret]`` and are marked secret."""
    pdir = Path(directory).resolve()
    project_file = next((pdir / n for n in ("Pulumi.yaml", "Pulumi.yml") if (pdir / n).is_file()), None)
    if project_file is None:
        raise ProjectError(f"no Pulumi.yaml in {pdir}")
    try:
        doc = yaml.safe_load(project_file.read_text()) or {}
    except yaml.YAMLError as err:
        raise ProjectError(f"{project_file.name} is not valid YAML: {err}") from err
    name = doc.get("name")
    if not name:
        raise ProjectError(f"{project_file.name} has no 'name'")
    runtime = doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectError(f"{project_file.name}: runtime is {runtime_name!r}; the offline plan runs Python programs")
    main = pdir / str(doc.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise ProjectError(f"the program {main} does not exist")

    config: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, spec in (doc.get("config") or {}).items():
        if isinstance(spec, dict) and ("value" in spec or "default" in spec):
            config[_full_key(key, name)] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            config[_full_key(key, name)] = spec

    stack_dir = pdir / str(doc.get("stackConfigDir") or ".")
    stack_file = next((stack_dir / f"Pulumi.{stack}.{ext}" for ext in ("yaml", "yml")
                       if (stack_dir / f"Pulumi.{stack}.{ext}").is_file()), None)
    if stack_file is None:
        known = sorted(p.name.split(".")[1] for p in stack_dir.glob("Pulumi.*.y*ml"))
        raise ProjectError(f"no stack file Pulumi.{stack}.yaml in {stack_dir} (stacks: {', '.join(known) or 'none'})")
    try:
        stack_doc = yaml.safe_load(stack_file.read_text()) or {}
    except yaml.YAMLError as err:
        raise ProjectError(f"{stack_file.name} is not valid YAML: {err}") from err
    for key, value in (stack_doc.get("config") or {}).items():
        full = _full_key(key, name)
        config[full] = _strip_secure(value, full, secret_keys)
    return Project(name=name, directory=pdir, main=main, stack=stack, stack_file=stack_file,
                   config=config, secret_keys=sorted(set(secret_keys)))


def _strip_secure(value: Any, key: str, secret_keys: list[str]) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"}:
        secret_keys.append(key)
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _strip_secure(v, key, secret_keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_secure(v, key, secret_keys) for v in value]
    return value
