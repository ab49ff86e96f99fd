"""The component reference (``docs/components.md``), generated from the components themselves: each class's
docstring, its annotated outputs with their docstrings, its keyword-only context and how it resolves paths.

    python -m components.tools.reference > docs/components.md      # tests/test_reference.py checks it is current
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import textwrap
import typing
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMPONENTS", "ComponentDoc", "args_rows", "component_outputs", "refresh_args_tables", "render",
           "render_args_table"]


@dataclass(frozen=True)
class ComponentDoc:
    name: str
    module: str
    minimal: str
    """The smallest working call, run by the tests under mocks (``net``, ``cluster`` and ``eks`` are a
    ``Network``, an ``EcsCluster`` and an ``EksCluster`` built before it)."""
    required: tuple[str, ...]
    """Args without which validation fails (each tested)."""
    paths: str
    """How the component resolves relative paths."""


_FROM_PROJECT = ("relative to `project_dir=` (default: the current directory, which is the project's folder "
                 "under `pulumi up` and under the offline plan)")

COMPONENTS: tuple[ComponentDoc, ...] = (
    ComponentDoc("Network", "network", 'Network("core")', (), "none."),
    ComponentDoc("LambdaService", "serverless", 'LambdaService("thumbnails", {"code": "services/thumbnails"})',
                 ("code",), f"`code` (a folder) and `zip` (a file) are {_FROM_PROJECT}; the built ZIP goes to "
                 "`.build/lambda/` in that folder."),
    ComponentDoc("HttpApi", "serverless", 'HttpApi("shop")', (), "none."),
    ComponentDoc("VmService", "vm.component",
                 'VmService("inventory", {"ami": {"lookup": {"version": "2.3.1"}}}, network=net)', ("ami",),
                 "`ami.bake.document` (default the service's Image Builder component document) is a file inside "
                 f"`services/<name>/`, {_FROM_PROJECT}."),
    ComponentDoc("EcsCluster", "ecs.cluster", 'EcsCluster("apps", network=net)', (), "none."),
    ComponentDoc("EcsService", "ecs.service", 'EcsService("status", {}, cluster=cluster, network=net)', (),
                 f"`image.context` (default `services/<name>`) is {_FROM_PROJECT}; `image.dockerfile` (default "
                 "`Dockerfile`) is relative to that context."),
    ComponentDoc("ContainerImage", "blocks.container_image", 'ContainerImage("batch", {"context": "jobs/batch"})',
                 ("context",), f"`context` (or else `ref`, a prebuilt image) is {_FROM_PROJECT}; `dockerfile` "
                 "(default `Dockerfile`) is relative to that context."),
    ComponentDoc("DockerService", "docker.component", 'DockerService("status", {})', (),
                 f"`image.context` (default `services/<name>`) is {_FROM_PROJECT}."),
    ComponentDoc("EksCluster", "eks", 'EksCluster("platform", network=net)', (), "none."),
    ComponentDoc("KubernetesService", "eks", 'KubernetesService("status", {}, cluster=eks)', (),
                 f"`image.context` (default `services/<name>`) is {_FROM_PROJECT}."),
    ComponentDoc("ApiGateway", "gateway.component", 'ApiGateway("edge", {})', (), "none."),
    ComponentDoc("Platform", "platform", 'Platform("platform", {"catalog_dir": "", "services": {}})', (),
                 f"`catalog_dir` (default `catalog`) and every service's paths are {_FROM_PROJECT}."),
)


def _package() -> str:
    """The components' package (``components`` here, ``microservice_components`` installed): this one's parent."""
    return (__package__ or "components.tools").rsplit(".", 1)[0]


def component_class(doc: ComponentDoc) -> type:
    return getattr(importlib.import_module(f".{doc.module}", _package()), doc.name)


def component_outputs(cls: type) -> list[tuple[str, str, str]]:
    """(name, type, docstring) of each annotated attribute of ``cls``, in source order."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    out = []
    for node, following in zip(body, body[1:] + [None]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and not node.target.id.startswith("_"):
            doc = following.value.value if isinstance(following, ast.Expr) and isinstance(
                getattr(following, "value", None), ast.Constant) and isinstance(following.value.value, str) else ""
            out.append((node.target.id, ast.unparse(node.annotation), " ".join(doc.split())))
    return out


def _context(cls: type) -> list[str]:
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY]
    return [f"`{p.name}`" + (" (required)" if p.default is inspect.Parameter.empty else "") for p in params]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = ["# Component reference", "",
             "Generated by `python -m components.tools.reference` from the components' docstrings and annotated outputs",
             "(`tests/test_reference.py` fails when this file is out of date, and runs every minimal example).",
             "Installed, import them from `microservice_components`; in this repository, from `components`.", "",
             "Every component takes `(name, args, opts)`: `args` are the snake_case keys of a catalog entry (see the",
             "pattern pages under `docs/` for each argument and its default), `opts` a `pulumi.ResourceOptions`. The",
             "examples use `net = Network(\"core\")`, `cluster = EcsCluster(\"apps\", network=net)` and",
             "`eks = EksCluster(\"platform\", network=net)`. `profile` defaults to the stack's",
             "`microservices:environment` (else `dev`).", ""]
    for doc in COMPONENTS:
        cls = component_class(doc)
        token = ""
        source = inspect.getsource(cls)
        marker = 'super().__init__("'
        if marker in source:
            token = source.split(marker, 1)[1].split('"', 1)[0]
        lines += [f"## {doc.name}", ""]
        if token:
            lines += [f"Type `{token}`.", ""]
        lines += [" ".join((cls.__doc__ or "").split()), "",
                  f"- **Minimal**: `{doc.minimal}`",
                  f"- **Required args**: {', '.join(f'`{a}`' for a in doc.required) or 'none'}",
                  f"- **Context** (keyword-only): {', '.join(_context(cls)) or 'none'}",
                  f"- **Paths**: {doc.paths}", ""]
        outputs = component_outputs(cls)
        if outputs:
            lines += ["| output | type | meaning |", "|---|---|---|"]
            lines += [f"| `{n}` | `{_cell(t)}` | {_cell(d)} |" for n, t, d in outputs]
            lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Argument tables of the pages under docs/: a page holds <!-- args:VmService --> and <!-- /args --> around a
# table of every argument of that component (nested ones dotted), its type and its field docstring (which
# states the default), read from the args TypedDict of the component's constructor. `--write`, run from the
# repository root, regenerates docs/components.md and every table; tests/test_reference.py fails on drift.
# ---------------------------------------------------------------------------------------------

ARGS_BLOCK = re.compile(r"(<!-- args:(\w+) -->\n)(.*?)(<!-- /args -->)", re.S)


def args_class(cls: type) -> type | None:
    """The ``TypedDict`` that ``cls.__init__`` takes as ``args`` (``None`` when it takes none)."""
    param = inspect.signature(cls.__init__).parameters.get("args")
    if param is None or param.annotation is inspect.Parameter.empty:
        return None
    # The class's own module, else its package (a pattern package re-exports its args).
    modules = [sys.modules[cls.__module__], importlib.import_module(cls.__module__.rsplit(".", 1)[0])]
    for name in re.findall(r"\b(\w+Args)\b", str(param.annotation)):
        for module in modules:
            found = getattr(module, name, None)
            if found is not None and typing.is_typeddict(found):
                return found
    return None


def _fields(td: type) -> list[tuple[str, ast.expr, str]]:
    """(name, annotation, docstring) of each field of ``td``, its TypedDict bases' first, in source order."""
    out = []
    for base in getattr(td, "__orig_bases__", ()):
        if base is not td and typing.is_typeddict(base):
            out += _fields(base)
    body = ast.parse(textwrap.dedent(inspect.getsource(td))).body[0].body
    for node, following in zip(body, body[1:] + [None]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            doc = following.value.value if isinstance(following, ast.Expr) and isinstance(
                getattr(following, "value", None), ast.Constant) and isinstance(following.value.value, str) else ""
            out.append((node.target.id, node.annotation, doc))
    return out


def _unwrap(annotation: ast.expr) -> ast.expr:
    """The annotation without ``NotRequired[...]`` and ``pulumi.Input[...]``, which say nothing to a reader."""
    while isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) in (
            "NotRequired", "Required", "pulumi.Input", "Input"):
        annotation = annotation.slice
    if isinstance(annotation, ast.Subscript):
        annotation.slice = (ast.Tuple([_unwrap(e) for e in annotation.slice.elts], ast.Load())
                            if isinstance(annotation.slice, ast.Tuple) else _unwrap(annotation.slice))
    if isinstance(annotation, ast.BinOp):
        annotation.left, annotation.right = _unwrap(annotation.left), _unwrap(annotation.right)
    return annotation


def _nested(annotation: ast.expr, module: object) -> list[tuple[str, type]]:
    """(path suffix, TypedDict) of each args type nested in ``annotation``: ``.`` for a field, ``.<name>.``
    for a mapping's values, ``[].`` for a list's items."""
    text = ast.unparse(annotation)
    out = []
    for name in dict.fromkeys(re.findall(r"\b(\w+Args)\b", text)):
        td = getattr(module, name, None)
        if td is None or not typing.is_typeddict(td):
            continue
        if re.search(rf"Mapping\[str, {name}\]|dict\[str, {name}\]", text):
            out.append((".<name>.", td))
        elif re.search(rf"(Sequence|list)\[{name}\]", text):
            out.append(("[].", td))
        else:
            out.append((".", td))
    return out


def args_rows(td: type, prefix: str = "", depth: int = 0) -> list[tuple[str, str, str]]:
    """(argument path, type, docstring) of every argument of ``td``, nested args types expanded after their
    field."""
    module = sys.modules[td.__module__]
    rows = []
    for name, annotation, doc in _fields(td):
        rows.append((prefix + name, ast.unparse(_unwrap(annotation)), " ".join(doc.split())))
        if depth < 4:
            for suffix, nested in _nested(annotation, module):
                rows += args_rows(nested, prefix + name + suffix, depth + 1)
    return rows


def _markdown(doc: str) -> str:
    return _cell(re.sub(r"``(.+?)``", r"`\1`", doc))


def render_args_table(component: str) -> str:
    """The Markdown table of ``component``'s arguments, as it stands between its markers on a page."""
    docs = {d.name: d for d in COMPONENTS}
    if component not in docs:
        raise KeyError(f"<!-- args:{component} -->: no such component (one of {', '.join(docs)})")
    td = args_class(component_class(docs[component]))
    if td is None:
        raise KeyError(f"<!-- args:{component} -->: {component} takes no args TypedDict")
    lines = [f"Generated from the field docstrings of `{td.__name__}`: edit those, then run the reference "
             "generator with `--write` ([how](layout.md#generated-docs)).", "",
             "| argument | type | default and meaning |", "|---|---|---|"]
    lines += [f"| `{n}` | `{_cell(t)}` | {_markdown(d)} |" for n, t, d in args_rows(td)]
    return "\n".join(lines) + "\n"


def refresh_args_tables(text: str) -> str:
    """``text`` with every ``<!-- args:Name -->`` ... ``<!-- /args -->`` block regenerated."""
    return ARGS_BLOCK.sub(lambda m: m.group(1) + render_args_table(m.group(2)) + m.group(4), text)


def write(root: Path) -> list[Path]:
    """Regenerate ``docs/components.md`` and every argument table under ``root``; the files changed."""
    changed = []
    reference = root / "docs" / "components.md"
    if not reference.is_file() or reference.read_text() != render():
        reference.write_text(render())
        changed.append(reference)
    for page in sorted((root / "docs").glob("*.md")) + [root / "README.md"]:
        if page.is_file():
            text = page.read_text()
            fresh = refresh_args_tables(text)
            if fresh != text:
                page.write_text(fresh)
                changed.append(page)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        for path in write(Path.cwd()):
            print(f"wrote {path}")
    else:
        sys.stdout.write(render())
