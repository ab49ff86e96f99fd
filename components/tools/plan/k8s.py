"""Write every Kubernetes object of a plan as a YAML manifest, for validators and reviewers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ["kubernetes_manifests", "write_manifests"]


def kubernetes_manifests(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded inputs of every ``kubernetes:*`` resource (complete manifests when components set
    ``metadata.name``), sorted by kind, namespace and name."""
    out = []
    for r in doc["resources"]:
        if not r["custom"] or not r["type"].startswith("kubernetes:"):
            continue
        manifest = {k: v for k, v in r["inputs"].items() if not k.startswith("__")}
        if "kind" in manifest and "apiVersion" in manifest:
            out.append(manifest)
    return sorted(out, key=lambda m: (m["kind"], m.get("metadata", {}).get("namespace", ""),
                                      m.get("metadata", {}).get("name", "")))


def write_manifests(doc: dict[str, Any], directory: Path | str) -> list[Path]:
    """One file per object, ``<kind>-<namespace>-<name>.yaml``; integers stay integers."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for manifest in kubernetes_manifests(doc):
        meta = manifest.get("metadata", {})
        parts = [manifest["kind"], meta.get("namespace", ""), meta.get("name", "unnamed")]
        stem = re.sub(r"[^a-z0-9.-]+", "-", "-".join(p for p in parts if p).lower())
        path = target / f"{stem}.yaml"
        path.write_text(yaml.safe_dump(manifest, sort_keys=True, default_flow_style=False))
        written.append(path)
    return written
