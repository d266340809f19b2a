"""Modules and classes stay small enough to read whole (ARCHITECTURE.md: about 500 and 300 lines)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "mockviking"
MODULE_LINES = 500
CLASS_LINES = 300


def test_no_module_is_too_long() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert long == {}, f"split these modules (over {MODULE_LINES} lines): {long}"


def test_no_class_is_too_long_or_defined_inside_a_function() -> None:
    long: dict[str, int] = {}
    nested: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > CLASS_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = size
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nested += [f"{path.relative_to(PACKAGE)}:{node.name}.{inner.name}"
                           for inner in ast.walk(node) if isinstance(inner, ast.ClassDef)]
    assert long == {}, f"split these classes (over {CLASS_LINES} lines): {long}"
    assert nested == [], f"classes defined inside functions: {nested}"
