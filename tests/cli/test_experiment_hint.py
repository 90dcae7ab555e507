"""The cost line of the story's experiment hint (cli/experiment.hint_cost)."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from evosim.cli.experiment import hint_cost

SPEC = Path(__file__).resolve().parents[2] / "worlds" / "experiments" / "hard_paths.yaml"


def test_a_quoted_path_with_a_space_is_read(tmp_path):
    """The story quotes the spec's path for a shell; the estimate reads it back the same way."""
    folder = tmp_path / "my runs"
    shutil.copytree(SPEC.parent.parent, folder / "worlds")  # (the spec names worlds of its own)
    spec = folder / "worlds" / "experiments" / SPEC.name
    line = hint_cost(f"evosim experiment {shlex.quote(str(spec))} --workers 2")
    assert line is not None and line.startswith("168 runs of 30,000 ticks"), line
    assert hint_cost(f"evosim experiment {spec} --workers 2") is None  # unquoted: not that file


def test_not_an_experiment_command():
    assert hint_cost("evosim plot runs/x") is None
    assert hint_cost("evosim experiment 'unclosed") is None
