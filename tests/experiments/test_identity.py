"""The batch pipeline's outputs are byte for byte those of the fixtures (tests/experiments/identity).

The fixtures were written by the experiment and sweep code before issue 23 put both on one
pipeline; ``evosim experiment``, its extension to a longer horizon, a branched experiment and
``evosim sweep`` must still write the same run folders, and ``evosim report`` the same results.csv
and sensitivity.csv.
"""

from __future__ import annotations

import difflib

import pytest

from tests.experiments.identity import regenerate as fx

HOW = (
    "If the model or a report changed on purpose, rewrite the fixtures with "
    "`python tests/experiments/identity/regenerate.py`, check the diff and commit it."
)


def same(got: dict[str, str]) -> None:
    """Each of ``got`` (fixture name -> text) equals the committed fixture, else a diff of the first lines."""
    for name, text in got.items():
        want = (fx.HERE / name).read_text(encoding="utf-8")
        if text != want:
            diff = difflib.unified_diff(
                want.splitlines(), text.splitlines(), "committed", "now", n=0, lineterm=""
            )
            pytest.fail(f"{name} differs from the fixture. {HOW}\n" + "\n".join(list(diff)[:16]))


def test_experiment_run_folders_and_results_are_unchanged(tmp_path):
    same(fx.experiment(tmp_path))
    # the same founders in every replicate: no traits to regress on, no trait files
    assert not list((tmp_path / "exp" / "report").glob("trait*"))


def test_an_extension_writes_the_run_folders_of_the_longer_experiment(tmp_path):
    got = fx.experiment(tmp_path, extend=True)
    results = got.pop("extension_results.csv")
    same(got)
    # and they are the longer experiment's, but for the checkpoints the shorter run wrote
    want = (fx.HERE / "experiment.sha256").read_text(encoding="utf-8").splitlines()
    early = [f"ckpt-{t:010d}.json" for t in range(fx.SHORT + 1)]
    kept = [ln for ln in got["extension.sha256"].splitlines() if not ln.endswith(tuple(early))]
    assert kept == [ln for ln in want if not ln.endswith(tuple(early))]
    assert len(kept) > len(want) - 10
    assert results == (fx.HERE / "experiment_results.csv").read_text(encoding="utf-8")


def test_branched_experiment_run_folders_are_unchanged(tmp_path):
    same(fx.branched(tmp_path))


def test_sweep_run_folders_samples_and_sensitivity_are_unchanged(tmp_path):
    same(fx.sweep(tmp_path))
