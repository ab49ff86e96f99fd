"""Reproducible Lambda ZIP packages, built when the program runs (never inside ``apply``).

The same source gives the same package on any machine: entries are sorted, timestamps fixed at
1980-01-01, permissions fixed (0644, or 0755 for files executable in the source, such as a custom
runtime's ``bootstrap``), and caches and tests left out. Its identity is the hash of that *content*
(each entry's name, mode and bytes), not of the compressed bytes: deflate output differs between zlib
builds, and a different hash would publish a new version and run a full canary whenever the deploying
machine changes. A ``requirements.txt`` next to the handler must pin every distribution it installs
(``name==version``, a complete lock such as ``pip freeze`` or ``pip-compile`` writes); it is vendored with
pip for the function's architecture and Python version, binary wheels only, into a cache keyed by what
decides the result, so repeated plans do not reinstall.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BUILD_DIR", "EXCLUDED_DIRS", "MAX_UNZIPPED_BYTES", "MAX_ZIPPED_BYTES", "Package", "PackagingError",
           "archive_sizes", "build_package", "folder_size", "size_problems", "vendor_requirements"]

#: Where packages and the dependency cache go, under the project directory (keep it out of git).
BUILD_DIR = Path(".build")
EXCLUDED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", ".venv", "venv",
                           "tests", "test", ".tox", ".idea", ".vscode", ".build"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
EXCLUDED_FILES = frozenset({".DS_Store", "conftest.py", "requirements-dev.txt"})
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Every Python runtime Lambda still accepts (3.12 and later) runs on Amazon Linux 2023, glibc 2.34: any
# manylinux wheel from 2_17 (manylinux2014) to 2_34 runs there. pip does not widen a "manylinux_2_x"
# platform to older tags, so each is listed, newest first; naming only manylinux2014 rejects packages
# that publish only newer wheels (manylinux_2_28 is common).
PLATFORMS = {arch: (*(f"manylinux_2_{minor}_{machine}" for minor in range(34, 16, -1)), f"manylinux2014_{machine}")
             for arch, machine in (("arm64", "aarch64"), ("x86_64", "x86_64"))}


#: Lambda's deployment package quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
#: 50 MB zipped when uploaded directly through the API (larger ones must go through S3, as every package
#: built here does), 250 MB unzipped whatever the upload path (CreateFunction answers "Unzipped size must be
#: smaller than 262144000 bytes").
MAX_ZIPPED_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024


class PackagingError(RuntimeError):
    """The package could not be built (pip failed, or the source is unreadable)."""


@dataclass(frozen=True)
class Package:
    path: Path
    """The ZIP, at ``.build/lambda/<name>-<content sha256 prefix>.zip`` under the project."""
    sha256: str
    """Hex SHA-256 of the ZIP's bytes (depends on the machine's zlib)."""
    content_sha256: str = ""
    """Hex SHA-256 of the content: every entry's name, mode and bytes, in order (the same on every machine)."""

    @property
    def source_code_hash(self) -> str:
        """Base64 SHA-256 of the content: what triggers a code update, and so a new version."""
        return base64.b64encode(bytes.fromhex(self.content_sha256 or self.sha256)).decode()


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def size_problems(unzipped: int | None) -> list[str]:
    """Lambda's size limit a package breaks, as messages (empty when it fits). Packages go through S3
    (:mod:`components.serverless.artifacts`), so the 50 MB limit of direct uploads does not apply."""
    if unzipped is not None and unzipped > MAX_UNZIPPED_BYTES:
        return [f"the package is {_mb(unzipped)} unzipped; Lambda allows at most 250 MB (262144000 bytes) "
                "unzipped: trim dependencies, or use package_type image (up to 10 GB)"]
    return []


def archive_sizes(path: Path) -> tuple[int, int]:
    """(bytes of the ZIP, bytes of its contents once extracted)."""
    with zipfile.ZipFile(path) as zf:
        unzipped = sum(info.file_size for info in zf.infolist())
    return path.stat().st_size, unzipped


def folder_size(root: Path) -> int:
    """Bytes of the files of ``root`` that would go into its package (before vendoring dependencies)."""
    return sum(p.stat().st_size for p in _files(root).values())


def _excluded(rel: Path) -> bool:
    if any(part in EXCLUDED_DIRS for part in rel.parts[:-1]):
        return True
    name = rel.name
    return (name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES)
            or (name.startswith("test_") and name.endswith(".py")) or name.endswith("_test.py"))


def _files(root: Path) -> dict[str, Path]:
    """Archive name -> file, for every file under ``root`` that belongs in a package."""
    out: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = [d for d in dirnames if d not in EXCLUDED_DIRS]
        for filename in filenames:
            full = Path(dirpath) / filename
            rel = full.relative_to(root)
            if not _excluded(rel) and full.is_file():
                out[rel.as_posix()] = full
    return out


def _entry_digest(content: Any, arcname: str, mode: int, data: bytes) -> None:
    content.update(f"{arcname}\0{mode:o}\0".encode())
    content.update(hashlib.sha256(data).digest())


def _zip_bytes(entries: dict[str, Path], target: Path) -> str:
    """Write the ZIP; return the hex SHA-256 of its content (names, modes, bytes)."""
    content = hashlib.sha256()
    with zipfile.ZipFile(target, "w") as zf:
        for arcname in sorted(entries):
            src = entries[arcname]
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIME)
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            data = src.read_bytes()
            _entry_digest(content, arcname, mode, data)
            zf.writestr(info, data, compresslevel=9)
    return content.hexdigest()


def content_sha256(path: Path) -> str:
    """The content hash of any ZIP (a prebuilt one too), computed as :func:`build_package` does."""
    content = hashlib.sha256()
    with zipfile.ZipFile(path) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            _entry_digest(content, info.filename, (info.external_attr >> 16) & 0o777 or 0o644, zf.read(info))
    return content.hexdigest()


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: ``name==version`` (extras allowed), then optional environment markers and ``--hash`` options.
PINNED_REQUIREMENT = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*(?P<version>[A-Za-z0-9.+!_-]+)"
    r"\s*(;[^#]*?)?(\s+--hash=\S+)*\s*")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_lines(text: str) -> list[tuple[int, str]]:
    """(line number, requirement) with comments dropped and ``\\`` continuations joined."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            out.append((start, line))
    return out


def requirement_problems(text: str) -> list[str]:
    """Why a ``requirements.txt`` does not pin what it installs (empty when every line is ``name==version``).

    Unpinned requirements resolve to whatever is newest on the machine that builds, so two machines
    would publish different packages from the same source."""
    problems = []
    for number, line in _requirement_lines(text):
        if line.startswith("--hash") or line.startswith(("--index-url", "--extra-index-url", "--only-binary",
                                                          "--prefer-binary", "--require-hashes")):
            continue
        if not PINNED_REQUIREMENT.fullmatch(line) or "*" in line:
            problems.append(f"requirements.txt line {number}: {line!r} is not pinned; give every distribution as "
                            "name==version (a complete lock, as `pip freeze` or `pip-compile` writes it)")
    return problems


def pinned_versions(text: str) -> dict[str, str]:
    """Normalized name -> pinned version, for the lines that pin one."""
    out = {}
    for _, line in _requirement_lines(text):
        match = PINNED_REQUIREMENT.fullmatch(line)
        if match:
            out[_normalize(match["name"])] = match["version"]
    return out


def installed_versions(target: Path) -> dict[str, str]:
    """Normalized name -> version of every distribution pip installed into ``target``."""
    out = {}
    for meta in target.glob("*.dist-info"):
        name, _, version = meta.name[:-len(".dist-info")].rpartition("-")
        if name:
            out[_normalize(name)] = version
    return out


def vendor_requirements(requirements: Path, *, python_version: str, architecture: str, cache_root: Path) -> Path:
    """Install ``requirements`` for Lambda (Linux, ``architecture``, CPython ``python_version``, wheels
    only) into a cache folder keyed by the file's content and the target, and return that folder."""
    content = requirements.read_bytes()
    platforms = PLATFORMS[architecture]
    target_tags = [python_version.encode(), *(t.encode() for t in platforms)]
    key = hashlib.sha256(b"\0".join([content, *target_tags])).hexdigest()[:24]
    target = cache_root / key
    if (target / ".complete").is_file():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=cache_root))
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--no-input", "--target", str(staging), *(arg for t in platforms for arg in ("--platform", t)),
           "--implementation", "cp",
           "--python-version", python_version, "--only-binary=:all:", "--upgrade", "-r", str(requirements)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise PackagingError(f"pip could not vendor {requirements} for {architecture}/python{python_version} "
                             f"(binary wheels only):\n{result.stderr.strip() or result.stdout.strip()}")
    missing = {n: v for n, v in installed_versions(staging).items()
               if pinned_versions(content.decode()).get(n) != v}
    if missing:
        shutil.rmtree(staging, ignore_errors=True)
        listed = ", ".join(f"{n}=={v}" for n, v in sorted(missing.items()))
        raise PackagingError(f"{requirements} is not a complete lock: pip also installed {listed}, which it does "
                             "not pin, so another machine or another day could resolve other versions. Pin "
                             "them (`pip-compile`, or `pip freeze` in a clean virtualenv).")
    (staging / ".complete").write_text(requirements.name)
    try:
        staging.rename(target)
    except OSError:
        # Another run finished the same install first: its result is equivalent.
        shutil.rmtree(staging, ignore_errors=True)
    return target


def build_package(name: str, code_dir: Path, *, project_dir: Path, python_version: str | None,
                  architecture: str) -> Package:
    """Build ``code_dir`` (plus its vendored ``requirements.txt`` for Python) into a reproducible ZIP."""
    code_dir = code_dir.resolve()
    entries: dict[str, Path] = {}
    requirements = code_dir / "requirements.txt"
    if python_version is not None and requirements.is_file() and _has_requirements(requirements):
        deps = vendor_requirements(requirements, python_version=python_version, architecture=architecture,
                                   cache_root=project_dir / BUILD_DIR / "lambda-deps")
        entries.update({k: v for k, v in _files(deps).items() if k != ".complete" and not k.startswith("bin/")})
    # The function's own files win over a dependency's file of the same name.
    entries.update(_files(code_dir))
    out_dir = project_dir / BUILD_DIR / "lambda"
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}-", suffix=".zip", dir=out_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        content = _zip_bytes(entries, tmp)
        sha = _digest(tmp)
        final = out_dir / f"{name}-{content[:16]}.zip"
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return Package(path=final, sha256=sha, content_sha256=content)


def _has_requirements(path: Path) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in path.read_text().splitlines())
