"""docs/tutorial.md runs as written: its sh blocks in a shell, its python blocks in one session, in order.

The blocks run in an empty folder (with the repository's worlds/ linked in, as
from a clone) with this Python's `evosim` first on PATH, so the tutorial cannot
rot: a renamed column, option or function fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the tutorial, in order."""
    return BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))


def test_the_tutorial_has_shell_and_python_steps():
    langs = [lang for lang, _ in blocks()]
    assert set(langs) == {"sh", "python"} and langs.count("sh") >= 3 and langs.count("python") >= 4


def test_the_tutorial_runs(tmp_path, monkeypatch):
    (tmp_path / "worlds").symlink_to(ROOT / "worlds")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg", "COLUMNS": "100"}  # fmt: skip
    monkeypatch.chdir(tmp_path)
    session: dict = {"__name__": "tutorial"}
    for k, (lang, code) in enumerate(blocks()):
        if lang == "sh":
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=300)  # fmt: skip
            assert r.returncode == 0, f"block {k} (sh) failed:\n{code}\n{r.stdout}\n{r.stderr}"
        else:
            try:
                exec(compile(code, f"docs/tutorial.md block {k}", "exec"), session)
            except Exception as exc:  # noqa: BLE001  (name the block, then fail)
                pytest.fail(f"block {k} (python) raised {exc!r}:\n{code}")
    # what the steps promise: a run, its figures, a line of descent, a branch that shares the history
    for png in ("lineages.png", "line_of_descent.png", "hands_vs_control.png"):
        assert (tmp_path / "runs" / "tutorial" / png).stat().st_size > 10_000, png
    line = session["line"]
    assert (
        line["parent_id"].iloc[-1] == -1 and (line["parent_id"].iloc[:-1] >= 0).all()
    )  # to a founder
    both = session["both"]
    assert both.loc[:1500, "control"].equals(both.loc[:1500, "hands"])
    assert (tmp_path / "runs" / "tutorial-hands" / "summary.json").is_file()
