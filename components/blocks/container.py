"""How a container runs, whatever runs it: the container keys of every container pattern (``ecs``,
``docker``, and ``eks`` services on a Docker host in the ``local`` profile), their validation and their
resolved settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .container_image import default_image_spec, validate_image
from ..patterns import ValidationContext
from .service import CoreSpec
from ..validation import Problems, is_unknown, join_path

__all__ = [
    "CONTAINER_KEYS",
    "ContainerSettings",
    "DEFAULT_WRITABLE_PATHS",
    "default_health_command",
    "resolve_container",
    "validate_container",
    "validate_container_runtime",
]

#: Keys of how a container runs, shared by every container pattern (``ecs``, ``docker``).
CONTAINER_KEYS = ("image", "user", "command", "health_command", "read_only_root_filesystem", "writable_paths")
HEALTH_COMMAND_KINDS = ("CMD", "CMD-SHELL", "NONE")
USER_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?"
PATH_PATTERN = r"/[A-Za-z0-9_.@+/-]*"
DEFAULT_WRITABLE_PATHS = ("/tmp",)


@dataclass(frozen=True, kw_only=True)
class ContainerSettings:
    """How a container runs, resolved once (:func:`resolve_container`); the fields carry the defaults."""

    image: dict[str, Any]
    """The image spec (:class:`~components.blocks.container_image.ContainerImageArgs`); a catalog entry without
    one builds ``services/<name>``."""
    user: str | None = None
    """None: the image's ``USER``."""
    command: list[str] | None = None
    """None: the image's ``CMD``."""
    health_command: list[str] | None = None
    """None: no container health check (a service serving HTTP gets a ``wget`` of its health check path)."""
    read_only_root_filesystem: bool = True
    writable_paths: list[str] = field(default_factory=lambda: sorted(DEFAULT_WRITABLE_PATHS))


def default_health_command(port: int, path: str) -> list[str]:
    """An HTTP probe of ``path`` on ``port`` from inside the container, with the ``wget`` busybox ships."""
    return ["CMD-SHELL", f"wget -q -O /dev/null http://127.0.0.1:{port}{path} || exit 1"]


def _check_str_list(value: Any, path: str, problems: Problems, what: str) -> bool:
    if not problems.check_list(value, path) or not isinstance(value, (list, tuple)):
        return False
    if not value:
        problems.add(path, f"must list at least one {what} (omit it for the default)")
        return False
    ok = True
    for i, item in enumerate(value):
        if not isinstance(item, str) and not is_unknown(item):
            problems.add(join_path(path, i), f"must be a string, got {item!r}")
            ok = False
    return ok


def validate_container(name: str, spec: Mapping[str, Any], path: str, problems: Problems,
                       vctx: ValidationContext) -> None:
    """Validate the :data:`CONTAINER_KEYS` of ``spec`` (``image`` defaults to ``services/<name>``)."""
    validate_image(spec.get("image") or default_image_spec(name), join_path(path, "image"), problems, vctx)
    validate_container_runtime(spec, path, problems)


def validate_container_runtime(spec: Mapping[str, Any], path: str, problems: Problems) -> None:
    """The container keys other than ``image``."""
    user = spec.get("user")
    if problems.check_str(user, join_path(path, "user"), USER_PATTERN,
                          "a user name, uid or uid:gid such as '10001:10001'") \
            and isinstance(user, str) and user.split(":")[0] in ("root", "0"):
        problems.add(join_path(path, "user"), f"must be a non-root user, got {user!r}")
    _check_str_list(spec.get("command"), join_path(path, "command"), problems, "argument")
    hc = spec.get("health_command")
    if _check_str_list(hc, join_path(path, "health_command"), problems, "element") \
            and isinstance(hc[0], str) and hc[0] not in HEALTH_COMMAND_KINDS:
        problems.add(join_path(path, "health_command", 0),
                     f"must be one of {', '.join(HEALTH_COMMAND_KINDS)}, got {hc[0]!r}")
    problems.check_bool(spec.get("read_only_root_filesystem"), join_path(path, "read_only_root_filesystem"))
    paths = spec.get("writable_paths")
    wp_path = join_path(path, "writable_paths")
    if problems.check_list(paths, wp_path) and isinstance(paths, (list, tuple)):
        seen: set[str] = set()
        for i, item in enumerate(paths):
            if not problems.check_str(item, join_path(wp_path, i), PATH_PATTERN, "an absolute path such as '/tmp'"):
                continue
            if item.rstrip("/") == "":
                problems.add(join_path(wp_path, i), "cannot be '/': use read_only_root_filesystem: false instead")
            elif item in seen:
                problems.add(join_path(wp_path, i), f"{item!r} is listed twice")
            seen.add(item)


def resolve_container(name: str, spec: Mapping[str, Any], core: CoreSpec, *,
                      serves_http: bool = True) -> ContainerSettings:
    """:class:`ContainerSettings` of a validated spec. ``serves_http`` False (queue workers, scheduled
    tasks) leaves the health check to an explicit ``health_command``."""
    given: dict[str, Any] = {key: spec[key] for key in CONTAINER_KEYS if spec.get(key) is not None}
    given["image"] = dict(given.get("image") or default_image_spec(name))
    if serves_http:
        given.setdefault("health_command", default_health_command(core.port, core.health_check.path))
    for key in ("command", "health_command"):
        if key in given:
            given[key] = list(given[key]) or None
    if "read_only_root_filesystem" in given:
        given["read_only_root_filesystem"] = bool(given["read_only_root_filesystem"])
    if "writable_paths" in given:
        given["writable_paths"] = sorted(given["writable_paths"])
    return ContainerSettings(**given)
