#!/usr/bin/env python3
"""The project's two everyday commands, needing only Python 3.11+ on the machine.

    python3 tasks.py plan [--stack dev] [plan options]   # the offline plan of a stack
    python3 tasks.py test [pytest options]                # the test suite

Each creates ./venv (the virtualenv Pulumi.yaml names, so `pulumi up` uses the same one) and installs the
pinned requirements when they changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / "venv"
TOOLS_VENV = ROOT / ".venv-tools"
BIN = "Scripts" if os.name == "nt" else "bin"
PYTHON = VENV / BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_venv(requirements: str, where: Path = VENV) -> None:
    """Create ``where`` if needed and install ``requirements`` when they changed since the last install."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    python = where / BIN / ("python.exe" if os.name == "nt" else "python")
    if not python.exists():
        print(f"creating {where.name}/ ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(where)
    files = [ROOT / requirements] + ([ROOT / "requirements.txt"] if requirements == "requirements-dev.txt" else [])
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = where / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing {requirements} into {where.name}/ ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
                    str(ROOT / requirements)], check=True)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("plan", "test"):
        print(__doc__.strip())
        return 2
    command, rest = argv[0], argv[1:]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if command == "plan":
        # --lint runs cfn-lint, a test tool (requirements-dev.txt), not a dependency of `pulumi up`.
        ensure_venv("requirements-dev.txt" if "--lint" in rest else "requirements.txt")
        if "--stack" not in rest:
            rest = ["--stack", "dev", *rest]
        return subprocess.call([str(PYTHON), "-m", "components.plan", *rest], cwd=ROOT, env=env)
    ensure_venv("requirements-dev.txt")
    ensure_venv("requirements-tools.txt", TOOLS_VENV)
    return subprocess.call([str(PYTHON), "-m", "pytest", "-n", "2", "-q", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
