"""Every argument of every component documents its default (or that it is required)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def arg_fields():
    for path in sorted((ROOT / "components").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
            if not any(getattr(b, "id", None) == "TypedDict" or getattr(b, "id", "").endswith("Args")
                       for b in cls.bases):
                continue
            body = cls.body
            for i, node in enumerate(body):
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    doc = body[i + 1] if i + 1 < len(body) else None
                    text = doc.value.value if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) else ""
                    required = "NotRequired" not in ast.unparse(node.annotation)
                    yield f"{path.relative_to(ROOT)}:{node.lineno} {cls.name}.{node.target.id}", text, required


def test_every_component_argument_states_its_default():
    missing = [where for where, doc, required in arg_fields()
               if not doc or ("Default" not in doc and not (required and "equired" in doc))]
    assert not missing, "arguments whose docstring states no default:\n" + "\n".join(missing)
