"""docs/tutorial.md runs as written: its sh blocks in a shell, its python blocks in one session, in order.

The blocks run in an empty folder (with the repository's worlds/ linked in, as
from a clone) with this Python's `evosim` first on PATH, so the tutorial cannot
rot: a renamed column, option or function fails here.

The pandas example of docs/outputs.md runs the same way, and must print the
output the page shows.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
OUTPUTS = ROOT / "docs" / "outputs.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
#: Any fenced block, also one without a language (shown output).
ANY_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the tutorial, in order."""
    return BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))


def env_with_evosim() -> dict[str, str]:
    """The environment of the doc's shell blocks: this Python's `evosim` first on PATH."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "MPLBACKEND": "Agg", "COLUMNS": "100"}  # fmt: skip


def test_the_tutorial_has_shell_and_python_steps():
    langs = [lang for lang, _ in blocks()]
    assert set(langs) == {"sh", "python"} and langs.count("sh") >= 3 and langs.count("python") >= 4


def test_the_tutorial_runs(tmp_path, monkeypatch):
    (tmp_path / "worlds").symlink_to(ROOT / "worlds")
    env = env_with_evosim()
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


def outputs_example() -> tuple[str, str, str]:
    """(sh, python, shown output) blocks of docs/outputs.md's "Loading a run in pandas" example."""
    page = OUTPUTS.read_text(encoding="utf-8")
    section = page.split("\n## Loading a run in pandas\n")[1].split("\n## ")[0]
    (sh_lang, sh), (py_lang, py), (out_lang, shown) = ANY_BLOCK.findall(section)
    assert (sh_lang, py_lang, out_lang) == ("sh", "python", ""), "the example's blocks changed"
    return sh, py, shown


def test_the_outputs_example_prints_what_it_shows(tmp_path):
    """docs/outputs.md's pandas example, run as written (into a temporary folder), prints its shown output."""
    sh, py, shown = outputs_example()
    folder = (
        "/tmp/docs_run"  # the example's run folder, moved into tmp_path (tests may run in parallel)
    )
    assert folder in sh and folder in py
    sh, py = (
        sh.replace(folder, str(tmp_path / "docs_run")),
        py.replace(folder, str(tmp_path / "docs_run")),
    )
    env = env_with_evosim()
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", sh], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, f"the sh block failed:\n{sh}\n{r.stdout}\n{r.stderr}"
    r = subprocess.run([sys.executable, "-c", py], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, f"the python block failed:\n{r.stderr}"
    got = [line.rstrip() for line in r.stdout.splitlines()]
    want = [line.rstrip() for line in shown.splitlines()]  # pandas pads some lines with spaces
    diff = "\n".join(difflib.unified_diff(want, got, "docs/outputs.md", "printed", lineterm=""))
    assert got == want, f"docs/outputs.md shows another output than its example prints:\n{diff}"
    # the comments in the code agree with the output too
    for comment in re.findall(r"#\s*(\{.*\}|completed \d+)\s*$", py, re.M):
        assert comment in got, comment
