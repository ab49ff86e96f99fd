"""The content hash of a Docker build: the files of the context that the ignore file lets through (as
pulumi-docker reads it), their modes, the Dockerfile, the build args and the platform. A built image is
tagged with it, so unchanged source never shows a diff in a preview and any changed file always does."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Mapping
from pathlib import Path

__all__ = ["TAG_LENGTH", "content_tag", "context_files", "ignore_file_name", "unread_ignore_files"]

TAG_LENGTH = 32


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern (Go ``filepath.Match`` plus ``**``) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if pattern[i:i + 2] == "**":
                i += 2
                if pattern[i:i + 1] == "/":
                    out += "(?:.*/)?"
                    i += 1
                else:
                    out += ".*"
                continue
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(c)
            else:
                body = pattern[i + 1:end]
                out += "[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]"
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def ignore_file_name(dockerfile: str = "Dockerfile") -> str:
    """The ignore file pulumi-docker reads from the context root: ``.dockerignore`` for a Dockerfile
    named ``Dockerfile``, else ``<name>.dockerignore`` (``Dockerfile.prod.dockerignore``), with no fallback."""
    name = posixpath.basename(Path(dockerfile).as_posix())
    return ".dockerignore" if name == "Dockerfile" else f"{name}.dockerignore"


def unread_ignore_files(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """Ignore files beside a Dockerfile in a subdirectory of the context (``docker/Dockerfile.dockerignore``):
    Docker's BuildKit reads them, pulumi-docker does not (it reads only :func:`ignore_file_name` at the
    context root), so the files they exclude still count in pulumi-docker's diff and in the tag."""
    parent = posixpath.dirname(Path(dockerfile).as_posix())
    if parent in ("", "."):
        return []
    beside = posixpath.join(parent, f"{posixpath.basename(Path(dockerfile).as_posix())}.dockerignore")
    return [beside] if (root / beside).is_file() else []


def _ignore_rules(root: Path, dockerfile: str = "Dockerfile") -> list[tuple[bool, re.Pattern[str]]]:
    """``(exclude, regex)`` rules of the context's ignore file in file order (the last match wins)."""
    file = root / ignore_file_name(dockerfile)
    if not file.is_file():
        return []
    rules = []
    for raw in file.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        line = line[1:].strip() if include else line
        cleaned = posixpath.normpath(line.replace(os.sep, "/")).lstrip("/")
        if cleaned in ("", "."):
            continue
        rules.append((not include, _glob_regex(cleaned)))
    return rules


def _excluded(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: a pattern that matches a file or any of its parent directories applies to it."""
    parts = rel.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for exclude, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = exclude
    return excluded


def context_files(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """The files (and symlinks) of the build context Docker would send, as sorted POSIX paths relative
    to ``root``."""
    rules = _ignore_rules(root, dockerfile)
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        # A symlink to a directory is sent as the link itself, and os.walk lists it among directories.
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        dirnames[:] = sorted(d for d in dirnames if d not in links)
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        for fn in filenames + links:
            rel = fn if rel_dir == "." else f"{rel_dir}/{fn}"
            if not _excluded(rel, rules):
                out.append(rel)
    return sorted(out)


def _file_digest(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    # The whole mode goes into the image (COPY keeps it), and pulumi-docker's own context digest counts
    # it: a mode change that left the tag alone would rebuild and push onto an immutable tag.
    return f"{stat.S_IMODE(os.stat(path).st_mode):04o}:{digest.hexdigest()}"


def content_tag(context: Path, dockerfile: str = "Dockerfile", build_args: Mapping[str, str] | None = None,
                platform: str | None = None) -> str:
    """The image tag: a hash of the context's files (after the ignore file, see :func:`ignore_file_name`)
    with their modes, the Dockerfile, the build args and the platform. Independent of file order,
    timestamps and where the checkout lives."""
    digest = hashlib.sha256()
    for rel in context_files(context, dockerfile):
        digest.update(f"file\0{rel}\0{_file_digest(context / rel)}\n".encode())
    # The Dockerfile counts even when .dockerignore leaves it out: Docker always reads it.
    digest.update(f"dockerfile\0{dockerfile}\0{_file_digest(context / dockerfile)}\n".encode())
    digest.update(("args\0" + json.dumps({str(k): str(v) for k, v in (build_args or {}).items()},
                                         sort_keys=True) + "\n").encode())
    digest.update(f"platform\0{platform or ''}\n".encode())
    return digest.hexdigest()[:TAG_LENGTH]
