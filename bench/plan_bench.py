#!/usr/bin/env python3
"""Benchmark the offline plan: generated catalogs of 10, 50 and 200 services, against a floor.

    python bench/plan_bench.py [--sizes 10 50 200] [--pattern ecs] [--repeat 3]

For each size, alternating fresh processes of each mode (each reports the median of three timed runs after
a warm-up; the median process is kept):
- **ours**: the catalog planned through ``Platform`` (validation, components, everything);
- **floor**: the very same resources (same types, same inputs, same count) registered directly at the
  top level, as a hand-written pulumi_aws program would: each input that came from another resource's
  output is wired from that resource's output again, and each resource gets the full property set its
  SDK class declares (so the SDK creates as many Outputs as through the class); no component, no
  validation, no catalog, under the same mocks.

Prints wall time and peak memory for both, the overhead ratio, and time per
service relative to the smallest size. Not a timed test: run it by hand and record the figures in the README.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Timed runs in each process, after one warm-up run; the process reports their median.
RUNS = 3
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
    from components.tools.plan.document import plan_document
    from components.tools.plan.runtime import run
    cat = catalog(pattern, size)
    # A one-service run first pays for imports and first-use module loading, as the floor's class
    # lookups do for it, so the clock measures planning alone in both modes.
    run(lambda: Platform("platform", catalog(pattern, 1)), config={"microservices:environment": "dev"},
        project_dir=ROOT)
    times, graph = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        graph = run(lambda: Platform("platform", cat), config={"microservices:environment": "dev"}, project_dir=ROOT)
        times.append(time.perf_counter() - start)
    doc = plan_document(graph, "dev")
    out.write_text(json.dumps(doc))
    return {"seconds": statistics.median(times), "resources": len(doc["resources"]), "peak_mb": _peak_mb()}


def _sdk_class(type_: str):
    """``aws:lambda/function:Function`` -> ``pulumi_aws.lambda_.Function``."""
    pkg, module_path, cls_name = type_.split(":")
    module = module_path.split("/")[0]
    if pkg == "aws":
        mod = importlib.import_module(f"pulumi_aws.{module if module not in ('lambda',) else 'lambda_'}")
    elif pkg == "kubernetes":
        # "networking.k8s.io/v1" -> pulumi_kubernetes.networking.v1, "helm.sh/v3" -> pulumi_kubernetes.helm.v3
        group, _, version = module_path.partition("/")
        try:
            mod = importlib.import_module(".".join(["pulumi_kubernetes", group.split(".")[0], *version.split("/")])
                                          .rstrip("."))
        except ImportError:
            return None
    elif pkg == "pulumi-python" and module_path == "dynamic/lambda":
        from components.serverless.deployment import LambdaDeployment
        return LambdaDeployment
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
    from components.tools.plan.runtime import run
    doc = json.loads(plan_file.read_text())
    customs = _dependency_order([r for r in doc["resources"] if r["custom"]])
    classes = {t: _sdk_class(t) for t in {r["type"] for r in customs}}
    props_of = {t: _declared_properties(c) for t, c in classes.items()}

    def program(resources=customs):
        created: dict[str, pulumi.CustomResource] = {}
        for i, r in enumerate(resources):
            kwargs = {}
            for key, value in r["inputs"].items():
                if key == "__provider":
                    continue  # a dynamic resource pickles its provider itself, as it did in the plan
                value = _asset(value)
                # A hand-written program wires the same outputs into the same inputs: keep that cost.
                deps = [created[d] for d in r["propertyDependencies"].get(key, []) if d in created]
                kwargs[_snake(key)] = pulumi.Output.all(*[d.id for d in deps]).apply(lambda _, v=value: v) \
                    if deps else value
            # A flat namespace: the index keeps names unique where two components used the same child name.
            created[r["urn"]] = _construct(classes[r["type"]], r["type"], f"{r['name']}-{i}", kwargs,
                                           props_of[r["type"]])

    first_of_each = list({r["type"]: r for r in customs}.values())
    run(lambda: program(first_of_each), config={"microservices:environment": "dev"})
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        graph = run(program, config={"microservices:environment": "dev"})
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "resources": len(graph), "peak_mb": _peak_mb()}


def _asset(value):
    """The plan document's ``{"asset": {"path": ...}}`` / ``{"archive": ...}`` back into the Pulumi asset
    or archive the program passed (the SDK hashes and serializes those, which the floor must pay too)."""
    import pulumi
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("asset", "archive"):
        kind, body = next(iter(value.items()))
        path = body.get("path") if isinstance(body, dict) else None
        if path is not None:
            full = Path(path) if Path(path).is_absolute() else ROOT / path
            return pulumi.FileAsset(str(full)) if kind == "asset" else pulumi.FileArchive(str(full))
    if isinstance(value, dict):
        return {k: _asset(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_asset(v) for v in value]
    return value


def _construct(cls, type_: str, name: str, kwargs: dict, declared: list[str]):
    """The resource through its SDK class, as a program would write it; where the recorded inputs do not
    map back onto the class's keyword arguments, a CustomResource with the class's full property set."""
    import pulumi
    if cls is not None and type_ == "pulumi-python:dynamic/lambda:Deployment":
        return cls(name, {k: v for k, v in kwargs.items() if k not in ("status", "live_version", "deployment_id",
                                                                       "reason")})
    if cls is not None:
        try:
            return cls(name, **{k: v for k, v in kwargs.items() if k not in ("api_version", "kind")})
        except TypeError:
            pass
    return pulumi.CustomResource(type_, name, {**{p: None for p in declared}, **kwargs})


def _dependency_order(resources: list[dict]) -> list[dict]:
    """Resources after everything they depend on (Kahn's algorithm, ties by URN)."""
    by_urn = {r["urn"]: r for r in resources}
    deps = {u: {d for d in r["dependencies"] if d in by_urn and d != u} for u, r in by_urn.items()}
    ordered, ready = [], sorted(u for u, d in deps.items() if not d)
    users: dict[str, list[str]] = {}
    for u, ds in deps.items():
        for d in ds:
            users.setdefault(d, []).append(u)
    while ready:
        urn = ready.pop(0)
        ordered.append(by_urn[urn])
        for user in sorted(users.get(urn, [])):
            deps[user].discard(urn)
            if not deps[user]:
                ready.append(user)
    return ordered


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


def measure_once(mode: str, pattern: str, size: int, plan_file: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--pattern", pattern, "--size", str(size),
                           "--plan-file", str(plan_file)], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {pattern} x{size} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(pattern: str, size: int, plan_file: Path, repeat: int) -> tuple[dict, dict]:
    """``repeat`` fresh processes of each mode, alternating so that drift on the machine hits both alike;
    each process reports the median of its ``RUNS`` timed runs, and the median process is kept."""
    results: dict[str, list[dict]] = {"ours": [], "floor": []}
    for _ in range(repeat):
        for mode in ("ours", "floor"):
            results[mode].append(measure_once(mode, pattern, size, plan_file))
    return tuple(sorted(results[m], key=lambda r: r["seconds"])[len(results[m]) // 2] for m in ("ours", "floor"))


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
            ours, floor = measure(args.pattern, size, plan_file, args.repeat)
            rows.append((size, ours, floor))
    base_per_service = rows[0][1]["seconds"] / rows[0][0]
    print(f"pattern {args.pattern}, median of {args.repeat} processes x {RUNS} runs, Python {sys.version.split()[0]}")
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
