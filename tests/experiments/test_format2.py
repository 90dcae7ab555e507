"""A folder an older evosim wrote (checkpoint format 2) extends with this one, byte for byte.

The fixture (tests/experiments/format2) was written by evosim 83a2b19, before neural compute added
two keys to the world and three arrays to the checkpoint. Extending it must give the run folders of
the same experiment run from tick 0 by this evosim -- every log byte for byte -- with the neural
compute of the extended run null (not counted from tick 0), not zero.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from evosim.cli.experiment import experiment as experiment_cmd

FIXTURE = Path(__file__).parent / "format2"
LOGS = ("timeseries.csv", "species.csv", "events.csv", "config.yaml")


def _experiment(folder: Path, *args: str) -> None:
    r = CliRunner().invoke(
        experiment_cmd, [str(folder / "exp.yaml"), "--workers", "1", "-q", *args]
    )
    assert r.exit_code == 0, r.output


def test_a_format_2_folder_extends_byte_for_byte(tmp_path):
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    header = json.loads(next((old / "exp/hands/rep-0/checkpoints").glob("*.json")).read_text())
    assert header["format_version"] == 2
    _experiment(old, "--out", str(old / "exp"), "--ticks", "40")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for f in ("exp.yaml", "tiny.yaml"):
        shutil.copy(FIXTURE / f, fresh / f)
    _experiment(fresh, "--out", str(fresh / "exp"), "--ticks", "40")
    a, b = old / "exp/hands/rep-0", fresh / "exp/hands/rep-0"
    for name in LOGS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    assert sa["ticks_run"] == sb["ticks_run"] == 40
    assert sa["compute"]["flop_total"] == sb["compute"]["flop_total"]
    assert sa["compute"]["neural"] is None  # not counted from tick 0: unknown, not zero
    assert sb["compute"]["neural"]["flop"] > 0
    manifest = json.loads((old / "exp/experiment.json").read_text())
    assert [(e["from_ticks"], e["to_ticks"]) for e in manifest["extensions"]] == [(20, 40)]


def test_a_format_2_folder_with_a_later_key_changed_is_refused(tmp_path):
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    spec = old / "exp.yaml"
    spec.write_text(
        spec.read_text().replace(
            "overrides: {detectors.brain_threshold: 0.4}",
            "overrides: {detectors.brain_threshold: 0.4, compute.neural_exponent: 2.0}",
        )
    )
    r = CliRunner().invoke(
        experiment_cmd,
        [str(spec), "--workers", "1", "-q", "--out", str(old / "exp"), "--ticks", "40"],
    )
    assert r.exit_code == 2, r.output
    assert "different arm 'hands'" in r.output
