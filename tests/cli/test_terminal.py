"""The commands of the README at a real terminal (a pseudo-terminal): progress bars drawn, no crash.

Each test runs ``python -m evosim`` in a subprocess whose output is a pty, so
click takes its interactive paths (the progress bar), which CliRunner and
redirected output never take.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.terminal import in_pty
from tests.helpers import TINY, read_summary, set_args

SETS = set_args({**TINY, "output.checkpoint_every": 10})


def assert_clean(r, *words: str) -> None:
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and "Error" not in r.output, r.output
    for w in words:
        assert w in r.output, f"{w!r} missing from:\n{r.output}"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A 20-tick run made at a terminal (the README's first command, on the tiny world)."""
    cwd = tmp_path_factory.mktemp("tty")
    r = in_pty("run", "--ticks", 20, "--out", "base", *SETS, cwd=cwd)
    assert_clean(r, "20/20", "completed after 20 ticks", "run folder: base")
    return cwd


def test_run_at_a_terminal_draws_the_bar_and_finishes(base):
    assert read_summary(base / "base")["ticks_run"] == 20


def test_the_story_at_a_terminal(tmp_path):
    """The end-of-run story and the hints at a real terminal; -q leaves only the result lines."""
    r = in_pty("run", "--ticks", 20, "--out", "s", *SETS, cwd=tmp_path)
    assert_clean(r, "20/20", "The story of tiny seed 0", "- grazer (", "- swimmer (", "never intelligent",
                 "Compute:", "run folder: s", "Next:", "evosim plot s", "evosim view s/config.yaml")  # fmt: skip
    assert r.output.index("20/20") < r.output.index("The story") < r.output.index("Next:")
    r = in_pty("run", "--ticks", 20, "--out", "q", "-q", *SETS, cwd=tmp_path)
    assert_clean(r, "completed after 20 ticks", "run folder: q")
    assert "The story" not in r.output and "Next:" not in r.output and "20/20" not in r.output


def test_run_from_a_checkpoint_at_a_terminal(base):
    ckpt = base / "base" / "checkpoints" / "ckpt-0000000010.json"
    r = in_pty("run", "--from", ckpt, "--ticks", 30, "--out", "branch", cwd=base)
    assert_clean(r, "30/30", "completed after 30 ticks")
    assert read_summary(base / "branch")["ticks_run"] == 30


def test_resume_with_more_ticks_at_a_terminal(base, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(base / "base", run)
    r = in_pty("run", "--resume", run, "--ticks", 35, cwd=tmp_path)
    assert_clean(r, "35/35", "resumed from tick 20", "completed after 35 ticks")
    assert read_summary(run)["ticks_run"] == 35


def test_experiment_at_a_terminal(tmp_path):
    (tmp_path / "tiny.yaml").write_text(
        "world: {width: 32, height: 32}\n"
        "species:\n  - {name: grazer, count: 60}\n  - {name: swimmer, count: 60}\n",
        encoding="utf-8",
    )
    (tmp_path / "exp.yaml").write_text(
        "name: ttyexp\nworld: tiny.yaml\nseed: 1\nticks: 15\nreplicates: 1\n"
        "arms:\n  - name: control\n  - name: fed\n    overrides: {physiology.food_energy: 2.0}\n",
        encoding="utf-8",
    )
    r = in_pty("experiment", "exp.yaml", "--workers", 1, "--out", "out", cwd=tmp_path)
    assert_clean(r, "2/2", "2 of 2 replicates finished (2 ran)")
    manifest = json.loads((tmp_path / "out" / "experiment.json").read_text(encoding="utf-8"))
    assert manifest["spec"]["name"] == "ttyexp"
