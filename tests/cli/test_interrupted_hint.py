"""An interrupted experiment names the command that continues it: the whole command line."""

from __future__ import annotations

import shlex
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from evosim.cli.experiment import experiment as experiment_cmd
from evosim.experiments import batch
from tests.experiments.identity import regenerate as fx


@contextmanager
def no_cluster(_cluster, _tasks):
    yield None


@pytest.mark.parametrize(
    ("extra", "again"),
    [
        (["-q", "--workers", "1"], "--workers 1 --quiet"),
        (["--ticks", "45", "--workers", "3"], "--ticks 45 --workers 3"),
    ],
)
def test_the_continue_hint_repeats_the_command(tmp_path, monkeypatch, extra, again):
    spec = fx.write_spec(tmp_path / "my specs", "exp.yaml", fx.EXPERIMENT.replace("TICKS", "30"))

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "connected", no_cluster)
    monkeypatch.setattr(batch, "run_design", interrupted)
    out = tmp_path / "out"
    out.mkdir()  # there before: kept, with the manifest
    r = CliRunner().invoke(experiment_cmd, [str(spec), "--out", str(out), *extra])
    assert r.exit_code == 130, r.output
    hint = f"Continue with: evosim experiment {shlex.quote(str(spec))} {again} --out {out}"
    assert hint in r.output, r.output
    assert f"0 of 4 replicates finished and kept in {out}; 4 not begun." in r.output
    assert (out / "experiment.json").is_file()


def test_a_batch_stopped_before_any_run_leaves_no_folder(tmp_path, monkeypatch):
    spec = fx.write_spec(tmp_path, "exp.yaml", fx.EXPERIMENT.replace("TICKS", "30"))

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "connected", no_cluster)
    monkeypatch.setattr(batch, "run_design", interrupted)
    out = tmp_path / "new" / "out"
    r = CliRunner().invoke(experiment_cmd, [str(spec), "--out", str(out), "-q"])
    assert r.exit_code == 130, r.output
    # the manifest this command wrote goes with the folder it made
    assert "no replicate began; nothing was written" in r.output, r.output
    assert not out.exists() and "Continue with" not in r.output


def test_what_was_kept_is_counted_from_the_folders(tmp_path, monkeypatch):
    spec = fx.write_spec(tmp_path, "exp.yaml", fx.EXPERIMENT.replace("TICKS", "30"))
    out = tmp_path / "out"

    def interrupted(design, out_path, *_a, prepared, **_k):
        todo = prepared.plan.todo
        finished, partial = todo[0].folder, todo[1].folder
        for folder in (finished, partial):
            (batch.Path(folder) / "checkpoints").mkdir(parents=True)
        (batch.Path(finished) / "summary.json").write_text(
            '{"ended": "completed", "ticks_run": 30}'
        )
        (batch.Path(partial) / "checkpoints" / "ckpt-0000000015.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "connected", no_cluster)
    monkeypatch.setattr(batch, "run_design", interrupted)
    r = CliRunner().invoke(experiment_cmd, [str(spec), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 130, r.output
    assert (
        "1 of 4 replicates finished and kept in " in r.output
        and "1 partly run, which resumes from its newest checkpoint (hands/rep-0 at tick 15)"
        in r.output
        and "2 not begun" in r.output
    ), r.output
    assert (out / "experiment.json").is_file()
