"""Reproducible Lambda packages: same source, same bytes; caches and tests left out; dependencies vendored."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from components.serverless import packaging
from components.serverless.packaging import PackagingError, build_package, vendor_requirements


def _source(root: Path) -> Path:
    code = root / "src"
    (code / "lib").mkdir(parents=True)
    (code / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (code / "lib" / "util.py").write_text("X = 1\n")
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    (code / "tests").mkdir()
    (code / "tests" / "test_handler.py").write_text("def test(): pass\n")
    (code / ".pytest_cache").mkdir()
    (code / ".pytest_cache" / "README.md").write_text("cache")
    (code / "test_local.py").write_text("")
    (code / "bootstrap").write_text("#!/bin/sh\n")
    os.chmod(code / "bootstrap", 0o755)
    return code


def test_same_source_builds_byte_identical_package(tmp_path):
    code = _source(tmp_path)
    first = build_package("orders", code, project_dir=tmp_path / "a", python_version="3.13", architecture="arm64")
    # Touch every file: new timestamps must not change the package.
    for f in code.rglob("*"):
        if f.is_file():
            os.utime(f, (1_900_000_000, 1_900_000_000))
    second = build_package("orders", code, project_dir=tmp_path / "b", python_version="3.13", architecture="arm64")
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.path.name == f"orders-{first.content_sha256[:16]}.zip"
    assert first.path.parent == tmp_path / "a" / ".build" / "lambda"


def test_one_changed_file_changes_the_hash(tmp_path):
    code = _source(tmp_path)
    before = build_package("orders", code, project_dir=tmp_path, python_version="3.13", architecture="arm64")
    (code / "lib" / "util.py").write_text("X = 2\n")
    after = build_package("orders", code, project_dir=tmp_path, python_version="3.13", architecture="arm64")
    assert before.sha256 != after.sha256
    assert before.source_code_hash != after.source_code_hash


def test_package_has_sorted_entries_fixed_times_and_permissions_without_caches_or_tests(tmp_path):
    code = _source(tmp_path)
    package = build_package("orders", code, project_dir=tmp_path, python_version="3.13", architecture="arm64")
    with zipfile.ZipFile(package.path) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == ["bootstrap", "handler.py", "lib/util.py"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes == {"bootstrap": 0o755, "handler.py": 0o644, "lib/util.py": 0o644}


def test_source_code_hash_is_the_content_hash_not_the_compressed_bytes(tmp_path, monkeypatch):
    """Deflate output differs between zlib builds: the hash that triggers a new version must not."""
    import base64
    code = _source(tmp_path)
    (code / "data.txt").write_text("lambda " * 5000)
    best = build_package("orders", code, project_dir=tmp_path / "a", python_version="3.13", architecture="arm64")
    original = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr",
                        lambda self, info, data, compress_type=None, compresslevel=None: original(self, info, data, None, 1))
    fast = build_package("orders", code, project_dir=tmp_path / "b", python_version="3.13", architecture="arm64")
    assert best.sha256 != fast.sha256, "other compressed bytes"
    assert best.content_sha256 == fast.content_sha256 == packaging.content_sha256(best.path)
    assert best.source_code_hash == fast.source_code_hash == base64.b64encode(bytes.fromhex(best.content_sha256)).decode()


def test_content_hash_covers_names_modes_and_bytes(tmp_path):
    code = _source(tmp_path)
    first = build_package("orders", code, project_dir=tmp_path, python_version="3.13", architecture="arm64")
    os.chmod(code / "handler.py", 0o755)
    second = build_package("orders", code, project_dir=tmp_path, python_version="3.13", architecture="arm64")
    (code / "lib" / "util.py").rename(code / "lib" / "util2.py")
    third = build_package("orders", code, project_dir=tmp_path, python_version="3.13", architecture="arm64")
    assert len({first.content_sha256, second.content_sha256, third.content_sha256}) == 3


def test_requirements_that_are_not_a_complete_lock_fail_the_build(tmp_path, monkeypatch):
    """requests==2.32.3 alone lets pip pick urllib3, idna... at whatever version is newest that day."""
    code = _source(tmp_path)
    (code / "requirements.txt").write_text("requests==2.32.3\nidna==3.10\n")

    def fake_pip(cmd, capture_output, text, check):
        target = Path(cmd[cmd.index("--target") + 1])
        for dist in ("requests-2.32.3", "idna-3.10", "urllib3-2.2.3", "charset_normalizer-3.4.0"):
            (target / f"{dist}.dist-info").mkdir(parents=True)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(packaging.subprocess, "run", fake_pip)
    with pytest.raises(PackagingError) as info:
        build_package("orders", code, project_dir=tmp_path, python_version="3.13", architecture="arm64")
    assert "not a complete lock: pip also installed charset-normalizer==3.4.0, urllib3==2.2.3" in str(info.value)
    assert not list((tmp_path / ".build" / "lambda-deps").glob("*/.complete"))


def test_requirements_are_vendored_once_into_a_cache_keyed_by_content_and_target(tmp_path, monkeypatch):
    code = _source(tmp_path)
    (code / "requirements.txt").write_text("tinylib==1.0\n")
    calls = []

    def fake_pip(cmd, capture_output, text, check):
        calls.append(cmd)
        target = Path(cmd[cmd.index("--target") + 1])
        (target / "tinylib").mkdir(parents=True)
        (target / "tinylib" / "__init__.py").write_text("VERSION = '1.0'\n")
        (target / "bin").mkdir()
        (target / "bin" / "tiny").write_text("script")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(packaging.subprocess, "run", fake_pip)
    first = build_package("orders", code, project_dir=tmp_path, python_version="3.12", architecture="x86_64")
    second = build_package("orders", code, project_dir=tmp_path, python_version="3.12", architecture="x86_64")
    assert len(calls) == 1, "the second build must reuse the cached install"
    cmd = calls[0]
    assert _platforms(cmd)[0] == "manylinux_2_34_x86_64" and "manylinux2014_x86_64" in _platforms(cmd)
    assert cmd[cmd.index("--python-version") + 1] == "3.12"
    assert cmd[cmd.index("--implementation") + 1] == "cp"
    assert "--only-binary=:all:" in cmd and "--no-compile" in cmd
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(first.path) as zf:
        names = zf.namelist()
    assert "tinylib/__init__.py" in names and "handler.py" in names
    assert not any(n.startswith("bin/") or n.endswith(".complete") for n in names)
    build_package("orders", code, project_dir=tmp_path, python_version="3.12", architecture="arm64")
    assert len(calls) == 2, "another architecture is another cache entry"
    assert all(t.endswith("_aarch64") for t in _platforms(calls[1]))


def _platforms(cmd):
    return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--platform"]


def test_vendoring_accepts_every_manylinux_wheel_that_runs_on_amazon_linux_2023(tmp_path, monkeypatch):
    """Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34); pip must not reject a package that
    publishes only manylinux_2_28 wheels, as it does when told manylinux2014 alone."""
    from packaging import tags as wheel_tags

    req = tmp_path / "requirements.txt"
    req.write_text("fastlib==1.0\n")
    calls = []

    def fake_pip(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(packaging.subprocess, "run", fake_pip)
    vendor_requirements(req, python_version="3.13", architecture="arm64", cache_root=tmp_path / "cache")
    # The tags pip derives from --platform/--python-version/--implementation (packaging's public API).
    platforms = _platforms(calls[0])
    tags = {str(t) for t in wheel_tags.cpython_tags((3, 13), abis=["cp313"], platforms=platforms)}
    tags |= {str(t) for t in wheel_tags.compatible_tags((3, 13), "cp313", platforms)}
    assert {"cp313-cp313-manylinux_2_28_aarch64", "cp313-cp313-manylinux_2_34_aarch64",
            "cp313-abi3-manylinux_2_17_aarch64", "py3-none-any"} <= tags
    assert "cp313-cp313-manylinux_2_35_aarch64" not in tags and not any("x86_64" in t for t in tags)


def test_failed_vendoring_raises_with_pip_output(tmp_path, monkeypatch):
    req = tmp_path / "requirements.txt"
    req.write_text("does-not-exist==0\n")
    monkeypatch.setattr(packaging.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 1, "", "ERROR: No matching distribution found for does-not-exist==0"))
    with pytest.raises(PackagingError, match="No matching distribution found"):
        vendor_requirements(req, python_version="3.13", architecture="arm64", cache_root=tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())


def test_vendoring_installs_a_real_linux_wheel(tmp_path):
    """Needs PyPI: installs a tiny pure-Python wheel for Lambda's platform; skipped when pip cannot reach it."""
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.17.0\n")
    probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp_path / "probe"),
                            "six==1.17.0"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("pip cannot reach the package index")
    target = vendor_requirements(req, python_version="3.13", architecture="arm64", cache_root=tmp_path / "cache")
    assert (target / "six.py").is_file()
