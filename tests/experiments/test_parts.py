"""An experiment run in parts: an arm left out of an extension comes back and is extended too."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from evosim.cli.experiment import experiment as experiment_cmd
from evosim.experiments.manifest import discover
from tests.experiments.identity import regenerate as fx

LOGS = ("timeseries.csv", "species.csv", "events.csv", "config.yaml")


def _run(spec: Path, out: Path, ticks: int) -> str:
    r = CliRunner().invoke(
        experiment_cmd,
        [str(spec), "--out", str(out), "--workers", "1", "-q", "--ticks", str(ticks)],
    )
    assert r.exit_code == 0, r.output
    return r.output


def test_an_arm_left_out_of_an_extension_is_extended_when_it_comes_back(tmp_path):
    both = fx.write_spec(tmp_path, "both.yaml", fx.EXPERIMENT.replace("TICKS", "30"))
    head, _ = fx.EXPERIMENT.split("arms:")
    control = fx.write_spec(
        tmp_path, "control.yaml", head.replace("TICKS", "30") + "arms:\n  - name: control\n"
    )
    out = tmp_path / "exp"
    _run(both, out, 30)  # part 1: both arms to 30
    _run(control, out, 60)  # part 2: the control alone extended to 60
    # between the parts the report still reads the left-out arm, with its runs as they are
    name, arms, control_arm, runs = discover(out)
    assert arms == ["control", "hands"] and control_arm == "control"
    hands = sorted((r["replicate"], r["folder"]) for r in runs if r["arm"] == "hands")
    assert hands == [(0, "hands/rep-0"), (1, "hands/rep-1")]
    seeds = json.loads((out / "experiment.json").read_text(encoding="utf-8"))["seeds"]
    assert [r["seed"] for r in runs if r["arm"] == "hands"] == seeds["replicates"]
    said = _run(both, out, 60)  # part 3: the arms again, at the folder's horizon
    assert "2 extended" in said and "2 skipped" in said
    fresh = tmp_path / "fresh"
    _run(both, fresh, 60)
    for k in (0, 1):
        for name in LOGS:
            a, b = out / f"hands/rep-{k}" / name, fresh / f"hands/rep-{k}" / name
            assert a.read_bytes() == b.read_bytes(), (k, name)


def test_an_arm_recorded_but_never_run_comes_back(tmp_path):
    both = fx.write_spec(tmp_path, "both.yaml", fx.EXPERIMENT.replace("TICKS", "30"))
    out = tmp_path / "exp"
    _run(both, out, 30)
    for k in (0, 1):  # as if part 1 had stopped before any run of the arm
        for f in sorted((out / f"hands/rep-{k}").rglob("*"), reverse=True):
            f.rmdir() if f.is_dir() else f.unlink()
        (out / f"hands/rep-{k}").rmdir()
    head, _ = fx.EXPERIMENT.split("arms:")
    control = fx.write_spec(
        tmp_path, "control.yaml", head.replace("TICKS", "30") + "arms:\n  - name: control\n"
    )
    _run(control, out, 60)
    assert "2 ran" in _run(both, out, 60)
