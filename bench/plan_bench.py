#!/usr/bin/env python3
"""Benchmark the offline plan: generated catalogs of 10, 50 and 200 services, against a floor.

    python bench/plan_bench.py [--sizes 10 50 200] [--pattern ecs] [--repeat 3]

For each size, in a fresh process each time:
- **ours**: the catalog planned through ``Platform`` (validation, components, everything);
- **floor**: the very same resources (same types, same inputs, same count) registered directly as
  pulumi_aws / pulumi_kubernetes resources at the top level, under the same mocks, with no component,
  no validation and no catalog. Each resource gets the full property set its SDK class declares, so
  the SDK pays for the same number of Outputs as it would through the class.

Prints wall time (best of ``--repeat``) and peak memory for both, the overhead ratio, and time per
service relative to the smallest size. Not a timed test: run it by hand and record the figures in the README.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: One service of each pattern; ``{i}`` is the service number. Kept to the keys every version accepts.
TEMPLATES = {
    "ecs": {"pattern": "ecs", "port": 8080, "expose": "internal",
            "image": {"ref": "public.ecr.aws/docker/library/nginx@sha256:" + "a" * 64}},
    "vm": {"pattern": "vm", "port": 8080, "expose": "internal", "ami": {"id": "ami-0abcdef1234567890"}},
    "lambda": {"pattern": "lambda", "code": "services/orders-api",
               "triggers": [{"http": {"api": "bench", "routes": ["GET /s{i}"]}}]},
    "eks": {"pattern": "eks", "port": 8080, "image": {"ref": "public.ecr.aws/docker/library/nginx:1.27"}},
}


def catalog(pattern: str, size: int) -> dict:
    services = {}
    for i in range(size):
        spec = json.loads(json.dumps(TEMPLATES[pattern]).replace("{i}", str(i)))
        services[f"svc{i:03d}"] = spec
    return {"environment": "dev", "catalog_dir": "", "services": services}


def run_ours(pattern: str, size: int, out: Path) -> dict:
    import os
    os.chdir(ROOT)
    from components.platform import Platform
    from components.plan.document import plan_document
    from components.plan.runtime import run
    cat = catalog(pattern, size)
    # A one-service run first pays for imports and first-use module loading, as the floor's class
    # lookups do for it, so the clock measures planning alone in both modes.
    run(lambda: Platform("platform", catalog(pattern, 1)), config={"microservices:environment": "dev"},
        project_dir=ROOT)
    start = time.perf_counter()
    graph = run(lambda: Platform("platform", cat), config={"microservices:environment": "dev"}, project_dir=ROOT)
    elapsed = time.perf_counter() - start
    doc = plan_document(graph, "dev")
    out.write_text(json.dumps(doc))
    return {"seconds": elapsed, "resources": len(doc["resources"]), "peak_mb": _peak_mb()}


def _sdk_class(type_: str):
    """``aws:lambda/function:Function`` -> ``pulumi_aws.lambda_.Function``."""
    pkg, module_path, cls_name = type_.split(":")
    module = module_path.split("/")[0]
    if pkg == "aws":
        mod = importlib.import_module(f"pulumi_aws.{module if module not in ('lambda',) else 'lambda_'}")
    elif pkg == "kubernetes":
        group_version = module_path.replace("core/v1", "core.v1").replace("/", ".")
        mod = importlib.import_module(f"pulumi_kubernetes.{group_version}")
    elif pkg == "docker":
        mod = importlib.import_module("pulumi_docker")
    else:
        return None
    return getattr(mod, cls_name, None)


def _declared_properties(cls) -> list[str]:
    if cls is None or not hasattr(cls, "get"):
        return []
    params = inspect.signature(cls.get).parameters
    return [p for p in params if p not in ("resource_name", "id", "opts")]


def run_floor(plan_file: Path) -> dict:
    import pulumi
    from components.plan.runtime import run
    doc = json.loads(plan_file.read_text())
    customs = [r for r in doc["resources"] if r["custom"]]
    classes = {t: _sdk_class(t) for t in {r["type"] for r in customs}}
    props_of = {t: _declared_properties(c) for t, c in classes.items()}

    def program(resources=customs):
        for i, r in enumerate(resources):
            props = {name: None for name in props_of[r["type"]]}
            props.update({_snake(k): v for k, v in r["inputs"].items()})
            # A flat namespace: the index keeps names unique where two components used the same child name.
            pulumi.CustomResource(r["type"], f"{r['name']}-{i}", props)

    first_of_each = list({r["type"]: r for r in customs}.values())
    run(lambda: program(first_of_each), config={"microservices:environment": "dev"})
    start = time.perf_counter()
    graph = run(program, config={"microservices:environment": "dev"})
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "resources": len(graph), "peak_mb": _peak_mb()}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _peak_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, pattern: str, size: int, plan_file: str) -> None:
    import warnings
    warnings.filterwarnings("ignore")
    result = run_ours(pattern, size, Path(plan_file)) if mode == "ours" else run_floor(Path(plan_file))
    print(json.dumps(result))


def measure(mode: str, pattern: str, size: int, plan_file: Path, repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, __file__, "--child", mode, "--pattern", pattern, "--size", str(size),
                               "--plan-file", str(plan_file)], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"{mode} {pattern} x{size} failed:\n{proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--pattern", choices=sorted(TEMPLATES), default="ecs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["ours", "floor"])
    parser.add_argument("--size", type=int)
    parser.add_argument("--plan-file")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.pattern, args.size, args.plan_file)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            plan_file = Path(tmp) / f"plan-{size}.json"
            ours = measure("ours", args.pattern, size, plan_file, args.repeat)
            floor = measure("floor", args.pattern, size, plan_file, args.repeat)
            rows.append((size, ours, floor))
    base_per_service = rows[0][1]["seconds"] / rows[0][0]
    print(f"pattern {args.pattern}, best of {args.repeat}, Python {sys.version.split()[0]}")
    print("| services | resources | ours (s) | floor (s) | overhead | ours per service (ms) | vs smallest | "
          "peak MB ours / floor |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, ours, floor in rows:
        per = ours["seconds"] / size
        print(f"| {size} | {ours['resources']} | {ours['seconds']:.2f} | {floor['seconds']:.2f} | "
              f"{ours['seconds'] / floor['seconds']:.2f}x | {per * 1000:.1f} | {per / base_per_service:.2f}x | "
              f"{ours['peak_mb']:.0f} / {floor['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
