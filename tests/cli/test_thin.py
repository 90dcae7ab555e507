"""The click commands stay thin: no function of evosim/cli is over 60 lines (issue 23)."""

from __future__ import annotations

import ast
from pathlib import Path

import evosim.cli

LIMIT = 60
CLI = Path(evosim.cli.__file__).parent


def long_functions(folder: Path, limit: int) -> list[str]:
    """``module.py:line name (n lines)`` of every function (nested ones too) over ``limit`` lines."""
    out = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1 if node.end_lineno else 0
                if n > limit:
                    out.append(f"{path.name}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_no_cli_function_is_over_60_lines():
    assert long_functions(CLI, LIMIT) == []


def test_the_check_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f"def f():\n{body}\n\n\ndef g():\n    pass\n", encoding="utf-8")
    assert long_functions(tmp_path, LIMIT) == [f"m.py:1 f ({LIMIT + 1} lines)"]
